//! A talk's record (date, level, participants, agenda with each party's
//! position and the outcome, follow-ups) and its validation from JSON, with
//! errors as JSON pointers into the request. Pure: the deployment's parties and
//! lines come in through [`Known`]; the register itself is `state::talks`.

use crate::error::ServiceError;
use crate::hashing::sha256_hex;
use crate::model::HOST;
use crate::text::check_text;
use parley_wire::parse_timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// By default, a relationship with no confirmed talk for longer than this many
/// days is flagged on the status board (`State::set_talk_gap_days`).
pub const TALK_GAP_DAYS: i64 = 365;

/// At most this many parties, participants, agenda items and follow-ups a record.
pub const MAX_TALK_ITEMS: usize = 50;

pub(crate) const DAY_US: i64 = 86_400_000_000;

/// What became of an agenda item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The parties agreed.
    Agreed,
    /// The parties' positions differ.
    PositionsDiffer,
    /// To be continued at a later talk.
    ToContinue,
}

/// Someone who took part, by role (names are not kept).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// The party they represented.
    pub party: String,
    /// Their role, for example "deputy chief of general staff".
    pub role: String,
}

/// One item of a talk's agenda.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgendaItem {
    /// What was discussed.
    pub item: String,
    /// Each party's position, by party.
    pub positions: BTreeMap<String, String>,
    /// What became of it.
    pub outcome: Outcome,
}

/// An action agreed at a talk, owed by one party by a date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    /// What is to be done.
    pub action: String,
    /// The party that owes it.
    pub owner: String,
    /// When it is due, RFC 3339.
    pub due: String,
}

/// One party's version of the record of a talk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TalkRecord {
    /// The parties that met, two or more.
    pub parties: Vec<String>,
    /// The day the talk took place, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Its level, for example "deputy minister" or "working level".
    pub level: String,
    /// Who took part, by role.
    pub participants: Vec<Participant>,
    /// Where it took place, if it met in person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// The line it was held on, if it was held on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// The agenda, in order.
    pub agenda: Vec<AgendaItem>,
    /// Actions agreed, numbered from 1 in this order.
    pub follow_ups: Vec<FollowUp>,
}

impl TalkRecord {
    /// SHA-256 of the record as compact JSON, hex: what a confirmation reads back.
    pub fn content_sha256(&self) -> String {
        sha256_hex(
            serde_json::to_string(self)
                .expect("records serialize")
                .as_bytes(),
        )
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, if it is one.
pub(crate) fn date_days(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = &s[r];
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// What the parser needs to know about the deployment.
pub(crate) struct Known<'a> {
    pub(crate) party: &'a dyn Fn(&str) -> bool,
    pub(crate) line: &'a dyn Fn(&str) -> bool,
    pub(crate) now_us: i64,
}

fn invalid(pointer: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::invalid(pointer, message)
}

fn object<'a>(v: &'a Value, pointer: &str) -> Result<&'a Map<String, Value>, ServiceError> {
    v.as_object()
        .ok_or_else(|| invalid(pointer, "expected a JSON object"))
}

fn string(
    o: &Map<String, Value>,
    pointer: &str,
    name: &str,
    max: usize,
) -> Result<String, ServiceError> {
    let p = format!("{pointer}/{name}");
    match o.get(name) {
        None | Some(Value::Null) => Err(invalid(
            &p,
            format!("missing; give 1 to {max} bytes of text"),
        )),
        Some(Value::String(s)) => {
            check_text(&p, s, max)?;
            Ok(s.clone())
        }
        Some(_) => Err(invalid(&p, "expected a string")),
    }
}

fn optional_string(
    o: &Map<String, Value>,
    pointer: &str,
    name: &str,
    max: usize,
) -> Result<Option<String>, ServiceError> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        _ => string(o, pointer, name, max).map(Some),
    }
}

fn array<'a>(
    o: &'a Map<String, Value>,
    pointer: &str,
    name: &str,
    min: usize,
) -> Result<&'a [Value], ServiceError> {
    let p = format!("{pointer}/{name}");
    let a = match o.get(name) {
        None | Some(Value::Null) if min == 0 => return Ok(&[]),
        None | Some(Value::Null) => return Err(invalid(&p, "missing; give an array")),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid(&p, "expected an array")),
    };
    if a.len() < min || a.len() > MAX_TALK_ITEMS {
        return Err(invalid(&p, format!("give {min} to {MAX_TALK_ITEMS} items")));
    }
    Ok(a)
}

/// Validates a record as sent (`{parties, date, level, participants, venue,
/// line, agenda, follow_ups}`); errors point into it.
pub(crate) fn parse_record(v: &Value, known: &Known) -> Result<TalkRecord, ServiceError> {
    let o = object(v, "")?;
    const FIELDS: [&str; 8] = [
        "parties",
        "date",
        "level",
        "participants",
        "venue",
        "line",
        "agenda",
        "follow_ups",
    ];
    if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            &format!("/{k}"),
            format!("unknown field; a record has {}", FIELDS.join(", ")),
        ));
    }
    let mut parties = Vec::new();
    for (i, p) in array(o, "", "parties", 2)?.iter().enumerate() {
        let ptr = format!("/parties/{i}");
        let p = p
            .as_str()
            .ok_or_else(|| invalid(&ptr, "expected a party's id"))?;
        if p == HOST || !(known.party)(p) {
            return Err(invalid(
                &ptr,
                format!("no party {p}; give the id of a registered party"),
            ));
        }
        if parties.iter().any(|q| q == p) {
            return Err(invalid(&ptr, format!("{p} is listed twice")));
        }
        parties.push(p.to_string());
    }
    let of_talk = |ptr: &str, p: &Value| -> Result<String, ServiceError> {
        let p = p
            .as_str()
            .ok_or_else(|| invalid(ptr, "expected a party's id"))?;
        if !parties.iter().any(|q| q == p) {
            return Err(invalid(
                ptr,
                format!("{p} is not a party to this talk ({})", parties.join(", ")),
            ));
        }
        Ok(p.to_string())
    };
    let date = string(o, "", "date", 10)?;
    let days = date_days(&date).ok_or_else(|| {
        invalid(
            "/date",
            "write the day as YYYY-MM-DD, for example 2026-11-20",
        )
    })?;
    if days > known.now_us.div_euclid(DAY_US) + 1 {
        return Err(invalid(
            "/date",
            "is in the future; record a talk once it has taken place",
        ));
    }
    let level = string(o, "", "level", 200)?;
    let mut participants = Vec::new();
    for (i, p) in array(o, "", "participants", 0)?.iter().enumerate() {
        let ptr = format!("/participants/{i}");
        let po = object(p, &ptr)?;
        participants.push(Participant {
            party: of_talk(
                &format!("{ptr}/party"),
                po.get("party").unwrap_or(&Value::Null),
            )?,
            role: string(po, &ptr, "role", 200)?,
        });
    }
    let venue = optional_string(o, "", "venue", 200)?;
    let line = optional_string(o, "", "line", 64)?;
    if let Some(l) = &line {
        if !(known.line)(l) {
            return Err(invalid("/line", format!("no line {l} of your party; give one of your lines, or leave it out and give a venue")));
        }
    }
    if venue.is_none() && line.is_none() {
        return Err(invalid(
            "/venue",
            "give where the talk took place (venue) or the line it was held on (line)",
        ));
    }
    let mut agenda = Vec::new();
    for (i, a) in array(o, "", "agenda", 1)?.iter().enumerate() {
        let ptr = format!("/agenda/{i}");
        let ao = object(a, &ptr)?;
        let item = string(ao, &ptr, "item", 500)?;
        let mut positions = BTreeMap::new();
        if let Some(ps) = ao.get("positions").filter(|v| !v.is_null()) {
            let pp = format!("{ptr}/positions");
            for (party, text) in object(ps, &pp)? {
                let tp = format!("{pp}/{party}");
                of_talk(&tp, &Value::from(party.as_str()))?;
                let text = text
                    .as_str()
                    .ok_or_else(|| invalid(&tp, "expected the party's position as text"))?;
                check_text(&tp, text, 4_000)?;
                positions.insert(party.clone(), text.to_string());
            }
        }
        let op = format!("{ptr}/outcome");
        let outcome = match ao.get("outcome").and_then(Value::as_str) {
            Some("agreed") => Outcome::Agreed,
            Some("positions_differ") => Outcome::PositionsDiffer,
            Some("to_continue") => Outcome::ToContinue,
            _ => return Err(invalid(&op, "give agreed, positions_differ or to_continue")),
        };
        agenda.push(AgendaItem {
            item,
            positions,
            outcome,
        });
    }
    let mut follow_ups = Vec::new();
    for (i, f) in array(o, "", "follow_ups", 0)?.iter().enumerate() {
        let ptr = format!("/follow_ups/{i}");
        let fo = object(f, &ptr)?;
        let action = string(fo, &ptr, "action", 1_000)?;
        let owner = of_talk(
            &format!("{ptr}/owner"),
            fo.get("owner").unwrap_or(&Value::Null),
        )?;
        let due = string(fo, &ptr, "due", 64)?;
        parse_timestamp(&due).map_err(|e| invalid(&format!("{ptr}/due"), e))?;
        follow_ups.push(FollowUp { action, owner, due });
    }
    Ok(TalkRecord {
        parties,
        date,
        level,
        participants,
        venue,
        line,
        agenda,
        follow_ups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_1970() {
        assert_eq!(date_days("1970-01-01"), Some(0));
        assert_eq!(date_days("2000-03-01"), Some(11_017));
        assert_eq!(date_days("2026-11-22"), Some(1_795_305_600 / 86_400));
        assert_eq!(
            date_days("2024-02-29").map(|d| d + 1),
            date_days("2024-03-01")
        );
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-11-22",
            "2026-11-2x",
            "2026-00-10",
        ] {
            assert_eq!(date_days(bad), None, "{bad}");
        }
    }
}
