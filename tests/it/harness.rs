//! Runs the real `zentrale` binary on port 0 in a temporary data directory, reads the bound
//! address from its `listening for HTTP on ADDR` log line, and kills it on drop.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_zentrale");
pub const ROOT: (&str, &str) = ("root", "root-password-1");

/// Polls `check` every 50 ms until it gives a value or `limit` has passed. For what the daemon
/// does on its own schedule (reading another process's commits), never for readiness (that is
/// what the `listening for` lines are for).
#[allow(clippy::disallowed_methods)] // the test's own deadline
pub fn eventually<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The protocol and address of a `listening for <PROTO> on <addr>` log line.
fn listening(line: &str) -> Option<(String, SocketAddr)> {
    let rest = line.split("listening for ").nth(1)?;
    let (proto, addr) = rest.split_once(" on ")?;
    Some((proto.to_owned(), addr.trim().parse().ok()?))
}

/// A running daemon with its own data directory.
pub struct Daemon {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub base: String,
    log: Arc<Mutex<String>>,
    /// Every `listening for <PROTO> on <addr>` line, by protocol (all logged before HTTP's).
    addrs: Arc<Mutex<HashMap<String, SocketAddr>>>,
    client: Client,
}

impl Daemon {
    /// A fresh data directory with the root system-admin, and the daemon running on it.
    pub fn start() -> Daemon {
        Self::start_with_log_level("info")
    }

    pub fn start_with_log_level(level: &str) -> Daemon {
        Self::spawn(prepared_dir(), level, &[])
    }

    /// Like [`Daemon::start`], with `extra` TOML appended to the test config. The test config
    /// ends with its `[tftp]` table, so bare keys at the start of `extra` go into `[tftp]`.
    pub fn start_with_config(extra: &str) -> Daemon {
        let dir = prepared_dir();
        let path = config_path(dir.path());
        let mut text = std::fs::read_to_string(&path).expect("config");
        text.push_str(extra);
        std::fs::write(&path, text).expect("config");
        Self::spawn(dir, "info", &[])
    }

    /// Like [`Daemon::start`], with `keys` (TOML lines) added to the test config's `[table]`.
    pub fn start_with_keys(table: &str, keys: &str) -> Daemon {
        let dir = prepared_dir();
        let path = config_path(dir.path());
        let text = std::fs::read_to_string(&path).expect("config");
        let header = format!("[{table}]\n");
        assert!(text.contains(&header), "the test config has no {header}");
        let text = text.replacen(&header, &format!("{header}{keys}\n"), 1);
        std::fs::write(&path, text).expect("config");
        Self::spawn(dir, "info", &[])
    }

    /// Starts the daemon on an existing data directory (after a restart), with extra environment.
    pub fn spawn(dir: tempfile::TempDir, level: &str, env: &[(&str, &str)]) -> Daemon {
        let mut child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(config_path(dir.path()))
            .env("RUST_LOG", level)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn zentrale");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        let addrs = Arc::new(Mutex::new(HashMap::new()));
        let addrs_sink = Arc::clone(&addrs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((proto, addr)) = listening(&line) {
                    if proto == "HTTP" {
                        let _ = tx.send(addr.to_string());
                    }
                    addrs_sink.lock().expect("addrs").insert(proto, addr);
                }
                let mut log = sink.lock().expect("log");
                log.push_str(&line);
                log.push('\n');
            }
        });
        // The log line is the readiness signal; the timeout only bounds a broken start.
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no listening line; log:\n{}", log.lock().expect("log")));
        Daemon {
            child: Some(child),
            dir,
            base: format!("http://{addr}"),
            log,
            addrs,
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
        }
    }

    /// The address from the `listening for <proto> on` line (`TFTP`, `HTTPS`, `SIP/UDP`, …).
    pub fn addr(&self, proto: &str) -> SocketAddr {
        let addrs = self.addrs.lock().expect("addrs");
        *addrs
            .get(proto)
            .unwrap_or_else(|| panic!("no listening-for-{proto} line"))
    }

    pub fn tftp_addr(&self) -> SocketAddr {
        self.addr("TFTP")
    }

    pub fn https_addr(&self) -> SocketAddr {
        self.addr("HTTPS")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request as `root`.
    pub fn req(&self, method: &str, path: &str) -> RequestBuilder {
        self.anon(method, path).basic_auth(ROOT.0, Some(ROOT.1))
    }

    /// A request without credentials.
    pub fn anon(&self, method: &str, path: &str) -> RequestBuilder {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        self.client.request(m, self.url(path))
    }

    /// Sends `body` as root and returns status and JSON (Null when empty).
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.req(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        status_json(r.send().expect("send"))
    }

    /// Kills the daemon with SIGKILL, returning its data directory.
    pub fn kill9(mut self) -> tempfile::TempDir {
        let mut child = self.child.take().expect("child");
        child.kill().expect("kill -9");
        child.wait().expect("wait");
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, dir)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("child");
        let pid = child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        child.wait().expect("wait")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A data directory with a config and the root system-admin, daemon not started.
pub fn prepared_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(dir.path());
    let out = zentrale(
        dir.path(),
        &[
            "admin",
            "create",
            "--username",
            ROOT.0,
            "--password",
            ROOT.1,
            "--role",
            "system-admin",
        ],
    );
    assert!(
        out.status.success(),
        "admin create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

pub fn status_json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().expect("body");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("status {status}, body not JSON: {text}"))
    };
    (status, json)
}

pub fn config_path(dir: &Path) -> PathBuf {
    dir.join("zentrale.toml")
}

fn write_config(dir: &Path) {
    // Each daemon its own stretch of RTP ports (below the ephemeral range sipp's and the
    // tests' own sockets come from): daemons running side by side would otherwise all start
    // at the bottom of the default range and step over each other's ports.
    let rtp = 20_000 + 2 * (rand::random::<u16>() % 5_000);
    let text = format!(
        "[server]\ndata_dir = \"{}\"\nshutdown_grace_secs = 5\n[http]\nlisten = \"127.0.0.1:0\"\nhttps_listen = \"127.0.0.1:0\"\nmax_body_bytes = 65536\n[sip]\nlisten = \"127.0.0.1:0\"\nrtp_ports = \"{rtp}-{}\"\n[tftp]\nlisten = \"127.0.0.1:0\"\n",
        dir.join("data").display(),
        rtp + 200,
    );
    std::fs::write(config_path(dir), text).expect("config");
}

/// Runs a `zentrale` subcommand against the config in `dir`.
pub fn zentrale(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(config_path(dir))
        .output()
        .expect("run zentrale")
}
