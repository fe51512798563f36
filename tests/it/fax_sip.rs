//! The SIP side of fax calls against sipp: a gateway's T.38 re-INVITE answered with our own
//! T.38 stream (ITU-T T.38 Annex D attributes), and a G.711 fax machine's CNG answered with our
//! own T.38 re-INVITE. Neither caller sends a page: the reception fails, and that failure is
//! stored and mailed all the same (never dropped silently). Pages over real UDPTL and audio
//! are sent by `examples/faxsend.rs` in `fax_calls.rs`.

use std::time::Duration;

use serde_json::json;

use crate::fax_inbox::{fax_user, inbox};
use crate::harness::{Daemon, eventually};
use crate::smtp::{SmtpPeer, smtp_config};

const WITHIN: Duration = Duration::from_secs(30);

/// Anna with a fax device at 190 (our CSI "+49 30 1234 190"), mailing to fax-anna@; bert's
/// softphone to call from.
fn anna_and_bert(smtp: &SmtpPeer) -> (Daemon, (String, String)) {
    let d = Daemon::start_with_config(&smtp_config(smtp.port, ""));
    fax_user(
        &d,
        "anna",
        "en",
        Some("anna@example.com"),
        json!({"extension": "190", "email": "fax-anna@example.com", "format": "pdf",
               "header_id": "+49 30 1234 190"}),
    );
    let bert = crate::calls::bert(&d);
    (d, bert)
}

/// Runs `scenario` from bert's phone to 190, with `pcaps` written into sipp's directory.
fn call_fax(d: &Daemon, bert: &(String, String), scenario: &str, pcaps: impl Fn(&std::path::Path)) {
    let (uac, dir) = crate::sip::sipp_command(d, scenario, "u1", &bert.0, &bert.1, "0");
    pcaps(dir.path());
    let media = crate::voicemail_calls::media_port();
    let ok = crate::voicemail_calls::with_args(&uac, &["-key", "callee", "190", "-mp", &media])
        .status()
        .expect("sipp")
        .success();
    if !ok {
        crate::sip::print_logs(dir.path());
        panic!("{scenario} failed; zentrale:\n{}", d.log());
    }
}

/// The failed reception is in anna's inbox with no pages and its T.30 cause, and mailed.
fn failed_reception_is_kept_and_mailed(d: &Daemon, smtp: &SmtpPeer) {
    let list = eventually(WITHIN, || {
        let list = inbox(d, "anna");
        (!list.is_empty()).then_some(list)
    });
    let list = list.unwrap_or_else(|| panic!("no fax in the inbox; zentrale:\n{}", d.log()));
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["pages"], 0, "{}", list[0]);
    assert_ne!(list[0]["result"], "OK", "{}", list[0]);
    let mails = smtp.wait_for("accepted", |e| e["rcpt"][0] == "fax-anna@example.com", 1);
    assert!(
        mails[0]["attachments"].as_array().is_none_or(Vec::is_empty),
        "{}",
        mails[0]
    );
}

#[test]
fn a_gateways_t38_reinvite_is_answered_with_our_t38_stream() {
    let smtp = SmtpPeer::start(0, &[]);
    let (d, bert) = anna_and_bert(&smtp);
    call_fax(&d, &bert, "fax_t38_uac.xml", |_| {});
    assert!(d.log().contains("on T.38 with 127.0.0.1:"), "{}", d.log());
    failed_reception_is_kept_and_mailed(&d, &smtp);
}

#[test]
fn a_fax_machines_cng_on_audio_makes_zentrale_offer_t38() {
    let smtp = SmtpPeer::start(0, &[]);
    let (d, bert) = anna_and_bert(&smtp);
    call_fax(&d, &bert, "fax_cng_uac.xml", |dir| {
        crate::dtmf_pcap::write_cng(dir, "cng.pcap", 4);
    });
    let log = d.log();
    assert!(log.contains("CNG heard, offering T.38"), "{log}");
    assert!(log.contains("on T.38 with 127.0.0.1:"), "{log}");
    failed_reception_is_kept_and_mailed(&d, &smtp);
}
