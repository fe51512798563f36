//! Fax inboxes over real HTTP and real SMTP (aiosmtpd). Until the SIP side answers fax calls,
//! receptions are deposited from this process with the library (`zentrale::fax::FaxInbox` on
//! the daemon's data directory and database, documents made with netpbm/libtiff and written by
//! `zentrale::fax::write_document`), as the call driver will deposit them; the daemon mails
//! them, applies the keep/delete rule, and serves the API.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Daemon, config_path};
use crate::smtp::{SmtpPeer, sha256_hex, smtp_config, wait_until};
use crate::voicemail::get_bytes;
use zentrale::clock::UnixTime;
use zentrale::config::Config;
use zentrale::fax::{DocumentFormat, FaxInbox, InboxError, ReceivedFax, Reception, write_document};
use zentrale::mail::MailHandle;
use zentrale::store::Store;

const TSI: &str = "+49 30 987654";

/// A G4 TIFF of `pages` fine-resolution A4-wide pages (a gray dither, so every row codes),
/// made with `pbmmake`, `pnmtotiff` and `tiffcp`, as a fax machine's scan would be.
fn make_tiff(dir: &Path, pages: u32) -> Vec<u8> {
    let mut parts = Vec::new();
    for page in 0..pages {
        let pbm = Command::new("pbmmake")
            .args(["-gray", "1728", &(100 + page * 20).to_string()])
            .output()
            .expect("pbmmake (netpbm)");
        assert!(pbm.status.success());
        let src = dir.join(format!("p{page}.pbm"));
        std::fs::write(&src, pbm.stdout).expect("pbm");
        let tif = Command::new("pnmtotiff")
            .args(["-g4", "-xresolution", "204", "-yresolution", "196"])
            .arg(&src)
            .output()
            .expect("pnmtotiff");
        assert!(tif.status.success());
        let part = dir.join(format!("p{page}.tif"));
        std::fs::write(&part, tif.stdout).expect("tif");
        parts.push(part);
    }
    let doc = dir.join("doc.tif");
    let ok = Command::new("tiffcp")
        .args(["-c", "g4"])
        .args(&parts)
        .arg(&doc)
        .status()
        .expect("tiffcp");
    assert!(ok.success());
    std::fs::read(doc).expect("doc")
}

/// The library on the daemon's data directory, as the daemon opens it.
struct Library {
    runtime: tokio::runtime::Runtime,
    store: Store,
    inbox: FaxInbox,
    scratch: tempfile::TempDir,
}

impl Library {
    fn open(dir: &Path) -> Library {
        let config = Config::load(&config_path(dir)).expect("config");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let (store, inbox) = runtime.block_on(async {
            let store = zentrale::app::open_store(&config).await.expect("store");
            let mail = MailHandle::open(&config).expect("mail");
            let inbox = FaxInbox::open(&config.server.data_dir, store.clone(), mail)
                .await
                .expect("inbox");
            (store, inbox)
        });
        Library {
            runtime,
            store,
            inbox,
            scratch: tempfile::tempdir().expect("scratch"),
        }
    }

    /// Deposits a reception of `pages` pages (none: no document) ending with T.30 `code`/`text`;
    /// returns the id and the TIFF's bytes.
    fn deposit(
        &self,
        user: &str,
        format: DocumentFormat,
        pages: u32,
        (code, text): (i32, &str),
    ) -> Result<(i64, Vec<u8>), InboxError> {
        let user = self
            .runtime
            .block_on(self.store.user_id(user))
            .expect("user");
        let path = self.inbox.reception_path();
        let tiff = if pages > 0 {
            let bytes = make_tiff(self.scratch.path(), pages);
            std::fs::write(&path, &bytes).expect("reception");
            bytes
        } else {
            Vec::new()
        };
        let reception = Reception {
            completion_code: code,
            completion_text: text.into(),
            pages,
            remote_station_id: TSI.into(),
            bit_rate: 9_600,
            ecm: true,
            tiff: (pages > 0).then(|| path.clone()),
        };
        let doc =
            write_document(&path, format, &reception, Duration::from_secs(35)).expect("document");
        let fax = ReceivedFax {
            user,
            caller_number: "+4930987654".into(),
            format,
            received_at: UnixTime::from_secs(1_796_369_400),
            tiff: Some(path),
        };
        let id = self.runtime.block_on(self.inbox.deposit(doc, fax))?;
        Ok((id.0, tiff))
    }
}

/// A user with a password (to log in as the owner) and a virtual fax device.
pub(crate) fn fax_user(d: &Daemon, name: &str, lang: &str, email: Option<&str>, device: Value) {
    let body = json!({"username": name, "display_name": format!("{name} Schmidt"),
        "password": format!("{name}-pw-123"), "language": lang, "email": email,
        "fax_extension": device["extension"]});
    let (status, answer) = d.call("POST", "/api/v1/users", Some(body));
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = d.call("PUT", &format!("/api/v1/users/{name}/fax"), Some(device));
    assert_eq!(status, 200, "{answer}");
}

pub(crate) fn inbox(d: &Daemon, user: &str) -> Vec<Value> {
    let (status, list) = d.call("GET", &format!("/api/v1/users/{user}/fax/inbox"), None);
    assert_eq!(status, 200, "{list}");
    list.as_array().expect("list").clone()
}

fn to(rcpt: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["rcpt"][0] == rcpt
}

#[test]
fn the_fax_mail_carries_the_document_in_the_user_s_language_with_the_sender_s_tsi() {
    let smtp = SmtpPeer::start(0, &[]);
    let d = Daemon::start_with_config(&smtp_config(smtp.port, ""));
    fax_user(
        &d,
        "anna",
        "de",
        Some("anna@example.com"),
        json!({"extension": "190", "email": "fax-anna@example.com", "format": "pdf"}),
    );
    fax_user(
        &d,
        "bert",
        "en",
        Some("bert@example.com"),
        json!({"extension": "191", "format": "tiff", "keep_faxes": false}),
    );
    let lib = Library::open(d.dir.path());
    let (anna, _) = lib
        .deposit("anna", DocumentFormat::Pdf, 2, (0, "OK"))
        .expect("anna's");
    let (_, bert_tiff) = lib
        .deposit("bert", DocumentFormat::Tiff, 1, (0, "OK"))
        .expect("bert's");

    // Anna: to the fax device's address, in German, the PDF attached.
    let got = smtp.wait_for("accepted", to("fax-anna@example.com"), 1);
    assert_eq!(got[0]["subject"], format!("Neues Fax von {TSI} (2 Seiten)"));
    let body = got[0]["body"].as_str().expect("body");
    assert!(
        body.contains("Hallo anna Schmidt")
            && body.contains(&format!("Faxkennung {TSI}"))
            && body.contains("2026-12-04 07:30 UTC"),
        "{body}"
    );
    let att = &got[0]["attachments"][0];
    assert_eq!(att["content_type"], "application/pdf");
    let doc = format!("/api/v1/users/anna/fax/inbox/{anna}/document");
    let (status, pdf, kind) = get_bytes(&d, &doc);
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    assert_eq!(
        att["sha256"],
        sha256_hex(&pdf),
        "the inbox's PDF, byte for byte"
    );
    let file = lib.scratch.path().join("got.pdf");
    std::fs::write(&file, &pdf).expect("pdf");
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(&file)
        .output()
        .expect("qpdf");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // Anna keeps (the default): listed with its metadata once SMTP accepted it.
    wait_until("anna's delivery to be recorded", || {
        inbox(&d, "anna")
            .first()
            .is_some_and(|f| f["mail"] == "delivered")
    });
    let list = inbox(&d, "anna");
    assert_eq!(list.len(), 1, "{list:?}");
    let f = &list[0];
    assert_eq!(f["id"], anna);
    assert_eq!(
        (f["pages"].as_u64(), f["bit_rate"].as_u64()),
        (Some(2), Some(9_600))
    );
    assert_eq!(
        (f["ecm"].as_bool(), f["duration_ms"].as_u64()),
        (Some(true), Some(35_000))
    );
    assert_eq!(f["remote_station_id"], TSI);
    assert_eq!(
        (f["complete"].as_bool(), f["result"].as_str()),
        (Some(true), Some("OK"))
    );
    assert_eq!(
        (f["format"].as_str(), f["document"].as_bool()),
        (Some("pdf"), Some(true))
    );
    assert_eq!(f["received_at"], 1_796_369_400);

    // Bert: no device address, so the user's; in English; the TIFF as received; not kept.
    let got = smtp.wait_for("accepted", to("bert@example.com"), 1);
    assert_eq!(got[0]["subject"], format!("New fax from {TSI} (1 page)"));
    assert!(
        got[0]["body"]
            .as_str()
            .expect("body")
            .contains(&format!("station id {TSI}"))
    );
    let att = &got[0]["attachments"][0];
    assert_eq!(att["content_type"], "image/tiff");
    assert_eq!(att["sha256"], sha256_hex(&bert_tiff));
    wait_until("bert's delivered fax to go", || {
        inbox(&d, "bert").is_empty()
    });
    let bert_dir = d.dir.path().join(format!(
        "data/fax/{}",
        lib.runtime.block_on(lib.store.user_id("bert")).expect("id")
    ));
    let left: Vec<_> = std::fs::read_dir(&bert_dir)
        .expect("inbox dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_failed_or_partial_reception_is_mailed_with_its_page_count_and_cause() {
    let smtp = SmtpPeer::start(0, &[]);
    let d = Daemon::start_with_config(&smtp_config(smtp.port, ""));
    fax_user(
        &d,
        "carl",
        "en",
        Some("carl@example.com"),
        json!({"extension": "192", "format": "pdf"}),
    );
    fax_user(
        &d,
        "dora",
        "de",
        Some("dora@example.com"),
        json!({"extension": "193", "format": "pdf"}),
    );
    let lib = Library::open(d.dir.path());
    let cause = "Disconnected after permitted retries";
    let (partial, _) = lib
        .deposit("carl", DocumentFormat::Pdf, 1, (41, cause))
        .expect("partial");
    let dropped = "The call dropped prematurely";
    let (none, _) = lib
        .deposit("dora", DocumentFormat::Pdf, 0, (49, dropped))
        .expect("none");

    let got = smtp.wait_for("accepted", to("carl@example.com"), 1);
    assert_eq!(
        got[0]["subject"],
        format!("Incomplete fax from {TSI} (1 page)")
    );
    let body = got[0]["body"].as_str().expect("body");
    assert!(
        body.contains(&format!("Pages received: 1, cause: {cause}")),
        "{body}"
    );
    assert_eq!(got[0]["attachments"][0]["content_type"], "application/pdf");
    let (status, pdf, _) = get_bytes(
        &d,
        &format!("/api/v1/users/carl/fax/inbox/{partial}/document"),
    );
    assert_eq!(status, 200);
    assert_eq!(got[0]["attachments"][0]["sha256"], sha256_hex(&pdf));

    let got = smtp.wait_for("accepted", to("dora@example.com"), 1);
    assert_eq!(
        got[0]["subject"],
        format!("Fax unvollständig empfangen von {TSI} (0 Seiten)")
    );
    let body = got[0]["body"].as_str().expect("body");
    assert!(
        body.contains(&format!("Empfangene Seiten: 0, Ursache: {dropped}")),
        "{body}"
    );
    assert_eq!(got[0]["attachments"].as_array().map(Vec::len), Some(0));
    let (status, f) = d.call("GET", &format!("/api/v1/users/dora/fax/inbox/{none}"), None);
    assert_eq!(status, 200, "{f}");
    assert_eq!(
        (f["complete"].as_bool(), f["document"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(f["result"], dropped);
    let (status, _, _) = get_bytes(&d, &format!("/api/v1/users/dora/fax/inbox/{none}/document"));
    assert_eq!(status, 404, "no page arrived: no document");
}

#[test]
fn the_api_lists_downloads_and_deletes_and_only_the_owner_and_system_admin_read_a_fax() {
    let d = Daemon::start();
    fax_user(
        &d,
        "anna",
        "de",
        None,
        json!({"extension": "190", "format": "tiff"}),
    );
    for (name, role) in [
        ("tina", "telephony-admin"),
        ("adam", "admin"),
        ("paul", "phonebook-admin"),
    ] {
        let body = json!({"username": name, "display_name": name, "password": format!("{name}-pw-123"),
            "role": role});
        assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 201);
    }
    let lib = Library::open(d.dir.path());
    let (id, tiff) = lib
        .deposit("anna", DocumentFormat::Tiff, 1, (0, "OK"))
        .expect("deposit");
    let status = |who: &str, method: &str, path: &str| {
        d.anon(method, path)
            .basic_auth(who, Some(format!("{who}-pw-123")))
            .send()
            .expect("request")
            .status()
            .as_u16()
    };
    let list = "/api/v1/users/anna/fax/inbox";
    let one = format!("{list}/{id}");
    let doc = format!("{one}/document");
    assert_eq!(status("tina", "GET", list), 200);
    assert_eq!(status("tina", "GET", &one), 200);
    assert_eq!(status("adam", "GET", list), 200);
    assert_eq!(
        status("tina", "GET", &doc),
        403,
        "the telephony admin may not read it"
    );
    assert_eq!(status("adam", "GET", &doc), 403, "nor the admin");
    assert_eq!(
        status("paul", "GET", list),
        403,
        "the phonebook admin sees no one's inbox"
    );
    assert_eq!(status("paul", "DELETE", &one), 403);
    // The phonebook admin reaches no one's inbox but their own, where they may also read.
    let paul = json!({"extension": "194", "format": "pdf"});
    let (code, answer) = d.call("PUT", "/api/v1/users/paul/fax", Some(paul));
    assert_eq!(code, 200, "{answer}");
    let (own, _) = lib
        .deposit("paul", DocumentFormat::Pdf, 1, (0, "OK"))
        .expect("paul's");
    let own = format!("/api/v1/users/paul/fax/inbox/{own}/document");
    assert_eq!(status("paul", "GET", "/api/v1/users/paul/fax/inbox"), 200);
    assert_eq!(status("paul", "GET", &own), 200, "the owner may");
    assert_eq!(status("paul", "GET", &doc), 403);
    let (code, bytes, kind) = get_bytes(&d, &doc);
    assert_eq!(
        (code, kind.as_str()),
        (200, "image/tiff"),
        "the system admin may"
    );
    assert_eq!(bytes, tiff, "the TIFF as received");
    let text = serde_json::to_string(&inbox(&d, "anna")).expect("json");
    assert!(
        !text.contains("fax-") && !text.contains("/fax/"),
        "no path in the listing: {text}"
    );
    assert_eq!(d.call("GET", "/api/v1/users/nobody/fax/inbox", None).0, 404);
    assert_eq!(d.call("GET", &format!("{list}/{}", id + 1), None).0, 404);

    assert_eq!(status("tina", "DELETE", &one), 204);
    assert!(inbox(&d, "anna").is_empty());
    assert_eq!(d.call("GET", &one, None).0, 404);
    assert_eq!(d.call("DELETE", &one, None).0, 404);
    let dir = d.dir.path().join(format!(
        "data/fax/{}",
        lib.runtime.block_on(lib.store.user_id("anna")).expect("id")
    ));
    assert_eq!(
        std::fs::read_dir(&dir).expect("dir").count(),
        0,
        "the file went with the row"
    );
    // Deleting the user takes the inbox directory too.
    lib.deposit("anna", DocumentFormat::Tiff, 1, (0, "OK"))
        .expect("again");
    assert_eq!(d.call("DELETE", "/api/v1/users/anna", None).0, 204);
    wait_until("the deleted user's inbox to go", || !dir.exists());
}
