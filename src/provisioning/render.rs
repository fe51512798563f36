//! Rendering: one minijinja environment per vendor, every `{{ }}` escaped for the file's format
//! so that no value (a display name with CR/LF, quotes, `<`, `&`, NUL…) can add a key or an
//! element. Undefined variables are errors, so a template typo fails the test-suite, not a phone.

use std::collections::HashMap;

use minijinja::{AutoEscape, Environment, Error, Output, State, UndefinedBehavior, Value};
use serde::Serialize;

use super::ProvisioningError;
use super::manifest::{Catalog, Format, VendorDef};
use crate::store::Vendor;

/// The compiled templates of every vendor.
#[derive(Debug)]
pub struct Renderer {
    envs: HashMap<Vendor, Environment<'static>>,
}

impl Renderer {
    pub fn new(catalog: &Catalog) -> Result<Renderer, ProvisioningError> {
        let envs = catalog
            .vendors
            .iter()
            .map(|def| Ok((def.vendor, environment(def)?)))
            .collect::<Result<_, ProvisioningError>>()?;
        Ok(Renderer { envs })
    }

    /// Renders template `name` of `vendor` with `ctx`.
    pub fn render(
        &self,
        vendor: Vendor,
        name: &str,
        ctx: &impl Serialize,
    ) -> Result<String, ProvisioningError> {
        let env = &self.envs[&vendor];
        let fail = |e: Error| ProvisioningError::Template {
            vendor,
            template: name.to_owned(),
            message: format!("{e:#}"),
        };
        let text = env
            .get_template(name)
            .map_err(fail)?
            .render(Value::from_serialize(ctx))
            .map_err(fail)?;
        Ok(without_blank_lines(&text))
    }
}

/// Blank lines mean nothing in any vendor's format; dropping them lets templates use includes
/// and conditionals without whitespace control, and every file ends with one newline.
fn without_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn environment(def: &VendorDef) -> Result<Environment<'static>, ProvisioningError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    let mut formats: HashMap<String, Format> = HashMap::new();
    for f in def.files.iter().chain(std::iter::once(&def.phonebook)) {
        formats.insert(f.template.clone(), f.format);
        if let Some(b) = &f.bootstrap {
            formats.insert(b.clone(), f.format);
        }
    }
    // Includes are not in the manifest: their name says it (`*.xml.inc`, `*.htm.inc`).
    env.set_auto_escape_callback(move |name| {
        let xml = [".xml", ".htm", ".xhtml"]
            .iter()
            .any(|ext| name.contains(ext));
        match formats.get(name) {
            Some(Format::Xml) => AutoEscape::Custom("xml"),
            Some(Format::Keyvalue) => AutoEscape::Custom("keyvalue"),
            None if xml => AutoEscape::Custom("xml"),
            None => AutoEscape::Custom("keyvalue"),
        }
    });
    env.set_formatter(format_value);
    for (name, source) in &def.templates {
        env.add_template_owned(name.clone(), source.clone())
            .map_err(|e| ProvisioningError::Template {
                vendor: def.vendor,
                template: name.to_owned(),
                message: format!("{e:#}"),
            })?;
    }
    Ok(env)
}

/// Writes one `{{ }}` value: `none` as nothing, strings escaped for the template's format.
fn format_value(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if value.is_none() || value.is_undefined() {
        return Ok(());
    }
    let text = match value.as_str() {
        Some(s) => s.to_owned(),
        None => value.to_string(),
    };
    let escaped = match state.auto_escape() {
        AutoEscape::Custom("xml") => escape_xml(&text),
        _ => strip_controls(&text),
    };
    out.write_str(&escaped).map_err(Error::from)
}

/// Characters XML 1.0 cannot hold at all are dropped; markup characters become entities.
pub fn escape_xml(text: &str) -> String {
    crate::xml::escape(text, crate::xml::Controls::Drop)
}

/// A line-based file ends a value at the line break: control characters never pass.
pub fn strip_controls(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping_leaves_no_markup_and_no_control_characters() {
        assert_eq!(
            escape_xml("a<b>&\"c'\r\n\0\u{7}d"),
            "a&lt;b&gt;&amp;&quot;c&apos;d"
        );
    }

    #[test]
    fn keyvalue_values_cannot_start_a_new_line() {
        assert_eq!(
            strip_controls("Anna\r\naccount.1.password = x"),
            "Annaaccount.1.password = x"
        );
        assert_eq!(strip_controls("#;\"<&"), "#;\"<&");
    }
}
