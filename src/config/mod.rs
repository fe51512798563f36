//! The daemon's configuration: TOML, loaded once, every problem reported at once with its key.
//!
//! Each table is read key by key (see [`section::Section`]) so that one bad value does not hide the
//! next: `zentrale check` prints them all. Unknown keys are errors, like serde's
//! `deny_unknown_fields`. Defaults are named functions, so the embedded defaults are the same
//! whether a key is missing or no file is given at all.

mod calls;
mod fax;
mod menu;
mod provisioning;
mod section;
mod sip;
mod smtp;
#[cfg(test)]
mod tests;
mod trunks;
mod voicemail;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use calls::CallsConfig;
pub use fax::FaxConfig;
pub use menu::MenuConfig;
pub use provisioning::{ProvisioningConfig, TIMEZONES, TftpConfig, TimeZone};
use section::{Problems, Section};
pub use sip::SipConfig;
pub use smtp::{SmtpConfig, SmtpServer, StartTls};
pub use trunks::{DidTarget, TrunkAddress, TrunkConfig, TrunkTransport};
pub use voicemail::VoicemailConfig;

pub use crate::rules::LANGUAGES;

/// Everything the daemon reads from its config file.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub server: ServerConfig,
    pub http: HttpConfig,
    pub tftp: TftpConfig,
    pub sip: SipConfig,
    pub provisioning: ProvisioningConfig,
    pub menu: MenuConfig,
    pub smtp: SmtpConfig,
    pub store: StoreConfig,
    pub calls: CallsConfig,
    pub voicemail: VoicemailConfig,
    pub fax: FaxConfig,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// The name or address phones use to reach this server.
    pub public_host: String,
    pub data_dir: PathBuf,
    /// Default language of prompts and phone texts.
    pub language: String,
    /// Seconds that running requests get to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// HTTPS for phones and the admin; None turns it off.
    pub https_listen: Option<SocketAddr>,
    /// PEM files of the admin's certificate and key; empty: a self-signed one in
    /// `<data_dir>/tls/`, made on first start.
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Largest request body accepted; bigger ones get 413.
    pub max_body_bytes: usize,
    /// A client must send its request head (and finish a TLS handshake) within this many
    /// seconds, or the connection is closed: slow clients cannot hold connections open.
    pub header_read_timeout_secs: u64,
    /// Connections open at once per listener; more wait in the kernel's backlog.
    pub max_connections: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// `sqlite://FILE`; empty means `<data_dir>/zentrale.db`.
    pub url: String,
}

/// Every problem found in a config, each with its key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

impl ConfigError {
    /// The problems, one line each.
    pub fn problems(&self) -> Vec<String> {
        match self {
            ConfigError::Invalid(list) => list.clone(),
            other => vec![other.to_string()],
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::parse("").expect("the embedded defaults are valid")
    }
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text)
    }

    /// Parses config text, collecting every problem before failing.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut root: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(vec![format!("syntax: {e}")]))?;
        let mut problems = Problems::default();
        let server = server(Section::take(&mut root, "server", &mut problems));
        let http = http(Section::take(&mut root, "http", &mut problems));
        let tftp = provisioning::tftp(Section::take(&mut root, "tftp", &mut problems));
        let sip = sip::sip(Section::take(&mut root, "sip", &mut problems), &server);
        let provisioning =
            provisioning::provisioning(Section::take(&mut root, "provisioning", &mut problems));
        let menu = menu::menu(Section::take(&mut root, "menu", &mut problems));
        let smtp = smtp::smtp(Section::take(&mut root, "smtp", &mut problems));
        let store = store(Section::take(&mut root, "store", &mut problems));
        let calls = calls::calls(Section::take(&mut root, "calls", &mut problems));
        let voicemail = voicemail::voicemail(Section::take(&mut root, "voicemail", &mut problems));
        let fax = fax::fax(Section::take(&mut root, "fax", &mut problems));
        for key in root.keys() {
            problems.push(key, "unknown table");
        }
        problems.into_result(Config {
            server,
            http,
            tftp,
            sip,
            provisioning,
            menu,
            smtp,
            store,
            calls,
            voicemail,
            fax,
        })
    }

    /// The store URL with the default filled in.
    pub fn store_url(&self) -> String {
        if self.store.url.is_empty() {
            format!(
                "sqlite://{}",
                self.server.data_dir.join("zentrale.db").display()
            )
        } else {
            self.store.url.clone()
        }
    }
}

fn default_public_host() -> String {
    "127.0.0.1".into()
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./zentrale-data")
}
fn default_language() -> String {
    "de".into()
}
fn default_grace() -> u64 {
    10
}
fn default_http_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_max_body() -> usize {
    1024 * 1024
}

fn server(mut s: Section) -> ServerConfig {
    let public_host: String = s.get("public_host", default_public_host);
    if public_host.trim().is_empty() || public_host.contains(char::is_whitespace) {
        s.problem(
            "public_host",
            "must be a host name or address without spaces",
        );
    }
    let data_dir = s.get("data_dir", default_data_dir);
    let language: String = s.get("language", default_language);
    if !LANGUAGES.contains(&language.as_str()) {
        s.problem(
            "language",
            &format!("must be one of {}", LANGUAGES.join(", ")),
        );
    }
    let shutdown_grace_secs = s.get("shutdown_grace_secs", default_grace);
    s.finish();
    ServerConfig {
        public_host,
        data_dir,
        language,
        shutdown_grace_secs,
    }
}

fn http(mut s: Section) -> HttpConfig {
    let listen = s.get("listen", default_http_listen);
    let https: String = s.get("https_listen", || "127.0.0.1:8443".into());
    let https_listen = match https.as_str() {
        "" => None,
        text => text.parse().map(Some).unwrap_or_else(|_| {
            s.problem(
                "https_listen",
                "must be an address like \"0.0.0.0:443\", or \"\" for off",
            );
            None
        }),
    };
    let tls_cert: PathBuf = s.get("tls_cert", PathBuf::new);
    let tls_key: PathBuf = s.get("tls_key", PathBuf::new);
    if tls_cert.as_os_str().is_empty() != tls_key.as_os_str().is_empty() {
        s.problem("tls_cert", "tls_cert and tls_key go together");
    }
    let max_body_bytes: usize = s.get("max_body_bytes", default_max_body);
    if max_body_bytes < 1024 {
        s.problem("max_body_bytes", "must be at least 1024");
    }
    let header_read_timeout_secs: u64 = s.get("header_read_timeout_secs", || 10);
    if !(1..=300).contains(&header_read_timeout_secs) {
        s.problem("header_read_timeout_secs", "must be between 1 and 300");
    }
    let max_connections: usize = s.get("max_connections", || 4096);
    if max_connections == 0 {
        s.problem("max_connections", "must be at least 1");
    }
    s.finish();
    HttpConfig {
        listen,
        https_listen,
        tls_cert,
        tls_key,
        max_body_bytes,
        header_read_timeout_secs,
        max_connections,
    }
}

fn store(mut s: Section) -> StoreConfig {
    let url: String = s.get("url", String::new);
    if !url.is_empty() && !url.starts_with("sqlite:") {
        s.problem(
            "url",
            "only sqlite:// is supported by this build (postgres:// is planned)",
        );
    }
    s.finish();
    StoreConfig { url }
}
