//! zentrale — the appliance daemon of a small-business phone system.
//!
//! One process serves the phones (provisioning, menu key, SIP), the media (voicemail, fax), and
//! the admin. This crate is the library; `src/main.rs` only parses the command line.
//!
//! ```text
//!                          ┌── admin (HTTP(S) /api/v1, /healthz) ─────────────┐
//!  zentrale serve ── app ──┼── provisioning::http (/prov, /phonebook, /firmware)┤
//!                          │     └── https (TLS listener)                      ├──> store ──> SQLite
//!                          └── tftp (sans-IO core) ── provisioning::TftpRoot ──┤
//!  zentrale user|device|… ──── cli ────────────────────────────────────────────┤
//!  zentrale import, POST /api/v1/import ── import (child reads xlsx) ── Batch ┘
//!  voicemail/fax (to come), POST /api/v1/mail/test, zentrale mail ── mail::MailHandle
//!        └─> spool (<data_dir>/spool, fsync + rename) ─> mail::MailService ─> SMTP (lettre)
//! ```
//!
//! Layout (kept true by a test that reads this list):
//!
//! * [`app`] — composition root: open the store, bind sockets, serve, notify systemd, drain.
//! * [`clock`] — the two kinds of time: a monotonic instant the drivers read and pass into the
//!   sans-IO cores as `now`, and the wall-clock [`clock::UnixTime`] the store keeps.
//! * [`cli`] — the command line; offline subcommands call the same store operations as the API.
//! * [`config`] — the TOML config, loaded once, every problem reported with its key.
//! * [`store`] — the database: users, devices, workplaces, FollowMe, forwardings, actions,
//!   phonebook, accounts; the seed's validation rules and quick-create side effects.
//! * [`admin`] — the REST API: route table, roles, auth, JSON errors, OpenAPI document.
//! * [`https`] — the TLS listener: the admin's certificate or a self-signed one made on first start.
//! * [`import`] — the xlsx import and its template: read in a limited child process, every row
//!   checked with the store's rules, all applied in one transaction or none.
//! * [`provisioning`] — phone configs per vendor over HTTP(S) and TFTP: vendor manifests and
//!   templates, phone identification, enrollment and Digest proof, rate limits, phonebook, firmware.
//! * [`phone_menu`] — the menu key app at `/menu/<token>/`: workplace login by extension and
//!   PIN (lockouts sans-IO), logout, status, own forwardings/FollowMe, in each vendor's dialect.
//! * [`spool`] — the durable mail queue: enqueue fsyncs before it returns, entries carry state,
//!   attempts and a stable Message-ID, recovery on start; the retry policy is a pure function.
//! * [`mail`] — SMTP delivery of the spool with lettre (pooled, STARTTLS/implicit TLS, AUTH),
//!   message building, minijinja templates per language, admin notices for failed messages.
//! * [`tftp`] — read-only TFTP for provisioning: codec, sans-IO transfer core, async driver.
//!
//! Still to come (see DESIGN.md): `sip`, `dispatch`, `rtp`,
//! `media`, `voicemail`, `fax`.

pub mod admin;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod https;
pub mod import;
pub mod mail;
pub mod phone_menu;
pub mod provisioning;
pub mod spool;
pub mod store;
pub mod tftp;

#[cfg(test)]
mod tests {
    /// The layout list above names exactly the modules declared here.
    #[test]
    fn the_crate_doc_lists_every_module() {
        let source = include_str!("lib.rs");
        let mut declared: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
            .collect();
        let mut listed: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("//! * [`")?.split('`').next())
            .collect();
        assert!(declared.len() >= 5, "{declared:?}");
        declared.sort_unstable();
        listed.sort_unstable();
        assert_eq!(declared, listed);
    }
}
