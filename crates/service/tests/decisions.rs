//! The service's decisions as data: each file in `tests/cases/` holds cases of
//! one concept, each a world built by commands, one command as one actor, and
//! what it must log (entries and who sees them) and answer, or why it must be
//! refused. One `check` runs them all in-process on a `State`, with the time
//! the file gives (no clock, no store, no threads).
//!
//! A case file reads:
//!
//! ```text
//! # A comment.
//! now: 2026-11-22T00:00:00Z          (the time of every command below)
//! do blue/officer: notify {...}      (the world for every case of the file)
//!
//! case: what this case shows
//! do red/officer: ...                (more world, for this case only)
//! as blue/officer: acknowledge {...} (the command checked)
//! entry: {"kind": "acknowledged", ...} | blue,red
//! answer: {"meaning": "received, not approved"}
//! ```
//!
//! or `refused: <kind>: <text the refusal contains>` in place of `entry` and
//! `answer`. An actor is `party/role`; the host's admin is `host/admin`. A
//! command is its name and its fields as JSON (the fields of `Command`'s
//! variant, with volumes in F3548 or GeoJSON). An expected entry or answer
//! names the fields that matter: an object matches when every field it gives
//! matches (other fields are not compared), an array when it has as many
//! elements and each matches, any other value when it is equal.
//! Random ids (`act-…`, `c-…`, `site-…`, `t-…`, `op-…`, `lc-…`) read as
//! `act-*` and so on; a case may write them so. In a command, a string
//! `"$N.field"` is that field of the answer to the case's own Nth `do`
//! (from 1), so a case can acknowledge or amend what its world notified,
//! and `"$N:kind.field"` that field of the first entry of that kind the Nth
//! `do` logged (the id of a line check a `tick` sent, say). In a case,
//! `at: <RFC 3339>` moves its clock for the lines after it (a round of line
//! checks falls due, a deadline passes).

use parley_service::{
    Actor, Command, Entry, LineRules, Logged, Role, ServiceError, State, Volumes, HOST,
};
use parley_wire::{parse_timestamp, WireLimits};
use serde_json::{json, Value};
use std::path::Path;

/// One case of a file.
struct Case {
    name: String,
    /// Where it starts, for messages.
    line: usize,
    world: Vec<(Actor, Value, i64)>,
    /// The case's clock: `now` until an `at:` line moves it.
    clock: i64,
    /// The time of the command checked.
    at: i64,
    actor: Option<Actor>,
    command: Option<Value>,
    entries: Vec<(Value, Vec<String>)>,
    answer: Option<Value>,
    refused: Option<(String, String)>,
}

fn actor(spec: &str) -> Actor {
    let (party, role) = spec
        .split_once('/')
        .unwrap_or_else(|| panic!("an actor is party/role: {spec}"));
    Actor {
        operator: format!("op-{party}-{role}"),
        party: party.to_string(),
        role: Role::parse(role).unwrap_or_else(|| panic!("no role {role}")),
    }
}

/// Field `k` of `f` as a domain word (`"air"`, `"flash"`, ...), `default` if absent.
fn typed<T: serde::de::DeserializeOwned>(f: &Value, k: &str, default: &str) -> T {
    serde_json::from_value(f.get(k).cloned().unwrap_or_else(|| json!(default)))
        .unwrap_or_else(|e| panic!("field {k}: {e}"))
}

/// `name {fields}` as a command by `actor` on `state`, its volumes read as
/// the server reads them (under the line's vertical rules); a refusal of
/// its volumes as the server would answer it.
fn command(
    text: &str,
    limits: &WireLimits,
    state: &State,
    actor: &Actor,
) -> Result<Command, ServiceError> {
    let (name, fields) = text.split_once(' ').unwrap_or((text, "{}"));
    let f: Value = serde_json::from_str(fields)
        .unwrap_or_else(|e| panic!("the fields of {name} are not JSON: {e}: {fields}"));
    let s = |k: &str| {
        f[k].as_str()
            .unwrap_or_else(|| panic!("{name} needs {k}"))
            .to_string()
    };
    let opt_s = |k: &str| f[k].as_str().map(str::to_string);
    let u = |k: &str| f[k].as_u64().unwrap_or_else(|| panic!("{name} needs {k}"));
    let strings = |k: &str| -> Vec<String> {
        f[k].as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let vertical = match name {
        "notify" => state.vertical_rules_for(actor, f["line"].as_str().unwrap_or_default()),
        "amend" => (state.activity_line(f["activity"].as_str().unwrap_or_default()))
            .map(|line| state.vertical_rules_for(actor, &line))
            .unwrap_or_default(),
        _ => Default::default(),
    };
    let volumes = || {
        let list = f["volumes"].as_array().cloned().unwrap_or_default();
        Volumes::parse_on(list, limits, &vertical)
            .map(|v| v.with_unusual_confirmed(f["confirm_unusual"] == true))
    };
    Ok(match name {
        "create_party" => Command::CreateParty {
            party: s("party"),
            name: s("name"),
        },
        "create_operator" => Command::CreateOperator {
            party: s("party"),
            name: s("name"),
            role: Role::parse(&s("role")).expect("a role"),
            token_sha256: s("token_sha256"),
        },
        "revoke_operator" => Command::RevokeOperator {
            operator: s("operator"),
        },
        "set_party_settings" => Command::SetPartySettings {
            party: s("party"),
            host_may_add_operators: f["host_may_add_operators"]
                .as_bool()
                .expect("set_party_settings needs host_may_add_operators"),
        },
        "create_line" => {
            let mut rules = serde_json::to_value(LineRules::default()).unwrap();
            if let Some(given) = f["rules"].as_object() {
                for (k, v) in given {
                    rules[k] = v.clone();
                }
            }
            Command::CreateLine {
                line: s("line"),
                name: s("name"),
                parties: strings("parties"),
                rules: serde_json::from_value(rules).expect("rules"),
            }
        }
        "set_line_status" => Command::SetLineStatus {
            line: s("line"),
            suspended: f["suspended"].as_bool().unwrap_or(false),
        },
        "send_message" => Command::SendMessage {
            line: s("line"),
            message: typed(&f, "message", "text"),
            priority: typed(&f, "priority", "routine"),
            text: s("text"),
            deadline: opt_s("deadline"),
            references: f["references"].as_u64(),
        },
        "notify" => Command::Notify {
            line: s("line"),
            category: typed(&f, "category", "air"),
            point_of_contact: opt_s("point_of_contact").unwrap_or_else(|| "ops".into()),
            volumes: volumes()?,
            dry_run: f["dry_run"].as_bool().unwrap_or(false),
        },
        "amend" => Command::Amend {
            activity: s("activity"),
            replaces_version: u("replaces_version"),
            category: f.get("category").map(|_| typed(&f, "category", "air")),
            point_of_contact: opt_s("point_of_contact"),
            volumes: volumes()?,
            dry_run: f["dry_run"].as_bool().unwrap_or(false),
        },
        "cancel" => Command::Cancel {
            activity: s("activity"),
            replaces_version: u("replaces_version"),
        },
        "acknowledge" => Command::Acknowledge {
            activity: s("activity"),
            version: u("version"),
            content_sha256: s("content_sha256"),
        },
        "coordinate" => Command::Coordinate {
            conflict: s("conflict"),
            note: s("note"),
        },
        "register_key" => Command::RegisterKey {
            party: s("party"),
            key: s("key"),
        },
        "revoke_key" => Command::RevokeKey {
            party: s("party"),
            key: s("key"),
        },
        "bind_certificate" => Command::BindCertificate {
            party: s("party"),
            spki_sha256: s("spki_sha256"),
        },
        "register_site" => Command::RegisterSite {
            name: s("name"),
            site_kind: typed(&f, "kind", "static"),
            volumes: volumes()?,
            expires: s("expires"),
            shared_with_parties: strings("shared_with_parties"),
            shared_with_lines: strings("shared_with_lines"),
        },
        "withdraw_site" => Command::WithdrawSite { site: s("site") },
        "tick" => Command::Tick,
        "answer_line_check" => Command::AnswerLineCheck { check: s("check") },
        "record_talk" => Command::RecordTalk {
            record: f["record"].clone(),
        },
        "propose_talk_version" => Command::ProposeTalkVersion {
            talk: s("talk"),
            record: f["record"].clone(),
        },
        "confirm_talk" => Command::ConfirmTalk {
            talk: s("talk"),
            version: u("version"),
            content_sha256: opt_s("content_sha256"),
        },
        "close_follow_up" => Command::CloseFollowUp {
            talk: s("talk"),
            follow_up: u("follow_up"),
            note: s("note"),
        },
        other => panic!("no command {other} in the case language"),
    })
}

/// Reads a case file: the world of the file, then its cases.
fn parse(text: &str) -> (i64, Vec<(Actor, Value)>, Vec<Case>) {
    let mut now = None;
    let mut world = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, rest) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("line {}: `key: value` expected: {line}", i + 1));
        let rest = rest.trim();
        let case = cases.last_mut();
        match (key, case) {
            ("now", _) => now = Some(parse_timestamp(rest).expect("now: RFC 3339").0),
            ("case", _) => cases.push(Case {
                name: rest.to_string(),
                line: i + 1,
                world: Vec::new(),
                clock: now.expect("`now:` comes before the cases"),
                at: 0,
                actor: None,
                command: None,
                entries: Vec::new(),
                answer: None,
                refused: None,
            }),
            (k, None) if k.starts_with("do ") => {
                world.push((actor(&k[3..]), Value::String(rest.to_string())));
            }
            ("at", Some(c)) => c.clock = parse_timestamp(rest).expect("at: RFC 3339").0,
            (k, Some(c)) if k.starts_with("do ") => {
                c.world
                    .push((actor(&k[3..]), Value::String(rest.to_string()), c.clock));
            }
            (k, Some(c)) if k.starts_with("as ") => {
                c.at = c.clock;
                c.actor = Some(actor(&k[3..]));
                c.command = Some(Value::String(rest.to_string()));
            }
            ("entry", Some(c)) => {
                let (json_text, audience) = rest.rsplit_once(" | ").unwrap_or((rest, ""));
                let entry: Value = serde_json::from_str(json_text)
                    .unwrap_or_else(|e| panic!("line {}: the entry is not JSON: {e}", i + 1));
                let audience = audience
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(|p| p.trim().to_string())
                    .collect();
                c.entries.push((entry, audience));
            }
            ("answer", Some(c)) => {
                c.answer = Some(
                    serde_json::from_str(rest)
                        .unwrap_or_else(|e| panic!("line {}: the answer is not JSON: {e}", i + 1)),
                )
            }
            ("refused", Some(c)) => {
                let (kind, text) = rest.split_once(':').unwrap_or((rest, ""));
                c.refused = Some((kind.trim().to_string(), text.trim().to_string()));
            }
            (k, _) => panic!("line {}: unknown key {k}", i + 1),
        }
    }
    (now.expect("a case file gives `now:`"), world, cases)
}

/// What a `do` of a case answered and logged, for `$N.field` and `$N:kind.field`.
struct Done {
    answer: Value,
    entries: Vec<Value>,
}

/// `text` with every string `"$N.field"` replaced by that field of answer N,
/// and `"$N:kind.field"` by that field of the first `kind` entry `do` N logged.
fn with_answers(text: &str, answers: &[Done]) -> String {
    let Some((name, fields)) = text.split_once(' ') else {
        return text.to_string();
    };
    let Ok(mut f) = serde_json::from_str::<Value>(fields) else {
        return text.to_string();
    };
    if let Some(o) = f.as_object_mut() {
        for v in o.values_mut() {
            let Some((n, field)) = v
                .as_str()
                .and_then(|s| s.strip_prefix('$')?.split_once('.'))
            else {
                continue;
            };
            let wanted = v.to_string();
            let (n, kind) = n.split_once(':').map_or((n, None), |(n, k)| (n, Some(k)));
            let n: usize = n.parse().expect("$N.field: N is a number");
            let done = answers.get(n - 1);
            let source = match kind {
                None => done.map(|d| &d.answer),
                Some(kind) => done.and_then(|d| d.entries.iter().find(|e| e["kind"] == kind)),
            };
            *v = source
                .and_then(|a| a.get(field))
                .cloned()
                .unwrap_or_else(|| panic!("{wanted}: no such answer, entry or field"));
        }
    }
    format!("{name} {f}")
}

/// Random ids as their kind: `act-5e0b…` reads `act-*`.
fn masked(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(mask_ids(s)),
        Value::Array(a) => Value::Array(a.iter().map(masked).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), masked(v))).collect()),
        other => other.clone(),
    }
}

fn mask_ids(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    'outer: while !rest.is_empty() {
        for prefix in ["act-", "site-", "lc-", "op-", "c-", "t-"] {
            let hex = rest.get(prefix.len()..prefix.len() + 16);
            let boundary = out
                .chars()
                .last()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            if boundary
                && rest.starts_with(prefix)
                && hex.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                out.push_str(prefix);
                out.push('*');
                rest = &rest[prefix.len() + 16..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Whether `actual` has everything `expected` gives.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| matches(e, a))
        }
        (e, a) => e == a,
    }
}

fn kind(e: &ServiceError) -> &'static str {
    match e {
        ServiceError::Invalid { .. } => "invalid",
        ServiceError::NotFound(_) => "not-found",
        ServiceError::Forbidden(_) => "forbidden",
        ServiceError::Conflict(_) => "conflict",
        ServiceError::Ended { .. } => "ended",
        ServiceError::Replayed(_) => "replayed",
        ServiceError::Quota(_) => "quota",
        ServiceError::Unavailable(_) => "unavailable",
        ServiceError::StoreFull(_) => "store-full",
    }
}

/// Decides and applies `command` as `actor`, as the writer does: what it
/// answered and the entries it logged.
fn apply(state: &mut State, actor: &Actor, command: &Command, now: i64) -> Done {
    let mut decision = state
        .decide(actor, command, now)
        .unwrap_or_else(|e| panic!("the world's command was refused: {e}"));
    let entries = std::mem::take(&mut decision.entries);
    let logged = entries
        .iter()
        .map(|(e, _)| serde_json::to_value(e).unwrap())
        .collect();
    for (entry, audience) in entries {
        let seq = state.last_seq() + 1;
        state.evolve(Logged {
            seq,
            at_us: now,
            audience,
            salt: None,
            entry,
        });
    }
    Done {
        answer: decision.body,
        entries: logged,
    }
}

/// The world every file starts from: the host and its admin, so that the
/// host's commands are decided as in a real deployment.
fn founded(now: i64) -> State {
    let mut state = State::new(WireLimits::default());
    state.evolve(Logged {
        seq: 1,
        at_us: now,
        audience: vec![HOST.into()],
        salt: None,
        entry: Entry::PartyCreated {
            party: HOST.into(),
            name: "Host".into(),
        },
    });
    state
}

/// Runs every case of `file`; the failures, one paragraph each.
fn check(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let (now, world, cases) = parse(&text);
    let limits = WireLimits::default();
    let mut failures = Vec::new();
    for case in cases {
        let mut state = founded(now);
        for (who, c) in &world {
            let c = command(c.as_str().unwrap(), &limits, &state, who).expect("valid volumes");
            apply(&mut state, who, &c, now);
        }
        let mut answers = Vec::new();
        for (who, c, at) in &case.world {
            let c = with_answers(c.as_str().unwrap(), &answers);
            let c = command(&c, &limits, &state, who).expect("valid volumes");
            answers.push(apply(&mut state, who, &c, *at));
        }
        let where_ = format!("{}:{} ({})", file.display(), case.line, case.name);
        let (Some(actor), Some(c)) = (&case.actor, &case.command) else {
            failures.push(format!("{where_}: no `as party/role: command` line"));
            continue;
        };
        let c = with_answers(c.as_str().unwrap(), &answers);
        let decided =
            command(&c, &limits, &state, actor).and_then(|c| state.decide(actor, &c, case.at));
        match (decided, &case.refused) {
            (Ok(d), None) => {
                let got: Vec<(Value, Vec<String>)> = d
                    .entries
                    .iter()
                    .map(|(e, a)| (masked(&serde_json::to_value(e).unwrap()), a.clone()))
                    .collect();
                let same = got.len() == case.entries.len()
                    && got
                        .iter()
                        .zip(&case.entries)
                        .all(|((g, ga), (e, ea))| matches(e, g) && ga == ea);
                if !same {
                    failures.push(format!(
                        "{where_}: the entries differ\n  expected: {}\n  logged:   {}",
                        serde_json::to_string(&case.entries).unwrap(),
                        serde_json::to_string(&got).unwrap()
                    ));
                }
                let body = masked(&d.body);
                if let Some(want) = &case.answer {
                    if !matches(want, &body) {
                        failures.push(format!(
                            "{where_}: the answer differs\n  expected: {want}\n  answered: {body}"
                        ));
                    }
                }
            }
            (Ok(d), Some((k, t))) => failures.push(format!(
                "{where_}: expected a refusal ({k}: {t}), got the answer {}",
                d.body
            )),
            (Err(e), None) => failures.push(format!("{where_}: refused: {e}")),
            (Err(e), Some((k, t))) => {
                if kind(&e) != k || !mask_ids(&e.to_string()).contains(t.as_str()) {
                    failures.push(format!(
                        "{where_}: expected the refusal {k}: {t}\n  refused: {}: {e}",
                        kind(&e)
                    ));
                }
            }
        }
    }
    failures
}

#[test]
fn the_decisions_in_the_case_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "case files in {}", dir.display());
    let failures: Vec<String> = files.iter().flat_map(|f| check(f)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_case_language_masks_ids_and_matches_what_is_given() {
    assert_eq!(
        mask_ids("act-0123456789abcdef met c-fedcba9876543210"),
        "act-* met c-*"
    );
    assert_eq!(mask_ids("fact-0123456789abcdef"), "fact-0123456789abcdef");
    assert!(matches(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    assert!(!matches(&json!({"a": 1, "c": 3}), &json!({"a": 1, "b": 2})));
    assert!(!matches(&json!([1]), &json!([1, 2])));
    assert!(matches(&json!([{"a": 1}]), &json!([{"a": 1, "b": 2}])));
}
