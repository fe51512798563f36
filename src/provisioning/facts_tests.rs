//! Every key the shipped templates set is in the vendor's `facts.toml` (key, meaning, our value,
//! source); the README's facts tables are generated from those files; and each vendor's device
//! file carries the account, the provisioning credentials, the menu URL and the phonebook URL
//! under the keys its facts name. One data set for the table and the test, so they cannot drift.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use serde::Deserialize;

use super::check::render_samples;
use super::context::{Site, Urls};
use super::manifest::{Catalog, FACTS_FILE, FileKind, Format};
use super::render::Renderer;
use crate::config::Config;
use crate::store::Vendor;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Facts {
    /// Text above the vendor's table (models, formats, what is missing and why).
    note: String,
    fact: Vec<Fact>,
    #[serde(default)]
    lacks: Vec<Lack>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fact {
    key: String,
    meaning: String,
    value: String,
    /// The device values this key carries (roles from [`roles`], comma-separated).
    #[serde(default)]
    carries: Option<String>,
    source: String,
    /// Why no source confirms the key (or its value).
    #[serde(default)]
    unverified: Option<String>,
    /// The exact value with `provisioning.timezone = "Europe/Berlin"` ("-": not set).
    #[serde(default)]
    berlin: Option<String>,
    /// The exact value for Europe/Istanbul, a zone without DST ("-": not set).
    #[serde(default)]
    istanbul: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lack {
    role: String,
    reason: String,
}

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// What every device file must carry, with the sample device's value (URLs without scheme:
/// some vendors take `host/path`).
fn roles(phonebook_file: &str) -> Vec<(&'static str, String)> {
    vec![
        ("account.user", "sipuser7".into()),
        ("account.password", "SipSecret7".into()),
        ("prov.username", "provuser7".into()),
        ("prov.password", "ProvSecret7".into()),
        ("menu_url", format!("pbx.example.com/menu/{TOKEN}/")),
        (
            "phonebook_url",
            format!("pbx.example.com/phonebook/{TOKEN}/{phonebook_file}"),
        ),
    ]
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn facts(vendor: Vendor) -> Facts {
    let path = root()
        .join("provisioning-templates")
        .join(vendor.as_str())
        .join(FACTS_FILE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn site(timezone: &str) -> Site {
    let config = Config::parse(&format!(
        "[server]\npublic_host = \"pbx.example.com\"\n[sip]\nlisten = \"0.0.0.0:5060\"\n\
         [provisioning]\nntp_servers = [\"ntp.example.com\", \"ntp2.example.com\"]\n\
         dns_servers = [\"192.0.2.53\", \"192.0.2.54\"]\ntimezone = \"{timezone}\"\n"
    ))
    .expect("fixture config");
    Site::new(&config, Urls::new("pbx.example.com", 80, Some(443)))
}

/// Every rendered config file (not phonebooks) per vendor: (template, format, is device, text).
fn rendered(timezone: &str) -> HashMap<Vendor, Vec<(String, Format, bool, String)>> {
    let catalog = Catalog::load(None).expect("shipped catalog");
    let renderer = Renderer::new(&catalog).expect("templates compile");
    let mut out: HashMap<Vendor, Vec<_>> = HashMap::new();
    for (vendor, name, text) in
        render_samples(&catalog, &renderer, &site(timezone), "Anna Schmidt").expect("renders")
    {
        let def = catalog.get(vendor);
        let base = name.trim_end_matches(".tftp");
        let Some(file) = def
            .files
            .iter()
            .find(|f| f.template == base || f.bootstrap.as_deref() == Some(base))
        else {
            continue; // the phonebook
        };
        let device = file.kind == FileKind::Device && file.template == name;
        out.entry(vendor)
            .or_default()
            .push((name, file.format, device, text));
    }
    out
}

/// (key, value) pairs a file sets. Key=value lines split at the first `=` or `:`. In XML: an
/// element with `name` and `value` attributes (Gigaset), attributes with a dot in the name
/// (Poly), a leaf element's text under its tag (Cisco, Grandstream, snom, Fanvil), and the
/// attributes of an empty leaf element.
fn settings(format: Format, text: &str) -> Vec<(String, String)> {
    match format {
        Format::Keyvalue => text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let i = l.find(['=', ':'])?;
                Some((l[..i].trim().to_owned(), l[i + 1..].trim().to_owned()))
            })
            .collect(),
        Format::Xml => {
            let options = roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            };
            let doc = roxmltree::Document::parse_with_options(text, options).expect("XML");
            let mut out = Vec::new();
            for n in doc.descendants().filter(|n| n.is_element()) {
                if let (Some(k), Some(v)) = (n.attribute("name"), n.attribute("value")) {
                    out.push((k.to_owned(), v.to_owned()));
                    continue;
                }
                let leaf = !n.children().any(|c| c.is_element());
                let body: String = n.children().filter_map(|c| c.text()).collect();
                for a in n.attributes() {
                    if a.name().contains('.') || (leaf && body.trim().is_empty()) {
                        out.push((a.name().to_owned(), a.value().to_owned()));
                    }
                }
                if leaf && !body.trim().is_empty() {
                    out.push((n.tag_name().name().to_owned(), body.trim().to_owned()));
                }
            }
            out
        }
    }
}

#[test]
fn every_key_the_templates_set_is_in_the_facts_and_every_fact_is_set() {
    let all = rendered("Europe/Berlin");
    for &vendor in Vendor::ALL {
        let facts = facts(vendor);
        let known: BTreeSet<&str> = facts.fact.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            known.len(),
            facts.fact.len(),
            "{vendor}: a key listed twice"
        );
        let mut set = BTreeSet::new();
        for (name, format, _, text) in &all[&vendor] {
            for (key, _) in settings(*format, text) {
                assert!(
                    known.contains(key.as_str()),
                    "{vendor}/{name} sets {key:?}, which {vendor}/facts.toml does not list"
                );
                set.insert(key);
            }
        }
        for f in &facts.fact {
            assert!(
                set.contains(&f.key),
                "{vendor}/facts.toml lists {:?}, which no rendered file sets",
                f.key
            );
            assert!(
                !f.source.trim().is_empty() || f.unverified.is_some(),
                "{vendor}: {} has neither a source nor a reason it is unverified",
                f.key
            );
        }
    }
}

#[test]
fn every_device_file_carries_account_credentials_menu_and_phonebook_under_the_fact_keys() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    let all = rendered("Europe/Berlin");
    for &vendor in Vendor::ALL {
        let facts = facts(vendor);
        let def = catalog.get(vendor);
        let (name, format, _, text) = all[&vendor].iter().find(|f| f.2).expect("a device file");
        let values = settings(*format, text);
        for (role, expected) in roles(&def.phonebook_file) {
            let keys: Vec<&Fact> = facts
                .fact
                .iter()
                .filter(|f| carried(f).any(|r| r == role))
                .collect();
            let lacks = facts.lacks.iter().any(|l| l.role == role);
            assert!(
                keys.is_empty() == lacks,
                "{vendor}: {role} needs either keys that carry it or a `lacks` entry, not both"
            );
            for fact in keys {
                let hit = values
                    .iter()
                    .any(|(k, v)| *k == fact.key && v.contains(&expected));
                assert!(
                    hit,
                    "{vendor}/{name}: {} does not carry {role} ({expected})",
                    fact.key
                );
            }
        }
        for f in &facts.fact {
            for role in carried(f) {
                assert!(
                    roles("").iter().any(|(r, _)| *r == role),
                    "{vendor}: {} carries unknown role {role}",
                    f.key
                );
            }
        }
    }
}

fn carried(fact: &Fact) -> impl Iterator<Item = &str> {
    fact.carries
        .iter()
        .flat_map(|c| c.split(','))
        .map(str::trim)
}

#[test]
fn berlin_gets_the_european_switch_dates_and_istanbul_none_on_every_family() {
    for (zone, pick) in [
        (
            "Europe/Berlin",
            (|f: &Fact| f.berlin.clone()) as fn(&Fact) -> Option<String>,
        ),
        ("Europe/Istanbul", |f: &Fact| f.istanbul.clone()),
    ] {
        let all = rendered(zone);
        for &vendor in Vendor::ALL {
            let facts = facts(vendor);
            let (name, format, _, text) = all[&vendor].iter().find(|f| f.2).expect("device");
            let values = settings(*format, text);
            let mut checked = 0;
            for f in &facts.fact {
                let Some(expected) = pick(f) else { continue };
                let got: Vec<&str> = values
                    .iter()
                    .filter(|(k, _)| *k == f.key)
                    .map(|(_, v)| v.as_str())
                    .collect();
                if expected == "-" {
                    assert!(got.is_empty(), "{vendor}/{name} ({zone}): {} is set", f.key);
                } else {
                    assert_eq!(
                        got,
                        [expected.as_str()],
                        "{vendor}/{name} ({zone}): {}",
                        f.key
                    );
                }
                checked += 1;
            }
            assert!(checked > 0, "{vendor}: no time zone facts for {zone}");
        }
    }
}

/// The facts tables as the README shows them.
fn readme_tables() -> String {
    let mut out = String::new();
    for &vendor in Vendor::ALL {
        let facts = facts(vendor);
        out += &format!("### {vendor}\n\n{}\n\n", facts.note.trim());
        for l in &facts.lacks {
            out += &format!("* **No {}:** {}\n", l.role, l.reason.trim());
        }
        if !facts.lacks.is_empty() {
            out.push('\n');
        }
        out += "| key | meaning | our value | source |\n|---|---|---|---|\n";
        for f in &facts.fact {
            let source = match &f.unverified {
                Some(why) if f.source.is_empty() => format!("**unverified:** {why}"),
                Some(why) => format!("{} — **unverified:** {why}", f.source),
                None => f.source.clone(),
            };
            let mut value = format!("`{}`", cell(&f.value));
            for (zone, v) in [
                ("Europe/Berlin", &f.berlin),
                ("Europe/Istanbul", &f.istanbul),
            ] {
                match v.as_deref() {
                    Some("-") => value += &format!("; {zone}: not set"),
                    Some(v) => value += &format!("; {zone}: `{}`", cell(v)),
                    None => {}
                }
            }
            out += &format!(
                "| `{}` | {} | {value} | {} |\n",
                cell(&f.key),
                cell(&f.meaning),
                cell(&source)
            );
        }
        out.push('\n');
    }
    out
}

fn cell(text: &str) -> String {
    text.trim().replace('|', "\\|").replace('\n', " ")
}

const BEGIN: &str = "<!-- facts: generated from */facts.toml; UPDATE_GOLDEN=1 rewrites -->\n";
const END: &str = "<!-- end of facts -->\n";

#[test]
fn the_readme_facts_tables_are_the_facts_files() {
    let path = root().join("provisioning-templates/README.md");
    let readme = std::fs::read_to_string(&path).expect("README");
    let start = readme.find(BEGIN).expect("README has the facts marker") + BEGIN.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README has the end marker");
    let tables = readme_tables();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = format!("{}{tables}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, text).expect("write README");
        return;
    }
    assert!(
        readme[start..end] == tables,
        "provisioning-templates/README.md's facts tables differ from the facts.toml files \
         (UPDATE_GOLDEN=1 rewrites them)"
    );
}
