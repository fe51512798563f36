//! curl as the phone: the real HTTP client, with a vendor's User-Agent, Digest credentials and
//! a source address of its own (127.0.0.x), the way a desk phone fetches its files.

use std::collections::BTreeMap;
use std::process::Command;

/// One HTTP exchange as curl saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    /// Lowercase header names; the last value wins.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Phone {
    pub user_agent: String,
    pub digest: Option<(String, String)>,
    pub source: Option<String>,
    pub extra: Vec<String>,
}

impl Phone {
    pub fn new(user_agent: &str) -> Phone {
        Phone {
            user_agent: user_agent.into(),
            ..Phone::default()
        }
    }

    pub fn with_digest(mut self, user: &str, password: &str) -> Phone {
        self.digest = Some((user.into(), password.into()));
        self
    }

    pub fn with_source(mut self, ip: &str) -> Phone {
        self.source = Some(ip.into());
        self
    }

    pub fn get(&self, url: &str) -> Fetched {
        let dir = tempfile::tempdir().expect("tempdir");
        let (head, body) = (dir.path().join("head"), dir.path().join("body"));
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "30", "-A", &self.user_agent, "-D"])
            .arg(&head)
            .arg("-o")
            .arg(&body);
        if let Some((u, p)) = &self.digest {
            cmd.args(["--digest", "-u", &format!("{u}:{p}")]);
        }
        if let Some(src) = &self.source {
            cmd.args(["--interface", src]);
        }
        cmd.args(&self.extra).arg(url);
        let out = cmd
            .output()
            .expect("curl must be installed (scripts/setup-debian.sh)");
        assert!(
            out.status.success(),
            "curl {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse(
            &std::fs::read_to_string(&head).expect("headers"),
            std::fs::read(&body).unwrap_or_default(),
        )
    }
}

/// The last response in curl's header dump (Digest makes two: the 401, then the answer).
fn parse(head: &str, body: Vec<u8>) -> Fetched {
    let last = head
        .split("\r\n\r\n")
        .filter(|b| b.starts_with("HTTP/"))
        .last()
        .expect("a response");
    let mut lines = last.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Fetched {
        status,
        headers,
        body,
    }
}

/// The value of `key = value` in a key=value config.
pub fn key_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().to_owned())
    })
}
