//! Signed notes and checkpoints: the published golang.org/x/mod/sumdb/note
//! example, round trips, tampering, strict parsing, and chains of checkpoints.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use parley_record::{
    split_view, verify_chain, verify_entries, ChainError, Checkpoint, MerkleLog, NoteError, Origin,
    SignedCheckpoint, Signer, VerifierKey,
};

// golang.org/x/mod/sumdb/note's example (note.go docs and note_test.go):
// "PRIVATE+KEY+<name>+<id>+base64(0x01 || seed)" and the note it signs.
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn peter() -> Signer {
    let b64 = PETER_SKEY.splitn(5, '+').nth(4).unwrap();
    let bytes = BASE64.decode(b64).unwrap();
    assert_eq!(bytes[0], 1);
    Signer::from_seed("PeterNeumann", bytes[1..].try_into().unwrap()).unwrap()
}

#[test]
fn reproduces_and_verifies_the_go_sumdb_note_example() {
    let signer = peter();
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.verifier_key().to_string(), PETER_VKEY);
    assert_eq!(signer.sign_note(PETER_TEXT).unwrap(), PETER_NOTE);
    let key = VerifierKey::parse(PETER_VKEY).unwrap();
    assert_eq!(key.open_note(PETER_NOTE).unwrap(), PETER_TEXT);
    let changed = PETER_NOTE.replace("cryptography", "cryptographY");
    assert!(matches!(
        key.open_note(&changed),
        Err(NoteError::BadSignature { line: 4, .. })
    ));
}

#[test]
fn verifier_keys_are_checked() {
    assert!(VerifierKey::parse(PETER_VKEY).is_ok());
    for bad in [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", // wrong id
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  // short id
        "PeterNeumann+c74f20a3+AhPc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", // type byte
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  // base64
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", // space
        "PeterNeumann",
        "",
    ] {
        assert!(VerifierKey::parse(bad).is_err(), "{bad}");
    }
    assert!(Signer::from_seed("a+b", &[0; 32]).is_err());
    assert!(Signer::from_seed("", &[0; 32]).is_err());
}

fn signer() -> Signer {
    Signer::from_seed("parley.example/log", &[42; 32]).unwrap()
}

fn checkpoint(size: u64, root: parley_record::Hash) -> Checkpoint {
    Checkpoint {
        origin: Origin::new("parley.example/line/syria-air").unwrap(),
        size,
        root,
        time_us: 1_763_779_200_000_000,
    }
}

#[test]
fn a_checkpoint_round_trips_and_reads_as_the_format_says() {
    let mut log = MerkleLog::new();
    log.append(b"one");
    log.append(b"two");
    let c = checkpoint(log.size(), log.root());
    let note = c.sign(&signer());
    let body = format!(
        "parley.example/line/syria-air\n2\n{}\ntime 1763779200000000\n",
        BASE64.encode(log.root().0)
    );
    assert!(note.starts_with(&format!("{body}\n\u{2014} parley.example/log ")));
    let key = VerifierKey::parse(&signer().verifier_key().to_string()).unwrap();
    assert_eq!(SignedCheckpoint::parse_and_verify(&note, &key).unwrap(), c);
}

#[test]
fn every_changed_byte_of_a_signed_checkpoint_is_rejected() {
    let note = checkpoint(1234, parley_record::leaf_hash(b"x")).sign(&signer());
    let key = signer().verifier_key();
    let bytes = note.as_bytes();
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x20] {
            let mut changed = bytes.to_vec();
            changed[i] ^= flip;
            let Ok(changed) = String::from_utf8(changed) else {
                continue;
            };
            assert!(
                SignedCheckpoint::parse_and_verify(&changed, &key).is_err(),
                "byte {i} ^ {flip:#x} accepted: {changed:?}"
            );
        }
    }
}

#[test]
fn strict_parsing_says_which_line_is_wrong() {
    let s = signer();
    let key = s.verifier_key();
    let root = BASE64.encode([7u8; 32]);
    let open = |body: &str| {
        let note = format!("{body}\n\u{2014} parley.example/log AAAA\n");
        // Sign properly when the body is signable, to reach the body checks.
        let note = s.sign_note(body).unwrap_or(note);
        SignedCheckpoint::parse_and_verify(&note, &key)
            .unwrap_err()
            .to_string()
    };
    let cases = [
        (format!("o\n012\n{root}\ntime 1\n"), "line 2"),
        (format!("o\n12\n{root}\ntime 01\n"), "line 4"),
        (format!("o\n12\n{root}\ntime 1\nextra\n"), "line 5"),
        (format!("o\n12\n{root}\n"), "line 4"),
        ("o\n12\nAAAA\ntime 1\n".to_string(), "line 3"),
        (
            format!("o \n12\n{root}\ntime 1\n"),
            "line 1: ends with a space",
        ),
        (
            format!("o\n12 \n{root}\ntime 1\n"),
            "line 2: ends with a space",
        ),
        (
            format!("o\n12\r\n{root}\ntime 1\n"),
            "line 2: control character",
        ),
        (format!("o\n\n12\n{root}\ntime 1\n"), ""),
    ];
    for (body, want) in cases {
        let got = open(&body);
        assert!(got.contains(want), "{body:?}: {got}");
    }

    let good = checkpoint(3, parley_record::EMPTY_ROOT).sign(&s);
    let other = Signer::from_seed("parley.example/other", &[1; 32]).unwrap();
    let err = SignedCheckpoint::parse_and_verify(&good, &other.verifier_key()).unwrap_err();
    assert!(matches!(err, NoteError::UnknownKey { .. }), "{err}");
    let same_name = Signer::from_seed("parley.example/log", &[1; 32]).unwrap();
    let err = SignedCheckpoint::parse_and_verify(&good, &same_name.verifier_key()).unwrap_err();
    assert!(err.to_string().starts_with("line 6: signed by"), "{err}");
    let trailing = format!("{} \n", good.trim_end());
    let err = SignedCheckpoint::parse_and_verify(&trailing, &key).unwrap_err();
    assert_eq!(err.to_string(), "line 6: ends with a space");
    let no_newline = good.trim_end();
    assert!(SignedCheckpoint::parse_and_verify(no_newline, &key).is_err());
    // A cosignature by another key is ignored; a second one by ours is not.
    let cosigned = format!(
        "{good}{}",
        other
            .sign_note(&checkpoint(3, parley_record::EMPTY_ROOT).body())
            .unwrap()
            .lines()
            .last()
            .unwrap()
    );
    assert!(SignedCheckpoint::parse_and_verify(&format!("{cosigned}\n"), &key).is_ok());
    let twice = format!("{good}{}", good.lines().last().unwrap());
    let err = SignedCheckpoint::parse_and_verify(&format!("{twice}\n"), &key).unwrap_err();
    assert!(err.to_string().contains("second signature"), "{err}");
}

#[test]
fn a_split_view_is_detected() {
    let mut a = MerkleLog::new();
    let mut b = MerkleLog::new();
    for i in 0..10u8 {
        a.append(&[i]);
        b.append(&[if i == 6 { 99 } else { i }]);
    }
    let (ca, cb) = (checkpoint(10, a.root()), checkpoint(10, b.root()));
    assert!(split_view(&ca, &cb));
    assert!(!split_view(&ca, &ca));
    assert!(!split_view(&ca, &checkpoint(9, b.root_at(9).unwrap())));
    let err = verify_chain(&[ca.clone(), cb], &[vec![]]).unwrap_err();
    assert!(
        matches!(err, ChainError::SplitView { size: 10, .. }),
        "{err}"
    );
}

#[test]
fn a_chain_of_checkpoints_is_verified() {
    let mut log = MerkleLog::new();
    let mut chain = Vec::new();
    for i in 0..100u32 {
        log.append(&i.to_be_bytes());
        if i % 17 == 0 || i == 50 {
            chain.push(checkpoint(log.size(), log.root()));
        }
    }
    chain.push(chain.last().unwrap().clone());
    let proofs: Vec<_> = chain
        .windows(2)
        .map(|w| log.consistency_proof(w[0].size, w[1].size).unwrap())
        .collect();
    verify_chain(&chain, &proofs).unwrap();
    assert!(verify_chain(&[], &[]).is_ok());
    assert!(matches!(
        verify_chain(&chain, &proofs[1..]),
        Err(ChainError::ProofCount { .. })
    ));
    let mut unsorted = chain.clone();
    unsorted.swap(1, 2);
    assert!(matches!(
        verify_chain(&unsorted, &proofs),
        Err(ChainError::NotSorted { index: 2, .. })
    ));
    let mut forged = chain.clone();
    forged[3].root.0[0] ^= 1;
    let err = verify_chain(&forged, &proofs).unwrap_err();
    assert!(
        matches!(err, ChainError::Inconsistent { index: 3, .. }),
        "{err}"
    );
    let mut other = chain.clone();
    other[2].origin = Origin::new("elsewhere").unwrap();
    assert!(matches!(
        verify_chain(&other, &proofs),
        Err(ChainError::OriginDiffers { index: 2, .. })
    ));
}

#[test]
fn an_export_is_checked_against_a_checkpoint() {
    let entries: Vec<Vec<u8>> = (0..300u32).map(|i| i.to_le_bytes().repeat(3)).collect();
    let mut log = MerkleLog::new();
    for e in &entries {
        log.append(e);
    }
    let c = checkpoint(log.size(), log.root());
    verify_entries(&entries, &c).unwrap();
    let mut changed = entries.clone();
    changed[123][0] ^= 1;
    assert!(matches!(
        verify_entries(&changed, &c),
        Err(ChainError::RootMismatch { .. })
    ));
    changed = entries.clone();
    changed.swap(1, 2);
    assert!(matches!(
        verify_entries(&changed, &c),
        Err(ChainError::RootMismatch { .. })
    ));
    assert!(matches!(
        verify_entries(&entries[1..], &c),
        Err(ChainError::SizeMismatch {
            entries: 299,
            size: 300
        })
    ));
}
