//! Federation decided by the `State` itself: a peer's parties become parties
//! here, a line naming one is federated, and the ticker checks only this
//! node's own parties on it (a peer's are checked by their own node). The
//! time is the test's own.

use parley_record::Signer;
use parley_service::{
    Actor, Category, Command, Decision, Entry, LineRules, Logged, OperationState, Peer, Role,
    State, Step, Volumes,
};
use parley_wire::{format_timestamp, WireLimits};
use serde_json::json;

// Every command is decided at a time given here and no clock is read, so
// this fixed instant (January 2027) is safe for ever.
const NOW: i64 = 1_800_000_000_000_000;

fn host() -> Actor {
    Actor {
        operator: "host-admin".into(),
        party: "host".into(),
        role: Role::Admin,
    }
}

fn apply(state: &mut State, decision: Decision, at_us: i64) -> Vec<Entry> {
    let mut logged = Vec::new();
    for (entry, audience) in decision.entries {
        let seq = state.last_seq() + 1;
        logged.push(entry.clone());
        state.evolve(Logged {
            seq,
            at_us,
            audience,
            salt: None,
            entry,
        });
    }
    logged
}

fn run(state: &mut State, c: Command, at_us: i64) -> Vec<Entry> {
    run_as(state, &host(), c, at_us)
}

fn run_as(state: &mut State, actor: &Actor, c: Command, at_us: i64) -> Vec<Entry> {
    let d = state.decide(actor, &c, at_us).expect("the world's command");
    apply(state, d, at_us)
}

const S: i64 = 1_000_000;

/// Node `node` with its party `party`, peered with node `peer` (whose
/// record key is `peer_key`) and its party `peer_party`.
fn peered(node: &str, party: &str, (peer, peer_key, peer_party): (&str, &Signer, &str)) -> State {
    let mut s = State::new(WireLimits::default());
    s.set_signing(node, 300);
    run(
        &mut s,
        Command::CreateParty {
            party: party.into(),
            name: party.to_uppercase(),
        },
        NOW,
    );
    run(
        &mut s,
        Command::AddPeer {
            node: peer.into(),
            peer: Peer {
                url: "http://127.0.0.1:9".into(),
                node_key: peer_key.verifier_key().to_string(),
                parties: vec![peer_party.into()],
                tls_pin: None,
                cosigner_key: None,
            },
        },
        NOW,
    );
    s
}

/// Blue's node, peered with Red's, with line `air` between them (its
/// creation the first entry of Blue's log on it, owed to Red's node).
fn blue_node_with_air(rules: LineRules) -> State {
    let red_key = Signer::from_seed("red.node", &[7; 32]).unwrap();
    let mut s = peered("blue.node", "blue", ("red.node", &red_key, "red"));
    run(
        &mut s,
        Command::CreateLine {
            line: "air".into(),
            name: "Air".into(),
            parties: vec!["blue".into(), "red".into()],
            rules,
        },
        NOW,
    );
    s
}

/// Red's node's receipt of Blue's log on `air` up to `through`, as the
/// adapter logs it once checked.
fn receipted(s: &mut State, through: u64, at_us: i64) {
    let seq = s.last_seq() + 1;
    s.evolve(Logged {
        seq,
        at_us,
        audience: vec!["host".into()],
        salt: None,
        entry: Entry::Delivered {
            node: "red.node".into(),
            line: "air".into(),
            through,
            receipt: json!({}),
            cosigned: None,
        },
    });
}

fn red_node(s: &State, at_us: i64) -> (OperationState, serde_json::Value) {
    let line = s.line(&host(), "air", at_us).unwrap();
    let node = serde_json::to_value(&line.operation.nodes[0]).unwrap();
    (line.operation.state, node)
}

fn blue_officer() -> Actor {
    Actor {
        operator: "op-blue".into(),
        party: "blue".into(),
        role: Role::Officer,
    }
}

/// A disc of 1 km at 35N 38E, up to 3,000 m, from 2 to 3 hours after `at_us`.
fn disc_after(at_us: i64) -> Volumes {
    let t = |h: i64| json!({"value": format_timestamp(parley_engine::Timestamp(at_us + h * 3600 * S)), "format": "RFC3339"});
    let volume = json!({"volume": {"outline_circle": {"center": {"lat": 35.0, "lng": 38.0},
        "radius": {"value": 1000.0, "units": "M"}},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
        "time_start": t(2), "time_end": t(3)});
    Volumes::parse(vec![volume], &WireLimits::default()).unwrap()
}

/// A notice of Blue's officer on `air` at `at_us`: its activity.
fn blue_notice(s: &mut State, at_us: i64) -> String {
    let logged = run_as(
        s,
        &blue_officer(),
        Command::Notify {
            line: "air".into(),
            category: Category::Air,
            point_of_contact: "blue ops".into(),
            volumes: disc_after(at_us),
            dry_run: false,
        },
        at_us,
    );
    match logged.first() {
        Some(Entry::Notice { activity, .. }) => activity.clone(),
        _ => panic!("a notice: {logged:?}"),
    }
}

#[test]
fn a_node_that_takes_nothing_in_is_shown_unreachable_and_an_undelivered_notice_escalated() {
    let mut s = blue_node_with_air(LineRules::default());
    // Red's node took the line in at once: the line is live.
    receipted(&mut s, 1, NOW);
    let (state, node) = red_node(&s, NOW + 60 * S);
    assert_ne!(state, OperationState::NodeUnreachable);
    assert_eq!(node["reachable"], true);
    assert_eq!(node["behind_since"], serde_json::Value::Null);

    let notified = NOW + 100 * S;
    let activity = &blue_notice(&mut s, notified);

    // Waiting for its receipt, not yet for long.
    let (state, node) = red_node(&s, notified + 9 * S);
    assert_ne!(state, OperationState::NodeUnreachable);
    assert_eq!(node["receipted"], 1);
    assert_eq!(node["log_size"], 2);
    assert_eq!(
        node["behind_since"],
        format_timestamp(parley_engine::Timestamp(notified))
    );
    // Then too long: the line shows the node, whatever the parties' checks say.
    let (state, node) = red_node(&s, notified + 11 * S);
    assert_eq!(state, OperationState::NodeUnreachable);
    assert_eq!(node["reachable"], false);

    // Escalated to Blue's officers once, a minute after it was logged.
    let early = run(&mut s, Command::Tick, notified + 59 * S);
    assert!(!early
        .iter()
        .any(|e| matches!(e, Entry::NoticeUndelivered { .. })));
    let ticked = run(&mut s, Command::Tick, notified + 61 * S);
    let told: Vec<&Entry> = ticked
        .iter()
        .filter(|e| matches!(e, Entry::NoticeUndelivered { .. }))
        .collect();
    assert_eq!(told.len(), 1, "{ticked:?}");
    let Entry::NoticeUndelivered {
        node,
        activity: a,
        party,
        ..
    } = told[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (node.as_str(), a, party.as_str()),
        ("red.node", activity, "blue")
    );
    let again = run(&mut s, Command::Tick, notified + 120 * S);
    assert!(!again
        .iter()
        .any(|e| matches!(e, Entry::NoticeUndelivered { .. })));

    // Red's node takes it in: in step again.
    receipted(&mut s, 2, notified + 130 * S);
    let (state, node) = red_node(&s, notified + 131 * S);
    assert_ne!(state, OperationState::NodeUnreachable);
    assert_eq!(node["reachable"], true);
}

#[test]
fn line_checks_on_a_federated_line_go_to_this_nodes_parties_only() {
    let rules = LineRules {
        line_check_interval_s: 600,
        ..LineRules::default()
    };
    let mut s = blue_node_with_air(rules);
    assert_eq!(s.line_nodes("air"), vec!["red.node".to_string()]);
    // The line's creation is the first entry owed to Red's node.
    assert_eq!(
        s.pending_deliveries(),
        vec![("red.node".into(), "air".into())]
    );
    let ticked = run(&mut s, Command::Tick, NOW + 601 * S);
    let checked: Vec<&str> = ticked
        .iter()
        .filter_map(|e| match e {
            Entry::LineCheckSent { party, .. } => Some(party.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(checked, vec!["blue"], "{ticked:?}");

    // Red's node checks Red and its entry comes here: shown as Red's
    // evidence, but neither this node's round nor a miss of this node's.
    let round = s.line(&host(), "air", NOW + 602 * S).unwrap();
    let seq = s.last_seq() + 1;
    s.evolve(Logged {
        seq,
        at_us: NOW + 605 * S,
        audience: vec!["blue".into(), "red".into()],
        salt: None,
        entry: Entry::LineCheckSent {
            check: "lc-red".into(),
            line: "air".into(),
            party: "red".into(),
            due: format_timestamp(parley_engine::Timestamp(NOW + 665 * S)),
        },
    });
    let line = s.line(&host(), "air", NOW + 606 * S).unwrap();
    assert_eq!(line.operation.next_round_at, round.operation.next_round_at);
    let red = line.operation.parties.iter().find(|p| p.party == "red");
    assert_eq!(
        red.and_then(|r| r.pending.as_ref())
            .map(|c| c.check.as_str()),
        Some("lc-red")
    );
    let later = run(&mut s, Command::Tick, NOW + 700 * S);
    assert!(
        !later
            .iter()
            .any(|e| matches!(e, Entry::LineCheckMissed { party, .. } if party == "red")),
        "{later:?}"
    );
}

/// Blue's log on `air` from `first`: `entries` (each an entry's JSON) under
/// a checkpoint signed by `blue` over `held` (the leaves before `first`)
/// and them.
fn blue_delivery(
    blue: &Signer,
    held: &mut Vec<parley_record::Hash>,
    entries: &[serde_json::Value],
) -> std::sync::Arc<parley_service::federation::Delivery> {
    let first = held.len() as u64;
    let texts: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| json!({"at_us": NOW + i as i64 * S, "entry": e}).to_string())
        .collect();
    held.extend(texts.iter().map(|t| parley_record::leaf_hash(t.as_bytes())));
    let mut tree = parley_record::MerkleLog::new();
    for leaf in held.iter() {
        tree.append_leaf_hash(*leaf);
    }
    let checkpoint = parley_record::Checkpoint {
        origin: parley_record::Origin::new("blue.node/lines/air").unwrap(),
        size: held.len() as u64,
        root: tree.root(),
        time_us: NOW as u64,
    }
    .sign(blue);
    let d = json!({"from": "blue.node", "line": "air", "first": first, "entries": texts,
        "checkpoint": checkpoint});
    std::sync::Arc::new(serde_json::from_value(d).unwrap())
}

fn ingest(
    s: &State,
    d: &std::sync::Arc<parley_service::federation::Delivery>,
    index: u64,
) -> Result<Decision, parley_service::ServiceError> {
    let c = Command::Ingest {
        delivery: d.clone(),
        index,
    };
    s.decide(&host(), &c, NOW + 10 * S)
}

/// Entry `index` of `d` taken in by `s`, as the writer logs it.
fn take(
    s: &mut State,
    d: &std::sync::Arc<parley_service::federation::Delivery>,
    index: u64,
) -> Vec<Entry> {
    let decision = ingest(s, d, index).expect("taken in");
    apply(s, decision, NOW + 10 * S)
}

fn message(party: &str, text: &str) -> serde_json::Value {
    json!({"kind": "message_sent", "line": "air", "seq": 1, "party": party, "operator": "op",
        "message": "text", "priority": "routine", "text": text})
}

#[test]
fn a_peer_entry_refused_for_good_is_held_not_applied_and_one_that_waits_is_refused() {
    let blue = Signer::from_seed("blue.node", &[9; 32]).unwrap();
    let mut red = peered("red.node", "red", ("blue.node", &blue, "blue"));
    let mut held = Vec::new();
    let created = serde_json::to_value(Entry::LineCreated {
        line: "air".into(),
        name: "Air".into(),
        parties: vec!["blue".into(), "red".into()],
        rules: LineRules::default(),
    })
    .unwrap();
    let d = blue_delivery(&blue, &mut held, &[created]);
    let taken = take(&mut red, &d, 0);
    assert!(
        matches!(
            taken.as_slice(),
            [
                Entry::Received { refused: None, .. },
                Entry::LineCreated { .. }
            ]
        ),
        "{taken:?}"
    );

    // Waiting: a conflict between activities not held here yet may become
    // acceptable once their notices arrive, so the delivery is refused as a
    // request and nothing of it is logged (the sender tries again).
    let side = |id: &str| json!({"kind": "activity", "id": id, "version": 1, "party": "blue"});
    let unknown = json!({"kind": "conflict_found", "conflict": "c-1", "a": side("a-1"),
        "b": side("a-2"), "meetings": []});
    let mut waiting_held = held.clone();
    let d = blue_delivery(&blue, &mut waiting_held, &[unknown]);
    let Err(refused) = ingest(&red, &d, 1) else {
        panic!("a conflict of activities not held waits, refused as a request")
    };
    assert!(
        refused.to_string().contains("not held here yet"),
        "{refused}"
    );
    assert_eq!(
        red.line_logs(&host(), "air").unwrap().nodes["blue.node"]
            .leaves
            .len(),
        1
    );

    // Permanent: a message of a party that is not Blue's node's, then a
    // good one. The first is held (its leaf kept, its refusal said in its
    // `received` entry) but not applied; the second is taken in after it.
    let d = blue_delivery(
        &blue,
        &mut held,
        &[message("red", "forged"), message("blue", "good")],
    );
    let first = take(&mut red, &d, 1);
    let [Entry::Received {
        through: 2,
        logged: 0,
        refused: Some(why),
        ..
    }] = first.as_slice()
    else {
        panic!("one received entry, refused: {first:?}")
    };
    assert!(
        why.contains("a message of red, not a party of blue.node"),
        "{why}"
    );
    let second = take(&mut red, &d, 2);
    assert!(
        matches!(second.as_slice(), [Entry::Received { through: 3, refused: None, .. }, Entry::MessageSent { text, .. }] if text == "good"),
        "{second:?}"
    );
    assert_eq!(
        red.line_logs(&host(), "air").unwrap().nodes["blue.node"]
            .leaves
            .len(),
        3
    );
    // The refusal is found again for the delivery's answer, however often
    // it is sent.
    assert_eq!(red.refusals_of("blue.node", "air", 1, 3).len(), 1);
    assert!(red.refusals_of("blue.node", "air", 2, 3).is_empty());
}

#[test]
fn a_peer_partys_overdue_answer_is_escalated_here_to_the_party_waiting_for_it() {
    let mut s = blue_node_with_air(LineRules::default());
    let mut operator = |name: &str, role: Role| {
        let made = run(
            &mut s,
            Command::CreateOperator {
                party: "blue".into(),
                name: name.into(),
                role,
                token_sha256: parley_service::sha256_hex(name.as_bytes()),
            },
            NOW,
        );
        match made.first() {
            Some(Entry::OperatorCreated { operator, .. }) => operator.clone(),
            _ => panic!("an operator: {made:?}"),
        }
    };
    let (officer, admin) = (
        operator("blue officer", Role::Officer),
        operator("blue admin", Role::Admin),
    );
    receipted(&mut s, 1, NOW);
    let notified = NOW + 100 * S;
    let activity = blue_notice(&mut s, notified);
    // Red owes its acknowledgment within the line's 900 s; no answer comes.
    let due = notified + 900 * S;
    // One step a tick, half the time given apart.
    let ticked: Vec<Entry> = (0..3)
        .flat_map(|k| run(&mut s, Command::Tick, due + k * 450 * S + S))
        .collect();
    let steps: Vec<(Step, &str, Vec<String>)> = ticked
        .iter()
        .filter_map(|e| match e {
            Entry::DeadlineEscalated {
                step, party, to, owed, ..
            } => {
                assert!(matches!(owed, parley_service::Owed::Acknowledgment { activity: a, .. } if *a == activity));
                let mut to = to.clone();
                to.sort();
                Some((*step, party.as_str(), to))
            }
            _ => None,
        })
        .collect();
    // Red's officers and admins are on Red's node, which reminds them; here
    // Blue's, who wait for the answer, are told.
    let mut both = vec![officer, admin.clone()];
    both.sort();
    assert_eq!(
        steps,
        vec![
            (Step::Reminder, "red", both),
            (Step::Overdue, "red", vec![]),
            (Step::Admins, "red", vec![admin]),
        ]
    );
}

/// An activity retired here while another node (a node on the same
/// PostgreSQL, or a peer) logged a new version of it: that version brings it
/// back to memory, rebuilt from its entries, indexed under its new volumes.
#[test]
fn a_new_version_of_a_retired_activity_brings_it_back_to_memory() {
    const DAY: i64 = 24 * 3600 * S;
    let mut s = blue_node_with_air(LineRules::default());
    receipted(&mut s, 1, NOW);
    let activity = blue_notice(&mut s, NOW);
    // Decided elsewhere while the activity was still live there.
    let amend = Command::Amend {
        activity: activity.clone(),
        replaces_version: 1,
        category: None,
        point_of_contact: None,
        volumes: disc_after(NOW + 30 * DAY),
        dry_run: false,
    };
    let amended = s.decide(&blue_officer(), &amend, NOW + S).unwrap();
    assert_eq!(s.retire_ended(NOW + 2 * DAY, DAY), 1);
    assert_eq!((s.activities_held(), s.indexed_volumes()), ((0, 1), 0));
    let read = |s: &State| s.activity(&host(), &activity).unwrap();
    assert_eq!(read(&s)["versions"].as_array().map(Vec::len), Some(1));

    apply(&mut s, amended, NOW + 2 * DAY + S);
    assert_eq!((s.activities_held(), s.indexed_volumes()), ((1, 0), 1));
    let back = read(&s);
    assert_eq!(back["versions"].as_array().map(Vec::len), Some(2), "{back}");
    assert_eq!(back["current"]["version"], 2, "{back}");
    // Still there at the next sweep: its new version ends in a month.
    assert_eq!(s.retire_ended(NOW + 3 * DAY, DAY), 0);
    assert_eq!(s.activities_held(), (1, 0));
}
