//! Busy lamp field: the `dialog` event package (RFC 4235). A phone subscribes to a user's
//! extension (the Request-URI's user, as for MWI) and hears what that user's phones are doing:
//! no `<dialog>` when idle, one per call otherwise — `early` (direction `recipient`) while one
//! of them rings, `confirmed` once the user talks, and `terminated` once in the NOTIFY after
//! the call ended. The same per-device state reaches the admin API's phone status
//! ([`EndpointEvent::Lines`] → `registrar::presence`).
//!
//! The state is derived from the calls table on demand ([`Endpoint::device_lines`]) and
//! compared with the last one after every input ([`Endpoint::update_lines`]): the call code
//! needs no hooks, and no change (ring, answer, end) is missed. A device in a call it placed is
//! shown `confirmed` from the start, not `early`: phones blink and offer pickup for an early
//! dialog whatever its direction (OpenSIPS `pua_dialoginfo` has `caller_confirmed` for that,
//! and Asterisk shows a calling device as in use), and nobody can pick up a call someone makes.
//!
//! Names from RFC 4235 §4.1: `dialog-info` (`version` from 0, +1 per document to a subscriber,
//! §4.1.1; `state` `full`; `entity`), `dialog` (`id`, `call-id`, `local-tag`, `remote-tag`,
//! `direction` `initiator`|`recipient`, §4.1.2), its `state` (§4.1.3), `local`/`remote` with
//! `identity` (`display`) and `target` `uri` (§4.1.6) — the form Yealink's admin guide shows for
//! BLF and its "visual alert for BLF pickup" (who calls the monitored user).

use std::collections::{BTreeMap, HashMap};

use super::calls::{Attempt, Call, NO_DEVICE};
use super::dialog::Dialog;
use super::mwi::Watched;
use super::{Endpoint, EndpointEvent};
use crate::clock::Instant;
use crate::registrar::presence::LineState;
use crate::sip::{HeaderName, Request};

/// The event package (RFC 4235 §3.1) and its body's media type (§3.4).
pub const PACKAGE: &str = "dialog";
pub const CONTENT_TYPE: &str = "application/dialog-info+xml";

/// Whether `request`'s Accept (none: the package default, RFC 4235 §3.4) takes our body.
pub fn accepts(request: &Request) -> bool {
    let mut accept = request.head.headers.get_all(&HeaderName::ACCEPT).peekable();
    if accept.peek().is_none() {
        return true;
    }
    accept.flat_map(|l| l.split(',')).any(|t| {
        let media = t.split(';').next().unwrap_or_default().trim();
        ["*/*", "application/*", CONTENT_TYPE]
            .iter()
            .any(|m| media.eq_ignore_ascii_case(m))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The device placed the call.
    Initiator,
    /// The device is rung, or answered.
    Recipient,
}

/// One call of one device, as a watcher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The call's key in the endpoint (the `dialog` id).
    pub call: u64,
    pub direction: Direction,
    /// Answered (or placed by this device); else ringing.
    pub confirmed: bool,
    /// The device's own dialog with us: Call-ID, its tag (empty before it answered), ours.
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    /// Who is at the other end: the caller's name and number, or what the device dialled.
    pub remote_name: String,
    pub remote_number: String,
}

/// What a `dialog` subscription watches: a user's line over their ring set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub username: String,
    pub display_name: String,
    /// The watched extension's URI (`entity`, local `identity`).
    pub entity: String,
    /// The user's ring set: own phones and those of the workplace they are at.
    pub devices: Vec<i64>,
    /// The next document's version.
    pub version: u32,
    /// The dialogs the last document showed (ended ones are shown `terminated` once).
    pub shown: Vec<Line>,
}

impl Watch {
    pub fn new(username: &str, display_name: &str, entity: &str, devices: Vec<i64>) -> Watch {
        Watch {
            username: username.to_owned(),
            display_name: display_name.to_owned(),
            entity: entity.to_owned(),
            devices,
            version: 0,
            shown: Vec::new(),
        }
    }

    /// The user's calls now, one dialog each (a call that rings two of their phones is one;
    /// answered wins over ringing), by call.
    fn current(&self, lines: &HashMap<i64, Vec<Line>>) -> Vec<Line> {
        let mut by_call: BTreeMap<u64, Line> = BTreeMap::new();
        let all = self.devices.iter().filter_map(|d| lines.get(d)).flatten();
        for line in all {
            match by_call.get(&line.call) {
                Some(seen) if seen.confirmed || !line.confirmed => {}
                _ => {
                    by_call.insert(line.call, line.clone());
                }
            }
        }
        by_call.into_values().collect()
    }

    /// Whether the next document would differ from the last one.
    pub fn changed(&self, lines: &HashMap<i64, Vec<Line>>) -> bool {
        self.current(lines) != self.shown
    }

    /// The next document (full state), with the dialogs that ended since the last one shown
    /// as terminated.
    pub fn next_body(&mut self, lines: &HashMap<i64, Vec<Line>>) -> String {
        let now = self.current(lines);
        let domain = self.entity.rsplit('@').next().unwrap_or_default();
        let mut body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
             <dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"{}\" \
             state=\"full\" entity=\"{}\">\r\n",
            self.version,
            escape(&self.entity)
        );
        let ended = (self.shown.iter()).filter(|l| !now.iter().any(|n| n.call == l.call));
        for (line, state) in ended
            .map(|l| (l, "terminated"))
            .chain(now.iter().map(|l| (l, state_of(l))))
        {
            body.push_str(&self.dialog(line, state, domain));
        }
        body.push_str("</dialog-info>\r\n");
        self.version = self.version.wrapping_add(1);
        self.shown = now;
        body
    }

    /// One `<dialog>` element.
    fn dialog(&self, l: &Line, state: &str, domain: &str) -> String {
        let mut attrs = format!("id=\"{}\" call-id=\"{}\"", l.call, escape(&l.call_id));
        for (name, tag) in [("local-tag", &l.local_tag), ("remote-tag", &l.remote_tag)] {
            if !tag.is_empty() {
                attrs.push_str(&format!(" {name}=\"{}\"", escape(tag)));
            }
        }
        let direction = match l.direction {
            Direction::Initiator => "initiator",
            Direction::Recipient => "recipient",
        };
        let remote = format!("sip:{}@{domain}", l.remote_number);
        format!(
            "<dialog {attrs} direction=\"{direction}\">\r\n<state>{state}</state>\r\n\
             {}{}</dialog>\r\n",
            party("local", &self.display_name, &self.entity),
            party("remote", &l.remote_name, &remote),
        )
    }
}

/// `<local>` or `<remote>`: who, and where they are reached (RFC 4235 §4.1.6).
fn party(element: &str, display: &str, uri: &str) -> String {
    let uri = escape(uri);
    let display = match display.is_empty() {
        true => String::new(),
        false => format!(" display=\"{}\"", escape(display)),
    };
    format!(
        "<{element}>\r\n<identity{display}>{uri}</identity>\r\n<target uri=\"{uri}\"/>\r\n\
         </{element}>\r\n"
    )
}

fn state_of(line: &Line) -> &'static str {
    match line.confirmed {
        true => "confirmed",
        false => "early",
    }
}

/// Text for XML content and attribute values.
fn escape(text: &str) -> String {
    crate::xml::escape(text, crate::xml::Controls::Drop)
}

/// Each device's state from the (device, call, answered-or-placed) keys.
fn states(keys: &[(i64, u64, bool)]) -> HashMap<i64, LineState> {
    let mut states: HashMap<i64, LineState> = HashMap::new();
    for (device, _, confirmed) in keys {
        let s = states.entry(*device).or_default();
        s.busy |= *confirmed;
        s.ringing |= !*confirmed;
    }
    states
}

/// What `lines` (one device's) make of its line.
pub fn state(lines: &[Line]) -> LineState {
    LineState {
        ringing: lines.iter().any(|l| !l.confirmed),
        busy: lines.iter().any(|l| l.confirmed),
    }
}

/// Where one device stands in one call, and what names its dialog.
enum Part<'a> {
    /// It answered: its dialog with us.
    Answered(&'a Dialog),
    /// It is being rung: our INVITE to one of its contacts.
    Rung(&'a Attempt),
    /// It placed the call (the caller's INVITE).
    Placed,
}

/// The line `part` of call `key` makes.
fn line(key: u64, call: &Call, part: Part<'_>) -> Line {
    let (name, number) = (call.caller.as_ref())
        .map(|c| (c.name.clone(), c.number.clone()))
        .unwrap_or_default();
    let (direction, confirmed) = match part {
        Part::Answered(_) => (Direction::Recipient, true),
        Part::Rung(_) => (Direction::Recipient, false),
        Part::Placed => (Direction::Initiator, true),
    };
    let (call_id, local_tag, remote_tag) = match part {
        Part::Answered(d) => (d.call_id.clone(), d.remote_tag.clone(), d.local_tag.clone()),
        Part::Rung(a) => {
            let ours = a.request.head.from.tag().unwrap_or_default();
            (a.request.head.call_id.clone(), String::new(), ours)
        }
        Part::Placed => {
            let theirs = call.invite.head.from.tag().unwrap_or_default();
            (call.invite.head.call_id.clone(), theirs, call.tag.clone())
        }
    };
    let (remote_name, remote_number) = match direction {
        Direction::Recipient => (name, number),
        Direction::Initiator => (String::new(), call.record.dialled.clone()),
    };
    Line {
        call: key,
        direction,
        confirmed,
        call_id,
        local_tag,
        remote_tag,
        remote_name,
        remote_number,
    }
}

/// Every device's calls as BLF last saw them.
#[derive(Debug, Default)]
pub(super) struct Lines {
    /// In brief, (device, call, confirmed) sorted: cheap to compare after every input.
    keys: Vec<(i64, u64, bool)>,
    by_device: HashMap<i64, Vec<Line>>,
}

impl Endpoint {
    /// Calls `f` with each device's part in each call: the phones being rung (an INVITE of
    /// ours without a final answer), the one that answered, and the caller's.
    fn each_part(&self, mut f: impl FnMut(i64, u64, &Call, Part<'_>)) {
        for (&key, call) in &self.calls {
            match (&call.connected, call.record.answered_by) {
                (Some(c), Some(device)) => f(device, key, call, Part::Answered(&c.callee)),
                (Some(_), None) => {}
                (None, _) => {
                    let rung = call.attempts.values();
                    for a in rung.filter(|a| a.done.is_none() && a.device != NO_DEVICE) {
                        f(a.device, key, call, Part::Rung(a));
                    }
                }
            }
            if let Some(device) = call.from_device {
                f(device, key, call, Part::Placed);
            }
        }
    }

    fn line_keys(&self) -> Vec<(i64, u64, bool)> {
        let mut keys = Vec::new();
        self.each_part(|device, key, _, part| {
            keys.push((device, key, !matches!(part, Part::Rung(_))));
        });
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Every device's calls now, from the calls table, one line per call and device.
    pub fn device_lines(&self) -> HashMap<i64, Vec<Line>> {
        let mut lines: HashMap<i64, Vec<Line>> = HashMap::new();
        self.each_part(|device, key, call, part| {
            let new = line(key, call, part);
            let list = lines.entry(device).or_default();
            // Answered wins over rung; of several contacts rung, the lowest Call-ID (the same
            // one each time).
            let rank = |l: &Line| (l.confirmed, std::cmp::Reverse(l.call_id.clone()));
            match list.iter_mut().find(|l| l.call == key) {
                Some(old) if rank(&new) > rank(old) => *old = new,
                Some(_) => {}
                None => list.push(new),
            }
        });
        for list in lines.values_mut() {
            list.sort_by_key(|l| l.call);
        }
        lines
    }

    /// What each device's line is doing (devices not listed are idle).
    pub fn line_states(&self) -> HashMap<i64, LineState> {
        states(&self.lines.keys)
    }

    /// After any input: when the devices' calls changed, the driver hears which devices' state
    /// did ([`EndpointEvent::Lines`]) and every watcher whose user's dialogs changed gets a
    /// NOTIFY. The dialogs themselves (names, tags: a rebuild over every call) are made only
    /// while someone watches: with thousands of calls up and nobody watching, rebuilding them
    /// after each message held up the SIP loop (the held-calls bench lost calls).
    pub(super) fn update_lines(&mut self, now: Instant) {
        if self.calls.is_empty() && self.lines.keys.is_empty() {
            return;
        }
        let keys = self.line_keys();
        if keys == self.lines.keys {
            return;
        }
        let (before, after) = (states(&self.lines.keys), states(&keys));
        self.lines.keys = keys;
        let mut changed: Vec<(i64, LineState)> = (before.keys().chain(after.keys()))
            .map(|d| (*d, after.get(d).copied().unwrap_or_default()))
            .filter(|(d, new)| before.get(d).copied().unwrap_or_default() != *new)
            .collect();
        changed.sort_unstable_by_key(|(d, _)| *d);
        changed.dedup();
        if !changed.is_empty() {
            self.events.push_back(EndpointEvent::Lines(changed));
        }
        let watched = self.subscriptions.to_lines().next().is_some();
        match watched {
            true => {
                self.lines.by_device = self.device_lines();
                self.notify_watchers(now);
            }
            false => self.lines.by_device.clear(),
        }
    }

    /// The dialogs of every device now, for a NOTIFY. They are kept current while someone
    /// watches; for the first watcher they are made here.
    pub(super) fn current_lines(&mut self) -> &HashMap<i64, Vec<Line>> {
        if self.lines.by_device.is_empty() && !self.lines.keys.is_empty() {
            self.lines.by_device = self.device_lines();
        }
        &self.lines.by_device
    }

    /// A NOTIFY to every watcher whose user's dialogs differ from what it was shown.
    fn notify_watchers(&mut self, now: Instant) {
        let lines = &self.lines.by_device;
        let due: Vec<_> = (self.subscriptions.to_lines())
            .filter(|s| matches!(&s.watched, Watched::Line(w) if w.changed(lines)))
            .map(|s| s.clone())
            .collect();
        self.notify_again(due, now);
    }

    /// The users whose lines are watched.
    pub fn watched_users(&self) -> Vec<String> {
        let mut users: Vec<String> = (self.subscriptions.iter())
            .filter_map(|s| match &s.watched {
                Watched::Line(w) => Some(w.username.clone()),
                Watched::Mailbox(_) => None,
            })
            .collect();
        users.sort_unstable();
        users.dedup();
        users
    }

    /// `username`'s ring set is now `devices` (a workplace login or logout, a phone assigned):
    /// their watchers follow it.
    pub fn set_line_devices(&mut self, username: &str, devices: &[i64], now: Instant) {
        for s in self.subscriptions.to_lines() {
            if let Some(w) = s.line_mut().filter(|w| w.username == username) {
                w.devices = devices.to_vec();
            }
        }
        self.notify_watchers(now);
    }
}

#[cfg(test)]
#[path = "blf_tests.rs"]
mod tests;
