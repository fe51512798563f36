//! Telling phones to fetch their configs again: when a change alters a device's config, the
//! registered device gets its vendor's NOTIFY (the `notify_event` of its provisioning
//! manifest, e.g. `check-sync;reboot=false`) at each binding, over the transport it registered
//! with. Debounced: the changes of one import make one NOTIFY per device.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::clock::Instant;
use crate::registrar::Binding;
use crate::sip::{Message, Request, SipLimits};

/// How long changes gather before the NOTIFYs go out.
pub const DEBOUNCE: Duration = Duration::from_secs(2);

/// Devices waiting for their NOTIFY.
#[derive(Debug, Default)]
pub struct Resyncs {
    pending: BTreeSet<i64>,
    due: Option<Instant>,
}

impl Resyncs {
    /// `devices` changed at `now`; their NOTIFYs go out [`DEBOUNCE`] after the first.
    pub fn changed(&mut self, devices: impl IntoIterator<Item = i64>, now: Instant) {
        let before = self.pending.len();
        self.pending.extend(devices);
        if self.pending.len() > before && self.due.is_none() {
            self.due = Some(now + DEBOUNCE);
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.due
    }

    /// The devices whose NOTIFY is due at `now`.
    pub fn due(&mut self, now: Instant) -> Vec<i64> {
        match self.due {
            Some(due) if due <= now => {
                self.due = None;
                std::mem::take(&mut self.pending).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }
}

/// What a NOTIFY needs from the endpoint: our address as the phone reached it, the domain,
/// and something unique for Call-ID, tag and branch.
#[derive(Debug, Clone)]
pub struct NotifyFrom<'a> {
    pub local: &'a str,
    pub domain: &'a str,
    pub unique: &'a str,
}

/// A NOTIFY out of any dialog (unsolicited, as phones take check-sync and MWI) to one binding,
/// with `headers` (CRLF-terminated lines: Event, …) and an optional body with its type.
pub fn notify(
    binding: &Binding,
    headers: &str,
    body: Option<(&str, &str)>,
    from: &NotifyFrom<'_>,
) -> Option<Request> {
    let contact = crate::sip::NameAddr::parse(&binding.contact, "Contact").ok()?;
    let target = contact.uri.to_string();
    let transport = binding.origin.transport.to_ascii_uppercase();
    let text = format!(
        "NOTIFY {target} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {local};branch=z9hG4bK{u};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:zentrale@{domain}>;tag={u}\r\n\
         To: <{target}>\r\n\
         Call-ID: {u}@{domain}\r\n\
         CSeq: 1 NOTIFY\r\n\
         {headers}{content}Content-Length: {length}\r\n\r\n{text}",
        local = from.local,
        domain = from.domain,
        u = from.unique,
        content = body.map_or(String::new(), |(kind, _)| format!(
            "Content-Type: {kind}\r\n"
        )),
        length = body.map_or(0, |(_, text)| text.len()),
        text = body.map_or("", |(_, text)| text),
    );
    match Message::parse(text.as_bytes(), &SipLimits::default()).ok()? {
        Message::Request(r) => Some(r),
        Message::Response(_) => None,
    }
}

/// The vendor events by device, for the devices the driver knows the vendor of.
pub type Events = HashMap<i64, String>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::UnixTime;
    use crate::registrar::Origin;

    #[test]
    fn many_changes_make_one_notify_per_device_after_the_debounce() {
        let t = crate::clock::now();
        let mut r = Resyncs::default();
        for i in 0..200 {
            r.changed([1, 2], t + Duration::from_millis(i));
        }
        assert_eq!(r.poll_timeout(), Some(t + DEBOUNCE));
        assert!(r.due(t + DEBOUNCE - Duration::from_millis(1)).is_empty());
        assert_eq!(r.due(t + DEBOUNCE), vec![1, 2]);
        assert_eq!(r.poll_timeout(), None);
        assert!(r.due(t + DEBOUNCE * 2).is_empty());
    }

    #[test]
    fn the_notify_goes_to_the_contact_with_the_vendors_event() {
        let b = Binding {
            device_id: 1,
            contact: "<sip:dev1@192.0.2.10:5062;transport=udp>;expires=600".into(),
            key: "k".into(),
            expires_at: UnixTime::from_secs(2_000_000_000),
            q: None,
            origin: Origin {
                transport: "udp".into(),
                source: "192.0.2.10:5062".into(),
                local: "192.0.2.1".into(),
                user_agent: None,
                call_id: "c".into(),
                cseq: 1,
            },
            registered_at: UnixTime::from_secs(1),
        };
        let from = NotifyFrom {
            local: "192.0.2.1:5060",
            domain: "pbx.example.com",
            unique: "abc123",
        };
        let headers = "Event: check-sync;reboot=false\r\n";
        let r = notify(&b, headers, None, &from).expect("a request");
        assert_eq!(r.uri.to_string(), "sip:dev1@192.0.2.10:5062;transport=udp");
        let printed = String::from_utf8(r.print()).expect("utf-8");
        assert!(
            printed.contains("\r\nEvent: check-sync;reboot=false\r\n"),
            "{printed}"
        );
        assert!(r.head.via[0].has_rfc3261_branch());
    }
}
