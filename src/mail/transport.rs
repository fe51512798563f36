//! The SMTP client: lettre's pooled async transport built from `[smtp]`, and how its answers
//! map onto the spool's retry policy.

use std::time::Duration;

use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::MailError;
use crate::config::{SmtpConfig, SmtpServer, StartTls};
use crate::spool::retry::Outcome;

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The TLS setup for `server`: the system's CA store, or only the CA in `ca_file`.
pub fn tls_parameters(
    config: &SmtpConfig,
    server: &SmtpServer,
) -> Result<TlsParameters, MailError> {
    let tls_err = |e: &dyn std::fmt::Display| MailError::Tls(format!("smtp.ca_file: {e}"));
    let mut params = TlsParameters::builder(server.host.clone());
    if !config.ca_file.as_os_str().is_empty() {
        let pem = std::fs::read(&config.ca_file)
            .map_err(|e| tls_err(&format!("cannot read {}: {e}", config.ca_file.display())))?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            let file = config.ca_file.display();
            return Err(tls_err(&format!("{file} holds no PEM certificate")));
        }
        let cert = Certificate::from_pem(&pem).map_err(|e| tls_err(&e))?;
        // A private relay's CA replaces the public ones rather than adding to them.
        params = params
            .certificate_store(CertificateStore::None)
            .add_root_certificate(cert);
    }
    params.build_rustls().map_err(|e| tls_err(&e))
}

/// The pooled transport for `server` (needs a tokio runtime: the pool spawns its reaper).
pub fn transport(
    config: &SmtpConfig,
    server: &SmtpServer,
    hello: &str,
) -> Result<Transport, MailError> {
    let params = tls_parameters(config, server)?;
    let tls = match (server.implicit_tls, config.starttls) {
        (true, _) => Tls::Wrapper(params),
        (false, StartTls::Required) => Tls::Required(params),
        (false, StartTls::Opportunistic) => Tls::Opportunistic(params),
    };
    let pool = PoolConfig::new()
        .max_size(config.concurrency as u32)
        .idle_timeout(Duration::from_secs(30));
    let mut builder = Transport::builder_dangerous(server.host.as_str())
        .port(server.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(config.timeout_secs)))
        .hello_name(ClientId::Domain(hello.to_owned()))
        .pool_config(pool);
    if !config.username.is_empty() {
        builder = builder
            .credentials(Credentials::new(
                config.username.clone(),
                config.password.clone(),
            ))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    Ok(builder.build())
}

/// Sends one message and says what the policy should make of the answer.
pub async fn send(transport: &Transport, email: lettre::Message) -> Outcome {
    match transport.send(email).await {
        Ok(_) => Outcome::Accepted,
        Err(e) => classify(&e),
    }
}

/// 5xx fails at once; everything else (4xx, refused, timeout, dropped, TLS) is tried again.
fn classify(e: &lettre::transport::smtp::Error) -> Outcome {
    let text = one_line_error(e);
    if e.is_permanent() {
        Outcome::Permanent(text)
    } else {
        Outcome::Transient(text)
    }
}

/// The error with its causes, on one line (for the queue listing and the log).
fn one_line_error(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    super::templates::one_line(&text)
}
