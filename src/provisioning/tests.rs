//! Rendering every vendor's files from a fixed fixture: golden files (byte-exact; regenerate
//! with `UPDATE_GOLDEN=1`), well-formedness, and hostile display names that must not change the
//! keys or elements of a file.

use std::path::PathBuf;

use super::context::{Site, Urls};
use super::manifest::{Catalog, FileKind, Format, VendorDef};
use super::render::Renderer;
use crate::config::Config;
use crate::store::Vendor;

fn site() -> Site {
    let config = Config::parse(
        "[server]\npublic_host = \"pbx.example.com\"\n[sip]\nlisten = \"0.0.0.0:5060\"\n\
         [provisioning]\nntp_servers = [\"ntp.example.com\"]\ndns_servers = [\"192.0.2.53\"]\n",
    )
    .expect("fixture config");
    Site::new(&config, Urls::new("pbx.example.com", 80, Some(443)))
}

/// Every file of each vendor rendered from the samples, with its format.
fn render_all(
    catalog: &Catalog,
    r: &Renderer,
    site: &Site,
    name: &str,
) -> Vec<(Vendor, String, Format, String)> {
    super::check::render_samples(catalog, r, site, name)
        .expect("renders")
        .into_iter()
        .map(|(v, t, text)| {
            let def = catalog.get(v);
            let template = t.trim_end_matches(".tftp");
            let format = def
                .files
                .iter()
                .find(|f| f.template == template || f.bootstrap.as_deref() == Some(template))
                .map_or(def.phonebook.format, |f| f.format);
            (v, t, format, text)
        })
        .collect()
}

fn golden_dir(vendor: Vendor) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/provisioning")
        .join(vendor.as_str())
}

#[test]
fn every_vendor_renders_its_golden_files() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    let renderer = Renderer::new(&catalog).expect("templates compile");
    let site = site();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut compared = 0;
    for (vendor, name, _, text) in render_all(&catalog, &renderer, &site, "Anna Schmidt") {
        {
            let path = golden_dir(vendor).join(&name);
            if update {
                std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
                std::fs::write(&path, &text).expect("write golden");
            }
            let golden = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
            assert_eq!(
                text,
                golden,
                "{} differs from its golden file",
                path.display()
            );
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
    for (vendor, name, format, text) in render_all(&catalog, &renderer, &site, "Anna Schmidt") {
        let def = catalog.get(vendor);
        let device_file = def
            .files
            .iter()
            .find(|f| f.kind == FileKind::Device)
            .expect("device file");
        {
            assert!(
                text.ends_with('\n') && !text.ends_with("\n\n"),
                "{}/{name}: one final newline",
                def.vendor
            );
            match format {
                Format::Xml => {
                    parse_xml(&text).unwrap_or_else(|e| {
                        panic!("{}/{name} is not XML: {e}\n{text}", def.vendor)
                    });
                }
                Format::Keyvalue => assert_unique_keys(def.vendor, &name, &text),
            }
            let secret = ["SipSecret7", "ProvSecret7", "0123456789abcdef"];
            if name == device_file.template {
                // The provisioning credentials are checked under their keys by facts_tests
                // (the Gigaset Nx70 has no key for them).
                for s in [
                    "sipuser7",
                    "SipSecret7",
                    "pbx.example.com",
                    "/menu/0123456789abcdef0123456789abcdef/",
                    "/phonebook/0123456789abcdef0123456789abcdef/",
                ] {
                    assert!(text.contains(s), "{}/{name} lacks {s}", def.vendor);
                }
                assert!(
                    text.contains("Anna Schmidt"),
                    "{}/{name} lacks the display name",
                    def.vendor
                );
            } else {
                for s in secret {
                    assert!(
                        !text.contains(s),
                        "{}/{name} is not a device file but holds {s}",
                        def.vendor
                    );
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
            assert!(
                seen.insert(key.trim().to_owned()),
                "{vendor}/{name}: key {key:?} twice"
            );
        }
    }
}

const BENIGN: &str = "BenignName";

fn hostile_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "A\r\nB",
        "x\"y",
        "<tag attr='1'>",
        "&amp;&",
        "#comment",
        "a;b",
        "nul\0byte",
        "]]>",
        "'; DROP",
        "line\naccount.1.password = stolen",
        "</Name><Name>evil",
        "\u{1b}[31mred",
        "Ünïcödé ☎",
        "a=b",
        "%s%n{{ 7*7 }}",
        "{% raw %}",
        "\u{fffe}\u{ffff}",
        "\t\x0b\x0c",
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

/// Whether `hostile` is `benign` with every occurrence of the benign name replaced by
/// something (the escaped hostile name), the text around the values unchanged.
fn same_around_values(benign: &str, hostile: &str) -> bool {
    let parts: Vec<&str> = benign.split(BENIGN).collect();
    let Some(mut rest) = hostile.strip_prefix(parts[0]) else {
        return false;
    };
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(parts[parts.len() - 1])
}

fn parse_xml(text: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, options)
}

/// Element and attribute names in document order: what a hostile value must not change.
fn xml_shape(text: &str) -> Vec<String> {
    let doc = parse_xml(text).expect("well-formed");
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
    let benign = render_all(&catalog, &renderer, &site, BENIGN);
    for name in hostile_names() {
        let hostile = render_all(&catalog, &renderer, &site, &name);
        {
            for ((vendor, file, format, b), (_, _, _, h)) in benign.iter().zip(&hostile) {
                let def = catalog.get(*vendor);
                let (bl, hl): (Vec<&str>, Vec<&str>) = (b.lines().collect(), h.lines().collect());
                assert_eq!(
                    bl.len(),
                    hl.len(),
                    "{}/{file}: {name:?} changed the line count",
                    def.vendor
                );
                for (x, y) in bl.iter().zip(&hl) {
                    match x.contains(BENIGN) {
                        true => assert!(
                            same_around_values(x, y),
                            "{}/{file}: {name:?} changed the line {x:?} into {y:?}",
                            def.vendor
                        ),
                        false => assert_eq!(x, y, "{}/{file}: {name:?}", def.vendor),
                    }
                }
                if *format == Format::Xml {
                    assert_eq!(
                        xml_shape(b),
                        xml_shape(h),
                        "{}/{file}: {name:?}",
                        def.vendor
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 7 * 3 * 200, "only {checked} renders checked");
}

#[test]
fn every_example_user_agent_names_its_vendor() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    for def in &catalog.vendors {
        assert!(
            !def.example_user_agents.is_empty(),
            "{}: no example User-Agent",
            def.vendor
        );
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
        let device = def
            .files
            .iter()
            .find(|f| f.kind == FileKind::Device)
            .expect("device file");
        let name = sample_name(device.pattern.as_str(), &mac);
        let id = super::identify::identify(&catalog, &name, agent.clone()).expect(&name);
        assert_eq!(id.def.vendor, def.vendor, "{name} with {ua}");
        assert_eq!(id.mac.as_deref(), Some(mac.as_str()));
        let by_oui = super::identify::identify(&catalog, &name, Default::default()).expect(&name);
        assert_eq!(by_oui.def.vendor, def.vendor, "{name} by OUI alone");
    }
}

/// A name matching a device-file pattern: its groups filled in (`mac` with `mac`, `model`
/// with a model name), optional parts kept.
fn sample_name(pattern: &str, mac: &str) -> String {
    let mut name = pattern
        .trim_start_matches('^')
        .trim_end_matches('$')
        .to_owned();
    while let Some(start) = name.find("(?P<") {
        let group = &name[start + 4..];
        let label = &group[..group.find('>').expect("group name")];
        let end = start + closing_paren(&name[start..]) + 1;
        let upper = name[start..end].contains("A-F") && !name[start..end].contains("a-f");
        let fill = match label {
            "mac" if upper => mac.to_ascii_uppercase(),
            "mac" => mac.to_owned(),
            _ => "D785".to_owned(),
        };
        name.replace_range(start..end, &fill);
    }
    // Optional non-capturing parts like `(?:\.xml)?` are left out.
    while let Some(start) = name.find("(?:") {
        let end = start + closing_paren(&name[start..]) + 1;
        let end = if name[end..].starts_with('?') {
            end + 1
        } else {
            end
        };
        name.replace_range(start..end, "");
    }
    name.replace('\\', "")
}

/// The index of the parenthesis closing the one `text` starts with.
fn closing_paren(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced pattern {text}")
}

#[test]
fn a_gigaset_base_gets_the_nx70_file_only_when_it_is_an_nx70() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    let ask = |ua: &str| {
        let agent = super::identify::user_agent(&catalog, Some(ua));
        super::identify::identify(&catalog, "7C2F80E0D605.xml", agent)
            .map(|id| (id.def.vendor, id.file.template.clone()))
    };
    let nx70 = Some((Vendor::Gigaset, "nx70.xml".to_owned()));
    assert_eq!(
        ask("Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605"),
        nx70
    );
    assert_eq!(
        ask("Gigaset N870E IP PRO/83.V2.65.0+build.8504c90;7C2F80E0D605"),
        nx70
    );
    // An N720 (ProviderFrame format) names itself: no Nx70 file, and no other vendor's file.
    assert_eq!(
        ask("Gigaset N720 IP PRO/70.117.00.000.000;7C2F80E0D605"),
        None
    );
}

#[test]
fn yealink_common_files_with_three_digit_codes_name_their_model() {
    let catalog = Catalog::load(None).expect("shipped catalog");
    for (name, model) in [
        ("y000000000066.cfg", "T46S"),
        ("y000000000107.cfg", "T43U"),
        ("y000000000108.cfg", "T46U"),
        ("y000000000109.cfg", "T48U"),
    ] {
        let id = super::identify::identify(&catalog, name, Default::default()).expect(name);
        assert_eq!(id.def.vendor, Vendor::Yealink, "{name}");
        assert_eq!(id.file.kind, FileKind::Common, "{name}");
        assert_eq!(id.model.as_deref(), Some(model), "{name}");
    }
    assert!(
        super::identify::identify(&catalog, "y0000000000108.cfg", Default::default()).is_none()
    );
}
