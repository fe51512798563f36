//! The import in-process: the guard and the reader on files written by rust_xlsxwriter and
//! crafted by hand, and the run against a real store in a temporary directory, with workbooks
//! given cell by cell (the file side is tested with openpyxl in tests/it/import.rs).

use std::io::{Cursor, Read, Write};

use super::read::{Cell, Row, Sheet, Value};
use super::*;
use crate::store::{NewUser, Role, Store};

async fn store() -> (tempfile::TempDir, Store) {
    crate::store::temp_store().await
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// A sheet from rows of optional cells (None: an empty cell); the first row is the header.
fn sheet(name: &str, rows: &[&[Option<Value>]]) -> Sheet {
    Sheet {
        name: name.into(),
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, cells)| Row {
                number: i as u32 + 1,
                cells: cells
                    .iter()
                    .enumerate()
                    .filter_map(|(c, v)| {
                        Some(Cell {
                            column: c as u32,
                            value: v.clone()?,
                        })
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn t(s: &str) -> Option<Value> {
    Some(text(s))
}

async fn import(store: &Store, sheets: Vec<Sheet>, options: &Options) -> Report {
    run(store, &Workbook { sheets }, options, &mut |_, _, _| {})
        .await
        .expect("run")
}

fn cells(report: &Report) -> Vec<(String, Option<String>)> {
    report
        .problems
        .iter()
        .map(|p| (p.sheet.clone(), p.cell.clone()))
        .collect()
}

#[test]
fn the_guard_refuses_what_is_no_xlsx() {
    let limits = Limits::default();
    let mut compound = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    compound.resize(1024, 0);
    assert_eq!(guard::check(&compound, &limits), Err(FileError::Compound));
    assert_eq!(
        guard::check(b"a,b\n1,2\n", &limits),
        Err(FileError::NotXlsx)
    );
    assert!(matches!(
        guard::check(b"PK\x03\x04 and then nothing", &limits),
        Err(FileError::Damaged(_))
    ));
    let template = write_template().expect("template");
    assert_eq!(guard::check(&template, &limits), Ok(()));
    let small = Limits {
        total_bytes: 1000,
        ..limits
    };
    assert!(matches!(
        guard::check(&template, &small),
        Err(FileError::TooLarge { what, .. }) if what == "the unpacked file"
    ));
}

/// The sizes checked are what an entry really unpacks to, whatever its header says.
#[test]
fn an_entry_is_counted_as_it_unpacks() {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("xl/media/blob.bin", options).expect("start");
    zip.write_all(&vec![0u8; 4096]).expect("write");
    let bytes = zip.finish().expect("finish").into_inner();
    let limits = Limits {
        entry_bytes: 4095,
        ..Limits::default()
    };
    assert!(matches!(
        guard::check(&bytes, &limits),
        Err(FileError::TooLarge { what, .. }) if what == "part xl/media/blob.bin"
    ));
    let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).expect("zip");
    let mut all = Vec::new();
    archive
        .by_index(0)
        .expect("entry")
        .read_to_end(&mut all)
        .expect("read");
    assert_eq!(all.len(), 4096);
}

#[test]
fn cells_keep_their_kind_and_formulas_are_not_evaluated() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Users").expect("name");
    sheet.write_string(0, 0, "username").expect("w");
    sheet.write_number(1, 0, 100.0).expect("w");
    sheet.write_boolean(1, 1, true).expect("w");
    sheet
        .write_formula(
            1,
            2,
            rust_xlsxwriter::Formula::new("=A2*2").set_result("200"),
        )
        .expect("w");
    sheet.write_string(1, 3, "x".repeat(2000)).expect("w");
    sheet.write_string(4, 5, " spaced ").expect("w");
    let bytes = book.save_to_buffer().expect("save");
    let workbook = read_workbook(&bytes, &Limits::default()).expect("read");
    let rows = &workbook.sheets[0].rows;
    let values: Vec<&Value> = rows[1].cells.iter().map(|c| &c.value).collect();
    assert_eq!(
        values,
        [
            &Value::Number(100.0),
            &Value::Bool(true),
            &Value::Formula("A2*2".into()),
            &Value::TooLong(2000)
        ]
    );
    assert_eq!((rows[2].number, rows[2].cells[0].column), (5, 5));
    let narrow = Limits {
        columns: 5,
        ..Limits::default()
    };
    assert!(matches!(
        read_workbook(&bytes, &narrow),
        Err(FileError::Beyond { cell, .. }) if cell == "F5"
    ));
}

#[tokio::test]
async fn empty_cells_and_absent_columns_keep_and_a_dash_clears() {
    let (_dir, store) = store().await;
    let users = |rows: &[&[Option<Value>]]| vec![sheet("Users", rows)];
    let header = [
        t("username"),
        t("display_name"),
        t("auth"),
        t("email"),
        t("voicemail"),
    ];
    let first = [
        t("anna"),
        t("Anna"),
        t("none"),
        t("anna@example.com"),
        t("all"),
    ];
    let report = import(&store, users(&[&header, &first]), &Options::default()).await;
    assert!(report.applied && report.problems.is_empty(), "{report:?}");

    // No email column, empty auth and voicemail cells: all stay. Only the name changes.
    let header = [
        t("username"),
        t("display_name"),
        t("auth"),
        None,
        t("voicemail"),
    ];
    let second = [t("anna"), t("Anna S."), None, None, None];
    let report = import(&store, users(&[&header, &second]), &Options::default()).await;
    assert_eq!(report.changes[0].fields, ["display_name"], "{report:?}");
    let anna = store.user("anna").await.expect("anna");
    assert_eq!(
        (
            anna.email.as_deref(),
            anna.voicemail.as_str(),
            anna.auth.as_str()
        ),
        (Some("anna@example.com"), "all", "none")
    );

    // A dash clears the email and sets voicemail to its default, none.
    let header = [t("username"), t("email"), t("voicemail")];
    let third = [t("anna"), t("-"), t("-")];
    let report = import(&store, users(&[&header, &third]), &Options::default()).await;
    assert_eq!(
        report.changes[0].fields,
        ["email", "voicemail"],
        "{report:?}"
    );
    let anna = store.user("anna").await.expect("anna");
    assert_eq!((anna.email, anna.voicemail.as_str()), (None, "none"));
    assert!(store.actions("anna").await.expect("actions").is_empty());
}

#[tokio::test]
async fn a_refused_step_is_located_at_its_row_and_a_clash_at_its_cell() {
    let (_dir, store) = store().await;
    let new = NewUser {
        username: "anna".into(),
        display_name: "Anna".into(),
        extension: Some("801".into()),
        auth: Some(crate::store::Auth::None),
        ..NewUser::default()
    };
    store.create_user(new).await.expect("anna");
    let templates = sheet(
        "ActionTemplates",
        &[
            &[
                t("template"),
                t("scope"),
                t("timing"),
                t("kind"),
                t("target"),
            ],
            &[t("std"), t("external"), t("after"), t("voicemail"), None],
            &[
                t("std"),
                t("internal"),
                t("after"),
                t("forward-user"),
                t("nobody"),
            ],
        ],
    );
    let dials = sheet(
        "Kurzwahlen",
        &[
            &[t("Kurzwahl"), t("Name"), t("Rufnummer")],
            &[t("801"), t("Heizung"), t("+4930123")],
        ],
    );
    let report = import(&store, vec![templates, dials], &Options::default()).await;
    assert_eq!(
        cells(&report),
        [
            ("ActionTemplates".to_owned(), Some("E3".to_owned())),
            ("Kurzwahlen".to_owned(), Some("A2".to_owned())),
        ],
        "{report:?}"
    );
    assert!(!report.applied);
    assert!(
        store
            .action_templates()
            .await
            .expect("templates")
            .is_empty()
    );
}

#[tokio::test]
async fn a_prune_needs_confirmation_and_respects_rank() {
    let (_dir, store) = store().await;
    for (name, role) in [
        ("anna", None),
        ("bernd", None),
        ("boss", Some(Role::SystemAdmin)),
    ] {
        let new = NewUser {
            username: name.into(),
            display_name: name.into(),
            auth: Some(crate::store::Auth::None),
            role,
            ..NewUser::default()
        };
        store.create_user(new).await.expect("user");
    }
    let only_anna = || {
        vec![sheet(
            "Users",
            &[
                &[t("username"), t("display_name"), t("auth")],
                &[t("anna"), t("anna"), t("none")],
            ],
        )]
    };
    let prune = Options {
        prune: true,
        ..Options::default()
    };
    let report = import(&store, only_anna(), &prune).await;
    assert!(report.needs_confirmation && !report.applied, "{report:?}");
    assert_eq!(report.total(|s| s.delete), 2);
    assert_eq!(
        store.users().await.expect("users").len(),
        3,
        "nothing deleted"
    );

    let admin = Options {
        confirmed: true,
        actor: Some(Actor {
            role: Role::Admin,
            username: None,
        }),
        ..prune
    };
    let report = import(&store, only_anna(), &admin).await;
    assert!(!report.applied, "boss outranks an admin: {report:?}");
    assert!(report.problems[0].message.contains("boss"), "{report:?}");

    let machine = Options {
        actor: None,
        ..admin
    };
    let report = import(&store, only_anna(), &machine).await;
    assert!(report.applied, "{report:?}");
    let left: Vec<String> = store
        .users()
        .await
        .expect("users")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(left, ["anna"]);
}

fn user_sheet(header: &[Option<Value>], rows: &[&[Option<Value>]]) -> Vec<Sheet> {
    let mut all: Vec<&[Option<Value>]> = vec![header];
    all.extend_from_slice(rows);
    vec![sheet("Users", &all)]
}

/// Regression (review): the password of a user without local auth was "set" on every import
/// (and their tokens revoked), so a repeated import was never unchanged.
#[tokio::test]
async fn a_user_without_local_auth_imports_unchanged_again() {
    let (_dir, store) = store().await;
    let header = [t("username"), t("display_name"), t("auth"), t("password")];
    let row = [t("bob"), t("Bob"), t("ldap"), t("bobs-password-1")];
    let first = import(&store, user_sheet(&header, &[&row]), &Options::default()).await;
    assert!(first.applied, "{first:?}");
    let second = import(&store, user_sheet(&header, &[&row]), &Options::default()).await;
    assert!(second.changes.is_empty(), "{second:?}");
    assert_eq!(second.sheets[0].unchanged, 1);
    assert!(!store.user("bob").await.expect("bob").has_password);
}

/// Regression (review): a row naming only an existing template emptied it.
#[tokio::test]
async fn a_row_naming_an_existing_template_keeps_it_and_a_dash_empties_it() {
    let (_dir, store) = store().await;
    let step = crate::store::NewAction {
        scope: crate::store::Scope::External,
        timing: crate::store::Timing::After,
        kind: crate::store::ActionKind::Voicemail,
        target: None,
    };
    store
        .put_action_template("std", std::slice::from_ref(&step))
        .await
        .expect("template");
    let header = [t("template"), t("scope"), t("timing"), t("kind")];
    let only_name = vec![sheet("ActionTemplates", &[&header, &[t("std")]])];
    let report = import(&store, only_name, &Options::default()).await;
    assert!(report.applied && report.changes.is_empty(), "{report:?}");
    let actions = store.action_template("std").await.expect("std").actions;
    assert_eq!(actions, [step]);
    let dash = vec![sheet(
        "ActionTemplates",
        &[&header, &[t("std"), None, None, t("-")]],
    )];
    let report = import(&store, dash, &Options::default()).await;
    assert_eq!(report.changes[0].fields, ["actions"], "{report:?}");
    assert!(
        store
            .action_template("std")
            .await
            .expect("std")
            .actions
            .is_empty()
    );
}

/// Regression (review): naming the workplace of a user's phone, with the user cell empty,
/// was refused as "a user or a workplace, not both".
#[tokio::test]
async fn naming_a_workplace_moves_a_phone_off_its_user() {
    let (_dir, store) = store().await;
    let anna = NewUser {
        username: "anna".into(),
        display_name: "Anna".into(),
        auth: Some(crate::store::Auth::None),
        ..NewUser::default()
    };
    store.create_user(anna).await.expect("anna");
    let empfang = crate::store::NewWorkplace {
        name: "empfang".into(),
        ..Default::default()
    };
    store.create_workplace(empfang).await.expect("workplace");
    let phone = crate::store::NewDevice {
        kind: Some(crate::store::DeviceKind::IpPhone),
        mac: Some("001565aabbcc".into()),
        user: Some("anna".into()),
        ..Default::default()
    };
    let id = store.create_device(phone).await.expect("phone").id;
    let phones = vec![sheet(
        "Phones",
        &[
            &[t("mac"), t("user"), t("workplace")],
            &[t("00:15:65:AA:BB:CC"), None, t("empfang")],
        ],
    )];
    let report = import(&store, phones, &Options::default()).await;
    assert!(report.applied, "{report:?}");
    assert_eq!(report.changes[0].fields, ["user", "workplace"]);
    let device = store.device(id).await.expect("device");
    assert_eq!(
        (device.user, device.workplace.as_deref()),
        (None, Some("empfang"))
    );
}

/// Regression (review): with reset_secrets the stored password was compared first, so a
/// dry run told any admin whether a guessed password of a user above them was right.
#[tokio::test]
async fn reset_secrets_answers_a_right_and_a_wrong_guess_alike() {
    let (_dir, store) = store().await;
    let boss = NewUser {
        username: "boss".into(),
        display_name: "Boss".into(),
        password: Some(crate::store::secret::Secret::new("boss-password-1")),
        role: Some(Role::SystemAdmin),
        ..NewUser::default()
    };
    store.create_user(boss).await.expect("boss");
    let options = Options {
        dry_run: true,
        reset_secrets: true,
        actor: Some(Actor {
            role: Role::Admin,
            username: None,
        }),
        ..Options::default()
    };
    let header = [t("username"), t("password")];
    let mut answers = Vec::new();
    for guess in ["boss-password-1", "wrong-guess-22"] {
        let row = [t("boss"), t(guess)];
        let report = import(&store, user_sheet(&header, &[&row]), &options).await;
        answers.push(serde_json::to_string(&report).expect("json"));
    }
    assert_eq!(answers[0], answers[1]);
}

/// Regression (review): the shared-strings check only looked in `xl/`, where calamine follows
/// the package's relationships to wherever the workbook is.
#[test]
fn shared_strings_are_checked_wherever_they_are() {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("y/sharedStrings.xml", options)
        .expect("start");
    zip.write_all(br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="4000000000"/>"#)
        .expect("write");
    let bytes = zip.finish().expect("finish").into_inner();
    assert!(matches!(
        guard::check(&bytes, &Limits::default()),
        Err(FileError::TooLarge { what, .. }) if what == "shared strings"
    ));
}
