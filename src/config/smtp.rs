//! `[smtp]`: the relay the mail spool delivers to, and how the spool retries.

use std::path::PathBuf;

use super::section::Section;

/// Whether `smtp://` must upgrade with STARTTLS or may stay plain when the server offers none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTls {
    Required,
    Opportunistic,
}

/// The relay's address, parsed from `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    /// `smtps://`: TLS from the first byte (RFC 8314); `smtp://`: STARTTLS (RFC 3207).
    pub implicit_tls: bool,
    pub host: String,
    pub port: u16,
}

#[derive(Clone, PartialEq)]
pub struct SmtpConfig {
    /// `smtp://host[:port]` (default port 25) or `smtps://host[:port]` (465); empty: mail waits
    /// in the spool until one is configured.
    pub url: String,
    pub server: Option<SmtpServer>,
    pub starttls: StartTls,
    /// The sender of every message.
    pub from: String,
    /// AUTH (PLAIN or LOGIN, whichever the server offers) when not empty.
    pub username: String,
    pub password: String,
    /// PEM file with the CA of a private relay; empty: the system's CA store.
    pub ca_file: PathBuf,
    /// Connecting and each SMTP command.
    pub timeout_secs: u64,
    /// Where failed deliveries are reported; empty: only the log says it.
    pub admin_email: String,
    /// How long a message may stay deferred before it fails (Postfix's 5 days).
    pub lifetime_secs: u64,
    /// Deliveries at once (over pooled connections).
    pub concurrency: usize,
    /// Multiplies every retry delay; below 1 only for tests.
    pub backoff_scale: f64,
    /// Delivered messages their owners keep are removed after this many days; 0: never.
    pub retention_days: u32,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = if self.password.is_empty() {
            ""
        } else {
            "<hidden>"
        };
        f.debug_struct("SmtpConfig")
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &password)
            .field("ca_file", &self.ca_file)
            .field("timeout_secs", &self.timeout_secs)
            .field("admin_email", &self.admin_email)
            .field("lifetime_secs", &self.lifetime_secs)
            .field("concurrency", &self.concurrency)
            .field("backoff_scale", &self.backoff_scale)
            .field("retention_days", &self.retention_days)
            .finish()
    }
}

/// Parses `smtp://host[:port]` or `smtps://host[:port]`.
pub fn parse_url(url: &str) -> Result<SmtpServer, &'static str> {
    const MSG: &str = "must be smtp://host[:port] or smtps://host[:port]";
    let (implicit_tls, rest) = if let Some(rest) = url.strip_prefix("smtps://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("smtp://") {
        (false, rest)
    } else {
        return Err(MSG);
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('@') {
        return Err("must not hold credentials; use smtp.username and smtp.password");
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            (h, p.parse::<u16>().map_err(|_| MSG)?)
        }
        _ => (rest, if implicit_tls { 465 } else { 25 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ok = !host.is_empty()
        && port != 0
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:_".contains(&b));
    if !ok {
        return Err(MSG);
    }
    Ok(SmtpServer {
        implicit_tls,
        host: host.to_owned(),
        port,
    })
}

pub(super) fn smtp(mut s: Section) -> SmtpConfig {
    let url: String = s.get("url", String::new);
    let server = match url.as_str() {
        "" => None,
        text => parse_url(text).map(Some).unwrap_or_else(|msg| {
            s.problem("url", msg);
            None
        }),
    };
    let starttls = match s.get("starttls", || "required".to_owned()).as_str() {
        "required" => StartTls::Required,
        "opportunistic" => StartTls::Opportunistic,
        _ => {
            s.problem("starttls", "must be \"required\" or \"opportunistic\"");
            StartTls::Required
        }
    };
    let from: String = s.get("from", String::new);
    let admin_email: String = s.get("admin_email", String::new);
    for (key, value) in [("from", &from), ("admin_email", &admin_email)] {
        if !value.is_empty() && crate::store::validate::email(key, value).is_err() {
            s.problem(key, "is not an email address");
        }
    }
    if server.is_some() && from.is_empty() {
        s.problem("from", "is needed to send mail (smtp.url is set)");
    }
    let username: String = s.get("username", String::new);
    let password: String = s.get("password", String::new);
    if username.is_empty() != password.is_empty() {
        s.problem("username", "username and password go together");
    }
    let plain_possible = server.as_ref().is_some_and(|v| !v.implicit_tls);
    if !username.is_empty() && plain_possible && starttls == StartTls::Opportunistic {
        s.problem(
            "starttls",
            "\"opportunistic\" could send the password unencrypted; use \"required\" or smtps://",
        );
    }
    let c = SmtpConfig {
        url,
        server,
        starttls,
        from,
        username,
        password,
        ca_file: s.get("ca_file", PathBuf::new),
        timeout_secs: s.get("timeout_secs", || 60),
        admin_email,
        lifetime_secs: s.get("lifetime_secs", || 5 * 86_400),
        concurrency: s.get("concurrency", || 4),
        backoff_scale: s.get("backoff_scale", || 1.0),
        retention_days: s.get("retention_days", || 30),
    };
    check_ranges(&mut s, &c);
    s.finish();
    c
}

fn check_ranges(s: &mut Section, c: &SmtpConfig) {
    if !(1..=3600).contains(&c.timeout_secs) {
        s.problem("timeout_secs", "must be 1 to 3600 seconds");
    }
    if !(1..=365 * 86_400).contains(&c.lifetime_secs) {
        s.problem("lifetime_secs", "must be 1 second to 365 days");
    }
    if !(1..=64).contains(&c.concurrency) {
        s.problem("concurrency", "must be 1 to 64");
    }
    if !(c.backoff_scale > 0.0 && c.backoff_scale <= 1.0) {
        s.problem("backoff_scale", "must be above 0 and at most 1");
    }
    if c.retention_days > 36_500 {
        s.problem("retention_days", "must be 0 (keep forever) to 36500");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn urls_give_host_port_and_tls_mode() {
        let s = parse_url("smtp://mail.example.com").expect("plain");
        assert_eq!(
            (s.implicit_tls, s.host.as_str(), s.port),
            (false, "mail.example.com", 25)
        );
        let s = parse_url("smtps://10.0.0.5:2465/").expect("tls");
        assert_eq!(
            (s.implicit_tls, s.host.as_str(), s.port),
            (true, "10.0.0.5", 2465)
        );
        let s = parse_url("smtp://[::1]:2525").expect("v6");
        assert_eq!((s.host.as_str(), s.port), ("::1", 2525));
        for bad in [
            "http://x",
            "smtp://",
            "smtp://h:0",
            "smtp://h:99999",
            "smtp://u:p@h",
            "smtp://h/x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_bad_value_is_reported_with_its_key() {
        let text = r#"
            [smtp]
            url = "smtp://user:pw@mail"
            starttls = "maybe"
            from = "not-an-address"
            admin_email = "x"
            username = "u"
            timeout_secs = 0
            lifetime_secs = 0
            concurrency = 100
            backoff_scale = 2.0
            retention_days = 99999
        "#;
        let problems = Config::parse(text).expect_err("invalid").problems();
        for key in [
            "url",
            "starttls",
            "from",
            "admin_email",
            "username",
            "timeout_secs",
            "lifetime_secs",
            "concurrency",
            "backoff_scale",
            "retention_days",
        ] {
            assert!(
                problems
                    .iter()
                    .any(|p| p.starts_with(&format!("smtp.{key}:"))),
                "{key} missing from {problems:#?}"
            );
        }
    }

    #[test]
    fn a_url_needs_a_sender_and_defaults_are_postfix_like() {
        let problems = Config::parse("[smtp]\nurl = \"smtp://mail\"\n")
            .expect_err("no from")
            .problems();
        assert!(problems[0].starts_with("smtp.from:"), "{problems:?}");
        let c = Config::default().smtp;
        assert_eq!(
            (c.lifetime_secs, c.concurrency, c.starttls),
            (432_000, 4, StartTls::Required)
        );
        assert!(c.server.is_none());
    }

    #[test]
    fn debug_hides_the_password() {
        let text = "[smtp]\nurl = \"smtps://mail\"\nfrom = \"pbx@example.com\"\nusername = \"pbx\"\npassword = \"Geheim-123\"\n";
        let c = Config::parse(text).expect("valid");
        let shown = format!("{c:?}");
        assert!(!shown.contains("Geheim-123"), "{shown}");
        assert!(shown.contains("<hidden>"));
    }
}
