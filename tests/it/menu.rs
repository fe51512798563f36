//! The menu key with curl as the phone: fetch the menu, follow the input screens with the
//! parameter names their XML declares, submit, and check the workplace and the phone's next
//! config. Needs the vendor templates (the token reaches the phone only in its config).

use serde_json::{Value, json};

use crate::harness::Daemon;
use crate::phone::Phone;

/// (vendor, model, MAC, the device file the phone asks for, its User-Agent).
const PHONES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "yealink",
        "T54W",
        "001565aabb01",
        "001565aabb01.cfg",
        "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:01",
    ),
    (
        "snom",
        "D785",
        "000413aabb02",
        "snomD785-000413AABB02.htm",
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.73.16)",
    ),
    (
        "cisco",
        "CP-8841-3PCC",
        "00cafeaabb03",
        "00cafeaabb03.xml",
        "Cisco-CP-8841-3PCC/11.3.7",
    ),
    (
        "grandstream",
        "GXP2170",
        "000b82aabb04",
        "cfg000b82aabb04.xml",
        "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82aabb04",
    ),
    (
        "fanvil",
        "X4U",
        "0c383eaabb05",
        "0c383eaabb05.cfg",
        "Fanvil X4U 2.12.1 0c383eaabb05",
    ),
    (
        "poly",
        "VVX450",
        "0004f2aabb06",
        "0004f2aabb06-user.cfg",
        "PolycomVVX-VVX_450-UA/6.4.3.5018",
    ),
    (
        "gigaset",
        "N870",
        "7c2f80aabb07",
        "7C2F80AABB07.xml",
        "Gigaset N870 IP PRO/83.V2.48.0+build.a546b91;7C2F80AABB07",
    ),
];

fn parse(xml: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(xml, opts)
        .unwrap_or_else(|e| panic!("not well-formed ({e}):\n{xml}"))
}

/// The URL of the menu entry labelled `label`, however the dialect links it.
fn link(xml: &str, label: &str) -> String {
    let doc = parse(xml);
    for n in doc.descendants().filter(|n| n.is_element()) {
        if n.attribute("label") == Some(label) {
            return n
                .attribute("commandArgs")
                .expect("Grandstream soft key URL")
                .to_owned();
        }
        if n.text().map(str::trim) != Some(label) {
            continue;
        }
        if let Some(href) = n.attribute("href") {
            return href.to_owned();
        }
        let item = n.parent_element().expect("menu item");
        let url = item
            .children()
            .find(|c| matches!(c.tag_name().name(), "URI" | "URL"));
        return url
            .and_then(|u| u.text())
            .expect("item URL")
            .trim()
            .to_owned();
    }
    panic!("no entry {label:?} in\n{xml}")
}

/// The URL the phone opens after typing `value` into the input screen `xml`, built only from
/// what the XML declares.
fn submit(xml: &str, value: &str) -> String {
    let doc = parse(xml);
    let text = |name: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(|t| t.trim().to_owned())
    };
    let join = |url: &str, param: &str| {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}{param}={value}")
    };
    if let Some(token) = text("InputToken") {
        return text("URL").expect("Snom URL").replace(&token, value);
    }
    if let (Some(url), Some(param)) = (
        text("URL"),
        text("Parameter").or_else(|| text("QueryStringParam")),
    ) {
        return join(&url, &param);
    }
    if let Some(form) = doc.descendants().find(|n| n.tag_name().name() == "form") {
        let input = doc
            .descendants()
            .find(|n| n.tag_name().name() == "input" && n.attribute("type") != Some("submit"));
        return join(
            form.attribute("action").expect("action"),
            input.and_then(|i| i.attribute("name")).expect("name"),
        );
    }
    let input = doc
        .descendants()
        .find(|n| n.tag_name().name() == "input")
        .expect("an input field");
    let ok = doc
        .descendants()
        .find(|n| n.attribute("label") == Some("OK"))
        .expect("OK key");
    join(
        ok.attribute("commandArgs").expect("URL"),
        input.attribute("name").expect("name"),
    )
}

fn setup(d: &Daemon, vendor: &str, model: &str, mac: &str) -> i64 {
    let (s, w) = d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": format!("platz-{vendor}")})),
    );
    assert_eq!(s, 201, "{w}");
    let (s, dev) = d.call(
        "POST",
        "/api/v1/devices",
        Some(
            json!({"kind": "ip-phone", "mac": mac, "vendor": vendor, "model": model,
                    "workplace": format!("platz-{vendor}")}),
        ),
    );
    assert_eq!(s, 201, "{dev}");
    dev["id"].as_i64().expect("id")
}

fn anna(d: &Daemon) {
    let (s, u) = d.call(
        "POST",
        "/api/v1/users",
        Some(
            json!({"username": "anna", "display_name": "Anna Schmidt", "extension": "100",
                    "auth": "none", "pin": "4711", "language": "de"}),
        ),
    );
    assert_eq!(s, 201, "{u}");
}

/// The device's config in its enrollment window (re-opened by the admin), and the menu URL in it.
fn config(d: &Daemon, phone: &Phone, id: i64, file: &str) -> (String, String) {
    let (s, _) = d.call("POST", &format!("/api/v1/devices/{id}/enroll"), None);
    assert_eq!(s, 200);
    let got = phone.get(&d.url(&format!("/prov/{file}")));
    assert_eq!(got.status, 200, "{}", got.text());
    let text = got.text();
    let at = text.find("/menu/").expect("the config binds the menu key");
    let token: String = text[at + 6..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert!(token.len() >= 32, "token of 128 bits or more: {token}");
    (text.clone(), d.url(&format!("/menu/{token}/")))
}

#[test]
fn every_dialect_logs_in_and_out_by_extension_and_pin() {
    let d = Daemon::start();
    anna(&d);
    for (vendor, model, mac, file, agent) in PHONES {
        let id = setup(&d, vendor, model, mac);
        let phone = Phone::new(agent);
        let (before, menu) = config(&d, &phone, id, file);
        assert!(
            !before.contains("Anna Schmidt"),
            "{vendor}: nobody logged in yet"
        );

        let main = phone.get(&menu).text();
        let ext_screen = phone.get(&link(&main, "Anmelden")).text();
        let pin_screen = phone.get(&submit(&ext_screen, "100")).text();
        let answer = phone.get(&submit(&pin_screen, "4711"));
        assert_eq!(answer.status, 200, "{vendor}");
        assert!(
            answer.text().contains("Anna Schmidt"),
            "{vendor}: {}",
            answer.text()
        );
        parse(&answer.text());

        let (s, w) = d.call("GET", &format!("/api/v1/workplaces/platz-{vendor}"), None);
        assert_eq!(
            (s, w["current_user"].clone()),
            (200, json!("anna")),
            "{vendor}"
        );
        let (_, user) = d.call("GET", "/api/v1/users/anna", None);
        assert_eq!(user["phone_status"]["state"], "workplace");
        let (after, menu) = config(&d, &phone, id, file);
        assert!(
            after.contains("Anna Schmidt"),
            "{vendor}: the next config shows the user"
        );

        let main = phone.get(&menu).text();
        let out = phone.get(&link(&main, "Abmelden")).text();
        parse(&out);
        let (_, w) = d.call("GET", &format!("/api/v1/workplaces/platz-{vendor}"), None);
        assert_eq!(w["current_user"], Value::Null, "{vendor}");
    }
    assert!(!d.log().contains("4711"), "PINs never reach the log");
}

#[test]
fn three_wrong_pins_lock_the_extension_until_the_admin_clears_it() {
    let d = Daemon::start_with_config("\n[menu]\nlockout_secs = 3600\n");
    anna(&d);
    let (vendor, model, mac, file, agent) = PHONES[0];
    let id = setup(&d, vendor, model, mac);
    let phone = Phone::new(agent);
    let (_, menu) = config(&d, &phone, id, file);
    let pin_url = |pin: &str| format!("{menu}login/100/submit?pin={pin}");
    let unknown = phone
        .get(&format!("{menu}login/999/submit?pin=1111"))
        .text();
    for _ in 0..2 {
        assert_eq!(
            phone.get(&pin_url("1111")).text(),
            unknown,
            "same answer as an unknown extension"
        );
    }
    phone.get(&format!("{menu}login/100/submit?pin=2222"));
    let locked = phone.get(&pin_url("4711")).text();
    assert!(locked.contains("Zu viele Versuche"), "{locked}");
    assert!(
        d.log()
            .contains("menu: lockout 127.0.0.1 extension=100 for 3600s"),
        "{}",
        d.log()
    );
    assert_eq!(
        crate::provisioning::fail2ban_matches(&d.log()),
        1,
        "fail2ban reads the lockout"
    );

    let (s, list) = d.call("GET", "/api/v1/menu/lockouts", None);
    assert_eq!(s, 200);
    assert_eq!(list[0]["kind"], "extension");
    assert_eq!(list[0]["key"], "100");
    let (s, _) = d.call("DELETE", "/api/v1/menu/lockouts/extension/100", None);
    assert_eq!(s, 204);
    assert!(phone.get(&pin_url("4711")).text().contains("Anna Schmidt"));
    let (s, _) = d.call("DELETE", "/api/v1/menu/lockouts/extension/100", None);
    assert_eq!(s, 404);
    assert!(!d.log().contains("4711") && !d.log().contains("2222"));
}

#[test]
fn unknown_tokens_get_a_plain_not_found() {
    let d = Daemon::start();
    let got = Phone::new("Yealink SIP-T54W").get(&d.url(&format!("/menu/{}/", "ab".repeat(16))));
    assert_eq!(got.status, 404);
}

/// On her own phone a user switches her forwardings and, where the admin allows it, the FollowMe
/// of her devices; a device the admin did not make configurable cannot be switched.
#[test]
fn own_phone_switches_forwardings_and_configurable_followme() {
    let d = Daemon::start();
    let phone_id = crate::provisioning::anna_with_phone(&d);
    let phone = Phone::new(crate::provisioning::YEALINK_UA);
    let config = phone.get(&d.url("/prov/001565aabbcc.cfg")).text();
    let at = config.find("/menu/").expect("menu key");
    let token: String = config[at + 6..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let menu = d.url(&format!("/menu/{token}/"));

    let (s, fwd) = d.call(
        "POST",
        "/api/v1/users/anna/forwardings",
        Some(json!({"target": "+4930999", "active": false})),
    );
    assert_eq!(s, 201, "{fwd}");
    let fwd_id = fwd["id"].as_i64().expect("id");
    let (s, soft) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "softphone", "user": "anna"})),
    );
    assert_eq!(s, 201, "{soft}");
    let soft_id = soft["id"].as_i64().expect("id");
    let fm = |configurable: bool| {
        json!({"user_configurable": configurable,
        "internal": {"enabled": true, "wait": 0, "timeout": 20},
        "external": {"enabled": true, "wait": 0, "timeout": 20},
        "team": {"enabled": true, "wait": 0, "timeout": 20}})
    };
    let (s, _) = d.call(
        "PUT",
        &format!("/api/v1/users/anna/devices/{soft_id}"),
        Some(fm(true)),
    );
    assert_eq!(s, 200);
    let (s, _) = d.call(
        "PUT",
        &format!("/api/v1/users/anna/devices/{phone_id}"),
        Some(fm(false)),
    );
    assert_eq!(s, 200);

    let list = phone.get(&format!("{menu}forwardings")).text();
    parse(&list);
    assert!(
        list.contains(&format!("forwardings/{fwd_id}/toggle")),
        "{list}"
    );
    parse(
        &phone
            .get(&format!("{menu}forwardings/{fwd_id}/toggle"))
            .text(),
    );
    let (_, all) = d.call("GET", "/api/v1/users/anna/forwardings", None);
    assert_eq!(all[0]["active"], true, "switched on from the phone: {all}");

    let list = phone.get(&format!("{menu}followme")).text();
    parse(&list);
    assert!(
        list.contains(&format!("followme/{soft_id}/toggle")),
        "{list}"
    );
    assert!(
        !list.contains(&format!("followme/{phone_id}/toggle")),
        "not configurable: {list}"
    );
    phone.get(&format!("{menu}followme/{soft_id}/toggle"));
    phone.get(&format!("{menu}followme/{phone_id}/toggle"));
    let (_, devices) = d.call("GET", "/api/v1/users/anna/devices", None);
    let enabled = |id: i64| {
        let dev = devices
            .as_array()
            .expect("list")
            .iter()
            .find(|x| x["id"] == id)
            .expect("device")
            .clone();
        dev["followme"]["internal"]["enabled"]
            .as_bool()
            .expect("bool")
    };
    assert!(!enabled(soft_id), "switched off from the phone");
    assert!(enabled(phone_id), "the admin's FollowMe stays");
}

/// PINs typed at the phone (they travel in the menu URL's query) show up in no log line, even
/// at trace level, right or wrong.
#[test]
fn typed_pins_appear_in_no_log_line() {
    let d = Daemon::start_with_log_level("trace");
    let (s, u) = d.call(
        "POST",
        "/api/v1/users",
        Some(
            json!({"username": "anna", "display_name": "Anna Schmidt", "extension": "100",
                    "auth": "none", "pin": "73915820466"}),
        ),
    );
    assert_eq!(s, 201, "{u}");
    let id = setup(&d, "yealink", "T54W", "001565aabb01");
    let phone = Phone::new("Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:01");
    let (_, menu) = config(&d, &phone, id, "001565aabb01.cfg");
    phone.get(&format!("{menu}login/100/submit?pin=48207319955"));
    let ok = phone
        .get(&format!("{menu}login/100/submit?pin=73915820466"))
        .text();
    assert!(ok.contains("Anna Schmidt"), "{ok}");
    let log = d.log();
    assert!(
        log.lines().count() > 10,
        "trace logging produced a log to search"
    );
    for pin in ["73915820466", "48207319955"] {
        assert!(!log.contains(pin), "the log shows PIN {pin}");
    }
}
