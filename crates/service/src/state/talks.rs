//! The register of talks between parties: every party's version of each
//! talk's record (see [`crate::talk_record`]), confirmations, and follow-ups
//! tracked to closure as deadlines.
//!
//! A record is proposed by an officer of one party (version 1), which stands by
//! it. An officer of another party confirms that version or submits its own: each
//! side's version is kept, side by side. The talk is confirmed when every party
//! stands by the same version; from then on its follow-ups are deadlines of their
//! owner parties (escalated like any other, see `crate::deadlines`) until closed.

use super::{Decision, State};
use crate::deadlines::{Deadline, Owed};
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::hashing::new_id;
use crate::model::WriteOutcome;
use crate::model::{Actor, Role, HOST};
use crate::talk_record::{date_days, parse_record, Known, TalkRecord, DAY_US};
use crate::text::{check_text, time_text};
use crate::views::{TalkRelationView, TalkState, TalkSummaryView};
use parley_wire::parse_timestamp;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A talk as the journal built it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Talk {
    pub(crate) parties: Vec<String>,
    /// Journal positions of its versions (`talk_recorded` entries), in order.
    versions: Vec<u64>,
    records: Vec<TalkRecord>,
    /// The version each party stands by.
    standing: BTreeMap<String, u64>,
    /// Journal positions of its confirmations.
    confirmations: Vec<u64>,
    /// The version every party confirmed.
    confirmed: Option<u64>,
    /// Closed follow-ups (numbered from 1): the journal position of the closure.
    closed: BTreeMap<u64, u64>,
}

impl Talk {
    /// The record that counts: the confirmed one, else the latest.
    fn record(&self) -> &TalkRecord {
        let v = self.confirmed.unwrap_or(self.records.len() as u64);
        &self.records[(v - 1) as usize]
    }

    fn state(&self) -> TalkState {
        let standing: BTreeSet<u64> = self.standing.values().copied().collect();
        match (self.confirmed, standing.len()) {
            (Some(_), _) => TalkState::Confirmed,
            (None, 0 | 1) => TalkState::AwaitingConfirmation,
            (None, _) => TalkState::Disputed,
        }
    }

    fn open_follow_ups(&self) -> usize {
        match self.confirmed {
            Some(_) => self.record().follow_ups.len() - self.closed.len(),
            None => 0,
        }
    }
}

/// Every talk, by id.
#[derive(Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Talks {
    by_id: BTreeMap<String, Talk>,
}

impl Talks {
    /// Whether every journal position the talks refer to is within the
    /// first `len` entries and every talk has the record it stands by (a
    /// snapshot's check, `image.rs`).
    pub(crate) fn check_positions(&self, len: u64) -> Result<(), String> {
        for (id, t) in &self.by_id {
            let positions = t.versions.iter().chain(&t.confirmations);
            let records = t.records.len() as u64;
            if positions
                .chain(t.closed.values())
                .any(|&s| s == 0 || s > len)
                || records == 0
                || t.confirmed.is_some_and(|v| v == 0 || v > records)
                || t.standing.values().any(|&v| v == 0 || v > records)
            {
                return Err(format!(
                    "talk {id} refers to what the journal does not hold"
                ));
            }
        }
        Ok(())
    }

    /// The parties of `talk`, if it exists.
    pub(crate) fn parties(&self, talk: &str) -> Option<&[String]> {
        self.by_id.get(talk).map(|t| t.parties.as_slice())
    }

    /// The line `talk` was held on, if it exists and was held on one.
    pub(crate) fn line(&self, talk: &str) -> Option<&str> {
        self.by_id.get(talk)?.records.first()?.line.as_deref()
    }

    /// Whether a peer node's talk entry on `line`, by its own party `party`,
    /// follows what is held here; why not, in words.
    pub(crate) fn judge_peer_entry(&self, line: &str, entry: &Entry) -> Result<(), String> {
        let held_on = |t: &Talk| t.records[0].line.as_deref() == Some(line);
        match entry {
            Entry::TalkRecorded {
                talk,
                version,
                party,
                content_sha256,
                record,
                ..
            } => {
                if record.line.as_deref() != Some(line) || !record.parties.contains(party) {
                    return Err(format!("a talk of {party} not held on {line}"));
                }
                if record.content_sha256() != *content_sha256 {
                    return Err("the record does not hash to its content_sha256".into());
                }
                let next = self
                    .by_id
                    .get(talk)
                    .map_or(1, |t| t.records.len() as u64 + 1);
                let same_parties = self.by_id.get(talk).is_none_or(|t| {
                    held_on(t)
                        && t.confirmed.is_none()
                        && t.parties.iter().collect::<BTreeSet<_>>()
                            == record.parties.iter().collect()
                });
                if *version != next || !same_parties {
                    return Err(format!(
                        "talk {talk} version {version} does not follow what is held (version {next} expected, the same parties)"
                    ));
                }
                Ok(())
            }
            Entry::TalkConfirmed {
                talk,
                version,
                party,
                content_sha256,
                ..
            } => {
                let t = self.by_id.get(talk).filter(|t| held_on(t));
                let hash = t
                    .filter(|t| t.parties.contains(party))
                    .and_then(|t| t.records.get((*version as usize).checked_sub(1)?))
                    .map(TalkRecord::content_sha256);
                if hash.as_ref() != Some(content_sha256) {
                    return Err(format!(
                        "{party} confirms no version {version} of talk {talk} held here"
                    ));
                }
                Ok(())
            }
            Entry::FollowUpClosed {
                talk,
                follow_up,
                party,
                ..
            } => {
                let owed = self
                    .by_id
                    .get(talk)
                    .filter(|t| held_on(t) && t.confirmed.is_some())
                    .and_then(|t| {
                        let f = t
                            .record()
                            .follow_ups
                            .get((*follow_up as usize).checked_sub(1)?)?;
                        Some(f.owner == *party && !t.closed.contains_key(follow_up))
                    });
                if owed != Some(true) {
                    return Err(format!(
                        "{party} closes no open follow-up {follow_up} of talk {talk} held here"
                    ));
                }
                Ok(())
            }
            _ => Err("not an entry of the register of talks".into()),
        }
    }
}

/// The pseudo line of a talk's follow-up deadlines. Not the talk's line: its
/// parties may be fewer than the line's, and only they may see the talk.
pub(crate) fn deadline_line(talk: &str) -> String {
    format!("talk:{talk}")
}

impl State {
    fn visible_talk(&self, actor: &Actor, talk: &str) -> Result<&Talk, ServiceError> {
        self.talks
            .by_id
            .get(talk)
            .filter(|t| t.parties.contains(&actor.party))
            .ok_or_else(|| ServiceError::NotFound(format!("talk {talk}")))
    }

    fn writable_talk(&self, actor: &Actor, talk: &str) -> Result<&Talk, ServiceError> {
        let t = self.visible_talk(actor, talk)?;
        if !t.parties.contains(&actor.party) || actor.role == Role::Observer {
            return Err(ServiceError::Forbidden(
                "only an officer of a party to the talk does this".into(),
            ));
        }
        Ok(t)
    }

    fn parse_talk(
        &self,
        actor: &Actor,
        record: &Value,
        now_us: i64,
    ) -> Result<TalkRecord, ServiceError> {
        let party = |p: &str| self.parties.contains_key(p);
        let line = |l: &str| self.is_member(&actor.party, l);
        parse_record(
            record,
            &Known {
                party: &party,
                line: &line,
                now_us,
            },
        )
    }

    /// `Command::RecordTalk`: version 1 of a new talk.
    pub(crate) fn decide_record_talk(
        &self,
        actor: &Actor,
        record: &Value,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        if actor.party == HOST || actor.role == Role::Observer {
            return Err(ServiceError::Forbidden(
                "only an officer of a party records a talk".into(),
            ));
        }
        let record = self.parse_talk(actor, record, now_us)?;
        if !record.parties.contains(&actor.party) {
            return Err(ServiceError::invalid(
                "/parties",
                format!("list your own party ({}) among the parties", actor.party),
            ));
        }
        self.require_talk_nodes(&record)?;
        let talk = new_id("t");
        self.talk_version(actor, talk, 1, record)
    }

    fn talk_version(
        &self,
        actor: &Actor,
        talk: String,
        version: u64,
        record: TalkRecord,
    ) -> Result<Decision, ServiceError> {
        let content_sha256 = record.content_sha256();
        let audience = record.parties.clone();
        let body = json!({"talk": talk, "version": version, "content_sha256": content_sha256,
                          "stood_by": actor.party});
        let entry = Entry::TalkRecorded {
            talk,
            version,
            party: actor.party.clone(),
            operator: actor.operator.clone(),
            content_sha256,
            record,
        };
        Ok(Decision {
            entries: vec![(entry, audience)],
            outcome: WriteOutcome::Created,
            body,
            volumes: None,
        })
    }

    /// `Command::ProposeTalkVersion`: a party's own version of the record.
    pub(crate) fn decide_talk_version(
        &self,
        actor: &Actor,
        talk: &str,
        record: &Value,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        let t = self.writable_talk(actor, talk)?;
        if let Some(v) = t.confirmed {
            return Err(ServiceError::Conflict(format!(
                "talk {talk} was confirmed in version {v}; its record is closed"
            )));
        }
        let record = self.parse_talk(actor, record, now_us)?;
        let same: BTreeSet<&String> = record.parties.iter().collect();
        if same != t.parties.iter().collect() {
            return Err(ServiceError::invalid(
                "/parties",
                format!(
                    "a version keeps the talk's parties: {}",
                    t.parties.join(", ")
                ),
            ));
        }
        // Across nodes a talk travels on its line: a version keeps it.
        if record.line != t.records[0].line && t.parties.iter().any(|p| self.is_remote_party(p)) {
            return Err(ServiceError::invalid(
                "/line",
                format!(
                    "a talk with a party of another node stays on the line it was held on ({})",
                    t.records[0].line.as_deref().unwrap_or_default()
                ),
            ));
        }
        if let Some(i) = t.records.iter().position(|r| *r == record) {
            return Err(ServiceError::Conflict(format!(
                "this is version {} word for word; confirm it instead",
                i + 1
            )));
        }
        let version = t.records.len() as u64 + 1;
        self.talk_version(actor, talk.to_string(), version, record)
    }

    /// `Command::ConfirmTalk`: a party stands by one version.
    pub(crate) fn decide_confirm_talk(
        &self,
        actor: &Actor,
        talk: &str,
        version: u64,
        content_sha256: Option<&str>,
    ) -> Result<Decision, ServiceError> {
        let t = self.writable_talk(actor, talk)?;
        if let Some(v) = t.confirmed {
            return Err(ServiceError::Conflict(format!(
                "talk {talk} was confirmed already, in version {v}"
            )));
        }
        let latest = t.records.len() as u64;
        if version == 0 || version > latest {
            return Err(ServiceError::invalid(
                "/version",
                format!("talk {talk} has versions 1 to {latest}"),
            ));
        }
        let hash = t.records[(version - 1) as usize].content_sha256();
        if content_sha256.is_some_and(|h| h != hash) {
            return Err(ServiceError::Conflict(format!(
                "content_sha256 is not that of version {version} ({hash}); read it again"
            )));
        }
        if t.standing.get(&actor.party) == Some(&version) {
            return Err(ServiceError::Conflict(format!(
                "{} stands by version {version} already",
                actor.party
            )));
        }
        let confirmed = t
            .parties
            .iter()
            .all(|p| *p == actor.party || t.standing.get(p) == Some(&version));
        let entry = Entry::TalkConfirmed {
            talk: talk.to_string(),
            version,
            party: actor.party.clone(),
            operator: actor.operator.clone(),
            content_sha256: hash.clone(),
            signed: None,
        };
        let body = json!({"talk": talk, "version": version, "content_sha256": hash,
                          "state": if confirmed { "confirmed" } else { "awaiting_confirmation" }});
        Ok(Decision {
            entries: vec![(entry, t.parties.clone())],
            outcome: WriteOutcome::Done,
            body,
            volumes: None,
        })
    }

    /// `Command::CloseFollowUp`: the owner party closes a follow-up of a confirmed talk.
    pub(crate) fn decide_close_follow_up(
        &self,
        actor: &Actor,
        talk: &str,
        follow_up: u64,
        note: &str,
    ) -> Result<Decision, ServiceError> {
        let t = self.writable_talk(actor, talk)?;
        let Some(_) = t.confirmed else {
            return Err(ServiceError::Conflict(format!(
                "talk {talk} is not confirmed yet; its follow-ups start once every party confirms one version"
            )));
        };
        let f = follow_up
            .checked_sub(1)
            .and_then(|i| t.record().follow_ups.get(i as usize))
            .ok_or_else(|| {
                ServiceError::NotFound(format!("follow-up {follow_up} of talk {talk}"))
            })?;
        if f.owner != actor.party {
            return Err(ServiceError::Forbidden(format!(
                "follow-up {follow_up} is owed by {}; only its officers close it",
                f.owner
            )));
        }
        if t.closed.contains_key(&follow_up) {
            return Err(ServiceError::Conflict(format!(
                "follow-up {follow_up} of talk {talk} is closed already"
            )));
        }
        check_text("/note", note, 2_000)?;
        let entry = Entry::FollowUpClosed {
            talk: talk.to_string(),
            follow_up,
            party: actor.party.clone(),
            operator: actor.operator.clone(),
            note: note.to_string(),
        };
        Ok(Decision {
            entries: vec![(entry, t.parties.clone())],
            outcome: WriteOutcome::Done,
            body: json!({"talk": talk, "follow_up": follow_up, "state": "closed"}),
            volumes: None,
        })
    }

    /// Applies `talk_recorded`.
    pub(crate) fn evolve_talk_recorded(
        &mut self,
        seq: u64,
        talk: &str,
        version: u64,
        party: &str,
        record: &TalkRecord,
    ) {
        let t = self
            .talks
            .by_id
            .entry(talk.to_string())
            .or_insert_with(|| Talk {
                parties: record.parties.clone(),
                versions: Vec::new(),
                records: Vec::new(),
                standing: BTreeMap::new(),
                confirmations: Vec::new(),
                confirmed: None,
                closed: BTreeMap::new(),
            });
        t.versions.push(seq);
        t.records.push(record.clone());
        t.standing.insert(party.to_string(), version);
    }

    /// Applies `talk_confirmed`: once every party stands by one version, its
    /// follow-ups become deadlines of their owners.
    pub(crate) fn evolve_talk_confirmed(
        &mut self,
        seq: u64,
        at_us: i64,
        talk: &str,
        version: u64,
        party: &str,
    ) {
        let Some(t) = self.talks.by_id.get_mut(talk) else {
            return;
        };
        t.confirmations.push(seq);
        t.standing.insert(party.to_string(), version);
        if t.parties
            .iter()
            .all(|p| t.standing.get(p) == Some(&version))
        {
            t.confirmed = Some(version);
            for (i, f) in t.record().follow_ups.iter().enumerate() {
                let owed = Owed::FollowUp {
                    talk: talk.to_string(),
                    follow_up: i as u64 + 1,
                };
                let due = parse_timestamp(&f.due).map_or(at_us, |t| t.0);
                self.deadlines.set(Deadline::new(
                    &deadline_line(talk),
                    &f.owner,
                    owed,
                    at_us,
                    due,
                ));
            }
        }
    }

    /// Applies `follow_up_closed`: its deadline is met.
    pub(crate) fn evolve_follow_up_closed(
        &mut self,
        seq: u64,
        talk: &str,
        follow_up: u64,
        party: &str,
    ) {
        if let Some(t) = self.talks.by_id.get_mut(talk) {
            t.closed.insert(follow_up, seq);
        }
        let owed = Owed::FollowUp {
            talk: talk.to_string(),
            follow_up,
        };
        self.deadlines.meet(&owed.id(&deadline_line(talk), party));
    }

    fn talk_json(&self, id: &str, t: &Talk, now_us: i64) -> Value {
        let r = t.record();
        let versions: Vec<Value> = t
            .versions
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let mut v = self.logged_json(s);
                let n = i as u64 + 1;
                let by: Vec<&String> = t
                    .standing
                    .iter()
                    .filter(|(_, &w)| w == n)
                    .map(|(p, _)| p)
                    .collect();
                v["stood_by"] = json!(by);
                v
            })
            .collect();
        let confirmations: Vec<Value> = t
            .confirmations
            .iter()
            .map(|&s| self.logged_json(s))
            .collect();
        let follow_ups: Vec<Value> = if t.confirmed.is_some() {
            r.follow_ups
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let n = i as u64 + 1;
                    let closed = t.closed.get(&n).map(|&s| self.logged_json(s));
                    let overdue = parse_timestamp(&f.due).is_ok_and(|d| d.0 <= now_us);
                    let state = match (&closed, overdue) {
                        (Some(_), _) => "closed",
                        (None, true) => "overdue",
                        (None, false) => "open",
                    };
                    let owed = Owed::FollowUp {
                        talk: id.to_string(),
                        follow_up: n,
                    };
                    let steps = ["reminder", "overdue", "admins"];
                    let escalation = self
                        .deadlines
                        .get(&owed.id(&deadline_line(id), &f.owner))
                        .map_or(&steps[..0], |d| &steps[..d.steps_done]);
                    json!({"id": n, "action": f.action, "owner": f.owner, "due": f.due,
                           "state": state, "escalation": escalation, "closure": closed})
                })
                .collect()
        } else {
            Vec::new()
        };
        let pending: Vec<&String> = t
            .parties
            .iter()
            .filter(|p| t.standing.get(*p) != Some(&(t.records.len() as u64)))
            .collect();
        json!({"id": id, "parties": t.parties, "date": r.date, "level": r.level,
               "venue": r.venue, "line": r.line, "state": t.state(),
               "version": t.confirmed.unwrap_or(t.records.len() as u64),
               "confirmed_version": t.confirmed, "standing": t.standing,
               "awaiting": if t.confirmed.is_some() { Vec::new() } else { pending },
               "record": r, "content_sha256": r.content_sha256(),
               "follow_ups": follow_ups, "versions": versions, "confirmations": confirmations})
    }

    /// One talk with every version, confirmation and follow-up, if `actor`'s
    /// party took part (the host's admins do not see talks).
    pub fn talk(&self, actor: &Actor, talk: &str, now_us: i64) -> Result<Value, ServiceError> {
        let t = self.visible_talk(actor, talk)?;
        Ok(self.talk_json(talk, t, now_us))
    }

    /// The talks `actor`'s party took part in, latest date first.
    pub fn talks(&self, actor: &Actor) -> Vec<TalkSummaryView> {
        let mut list: Vec<(&String, &Talk)> = self
            .talks
            .by_id
            .iter()
            .filter(|(_, t)| t.parties.contains(&actor.party))
            .collect();
        list.sort_by(|a, b| b.1.record().date.cmp(&a.1.record().date).then(b.0.cmp(a.0)));
        list.into_iter()
            .map(|(id, t)| {
                let r = t.record();
                TalkSummaryView {
                    id: id.clone(),
                    parties: t.parties.clone(),
                    date: r.date.clone(),
                    level: r.level.clone(),
                    venue: r.venue.clone(),
                    line: r.line.clone(),
                    state: t.state(),
                    versions: t.records.len(),
                    confirmed_version: t.confirmed,
                    agenda_items: r.agenda.len(),
                    open_follow_ups: t.open_follow_ups(),
                }
            })
            .collect()
    }

    /// For `actor`'s party, each other party it has a talk or a line with:
    /// days since the last confirmed talk, confirmed talks in the last 365 days,
    /// open follow-ups, and `flagged` when there was no confirmed talk for more
    /// than the deployment's gap, [`crate::TALK_GAP_DAYS`] by default (or never).
    pub fn talk_relations(&self, actor: &Actor, now_us: i64) -> Vec<TalkRelationView> {
        let me = &actor.party;
        let mut others: BTreeSet<&String> = BTreeSet::new();
        for l in self.lines.values().filter(|l| l.parties.contains(me)) {
            others.extend(l.parties.iter().filter(|p| *p != me));
        }
        for t in self.talks.by_id.values().filter(|t| t.parties.contains(me)) {
            others.extend(t.parties.iter().filter(|p| *p != me));
        }
        let today = now_us.div_euclid(DAY_US);
        others
            .into_iter()
            .map(|other| {
                let together: Vec<&Talk> = self
                    .talks
                    .by_id
                    .values()
                    .filter(|t| t.parties.contains(me) && t.parties.contains(other))
                    .collect();
                let days: Vec<i64> = together
                    .iter()
                    .filter(|t| t.confirmed.is_some())
                    .filter_map(|t| date_days(&t.record().date))
                    .collect();
                let last = days.iter().max().copied();
                let since = last.map(|d| (today - d).max(0));
                let per_year = days.iter().filter(|&&d| today - d < 365).count();
                let open: usize = together.iter().map(|t| t.open_follow_ups()).sum();
                let flagged = since.is_none_or(|s| s > self.talk_gap_days);
                TalkRelationView {
                    party: other.clone(),
                    last_talk: last.map(|d| time_text(d * DAY_US)[..10].to_string()),
                    days_since_last_talk: since,
                    talks_last_365_days: per_year,
                    unconfirmed_talks: together.iter().filter(|t| t.confirmed.is_none()).count(),
                    open_follow_ups: open,
                    flagged,
                    flag_after_days: self.talk_gap_days,
                }
            })
            .collect()
    }
}
