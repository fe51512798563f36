//! The scripted aiosmtpd server (`smtp_server.py`) as a test peer: started per test, its JSON
//! event lines collected, waited for (never slept for), killed on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const WAIT: Duration = Duration::from_secs(60);

pub struct SmtpPeer {
    child: Child,
    pub port: u16,
    events: Arc<(Mutex<Vec<Value>>, Condvar)>,
}

fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python")
}

impl SmtpPeer {
    /// Starts the server on `port` (0: any free one) with extra arguments.
    pub fn start(port: u16, args: &[&str]) -> SmtpPeer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/smtp_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--port", &port.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start smtp_server.py (scripts/setup-debian.sh installs aiosmtpd)");
        let stdout = child.stdout.take().expect("stdout");
        let events: Arc<(Mutex<Vec<Value>>, Condvar)> = Arc::default();
        let sink = Arc::clone(&events);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                sink.0.lock().expect("events").push(v);
                sink.1.notify_all();
            }
        });
        let mut peer = SmtpPeer {
            child,
            port: 0,
            events,
        };
        let listening = peer.wait_for("listening", |_| true, 1);
        peer.port = listening[0]["port"].as_u64().expect("port") as u16;
        peer
    }

    /// Waits until `n` events of kind `event` match `pred`; returns them.
    #[allow(clippy::disallowed_methods)] // the test's own deadline
    pub fn wait_for(&self, event: &str, pred: impl Fn(&Value) -> bool, n: usize) -> Vec<Value> {
        let (lock, cond) = &*self.events;
        let deadline = Instant::now() + WAIT;
        let mut events = lock.lock().expect("events");
        loop {
            let found: Vec<Value> = events
                .iter()
                .filter(|e| e["event"] == event && pred(e))
                .cloned()
                .collect();
            if found.len() >= n {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {n} {event} events; have {events:#?}");
            events = cond.wait_timeout(events, left).expect("events").0;
        }
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Value> {
        self.events.0.lock().expect("events").clone()
    }
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on (bound and released), for a server that comes later.
/// A port for a mail server that starts later, held meanwhile: bound but not listening, so the
/// daemon's connections are refused as if nothing were there, while no other test's server
/// (bound to port 0) can be handed the same port and take this daemon's mail. Drop it right
/// before starting the server on [`HeldPort::port`].
pub struct HeldPort {
    _socket: socket2::Socket,
    pub port: u16,
}

pub fn held_port() -> HeldPort {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
    socket.bind(&any.into()).expect("bind");
    let port = socket
        .local_addr()
        .expect("addr")
        .as_socket()
        .expect("inet")
        .port();
    HeldPort {
        _socket: socket,
        port,
    }
}

/// The `[smtp]` table for a plain test server on `port`, fast retries.
pub fn smtp_config(port: u16, extra: &str) -> String {
    format!(
        "\n[smtp]\nurl = \"smtp://127.0.0.1:{port}\"\nstarttls = \"opportunistic\"\nfrom = \"pbx@example.com\"\nadmin_email = \"admin@example.com\"\nbackoff_scale = 0.01\ntimeout_secs = 5\n{extra}"
    )
}

/// Waits until `cond` holds, checking every 20 ms (for states only visible by looking).
#[allow(clippy::disallowed_methods)] // the test's own deadline
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
