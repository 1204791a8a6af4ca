//! Signed statements decided by the `State` itself (`decide_signed`): a
//! party's signature binds the record's origin, the line, the operator, the
//! time, the action and the content recorded; it is accepted once, across
//! operators; the party's keys form a chain only it extends. Real Ed25519
//! keys and the real statement format; the time is the test's own `NOW`.

use parley_record::Signer;
use parley_service::{
    canonical_volumes, Actor, Claim, Command, Decision, Entry, Logged, Role, ServiceError, Signed,
    State, Volumes,
};
use parley_wire::WireLimits;
use serde_json::{json, Value};

/// The time every command is decided at: a fixed instant is safe for ever
/// here, as no clock is read and the volumes' dates are relative to it.
const NOW: i64 = 1_800_000_000_000_000;
const HOUR: i64 = 3_600_000_000;

fn actor(party: &str, operator: &str, role: Role) -> Actor {
    Actor {
        operator: operator.into(),
        party: party.into(),
        role,
    }
}

fn host() -> Actor {
    actor("host", "host-admin", Role::Admin)
}

fn apply(state: &mut State, decision: Decision, at_us: i64) {
    for (entry, audience) in decision.entries {
        let seq = state.last_seq() + 1;
        state.evolve(Logged {
            seq,
            at_us,
            audience,
            salt: None,
            entry,
        });
    }
}

fn run(state: &mut State, a: &Actor, c: Command) {
    let d = state.decide(a, &c, NOW).expect("the world's command");
    apply(state, d, NOW);
}

/// Blue and red on line `air`; blue's first key registered by its admin.
fn world() -> (State, Signer) {
    let mut s = State::new(WireLimits::default());
    for p in ["blue", "red"] {
        run(
            &mut s,
            &host(),
            Command::CreateParty {
                party: p.into(),
                name: p.into(),
            },
        );
    }
    run(
        &mut s,
        &host(),
        Command::CreateLine {
            line: "air".into(),
            name: "Air".into(),
            parties: vec!["blue".into(), "red".into()],
            rules: Default::default(),
        },
    );
    let key = Signer::from_seed("blue/desk", &[7; 32]).unwrap();
    run(
        &mut s,
        &actor("blue", "blue-admin", Role::Admin),
        Command::RegisterKey {
            party: "blue".into(),
            key: key.verifier_key().to_string(),
        },
    );
    (s, key)
}

fn volume() -> Value {
    let t = |h: i64| parley_wire::format_timestamp(parley_engine::Timestamp(NOW + h * HOUR));
    json!({"volume": {"outline_circle": {"center": {"lat": 20.0, "lng": 20.0},
        "radius": {"value": 500.0, "units": "M"}},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
        "time_start": {"value": t(24), "format": "RFC3339"},
        "time_end": {"value": t(25), "format": "RFC3339"}})
}

fn notify(contact: &str) -> Command {
    Command::Notify {
        line: "air".into(),
        category: parley_service::Category::Air,
        point_of_contact: contact.into(),
        volumes: Volumes::parse(vec![volume()], &WireLimits::default()).unwrap(),
        dry_run: false,
    }
}

/// Blue's signed statement of a notice of `contact` by `operator` at `time`.
fn signed_notice(key: &Signer, contact: &str, operator: &str, time: i64) -> Signed {
    let volumes = canonical_volumes(&[volume()]).unwrap();
    let declared = Claim::notice_content(&volumes, "air", "blue", "notified", "air", contact);
    let statement = Claim::notify("air", &declared)
        .statement(parley_service::ORIGIN, operator, time)
        .text();
    sign(key, &statement)
}

fn sign(key: &Signer, statement: &str) -> Signed {
    let note = key.sign_note(statement).unwrap();
    let line = note.lines().last().unwrap();
    Signed {
        statement: statement.to_string(),
        signature: line.trim_start_matches('\u{2014}').trim().to_string(),
    }
}

fn officer(name: &str) -> Actor {
    actor("blue", name, Role::Officer)
}

fn refusal(r: Result<Decision, ServiceError>) -> ServiceError {
    match r {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

#[test]
fn a_signature_binds_the_content_and_is_accepted_once_across_operators() {
    let (mut s, key) = world();
    let signed = signed_notice(&key, "Blue AOC", "op-1", NOW);
    let d = s
        .decide_signed(&officer("op-1"), &notify("Blue AOC"), Some(&signed), NOW)
        .expect("blue's signed notice");
    let Some((
        Entry::Notice {
            signed: Some(by), ..
        },
        _,
    )) = d.entries.first()
    else {
        panic!("a signed notice: {:?}", d.entries.first())
    };
    assert!(
        by.note.starts_with(
            "parley-statement/v2\norigin parley.local/record\nline air\noperator op-1\n"
        ),
        "{}",
        by.note
    );
    apply(&mut s, d, NOW);

    // Another operator of the party sends it again: replayed, nothing made.
    let again = s.decide_signed(
        &officer("op-2"),
        &notify("Blue AOC"),
        Some(&signed),
        NOW + 1,
    );
    assert!(matches!(refusal(again), ServiceError::Replayed(_)));
    // So does the same operator with a new idempotency key.
    let again = s.decide_signed(
        &officer("op-1"),
        &notify("Blue AOC"),
        Some(&signed),
        NOW + 1,
    );
    assert!(matches!(refusal(again), ServiceError::Replayed(_)));

    // A restart rebuilds the used signatures from the journal.
    let mut fresh = State::new(WireLimits::default());
    for l in s.logged_after(0).iter() {
        fresh.evolve(l.clone());
    }
    let again = fresh.decide_signed(
        &officer("op-2"),
        &notify("Blue AOC"),
        Some(&signed),
        NOW + 2,
    );
    assert!(matches!(refusal(again), ServiceError::Replayed(_)));
}

#[test]
fn a_statement_of_something_else_is_refused_naming_what_differs() {
    let (s, key) = world();
    let cases = [
        // Signed for another point of contact than what is recorded.
        (signed_notice(&key, "Someone else", "op-1", NOW), "content"),
        // By another operator than the one sending it.
        (signed_notice(&key, "Blue AOC", "op-9", NOW), "operator"),
        // Signed for another server's record.
        (
            sign(
                &key,
                &signed_notice(&key, "Blue AOC", "op-1", NOW)
                    .statement
                    .replace("parley.local/record", "other.example/record"),
            ),
            "origin",
        ),
    ];
    for (signed, field) in cases {
        let e = refusal(s.decide_signed(&officer("op-1"), &notify("Blue AOC"), Some(&signed), NOW));
        let text = e.to_string();
        assert!(matches!(e, ServiceError::Invalid { .. }), "{text}");
        assert!(
            text.contains("Parley-Signature") && text.contains(&format!("statement's {field}")),
            "{text}"
        );
    }
}

#[test]
fn a_statement_older_or_further_ahead_than_the_skew_is_refused() {
    let (mut s, key) = world();
    s.set_signing(parley_service::ORIGIN, 60);
    for (time, word) in [(NOW - 61_000_000, "behind"), (NOW + 61_000_000, "ahead")] {
        let signed = signed_notice(&key, "Blue AOC", "op-1", time);
        let e = refusal(s.decide_signed(&officer("op-1"), &notify("Blue AOC"), Some(&signed), NOW));
        assert!(
            e.to_string().contains(word) && e.to_string().contains("60 s"),
            "{e}"
        );
    }
    let signed = signed_notice(&key, "Blue AOC", "op-1", NOW - 59_000_000);
    assert!(s
        .decide_signed(&officer("op-1"), &notify("Blue AOC"), Some(&signed), NOW)
        .is_ok());
    // A key that is not blue's: refused.
    let other = Signer::from_seed("blue/desk", &[8; 32]).unwrap();
    let signed = signed_notice(&other, "Blue AOC", "op-1", NOW);
    let e = refusal(s.decide_signed(&officer("op-1"), &notify("Blue AOC"), Some(&signed), NOW));
    assert!(
        e.to_string()
            .contains("does not verify with any key blue holds"),
        "{e}"
    );
}

#[test]
fn a_partys_keys_are_a_chain_only_it_extends() {
    let (mut s, first) = world();
    let admin = actor("blue", "blue-admin", Role::Admin);
    let second = Signer::from_seed("blue/second", &[9; 32]).unwrap();
    let add = Command::RegisterKey {
        party: "blue".into(),
        key: second.verifier_key().to_string(),
    };
    // Unsigned: refused now that blue holds a key.
    let e = refusal(s.decide_signed(&admin, &add, None, NOW));
    assert!(
        matches!(e, ServiceError::Forbidden(_)) && e.to_string().contains("holds keys"),
        "{e}"
    );
    // Signed by the new key itself (not yet blue's): refused.
    let claim = Claim::add_key("blue", &second.verifier_key().to_string());
    let statement = claim
        .statement(parley_service::ORIGIN, "blue-admin", NOW)
        .text();
    let e = refusal(s.decide_signed(&admin, &add, Some(&sign(&second, &statement)), NOW));
    assert!(e.to_string().contains("does not verify"), "{e}");
    // Signed by the first key: the chain grows, the link kept in the entry.
    let d = s
        .decide_signed(&admin, &add, Some(&sign(&first, &statement)), NOW)
        .expect("a signed link");
    assert!(matches!(
        &d.entries[0].0,
        Entry::PartyKeyRegistered {
            signed: Some(_),
            ..
        }
    ));
    apply(&mut s, d, NOW);

    // The first key revoked with the second: it signs nothing after.
    let first_line = first.verifier_key().to_string();
    let revoke = Command::RevokeKey {
        party: "blue".into(),
        key: first_line.clone(),
    };
    let statement = Claim::revoke_key("blue", &first_line)
        .statement(parley_service::ORIGIN, "blue-admin", NOW)
        .text();
    let e = refusal(s.decide_signed(&admin, &revoke, None, NOW));
    assert!(matches!(e, ServiceError::Forbidden(_)), "{e}");
    let d = s
        .decide_signed(&admin, &revoke, Some(&sign(&second, &statement)), NOW)
        .expect("a signed revocation");
    apply(&mut s, d, NOW);
    assert_eq!(
        s.party_keys("blue").unwrap(),
        vec![second.verifier_key().to_string()]
    );
    let signed = signed_notice(&first, "Blue AOC", "op-1", NOW);
    let e = refusal(s.decide_signed(&officer("op-1"), &notify("Blue AOC"), Some(&signed), NOW));
    assert!(e.to_string().contains("does not verify"), "{e}");
    let signed = signed_notice(&second, "Blue AOC", "op-1", NOW);
    assert!(s
        .decide_signed(&officer("op-1"), &notify("Blue AOC"), Some(&signed), NOW)
        .is_ok());
    // Its last key is not revoked: the chain goes on from a key it holds.
    let second_line = second.verifier_key().to_string();
    let revoke = Command::RevokeKey {
        party: "blue".into(),
        key: second_line.clone(),
    };
    let statement = Claim::revoke_key("blue", &second_line)
        .statement(parley_service::ORIGIN, "blue-admin", NOW)
        .text();
    let e = refusal(s.decide_signed(&admin, &revoke, Some(&sign(&second, &statement)), NOW));
    assert!(
        matches!(e, ServiceError::Conflict(_)) && e.to_string().contains("last key"),
        "{e}"
    );
}
