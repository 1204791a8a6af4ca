//! Conflicts: judged between two things one line shares (two activities on
//! the line, or an activity and a site the line shares; see [`crate::site`]),
//! the same whichever arrives first, told only to the line's parties who see
//! both sides; resolved by an amendment, cancellation or withdrawal, or marked
//! coordinated by every party told.

use super::sites::site_side;
use super::{Decision, Handle, State};
use crate::entry::{Entry, Logged, Side};
use crate::error::ServiceError;
use crate::model::WriteOutcome;
use crate::model::{Actor, Role};
use crate::shared_value::SharedValue;
use crate::text::check_text;
use parley_engine::{Minima, Volume};
use parley_wire::meeting_json;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Conflict {
    pub(super) a: Side,
    pub(super) b: Side,
    pub(super) at: u64,
    /// The parties told of it (the line's parties who see both sides).
    pub(super) audience: Vec<String>,
    pub(super) resolved: Option<String>,
    pub(super) coordinated: BTreeMap<String, String>,
}

impl Conflict {
    /// Coordinated once every party told of it has marked it so.
    pub(super) fn is_coordinated(&self) -> bool {
        self.audience
            .iter()
            .all(|p| self.coordinated.contains_key(p))
    }
}

/// A conflict found for a new notice or site: the other side, where and when
/// they meet, and the parties to tell.
pub(super) struct Found {
    pub(super) side: Side,
    pub(super) meetings: Vec<Value>,
    pub(super) audience: Vec<String>,
}

impl Found {
    /// Logs conflict `conflict` between `a` and this side to its audience, and
    /// reports it in the answer to `party` only if `party` is told: not of a
    /// site it does not see, which the line's other parties are told of.
    pub(super) fn log(
        self,
        conflict: String,
        a: Side,
        party: &str,
        entries: &mut Vec<(Entry, Vec<String>)>,
        reported: &mut Vec<Value>,
    ) {
        let entry = Entry::ConflictFound {
            conflict: conflict.clone(),
            a,
            b: self.side,
            meetings: self.meetings,
        };
        if self.audience.iter().any(|p| p == party) {
            let mut shown = entry.public_json();
            shown["id"] = json!(conflict);
            reported.push(shown);
        }
        entries.push((entry, self.audience));
    }
}

impl State {
    /// `Command::Coordinate`: a party told of a conflict marks it coordinated.
    pub(super) fn decide_coordinate(
        &self,
        actor: &Actor,
        conflict: &str,
        note: &str,
    ) -> Result<Decision, ServiceError> {
        if let Some(refusal) = self.conflict_of_history(actor, conflict) {
            return Err(refusal);
        }
        let c = self
            .conflicts
            .get(conflict)
            .filter(|c| actor.is_host_admin() || c.audience.contains(&actor.party))
            .ok_or_else(|| ServiceError::NotFound(format!("conflict {conflict}")))?;
        if !c.audience.contains(&actor.party) {
            return Err(ServiceError::Forbidden(
                "only the parties told of a conflict mark it coordinated".into(),
            ));
        }
        if actor.role == Role::Observer {
            return Err(ServiceError::Forbidden(
                "observers cannot mark conflicts coordinated".into(),
            ));
        }
        check_text("/note", note, 2_000)?;
        if let Some(by) = &c.resolved {
            return Err(ServiceError::Conflict(format!(
                "conflict {conflict} was resolved already ({by})"
            )));
        }
        if c.coordinated.contains_key(&actor.party) {
            return Err(ServiceError::Conflict(format!(
                "{} marked conflict {conflict} coordinated already",
                actor.party
            )));
        }
        let entry = Entry::ConflictCoordinated {
            conflict: conflict.to_string(),
            party: actor.party.clone(),
            note: note.to_string(),
        };
        let both = c
            .audience
            .iter()
            .all(|p| *p == actor.party || c.coordinated.contains_key(p));
        Ok(Decision {
            entries: vec![(entry, c.audience.clone())],
            outcome: WriteOutcome::Done,
            body: json!({"conflict": conflict, "state": if both { "coordinated" } else { "open" }}),
            volumes: None,
        })
    }

    pub(super) fn evolve_conflict_found(
        &mut self,
        logged: &Logged,
        conflict: &str,
        a: &Side,
        b: &Side,
    ) {
        self.conflicts.insert(
            conflict.to_string(),
            SharedValue::new(Conflict {
                a: a.clone(),
                b: b.clone(),
                at: logged.seq,
                audience: logged.audience.clone(),
                resolved: None,
                coordinated: BTreeMap::new(),
            }),
        );
    }

    pub(super) fn evolve_conflict_resolved(&mut self, conflict: &str, by: &str) {
        if let Some(c) = self.conflicts.get_mut(conflict).map(SharedValue::make_mut) {
            c.resolved = Some(by.to_string());
        }
    }

    pub(super) fn evolve_conflict_coordinated(&mut self, conflict: &str, party: &str, note: &str) {
        if let Some(c) = self.conflicts.get_mut(conflict).map(SharedValue::make_mut) {
            c.coordinated.insert(party.to_string(), note.to_string());
        }
    }

    /// Open conflicts of `activity`, resolved `by` an amendment or cancellation.
    pub(super) fn resolutions(&self, activity: &str, by: &str) -> Vec<(Entry, Vec<String>)> {
        self.conflicts
            .iter()
            .filter(|(_, c)| {
                c.resolved.is_none()
                    && !c.is_coordinated()
                    && (c.a.id == activity || c.b.id == activity)
            })
            .map(|(id, c)| {
                (
                    Entry::ConflictResolved {
                        conflict: id.clone(),
                        by: by.to_string(),
                    },
                    c.audience.clone(),
                )
            })
            .collect()
    }

    /// What new volumes of `party`'s activity on `line` conflict with, judged
    /// by what the line shares (see [`crate::site`]): the other parties'
    /// activities on `line`, and the sites in force that the line shares.
    pub(super) fn find_conflicts(
        &self,
        party: &str,
        line: &str,
        own: Option<u32>,
        volumes: &[Volume],
        minima: &Minima,
        now_us: i64,
    ) -> Vec<Found> {
        let keep = |handle: u32| {
            if Some(handle) == own {
                return false;
            }
            match self.handles.get(handle) {
                Some(Handle::Activity(id)) => {
                    let a = &self.activities[id];
                    a.party != party && a.line == line
                }
                Some(Handle::Site(id)) => {
                    let s = &self.sites[id];
                    s.party != party
                        && s.in_force(now_us)
                        && !self.site_audience(line, s).is_empty()
                }
                None => false,
            }
        };
        self.meetings_by_handle(volumes, minima, keep)
            .into_iter()
            .filter_map(|(handle, meetings)| match self.handles.get(handle)? {
                Handle::Activity(id) => {
                    let a = &self.activities[id];
                    Some(Found {
                        side: self.activity_side(id, a),
                        meetings,
                        audience: vec![party.to_string(), a.party.clone()],
                    })
                }
                Handle::Site(id) => Some(Found {
                    side: site_side(id, &self.sites[id]),
                    meetings,
                    audience: self.site_audience(line, &self.sites[id]),
                }),
            })
            .collect()
    }

    /// The meetings of `volumes` with what the index holds and `keep` admits
    /// (asked once a handle), grouped by handle, in handle order.
    pub(super) fn meetings_by_handle(
        &self,
        volumes: &[Volume],
        minima: &Minima,
        keep: impl Fn(u32) -> bool,
    ) -> BTreeMap<u32, Vec<Value>> {
        // An activity's volumes are candidates apart, and `keep` looks its
        // owner up by id: each handle's answer is remembered for the check.
        let answered: RefCell<Vec<(u32, bool)>> = RefCell::default();
        let keep = |k: &u64| {
            let handle = (k >> 16) as u32;
            let known = answered
                .borrow()
                .iter()
                .find(|(h, _)| *h == handle)
                .map(|a| a.1);
            known.unwrap_or_else(|| {
                let kept = keep(handle);
                answered.borrow_mut().push((handle, kept));
                kept
            })
        };
        let mut found: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
        for v in volumes {
            // In key order, not the index's slot order (which depends on its
            // history): a restored index answers in the same order.
            let mut met = self.index.meetings_where(v, minima, keep);
            met.sort_by_key(|(k, _)| *k);
            for (k, m) in met {
                found
                    .entry((k >> 16) as u32)
                    .or_default()
                    .push(meeting_json(&m));
            }
        }
        found
    }

    /// Conflicts that involve `actor`'s party (all for the host).
    pub fn conflicts(&self, actor: &Actor) -> Vec<Value> {
        self.conflicts
            .iter()
            .filter(|(_, c)| actor.is_host_admin() || c.audience.contains(&actor.party))
            .map(|(id, c)| {
                let mut v = self.logged_json(c.at);
                let state = match &c.resolved {
                    Some(by) => format!("resolved ({by})"),
                    None if c.is_coordinated() => "coordinated".into(),
                    None => "open".into(),
                };
                v["id"] = json!(id);
                v["state"] = json!(state);
                v["coordinated_by"] = json!(c.coordinated);
                v
            })
            .collect()
    }
}
