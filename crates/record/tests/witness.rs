//! Witnessing: cosignature/v1 lines, the add-checkpoint request, every
//! refusal of tlog-witness with its status, and tlog-policy quorums.

use parley_record::*;

const LOG: &str = "parley.local/record";

fn log_signer(seed: u8) -> Signer {
    Signer::from_seed(LOG, &[seed; 32]).unwrap()
}

fn tree(entries: &[&str]) -> MerkleLog {
    let mut log = MerkleLog::new();
    for e in entries {
        log.append(e.as_bytes());
    }
    log
}

fn note(signer: &Signer, log: &MerkleLog, size: u64) -> String {
    Checkpoint {
        origin: Origin::new(LOG).unwrap(),
        size,
        root: log.root_at(size).unwrap(),
        time_us: 1_000_000 + size,
    }
    .sign(signer)
}

fn request(old_size: u64, proof: Vec<Hash>, note: String) -> AddCheckpoint {
    AddCheckpoint {
        old_size,
        proof,
        note,
    }
}

/// Runs the witness's decision with one known log.
fn decide(
    key: &VerifierKey,
    req: &AddCheckpoint,
    latest: Option<&Witnessed>,
) -> Result<Decision, Refusal> {
    check_add_checkpoint(req, |o| (o == LOG).then_some(key), latest)
}

#[test]
fn a_cosignature_verifies_and_commits_to_the_body_and_time() {
    let w = Cosigner::from_seed("witness.blue.example/w1", &[9; 32]).unwrap();
    let key = CosignerKey::parse(&w.cosigner_key().to_string()).unwrap();
    assert_eq!(key, w.cosigner_key());
    let signed = note(&log_signer(1), &tree(&["a", "b"]), 2);
    let body = &signed[..signed.find("\n\n").unwrap() + 1];
    let line = w.cosign(body, 1_700_000_000);
    assert!(line.starts_with("\u{2014} witness.blue.example/w1 "));
    let cosigned = format!("{signed}{line}");
    assert_eq!(key.verify_in(&cosigned), Ok(Some(1_700_000_000)));
    assert_eq!(key.verify_in(&signed), Ok(None), "no cosignature yet");
    // The log's own key still opens the cosigned note.
    log_signer(1)
        .verifier_key()
        .open_note(&cosigned)
        .expect("cosignatures are other keys' lines");
    // Another time than the one signed: the signature fails.
    let other = w.cosign(body, 1_700_000_001);
    let (_, blob) = other.trim_end().rsplit_once(' ').unwrap();
    let (_, good) = line.trim_end().rsplit_once(' ').unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut forged = b64.decode(good).unwrap();
    forged[4..12].copy_from_slice(&b64.decode(blob).unwrap()[4..12]);
    let forged = format!(
        "{signed}\u{2014} witness.blue.example/w1 {}\n",
        b64.encode(forged)
    );
    assert!(matches!(
        key.verify_in(&forged),
        Err(NoteError::BadSignature { .. })
    ));
    // A control character in a name would make lines no verifier reads.
    assert!(Cosigner::from_seed("w\u{1}.example", &[9; 32]).is_err());
    assert!(Signer::from_seed("log\u{7f}.example", &[9; 32]).is_err());
    // A note key (type 0x01) is not a cosigner key (0x04) and back.
    assert!(CosignerKey::parse(&log_signer(1).verifier_key().to_string()).is_err());
    assert!(VerifierKey::parse(&w.cosigner_key().to_string()).is_err());
}

#[test]
fn the_cosigner_key_id_uses_type_byte_0x04() {
    use sha2::{Digest, Sha256};
    let w = Cosigner::from_seed("w.example", &[3; 32]).unwrap();
    let k = w.cosigner_key();
    let mut h = Sha256::new();
    h.update(b"w.example\n\x04");
    h.update(k.key_bytes());
    let id = hex(&h.finalize()[..4]);
    assert_eq!(
        k.to_string().split('+').nth(1).unwrap(),
        id,
        "SHA-256(name || \\n || 0x04 || key)[:4]"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_request_body_round_trips_and_bad_bodies_name_the_line() {
    let log = tree(&["a", "b", "c"]);
    let req = request(
        2,
        log.consistency_proof(2, 3).unwrap(),
        note(&log_signer(1), &log, 3),
    );
    let body = req.body();
    assert!(body.starts_with("old 2\n"));
    assert_eq!(AddCheckpoint::parse(&body), Ok(req));
    for (bad, line) in [
        ("old 01\n\nx\n", 1),
        ("new 1\n\nx\n", 1),
        ("old 1\nnot-base64!\n\nx\n", 2),
        ("old 1\nAAAA\n\nx\n", 2),
        ("old 1\n\n", 3),
        ("old 1\n", 2),
    ] {
        assert_eq!(AddCheckpoint::parse(bad).unwrap_err().line, line, "{bad:?}");
    }
    let too_long = format!(
        "old 1\n{}\nx\n",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".repeat(64)
    );
    assert_eq!(AddCheckpoint::parse(&too_long).unwrap_err().line, 65);
}

#[test]
fn the_witness_cosigns_only_what_extends_what_it_cosigned() {
    let signer = log_signer(1);
    let key = signer.verifier_key();
    let log = tree(&["a", "b", "c", "d", "e"]);
    // First sight: old 0, no proof.
    let d = decide(&key, &request(0, vec![], note(&signer, &log, 3)), None).unwrap();
    assert_eq!(d.verdict, Ok(()));
    assert_eq!(d.head.size, 3);
    let held = Witnessed {
        size: 3,
        root: log.root_at(3).unwrap(),
    };
    // Growth with the right proof.
    let grow = request(
        3,
        log.consistency_proof(3, 5).unwrap(),
        note(&signer, &log, 5),
    );
    assert_eq!(decide(&key, &grow, Some(&held)).unwrap().verdict, Ok(()));
    // The same checkpoint again: cosigned again.
    let same = request(3, vec![], note(&signer, &log, 3));
    assert_eq!(decide(&key, &same, Some(&held)).unwrap().verdict, Ok(()));

    // 409: the old size is not the witness's; the body tells its size.
    let stale = request(0, vec![], note(&signer, &log, 5));
    let d = decide(&key, &stale, Some(&held)).unwrap();
    assert_eq!(
        d.verdict,
        Err(Refusal::OldSize {
            old_size: 0,
            witness_size: 3
        })
    );
    assert_eq!(d.verdict.as_ref().unwrap_err().status(), 409);
    assert!(!d.evidence, "a stale old size proves nothing");

    // 409: same size, another root (a split view), kept as evidence.
    let other = tree(&["a", "b", "X"]);
    let d = decide(
        &key,
        &request(3, vec![], note(&signer, &other, 3)),
        Some(&held),
    )
    .unwrap();
    assert!(matches!(d.verdict, Err(Refusal::SplitView { size: 3, .. })));
    assert_eq!(d.verdict.as_ref().unwrap_err().status(), 409);
    assert!(d.evidence);

    // 409 and evidence: a smaller checkpoint than the one cosigned (rollback).
    let d = decide(
        &key,
        &request(0, vec![], note(&signer, &log, 2)),
        Some(&held),
    )
    .unwrap();
    assert_eq!(d.verdict.as_ref().unwrap_err().status(), 409);
    assert!(d.evidence, "a signed checkpoint smaller than one cosigned");

    // 422: a larger tree that rewrote history, with its own (honest) proof.
    let forked = tree(&["a", "b", "X", "d", "e"]);
    let fork = request(
        3,
        forked.consistency_proof(3, 5).unwrap(),
        note(&signer, &forked, 5),
    );
    let d = decide(&key, &fork, Some(&held)).unwrap();
    assert!(matches!(d.verdict, Err(Refusal::BadProof { .. })));
    assert_eq!(d.verdict.as_ref().unwrap_err().status(), 422);
    assert!(d.evidence);

    // 422: a proof when old is 0.
    let d = decide(
        &key,
        &request(
            0,
            log.consistency_proof(3, 5).unwrap(),
            note(&signer, &log, 5),
        ),
        None,
    )
    .unwrap();
    assert_eq!(d.verdict.as_ref().unwrap_err().status(), 422);

    // 400: old larger than the checkpoint.
    let d = decide(
        &key,
        &request(4, vec![], note(&signer, &log, 3)),
        Some(&held),
    )
    .unwrap();
    assert_eq!(d.verdict.as_ref().unwrap_err().status(), 400);
}

#[test]
fn unknown_logs_and_keys_are_refused_before_anything_else() {
    let signer = log_signer(1);
    let key = signer.verifier_key();
    let log = tree(&["a"]);
    // 403: signed by another key under the log's name.
    let forged = note(&log_signer(2), &log, 1);
    let err = decide(&key, &request(0, vec![], forged), None).unwrap_err();
    assert_eq!(err.status(), 403, "{err}");
    // 403: the log's signature line tampered with.
    let mut tampered = note(&signer, &log, 1);
    tampered = tampered.replacen("\n1\n", "\n2\n", 1);
    let err = decide(&key, &request(0, vec![], tampered), None).unwrap_err();
    assert_eq!(err.status(), 403, "{err}");
    // 404: an origin the witness does not know.
    let stranger = Signer::from_seed("elsewhere.example/log", &[1; 32]).unwrap();
    let other = Checkpoint {
        origin: Origin::new("elsewhere.example/log").unwrap(),
        size: 1,
        root: log.root(),
        time_us: 0,
    }
    .sign(&stranger);
    let err = decide(&key, &request(0, vec![], other), None).unwrap_err();
    assert_eq!(err.status(), 404, "{err}");
    // 400: not a note at all.
    let err = decide(
        &key,
        &request(0, vec![], format!("{LOG}\nnot a note\n")),
        None,
    )
    .unwrap_err();
    assert_eq!(err.status(), 400, "{err}");
}

fn cosign(note: &str, w: &Cosigner, t: u64) -> String {
    let body = &note[..note.find("\n\n").unwrap() + 1];
    format!("{note}{}", w.cosign(body, t))
}

#[test]
fn a_policy_counts_cosignatures_through_groups() {
    let signer = log_signer(1);
    let ws: Vec<Cosigner> = (0..3)
        .map(|i| Cosigner::from_seed(&format!("w{i}.example"), &[10 + i; 32]).unwrap())
        .collect();
    let text = format!(
        "# parties and the relief office\nlog {}\n\twitness blue {}\nwitness red {} https://red.example\nwitness office {}\ngroup parties all blue red\ngroup any-two 2 blue red office\ngroup either any parties any-two\nquorum either\n",
        signer.verifier_key(),
        ws[0].cosigner_key(),
        ws[1].cosigner_key(),
        ws[2].cosigner_key()
    );
    let policy = Policy::parse(&text).unwrap();
    let n = note(&signer, &tree(&["a"]), 1);
    let err = policy.check(&n).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the quorum `either` is not met: cosigned by none of the policy's witnesses"
    );
    let one = cosign(&n, &ws[0], 5);
    assert_eq!(
        policy.check(&one).unwrap_err(),
        PolicyError::QuorumNotMet {
            quorum: "either".into(),
            cosigned: vec!["blue".into()]
        }
    );
    let two = cosign(&one, &ws[2], 6);
    let ok = policy.check(&two).unwrap();
    assert_eq!(ok.cosigned, vec![("blue".into(), 5), ("office".into(), 6)]);
    assert_eq!(ok.log, signer.verifier_key());
    // Another log's note is refused whatever its cosignatures.
    let other = cosign(
        &cosign(&note(&log_signer(2), &tree(&["a"]), 1), &ws[0], 1),
        &ws[1],
        1,
    );
    assert!(matches!(policy.check(&other), Err(PolicyError::NoLog(_))));
    // A checkpoint whose origin is not the log key's name is refused.
    let elsewhere = Checkpoint {
        origin: Origin::new("elsewhere.example/log").unwrap(),
        size: 1,
        root: tree(&["a"]).root(),
        time_us: 1,
    }
    .sign(&signer);
    let elsewhere = cosign(&cosign(&elsewhere, &ws[0], 1), &ws[1], 1);
    match policy.check(&elsewhere) {
        Err(PolicyError::NoLog(why)) => assert!(why.contains("origin line"), "{why}"),
        other => panic!("{other:?}"),
    }
    // quorum none: the log's signature is enough.
    let none = format!("log {}\nquorum none\n", signer.verifier_key());
    assert_eq!(
        Policy::parse(&none).unwrap().check(&n).unwrap().cosigned,
        vec![]
    );
}

#[test]
fn bad_policies_name_the_line() {
    let w = Cosigner::from_seed("w.example", &[1; 32])
        .unwrap()
        .cosigner_key();
    let l = log_signer(1).verifier_key();
    for (text, line) in [
        (format!("log {l}\nquorum w\n"), 2),
        (format!("witness w {w}\nwitness v {w}\nquorum w\n"), 2),
        (format!("witness w {w}\ngroup g 2 w\nquorum g\n"), 2),
        (format!("witness w {w}\ngroup g 01 w\nquorum g\n"), 2),
        (format!("witness w {w}\ngroup g any w w\nquorum g\n"), 2),
        (format!("witness none {w}\nquorum none\n"), 1),
        (format!("witness w {l}\nquorum w\n"), 1),
        (format!("log {w}\nquorum none\n"), 1),
        (
            format!(
                "log {l}\nlog {}\nquorum none\n",
                Signer::from_seed("other.name", &[1; 32])
                    .unwrap()
                    .verifier_key()
            ),
            2,
        ),
        ("quorum none\nquorum none\n".to_string(), 2),
        ("quorum none\nverifier x\n".to_string(), 2),
        ("quorum none\n\u{7}\n".to_string(), 2),
    ] {
        match Policy::parse(&text) {
            Err(PolicyError::Line { line: got, .. }) => assert_eq!(got, line, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    assert_eq!(
        Policy::parse(&format!("log {l}\n")).unwrap_err(),
        PolicyError::NoQuorum
    );
}

#[test]
fn tile_paths_read_and_write_as_tlog_tiles_says() {
    for (path, level, index, width) in [
        ("0/000", Some(0), 0, 256),
        ("1/x001/x234/067", Some(1), 1_234_067, 256),
        ("2/005.p/17", Some(2), 5, 17),
        ("entries/x001/000.p/255", None, 1000, 255),
    ] {
        let t = TilePath::parse(path).unwrap();
        assert_eq!((t.level, t.index, t.width), (level, index, width), "{path}");
        assert_eq!(t.path(), path);
    }
    for bad in [
        "0/1",
        "0/0001",
        "0/001/002",
        "x/000",
        "64/000",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/07",
        "0/x000/001",
        "0",
        "0/000.p/",
    ] {
        assert!(TilePath::parse(bad).is_err(), "{bad}");
    }
    // A tile's hashes are the level's subtree roots.
    let log = {
        let mut log = MerkleLog::new();
        for i in 0..600 {
            log.append(format!("e{i}").as_bytes());
        }
        log
    };
    let t = TilePath::parse("0/002.p/88").unwrap();
    let bytes = t.hashes(&log).unwrap();
    assert_eq!(bytes.len(), 88 * 32);
    assert_eq!(&bytes[..32], &log.leaf(512).unwrap().0);
    let up = TilePath::parse("1/000.p/2").unwrap().hashes(&log).unwrap();
    assert_eq!(&up[32..], &log.subtree_hash(8, 1).unwrap().0);
    assert!(TilePath::parse("0/002.p/89").unwrap().hashes(&log).is_err());
    assert!(TilePath::parse("1/000.p/3").unwrap().hashes(&log).is_err());
}
