//! The far-end fax machine of the fax wire tests: `examples/faxsend` (spandsp's sending terminal
//! behind a SIP UAC), the charts it sends (`tests/fax/chart.sh`, netpbm and libtiff), and the
//! checks of what arrived: `tiffcmp -t` for TIFFs, `qpdf --check` and `pdftoppm` for PDFs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// The `faxsend` binary, built once per test process. `cargo nextest run --all-targets` (CI)
/// builds examples only as test harnesses, and a run of `--test it` not at all, so the binary
/// may be missing or older than its source; a build of a fresh one takes a fraction of a second.
pub fn faxsend_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--example", "faxsend", "--message-format=json"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // What cargo set for this test process is not the developer's environment: build
        // scripts that watch CARGO_PKG_NAME, CARGO_MANIFEST_DIR or OUT_DIR (rerun-if-env-changed)
        // would run again and rebuild the crate and everything on it, twice per test run.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let set_by_cargo = [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || ["OUT_DIR", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"].contains(&&*key);
            if set_by_cargo {
                cargo.env_remove(&*key);
            }
        }
        let out = cargo.output().expect("cargo build --example faxsend");
        assert!(
            out.status.success(),
            "building faxsend failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["target"]["name"] == "faxsend")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo named no faxsend executable")
    })
}

/// A chart of `pages` fax pages as a G4 TIFF at `path`.
pub fn chart(path: &Path, pages: u32) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fax/chart.sh");
    run(Command::new(script).arg(path).arg(pages.to_string()));
    path.to_path_buf()
}

/// What faxsend reported, and whether it exited 0 (T.30 succeeded).
#[derive(Debug)]
pub struct Sent {
    pub ok: bool,
    pub report: Value,
    pub log: String,
}

/// One faxsend call; `args` after the common ones (account, server, file).
pub fn faxsend_command(
    server: std::net::SocketAddr,
    account: &(String, String),
    to: &str,
    file: &Path,
    args: &[&str],
) -> Command {
    let mut cmd = Command::new(faxsend_bin());
    cmd.arg("--server")
        .arg(server.to_string())
        .args(["--to", to, "--user", &account.0, "--password", &account.1])
        .arg("--file")
        .arg(file)
        .args(["--timeout", "150"])
        .args(args);
    cmd
}

/// Reads faxsend's JSON line from its output.
pub fn sent(out: Output) -> Sent {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or_else(|| panic!("faxsend printed no JSON line:\n{stdout}\n{log}"));
    Sent {
        ok: out.status.success(),
        report,
        log,
    }
}

/// Runs a tool, panicking with its output when it fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `tiffcmp -t`: exit 0 when every scanline is the same (it still lists differing tags such as
/// compression and fill order, which may differ: spandsp writes what the line carried).
pub fn assert_tiffs_identical(sent: &Path, received: &Path) {
    let out = Command::new("tiffcmp")
        .arg("-t")
        .arg(sent)
        .arg(received)
        .output()
        .expect("tiffcmp (libtiff-tools)");
    assert!(
        out.status.success(),
        "tiffcmp -t {sent:?} {received:?}: the pixels differ\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `qpdf --check` passes, and every page `pdftoppm` renders is the matching page of `tiff`:
/// rendered at four times the fax resolution, the centre of every fax pixel is compared (at
/// exactly 1:1 poppler's resampling moves some edges by a device pixel; the centres are exact).
pub fn assert_pdf_renders_as(pdf: &Path, tiff: &Path, pages: usize) {
    run(Command::new("qpdf").arg("--check").arg(pdf));
    let dir = tempfile::tempdir().expect("tempdir");
    run(Command::new("tiffsplit")
        .arg(tiff)
        .arg(dir.path().join("want-")));
    run(Command::new("pdftoppm")
        .args(["-mono", "-rx", "816", "-ry", "784"])
        .arg(pdf)
        .arg(dir.path().join("got")));
    let listed = |prefix: &str| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
            })
            .collect();
        files.sort();
        files
    };
    let (want, got) = (listed("want-"), listed("got"));
    assert_eq!(
        (want.len(), got.len()),
        (pages, pages),
        "pages in the TIFF and the PDF"
    );
    for (i, (want, got)) in want.iter().zip(&got).enumerate() {
        let want = Pbm::parse(&run(Command::new("tifftopnm").arg(want)).stdout);
        let got = Pbm::parse(&std::fs::read(got).expect("rendered page"));
        let differ = (0..want.height)
            .flat_map(|y| (0..want.width).map(move |x| (x, y)))
            .filter(|&(x, y)| want.bit(x, y) != got.bit(4 * x + 2, 4 * y + 2))
            .count();
        assert_eq!(differ, 0, "page {}: the PDF renders other pixels", i + 1);
    }
}

/// A raw PBM (P4) as netpbm and poppler write it.
struct Pbm {
    width: usize,
    height: usize,
    bits: Vec<u8>,
}

impl Pbm {
    fn parse(bytes: &[u8]) -> Pbm {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned();
        let mut fields = head.split_ascii_whitespace();
        assert_eq!(fields.next(), Some("P4"), "not a raw PBM");
        let mut number = || -> usize { fields.next().and_then(|f| f.parse().ok()).expect("size") };
        let (width, height) = (number(), number());
        let header = format!("P4\n{width} {height}\n").len();
        Pbm {
            width,
            height,
            bits: bytes[header..].to_vec(),
        }
    }

    fn bit(&self, x: usize, y: usize) -> bool {
        let stride = self.width.div_ceil(8);
        self.bits
            .get(y * stride + x / 8)
            .is_some_and(|b| b & (0x80 >> (x % 8)) != 0)
    }
}
