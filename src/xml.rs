//! Escaping text for XML 1.0 element content and attribute values, for every XML zentrale
//! writes (phone configs, phonebooks, menu screens). Markup characters become entities;
//! characters XML 1.0 cannot hold at all (§2.2 `Char`: controls other than tab, LF, CR, and
//! U+FFFE/U+FFFF) never pass.

/// What becomes of control characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controls {
    /// Every control character is dropped (a config value stays on its line).
    Drop,
    /// Line feeds stay (a screen's text may have lines); other controls show as a space.
    Space,
}

pub fn escape(text: &str, controls: Controls) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{fffe}' | '\u{ffff}' => {}
            '\n' if controls == Controls::Space => out.push('\n'),
            c if c.is_control() => {
                if controls == Controls::Space {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_becomes_entities_and_non_characters_never_pass() {
        let text = "a<b>&\"c'\r\n\0\u{7}d\u{fffe}\u{ffff}e";
        assert_eq!(
            escape(text, Controls::Drop),
            "a&lt;b&gt;&amp;&quot;c&apos;de"
        );
        assert_eq!(
            escape(text, Controls::Space),
            "a&lt;b&gt;&amp;&quot;c&apos; \n  de"
        );
    }
}
