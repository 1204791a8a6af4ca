//! A service on the real SQLite journal with an injected clock, for tests that
//! drive time (no sleeping) and restart the service for real.

#![allow(dead_code)]

use parley_record::{leaf_hash, node_hash, verify_inclusion, Hash, SignedCheckpoint, Signer};
use parley_service::{Actor, Clock, Command, LineRules, Role, Service, ServiceError, HOST};
use parley_store_sqlite::SqliteJournal;
use parley_wire::WireLimits;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc};

pub const S: i64 = 1_000_000;
pub const MIN: i64 = 60 * S;
pub const DAY: i64 = 86_400 * S;
/// 2026-11-22T00:00:00Z: the injected clock starts here whatever day the tests
/// run, so the fixed dates of these tests are safe for ever (the service reads
/// no other clock).
pub const T0: i64 = 1_795_305_600 * S;

pub fn actor(operator: &str, party: &str, role: Role) -> Actor {
    Actor {
        operator: operator.into(),
        party: party.into(),
        role,
    }
}

pub fn host() -> Actor {
    actor("op-host", HOST, Role::Admin)
}

pub fn officer(party: &str) -> Actor {
    actor(&format!("op-{party}"), party, Role::Officer)
}

pub struct World {
    db: PathBuf,
    now: Arc<AtomicI64>,
    service: Option<Service>,
}

impl World {
    /// `parties`, each with an officer, an observer and an admin, and line `l`
    /// between `on_line` with `rules`, at time [`T0`].
    pub fn new(name: &str, parties: &[&str], on_line: &[&str], rules: LineRules) -> World {
        let db = std::env::temp_dir().join(format!("parley-{name}-{}.db", std::process::id()));
        remove_store(&db);
        let mut w = World {
            db,
            now: Arc::new(AtomicI64::new(T0)),
            service: None,
        };
        w.start();
        for party in parties {
            let create = Command::CreateParty {
                party: party.to_string(),
                name: party.to_string(),
            };
            w.run(&host(), create).unwrap();
            for role in [Role::Officer, Role::Observer, Role::Admin] {
                let create = Command::CreateOperator {
                    party: party.to_string(),
                    name: format!("{party} {role:?}"),
                    role,
                    token_sha256: format!("{party}-{role:?}"),
                };
                w.run(&host(), create).unwrap();
            }
        }
        let line = Command::CreateLine {
            line: "l".into(),
            name: "the line".into(),
            parties: on_line.iter().map(|p| p.to_string()).collect(),
            rules,
        };
        w.run(&host(), line).unwrap();
        w
    }

    fn start(&mut self) {
        let journal = SqliteJournal::open(&self.db).expect("store");
        let now = Arc::clone(&self.now);
        let clock: Clock = Arc::new(move || now.load(Ordering::SeqCst));
        let service = Service::open(journal, WireLimits::default(), clock, |_| {});
        let service = service.expect("service");
        // As `parley serve` does: history retired before the first request.
        service.set_keep_ended_hours(parley_service::KEEP_ENDED_H);
        self.service = Some(service);
    }

    /// Stops the service and opens it again from its journal.
    pub fn restart(&mut self) {
        drop(self.service.take());
        // The writer closes the store when its last handle is gone.
        std::thread::sleep(std::time::Duration::from_millis(50));
        self.start();
    }

    /// The store's file.
    pub fn db(&self) -> &std::path::Path {
        &self.db
    }

    pub fn service(&self) -> &Service {
        self.service.as_ref().expect("started")
    }

    pub fn at(&self, t: i64) {
        self.now.store(t, Ordering::SeqCst);
    }

    pub fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    pub fn run(&self, a: &Actor, c: Command) -> Result<Value, ServiceError> {
        let (tx, rx) = mpsc::channel();
        let reply = Box::new(move |r| tx.send(r).unwrap());
        self.service().submit(a.clone(), c, None, reply);
        rx.recv().unwrap().map(|answer| answer.body)
    }

    /// Ticks at `t`; the entries logged, with their audiences.
    pub fn tick(&self, t: i64) -> Vec<(Value, Vec<String>)> {
        self.at(t);
        let before = self.service().read(|s| s.last_seq());
        let (tx, rx) = mpsc::channel();
        self.service().tick(Box::new(move |r| tx.send(r).unwrap()));
        rx.recv().unwrap().expect("tick");
        self.service().read(|s| {
            s.logged_after(before)
                .iter()
                .map(|l| (l.entry.public_json(), l.audience.clone()))
                .collect()
        })
    }
}

impl Drop for World {
    fn drop(&mut self) {
        drop(self.service.take());
        remove_store(&self.db);
    }
}

fn remove_store(db: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// Everything the service answers, as each kind of reader (the host, north,
/// south, west), with each of `activities` read by id: the same state gives
/// the same value.
pub fn reads(w: &World, activities: &[String]) -> Value {
    let now = w.now();
    let readers = [host(), officer("north"), officer("south"), officer("west")];
    w.service().read(|s| {
        let last = s.last_seq();
        let per_reader: Vec<Value> = readers
            .iter()
            .map(|a| {
                json!({
                    "activities": s.activities(a, None),
                    "conflicts": s.conflicts(a),
                    "sites": s.sites(a),
                    "lines": serde_json::to_value(s.lines(a, now)).unwrap(),
                    "deadlines": serde_json::to_value(s.deadlines(a, now)).unwrap(),
                    "parties": serde_json::to_value(s.parties(a)).unwrap(),
                    "messages": s.messages(a, "l", 0, 1_000).unwrap_or_default(),
                    "export": s.export(a, None, 0, last),
                    "events": s.events_after(a, 0, 10_000).iter().map(|l| l.seq).collect::<Vec<_>>(),
                    "receipts": (1..=last).map(|seq| s.inclusion(a, seq, last).ok()).collect::<Vec<_>>(),
                    "each": activities.iter().map(|id| s.activity(a, id).ok()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let (size, root) = s.record_head();
        json!({"readers": per_reader, "size": size, "root": root.to_string(),
               "tokens": s.tokens().len(), "last": last})
    })
}

/// Checks `receipt` offline with the record key: the checkpoint's signature,
/// then the leaf's inclusion in it. The checkpoint's size.
pub fn verify(receipt: &Value, signer: &Signer) -> u64 {
    let cp = SignedCheckpoint::parse_and_verify(
        receipt["checkpoint"].as_str().unwrap(),
        &signer.verifier_key(),
    )
    .expect("the checkpoint is signed by the record key");
    let leaf = receipt["leaf"].as_str().unwrap();
    assert_eq!(
        receipt["leaf_hash"].as_str().unwrap(),
        leaf_hash(leaf.as_bytes()).to_string()
    );
    let proof: Vec<Hash> = receipt["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    let seq = receipt["seq"].as_u64().unwrap();
    verify_inclusion(
        &leaf_hash(leaf.as_bytes()),
        seq - 1,
        cp.size,
        &proof,
        &cp.root,
    )
    .expect("the entry is in the signed checkpoint");
    assert_eq!(receipt["tree_size"].as_u64(), Some(cp.size));
    cp.size
}

/// `v` without the ids drawn at random (and the hashes that hold them).
pub fn strip_ids(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in ["activity", "id", "conflict", "content_sha256"] {
                m.remove(k);
            }
            m.values_mut().for_each(strip_ids);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_ids),
        _ => {}
    }
}

/// How snapshots begin (`snapshot/format.rs`): this build's (its image in zstd
/// frames; the record's leaves and its subtrees of 16 leaves; a CRC-32), the
/// build's before (its image in zlib streams, the leaves only), and an
/// earlier build's (its retired activities in its JSON).
pub const WITH_SUBTREES: &[u8] = b"parley-snapshot+zstd+retired+leaves+subtrees+crc32\n";
const WITH_RETIRED: &[u8] = b"parley-snapshot+retired+leaves\n";
const WITH_LEAVES: &[u8] = b"parley-snapshot+leaves\n";

/// A stored snapshot's image (its pieces decompressed, joined, parsed), its
/// retired activities' pairs and the leaves it carries, once its checksum
/// and the subtrees it carries are found right.
pub fn parts(bytes: &[u8]) -> (Value, Vec<u8>, Vec<u8>) {
    let be = |b: &[u8]| u64::from_be_bytes(b[..8].try_into().unwrap()) as usize;
    let rest = bytes
        .strip_prefix(WITH_SUBTREES)
        .expect("a snapshot in this build's format");
    let (rest, crc) = rest.split_at(rest.len() - 4);
    assert_eq!(crc32fast::hash(rest).to_be_bytes(), crc, "its checksum");
    let (mut image, rest) = rest[8..].split_at(be(rest));
    let (retired, rest) = rest[8..].split_at(be(rest));
    let (leaves, subtrees) = rest[8..].split_at(be(rest));
    assert_eq!(subtrees, subtrees_of(leaves), "the subtrees of its leaves");
    let mut json = Vec::new();
    while !image.is_empty() {
        let piece = &image[8..8 + be(image)];
        json.extend(zstd::bulk::decompress(piece, 64 << 20).unwrap());
        image = &image[8 + piece.len()..];
    }
    let image = serde_json::from_slice(&json).unwrap();
    (image, retired.to_vec(), leaves.to_vec())
}

/// The hash of each whole group of 16 leaves (RFC 9162's tree over them).
fn subtrees_of(leaves: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for group in leaves.chunks_exact(16 * 32) {
        let mut level: Vec<Hash> = group
            .chunks(32)
            .map(|h| Hash(h.try_into().unwrap()))
            .collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        out.extend_from_slice(&level[0].0);
    }
    out
}

/// `image` in one piece, `compress`ed, after `begins`, as [`parts`] reads it.
fn piece_after(begins: &[u8], image: &Value, compress: fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let piece = compress(&serde_json::to_vec(image).unwrap());
    let mut out = begins.to_vec();
    out.extend_from_slice(&(piece.len() as u64 + 8).to_be_bytes());
    out.extend_from_slice(&(piece.len() as u64).to_be_bytes());
    out.extend_from_slice(&piece);
    out
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(bytes, 3)
}

/// The reverse of [`parts`] (the image in one piece).
pub fn joined(image: &Value, retired: &[u8], leaves: &[u8]) -> Vec<u8> {
    let mut out = piece_after(WITH_SUBTREES, image, |b| {
        zstd::bulk::compress(b, 3).unwrap()
    });
    for section in [retired, leaves] {
        out.extend_from_slice(&(section.len() as u64).to_be_bytes());
        out.extend_from_slice(section);
    }
    out.extend_from_slice(&subtrees_of(leaves));
    let crc = crc32fast::hash(&out[WITH_SUBTREES.len()..]);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// `image` as the build before saved it: deflated, no subtrees, no checksum.
pub fn previous(image: &Value, retired: &[u8], leaves: &[u8]) -> Vec<u8> {
    let mut out = piece_after(WITH_RETIRED, image, zlib);
    out.extend_from_slice(&(retired.len() as u64).to_be_bytes());
    out.extend_from_slice(retired);
    out.extend_from_slice(leaves);
    out
}

/// `image` as an earlier build saved it: its retired activities' pairs in
/// its JSON, flat, and a handle for every activity and site ever (those
/// gone from memory as `"Retired"`), then the leaves.
pub fn earlier(image: &Value, retired: &[u8], leaves: &[u8]) -> Vec<u8> {
    let mut image = image.clone();
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
    let pairs: Vec<u64> = retired.chunks(8).map(word).collect();
    image["retired"]["pairs"] = json!(pairs);
    let next = image["handles"]["next"].as_u64().unwrap() as usize;
    let mut every = vec![json!("Retired"); next];
    for live in image["handles"]["live"].as_array().unwrap() {
        every[live[0].as_u64().unwrap() as usize] = live[1].clone();
    }
    image["handles"] = json!(every);
    let mut out = piece_after(WITH_LEAVES, &image, zlib);
    out.extend_from_slice(leaves);
    out
}
