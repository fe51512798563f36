//! The seed's rules for what an admin may type, each returning the offending field.
//! Shared by the API, the CLI and the import: nothing reaches the database unchecked.

use std::collections::BTreeMap;

use super::secret::Secret;
use super::{Result, StoreError};
use crate::rules::LANGUAGES;

const MAX_NAME: usize = 128;
const MAX_SECRET: usize = 256;

/// Anmeldename: lowercase letters, digits, `.`, `-`, `_`; starts with a letter or digit.
pub fn username(field: &str, value: &str) -> Result<()> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && value.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            "must be 1 to 64 lowercase letters, digits, '.', '-' or '_', starting with a letter or digit",
        ))
    }
}

/// A name people read (display name, label, workplace name shown on phones): not empty, no
/// control characters (a CR/LF or NUL would break a phone's config file).
pub fn display_text(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    if value.trim() == "-" {
        // In an import file a lone '-' clears a field; as a value it could not come back.
        return Err(StoreError::invalid(field, "must be more than '-'"));
    }
    if value.chars().count() > MAX_NAME {
        return Err(StoreError::invalid(
            field,
            format!("must be at most {MAX_NAME} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(StoreError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Optional free text (company, header id): like [`display_text`] but may be empty.
pub fn optional_text(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        Ok(())
    } else {
        display_text(field, value)
    }
}

/// Durchwahl: digits only, 1 to 15 of them (E.164 length).
pub fn extension(field: &str, value: &str) -> Result<()> {
    if (1..=15).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::invalid(field, "must be 1 to 15 digits"))
    }
}

/// A number to dial outside: an optional leading `+`, then 2 to 20 digits.
pub fn phone_number(field: &str, value: &str) -> Result<()> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if (2..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            "must be a phone number: optional '+', then 2 to 20 digits",
        ))
    }
}

/// Passwort: at least 8 characters.
pub fn password(field: &str, value: &Secret) -> Result<()> {
    let len = value.expose().chars().count();
    if len < 8 {
        return Err(StoreError::invalid(field, "must be at least 8 characters"));
    }
    if value.expose().len() > MAX_SECRET {
        return Err(StoreError::invalid(
            field,
            format!("must be at most {MAX_SECRET} bytes"),
        ));
    }
    Ok(())
}

/// PIN: at least 4 digits, digits only (it is typed on a phone's keypad).
pub fn pin(field: &str, value: &Secret) -> Result<()> {
    let v = value.expose();
    if (4..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::invalid(field, "must be 4 to 32 digits"))
    }
}

/// An address alone (no display name, no `[1.2.3.4]` domain, a dotted domain): it goes into
/// mail headers later, where a display name could smuggle in a CR/LF.
/// The outgoing fax id [ausgehende Faxkennung]: a number as a fax prints it (T.30 allows 20
/// characters of digits, `+` and space).
pub fn fax_id(field: &str, value: &str) -> Result<()> {
    let ok = (1..=20).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'+' || b == b' ');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            "must be at most 20 digits, '+' or spaces",
        ))
    }
}

pub fn email(field: &str, value: &str) -> Result<()> {
    if crate::rules::is_email(value) {
        Ok(())
    } else {
        Err(StoreError::invalid(field, "is not a valid email address"))
    }
}

/// Bevorzugte Sprache: one of the languages zentrale has prompts for.
pub fn language(field: &str, value: &str) -> Result<()> {
    if LANGUAGES.contains(&value) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            format!("must be one of: {}", LANGUAGES.join(", ")),
        ))
    }
}

/// A MAC in any common notation (`00:15:65:AA:BB:CC`, `0015.65aa.bbcc`, `001565-aabbcc`, ...),
/// returned as 12 lowercase hex digits.
pub fn mac(field: &str, value: &str) -> Result<String> {
    let hex: String = value
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(StoreError::invalid(
            field,
            "must be a MAC address: 12 hex digits, optionally separated by ':', '-' or '.'",
        ))
    }
}

/// A name of a prompt file (announcement); same rule as a model name.
pub fn prompt(field: &str, value: &str) -> Result<()> {
    model(field, value)
}

/// Model names go into file names on the provisioning side: keep them tame.
pub fn model(field: &str, value: &str) -> Result<()> {
    let ok = (1..=32).contains(&value.len())
        && value != "-"
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_+.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            "must be 1 to 32 letters, digits, '-', '_', '+' or '.'",
        ))
    }
}

/// Extra phonebook fields: a handful of short keys with short printable values.
pub fn extra_fields(field: &str, extra: &BTreeMap<String, String>) -> Result<()> {
    if extra.len() > 20 {
        return Err(StoreError::invalid(field, "at most 20 extra fields"));
    }
    for (k, v) in extra {
        let key_ok = (1..=32).contains(&k.len())
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            return Err(StoreError::invalid(
                &format!("{field}.{k}"),
                "keys are 1 to 32 lowercase letters, digits or '_'",
            ));
        }
        optional_text(&format!("{field}.{k}"), v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<impl Sized>) -> Option<String> {
        r.err().and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn usernames_are_lowercase() {
        assert!(username("username", "anna.schmidt-2_x").is_ok());
        for bad in ["Anna", "anna schmidt", "", "ännä", ".anna", "a/b"] {
            assert_eq!(
                field_of(username("username", bad)).as_deref(),
                Some("username"),
                "{bad}"
            );
        }
        assert!(username("username", &"a".repeat(65)).is_err());
    }

    #[test]
    fn macs_in_every_notation_normalise() {
        for text in [
            "00:15:65:AA:BB:CC",
            "00-15-65-aa-bb-cc",
            "0015.65aa.bbcc",
            "001565AABBCC",
        ] {
            assert_eq!(mac("mac", text).expect(text), "001565aabbcc");
        }
        for bad in ["00:15:65:AA:BB", "00:15:65:AA:BB:CG", "", "001565aabbcc00"] {
            assert!(mac("mac", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_follow_the_seed() {
        assert!(password("password", &Secret::new("12345678")).is_ok());
        assert!(password("password", &Secret::new("1234567")).is_err());
        assert!(pin("pin", &Secret::new("1234")).is_ok());
        assert!(pin("pin", &Secret::new("123")).is_err());
        assert!(pin("pin", &Secret::new("12a4")).is_err());
    }

    #[test]
    fn display_text_rejects_control_characters() {
        assert!(display_text("display_name", "Anna \"A&B\" <Schmidt>; #1").is_ok());
        // A lone '-' clears a field in an import file, so it cannot be a value.
        for bad in ["a\r\nb", "a\0", "\t", "   ", "-", " - "] {
            assert!(display_text("display_name", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_are_bare_addresses() {
        assert!(email("email", "anna.schmidt@example.com").is_ok());
        for bad in [
            "x\r\nBcc: a@evil <u@x.de>",
            "Anna <anna@example.com>",
            "a@b",
            "a@[1.2.3.4]",
            "a @example.com",
        ] {
            assert!(email("email", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn numbers() {
        assert!(extension("extension", "100").is_ok());
        assert!(extension("extension", "+100").is_err());
        assert!(phone_number("mobile_number", "+491701234567").is_ok());
        assert!(phone_number("mobile_number", "0170 123").is_err());
    }
}
