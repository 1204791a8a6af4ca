//! Federation decided by the `State` itself: a peer's parties become parties
//! here, a line naming one is federated, and the ticker checks only this
//! node's own parties on it (a peer's are checked by their own node). The
//! time is the test's own.

use parley_record::Signer;
use parley_service::{Actor, Command, Decision, Entry, LineRules, Logged, Role, State};
use parley_wire::WireLimits;

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
    let d = state
        .decide(&host(), &c, at_us)
        .expect("the world's command");
    apply(state, d, at_us)
}

#[test]
fn line_checks_on_a_federated_line_go_to_this_nodes_parties_only() {
    let mut s = State::new(WireLimits::default());
    s.set_signing("blue.node", 300);
    run(
        &mut s,
        Command::CreateParty {
            party: "blue".into(),
            name: "Blue".into(),
        },
        NOW,
    );
    let red_key = Signer::from_seed("red.node", &[7; 32])
        .unwrap()
        .verifier_key()
        .to_string();
    run(
        &mut s,
        Command::AddPeer {
            node: "red.node".into(),
            url: "http://127.0.0.1:9".into(),
            node_key: red_key,
            parties: vec!["red".into()],
            tls_pin: None,
        },
        NOW,
    );
    assert_eq!(s.line_nodes("air"), Vec::<String>::new());
    let rules = LineRules {
        line_check_interval_s: 600,
        ..LineRules::default()
    };
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
    assert_eq!(s.line_nodes("air"), vec!["red.node".to_string()]);
    // The line's creation is the first entry owed to Red's node.
    assert_eq!(
        s.pending_deliveries(),
        vec![("red.node".into(), "air".into())]
    );
    let ticked = run(&mut s, Command::Tick, NOW + 601 * 1_000_000);
    let checked: Vec<&str> = ticked
        .iter()
        .filter_map(|e| match e {
            Entry::LineCheckSent { party, .. } => Some(party.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(checked, vec!["blue"], "{ticked:?}");
}
