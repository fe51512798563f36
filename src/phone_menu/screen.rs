//! What the menu shows, independent of the phone: a list of links, a text, or one input field.
//! [`super::dialect`] prints these in each vendor's XML browser language.

/// One screen of the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// A list of choices, each opening a URL.
    Menu { title: String, items: Vec<Item> },
    /// A message, with a way back to the main menu.
    Text {
        title: String,
        text: String,
        back: String,
    },
    /// One input field; the phone opens `action` with the typed value as parameter `field.name`.
    Input {
        title: String,
        prompt: String,
        action: String,
        field: Field,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub label: String,
    pub url: String,
}

/// An input field: digits only; a PIN is masked while typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub pin: bool,
}

/// Escapes text for XML element content and attribute values.
pub fn escape(text: &str) -> String {
    crate::xml::escape(text, crate::xml::Controls::Space)
}

/// `text` cut to at most `max` characters (not bytes: umlauts count once), escaped.
pub fn fit(text: &str, max: usize) -> String {
    let cut: String = if text.chars().count() > max {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    } else {
        text.to_owned()
    };
    escape(&cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(escape("a<b>&\"c'\u{7}"), "a&lt;b&gt;&amp;&quot;c&apos; ");
    }

    #[test]
    fn fits_by_characters_not_bytes() {
        assert_eq!(fit("Müller", 6), "Müller");
        assert_eq!(fit("Müller-Lüdenscheidt", 6), "Mülle…");
        assert_eq!(fit("A&B", 2), "A…");
    }
}
