//! A hostile client against the real `parley serve`'s connections (issue 14,
//! point 4): sockets that send their headers a byte at a time, bodies that
//! never finish, more connections than the server may hold, one token opening
//! stream after stream, and one party's many operators sharing out its rate.
//! Each attack must be cut off while `/v1/health` and other parties go on.
//!
//! Nothing here waits a fixed time before asserting: a condition that takes
//! time (a socket closed by the server, a place freed) is waited for with a
//! generous deadline.

mod common;

use common::http::Server;
use reqwest::StatusCode;
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long any condition below may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(60);

fn address(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_string()
}

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream
}

/// The status and body of one answer read from `stream` (by its
/// `content-length`); the connection stays open.
fn read_answer(stream: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("an answer");
        assert_eq!(n, 1, "the connection closed mid-answer: {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (status, String::from_utf8(body).unwrap())
}

/// `GET path` on a kept-alive connection.
fn get(stream: &mut TcpStream, path: &str) -> (u16, String) {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: parley\r\n\r\n").unwrap();
    read_answer(stream)
}

/// `GET path` on a new connection.
fn get_once(address: &str, path: &str) -> (u16, String) {
    let mut stream = connect(address);
    write!(stream, "GET {path} HTTP/1.1\r\nHost: parley\r\n\r\n").unwrap();
    read_answer(&mut stream)
}

/// Whether the server has closed `stream`: waits for its end (EOF, or a reset)
/// and fails if it is still open at the deadline. What the server wrote
/// before closing is returned.
fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("the server kept the connection open ({e}): {got:?}"),
        }
    }
}

/// Waits until `ready` holds, failing at the deadline.
fn eventually(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < DEADLINE, "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn problem_type(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["type"].as_str().unwrap_or_default().to_string()
}

#[test]
fn connections_over_the_cap_are_refused_while_health_answers() {
    // Headers may take as long as they like here: the slow sockets below hold
    // their places for the whole test.
    let server = Server::start_with(
        "cap",
        &["--max-connections", "16", "--header-timeout-ms", "3600000"],
    );
    let address = address(&server);

    // A monitor's connection, opened before the attack and kept alive.
    let mut monitor = connect(&address);
    assert_eq!(get(&mut monitor, "/v1/health").0, 200);

    // The attack: every other place taken by a socket that sent one byte of
    // its headers and then nothing. The server accepts in order, so all of
    // these are in before any connection below.
    let slow: Vec<TcpStream> = (0..15)
        .map(|_| {
            let mut s = connect(&address);
            s.write_all(b"G").unwrap();
            s
        })
        .collect();

    // A connection over the cap is answered at once with 503 problem+json,
    // and closed.
    for _ in 0..3 {
        let mut stream = connect(&address);
        write!(stream, "GET /v1/me HTTP/1.1\r\nHost: parley\r\n\r\n").unwrap();
        let (status, body) = read_answer(&mut stream);
        assert_eq!(status, 503, "{body}");
        assert_eq!(problem_type(&body), "urn:parley:problem:unavailable");
        assert!(body.contains("too many connections"), "{body}");
        closed_by_server(&mut stream);
    }
    // So is one that says nothing.
    let mut mute = connect(&address);
    let refusal = String::from_utf8(closed_by_server(&mut mute)).unwrap();
    assert!(refusal.starts_with("HTTP/1.1 503 "), "{refusal}");

    // Health keeps answering: on the monitor's connection, and on a new one.
    assert_eq!(get(&mut monitor, "/v1/health").0, 200);
    let (status, body) = get_once(&address, "/v1/health");
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(&mut monitor, "/v1/health").0, 200);

    // Once the attackers go, their places are free again.
    drop(slow);
    eventually("a new connection is served after the attack", || {
        get_once(&address, "/v1/me").0 == 401
    });
}

#[test]
fn slow_headers_and_bodies_are_cut_off() {
    let server = Server::start_with(
        "slow",
        &["--header-timeout-ms", "1000", "--body-timeout-ms", "1000"],
    );
    let address = address(&server);

    // Sockets that send one byte of headers and stop: each is closed by the
    // server, without an answer.
    let mut stalled: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut s = connect(&address);
            s.write_all(b"G").unwrap();
            s
        })
        .collect();
    for s in &mut stalled {
        let written = closed_by_server(s);
        assert!(written.is_empty(), "{written:?}");
    }

    // A socket that trickles a byte of headers every 50 ms is closed too:
    // trickling does not restart the timer.
    let mut trickle = connect(&address);
    trickle
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let request = b"GET /v1/health HTTP/1.1\r\nHost: parley\r\nX-Padding: ";
    let start = Instant::now();
    let mut sent = 0;
    let cut = loop {
        assert!(
            start.elapsed() < DEADLINE,
            "the server never closed a trickling socket ({sent} bytes sent)"
        );
        let byte = request.get(sent).copied().unwrap_or(b'a');
        if trickle.write_all(&[byte]).is_err() {
            break sent;
        }
        sent += 1;
        let mut buf = [0u8; 64];
        match trickle.read(&mut buf) {
            Ok(0) => break sent,
            Ok(n) => panic!("an answer to a request never finished: {:?}", &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break sent,
        }
    };
    assert!(cut > 0);

    // A body that never finishes: 408 problem+json, and the connection closed.
    let mut stream = connect(&address);
    write!(
        stream,
        "POST /v1/parties HTTP/1.1\r\nHost: parley\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"id\": \"late\"",
        server.host
    )
    .unwrap();
    let (status, body) = read_answer(&mut stream);
    assert_eq!(status, 408, "{body}");
    assert_eq!(problem_type(&body), "urn:parley:problem:request-timeout");
    closed_by_server(&mut stream);

    // An idle kept-alive connection is closed after the same timeout.
    let mut idle = connect(&address);
    assert_eq!(get(&mut idle, "/v1/health").0, 200);
    closed_by_server(&mut idle);

    // And the server still answers.
    assert_eq!(get_once(&address, "/v1/health").0, 200);
}

/// Opens `/v1/events` as `token`; the stream stays open while the answer lives.
async fn open_stream(server: &Server, token: &str) -> reqwest::Response {
    server
        .client
        .get(format!("{}/v1/events", server.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers")
}

#[tokio::test]
async fn one_operator_cannot_hold_stream_after_stream() {
    let server = Server::start_with("streams", &["--max-streams", "3"]);
    let red = server.party("red").await;
    let blue = server.party("blue").await;

    let mut held = Vec::new();
    for _ in 0..3 {
        let stream = open_stream(&server, &red.officer).await;
        assert_eq!(stream.status(), StatusCode::OK);
        held.push(stream);
    }
    let refused = open_stream(&server, &red.officer).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = refused.text().await.unwrap();
    assert_eq!(problem_type(&body), "urn:parley:problem:too-many-streams");
    assert!(body.contains("3 live event streams"), "{body}");

    // Another party's operator, and another operator of the same party, still
    // get their streams.
    let other = open_stream(&server, &blue.officer).await;
    assert_eq!(other.status(), StatusCode::OK);
    let colleague = open_stream(&server, &red.observer).await;
    assert_eq!(colleague.status(), StatusCode::OK);

    // A stream that the client closes gives its place back.
    drop(held.pop());
    let start = Instant::now();
    loop {
        let again = open_stream(&server, &red.officer).await;
        if again.status() == StatusCode::OK {
            break;
        }
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            start.elapsed() < DEADLINE,
            "a closed stream never gave its place back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_party_shares_one_rate_among_its_operators() {
    // Each token may send 1,000 requests a second, the party 20 in all.
    let server = Server::start_with(
        "party-rate",
        &["--rate-limit", "1000", "--party-rate-limit", "20"],
    );
    let red = server.party("red").await;
    let blue = server.party("blue").await;
    // A red admin makes more operators, each with a token of its own.
    let mut tokens = vec![red.officer.clone(), red.observer.clone()];
    for i in 0..6 {
        let (s, v) = server
            .post(
                "/v1/parties/red/operators",
                &red.admin,
                serde_json::json!({"name": format!("red extra {i}"), "role": "observer"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        tokens.push(v["token"].as_str().unwrap().to_string());
    }

    // Together they run out of the party's budget, each far inside its own.
    let start = Instant::now();
    let mut sent = 0;
    let refusal = loop {
        assert!(
            start.elapsed() < DEADLINE,
            "{sent} requests from red's operators and none refused"
        );
        let mut round = tokio::task::JoinSet::new();
        for token in tokens.iter().cycle().take(5 * tokens.len()) {
            let (client, url, token) = (
                server.client.clone(),
                format!("{}/v1/me", server.url),
                token.clone(),
            );
            round.spawn(async move {
                let res = client.get(url).bearer_auth(token).send().await.unwrap();
                (res.status(), res.text().await.unwrap())
            });
        }
        sent += 5 * tokens.len();
        let answers = round.join_all().await;
        if let Some((_, body)) = answers
            .into_iter()
            .find(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        {
            break body;
        }
    };
    assert_eq!(problem_type(&refusal), "urn:parley:problem:rate-limited");
    assert!(refusal.contains("for this party"), "{refusal}");
    assert!(
        sent / tokens.len() < 2000,
        "a token went past its own burst"
    );

    // Blue, another party, is not slowed down by red.
    let (s, v) = server.get("/v1/me", &blue.officer).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}
