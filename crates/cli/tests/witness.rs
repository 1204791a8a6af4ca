//! Witnesses: a real `parley witness` process (C2SP tlog-witness) in front of
//! real `parley serve` processes. Its status codes to the letter, one
//! cosignature per log state even under concurrent requests, its state
//! durable across a restart; and a server driven to equivocate (two stores
//! behind one record key) caught: the witness refuses the second history and
//! keeps it as evidence, and `parley verify` of the other party's receipt
//! fails naming the two checkpoints.

mod common;

use common::http::Server;
use common::{temp_dir, Client, BIN};
use parley_record::{AddCheckpoint, Checkpoint, CosignerKey, MerkleLog, Origin, Signer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const ORIGIN: &str = "parley.local/record";

/// A running `parley witness`, killed when dropped.
struct Witness {
    child: Child,
    url: String,
    key: String,
}

impl Witness {
    fn start(db: &Path, name: &str, logs: &[String]) -> Witness {
        let mut cmd = Command::new(BIN);
        cmd.args(["witness", "--listen", "127.0.0.1:0", "--name", name, "--db"])
            .arg(db);
        for l in logs {
            cmd.args(["--log", l]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("parley witness starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut key = None;
        let url = loop {
            let line = lines.next().expect("the witness prints its URL").unwrap();
            if let Some(k) = line.strip_prefix("witness key: ") {
                key = Some(k.to_string());
            }
            if let Some(u) = line.strip_prefix("parley witness listening on ") {
                break u.to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Witness {
            child,
            url,
            key: key.expect("the witness prints its key"),
        }
    }

    async fn add(&self, body: String) -> (StatusCode, String, String) {
        let res = common::http_client()
            .post(format!("{}/add-checkpoint", self.url))
            .body(body)
            .send()
            .await
            .expect("the witness answers");
        let status = res.status();
        let ctype = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ctype, res.text().await.unwrap())
    }

    async fn evidence(&self) -> Vec<Value> {
        let v: Value = reqwest::get(format!("{}/evidence", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["evidence"].as_array().unwrap().clone()
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A record key file made before the server's first start, so that the
/// witness can be told the log's key first; returns the verifier key.
fn record_key(db: &Path, seed: u8, origin: &str) -> String {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = format!("{}.record-key", db.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    writeln!(f, "{}", parley_record::Hash([seed; 32])).unwrap();
    Signer::from_seed(origin, &[seed; 32])
        .unwrap()
        .verifier_key()
        .to_string()
}

fn signed(signer: &Signer, log: &MerkleLog, size: u64) -> String {
    Checkpoint {
        origin: Origin::new(ORIGIN).unwrap(),
        size,
        root: log.root_at(size).unwrap(),
        time_us: 1,
    }
    .sign(signer)
}

fn body(old: u64, log: &MerkleLog, size: u64, note: String) -> String {
    let proof = if old == 0 || old >= size {
        vec![]
    } else {
        log.consistency_proof(old, size).unwrap()
    };
    AddCheckpoint {
        old_size: old,
        proof,
        note,
    }
    .body()
}

fn tree(prefix: &str, n: usize) -> MerkleLog {
    let mut log = MerkleLog::new();
    for i in 0..n {
        log.append(format!("{prefix}{i}").as_bytes());
    }
    log
}

#[tokio::test]
async fn the_witness_answers_as_tlog_witness_says_and_keeps_its_word() {
    let dir = temp_dir("witness-protocol");
    let signer = Signer::from_seed(ORIGIN, &[1; 32]).unwrap();
    let db = dir.join("witness.db");
    let w = Witness::start(&db, "witness.test/w1", &[signer.verifier_key().to_string()]);
    let wkey = CosignerKey::parse(&w.key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for f in [db.clone(), dir.join("witness.db.key")] {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    let log = tree("e", 10);

    // First sight: cosigned, and the line verifies with the witness's key.
    let note4 = signed(&signer, &log, 4);
    let (status, _, lines) = w.add(body(0, &log, 4, note4.clone())).await;
    assert_eq!(status, StatusCode::OK, "{lines}");
    assert!(lines.starts_with("\u{2014} witness.test/w1 ") && lines.ends_with('\n'));
    assert!(wkey
        .verify_in(&format!("{note4}{lines}"))
        .unwrap()
        .is_some());

    // 409: a stale old size; the body is the witness's size.
    let (status, ctype, size) = w.add(body(0, &log, 6, signed(&signer, &log, 6))).await;
    assert_eq!(
        (status, ctype.as_str(), size.as_str()),
        (StatusCode::CONFLICT, "text/x.tlog.size", "4\n")
    );
    // 200: from 4 with the proof.
    let (status, _, lines) = w.add(body(4, &log, 6, signed(&signer, &log, 6))).await;
    assert_eq!(status, StatusCode::OK, "{lines}");
    // 422: a proof that is not the log's.
    let mut bad = log.consistency_proof(6, 8).unwrap();
    bad[0] = parley_record::Hash([7; 32]);
    let req = AddCheckpoint {
        old_size: 6,
        proof: bad,
        note: signed(&signer, &log, 8),
    };
    let (status, _, text) = w.add(req.body()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    // 400: old larger than the checkpoint; a malformed body.
    let (status, _, _) = w.add(body(6, &log, 5, signed(&signer, &log, 5))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, text) = w.add("old x\n\n".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("line 1"), "{text}");
    // 403: signed by another key under the log's name.
    let forger = Signer::from_seed(ORIGIN, &[2; 32]).unwrap();
    let (status, _, text) = w.add(body(6, &log, 8, signed(&forger, &log, 8))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    // 404: a log the witness does not witness.
    let stranger = Signer::from_seed("elsewhere.example/log", &[3; 32]).unwrap();
    let other = Checkpoint {
        origin: Origin::new("elsewhere.example/log").unwrap(),
        size: 1,
        root: log.root_at(1).unwrap(),
        time_us: 1,
    }
    .sign(&stranger);
    let (status, _, _) = w.add(body(0, &log, 1, other)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Evidence: every refused checkpoint the log signed. The bad proof and
    // the checkpoint of 5 after 6 (a rollback) prove misbehaviour; the stale
    // old size only that the client was behind. The 403, 404 and 400 for a
    // malformed body are not the log's word, and are not kept.
    let evidence = w.evidence().await;
    let kinds: Vec<_> = evidence
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["status"].as_u64().unwrap(),
                e["misbehaviour"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("old-size", 409, false),
            ("bad-proof", 422, true),
            ("rollback", 400, true)
        ]
    );
    let bad_proof = &evidence[1];
    assert_eq!(bad_proof["request"], req.body(), "kept with its proof");
    assert_eq!(bad_proof["witness_size"], 6);
    assert!(bad_proof["witness_checkpoint"]
        .as_str()
        .unwrap()
        .contains("\u{2014} witness.test/w1 "));

    // Durable: after a restart the witness still holds size 6.
    drop(w);
    let w = Witness::start(&db, "witness.test/w1", &[signer.verifier_key().to_string()]);
    assert_eq!(w.key, wkey.to_string(), "the same key after a restart");
    let (status, _, size) = w.add(body(0, &log, 8, signed(&signer, &log, 8))).await;
    assert_eq!((status, size.as_str()), (StatusCode::CONFLICT, "6\n"));
}

#[tokio::test]
async fn concurrent_requests_never_get_two_histories_cosigned() {
    let dir = temp_dir("witness-race");
    let signer = Signer::from_seed(ORIGIN, &[1; 32]).unwrap();
    let w = Witness::start(
        &dir.join("witness.db"),
        "witness.test/race",
        &[signer.verifier_key().to_string()],
    );
    // Two histories of 5 entries, 40 requests each, all from old 0, at once.
    let (a, b) = (tree("a", 5), tree("b", 5));
    let (na, nb) = (signed(&signer, &a, 5), signed(&signer, &b, 5));
    let requests = (0..80).map(|i| {
        let body = if i % 2 == 0 {
            body(0, &a, 5, na.clone())
        } else {
            body(0, &b, 5, nb.clone())
        };
        w.add(body)
    });
    let answers = futures_util::future::join_all(requests).await;
    let cosigned: Vec<_> = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::OK)
        .collect();
    assert_eq!(
        cosigned.len(),
        1,
        "exactly one request from old 0 is cosigned"
    );
    assert!(answers
        .iter()
        .all(|(s, _, t)| *s == StatusCode::OK || (*s == StatusCode::CONFLICT && t == "5\n")));
}

/// The client binary with a config directory of its own in `dir`.
fn verify_client(dir: &Path) -> Client {
    Client::new(dir.join("config-verify"))
}

/// `parley verify ...` run offline; the exit status and what it said.
fn verify(dir: &Path, args: &[&str]) -> common::Run {
    verify_client(dir).run(&[&["verify"], args].concat())
}

async fn save(server: &Server, path: &str, file: &PathBuf) -> Value {
    let (status, v) = server.get(path, &server.host).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    std::fs::write(file, v.to_string()).unwrap();
    v
}

#[tokio::test]
async fn an_equivocating_server_is_caught_by_the_witness_and_the_verifier() {
    let dir = temp_dir("witness-split");
    let (db_a, db_b) = (dir.join("a.db"), dir.join("b.db"));
    // One record key behind two stores: a server showing two histories.
    let log_key = record_key(&db_a, 42, ORIGIN);
    assert_eq!(record_key(&db_b, 42, ORIGIN), log_key);
    let w = Witness::start(
        &dir.join("w.db"),
        "witness.blue.example",
        std::slice::from_ref(&log_key),
    );
    let witness_flag = format!("{}={}", w.url, w.key);
    let a = Server::start_at_with(db_a, &["--witness", &witness_flag]);
    let policy = dir.join("parley.policy");
    std::fs::write(
        &policy,
        format!("log {log_key}\nwitness blue {}\nquorum blue\n", w.key),
    )
    .unwrap();
    let policy = policy.to_str().unwrap();

    // Blue, on server A, asks for a witnessed checkpoint and its receipt.
    let cp = witnessed(&a).await;
    assert_eq!(cp["cosigned_by"], json!(["witness.blue.example"]));
    let size = cp["size"].as_u64().unwrap();
    let blue = dir.join("blue-receipt.json");
    let receipt = save(&a, "/v1/record/entries/1/receipt", &blue).await;
    assert_eq!(receipt["tree_size"], size);
    let blue = blue.to_str().unwrap();
    let ok = verify(&dir, &["receipt", blue, "--policy", policy]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.contains("cosigned by blue (at ")
            && ok.stdout.contains("meeting the quorum `blue`"),
        "{}",
        ok.stdout
    );

    // Red is sent to server B: the same key, another history of the same size.
    let b = Server::start_at_with(db_b, &["--witness", &witness_flag]);
    let cp_b = witnessed(&b).await;
    assert_eq!(cp_b["size"], size, "two stories of one size");
    assert_ne!(cp_b["root"], cp["root"]);
    assert_eq!(
        cp_b["cosigned_by"],
        json!([]),
        "the witness refused B's story"
    );
    let evidence = w.evidence().await;
    let split = evidence
        .iter()
        .find(|e| e["kind"] == "split-view")
        .unwrap_or_else(|| panic!("{evidence:?}"));
    assert_eq!(
        (&split["status"], &split["misbehaviour"]),
        (&json!(409), &json!(true))
    );
    let refused = split["request"].as_str().unwrap();
    assert!(
        refused.contains(&base64_root(&cp_b)),
        "B's checkpoint is kept"
    );
    assert!(
        split["witness_checkpoint"]
            .as_str()
            .unwrap()
            .contains(&base64_root(&cp)),
        "with the one the witness had cosigned"
    );

    // Red's receipt does not meet the policy; compared with Blue's, it is a
    // split view, and the message names both checkpoints.
    let red = dir.join("red-receipt.json");
    save(&b, "/v1/record/entries/1/receipt", &red).await;
    let red = red.to_str().unwrap();
    let refused = verify(&dir, &["receipt", red, "--policy", policy]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("does not meet the policy")
            && refused
                .stderr
                .contains("the quorum `blue` is not met: cosigned by none"),
        "{}",
        refused.stderr
    );
    let split = verify(
        &dir,
        &["receipt", red, "--policy", policy, "--compare", blue],
    );
    assert_eq!(split.code, 1, "{}", split.stdout);
    assert!(
        split.stderr.contains(&format!(
            "split view: the checkpoint in {red} (size {size}, root {}",
            cp_b["root"].as_str().unwrap()
        )) && split.stderr.contains(&format!(
            "the one in {blue} (size {size}, root {}",
            cp["root"].as_str().unwrap()
        )),
        "{}",
        split.stderr
    );

    // The two receipts compared as checkpoints: a split view, both named.
    let both = verify(&dir, &["checkpoints", blue, red, "--policy", policy]);
    assert_eq!(both.code, 1, "{}", both.stdout);
    assert!(
        both.stderr.contains(&format!(
            "split view: {blue} and {red} both sign {size} entries"
        )),
        "{}",
        both.stderr
    );

    // `record audit --policy`: A's latest checkpoint extends Blue's and is
    // cosigned; B's is not cosigned, so B's record fails the audit.
    let audit = |server: &Server| {
        verify_client(&dir).run(&[
            "record",
            "audit",
            blue,
            "--policy",
            policy,
            "--server",
            &server.url,
            "--token",
            &server.host,
        ])
    };
    let ok = audit(&a);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("cosigned by blue"), "{}", ok.stdout);
    let refused = audit(&b);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("the quorum `blue` is not met"),
        "{}",
        refused.stderr
    );

    // A grows and is witnessed; B, smaller, is a rollback to the witness.
    grow(&a, "blue").await;
    let cp2 = witnessed(&a).await;
    assert_eq!(cp2["cosigned_by"], json!(["witness.blue.example"]));
    let cp_b2 = witnessed(&b).await;
    assert_eq!(cp_b2["cosigned_by"], json!([]));
    let evidence = w.evidence().await;
    assert!(
        evidence
            .iter()
            .any(|e| e["kind"] == "rollback" && e["status"] == 409),
        "{evidence:?}"
    );

    // B grows past A with its own history: its proof cannot extend A's (422).
    for id in ["red", "green", "grey"] {
        grow(&b, id).await;
    }
    let cp_b3 = witnessed(&b).await;
    assert!(cp_b3["size"].as_u64() > cp2["size"].as_u64());
    assert_eq!(cp_b3["cosigned_by"], json!([]));
    let evidence = w.evidence().await;
    assert!(
        evidence
            .iter()
            .any(|e| e["kind"] == "bad-proof" && e["status"] == 422),
        "{evidence:?}"
    );
    // A is still witnessed: the equivocation did not stop the honest view.
    let cp3 = witnessed(&a).await;
    assert_eq!(cp3["cosigned_by"], json!(["witness.blue.example"]));
}

/// One more entry in `server`'s record: a party made by the host.
async fn grow(server: &Server, id: &str) {
    let (status, v) = server
        .post("/v1/parties", &server.host, json!({"id": id, "name": id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
}

/// `POST /v1/record/checkpoint/witnessed` as the host: the cosigned checkpoint.
async fn witnessed(server: &Server) -> Value {
    let (status, cp) = server
        .call(
            reqwest::Method::POST,
            "/v1/record/checkpoint/witnessed",
            &server.host,
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cp}");
    cp
}

/// The root of a checkpoint answer as its note writes it (base64).
fn base64_root(cp: &Value) -> String {
    use base64::Engine as _;
    let hex = cp["root"].as_str().unwrap();
    let bytes = parley_record::Hash::from_hex(hex).unwrap().0;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn a_witness_that_is_down_delays_nothing() {
    let dir = temp_dir("witness-down");
    let db = dir.join("a.db");
    // A deployment that names its record (`--origin`), as each should.
    let log_key = record_key(&db, 7, "parley.test/relief-ops");
    let up = Witness::start(
        &dir.join("w.db"),
        "witness.up.example",
        std::slice::from_ref(&log_key),
    );
    // A witness that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let down_key = parley_record::Cosigner::from_seed("witness.down.example", &[5; 32])
        .unwrap()
        .cosigner_key();
    let a = Server::start_at_with(
        db,
        &[
            "--witness",
            &format!("{}={}", up.url, up.key),
            "--witness",
            &format!("{silent_url}={down_key}"),
            "--witness-timeout-ms",
            "300",
            "--origin",
            "parley.test/relief-ops",
        ],
    );
    let started = std::time::Instant::now();
    let cp = witnessed(&a).await;
    assert_eq!(cp["cosigned_by"], json!(["witness.up.example"]));
    assert!(cp["checkpoint"]
        .as_str()
        .unwrap()
        .starts_with("parley.test/relief-ops\n"));
    assert_eq!(
        cp["witnesses_asked"],
        json!(["witness.up.example", "witness.down.example"])
    );
    // Bounded by the timeout, not by the silent witness (generous margin).
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    // The client asks for a witnessed receipt; the policy needs `up` only.
    let receipt = dir.join("receipt.json");
    let got = verify_client(&dir).run(&[
        "record",
        "receipt",
        "2",
        "--witnessed",
        "-o",
        receipt.to_str().unwrap(),
        "--server",
        &a.url,
        "--token",
        &a.host,
    ]);
    assert_eq!(got.code, 0, "{}", got.stderr);
    assert!(
        got.stderr.contains(
            "cosigned by 1 of the witnesses asked (witness.up.example, witness.down.example)"
        ),
        "{}",
        got.stderr
    );
    let policy = dir.join("policy");
    std::fs::write(
        &policy,
        format!("log {log_key}\nwitness up {}\nwitness down {down_key}\ngroup any-one any up down\nquorum any-one\n", up.key),
    )
    .unwrap();
    let ok = verify(
        &dir,
        &[
            "receipt",
            receipt.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.contains("cosigned by up (at "), "{}", ok.stdout);

    // The periodic round picks up growth without being asked.
    grow(&a, "blue").await;
    let grown = cp["size"].as_u64().unwrap() + 1;
    loop {
        let (_, now) = a.get("/v1/record/checkpoint", &a.host).await;
        if now["size"].as_u64() >= Some(grown) {
            assert_eq!(now["cosigned_by"], json!(["witness.up.example"]));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(silent);
}

#[test]
fn bad_flags_are_refused_naming_the_flag() {
    let dir = temp_dir("witness-flags");
    let key = |seed: u8| {
        Signer::from_seed(ORIGIN, &[seed; 32])
            .unwrap()
            .verifier_key()
            .to_string()
    };
    let (first, other) = (key(1), key(2));
    let (wdb, sdb) = (dir.join("w.db"), dir.join("s.db"));
    let (wdb, sdb) = (wdb.to_str().unwrap(), sdb.to_str().unwrap());
    let witness = ["witness", "--db", wdb, "--name"];
    let serve = ["serve", "--db", sdb, "--listen", "127.0.0.1:0"];
    let not_cosigner = format!("http://w.example={first}");
    let cases: [(Vec<&str>, &str); 6] = [
        (
            [&witness[..], &["w.example", "--log", "not-a-key"]].concat(),
            "--log (number 1) \"not-a-key\"",
        ),
        (
            [&witness[..], &["has space", "--log", &first]].concat(),
            "--name",
        ),
        (
            [&witness[..], &["w.example", "--log", &first, "--log", &other]].concat(),
            "--log: two logs named parley.local/record",
        ),
        ([&serve[..], &["--origin", "has space"]].concat(), "--origin"),
        (
            [&serve[..], &["--witness", "witness.example"]].concat(),
            "--witness \"witness.example\": expected URL=KEY",
        ),
        (
            [&serve[..], &["--witness", &not_cosigner]].concat(),
            "the key: verifier key is malformed: the key is not an Ed25519 cosigner key (type byte 0x04)",
        ),
    ];
    for (args, said) in cases {
        let out = Command::new(BIN).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
    assert!(
        !dir.join("w.db.key").exists(),
        "no key is made for a refused name"
    );
}

/// Tiles fetched from a real server as a standard tlog client does (the
/// path from `tlog_tiles`, less its height element), with a bearer token.
struct HttpTiles<'a> {
    runtime: &'a tokio::runtime::Runtime,
    server: &'a Server,
    token: String,
}

impl HttpTiles<'_> {
    fn get(&self, path: &str) -> (StatusCode, Vec<u8>) {
        self.runtime.block_on(async {
            let res = self
                .server
                .client
                .get(format!("{}/v1/record/tlog/{path}", self.server.url))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap();
            (res.status(), res.bytes().await.unwrap().to_vec())
        })
    }
}

impl tlog_tiles::TileReader for HttpTiles<'_> {
    fn height(&self) -> u8 {
        8
    }
    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                let path = t.path();
                let ours = path.strip_prefix("tile/8/").expect("height 8");
                let (status, body) = self.get(&format!("tile/{ours}"));
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "{path}: {}",
                    String::from_utf8_lossy(&body)
                );
                Ok(body)
            })
            .collect()
    }
    fn save_tiles(&self, _: &[tlog_tiles::Tile], _: &[Vec<u8>]) {}
}

#[test]
fn the_record_is_served_as_tlog_tiles_a_standard_client_verifies() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = Server::start("witness-tiles");
    // Past one full tile of leaves: 300 entries and more.
    let officer = runtime.block_on(async {
        for i in 0..310 {
            grow(&server, &format!("p{i}")).await;
        }
        server.party("blue").await
    });
    let host = HttpTiles {
        runtime: &runtime,
        server: &server,
        token: server.host.clone(),
    };
    let (status, note) = host.get("checkpoint");
    assert_eq!(status, StatusCode::OK);
    let note = String::from_utf8(note).unwrap();
    let text = &note[..note.find("\n\n").unwrap() + 1];
    let cp = tlog_tiles::Checkpoint::from_bytes(text.as_bytes()).unwrap();
    let size = cp.size();
    assert!(size > 300, "{size}");
    // The client rebuilds the root from the tiles, checking each.
    let reader = tlog_tiles::TileHashReader::new(size, *cp.hash(), &host);
    assert_eq!(tlog_tiles::tree_hash(size, &reader).unwrap(), *cp.hash());
    use tlog_tiles::HashReader as _;
    for n in [0, 255, 256, size - 1] {
        let proof = tlog_tiles::prove_record(size, n, &reader).unwrap();
        let leaf = reader
            .read_hashes(&[tlog_tiles::stored_hash_index(0, n)])
            .unwrap()[0];
        tlog_tiles::check_record(&proof, size, *cp.hash(), n, leaf).unwrap();
    }
    // An entry bundle: the host sees every entry, and each leaf hashes to the
    // level-0 tile's hash.
    let (status, bundle) = host.get("tile/entries/000");
    assert_eq!(status, StatusCode::OK);
    let (_, hashes) = host.get("tile/0/000");
    let mut rest = bundle.as_slice();
    for i in 0..256 {
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let leaf = &rest[2..2 + len];
        assert_eq!(
            tlog_tiles::record_hash(leaf).0,
            hashes[i * 32..(i + 1) * 32],
            "entry {i}"
        );
        rest = &rest[2 + len..];
    }
    assert!(rest.is_empty());
    // A party may read hash tiles, not a bundle with entries not its own;
    // a tile beyond the record is not found.
    let party = HttpTiles {
        runtime: &runtime,
        server: &server,
        token: officer.officer.clone(),
    };
    assert_eq!(party.get("tile/0/000").0, StatusCode::OK);
    assert_eq!(party.get("tile/entries/000").0, StatusCode::FORBIDDEN);
    assert_eq!(host.get("tile/0/009").0, StatusCode::NOT_FOUND);
    assert_eq!(host.get("tile/0/1").0, StatusCode::NOT_FOUND);
}
