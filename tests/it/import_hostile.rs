//! Hostile import files against the real daemon: each gets its own clear error, nothing is
//! imported, and the daemon goes on answering without having grown.

use std::io::{Cursor, Read, Write};

use serde_json::{Value, json};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::harness::Daemon;
use crate::import::{import, template};

/// `base` with the parts named in `replace` swapped for new contents, plus `extra` parts.
fn rezip(base: &[u8], replace: &[(&str, Vec<u8>)], extra: usize) -> Vec<u8> {
    let mut archive = ZipArchive::new(Cursor::new(base)).expect("template zip");
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let name = entry.name().expect("name").into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read");
        if let Some((_, new)) = replace.iter().find(|(n, _)| *n == name) {
            data.clone_from(new);
        }
        out.start_file(name, options).expect("start");
        out.write_all(&data).expect("write");
    }
    for i in 0..extra {
        out.start_file(format!("customXml/item{i}.bin"), options)
            .expect("start");
        out.write_all(b"x").expect("write");
    }
    out.finish().expect("finish").into_inner()
}

fn sheet(dimension: &str, cells: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{cells}</sheetData></worksheet>"#
    )
    .into_bytes()
}

/// Peak resident memory of the daemon so far, in MiB.
fn peak_mib(d: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).expect("status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024
}

#[test]
fn hostile_files_get_their_error_and_the_daemon_stays_well() {
    let d = Daemon::start();
    let base = template(&d, "");
    let far_cell = sheet(
        "A1:XFD1048576",
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>username</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>"#,
    );
    let sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>username</t></si></sst>"#.to_vec();
    let mut bomb = sheet("A1", "").into_iter().take(60).collect::<Vec<u8>>();
    bomb.resize(130 << 20, b' ');
    let laughs = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="&lol3;" sheetId="1"/></sheets></workbook>"#.to_vec();
    // One 1,000-character shared string in 60,000 cells: 2 MB of XML, 60 MB of text.
    let long = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>username</t></si><si><t>{}</t></si></sst>"#,
        "x".repeat(1000)
    );
    let mut cells = String::from(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#);
    for r in 2..=20_001 {
        cells.push_str(&format!(
            r#"<row r="{r}"><c r="A{r}" t="s"><v>1</v></c><c r="B{r}" t="s"><v>1</v></c><c r="C{r}" t="s"><v>1</v></c></row>"#
        ));
    }
    let text_bomb = rezip(
        &base,
        &[
            ("xl/sharedStrings.xml", long.into_bytes()),
            ("xl/worksheets/sheet1.xml", sheet("A1:C20001", &cells)),
        ],
        0,
    );
    let mut compound = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    compound.resize(4096, 0);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "a far cell in a 2 KB sheet (calamine issue 693)",
            rezip(&base, &[("xl/worksheets/sheet1.xml", far_cell)], 0),
            422,
            "cell XFD1048576 is outside the 50001 rows",
        ),
        (
            "a shared-strings table declaring 4 billion strings (calamine issue 684)",
            rezip(&base, &[("xl/sharedStrings.xml", sst)], 0),
            422,
            "shared strings",
        ),
        (
            "a zip bomb: 130 MiB of sheet in 130 KB",
            rezip(&base, &[("xl/worksheets/sheet1.xml", bomb)], 0),
            422,
            "part xl/worksheets/sheet1.xml",
        ),
        (
            "entity expansion (billion laughs)",
            rezip(&base, &[("xl/workbook.xml", laughs)], 0),
            422,
            "declares a DTD",
        ),
        (
            "too many parts",
            rezip(&base, &[], 1001),
            422,
            "entries in the archive",
        ),
        (
            "one long shared string in every cell",
            text_bomb,
            422,
            "the text in its cells",
        ),
        ("an encrypted workbook", compound, 422, "password-protected"),
        (
            "a truncated file",
            base[..base.len() / 2].to_vec(),
            422,
            "damaged or truncated",
        ),
        (
            "a CSV file",
            b"username,display_name\nanna,Anna\n".to_vec(),
            422,
            "not an xlsx file",
        ),
        (
            "an upload over 32 MiB",
            vec![b'P'; 33 << 20],
            413,
            "larger than",
        ),
    ];
    assert!(base.len() > 2000, "a real template to start from");
    for (what, body, status, words) in cases {
        let (got, err) = import(&d, "", body);
        assert_eq!(got, status, "{what}: {err}");
        let message = err["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(words),
            "{what}: {message:?} lacks {words:?}"
        );
        // A fresh connection: the server closes one whose upload it refused unread.
        let health = reqwest::blocking::Client::new()
            .get(d.url("/healthz"))
            .send()
            .expect("healthz")
            .status();
        assert_eq!(health.as_u16(), 200, "{what}: the daemon stopped answering");
    }
    assert_eq!(d.call("GET", "/api/v1/users", None).1, json!([]));
    let peak = peak_mib(&d);
    assert!(peak < 200, "the daemon peaked at {peak} MiB");
    // It still imports a good file afterwards.
    let good = crate::import::fill(
        &base,
        &json!({"rows": {"Users": [["anna", "Anna", null, "none"]]}}),
    );
    let (status, report) = import(&d, "", good);
    assert_eq!(
        (status, report["applied"].clone()),
        (200, Value::Bool(true)),
        "{report}"
    );
}
