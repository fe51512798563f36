//! The lexical rules of RFC 3261 §25.1 that every header shares: tokens, quoted strings, LWS,
//! comma lists that respect quotes and angle brackets, hosts and escapes.
//!
//! Header values reach these functions already unfolded (a CRLF followed by white space is one
//! space), so "LWS" here is plain spaces and tabs.

/// `token` characters (§25.1): alphanumerics and `-.!%*_+`'~`.
pub fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// A non-empty `token`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// `word` characters (§25.1, used by Call-ID): token characters plus `()<>:\"/[]?{}`.
pub fn is_word_char(b: u8) -> bool {
    is_token_char(b) || b"()<>:\\\"/[]?{}".contains(&b)
}

pub fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

pub fn trim_ws(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// The length of the quoted string at the start of `s` (which starts with `"`), closing quote
/// included; `None` when it is unterminated or holds a CR or LF (§25.1 `quoted-string`).
pub fn quoted_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                // quoted-pair: any octet but CR and LF.
                match bytes.get(i + 1) {
                    Some(b'\r' | b'\n') | None => return None,
                    Some(_) => i += 2,
                }
            }
            b'\r' | b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}

/// Whether `s` is exactly one quoted string.
pub fn is_quoted_string(s: &str) -> bool {
    s.starts_with('"') && quoted_len(s) == Some(s.len())
}

/// The content of a quoted string with its quoted-pairs resolved; other text as it is.
pub fn unquote(s: &str) -> String {
    if !is_quoted_string(s) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s[1..s.len() - 1].chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// `value` as a quoted string (quotes and backslashes escaped); CR and LF are dropped, as a
/// quoted string cannot carry them.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars().filter(|c| !matches!(c, '\r' | '\n')) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Splits at `sep` outside quoted strings and `<...>`; `None` on an unterminated quote or an
/// unbalanced `<`. Pieces are trimmed of white space and may be empty (the caller decides).
pub fn split_outside(s: &str, sep: u8) -> Option<Vec<&str>> {
    let bytes = s.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut i, mut in_angle) = (0, 0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += quoted_len(&s[i..])?;
                continue;
            }
            b'<' if !in_angle => in_angle = true,
            b'>' if in_angle => in_angle = false,
            b if b == sep && !in_angle => {
                pieces.push(trim_ws(&s[start..i]));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if in_angle {
        return None;
    }
    pieces.push(trim_ws(&s[start..]));
    Some(pieces)
}

/// Splits a comma-separated header value into its elements; an empty element is an error
/// (`Via: a;;,;,,` in RFC 4475 `badinv01`).
pub fn split_list(s: &str) -> Option<Vec<&str>> {
    let pieces = split_outside(s, b',')?;
    pieces.iter().all(|p| !p.is_empty()).then_some(pieces)
}

/// `host` (§25.1): a hostname, an IPv4 address or a bracketed IPv6 reference.
pub fn is_host(s: &str) -> bool {
    if let Some(inner) = s.strip_prefix('[') {
        return inner
            .strip_suffix(']')
            .is_some_and(|v6| !v6.is_empty() && v6.parse::<std::net::Ipv6Addr>().is_ok());
    }
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Whether every `%` in `s` starts a `%HH` escape and every other byte passes `allowed`.
pub fn is_escaped_with(s: &str, allowed: impl Fn(u8) -> bool) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else if allowed(bytes[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Resolves `%HH` escapes into octets (the result may hold NUL, RFC 4475 `escnull`).
pub fn unescape(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) if bytes[i] == b'%' => {
                out.push(b);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// `unreserved` (§25.1): alphanumerics and the marks `-_.!~*'()`.
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// Parses decimal digits into a `u64`, saturating; `None` unless `s` is 1 or more digits.
pub fn digits_saturating(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_outside_quotes_and_angle_brackets() {
        let v = split_list(r#""a, b" <sip:x@y;p=1,2>;q=1 , <sip:z@w>"#).expect("valid");
        assert_eq!(v, [r#""a, b" <sip:x@y;p=1,2>;q=1"#, "<sip:z@w>"]);
        assert_eq!(split_list("a,,b"), None);
        assert_eq!(split_list(r#""open, b"#), None);
        assert_eq!(split_list("<sip:a@b, c"), None);
    }

    #[test]
    fn quoted_strings_with_pairs() {
        assert_eq!(quoted_len(r#""J Rosenberg \\\"" <sip:x>"#), Some(18));
        assert_eq!(unquote(r#""a\"b\\""#), r#"a"b\"#);
        assert_eq!(quoted_len("\"abc"), None);
        assert_eq!(quote("a\"b\r\n"), r#""a\"b""#);
        assert!(is_quoted_string(&quote("x\\y")));
    }

    #[test]
    fn hosts_and_escapes() {
        assert!(is_host("example.com") && is_host("192.0.2.1") && is_host("[2001:db8::1]"));
        assert!(!is_host("exa mple") && !is_host("[zz]") && !is_host("") && !is_host("-a.b"));
        assert!(is_escaped_with("cal%6Cer", is_unreserved));
        assert!(!is_escaped_with("a%6", is_unreserved) && !is_escaped_with("%ZK", is_unreserved));
        assert_eq!(unescape("null-%00-null"), b"null-\0-null");
        assert_eq!(digits_saturating("36893488147419103232"), Some(u64::MAX));
        assert_eq!(digits_saturating("-1"), None);
    }
}
