//! Rendering every vendor's files from a fixed fixture: golden files (byte-exact; regenerate
//! with `UPDATE_GOLDEN=1`), well-formedness, and hostile display names that must not change the
//! keys or elements of a file.

use std::path::PathBuf;

use super::context::{Site, Urls};
use super::manifest::{Catalog, FileKind, Format, VendorDef};
use super::render::Renderer;
use crate::config::Config;
use crate::store::provisioning::{PhonebookLine, ProvDevice};
use crate::store::{DeviceKind, ProvState, Vendor};

fn site() -> Site {
    let config = Config::parse(
        "[server]\npublic_host = \"pbx.example.com\"\n[sip]\nlisten = \"0.0.0.0:5060\"\n\
         [provisioning]\nntp_servers = [\"ntp.example.com\"]\ndns_servers = [\"192.0.2.53\"]\n",
    )
    .expect("fixture config");
    Site::new(&config, Urls::new("pbx.example.com", 80, Some(443)))
}

fn device(vendor: Vendor, name: &str) -> ProvDevice {
    ProvDevice {
        id: 7,
        kind: DeviceKind::IpPhone,
        mac: Some("001565aabbcc".into()),
        vendor: Some(vendor),
        model: Some("M1".into()),
        label: "Desk phone".into(),
        sip_username: "sipuser7".into(),
        sip_password: "SipSecret7".into(),
        prov_username: Some("provuser7".into()),
        prov_password: Some("ProvSecret7".into()),
        token: "0123456789abcdef0123456789abcdef".into(),
        prov_state: ProvState::Provisioned,
        enroll_until: None,
        user_name: Some("anna".into()),
        user_display: Some(name.into()),
        user_language: Some("de".into()),
        user_extension: Some("100".into()),
        workplace: None,
        workplace_display: None,
        guest_display: None,
        guest_language: None,
        guest_extension: None,
    }
}

fn phonebook(name: &str) -> Vec<PhonebookLine> {
    vec![
        PhonebookLine { name: name.into(), number: "100".into(), company: String::new() },
        PhonebookLine { name: "Zentrale".into(), number: "+4930123456".into(), company: "ACME & Söhne".into() },
    ]
}

/// Every file of a vendor rendered from the fixture: (file name, format, text).
fn render_all(r: &Renderer, site: &Site, def: &VendorDef, name: &str) -> Vec<(String, Format, String)> {
    let dev = device(def.vendor, name);
    let mut out = Vec::new();
    for f in &def.files {
        let text = match f.kind {
            FileKind::Device => r.render(def.vendor, &f.template, &site.device(def, &dev, Some("fw.rom"))),
            FileKind::Common => r.render(def.vendor, &f.template, &site.common(def, "M1", "de", Some("fw.rom"))),
        };
        out.push((f.template.clone(), f.format, text.expect("renders")));
        if let Some(b) = &f.bootstrap {
            let text = r.render(def.vendor, b, &site.common(def, "", "de", None)).expect("renders");
            out.push((b.clone(), f.format, text));
        }
    }
    let entries = phonebook(name);
    let text = r.render(def.vendor, &def.phonebook.template, &site.phonebook(&entries, "de")).expect("renders");
    out.push((def.phonebook.template.clone(), def.phonebook.format, text));
    out
}

fn golden_dir(vendor: Vendor) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/provisioning").join(vendor.as_str())
}

#[test]
fn every_vendor_renders_its_golden_files() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    let renderer = Renderer::new(&catalog).expect("templates compile");
    let site = site();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut compared = 0;
    for def in &catalog.vendors {
        for (name, _, text) in render_all(&renderer, &site, def, "Anna Schmidt") {
            let path = golden_dir(def.vendor).join(&name);
            if update {
                std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
                std::fs::write(&path, &text).expect("write golden");
            }
            let golden = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
            assert_eq!(text, golden, "{} differs from its golden file", path.display());
            compared += 1;
        }
    }
    assert!(compared >= 7 * 3, "only {compared} files compared");
}

#[test]
fn every_file_is_well_formed_and_device_files_carry_the_account() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    let renderer = Renderer::new(&catalog).expect("templates compile");
    let site = site();
    for def in &catalog.vendors {
        let device_file = def.files.iter().find(|f| f.kind == FileKind::Device).expect("device file");
        for (name, format, text) in render_all(&renderer, &site, def, "Anna Schmidt") {
            assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{}/{name}: one final newline", def.vendor);
            match format {
                Format::Xml => {
                    roxmltree::Document::parse(&text)
                        .unwrap_or_else(|e| panic!("{}/{name} is not XML: {e}\n{text}", def.vendor));
                }
                Format::Keyvalue => assert_unique_keys(def.vendor, &name, &text),
            }
            let secret = ["SipSecret7", "ProvSecret7", "0123456789abcdef"];
            if name == device_file.template {
                for s in ["sipuser7", "SipSecret7", "provuser7", "ProvSecret7", "pbx.example.com", "/menu/0123456789abcdef0123456789abcdef/", "/phonebook/0123456789abcdef0123456789abcdef/"] {
                    assert!(text.contains(s), "{}/{name} lacks {s}", def.vendor);
                }
                assert!(text.contains("Anna Schmidt"), "{}/{name} lacks the display name", def.vendor);
            } else {
                for s in secret {
                    assert!(!text.contains(s), "{}/{name} is not a device file but holds {s}", def.vendor);
                }
            }
        }
    }
}

/// A key=value file: every line that sets a key sets a different one.
fn assert_unique_keys(vendor: Vendor, name: &str, text: &str) {
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with('<') || t.starts_with("--") {
            continue;
        }
        if let Some((key, _)) = t.split_once('=').or_else(|| t.split_once(':')) {
            assert!(seen.insert(key.trim().to_owned()), "{vendor}/{name}: key {key:?} twice");
        }
    }
}

const BENIGN: &str = "BenignName";

fn hostile_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "A\r\nB", "x\"y", "<tag attr='1'>", "&amp;&", "#comment", "a;b", "nul\0byte", "]]>", "'; DROP",
        "line\naccount.1.password = stolen", "</Name><Name>evil", "\u{1b}[31mred", "Ünïcödé ☎",
        "a=b", "%s%n{{ 7*7 }}", "{% raw %}", "\u{fffe}\u{ffff}", "\t\x0b\x0c",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // A deterministic stream of random strings over the dangerous alphabet.
    let alphabet: Vec<char> = "ab<>&\"';#=:\r\n\0\t]/ \\{}%äß☎".chars().collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..200 {
        let mut s = String::new();
        for _ in 0..(seed % 24 + 1) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        names.push(s);
    }
    names
}

/// Element and attribute names in document order: what a hostile value must not change.
fn xml_shape(text: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(text).expect("well-formed");
    doc.descendants()
        .filter(|n| n.is_element())
        .map(|n| {
            let attrs: Vec<&str> = n.attributes().map(|a| a.name()).collect();
            format!("{}[{}]", n.tag_name().name(), attrs.join(","))
        })
        .collect()
}

#[test]
fn hostile_display_names_render_to_the_keys_and_elements_of_a_benign_one() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    let renderer = Renderer::new(&catalog).expect("templates compile");
    let site = site();
    let mut checked = 0;
    for def in &catalog.vendors {
        let benign = render_all(&renderer, &site, def, BENIGN);
        for name in hostile_names() {
            let hostile = render_all(&renderer, &site, def, &name);
            for ((file, format, b), (_, _, h)) in benign.iter().zip(&hostile) {
                let (bl, hl): (Vec<&str>, Vec<&str>) = (b.lines().collect(), h.lines().collect());
                assert_eq!(bl.len(), hl.len(), "{}/{file}: {name:?} changed the line count", def.vendor);
                for (x, y) in bl.iter().zip(&hl) {
                    match x.split_once(BENIGN) {
                        Some((pre, post)) => assert!(
                            y.starts_with(pre) && y.ends_with(post),
                            "{}/{file}: {name:?} changed the line {x:?} into {y:?}", def.vendor
                        ),
                        None => assert_eq!(x, y, "{}/{file}: {name:?}", def.vendor),
                    }
                }
                if *format == Format::Xml {
                    assert_eq!(xml_shape(b), xml_shape(h), "{}/{file}: {name:?}", def.vendor);
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 7 * 200, "only {checked} renders checked");
}

#[test]
fn every_example_user_agent_names_its_vendor() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    for def in &catalog.vendors {
        assert!(!def.example_user_agents.is_empty(), "{}: no example User-Agent", def.vendor);
        for ua in &def.example_user_agents {
            let agent = super::identify::user_agent(&catalog, Some(ua));
            assert_eq!(agent.vendor, Some(def.vendor), "{ua}");
        }
    }
}

#[test]
fn a_shared_file_name_goes_to_the_vendor_the_user_agent_or_oui_names() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    let all: Vec<&VendorDef> = catalog.vendors.iter().collect();
    for def in &all {
        let ua = def.example_user_agents.first().expect("example");
        let agent = super::identify::user_agent(&catalog, Some(ua));
        let oui = def.ouis.first().expect("an OUI");
        let mac = format!("{oui}aabbcc");
        let device = def.files.iter().find(|f| f.kind == FileKind::Device).expect("device file");
        let name = sample_name(device.pattern.as_str(), &mac);
        let id = super::identify::identify(&catalog, &name, agent.clone()).expect(&name);
        assert_eq!(id.def.vendor, def.vendor, "{name} with {ua}");
        assert_eq!(id.mac.as_deref(), Some(mac.as_str()));
        let by_oui = super::identify::identify(&catalog, &name, Default::default()).expect(&name);
        assert_eq!(by_oui.def.vendor, def.vendor, "{name} by OUI alone");
    }
}

/// A name matching a device-file pattern: the pattern with its `mac` group filled in.
fn sample_name(pattern: &str, mac: &str) -> String {
    let inner = pattern.trim_start_matches('^').trim_end_matches('$');
    let start = inner.find("(?P<mac>").expect("mac group");
    let end = start + inner[start..].find(')').expect("group end") + 1;
    let upper = inner[start..end].contains("A-F") && !inner[start..end].contains("a-f");
    let mac = if upper { mac.to_ascii_uppercase() } else { mac.to_owned() };
    let mut name = format!("{}{mac}{}", &inner[..start], &inner[end..]);
    name = name.replace("\\.", ".");
    name
}
