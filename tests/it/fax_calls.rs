//! Fax calls with a real far-end fax machine: `examples/faxsend` (spandsp's sending terminal
//! behind a SIP UAC over UDP) calls a fax extension from bert's softphone account, through
//! zentrale's Digest challenge, and sends a netpbm chart over T.38 (its own re-INVITE, or
//! zentrale's after the CNG tone) or G.711 audio. What zentrale received must be the chart pixel
//! for pixel (`tiffcmp -t`; the PDF rendered by `pdftoppm`), mailed to the fax device's address
//! with the sender's TSI, listed in the inbox; and faxsend must have seen the device's header id
//! as zentrale's CSI. Each test sends two faxes at once, to a TIFF and to a PDF fax device.

use std::path::Path;
use std::process::Child;

use serde_json::{Value, json};

use crate::fax_peer::{
    Sent, assert_pdf_renders_as, assert_tiffs_identical, chart, faxsend_command, sent,
};
use crate::harness::{Daemon, eventually};
use crate::smtp::{SmtpPeer, sha256_hex, smtp_config};
use crate::voicemail::get_bytes;

/// The sender's station id (TSI), as faxsend sends it.
const TSI: &str = "+49 89 555 0100";
const WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// A fax device of a user: its owner, extension, header id (our CSI), mail address, format.
struct Device {
    user: &'static str,
    extension: &'static str,
    header_id: &'static str,
    email: &'static str,
    format: &'static str,
}

const ANNA: Device = Device {
    user: "anna",
    extension: "190",
    header_id: "+49 30 1234 190",
    email: "fax-anna@example.com",
    format: "tiff",
};
const CARL: Device = Device {
    user: "carl",
    extension: "191",
    header_id: "+49 30 1234 191",
    email: "fax-carl@example.com",
    format: "pdf",
};

/// A daemon mailing to aiosmtpd, anna's and carl's fax devices, and bert's SIP account.
struct Office {
    smtp: SmtpPeer,
    d: Daemon,
    bert: (String, String),
    files: tempfile::TempDir,
}

fn office() -> Office {
    let smtp = SmtpPeer::start(0, &[]);
    let d = Daemon::start_with_config(&smtp_config(smtp.port, ""));
    for device in [&ANNA, &CARL] {
        let user = json!({"username": device.user, "display_name": device.user, "auth": "none",
                          "email": format!("{}@example.com", device.user), "language": "en",
                          "fax_extension": device.extension});
        let (status, body) = d.call("POST", "/api/v1/users", Some(user));
        assert_eq!(status, 201, "{body}");
        let fax = json!({"extension": device.extension, "header_id": device.header_id,
                         "email": device.email, "format": device.format});
        let (status, body) = d.call(
            "PUT",
            &format!("/api/v1/users/{}/fax", device.user),
            Some(fax),
        );
        assert_eq!(status, 200, "{body}");
    }
    let bert = crate::calls::bert(&d);
    let files = tempfile::tempdir().expect("tempdir");
    Office {
        smtp,
        d,
        bert,
        files,
    }
}

impl Office {
    /// Starts faxsend sending `file` to `device` with `args`.
    fn send(&self, device: &Device, file: &Path, args: &[&str]) -> Child {
        let mut cmd = faxsend_command(
            self.d.addr("SIP/UDP"),
            &self.bert,
            device.extension,
            file,
            args,
        );
        cmd.args(["--ident", TSI])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("faxsend")
    }

    /// Waits for faxsend; its report (the run's log and zentrale's when it failed).
    fn finished(&self, child: Child, succeed: bool) -> Value {
        let Sent { ok, report, log } = sent(child.wait_with_output().expect("faxsend"));
        assert_eq!(
            ok,
            succeed,
            "faxsend: {report}\n{log}\nzentrale:\n{}",
            self.d.log()
        );
        report
    }

    /// The device owner's received faxes, once there are `n`.
    fn inbox(&self, device: &Device, n: usize) -> Vec<Value> {
        let path = format!("/api/v1/users/{}/fax/inbox", device.user);
        let found = eventually(WITHIN, || {
            let (status, list) = self.d.call("GET", &path, None);
            assert_eq!(status, 200, "{list}");
            let list = list.as_array().cloned().unwrap_or_default();
            (list.len() >= n).then_some(list)
        });
        found.unwrap_or_else(|| panic!("no fax for {}; zentrale:\n{}", device.user, self.d.log()))
    }

    /// Checks one complete reception of `chart` (`pages` pages) at `device`: faxsend saw the
    /// device's header id as CSI; the inbox lists it with the TSI; the document is the chart's
    /// pixels; the mail to the device's address carries that very document and the TSI.
    fn assert_received(&self, device: &Device, report: &Value, chart: &Path, pages: u64) {
        assert_eq!(report["remote_station_id"], device.header_id, "{report}");
        assert_eq!(
            (report["pages"].as_u64(), report["ecm"].as_bool()),
            (Some(pages), Some(true)),
            "{report}"
        );
        let fax = self.inbox(device, 1).remove(0);
        assert_eq!(fax["remote_station_id"], TSI, "{fax}");
        assert_eq!(
            (fax["pages"].as_u64(), fax["complete"].as_bool()),
            (Some(pages), Some(true)),
            "{fax}"
        );
        let id = fax["id"].as_i64().expect("id");
        let path = format!("/api/v1/users/{}/fax/inbox/{id}/document", device.user);
        let (status, document, kind) = get_bytes(&self.d, &path);
        assert_eq!(status, 200, "{path}");
        let file = self
            .files
            .path()
            .join(format!("{}-received.{}", device.user, device.format));
        std::fs::write(&file, &document).expect("document");
        match device.format {
            "tiff" => {
                assert_eq!(kind, "image/tiff");
                assert_tiffs_identical(chart, &file);
            }
            _ => {
                assert_eq!(kind, "application/pdf");
                assert_pdf_renders_as(&file, chart, pages as usize);
            }
        }
        let mail = self
            .smtp
            .wait_for("accepted", |e| e["rcpt"][0] == device.email, 1)
            .remove(0);
        let text = format!("{} {}", mail["subject"], mail["body"]);
        assert!(
            text.contains(TSI),
            "the mail does not name the sender's TSI: {mail}"
        );
        let attachment = &mail["attachments"][0];
        assert_eq!(attachment["content_type"], kind.as_str(), "{mail}");
        assert_eq!(
            attachment["sha256"],
            sha256_hex(&document).as_str(),
            "the inbox's document"
        );
    }

    fn chart(&self, name: &str, pages: u32) -> std::path::PathBuf {
        chart(&self.files.path().join(name), pages)
    }
}

/// Two faxes in `mode` at once, to the TIFF device and to the PDF device; both complete.
fn both_devices_receive(mode: &str, pages: u32) -> (Value, Value) {
    let o = office();
    let sent = o.chart("sent.tif", pages);
    let (to_anna, to_carl) = (
        o.send(&ANNA, &sent, &["--mode", mode]),
        o.send(&CARL, &sent, &["--mode", mode]),
    );
    let (anna, carl) = (o.finished(to_anna, true), o.finished(to_carl, true));
    o.assert_received(&ANNA, &anna, &sent, pages.into());
    o.assert_received(&CARL, &carl, &sent, pages.into());
    (anna, carl)
}

#[test]
fn a_t38_fax_after_the_caller_s_re_invite_arrives_pixel_identical_as_tiff_and_pdf() {
    for report in <[Value; 2]>::from(both_devices_receive("t38", 2)) {
        assert_eq!(
            (report["mode"].as_str(), report["t38_offer"].as_str()),
            (Some("t38"), Some("local")),
            "{report}"
        );
        assert_eq!(
            report["hangup"], "remote",
            "zentrale hangs up after T.30: {report}"
        );
    }
}

#[test]
fn after_the_caller_s_cng_tone_zentrale_offers_t38_itself() {
    for report in <[Value; 2]>::from(both_devices_receive("cng", 2)) {
        assert_eq!(
            (report["mode"].as_str(), report["t38_offer"].as_str()),
            (Some("t38"), Some("remote")),
            "{report}"
        );
    }
}

#[test]
fn a_caller_refusing_t38_sends_over_g711_audio_and_it_arrives_pixel_identical() {
    for report in <[Value; 2]>::from(both_devices_receive("audio", 2)) {
        assert_eq!(
            (report["mode"].as_str(), report["t38_offer"].as_str()),
            (Some("audio"), None),
            "{report}"
        );
    }
}

#[test]
fn five_percent_udptl_loss_is_bridged_by_redundancy_and_by_fec() {
    let o = office();
    let sent = o.chart("sent.tif", 2);
    let lossy = |ec| ["--mode", "t38", "--loss", "5", "--ec", ec];
    let (to_anna, to_carl) = (
        o.send(&ANNA, &sent, &lossy("redundancy")),
        o.send(&CARL, &sent, &lossy("fec")),
    );
    let (anna, carl) = (o.finished(to_anna, true), o.finished(to_carl, true));
    for report in [&anna, &carl] {
        // The loss happened: about one datagram in twenty never left.
        let (out, dropped) = (
            report["media_sent"].as_u64(),
            report["media_dropped"].as_u64(),
        );
        let (out, dropped) = (out.unwrap_or(0), dropped.unwrap_or(0));
        assert!(dropped * 40 > out && dropped * 10 < out, "{report}");
    }
    o.assert_received(&ANNA, &anna, &sent, 2);
    o.assert_received(&CARL, &carl, &sent, 2);
}

#[test]
fn a_fax_cut_off_after_its_first_page_is_mailed_as_incomplete_with_that_page() {
    let o = office();
    let sent = o.chart("sent.tif", 3);
    let cut = o.send(&CARL, &sent, &["--mode", "t38", "--cut-after-pages", "1"]);
    let report = o.finished(cut, false);
    assert_eq!(report["pages"], 1, "{report}");
    let fax = o.inbox(&CARL, 1).remove(0);
    assert_eq!(
        (fax["pages"].as_u64(), fax["complete"].as_bool()),
        (Some(1), Some(false)),
        "{fax}"
    );
    assert_eq!(fax["remote_station_id"], TSI, "{fax}");
    let mail = o
        .smtp
        .wait_for("accepted", |e| e["rcpt"][0] == CARL.email, 1)
        .remove(0);
    assert_eq!(
        mail["subject"],
        format!("Incomplete fax from {TSI} (1 page)"),
        "{mail}"
    );
    assert!(
        mail["body"]
            .as_str()
            .is_some_and(|b| b.contains("Pages received: 1")),
        "{mail}"
    );
    // The page that arrived is the chart's first.
    let id = fax["id"].as_i64().expect("id");
    let (status, pdf, _) = get_bytes(&o.d, &format!("/api/v1/users/carl/fax/inbox/{id}/document"));
    assert_eq!(status, 200);
    let file = o.files.path().join("partial.pdf");
    std::fs::write(&file, &pdf).expect("pdf");
    let first = o.files.path().join("first.tif");
    crate::fax_peer::run(
        std::process::Command::new("tiffcp")
            .arg(format!("{}", sent.display()) + ",0")
            .arg(&first),
    );
    assert_pdf_renders_as(&file, &first, 1);
}
