use super::*;

/// RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
fn rfc7616(algorithm: &str, response: &str) -> String {
    format!(
        "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", \
         algorithm={algorithm}, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
         nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, \
         response=\"{response}\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
    )
}

#[test]
fn the_rfc_7616_examples_prove_their_password_in_both_algorithms() {
    let md5 = rfc7616("MD5", "8ca523f5e9506fed4657c9700eebdbec");
    let sha = rfc7616(
        "SHA-256",
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    );
    for (header, algorithm) in [(md5, Algorithm::Md5), (sha, Algorithm::Sha256)] {
        let answer = Answer::parse(&header).expect("parses");
        assert_eq!(answer.algorithm, algorithm);
        assert_eq!(answer.uri, "/dir/index.html");
        assert!(answer.proves("GET", "Circle of Life"), "{header}");
        assert!(!answer.proves("GET", "Circle of life"));
        assert!(!answer.proves("POST", "Circle of Life"));
    }
}

#[test]
fn answers_we_cannot_check_are_not_parsed() {
    assert!(Answer::parse("Basic dTpw").is_none());
    let unknown = rfc7616("SHA-512-256", "00");
    assert!(Answer::parse(&unknown).is_none());
    assert!(Answer::parse("Digest username=\"a\", realm=\"r\"").is_none());
    assert!(Answer::parse(&format!("Digest {}", "a=b, ".repeat(500))).is_none());
    assert!(Answer::parse("Digest username=\"unterminated").is_none());
}

#[test]
fn a_nonce_is_fresh_then_stale_and_another_process_s_is_forged() {
    let nonces = Nonces::new(300);
    let t = UnixTime::from_secs(1_000_000);
    let nonce = nonces.issue(t);
    assert_eq!(nonces.check(&nonce, t), Freshness::Fresh);
    assert_eq!(
        nonces.check(&nonce, UnixTime::from_secs(1_000_300)),
        Freshness::Fresh
    );
    assert_eq!(
        nonces.check(&nonce, UnixTime::from_secs(1_000_301)),
        Freshness::Stale
    );
    assert_eq!(
        nonces.check(&nonce, UnixTime::from_secs(999_000)),
        Freshness::Stale
    );
    assert_eq!(Nonces::new(300).check(&nonce, t), Freshness::Forged);
    assert_eq!(nonces.check("short", t), Freshness::Forged);
    let mut tampered = nonce.clone();
    tampered.replace_range(0..1, if nonce.starts_with('0') { "1" } else { "0" });
    assert_eq!(nonces.check(&tampered, t), Freshness::Forged);
}

#[test]
fn a_challenge_names_realm_algorithm_and_staleness() {
    let c = challenge("pbx.example.com", Algorithm::Sha256, "abc", true);
    assert_eq!(
        c,
        "Digest realm=\"pbx.example.com\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth\", stale=true"
    );
}

#[test]
fn two_challenges_in_one_second_get_different_nonces() {
    let nonces = Nonces::new(300);
    let t = UnixTime::from_secs(1_000_000);
    let (a, b) = (nonces.issue(t), nonces.clone().issue(t));
    assert_ne!(a, b);
    assert_eq!(nonces.check(&b, t), Freshness::Fresh);
    assert_eq!(Nonces::issued_at(&a), Some(1_000_000));
}

/// RFC 7616 §3.9.1's challenge, answered by us as the client: the RFC's own responses.
#[test]
fn a_client_answer_to_the_rfc_7616_challenge_is_the_rfcs_response() {
    for (algorithm, response) in [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        (
            "SHA-256",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
    ] {
        let challenge = Challenge::parse(&format!(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={algorithm}, \
             nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        ))
        .expect("challenge");
        let answer = challenge.answer(&Credentials {
            method: "GET",
            uri: "/dir/index.html",
            username: "Mufasa",
            password: "Circle of Life",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            nc: 1,
        });
        assert!(
            answer.contains(&format!("response=\"{response}\"")),
            "{answer}"
        );
        assert!(answer.contains("opaque=\"FQhe/"), "{answer}");
        let parsed = Answer::parse(&answer).expect("our answer parses");
        assert!(parsed.proves("GET", "Circle of Life"));
        assert!(!parsed.proves("GET", "Circle of life"));
    }
}

#[test]
fn challenges_we_cannot_answer_are_not_parsed() {
    let ok = Challenge::parse("Digest realm=\"r\", nonce=\"n\", stale=TRUE").expect("rfc 2069");
    assert!(!ok.qop_auth && ok.stale && ok.algorithm == Algorithm::Md5);
    for bad in [
        "Basic realm=\"r\"",
        "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
        "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
        "Digest realm=\"r\"",
    ] {
        assert_eq!(Challenge::parse(bad), None, "{bad}");
    }
}
