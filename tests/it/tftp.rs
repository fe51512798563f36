//! TFTP against real clients: tftp-hpa's `tftp` and `atftp` fetch from the server running
//! in-process on 127.0.0.1:0 with files in memory. `raw` speaks UDP itself.

mod raw;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;
use zentrale::tftp::{TftpDenied, TftpFiles, TftpLimits};

/// Files in memory; names under `private/` are refused with an access violation.
#[derive(Clone)]
struct Files(Arc<HashMap<String, Bytes>>);

impl TftpFiles for Files {
    async fn open(&self, name: &str, _peer: SocketAddr) -> Result<Bytes, TftpDenied> {
        if name.starts_with("private/") {
            return Err(TftpDenied::AccessViolation);
        }
        self.0.get(name).cloned().ok_or(TftpDenied::NotFound)
    }
}

/// The server on its own runtime; cancelled and drained on drop.
struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    fn start(files: &[(&str, Bytes)], limits: TftpLimits) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        // Bound before `serve` runs: requests sent at once wait in the socket, no readiness wait.
        let socket = runtime
            .block_on(zentrale::net::Udp::bind(
                "127.0.0.1:0".parse().expect("addr"),
                "TFTP",
            ))
            .expect("bind");
        let addr = socket.local_addr().expect("local addr");
        let files = Files(Arc::new(
            files
                .iter()
                .map(|(n, b)| ((*n).to_owned(), b.clone()))
                .collect(),
        ));
        let shutdown = CancellationToken::new();
        let task = {
            let _entered = runtime.enter();
            runtime.spawn(zentrale::tftp::serve(
                socket,
                files,
                limits,
                shutdown.clone(),
            ))
        };
        Server {
            addr,
            shutdown,
            task: Some(task),
            runtime: Some(runtime),
        }
    }

    /// Cancels and waits for `serve` to return after the running transfers.
    fn stop(&mut self) -> std::io::Result<()> {
        self.shutdown.cancel();
        let (Some(task), Some(runtime)) = (self.task.take(), self.runtime.as_ref()) else {
            return Ok(());
        };
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("serve returns after shutdown")
                .expect("serve task")
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

/// Bytes that are not all the same, so a misplaced block shows.
fn content(len: usize) -> Bytes {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i / 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// Runs a TFTP client (bounded by `timeout 120`); a missing client fails the test.
fn client(program: &str, args: &[&str]) -> Output {
    if let Err(e) = Command::new(program).arg("-V").output() {
        panic!(
            "the TFTP client `{program}` cannot run ({e}): scripts/setup-debian.sh installs it \
             (Debian packages tftp-hpa and atftp)"
        );
    }
    Command::new("timeout")
        .arg("120")
        .arg(program)
        .args(args)
        .output()
        .expect("run timeout(1)")
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// tftp-hpa: `tftp -m MODE HOST PORT -c COMMAND...`.
fn tftp_hpa(server: &Server, mode: &str, command: &[&str]) -> Output {
    let port = server.addr.port().to_string();
    let mut args = vec!["-v", "-m", mode, "127.0.0.1", port.as_str(), "-c"];
    args.extend_from_slice(command);
    client("tftp", &args)
}

/// atftp: `atftp [--option "NAME VALUE"]... -g|-p -r REMOTE -l LOCAL HOST PORT`.
fn atftp(server: &Server, options: &[&str], transfer: &[&str]) -> Output {
    let port = server.addr.port().to_string();
    let mut args = Vec::new();
    for option in options {
        args.extend(["--option", option]);
    }
    args.extend_from_slice(transfer);
    args.extend(["127.0.0.1", port.as_str()]);
    client("atftp", &args)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

#[test]
fn tftp_hpa_fetches_small_large_and_netascii_files() {
    let small = content(300);
    // A multiple of 512: the transfer ends with an empty block.
    let large = content(3 * 1024 * 1024);
    let server = Server::start(
        &[
            ("y000000000044.cfg", small.clone()),
            ("firmware.rom", large.clone()),
            ("lines.txt", Bytes::from_static(b"one\ntwo\r\nthree\n")),
        ],
        TftpLimits::default(),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    for (remote, mode, expected) in [
        ("/y000000000044.cfg", "octet", &small[..]),
        ("firmware.rom", "octet", &large[..]),
        ("lines.txt", "netascii", b"one\ntwo\r\nthree\n"),
    ] {
        let local = dir.path().join("got");
        let out = tftp_hpa(&server, mode, &["get", remote, path_str(&local)]);
        let got = std::fs::read(&local).unwrap_or_default();
        assert!(
            got == expected,
            "{remote}: {} of {} bytes; {}",
            got.len(),
            expected.len(),
            text(&out)
        );
    }
}

#[test]
fn atftp_fetches_with_blksize_windowsize_and_tsize() {
    let large = content(4 * 1024 * 1024 + 1234);
    let tiny = content(20);
    let server = Server::start(
        &[("firmware.rom", large.clone()), ("tiny.cfg", tiny.clone())],
        TftpLimits::default(),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    for (remote, options, expected) in [
        (
            "firmware.rom",
            &["blksize 1428", "windowsize 8", "tsize enable"][..],
            &large,
        ),
        (
            "firmware.rom",
            &["blksize 8192", "windowsize 4"][..],
            &large,
        ),
        (
            "tiny.cfg",
            &["blksize 8", "timeout 2", "tsize 0"][..],
            &tiny,
        ),
    ] {
        let local = dir.path().join("got");
        let out = atftp(
            &server,
            options,
            &["-g", "-r", remote, "-l", path_str(&local)],
        );
        let got = std::fs::read(&local).unwrap_or_default();
        assert!(
            got == expected[..],
            "{remote} {options:?}: {} bytes; {}",
            got.len(),
            text(&out)
        );
        assert!(out.status.success(), "{}", text(&out));
    }
}

#[test]
fn atftp_fetches_across_the_block_number_wrap() {
    // More than 65535 blocks of 512 bytes: block numbers roll over from 65535 to 0.
    let huge = content(65_540 * 512 + 77);
    let server = Server::start(&[("huge.rom", huge.clone())], TftpLimits::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("got");
    let out = atftp(
        &server,
        &["windowsize 32"],
        &["-g", "-r", "huge.rom", "-l", path_str(&local)],
    );
    let got = std::fs::read(&local).unwrap_or_default();
    assert!(
        got == huge[..],
        "{} of {} bytes; {}",
        got.len(),
        huge.len(),
        text(&out)
    );
}

#[test]
fn tftp_put_is_refused_and_missing_files_get_error_1() {
    let server = Server::start(
        &[("private/secret.cfg", content(10))],
        TftpLimits::default(),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let upload = dir.path().join("upload.cfg");
    std::fs::write(&upload, b"new config").expect("write");
    let local = dir.path().join("got");
    let cases: [(&str, Output, &str); 6] = [
        (
            "hpa put",
            tftp_hpa(&server, "octet", &["put", path_str(&upload), "x.cfg"]),
            "read-only server",
        ),
        (
            "hpa missing",
            tftp_hpa(&server, "octet", &["get", "nope.cfg", path_str(&local)]),
            "file not found",
        ),
        (
            "hpa denied",
            tftp_hpa(
                &server,
                "octet",
                &["get", "private/secret.cfg", path_str(&local)],
            ),
            "access violation",
        ),
        (
            "hpa traversal",
            tftp_hpa(
                &server,
                "octet",
                &["get", "../etc/passwd", path_str(&local)],
            ),
            "access violation",
        ),
        (
            "atftp put",
            atftp(
                &server,
                &[],
                &["-p", "-l", path_str(&upload), "-r", "x.cfg"],
            ),
            "read-only server",
        ),
        (
            "atftp missing",
            atftp(
                &server,
                &[],
                &["-g", "-r", "nope.cfg", "-l", path_str(&local)],
            ),
            "file not found",
        ),
    ];
    for (what, out, message) in cases {
        let all = text(&out);
        assert!(all.contains(message), "{what}: expected {message:?}; {all}");
    }
}
