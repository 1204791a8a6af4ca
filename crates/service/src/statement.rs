//! What a party signs: a `parley-statement/v2`, which names the server's
//! record (its checkpoint origin), the line, talk or party it is about, the
//! operator, a time, the action and its subject, and the SHA-256 of the
//! entry's *declared* content in its canonical form.
//!
//! ```text
//! parley-statement/v2
//! origin parley.local/record
//! line air
//! operator op-3
//! time 1796200000000000
//! action acknowledge act-5 version 2
//! content 3f0a...
//! ```
//!
//! The declared content is what the party states, without the fields the
//! server assigns (a notice's activity id and version): the client computes
//! it from what it sends, the server from what it will record (and refuses a
//! mismatch), and `parley verify export` from the recorded entry. Its one
//! canonical form is RFC 8785 (JCS): [`canonical`]. Every statement is built
//! from a [`Claim`], whose constructors are the only definition of what each
//! action declares; [`Claim::of_entry`] reads the same claim back from an
//! entry as recorded (its public JSON), so client, server and verifier agree
//! by construction.
//!
//! The read-back hash of a notice (`content_sha256`) is not recomputed from a
//! value: it is the SHA-256 of the content's text exactly as the server wrote
//! and stored it, sent and compared as it is. The signed hash must be
//! computed by a client from its own intent, before any text exists, so it
//! needs a form independent of member order and number formatting: JCS.

use crate::hashing::sha256_hex;
use parley_engine::Limits;
use serde_json::{json, Value};

/// The first line of a statement a party signs today.
pub const STATEMENT_V2: &str = "parley-statement/v2";
/// The first line of the statements signed before v2 (method, path,
/// idempotency key and body hash): still read, shown as weaker.
pub const STATEMENT_V1: &str = "parley-request/v1";
/// How far a statement's time may be from the server's clock, by default (s).
pub const SIGNATURE_SKEW_S: i64 = 300;
/// The largest skew a deployment may set (s): used signatures are kept at
/// least this long, so a replay is caught whatever skew is chosen.
pub const MAX_SIGNATURE_SKEW_S: i64 = 86_400;

/// RFC 8785 canonical JSON of `v`: members sorted by their UTF-16 code
/// units, no white space, numbers as ECMAScript prints them.
pub fn canonical(v: &Value) -> String {
    serde_jcs::to_string(v).expect("JSON values canonicalize")
}

/// SHA-256 (hex) of [`canonical`] `v`.
pub fn canonical_sha256(v: &Value) -> String {
    sha256_hex(canonical(v).as_bytes())
}

/// What a signable entry states apart from who, where and when: its scope
/// (`line L`, `talk T` or `party P`), its action and its declared content.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// `line <id>`, `talk <id>` or `party <id>`.
    pub scope: String,
    /// `notify`, `amend act-x version N`, `cancel act-x version N`,
    /// `acknowledge act-x version N`, `confirm t-x version N`,
    /// `add key <key>`, `revoke key <key>`.
    pub action: String,
    /// The declared content, hashed canonically into the statement.
    pub declared: Value,
}

/// A notice's content without what the server assigns (activity, version).
pub(crate) fn declared_notice(content: &Value) -> Value {
    let mut v = content.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("activity");
        o.remove("version");
    }
    v
}

impl Claim {
    /// A first notice on `line` of `content` (`volumes`, `line`, `party`,
    /// `state`, `category`, `point_of_contact`; an activity id and version,
    /// if present, are left out).
    pub fn notify(line: &str, content: &Value) -> Claim {
        Claim {
            scope: format!("line {line}"),
            action: "notify".into(),
            declared: declared_notice(content),
        }
    }

    /// The content a client declares for a new notice: the members of a
    /// notice's content it knows before the server answers.
    pub fn notice_content(
        volumes: &Value,
        line: &str,
        party: &str,
        state: &str,
        category: &str,
        point_of_contact: &str,
    ) -> Value {
        json!({"volumes": volumes, "line": line, "party": party, "state": state,
            "category": category, "point_of_contact": point_of_contact})
    }

    /// Version `version` of `activity` on `line`, an amendment of `content`.
    pub fn amend(line: &str, activity: &str, version: u64, content: &Value) -> Claim {
        Claim {
            scope: format!("line {line}"),
            action: format!("amend {activity} version {version}"),
            declared: declared_notice(content),
        }
    }

    /// Version `version` of `activity`: its cancellation, whose content is
    /// the cancelled notice's with `state` "cancelled".
    pub fn cancel(line: &str, activity: &str, version: u64, content: &Value) -> Claim {
        let mut declared = declared_notice(content);
        declared["state"] = Value::from("cancelled");
        Claim {
            scope: format!("line {line}"),
            action: format!("cancel {activity} version {version}"),
            declared,
        }
    }

    /// `party` received version `version` of `activity` whose read-back is
    /// `content_sha256`.
    pub fn acknowledge(
        line: &str,
        activity: &str,
        version: u64,
        party: &str,
        content_sha256: &str,
    ) -> Claim {
        Claim {
            scope: format!("line {line}"),
            action: format!("acknowledge {activity} version {version}"),
            declared: json!({"activity": activity, "version": version, "party": party,
                "content_sha256": content_sha256}),
        }
    }

    /// `party` stands by version `version` of the record of `talk`.
    pub fn confirm(talk: &str, version: u64, party: &str, content_sha256: &str) -> Claim {
        Claim {
            scope: format!("talk {talk}"),
            action: format!("confirm {talk} version {version}"),
            declared: json!({"talk": talk, "version": version, "party": party,
                "content_sha256": content_sha256}),
        }
    }

    /// `party` adds `key` to its keys (signed by a key it holds already).
    pub fn add_key(party: &str, key: &str) -> Claim {
        Claim {
            scope: format!("party {party}"),
            action: format!("add key {key}"),
            declared: json!({"party": party, "key": key, "change": "add"}),
        }
    }

    /// `party` revokes `key`.
    pub fn revoke_key(party: &str, key: &str) -> Claim {
        Claim {
            scope: format!("party {party}"),
            action: format!("revoke key {key}"),
            declared: json!({"party": party, "key": key, "change": "revoke"}),
        }
    }

    /// The claim an entry as recorded (its public JSON, with `kind`) makes,
    /// if it is of a signable kind. A notice's content is given apart (a
    /// leaf holds it by hash); an acknowledgment names no line, so
    /// `line_of` finds its activity's.
    pub fn of_entry(
        entry: &Value,
        content: Option<&Value>,
        line_of: impl Fn(&str) -> Option<String>,
    ) -> Option<Claim> {
        let s = |k: &str| entry[k].as_str().unwrap_or_default();
        let version = entry["version"].as_u64().unwrap_or_default();
        match s("kind") {
            "notice" => {
                let content = content.or(entry.get("content"))?;
                Some(match (s("state"), version) {
                    ("cancelled", _) => Claim::cancel(s("line"), s("activity"), version, content),
                    (_, 1) => Claim::notify(s("line"), content),
                    _ => Claim::amend(s("line"), s("activity"), version, content),
                })
            }
            "acknowledged" => Some(Claim::acknowledge(
                &line_of(s("activity"))?,
                s("activity"),
                version,
                s("party"),
                s("content_sha256"),
            )),
            "talk_confirmed" => Some(Claim::confirm(
                s("talk"),
                version,
                s("party"),
                s("content_sha256"),
            )),
            "party_key_registered" => Some(Claim::add_key(s("party"), s("key"))),
            "party_key_revoked" => Some(Claim::revoke_key(s("party"), s("key"))),
            _ => None,
        }
    }

    /// The statement of this claim by `operator` at `time_us` on the record
    /// named `origin`.
    pub fn statement(&self, origin: &str, operator: &str, time_us: i64) -> Statement {
        Statement {
            origin: origin.to_string(),
            scope: self.scope.clone(),
            operator: operator.to_string(),
            time_us,
            action: self.action.clone(),
            content_sha256: canonical_sha256(&self.declared),
        }
    }
}

/// A `parley-statement/v2`, field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The server's record origin.
    pub origin: String,
    /// `line <id>`, `talk <id>` or `party <id>`.
    pub scope: String,
    /// The operator who sends it.
    pub operator: String,
    /// When it was signed, µs since the Unix epoch.
    pub time_us: i64,
    /// The action and its subject.
    pub action: String,
    /// [`canonical_sha256`] of the declared content.
    pub content_sha256: String,
}

/// The statement's lines after the first, by their label.
const LABELS: [&str; 6] = ["origin", "scope", "operator", "time", "action", "content"];

impl Statement {
    /// The text that is signed (each line ends in a newline).
    pub fn text(&self) -> String {
        format!(
            "{STATEMENT_V2}\norigin {}\n{}\noperator {}\ntime {}\naction {}\ncontent {}\n",
            self.origin, self.scope, self.operator, self.time_us, self.action, self.content_sha256
        )
    }

    /// Reads a statement's text (strictly: the lines of [`Statement::text`]).
    pub fn parse(text: &str) -> Result<Statement, String> {
        let body = text
            .strip_suffix('\n')
            .ok_or("a statement ends with a newline")?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.first() != Some(&STATEMENT_V2) {
            return Err(format!("a statement begins with the line {STATEMENT_V2}"));
        }
        if lines.len() != 1 + LABELS.len() {
            return Err(format!(
                "a statement has {} lines: {STATEMENT_V2}, {}",
                1 + LABELS.len(),
                LABELS.join(", ")
            ));
        }
        let mut values = Vec::new();
        for (line, label) in lines[1..].iter().zip(LABELS) {
            let value = if label == "scope" {
                ["line ", "talk ", "party "]
                    .iter()
                    .any(|p| line.starts_with(p) && line.len() > p.len())
                    .then_some(*line)
            } else {
                line.strip_prefix(label)
                    .and_then(|v| v.strip_prefix(' '))
                    .filter(|v| !v.is_empty())
            };
            values.push(value.ok_or_else(|| {
                format!("line {line:?} should be `{label} ...`{}", scope_hint(label))
            })?);
        }
        let time_us = values[3]
            .parse()
            .map_err(|_| format!("time {:?}: give µs since the Unix epoch", values[3]))?;
        Ok(Statement {
            origin: values[0].into(),
            scope: values[1].into(),
            operator: values[2].into(),
            time_us,
            action: values[4].into(),
            content_sha256: values[5].into(),
        })
    }

    /// The first field in which `self` differs from `expected` (the time
    /// aside), as `(label, expected value, given value)`.
    pub fn differs_from(&self, expected: &Statement) -> Option<(&'static str, String, String)> {
        let pairs = [
            ("origin", &expected.origin, &self.origin),
            ("scope", &expected.scope, &self.scope),
            ("operator", &expected.operator, &self.operator),
            ("action", &expected.action, &self.action),
            ("content", &expected.content_sha256, &self.content_sha256),
        ];
        pairs
            .into_iter()
            .find(|(_, e, g)| e != g)
            .map(|(l, e, g)| (l, e.clone(), g.clone()))
    }
}

fn scope_hint(label: &str) -> &'static str {
    if label == "scope" {
        " (line ID, talk ID or party ID)"
    } else {
        ""
    }
}

/// The signed note of `statement` with the signature line `signature`
/// (`<key name> <base64>`), as kept in an entry's `signed.note`.
pub fn signed_note(statement: &str, signature: &str) -> String {
    format!("{statement}\n\u{2014} {}\n", signature.trim())
}

/// Volumes as a notice's content holds them (each the F3548 form of what
/// validates), for a client to declare before it sends them. Checked against
/// no limits: the server applies its own.
pub fn canonical_volumes(json: &[Value]) -> Result<Value, String> {
    let open = parley_wire::WireLimits {
        volume: Limits {
            max_vertices: usize::MAX,
            max_area_m2: f64::INFINITY,
            max_extent_m: f64::INFINITY,
            max_duration_us: i64::MAX,
        },
        max_volumes: usize::MAX,
        ..Default::default()
    };
    crate::content::Volumes::parse(json.to_vec(), &open)
        .map(|v| v.raw().to_value())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
#[path = "statement_tests.rs"]
mod tests;
