//! Bad input, secrets, durability, shutdown: what an admin never wants to see go wrong.

use serde_json::{Value, json};

use crate::harness::{Daemon, prepared_dir, status_json};

#[test]
fn bad_bodies_get_a_clear_4xx_and_write_nothing() {
    let d = Daemon::start();
    let raw = |text: &str| {
        status_json(
            d.req("POST", "/api/v1/users")
                .header("content-type", "application/json")
                .body(text.to_owned())
                .send()
                .expect("send"),
        )
    };
    let cases: [(&str, u16, Value); 6] = [
        ("{\"username\": \"anna\"", 400, Value::Null),
        ("not json", 400, Value::Null),
        ("", 400, Value::Null),
        (
            r#"{"username":"anna","display_name":"A","auth":"none","color":"red"}"#,
            422,
            json!("color"),
        ),
        (
            r#"{"username":"anna","display_name":7,"auth":"none"}"#,
            422,
            json!("display_name"),
        ),
        (
            r#"{"username":"anna","display_name":"A","auth":"sometimes"}"#,
            422,
            json!("auth"),
        ),
    ];
    for (text, status, field) in cases {
        let (got, err) = raw(text);
        assert_eq!(got, status, "{text} -> {err}");
        assert_eq!(err["field"], field, "{text} -> {err}");
        assert!(!err["error"].as_str().unwrap_or_default().is_empty());
    }
    let (status, err) = raw(r#"{"display_name":"A","auth":"none"}"#);
    assert_eq!((status, err["field"].clone()), (422, json!("username")));
    let big = format!(
        r#"{{"username":"anna","display_name":"{}","auth":"none"}}"#,
        "A".repeat(100_000)
    );
    let (status, err) = raw(&big);
    assert_eq!(status, 413, "{err}");
    assert_eq!(
        d.call("GET", "/api/v1/users", None).1,
        json!([]),
        "nothing was written"
    );
}

#[test]
fn unknown_routes_and_methods_answer_json() {
    let d = Daemon::start();
    let (status, err) = d.call("GET", "/api/v1/nothing", None);
    assert_eq!(status, 404);
    assert!(err["error"].is_string());
    let (status, err) = d.call("PUT", "/api/v1/users", None);
    assert_eq!(status, 405);
    assert!(err["error"].is_string());
    let (status, _) = d.call("GET", "/api/v1/devices/not-a-number", None);
    assert_eq!(status, 404);
    let (status, _) = d.call("GET", "/api/v1/users/nobody", None);
    assert_eq!(status, 404);
}

/// Collects every string a GET of the API returns, to search for secrets.
fn everything(d: &Daemon) -> String {
    let mut out = String::new();
    for path in [
        "/api/v1/users",
        "/api/v1/users/anna",
        "/api/v1/users/anna/devices",
        "/api/v1/users/anna/voicemail",
        "/api/v1/users/anna/fax",
        "/api/v1/devices",
        "/api/v1/workplaces",
        "/api/v1/admins",
        "/api/v1/me",
        "/api/v1/forwardings",
        "/api/v1/openapi.json",
    ] {
        let (status, body) = d.call("GET", path, None);
        assert_eq!(status, 200, "{path}");
        out.push_str(&body.to_string());
    }
    out
}

/// Runs `sql` on the daemon's database, read-only, returning the first column as text.
fn db_strings(d: &Daemon, sql: &str) -> Vec<String> {
    let url = format!(
        "sqlite://{}?mode=ro",
        d.dir.path().join("data/zentrale.db").display()
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.expect("db");
        let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.expect("query");
        rows.into_iter().map(|r| r.0).collect()
    })
}

#[test]
fn secrets_appear_in_no_response_and_no_log_line() {
    let d = Daemon::start_with_log_level("trace");
    // PINs long enough that no timestamp, port or counter in a trace log shows them by chance
    // (a five-digit PIN matched a timestamp's microseconds).
    let body = json!({"username": "anna", "display_name": "Anna", "extension": "100", "password": "Pw-Geheim-4711",
                      "pin": "9876543210987", "fax_extension": "190", "softphone": true});
    let (status, created) = d.call("POST", "/api/v1/users", Some(body));
    assert_eq!(status, 201);
    let phone = json!({"kind": "ip-phone", "mac": "001565aabbcc", "user": "anna", "sip_password": "Sip-Geheim-0815"});
    let (_, device) = d.call("POST", "/api/v1/devices", Some(phone));
    d.call("POST", "/api/v1/workplaces", Some(json!({"name": "wp"})));
    d.call(
        "PATCH",
        "/api/v1/users/anna",
        Some(json!({"pin": "5678901234567"})),
    );
    let (_, token) = d.call("POST", "/api/v1/tokens", Some(json!({"label": "x"})));
    // The generated SIP passwords, straight from the database.
    let mut secrets = db_strings(&d, "SELECT sip_password FROM devices");
    assert_eq!(secrets.len(), 3, "fax, softphone, ip-phone");
    // And the provisioning credentials each device's config installs.
    secrets.extend(db_strings(&d, "SELECT prov_password FROM devices"));
    assert_eq!(secrets.len(), 6);
    secrets.extend(
        [
            "Pw-Geheim-4711",
            "9876543210987",
            "5678901234567",
            "root-password-1",
        ]
        .map(String::from),
    );
    // The Authorization header as a client sends it ("root:root-password-1" in base64).
    secrets.push("cm9vdDpyb290LXBhc3N3b3JkLTE".into());
    let responses = format!("{created}{device}{}", everything(&d));
    let log = d.log();
    assert!(
        log.lines().count() > 10,
        "trace logging produced a log to search"
    );
    for secret in &secrets {
        assert!(
            !responses.contains(secret.as_str()),
            "a response shows {secret}"
        );
        assert!(!log.contains(secret.as_str()), "the log shows {secret}");
    }
    // The bearer token is shown once on creation, and logged nowhere.
    assert!(!log.contains(token["token"].as_str().expect("token")));
    let stored = db_strings(&d, "SELECT password_hash || ' ' || pin_hash FROM users");
    assert!(
        stored[0].starts_with("$argon2id$"),
        "passwords and PINs are stored as argon2 hashes"
    );
    assert!(stored[0].contains(" $argon2id$"));
}

#[test]
fn data_survives_kill_9_and_restart() {
    let d = Daemon::start();
    for i in 0..20 {
        let body = json!({"username": format!("u{i}"), "display_name": "U", "auth": "none", "extension": format!("{}", 100 + i), "softphone": true});
        assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 201);
    }
    d.call("POST", "/api/v1/workplaces", Some(json!({"name": "wp"})));
    d.call(
        "POST",
        "/api/v1/workplaces/wp/login",
        Some(json!({"username": "u7"})),
    );
    let before = d.call("GET", "/api/v1/users", None).1;
    let dir = d.kill9();
    let d = Daemon::spawn(dir, "info", &[]);
    let after = d.call("GET", "/api/v1/users", None).1;
    assert_eq!(after, before);
    assert_eq!(after.as_array().expect("list").len(), 20);
    assert_eq!(
        d.call("GET", "/api/v1/users/u7", None).1["phone_status"]["workplace"],
        "wp"
    );
    assert_eq!(
        d.call("GET", "/api/v1/devices", None)
            .1
            .as_array()
            .expect("list")
            .len(),
        20
    );
}

#[test]
fn sigterm_stops_cleanly() {
    let d = Daemon::start();
    assert_eq!(d.call("GET", "/api/v1/me", None).0, 200);
    let log_before = d.log();
    assert!(
        log_before.contains("listening for HTTP on 127.0.0.1:"),
        "{log_before}"
    );
    let status = d.terminate();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn healthz_answers_without_credentials() {
    let d = Daemon::start();
    let resp = d.anon("GET", "/healthz").send().expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().expect("body"), "ok\n");
}

/// The sd_notify protocol, spoken to a datagram socket of ours as systemd would hold it:
/// READY once the socket is bound, WATCHDOG pings while the store answers, STOPPING on SIGTERM.
#[test]
fn tells_systemd_ready_watchdog_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let sock_dir = tempfile::tempdir().expect("tempdir");
    let path = sock_dir.path().join("notify");
    let socket = UnixDatagram::bind(&path).expect("bind");
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    let path_text = path.to_str().expect("utf-8 path");
    let d = Daemon::spawn(
        prepared_dir(),
        "info",
        &[("NOTIFY_SOCKET", path_text), ("WATCHDOG_USEC", "200000")],
    );
    let mut buf = [0u8; 256];
    let mut next = || {
        let n = socket.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).trim_end().to_owned()
    };
    assert_eq!(next(), "READY=1");
    assert_eq!(
        d.call("GET", "/api/v1/me", None).0,
        200,
        "READY came after the socket was bound"
    );
    assert_eq!(next(), "WATCHDOG=1");
    assert_eq!(next(), "WATCHDOG=1");
    assert!(d.terminate().success());
    loop {
        let n = socket
            .recv(&mut buf)
            .expect("STOPPING=1 before the socket went quiet");
        match String::from_utf8_lossy(&buf[..n]).trim_end() {
            "STOPPING=1" => break,
            "WATCHDOG=1" => continue,
            other => panic!("unexpected notification {other:?}"),
        }
    }
}

/// Reads from `stream` until the server closes it; the bytes it sent first. Fails if the
/// stream's read timeout passes first (the server did not close it).
fn read_until_closed(stream: &mut std::net::TcpStream) -> Vec<u8> {
    use std::io::Read;
    let mut got = Vec::new();
    match stream.read_to_end(&mut got) {
        Ok(_) => got,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => got,
        Err(e) => panic!("the server did not close the connection: {e}"),
    }
}

#[test]
fn a_client_that_never_finishes_its_request_head_is_closed() {
    use std::io::Write;
    let d = Daemon::start_with_keys("http", "header_read_timeout_secs = 1");
    let addr = d.base.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).expect("connect");
    // The read timeout only bounds a server that never closes; the server's 1 s should.
    slow.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .expect("partial head");
    let answer = read_until_closed(&mut slow);
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "closed, at most with a 408: {text:?}"
    );
    // Other clients are served meanwhile and after.
    assert_eq!(
        d.anon("GET", "/healthz").send().expect("send").status(),
        200
    );
}

#[test]
fn at_the_connection_cap_a_new_client_waits_for_a_free_slot() {
    use std::io::Write;
    let d = Daemon::start_with_keys("http", "max_connections = 1");
    let addr = d.base.trim_start_matches("http://").to_owned();
    let mut first = std::net::TcpStream::connect(&addr).expect("connect");
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    let mut buf = [0u8; 12];
    std::io::Read::read_exact(&mut first, &mut buf).expect("answer");
    assert_eq!(&buf, b"HTTP/1.1 200");
    // `first` holds the only slot (keep-alive): a second client is not answered yet.
    let mut second = std::net::TcpStream::connect(&addr).expect("connect");
    second
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .expect("timeout");
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("request");
    let mut one = [0u8; 1];
    let waited = std::io::Read::read(&mut second, &mut one);
    assert!(
        waited.is_err(),
        "answered while the cap was reached: {waited:?}"
    );
    // The first leaves: the second is served.
    drop(first);
    second
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    let answer = read_until_closed(&mut second);
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}
