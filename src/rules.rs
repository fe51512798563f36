//! Rules that both the config and the store check, kept apart from both so neither depends on
//! the other: the languages zentrale has prompts and texts for, and what an email address is.

/// The languages zentrale has prompts and texts for.
pub const LANGUAGES: &[&str] = &["de", "en"];

/// A mailbox address a mail server will take: `local@domain.tld`, no display name, no
/// address literal, no whitespace or control characters, at most 254 octets (RFC 5321 §4.5.3.1.3).
pub fn is_email(value: &str) -> bool {
    use email_address::{EmailAddress, Options};
    let options = Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_required_tld();
    value.len() <= 254
        && !value.chars().any(|c| c.is_control() || c.is_whitespace())
        && EmailAddress::parse_with_options(value, options).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_plain_mailboxes() {
        assert!(is_email("anna@example.com"));
        assert!(!is_email("Anna <anna@example.com>"));
        assert!(!is_email("anna@example"));
        assert!(!is_email("anna@example.com\r\nBcc: x@y.z"));
    }
}
