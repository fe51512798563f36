//! Real spandsp on both ends, in-process: a sending terminal (the far-end fax machine) sends
//! netpbm-made pages to our receiving terminal over UDPTL on real UDP sockets, or over A-law
//! audio, on a stepped clock.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::testing::{self, make_document, run, run_audio, run_t38, tiffs_identical};
use super::*;
use crate::udptl::ErrorCorrection;

const OUR_CSI: &str = "+49 30 1234 190";
const THEIR_TSI: &str = "+49 89 555 0100";
const REDUNDANCY: ErrorCorrection = ErrorCorrection::Redundancy { depth: 3 };

fn t38_pair(dir: &Path, pages: u32) -> (T38Terminal, T38Terminal, std::path::PathBuf) {
    let sent = make_document(dir, pages, 1100);
    let sender = T38Terminal::new(true, &testing::config(THEIR_TSI, None, Some(sent.clone())))
        .expect("sender");
    let received = dir.join("received.tif");
    let receiver =
        T38Terminal::new(false, &testing::config(OUR_CSI, Some(received), None)).expect("receiver");
    (sender, receiver, sent)
}

#[test]
fn t38_reception_is_pixel_identical_and_its_pdf_renders_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sender, receiver, sent) = t38_pair(dir.path(), 3);
    let outcome = run_t38(sender, receiver, REDUNDANCY, 0, None);
    eprintln!(
        "T.38 pair: {:?} of session in {:?} ({:?} CPU)",
        outcome.session, outcome.wall, outcome.cpu
    );
    let r = &outcome.receiver;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.pages, 3);
    assert_eq!(r.remote_station_id, THEIR_TSI);
    assert!(r.ecm);
    assert_eq!(r.bit_rate, 14_400);
    assert_eq!(outcome.sender.remote_station_id, OUR_CSI);
    let received = dir.path().join("received.tif");
    assert_eq!(r.tiff.as_deref(), Some(received.as_path()));
    assert!(tiffs_identical(&sent, &received));

    let doc = write_document(&received, DocumentFormat::Pdf, r, outcome.session).expect("pdf");
    let pdf = doc.path.expect("a document");
    run(Command::new("qpdf").arg("--check").arg(&pdf));
    assert_pdf_renders_as_tiff(&pdf, &received, 3);
    assert_eq!(doc.metadata.pages, 3);
    assert_eq!(doc.metadata.remote_station_id, THEIR_TSI);
    assert_eq!(
        (doc.metadata.completion_code, doc.metadata.result.as_str()),
        (0, "OK")
    );
}

/// Renders each PDF page at four times the fax's resolution and compares the centre of every
/// fax pixel with the TIFF page decoded by netpbm's `tifftopnm` (at exactly 1:1 poppler's
/// resampling moves some edges by a device pixel; the centres are exact).
fn assert_pdf_renders_as_tiff(pdf: &Path, tiff: &Path, pages: u32) {
    let dir = pdf.parent().expect("dir");
    run(Command::new("tiffsplit").arg(tiff).arg(dir.join("split-")));
    let prefix = dir.join("render");
    run(Command::new("pdftoppm")
        .args(["-mono", "-rx", "816", "-ry", "784"])
        .arg(pdf)
        .arg(&prefix));
    let mut rendered: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "pbm") && p.to_string_lossy().contains("render")
        })
        .collect();
    rendered.sort();
    assert_eq!(rendered.len(), pages as usize);
    for (i, page) in rendered.iter().enumerate() {
        let name = format!("split-aa{}.tif", (b'a' + i as u8) as char);
        let want = pbm(&run(Command::new("tifftopnm").arg(dir.join(name))).stdout);
        let big = pbm(&std::fs::read(page).expect("rendered page"));
        let mut differ = 0;
        for y in 0..want.height {
            for x in 0..want.width {
                differ += usize::from(want.bit(x, y) != big.bit(4 * x + 2, 4 * y + 2));
            }
        }
        assert_eq!(
            differ, 0,
            "page {i}: pixels rendered differently from the TIFF"
        );
    }
}

/// A raw PBM (P4) as netpbm and poppler write it.
struct Pbm {
    width: usize,
    height: usize,
    bits: Vec<u8>,
}

impl Pbm {
    fn bit(&self, x: usize, y: usize) -> bool {
        let stride = self.width.div_ceil(8);
        self.bits
            .get(y * stride + x / 8)
            .is_some_and(|b| b & (0x80 >> (x % 8)) != 0)
    }
}

fn pbm(bytes: &[u8]) -> Pbm {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned();
    let mut fields = text.split_ascii_whitespace();
    assert_eq!(fields.next(), Some("P4"), "not a raw PBM");
    let width: usize = fields.next().and_then(|f| f.parse().ok()).expect("width");
    let height: usize = fields.next().and_then(|f| f.parse().ok()).expect("height");
    let header = format!("P4\n{width} {height}\n").len();
    Pbm {
        width,
        height,
        bits: bytes[header..].to_vec(),
    }
}

#[test]
fn t38_with_five_percent_loss_and_redundancy_is_still_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sender, receiver, sent) = t38_pair(dir.path(), 2);
    let outcome = run_t38(sender, receiver, REDUNDANCY, 5, None);
    assert!(outcome.receiver.is_ok(), "{:?}", outcome.receiver);
    assert_eq!(outcome.receiver.pages, 2);
    // The loss happened and redundancy is what bridged it.
    assert!(outcome.udptl.recovered > 10, "{:?}", outcome.udptl);
    assert!(tiffs_identical(&sent, &dir.path().join("received.tif")));
}

#[test]
fn t38_with_five_percent_loss_and_fec_is_still_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sender, receiver, sent) = t38_pair(dir.path(), 1);
    let fec = ErrorCorrection::Fec {
        span: 3,
        entries: 3,
    };
    let outcome = run_t38(sender, receiver, fec, 5, None);
    assert!(outcome.receiver.is_ok(), "{:?}", outcome.receiver);
    assert!(outcome.udptl.recovered > 5, "{:?}", outcome.udptl);
    assert!(tiffs_identical(&sent, &dir.path().join("received.tif")));
}

#[test]
fn t38_loss_past_recovery_gives_a_partial_result_with_a_t30_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sender, receiver, _) = t38_pair(dir.path(), 3);
    let outcome = run_t38(sender, receiver, REDUNDANCY, 0, Some(1));
    let r = &outcome.receiver;
    eprintln!("cut link: {r:?}");
    assert!(!r.is_ok(), "{r:?}");
    assert_eq!(r.pages, 1);
    assert!(
        !r.completion_text.is_empty() && r.completion_text != "OK",
        "{r:?}"
    );
    let received = dir.path().join("received.tif");
    let doc = write_document(&received, DocumentFormat::Pdf, r, outcome.session).expect("pdf");
    let pdf = doc.path.expect("the page that arrived");
    run(Command::new("qpdf").arg("--check").arg(&pdf));
    assert_eq!(doc.metadata.pages, 1);
}

#[test]
fn audio_reception_over_alaw_is_pixel_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sent = make_document(dir.path(), 2, 1100);
    let received = dir.path().join("received.tif");
    let sender = AudioTerminal::new(true, &testing::config(THEIR_TSI, None, Some(sent.clone())))
        .expect("sender");
    let receiver = AudioTerminal::new(
        false,
        &testing::config(OUR_CSI, Some(received.clone()), None),
    )
    .expect("receiver");
    let outcome = run_audio(sender, receiver);
    eprintln!(
        "audio pair: {:?} of session in {:?} ({:?} CPU)",
        outcome.session, outcome.wall, outcome.cpu
    );
    let r = &outcome.receiver;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!((r.pages, r.remote_station_id.as_str()), (2, THEIR_TSI));
    assert_eq!(outcome.sender.remote_station_id, OUR_CSI);
    assert!(tiffs_identical(&sent, &received));
    assert!(outcome.session > Duration::from_secs(5));
}

#[test]
fn alaw_round_trip_keeps_samples_within_a_quantisation_step() {
    for s in (i16::MIN..=i16::MAX).step_by(97) {
        let back = testing::alaw_decode(testing::alaw_encode(s));
        let step = (i32::from(s).abs() / 16).max(16);
        assert!(
            (i32::from(back) - i32::from(s)).abs() <= step,
            "{s} -> {back}"
        );
    }
}

#[test]
fn pdf_embeds_t4_2d_with_lsb_fill_order_and_t6_as_they_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g4 = make_document(dir.path(), 2, 300);
    let g3 = dir.path().join("g3.tif");
    run(Command::new("tiffcp")
        .args(["-c", "g3:2d:fill", "-f", "lsb2msb"])
        .arg(&g4)
        .arg(&g3));
    for (name, tiff) in [("t4", &g3), ("t6", &g4)] {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).expect("mkdir");
        let pdf = sub.join("doc.pdf");
        let bytes = std::fs::read(tiff).expect("reads");
        std::fs::write(&pdf, document::tiff_to_pdf(&bytes).expect("converts")).expect("writes");
        run(Command::new("qpdf").arg("--check").arg(&pdf));
        assert_pdf_renders_as_tiff(&pdf, tiff, 2);
    }
}

#[test]
fn tiffs_we_cannot_embed_are_refused_not_panicked_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = std::fs::read(make_document(dir.path(), 1, 200)).expect("reads");
    assert!(document::tiff_to_pdf(b"II*\0garbage").is_err());
    for cut in [8, good.len() / 2] {
        // Cut short: the directory or a strip lies past the end.
        let r = document::tiff_to_pdf(&good[..cut]).map(|p| p.len());
        assert!(r.is_err(), "cut at {cut} of {}: {r:?}", good.len());
    }
    // Any cut is an error or a PDF, never a panic.
    for cut in (0..good.len()).step_by(89) {
        let _ = document::tiff_to_pdf(&good[..cut]);
    }
    let raw = dir.path().join("raw.tif");
    run(Command::new("tiffcp")
        .args(["-c", "none"])
        .arg(dir.path().join("sent.tif"))
        .arg(&raw));
    let err = document::tiff_to_pdf(&std::fs::read(&raw).expect("reads")).expect_err("refused");
    assert!(err.contains("compression 1"), "{err}");
}

/// The first `secs` seconds a terminal sends, in 20 ms frames, through a CNG detector: whether
/// it heard CNG, and in which frame.
fn cng_in(terminal: &mut AudioTerminal, secs: u32) -> Option<u32> {
    let mut detector = CngDetector::new().expect("detector");
    let mut frame = [0i16; SAMPLES_PER_TICK as usize];
    (0..secs * 50).find(|_| {
        terminal.poll_audio(&mut frame);
        detector.handle_audio(&frame)
    })
}

#[test]
fn a_calling_fax_is_heard_by_its_cng_and_an_answering_ones_ced_is_not_cng() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sent = make_document(dir.path(), 1, 200);
    let mut caller =
        AudioTerminal::new(true, &testing::config(THEIR_TSI, None, Some(sent))).expect("caller");
    let frame = cng_in(&mut caller, 4).expect("CNG within the first tone");
    // spandsp reports CNG after 415 ms of tone; the tone is 0.5 s.
    assert!((20..=30).contains(&frame), "frame {frame}");
    let received = dir.path().join("r.tif");
    let mut answerer = AudioTerminal::new(false, &testing::config(OUR_CSI, Some(received), None))
        .expect("answerer");
    assert_eq!(cng_in(&mut answerer, 6), None, "CED and DIS are no CNG");
}
