//! HTTPS end to end: the real `parley serve` with certificates this test makes
//! (`rcgen`), the real client. A server key pinned at login; a wrong CA, an
//! expired certificate and a changed key refused; the certificate reloaded on
//! SIGHUP without a restart; under `--client-ca`, a connection without a
//! client certificate refused, and a party bound to its certificates refusing
//! its own token over another party's certificate.

mod common;

use common::tls::{Ca, Pair, CURRENT, EXPIRED};
use common::{temp_dir, Client, Run, Server};
use std::time::{Duration, Instant};

/// A server over HTTPS with a certificate from a new CA (valid over `days`),
/// and that CA.
fn https_server(name: &str, days: (i64, i64), extra: &[&str]) -> (Server, Ca, Pair) {
    let dir = temp_dir(name);
    let ca = Ca::new(&dir, "ca");
    let cert = ca.server("server", days);
    let mut args = vec!["--tls-cert", cert.cert(), "--tls-key", cert.key()];
    args.extend_from_slice(extra);
    let server = Server::start_in(dir, &args);
    (server, ca, cert)
}

/// `parley login` to `server` with `token` and the flags `extra`, expecting exit `code`.
fn login(c: &Client, code: i32, server: &Server, token: &str, extra: &[&str]) -> Run {
    let mut args = vec!["login", "--server", &server.url, "--token", token.trim()];
    args.extend_from_slice(extra);
    c.expect(code, &args)
}

/// The flags of a client certificate.
fn with_cert(pair: &Pair) -> [&str; 4] {
    ["--client-cert", pair.cert(), "--client-key", pair.key()]
}

#[test]
fn https_login_pins_the_server_key_and_serves_the_client() {
    let (server, ca, cert) = https_server("https-login", CURRENT, &[]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let host = Client::new(server.config("host"));
    let r = login(&host, 0, &server, &server.host, &["--ca", ca.pem()]);
    let shown = format!(
        "server certificate key (SPKI SHA-256): {} (pinned now",
        cert.spki
    );
    assert!(r.stdout.contains(&shown), "{}", r.stdout);
    let profile = &host.profiles()["default"];
    assert_eq!(profile["pin_sha256"], cert.spki.as_str());
    assert_eq!(profile["ca"], ca.pem());
    // The profile alone reaches the server: CA and pin come from it.
    server.admin(&["party-create", "blue", "Blue"]);
    let me = host.json(&["whoami"]);
    assert_eq!(me["party"], "host", "{me}");
    let again = login(&host, 0, &server, &server.host, &[]);
    assert!(again.stdout.contains("(as pinned)"), "{}", again.stdout);
}

#[test]
fn a_server_of_another_ca_is_refused() {
    let (server, _ca, _cert) = https_server("https-wrong-ca", CURRENT, &[]);
    let other = Ca::new(&server.dir, "other-ca");
    let c = Client::new(server.config("user"));
    let r = login(&c, 3, &server, &server.host, &["--ca", other.pem()]);
    assert!(r.stderr.contains("UnknownIssuer"), "{}", r.stderr);
    assert!(
        !c.config.join("profiles.json").exists(),
        "nothing saved on failure"
    );
    // Nor do the system's roots vouch for a private CA.
    let r = login(&c, 3, &server, &server.host, &[]);
    assert!(
        r.stderr.contains("invalid peer certificate"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_expired_server_certificate_is_refused() {
    let (server, ca, _cert) = https_server("https-expired", EXPIRED, &[]);
    let c = Client::new(server.config("user"));
    let r = login(&c, 3, &server, &server.host, &["--ca", ca.pem()]);
    assert!(r.stderr.contains("certificate expired"), "{}", r.stderr);
}

#[test]
fn a_new_key_after_sighup_is_served_and_refused_against_the_pin_until_pinned() {
    let (server, ca, first) = https_server("https-reload", CURRENT, &[]);
    let c = Client::new(server.config("host"));
    login(&c, 0, &server, &server.host, &["--ca", ca.pem()]);
    // A renewed certificate on a new key, in the same files; then SIGHUP.
    let second = ca.server("server", CURRENT);
    assert_ne!(first.spki, second.spki);
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    // Wait for the reload to show: whoami against the old pin is refused.
    let deadline = Instant::now() + Duration::from_secs(60);
    let refused = loop {
        let r = c.run(&["whoami"]);
        if r.code != 0 {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "the server still shows the first key"
        );
        std::thread::yield_now();
    };
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("REFUSED"), "{}", refused.stderr);
    assert!(refused.stderr.contains(&second.spki), "{}", refused.stderr);
    // Login too refuses the change, loudly, and keeps the old pin.
    let r = login(&c, 3, &server, &server.host, &[]);
    assert!(r.stderr.contains("--pin-sha256"), "{}", r.stderr);
    assert_eq!(c.profiles()["default"]["pin_sha256"], first.spki.as_str());
    // Pinning the new key on purpose works; the same process served throughout.
    login(
        &c,
        0,
        &server,
        &server.host,
        &["--pin-sha256", &second.spki],
    );
    assert_eq!(c.profiles()["default"]["pin_sha256"], second.spki.as_str());
    c.ok(&["whoami"]);
}

#[test]
fn under_client_ca_no_certificate_no_service_and_bound_parties_need_their_own() {
    let dir = temp_dir("https-mutual");
    let clients = Ca::new(&dir, "clients-ca");
    let mutual = ["--client-ca", clients.pem()];
    let (server, ca, _cert) = https_server("https-mutual-server", CURRENT, &mutual);
    let [host_cert, blue_cert, red_cert] = ["host", "blue", "red"].map(|who| clients.client(who));

    // Without a client certificate the handshake fails.
    let nobody = Client::new(server.config("nobody"));
    let r = login(&nobody, 3, &server, &server.host, &["--ca", ca.pem()]);
    assert!(
        r.stderr.contains("requires a client certificate"),
        "{}",
        r.stderr
    );

    let logged_in = |who: &str, token: &str, cert: &Pair| {
        let c = Client::new(server.config(who));
        let mut flags = vec!["--ca", ca.pem()];
        flags.extend(with_cert(cert));
        login(&c, 0, &server, token, &flags);
        c
    };
    logged_in("host", &server.host, &host_cert);
    server.admin(&["party-create", "blue", "Blue"]);
    server.admin(&["party-create", "red", "Red"]);
    let blue_admin = server.admin(&["operator-create", "blue", "blue admin", "--role", "admin"]);
    let blue_officer = server.admin(&["operator-create", "blue", "blue officer"]);
    let red_officer = server.admin(&["operator-create", "red", "red officer"]);
    let admin = logged_in("blue-admin", &blue_admin, &blue_cert);
    // Blue's officer holds red's certificate: fine while blue binds none.
    let officer = logged_in("blue-officer", &blue_officer, &red_cert);

    let bound = admin.ok(&["certificates", "bind", "--cert", blue_cert.cert()]);
    assert!(bound.stdout.contains(&blue_cert.spki), "{}", bound.stdout);
    let listed = admin.json(&["certificates", "list"]);
    assert_eq!(listed["certificates"], serde_json::json!([blue_cert.spki]));
    // Binding it twice is a conflict; a bad hash names the field.
    let r = admin.expect(2, &["certificates", "bind", "--spki", &blue_cert.spki]);
    assert!(r.stderr.contains("bound already"), "{}", r.stderr);
    let r = admin.expect(2, &["certificates", "bind", "--spki", "abc"]);
    assert!(r.stderr.contains("/spki_sha256"), "{}", r.stderr);

    // Now blue's token over red's certificate is refused...
    let r = officer.expect(2, &["whoami"]);
    assert!(r.stderr.contains("403"), "{}", r.stderr);
    assert!(
        r.stderr.contains("bound client certificates"),
        "{}",
        r.stderr
    );
    // ...and served over blue's own.
    let mut own = vec!["whoami"];
    own.extend(with_cert(&blue_cert));
    officer.ok(&own);
    // Red, which bound nothing, is served over any certificate of the CA.
    let red = logged_in("red-officer", &red_officer, &blue_cert);
    red.ok(&["whoami"]);
    // Only blue's admins bind blue's certificates.
    let r = red.expect(2, &["certificates", "bind", "--cert", red_cert.cert()]);
    assert!(r.stderr.contains("403"), "{}", r.stderr);
}

#[tokio::test]
async fn over_tls_the_connection_cap_still_holds_and_health_still_answers() {
    // Two places, both taken by sockets that never start their handshake
    // (they may take an hour to: the header timeout bounds the handshake).
    let flags = ["--max-connections", "2", "--header-timeout-ms", "3600000"];
    let (server, ca, _cert) = https_server("https-cap", CURRENT, &flags);
    let address = server.url.trim_start_matches("https://").to_string();
    let silent: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(&address).unwrap())
        .collect();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(&ca.pem).unwrap();
    let client = || {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    let get = |path: &str| {
        client()
            .get(format!("{}{path}", server.url))
            .bearer_auth(&server.host)
            .send()
    };
    let refused = get("/v1/me").await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let body = refused.text().await.unwrap();
    assert!(body.contains("too many connections"), "{body}");
    assert_eq!(get("/v1/health").await.unwrap().status(), 200);
    // Once the silent sockets go, their places are free again.
    drop(silent);
    let deadline = Instant::now() + Duration::from_secs(60);
    while get("/v1/me").await.unwrap().status() != 200 {
        assert!(Instant::now() < deadline, "the places were never freed");
        tokio::task::yield_now().await;
    }
}
