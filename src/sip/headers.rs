//! [`Headers`]: the header fields a message carries besides the ones [`super::Head`] keeps typed,
//! in order, values unfolded and trimmed. Typed accessors parse on demand; [`Headers::validate`]
//! runs them all once at parse time so a malformed known header is a 400 at the door, not an
//! error deep in the registrar.

use super::auth::Auth;
use super::error::SipError;
use super::event::Event;
use super::header_name::HeaderName;
use super::lex;
use super::name_addr::NameAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: HeaderName,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers(Vec<Header>);

/// Headers that are single-valued (a second one is a 400).
const SINGLE: [HeaderName; 4] = [
    HeaderName::CONTENT_TYPE,
    HeaderName::EXPIRES,
    HeaderName::DATE,
    HeaderName::MIN_EXPIRES,
];

/// Headers whose value is a comma-separated list of option tags or methods.
const TOKEN_LISTS: [HeaderName; 6] = [
    HeaderName::REQUIRE,
    HeaderName::PROXY_REQUIRE,
    HeaderName::SUPPORTED,
    HeaderName::UNSUPPORTED,
    HeaderName::ALLOW,
    HeaderName::ALLOW_EVENTS,
];

impl Headers {
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.0.push(Header {
            name,
            value: value.into(),
        });
    }

    /// Replaces every `name` field by one with `value`.
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        self.remove(&name);
        self.push(name, value);
    }

    pub fn remove(&mut self, name: &HeaderName) {
        self.0.retain(|h| h.name != *name);
    }

    /// The first field called `name`.
    pub fn get(&self, name: &HeaderName) -> Option<&str> {
        self.0
            .iter()
            .find(|h| h.name == *name)
            .map(|h| h.value.as_str())
    }

    /// Every field called `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |h| h.name == *name)
            .map(|h| h.value.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The elements of a comma-list header over all its lines (`Require`, `Supported`,
    /// `Allow`, …), each a token.
    pub fn tokens(&self, name: &HeaderName) -> Result<Vec<String>, SipError> {
        let bad = SipError::BadHeader {
            header: name.static_name(),
            reason: "not a comma-separated token list",
        };
        let mut out = Vec::new();
        // `Allow:` and `Supported:` may be empty (§20.5, §20.37).
        for line in self.get_all(name).filter(|l| !l.is_empty()) {
            let elements = lex::split_list(line).ok_or_else(|| bad.clone())?;
            if !elements.iter().all(|e| lex::is_token(e)) {
                return Err(bad);
            }
            out.extend(elements.into_iter().map(str::to_owned));
        }
        Ok(out)
    }

    /// `Expires` in seconds; values past 32 bits saturate (RFC 4475 `scalar02`).
    pub fn expires(&self) -> Result<Option<u32>, SipError> {
        self.delta_seconds(&HeaderName::EXPIRES)
    }

    /// A `delta-seconds` header (`Expires`, `Min-Expires`).
    pub fn delta_seconds(&self, name: &HeaderName) -> Result<Option<u32>, SipError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let n = lex::digits_saturating(v).ok_or(SipError::BadHeader {
            header: name.static_name(),
            reason: "not a number of seconds",
        })?;
        Ok(Some(u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// `Content-Type` as `type/subtype` in lower case, parameters dropped.
    pub fn content_type(&self) -> Result<Option<String>, SipError> {
        let Some(v) = self.get(&HeaderName::CONTENT_TYPE) else {
            return Ok(None);
        };
        let media = lex::trim_ws(v.split(';').next().unwrap_or_default());
        let ok = media
            .split_once('/')
            .is_some_and(|(t, s)| lex::is_token(lex::trim_ws(t)) && lex::is_token(lex::trim_ws(s)));
        if !ok {
            return Err(SipError::BadHeader {
                header: "Content-Type",
                reason: "not a media type",
            });
        }
        Ok(Some(media.replace([' ', '\t'], "").to_ascii_lowercase()))
    }

    pub fn event(&self) -> Result<Option<Event>, SipError> {
        self.get(&HeaderName::EVENT).map(Event::parse).transpose()
    }

    /// Every credential or challenge in `name` fields (one per line).
    pub fn auths(&self, name: &HeaderName) -> Result<Vec<Auth>, SipError> {
        self.get_all(name)
            .map(|v| Auth::parse(v, name.static_name()))
            .collect()
    }

    /// The addresses of `Route`, `Record-Route` or `Path` over all their lines.
    pub fn name_addrs(&self, name: &HeaderName) -> Result<Vec<NameAddr>, SipError> {
        let mut out = Vec::new();
        for line in self.get_all(name) {
            let elements = lex::split_list(line).ok_or(SipError::BadHeader {
                header: name.static_name(),
                reason: "empty or unbalanced element",
            })?;
            for e in elements {
                out.push(NameAddr::parse(e, name.static_name())?);
            }
        }
        Ok(out)
    }

    /// Checks every header this layer knows the grammar of.
    pub fn validate(&self) -> Result<(), SipError> {
        for name in &SINGLE {
            if self.get_all(name).nth(1).is_some() {
                return Err(SipError::DuplicateHeader(name.static_name()));
            }
        }
        for name in &TOKEN_LISTS {
            self.tokens(name)?;
        }
        self.expires()?;
        self.delta_seconds(&HeaderName::MIN_EXPIRES)?;
        self.content_type()?;
        self.event()?;
        for name in [&HeaderName::ROUTE, &HeaderName::RECORD_ROUTE] {
            self.name_addrs(name)?;
        }
        for name in [
            &HeaderName::AUTHORIZATION,
            &HeaderName::WWW_AUTHENTICATE,
            &HeaderName::PROXY_AUTHENTICATE,
            &HeaderName::PROXY_AUTHORIZATION,
        ] {
            self.auths(name)?;
        }
        if let Some(date) = self.get(&HeaderName::DATE) {
            check_date(date)?;
        }
        Ok(())
    }
}

/// `Date` is an RFC 1123 date in GMT, `Sat, 13 Nov 2010 23:29:00 GMT` (§20.17); anything else
/// is refused (RFC 4475 `baddate` with `EST`).
fn check_date(v: &str) -> Result<(), SipError> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let f: Vec<&str> = v.split(' ').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let time_ok = |t: &str| {
        let p: Vec<&str> = t.split(':').collect();
        p.len() == 3 && p.iter().all(|x| digits(x, 2))
    };
    let ok = f.len() == 6
        && f[0].strip_suffix(',').is_some_and(|d| DAYS.contains(&d))
        && digits(f[1], 2)
        && MONTHS.contains(&f[2])
        && digits(f[3], 4)
        && time_ok(f[4])
        && f[5] == "GMT";
    ok.then_some(()).ok_or(SipError::BadHeader {
        header: "Date",
        reason: "not an RFC 1123 date in GMT",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&str, &str)]) -> Headers {
        let mut h = Headers::default();
        for (n, v) in lines {
            h.push(HeaderName::parse(n).expect("valid"), *v);
        }
        h
    }

    #[test]
    fn token_lists_span_lines() {
        let h = headers(&[
            ("Supported", "path, gruu"),
            ("k", "replaces"),
            ("Allow", ""),
        ]);
        assert_eq!(
            h.tokens(&HeaderName::SUPPORTED).expect("valid"),
            ["path", "gruu", "replaces"]
        );
        assert!(h.tokens(&HeaderName::ALLOW).expect("valid").is_empty());
        assert!(headers(&[("Allow", "INVITE,,BYE")]).validate().is_err());
        assert!(headers(&[("Require", "a b")]).validate().is_err());
    }

    #[test]
    fn expires_saturates_and_refuses_garbage() {
        let h = headers(&[("Expires", "10000000000000000000000")]);
        assert_eq!(h.expires().expect("valid"), Some(u32::MAX));
        assert!(headers(&[("Expires", "-1")]).validate().is_err());
        assert!(
            headers(&[("Expires", "1"), ("Expires", "2")])
                .validate()
                .is_err()
        );
    }

    #[test]
    fn content_type_and_event() {
        let h = headers(&[
            ("c", "Application/SDP ; charset=x"),
            ("o", "message-summary"),
        ]);
        assert_eq!(
            h.content_type().expect("valid").as_deref(),
            Some("application/sdp")
        );
        assert_eq!(
            h.event().expect("valid").expect("valid").package,
            "message-summary"
        );
        assert!(headers(&[("Content-Type", "sdp")]).validate().is_err());
    }

    #[test]
    fn dates_must_be_gmt() {
        assert!(check_date("Sat, 13 Nov 2010 23:29:00 GMT").is_ok());
        assert!(check_date("Fri, 01 Jan 2010 16:00:00 EST").is_err());
        assert!(check_date("Fri 01 Jan 2010 16:00:00 GMT").is_err());
    }

    #[test]
    fn set_and_remove() {
        let mut h = headers(&[("Route", "<sip:a@b;lr>"), ("route", "<sip:c@d;lr>")]);
        assert_eq!(h.name_addrs(&HeaderName::ROUTE).expect("valid").len(), 2);
        h.set(HeaderName::ROUTE, "<sip:e@f>");
        assert_eq!(
            h.get_all(&HeaderName::ROUTE).collect::<Vec<_>>(),
            ["<sip:e@f>"]
        );
        h.remove(&HeaderName::ROUTE);
        assert!(h.is_empty());
    }
}
