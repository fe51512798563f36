//! Subjects and bodies from minijinja templates per language: shipped in `mail-templates/`
//! (compiled in), overridable in `<data_dir>/templates/mail/<lang>/`, each rendered once with
//! sample values when loaded, so a broken override is refused at start and by `zentrale check`.

use std::path::Path;

use include_dir::{Dir, include_dir};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::MailError;
use crate::config::LANGUAGES;

static SHIPPED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/mail-templates");

/// The mails there are templates for.
pub const NAMES: &[&str] = &["voicemail", "fax", "test", "failed"];

/// What the voicemail mail says.
#[derive(Debug, Clone, Serialize)]
pub struct VoicemailFacts {
    pub mailbox: String,
    pub caller_name: String,
    pub caller_number: String,
    pub time: String,
    pub duration: String,
}

/// What the fax mail says.
#[derive(Debug, Clone, Serialize)]
pub struct FaxFacts {
    pub mailbox: String,
    pub caller_number: String,
    pub station_id: String,
    pub pages: u32,
    pub time: String,
    /// False for a failed or partial reception: the mail says so, with `result`.
    pub complete: bool,
    /// The T.30 result ("OK", or the cause of a failure).
    pub result: String,
    /// Whether the document is attached (no page arrived: none).
    pub attached: bool,
}

/// A rendered subject (one line) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The checked templates of every language.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Loads the shipped templates with the overrides in `overrides/<lang>/` and renders each
    /// once with sample values.
    pub fn load(overrides: Option<&Path>) -> Result<Templates, MailError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for lang in LANGUAGES {
            for name in NAMES {
                for ext in ["subject", "txt"] {
                    let file = format!("{lang}/{name}.{ext}");
                    let source = source(&file, overrides)?;
                    env.add_template_owned(file.clone(), source).map_err(|e| {
                        MailError::Template {
                            file: file.clone(),
                            reason: e.to_string(),
                        }
                    })?;
                }
            }
        }
        let templates = Templates { env };
        templates.check()?;
        Ok(templates)
    }

    fn check(&self) -> Result<(), MailError> {
        for lang in LANGUAGES {
            self.render(lang, "voicemail", &sample_voicemail())?;
            self.render(lang, "fax", &sample_fax())?;
            self.render(
                lang,
                "test",
                &minijinja::context! { server => "pbx", time => "now" },
            )?;
            let failed = minijinja::context! {
                server => "pbx", id => 1, to => "anna@example.com", subject => "s",
                attempts => 3, error => "550 no such user",
            };
            self.render(lang, "failed", &failed)?;
        }
        Ok(())
    }

    /// Renders mail `name` in `lang` (the first language when zentrale has none of that name).
    pub fn render<C: Serialize>(
        &self,
        lang: &str,
        name: &str,
        ctx: &C,
    ) -> Result<Rendered, MailError> {
        let lang = if LANGUAGES.contains(&lang) {
            lang
        } else {
            LANGUAGES[0]
        };
        let render = |ext: &str| {
            let file = format!("{lang}/{name}.{ext}");
            let err = |e: minijinja::Error| MailError::Template {
                file: file.clone(),
                reason: e.to_string(),
            };
            self.env
                .get_template(&file)
                .map_err(err)?
                .render(ctx)
                .map_err(err)
        };
        Ok(Rendered {
            subject: one_line(&render("subject")?),
            body: render("txt")?,
        })
    }
}

/// A subject is one line: every control character (CR, LF, TAB, …) becomes a space.
pub fn one_line(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn source(file: &str, overrides: Option<&Path>) -> Result<String, MailError> {
    if let Some(root) = overrides {
        let path = root.join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                tracing::info!("mail: using the template override {}", path.display());
                return Ok(text);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(MailError::Template {
                    file: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        }
    }
    SHIPPED
        .get_file(file)
        .and_then(|f| f.contents_utf8())
        .map(str::to_owned)
        .ok_or_else(|| MailError::Template {
            file: file.into(),
            reason: "not shipped".into(),
        })
}

pub fn sample_voicemail() -> VoicemailFacts {
    VoicemailFacts {
        mailbox: "Anna Schmidt".into(),
        caller_name: "Jörg Müller".into(),
        caller_number: "+4930123456".into(),
        time: "04.12.2026 09:15".into(),
        duration: "0:42".into(),
    }
}

pub fn sample_fax() -> FaxFacts {
    FaxFacts {
        mailbox: "Anna Schmidt".into(),
        caller_number: "+4930123456".into(),
        station_id: "+49 30 123456".into(),
        pages: 3,
        time: "04.12.2026 09:15".into(),
        complete: true,
        result: "OK".into(),
        attached: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_render_in_every_language() {
        let t = Templates::load(None).expect("shipped");
        let de = t
            .render("de", "voicemail", &sample_voicemail())
            .expect("de");
        assert_eq!(de.subject, "Neue Voicemail von Jörg Müller");
        assert!(de.body.contains("(+4930123456)"), "{}", de.body);
        let en = t.render("en", "fax", &sample_fax()).expect("en");
        assert_eq!(en.subject, "New fax from +49 30 123456 (3 pages)");
        let fallback = t
            .render("fr", "voicemail", &sample_voicemail())
            .expect("fallback");
        assert_eq!(fallback, de);
    }

    #[test]
    fn a_caller_name_with_line_breaks_stays_in_one_subject_line() {
        let t = Templates::load(None).expect("shipped");
        let mut facts = sample_voicemail();
        facts.caller_name = "Eve\r\nBcc: victim@example.com\r\n".into();
        let r = t.render("en", "voicemail", &facts).expect("render");
        assert_eq!(r.subject, "New voicemail from Eve Bcc: victim@example.com");
    }

    #[test]
    fn an_override_replaces_and_a_broken_one_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("en")).expect("mkdir");
        std::fs::write(dir.path().join("en/test.subject"), "Hi from {{ server }}").expect("write");
        let t = Templates::load(Some(dir.path())).expect("override");
        let ctx = minijinja::context! { server => "pbx", time => "now" };
        assert_eq!(
            t.render("en", "test", &ctx).expect("render").subject,
            "Hi from pbx"
        );
        std::fs::write(dir.path().join("en/test.txt"), "{{ no_such_variable }}").expect("write");
        let err = Templates::load(Some(dir.path())).expect_err("undefined variable");
        assert!(err.to_string().contains("en/test.txt"), "{err}");
        std::fs::write(dir.path().join("en/test.txt"), "{% if %}").expect("write");
        assert!(Templates::load(Some(dir.path())).is_err());
    }
}
