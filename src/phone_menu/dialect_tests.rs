use super::*;
use crate::store::Vendor;

fn screens() -> Vec<Screen> {
    vec![
        Screen::Menu {
            title: "Menü <Empfang> & Co".into(),
            items: vec![
                Item {
                    label: "Anmelden".into(),
                    url: "http://pbx/menu/t/login?a=1&b=2".into(),
                },
                Item {
                    label: "Status".into(),
                    url: "http://pbx/menu/t/status".into(),
                },
            ],
        },
        Screen::Text {
            title: "Status".into(),
            text: "Angemeldet: Jörg \"J\" Groß".into(),
            back: "http://pbx/menu/t/".into(),
        },
        Screen::Input {
            title: "Anmelden".into(),
            prompt: "PIN".into(),
            action: "http://pbx/menu/t/login/100/submit".into(),
            field: Field {
                name: "pin",
                pin: true,
            },
        },
    ]
}

/// Every screen in every dialect is well-formed XML; the XHTML ones are XHTML.
#[test]
fn every_dialect_prints_well_formed_xml() {
    let mut checked = 0;
    for vendor in Vendor::ALL {
        for screen in screens() {
            let (body, content_type) = render(*vendor, &screen);
            let doc = roxmltree::Document::parse_with_options(
                &body,
                roxmltree::ParsingOptions {
                    allow_dtd: true,
                    ..Default::default()
                },
            )
            .unwrap_or_else(|e| panic!("{vendor} {screen:?}: {e}\n{body}"));
            if matches!(vendor, Vendor::Poly | Vendor::Gigaset) {
                assert_eq!(
                    doc.root_element().tag_name().namespace(),
                    Some("http://www.w3.org/1999/xhtml")
                );
                assert!(content_type.starts_with("application/xhtml+xml"));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, Vendor::ALL.len() * 3);
}

/// The masked numeric field each dialect declares for a PIN, as its documentation names it.
#[test]
fn pins_are_masked_numeric_fields() {
    let pin = &screens()[2];
    let has = |v: Vendor, needle: &str| {
        let (body, _) = render(v, pin);
        assert!(body.contains(needle), "{v}: {needle} missing in\n{body}");
    };
    has(
        Vendor::Yealink,
        "<InputField type=\"number\" password=\"yes\">",
    );
    has(Vendor::Yealink, "<Parameter>pin</Parameter>");
    has(Vendor::Fanvil, "<FanvilIPPhoneInputScreen");
    has(Vendor::Snom, "<InputFlags>pn</InputFlags>");
    has(
        Vendor::Snom,
        "<URL>http://pbx/menu/t/login/100/submit?pin=__Y__</URL>",
    );
    has(Vendor::Cisco, "<InputFlags>NP</InputFlags>");
    has(Vendor::Cisco, "<QueryStringParam>pin</QueryStringParam>");
    has(
        Vendor::Grandstream,
        "<input type=\"password\" name=\"pin\">",
    );
    has(Vendor::Poly, "<input type=\"password\" name=\"pin\"/>");
}

#[test]
fn long_titles_are_cut_to_what_the_phones_show() {
    let screen = Screen::Text {
        title: "x".repeat(100),
        text: "t".into(),
        back: "u".into(),
    };
    let (body, _) = render(Vendor::Cisco, &screen);
    assert!(
        body.contains(&format!("<Title>{}…</Title>", "x".repeat(31))),
        "{body}"
    );
}
