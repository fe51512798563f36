//! The menu's screens in each vendor's XML browser dialect. Element names and input types:
//!
//! * Yealink XML browser: `YealinkIPPhoneTextMenu` (`MenuItem`/`Prompt`/`URI`),
//!   `YealinkIPPhoneTextScreen`, `YealinkIPPhoneInputScreen` with `<URL>` and an `InputField
//!   type="number" password="yes"` whose `<Parameter>` the phone appends as `?name=value`.
//! * Fanvil: the same object model with a `Fanvil` prefix (`FanvilIPPhoneInputScreen` with
//!   `<URL>` and `<InputField><Parameter>`), `FanvilIPPhoneText`.
//! * Snom minibrowser: `SnomIPPhoneMenu` (`MenuItem`/`Name`/`URL`), `SnomIPPhoneText`,
//!   `SnomIPPhoneInput` whose `<InputToken>` (`__Y__`) the phone replaces in the `<URL>` with
//!   the typed value; `InputFlags` `n` (number) and `pn` (numeric password).
//! * Cisco IP phone services (also MPP): `CiscoIPPhoneMenu`, `CiscoIPPhoneText`,
//!   `CiscoIPPhoneInput` with `InputItem`/`QueryStringParam` appended as `?name=value`;
//!   `InputFlags` `N` (numeric) and `NP` (numeric, masked). Titles 32, item names 64 chars.
//! * Grandstream GXP XML application: `<Screen><Page><Contents>` with `DisplayString`s and an
//!   `input` field, `SoftKeys` with `action="UseURL" commandArgs="…"`.
//! * Poly microbrowser (and Gigaset, which has no XML browser menu): strict XHTML, links and a
//!   GET form with `<input type="password">`.

use super::screen::{Field, Item, Screen, escape, fit};
use crate::store::Vendor;

/// How many characters a title and a line may have; the smallest of the documented limits.
const TITLE: usize = 32;
const LINE: usize = 64;

/// Renders `screen` for `vendor`: the body and its content type.
pub fn render(vendor: Vendor, screen: &Screen) -> (String, &'static str) {
    let body = match vendor {
        Vendor::Yealink => yealink(screen, "Yealink"),
        Vendor::Fanvil => yealink(screen, "Fanvil"),
        Vendor::Snom => snom(screen),
        Vendor::Cisco => cisco(screen),
        Vendor::Grandstream => grandstream(screen),
        Vendor::Poly | Vendor::Gigaset => {
            return (xhtml(screen), "application/xhtml+xml; charset=utf-8");
        }
    };
    (body, "text/xml; charset=utf-8")
}

const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

fn yealink(screen: &Screen, p: &str) -> String {
    let mut x = String::from(PROLOG);
    match screen {
        Screen::Menu { title, items } => {
            x += &format!("<{p}IPPhoneTextMenu style=\"numbered\" destroyOnExit=\"yes\">\n");
            x += &format!("<Title>{}</Title>\n", fit(title, TITLE));
            for Item { label, url } in items {
                x += &format!(
                    "<MenuItem><Prompt>{}</Prompt><URI>{}</URI></MenuItem>\n",
                    fit(label, LINE),
                    escape(url)
                );
            }
            x += &format!("</{p}IPPhoneTextMenu>\n");
        }
        Screen::Text { title, text, .. } => {
            let root = if p == "Fanvil" {
                "FanvilIPPhoneText"
            } else {
                "YealinkIPPhoneTextScreen"
            };
            x += &format!(
                "<{root} destroyOnExit=\"yes\">\n<Title>{}</Title>\n",
                fit(title, TITLE)
            );
            x += &format!("<Text>{}</Text>\n</{root}>\n", escape(text));
        }
        Screen::Input {
            title,
            prompt,
            action,
            field,
        } => {
            let password = if field.pin { "yes" } else { "no" };
            x += &format!("<{p}IPPhoneInputScreen type=\"number\" destroyOnExit=\"yes\">\n");
            x += &format!(
                "<Title>{}</Title>\n<URL>{}</URL>\n",
                fit(title, TITLE),
                escape(action)
            );
            x += &format!("<InputField type=\"number\" password=\"{password}\">\n");
            x += &format!(
                "<Prompt>{}</Prompt>\n<Parameter>{}</Parameter>\n<Default></Default>\n",
                fit(prompt, LINE),
                field.name
            );
            x += &format!("</InputField>\n</{p}IPPhoneInputScreen>\n");
        }
    }
    x
}

fn snom(screen: &Screen) -> String {
    let mut x = String::from(PROLOG);
    match screen {
        Screen::Menu { title, items } => {
            x += &format!("<SnomIPPhoneMenu>\n<Title>{}</Title>\n", fit(title, TITLE));
            for Item { label, url } in items {
                x += &format!(
                    "<MenuItem><Name>{}</Name><URL>{}</URL></MenuItem>\n",
                    fit(label, LINE),
                    escape(url)
                );
            }
            x += "</SnomIPPhoneMenu>\n";
        }
        Screen::Text { title, text, .. } => {
            x += &format!(
                "<SnomIPPhoneText>\n<Title>{}</Title>\n<Text>{}</Text>\n</SnomIPPhoneText>\n",
                fit(title, TITLE),
                escape(text)
            );
        }
        Screen::Input {
            title,
            prompt,
            action,
            field,
        } => {
            let flags = if field.pin { "pn" } else { "n" };
            let url = format!("{action}{}{}=__Y__", query_sep(action), field.name);
            x += &format!(
                "<SnomIPPhoneInput>\n<Title>{}</Title>\n<Prompt>{}</Prompt>\n",
                fit(title, TITLE),
                fit(prompt, LINE)
            );
            x += &format!(
                "<URL>{}</URL>\n<InputItem>\n<DisplayName>{}</DisplayName>\n",
                escape(&url),
                fit(prompt, LINE)
            );
            x += &format!(
                "<DefaultValue></DefaultValue>\n<InputToken>__Y__</InputToken>\n<InputFlags>{flags}</InputFlags>\n"
            );
            x += "</InputItem>\n</SnomIPPhoneInput>\n";
        }
    }
    x
}

fn cisco(screen: &Screen) -> String {
    let mut x = String::from(PROLOG);
    match screen {
        Screen::Menu { title, items } => {
            x += &format!(
                "<CiscoIPPhoneMenu>\n<Title>{}</Title>\n<Prompt></Prompt>\n",
                fit(title, TITLE)
            );
            for Item { label, url } in items {
                x += &format!(
                    "<MenuItem><Name>{}</Name><URL>{}</URL></MenuItem>\n",
                    fit(label, LINE),
                    escape(url)
                );
            }
            x += "</CiscoIPPhoneMenu>\n";
        }
        Screen::Text { title, text, .. } => {
            x += &format!(
                "<CiscoIPPhoneText>\n<Title>{}</Title>\n<Prompt></Prompt>\n<Text>{}</Text>\n</CiscoIPPhoneText>\n",
                fit(title, TITLE),
                escape(text)
            );
        }
        Screen::Input {
            title,
            prompt,
            action,
            field,
        } => {
            let flags = if field.pin { "NP" } else { "N" };
            x += &format!(
                "<CiscoIPPhoneInput>\n<Title>{}</Title>\n<Prompt>{}</Prompt>\n<URL>{}</URL>\n",
                fit(title, TITLE),
                fit(prompt, TITLE),
                escape(action)
            );
            x += &format!(
                "<InputItem>\n<DisplayName>{}</DisplayName>\n<QueryStringParam>{}</QueryStringParam>\n",
                fit(prompt, TITLE),
                field.name
            );
            x += &format!(
                "<DefaultValue></DefaultValue>\n<InputFlags>{flags}</InputFlags>\n</InputItem>\n</CiscoIPPhoneInput>\n"
            );
        }
    }
    x
}

/// Grandstream shows at most a few soft keys; the menu has at most four entries.
fn grandstream(screen: &Screen) -> String {
    let line = |y: u32, text: &str| {
        format!(
            "<DisplayString><X>0</X><Y>{y}</Y><DisplayStr>{}</DisplayStr></DisplayString>\n",
            fit(text, LINE)
        )
    };
    let key = |label: &str, url: &str| {
        format!(
            "<SoftKey action=\"UseURL\" label=\"{}\" commandArgs=\"{}\"/>\n",
            fit(label, 10),
            escape(url)
        )
    };
    let (contents, keys) = match screen {
        Screen::Menu { title, items } => {
            let mut c = line(0, title);
            let mut k = String::new();
            for (i, Item { label, url }) in items.iter().enumerate() {
                c += &line(16 * (i as u32 + 1), &format!("{}: {label}", i + 1));
                k += &key(label, url);
            }
            (c, k)
        }
        Screen::Text { title, text, back } => (line(0, title) + &line(16, text), key("OK", back)),
        Screen::Input {
            title,
            prompt,
            action,
            field,
        } => {
            let kind = if field.pin { "password" } else { "number" };
            let input = format!(
                "<input type=\"{kind}\" name=\"{}\"><styles pos_x=\"0\" pos_y=\"40\"/></input>\n",
                field.name
            );
            (
                line(0, title) + &line(20, prompt) + &input,
                key("OK", action),
            )
        }
    };
    format!(
        "{PROLOG}<Screen>\n<Page>\n<Contents>\n{contents}</Contents>\n<SoftKeys>\n{keys}<SoftKey action=\"QuitApp\" label=\"Exit\"/>\n</SoftKeys>\n</Page>\n</Screen>\n"
    )
}

fn xhtml(screen: &Screen) -> String {
    let (title, body) = match screen {
        Screen::Menu { title, items } => {
            let links: String = items
                .iter()
                .map(|Item { label, url }| {
                    format!(
                        "<a href=\"{}\">{}</a><br/>\n",
                        escape(url),
                        fit(label, LINE)
                    )
                })
                .collect();
            (title, format!("<p>\n{links}</p>\n"))
        }
        Screen::Text { title, text, back } => (
            title,
            format!(
                "<p>{}</p>\n<p><a href=\"{}\">OK</a></p>\n",
                escape(text),
                escape(back)
            ),
        ),
        Screen::Input {
            title,
            prompt,
            action,
            field: Field { name, pin },
        } => {
            let kind = if *pin { "password" } else { "text" };
            let form = format!(
                "<form action=\"{}\" method=\"get\">\n<p>{}<br/>\n<input type=\"{kind}\" name=\"{name}\"/>\n<input type=\"submit\" value=\"OK\"/></p>\n</form>\n",
                escape(action),
                fit(prompt, LINE)
            );
            (title, form)
        }
    };
    format!(
        "{PROLOG}<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head><title>{}</title></head>\n<body>\n{body}</body>\n</html>\n",
        fit(title, TITLE)
    )
}

fn query_sep(url: &str) -> char {
    if url.contains('?') { '&' } else { '?' }
}

#[cfg(test)]
#[path = "dialect_tests.rs"]
mod tests;
