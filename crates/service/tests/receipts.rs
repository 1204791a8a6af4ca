//! Every write answers with a signed receipt of its entry: one checkpoint
//! signed per batch of the group commit, the receipt kept with the
//! idempotency record (a retry, also after a restart, gets the original).

mod common;

use common::{officer, verify, World};
use parley_record::Signer;
use parley_service::{Command, Idempotency, LineRules, MessageKind, Priority};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::mpsc;

fn signer() -> Signer {
    Signer::from_seed("parley.local/record", &[7; 32]).unwrap()
}

fn message(text: &str) -> Command {
    Command::SendMessage {
        line: "l".into(),
        message: MessageKind::Text,
        priority: Priority::Routine,
        text: text.into(),
        deadline: None,
        references: None,
    }
}

#[test]
fn a_batch_of_writes_is_answered_with_receipts_under_one_signed_checkpoint() {
    let w = World::new(
        "receipts-batch",
        &["a", "b"],
        &["a", "b"],
        LineRules::default(),
    );
    w.service().set_record_signer(signer());
    let (tx, rx) = mpsc::channel();
    // The writer waits for the state's lock while this read holds it, so the
    // writes sent meanwhile are committed in at most two batches.
    let sent = 40;
    w.service().read(|_| {
        for i in 0..sent {
            let tx = tx.clone();
            let reply = Box::new(move |r| tx.send(r).unwrap());
            w.service()
                .submit(officer("a"), message(&format!("m{i}")), None, reply);
        }
    });
    let answers: Vec<Value> = (0..sent)
        .map(|_| rx.recv().unwrap().expect("written").body)
        .collect();
    let mut checkpoints = HashSet::new();
    let mut seqs = HashSet::new();
    for a in &answers {
        let r = &a["receipt"];
        assert!(r.is_object(), "no receipt in {a}");
        let size = verify(r, &signer());
        assert!(size >= r["seq"].as_u64().unwrap());
        let leaf: Value = serde_json::from_str(r["leaf"].as_str().unwrap()).unwrap();
        assert_eq!(leaf["entry"]["kind"], "message_sent");
        assert!(a["seq"].is_u64(), "{a}");
        assert_eq!(
            leaf["entry"]["seq"], a["seq"],
            "the receipt is of this write's entry"
        );
        checkpoints.insert(r["checkpoint"].as_str().unwrap().to_string());
        seqs.insert(r["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs.len(), sent, "one entry a write");
    assert!(
        checkpoints.len() <= 2,
        "{} checkpoints signed for {sent} writes in at most two batches",
        checkpoints.len()
    );
}

#[test]
fn a_retry_is_answered_the_original_receipt_also_after_a_restart() {
    let mut w = World::new(
        "receipts-replay",
        &["a", "b"],
        &["a", "b"],
        LineRules::default(),
    );
    w.service().set_record_signer(signer());
    let send = |w: &World, text: &str| {
        let (tx, rx) = mpsc::channel();
        let idem = Idempotency {
            key: "k-1".into(),
            request_sha256: "same request".into(),
        };
        let reply = Box::new(move |r| tx.send(r).unwrap());
        w.service()
            .submit(officer("a"), message(text), Some(idem), reply);
        rx.recv().unwrap().expect("answered")
    };
    let first = send(&w, "hello");
    assert!(!first.replayed);
    verify(&first.body["receipt"], &signer());
    // More entries since: a new receipt would be of a larger tree.
    w.run(&officer("b"), message("later")).unwrap();
    let again = send(&w, "hello");
    assert!(again.replayed);
    assert_eq!(again.body, first.body, "the original answer and receipt");
    w.restart();
    w.service().set_record_signer(signer());
    let after = send(&w, "hello");
    assert!(after.replayed);
    assert_eq!(after.body["receipt"], first.body["receipt"]);
}

#[test]
fn a_service_without_a_record_key_gives_no_receipt() {
    let w = World::new(
        "receipts-none",
        &["a", "b"],
        &["a", "b"],
        LineRules::default(),
    );
    let answer = w.run(&officer("a"), message("no key yet")).unwrap();
    assert!(answer.get("receipt").is_none(), "{answer}");
    w.service().set_record_signer(signer());
    let answer = w.run(&officer("a"), message("signed")).unwrap();
    assert!(answer["receipt"].is_object(), "{answer}");
}
