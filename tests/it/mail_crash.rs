//! The spool's promise under crashes and a full disk: `kill -9` of the daemon and of an
//! enqueuing process at random points loses no message whose enqueue returned, and a full disk
//! refuses new mail with a clear error while what was queued before is still delivered.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use rand::Rng;
use serde_json::Value;

use crate::harness::{BIN, Daemon, config_path, prepared_dir, zentrale};
use crate::smtp::{SmtpPeer, held_port, sha256_hex, smtp_config, wait_until};

/// `zentrale mail test --count n` in the background; the ids it printed land in `acked`.
fn enqueuer(
    dir: &std::path::Path,
    file: &str,
    n: usize,
    acked: &Arc<Mutex<Vec<u64>>>,
) -> std::process::Child {
    let mut child = Command::new(BIN)
        .args([
            "mail",
            "test",
            "--to",
            "anna@example.com",
            "--attach",
            file,
            "--count",
            &n.to_string(),
            "--config",
        ])
        .arg(config_path(dir))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("enqueuer");
    let out = child.stdout.take().expect("stdout");
    let sink = Arc::clone(acked);
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            sink.lock()
                .expect("acked")
                .push(line.trim().parse().expect("id"));
        }
    });
    child
}

fn accepted_ids(smtp: &SmtpPeer) -> Vec<String> {
    smtp.events()
        .iter()
        .filter(|e| e["event"] == "accepted")
        .map(|e| e["message_id"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn kill_9_while_enqueueing_and_delivering_loses_no_message() {
    const TOTAL: usize = 200;
    const KILLS: usize = 3;
    let smtp = SmtpPeer::start(0, &[]);
    // One delivery at a time: a kill can then interrupt at most one accepted-but-unrecorded one.
    let mut d = Daemon::start_with_config(&smtp_config(smtp.port, "concurrency = 1\n"));
    let file = d.dir.path().join("fax.pdf");
    std::fs::write(&file, vec![b'%'; 4096]).expect("file");
    let file = file.to_str().expect("path").to_owned();
    let acked: Arc<Mutex<Vec<u64>>> = Arc::default();
    let count = |acked: &Arc<Mutex<Vec<u64>>>| acked.lock().expect("acked").len();

    let mut rng = rand::thread_rng();
    let mut cli = enqueuer(d.dir.path(), &file, TOTAL, &acked);
    let cut = rng.gen_range(10..60);
    wait_until("the first enqueues", || count(&acked) >= cut);
    cli.kill().expect("kill -9 the enqueuer");
    cli.wait().expect("wait");
    let mut cli = enqueuer(d.dir.path(), &file, TOTAL - count(&acked), &acked);

    let mut at = 0;
    for _ in 0..KILLS {
        at += rng.gen_range(5..50);
        wait_until("deliveries before the kill", || {
            accepted_ids(&smtp).len() >= at
        });
        let dir = d.kill9();
        d = Daemon::spawn(dir, "info", &[]);
    }
    assert!(cli.wait().expect("enqueuer").success());
    let acked = acked.lock().expect("acked").clone();
    assert_eq!(acked.len(), TOTAL);

    let delivered = |id: u64| {
        let prefix = format!("<{id}.");
        move |ids: &[String]| ids.iter().any(|m| m.starts_with(&prefix))
    };
    wait_until("every acknowledged message delivered", || {
        let ids = accepted_ids(&smtp);
        acked.iter().all(|&id| delivered(id)(&ids))
    });
    let ids = accepted_ids(&smtp);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert!(
        ids.len() - unique.len() <= KILLS,
        "{} duplicates after {KILLS} kills",
        ids.len() - unique.len()
    );
    wait_until("an empty queue", || {
        let (_, q) = d.call("GET", "/api/v1/mail/queue", None);
        q["entries"].as_array().is_some_and(Vec::is_empty)
    });
}

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(path: &std::path::Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(path).expect("mount point");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .expect("mount (the tests run as root)");
        assert!(
            ok.success(),
            "mount -t tmpfs failed (the tests run as root)"
        );
        Tmpfs(path.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_refuses_new_mail_and_delivers_what_was_queued() {
    let held = held_port();
    let port = held.port;
    let dir = prepared_dir();
    let spool = dir.path().join("data/spool");
    let tmpfs = Tmpfs::mount(&spool, "2m");
    let mut text = std::fs::read_to_string(config_path(dir.path())).expect("config");
    text.push_str(&smtp_config(port, ""));
    std::fs::write(config_path(dir.path()), text).expect("config");
    let d = Daemon::spawn(dir, "info", &[]);

    let att: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let file = d.dir.path().join("vm.wav");
    std::fs::write(&file, &att).expect("att");
    let file = file.to_str().expect("path");
    let send = || {
        zentrale(
            d.dir.path(),
            &["mail", "test", "--to", "anna@example.com", "--attach", file],
        )
    };
    for _ in 0..3 {
        assert!(send().status.success());
    }
    // Fill what is left.
    let filler = spool.join("filler");
    let mut f = std::fs::File::create(&filler).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    drop(f);

    let out = send();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the spool's disk is full"),
        "{out:?}"
    );
    let (status, body) = d.call(
        "POST",
        "/api/v1/mail/test",
        Some(serde_json::json!({"to": "anna@example.com"})),
    );
    assert_eq!(status, 503, "{body}");
    let (_, q) = d.call("GET", "/api/v1/mail/queue", None);
    assert_eq!(q["entries"].as_array().map(Vec::len), Some(3), "{q}");

    std::fs::remove_file(&filler).expect("space returns");
    drop(held);
    let smtp = SmtpPeer::start(port, &[]);
    let got = smtp.wait_for("accepted", |_| true, 3);
    assert!(
        got.iter()
            .all(|e: &Value| e["attachments"][0]["sha256"] == sha256_hex(&att))
    );
    assert!(send().status.success(), "enqueue works again");
    smtp.wait_for("accepted", |_| true, 4);
    // Unmounted before the data directory goes, so the mount point can be removed with it.
    drop(tmpfs);
}
