//! zentrale — the appliance daemon of a small-business phone system.
//!
//! One process serves the phones (provisioning, menu key, SIP), the media (voicemail, fax), and
//! the admin. This crate is the library; `src/main.rs` only parses the command line.
//!
//! ```text
//!                      net (bind, accept, HTTP(S) serving, UDP with local addresses)
//!                       │
//!  zentrale serve ── app::Services ─┬─ HTTP(S) ─┬─ admin (/api/v1) ── import (child reads xlsx)─┐
//!   (one JoinSet,                   │           ├─ provisioning::http (/prov, /phonebook, /fw) ─┤
//!    drained on SIGTERM)            │           └─ phone_menu (/menu: login, lockouts) ─────────┤
//!                                   ├─ TFTP ── tftp (sans-IO) ── provisioning::TftpRoot ────────┤
//!                                   ├─ fetch records (provisioning::RecordWriter, batched) ─────┼─> store ─> SQLite
//!                                   ├─ change feed follower (change_log → generations) ─────────┤
//!                                   └─ watchdog (systemd)                                       │
//!                                   ├─ mail::MailService ── spool (<data_dir>/spool) ──> SMTP (lettre)
//!  zentrale user|device|import|… ── cli ────────────────────────────────────────────────────────┘
//!
//!  store ──(change feed: entity, id, generation)──> provisioning (renders only what changed)
//! ```
//!
//! Layout (kept true by a test that reads this list):
//!
//! * [`app`] — composition root: open the store, bind sockets, serve, notify systemd, drain.
//! * [`clock`] — the two kinds of time: a monotonic instant the drivers read and pass into the
//!   sans-IO cores as `now`, and the wall-clock [`clock::UnixTime`] the store keeps.
//! * [`cli`] — the command line; offline subcommands call the same store operations as the API.
//! * [`config`] — the TOML config, loaded once, every problem reported with its key.
//! * [`registrar`] — the location service: which contacts each device registered, until when
//!   (sans-IO, bounded, written behind to the store).
//! * [`rules`] — what both config and store check: the languages, what an email address is.
//! * [`store`] — the database: users, devices, workplaces, FollowMe, forwardings, actions,
//!   phonebook, accounts; the seed's validation rules and quick-create side effects.
//! * [`admin`] — the REST API: route table, roles, auth, JSON errors, OpenAPI document.
//! * [`digest`] — HTTP Digest (MD5, SHA-256) for provisioning and SIP: stateless nonces,
//!   challenges, answers checked against a password.
//! * [`dispatch`] — where a call rings: FollowMe per device and call class, first answer wins,
//!   forwardings, actions and teams (sans-IO, no SIP inside; the driver supplies a view).
//! * [`endpoint`] — zentrale's SIP endpoint: the transaction user (REGISTER, calls as a B2BUA,
//!   MWI and BLF subscriptions, OPTIONS, refusals) as a sans-IO core, and its UDP/TCP driver
//!   with write-behind bindings.
//! * [`https`] — the TLS listener: the admin's certificate or a self-signed one made on first start.
//! * [`import`] — the xlsx import and its template: read in a limited child process, every row
//!   checked with the store's rules, all applied in one transaction or none.
//! * [`provisioning`] — phone configs per vendor over HTTP(S) and TFTP: vendor manifests and
//!   templates, phone identification, enrollment and Digest proof, rate limits, phonebook, firmware.
//! * [`net`] — binding, the `listening for` lines, capped accept loops, HTTP(S) serving with
//!   header-read timeouts, and UDP sockets that know each datagram's local address.
//! * [`phone_menu`] — the menu key app at `/menu/<token>/`: workplace login by extension and
//!   PIN (lockouts sans-IO), logout, status, own forwardings/FollowMe, in each vendor's dialect.
//! * [`spool`] — the durable mail queue: enqueue fsyncs before it returns, entries carry state,
//!   attempts and a stable Message-ID, recovery on start; the retry policy is a pure function.
//! * [`mail`] — SMTP delivery of the spool with lettre (pooled, STARTTLS/implicit TLS, AUTH),
//!   message building, minijinja templates per language, admin notices for failed messages.
//! * [`sip`] — SIP message codec (parse, print, stream framing, stateless rejects) and the
//!   RFC 3261 transaction state machines, sans-IO.
//! * [`xml`] — the one XML escaper (configs, phonebooks, menu screens).
//! * [`rtp`] — RTP for zentrale's own media endpoints as a sans-IO session per call: packet and
//!   RFC 4733 DTMF codecs, source latching against RTP bleed, jitter buffer, paced playback.
//! * [`media`] — media without I/O: G.711 A-law/µ-law, SDP offer/answer, the RTP port pool.
//! * [`tftp`] — read-only TFTP for provisioning: codec, sans-IO transfer core, async driver.
//! * [`fax`] — fax reception: spandsp's T.38 and audio terminals behind the crate's only
//!   `unsafe` module, driven sans-IO, and the received TIFF turned into a PDF without re-encoding;
//!   users' fax inboxes (document, row and mail durable in one deposit, keep/delete after mailing).
//! * [`udptl`] — the UDPTL codec of T.38 and a sans-IO session: redundancy and FEC recovery,
//!   reordering, duplicate suppression.
//! * [`voicemail`] — users' voicemail boxes: recordings to WAV, deposit (file, row, MWI counts
//!   and mail, all durable before goodbye), greetings, the keep/delete rule after mailing;
//!   leaving a message and the mailbox by phone as sans-IO cores, the prompts, and the driver
//!   that answers calls with them.

pub mod admin;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod digest;
pub mod dispatch;
pub mod endpoint;
pub mod fax;
pub mod https;
pub mod import;
pub mod mail;
pub mod media;
pub mod net;
pub mod phone_menu;
pub mod provisioning;
pub mod registrar;
pub mod rtp;
pub mod rules;
pub mod sip;
pub mod spool;
pub mod store;
pub mod tftp;
pub mod udptl;
pub mod voicemail;
pub mod xml;

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
