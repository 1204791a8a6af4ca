//! Activity notices: versions, amendments, cancellations and acknowledgments
//! (each reading back the content's hash).

use super::{key, Decision, Handle, State};
use crate::content::Volumes;
use crate::content::{NoticeContent, RawJson, Stated};
use crate::deadlines::{Deadline, Owed};
use crate::entry::{Entry, Logged, Side};
use crate::error::ServiceError;
use crate::hashing::new_id;
use crate::model::WriteOutcome;
use crate::model::{Actor, Category, NoticeState, Role};
use crate::shared_value::SharedValue;
use crate::text::check_text;
use crate::views::ActivitySummaryView;
use parley_engine::Volume;
use serde_json::{json, Value};
use std::collections::BTreeSet;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Activity {
    pub(super) line: String,
    pub(super) party: String,
    /// Journal positions of its notice versions.
    pub(super) versions: Vec<u64>,
    pub(super) hashes: Vec<String>,
    pub(super) cancelled: bool,
    /// How many volumes its current version has; the volumes live in the index.
    pub(super) volume_count: usize,
    pub(super) handle: u32,
    /// Journal positions of acknowledgments.
    pub(super) acks: Vec<u64>,
    /// Who acknowledged which version, so that deciding and listing need
    /// not read the acknowledgments back from the journal.
    pub(super) acked: Vec<(u64, String)>,
    /// When the last window of its last notified version ends, µs (a
    /// cancellation keeps it): it retires some time after (`history.rs`).
    pub(super) ends_us: i64,
}

impl Activity {
    /// An activity being rebuilt from its entries (`history.rs`): in no index.
    pub(super) fn retired() -> Activity {
        Activity {
            line: String::new(),
            party: String::new(),
            versions: Vec::new(),
            hashes: Vec::new(),
            cancelled: false,
            volume_count: 0,
            handle: u32::MAX,
            acks: Vec::new(),
            acked: Vec::new(),
            ends_us: i64::MIN,
        }
    }

    /// Where it stands: cancelled, or notified.
    fn state(&self) -> NoticeState {
        if self.cancelled {
            NoticeState::Cancelled
        } else {
            NoticeState::Notified
        }
    }
}

impl State {
    /// `Command::Notify`: version 1 of a new activity.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide_notify(
        &self,
        actor: &Actor,
        line: &str,
        category: Category,
        point_of_contact: &str,
        volumes: &Volumes,
        dry_run: bool,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        self.require_officer_on(actor, line)?;
        let activity = new_id("act");
        self.notice(
            actor,
            &activity,
            line,
            1,
            category,
            point_of_contact,
            volumes,
            dry_run,
            now_us,
            None,
        )
    }

    /// `Command::Amend`: the next version of the party's own activity.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide_amend(
        &self,
        actor: &Actor,
        activity: &str,
        replaces_version: u64,
        category: Option<Category>,
        point_of_contact: Option<&str>,
        volumes: &Volumes,
        dry_run: bool,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        let a = self.owned_activity(actor, activity, replaces_version)?;
        let stated = Stated::of(&self.current_content(a)?);
        let category = category.or(stated.category).unwrap_or(Category::Air);
        let poc = point_of_contact
            .or(stated.point_of_contact.as_deref())
            .unwrap_or_default();
        let line = a.line.clone();
        self.notice(
            actor,
            activity,
            &line,
            replaces_version + 1,
            category,
            poc,
            volumes,
            dry_run,
            now_us,
            Some(a),
        )
    }

    /// `Command::Cancel`: the last version of an activity, cancelled.
    pub(super) fn decide_cancel(
        &self,
        actor: &Actor,
        activity: &str,
        replaces_version: u64,
    ) -> Result<Decision, ServiceError> {
        let a = self.owned_activity(actor, activity, replaces_version)?;
        let NoticeContent { text, sha256 } = NoticeContent::restated(
            &self.current_content(a)?,
            replaces_version + 1,
            NoticeState::Cancelled,
        );
        let body = json!({"activity": activity, "version": replaces_version + 1, "state": "cancelled",
                          "content_sha256": sha256, "content": text});
        let mut entries = vec![(
            Entry::Notice {
                activity: activity.to_string(),
                line: a.line.clone(),
                party: actor.party.clone(),
                operator: actor.operator.clone(),
                version: replaces_version + 1,
                state: NoticeState::Cancelled,
                content: text,
                content_sha256: sha256,
                late: false,
                signed: None,
            },
            self.line_audience(&a.line),
        )];
        entries.extend(self.resolutions(activity, "cancelled"));
        Ok(Decision {
            entries,
            outcome: WriteOutcome::Done,
            body,
            volumes: None,
        })
    }

    /// `Command::Acknowledge`: another party of the line confirms it received a version, read back by its hash.
    pub(super) fn decide_acknowledge(
        &self,
        actor: &Actor,
        activity: &str,
        version: u64,
        content_sha256: &str,
    ) -> Result<Decision, ServiceError> {
        let a = self.seen_activity(actor, activity, "/version")?;
        if a.party == actor.party || !self.is_member(&actor.party, &a.line) {
            return Err(ServiceError::Forbidden(
                "only the other parties of the line acknowledge a notice".into(),
            ));
        }
        if actor.role == Role::Observer {
            return Err(ServiceError::Forbidden(
                "observers cannot acknowledge; an officer or admin can".into(),
            ));
        }
        let latest = a.versions.len() as u64;
        if version == 0 || version > latest {
            return Err(ServiceError::invalid(
                "/version",
                format!("activity {activity} has versions 1 to {latest}"),
            ));
        }
        if version < latest {
            return Err(ServiceError::Conflict(format!(
                "version {version} of {activity} was replaced by version {latest}; read version {latest} and acknowledge it"
            )));
        }
        let expected = &a.hashes[(version - 1) as usize];
        if content_sha256 != expected {
            return Err(ServiceError::Conflict(format!(
                "the read-back {content_sha256} is not the content of version {version} ({expected}); read the notice again"
            )));
        }
        // A second acknowledgment of the same version by the same party
        // changes nothing: no entry, and the answer says so.
        if self.acknowledged_by(a, &actor.party, version) {
            let body = json!({"activity": activity, "version": version, "received_by": actor.party,
                              "content_sha256": content_sha256, "meaning": "received, not approved",
                              "already_acknowledged": true});
            return Ok(Decision {
                entries: Vec::new(),
                outcome: WriteOutcome::Done,
                body,
                volumes: None,
            });
        }
        let entry = Entry::Acknowledged {
            activity: activity.to_string(),
            version,
            party: actor.party.clone(),
            operator: actor.operator.clone(),
            content_sha256: content_sha256.to_string(),
            signed: None,
        };
        let body = json!({"activity": activity, "version": version, "received_by": actor.party,
                          "content_sha256": content_sha256, "meaning": "received, not approved"});
        Ok(Decision {
            entries: vec![(entry, self.line_audience(&a.line))],
            outcome: WriteOutcome::Created,
            body,
            volumes: None,
        })
    }

    pub(super) fn evolve_notice(&mut self, logged: &Logged, prepared: Option<Vec<Volume>>) {
        let Entry::Notice {
            activity,
            line,
            party,
            version,
            state,
            content,
            content_sha256,
            ..
        } = &logged.entry
        else {
            return;
        };
        let seq = logged.seq;
        if self.retired.contains(activity) {
            // Another node's new version of what retired here (it had not
            // yet): the activity comes back to memory, rebuilt from the
            // store, and takes the version as any would.
            match self.retired_activity(activity) {
                Some(Ok(mut a)) => {
                    self.retired.remove(activity);
                    a.handle = self.handles.give(Handle::Activity(activity.clone()));
                    self.activities
                        .insert(activity.clone(), SharedValue::new(a));
                }
                _ => {
                    self.retired.add(activity, seq);
                    return;
                }
            }
        }
        let volumes = match prepared {
            _ if *state == NoticeState::Cancelled => Vec::new(),
            Some(v) => v,
            None => self.volumes_of(&Stated::of(content).volumes),
        };
        let handle = match self.activities.get(activity) {
            Some(a) => a.handle,
            None => self.handles.give(Handle::Activity(activity.clone())),
        };
        let a = self
            .activities
            .entry(activity.clone())
            .or_insert_with(|| {
                SharedValue::new(Activity {
                    line: line.clone(),
                    party: party.clone(),
                    versions: Vec::new(),
                    hashes: Vec::new(),
                    cancelled: false,
                    volume_count: 0,
                    handle,
                    acks: Vec::new(),
                    acked: Vec::new(),
                    ends_us: i64::MIN,
                })
            })
            .make_mut();
        if let Some(end) = volumes.iter().map(|v| v.window().end.0).max() {
            a.ends_us = end;
        }
        for i in 0..a.volume_count {
            self.index.remove(&key(handle, i));
        }
        a.versions.push(seq);
        a.hashes.push(content_sha256.clone());
        a.cancelled = *state == NoticeState::Cancelled;
        a.volume_count = volumes.len();
        for (i, v) in volumes.into_iter().enumerate() {
            self.index.insert(key(handle, i), v);
        }
        let (line, version) = (line.clone(), *version);
        // A peer's notice is owed from when its node logged it.
        let since = self.deadline_base(logged.at_us);
        let due = since + self.lines[&line].rules.ack_deadline_s as i64 * 1_000_000;
        for other in self.others_on(&line, party) {
            // An earlier version is no longer owed: this one replaces it.
            for earlier in 1..version {
                let owed = Owed::Acknowledgment {
                    activity: activity.clone(),
                    version: earlier,
                };
                self.deadlines.meet(&owed.id(&line, &other));
            }
            let owed = Owed::Acknowledgment {
                activity: activity.clone(),
                version,
            };
            self.deadlines
                .set(Deadline::new(&line, &other, owed, since, due));
        }
    }

    pub(super) fn evolve_acknowledged(
        &mut self,
        seq: u64,
        activity: &str,
        version: u64,
        party: &str,
    ) {
        self.retired.add(activity, seq);
        if let Some(a) = self.activities.get_mut(activity).map(SharedValue::make_mut) {
            a.acks.push(seq);
            a.acked.push((version, party.to_string()));
            let owed = Owed::Acknowledgment {
                activity: activity.to_string(),
                version,
            };
            self.deadlines.meet(&owed.id(&a.line, party));
        }
    }

    pub(super) fn owned_activity(
        &self,
        actor: &Actor,
        activity: &str,
        replaces: u64,
    ) -> Result<&Activity, ServiceError> {
        let a = self.seen_activity(actor, activity, "/replaces_version")?;
        if a.party != actor.party || actor.role == Role::Observer {
            return Err(ServiceError::Forbidden(
                "only an officer of the notifying party changes a notice".into(),
            ));
        }
        let latest = a.versions.len() as u64;
        if a.cancelled {
            return Err(ServiceError::Conflict(format!(
                "activity {activity} was cancelled in version {latest}"
            )));
        }
        if replaces != latest {
            return Err(ServiceError::Conflict(format!(
                "replaces_version {replaces} is stale: activity {activity} is at version {latest}"
            )));
        }
        Ok(a)
    }

    /// Activity `activity` in memory, if `actor` sees it; a retired one it
    /// sees is refused as history, naming `pointer` (the field asking for
    /// a change).
    fn seen_activity(
        &self,
        actor: &Actor,
        activity: &str,
        pointer: &str,
    ) -> Result<&Activity, ServiceError> {
        let not_found = || ServiceError::NotFound(format!("activity {activity}"));
        if let Some(retired) = self.retired_activity(activity) {
            return match retired {
                Ok(a) if self.actor_sees_activity(actor, &a) => {
                    Err(self.ended_long_ago(activity, pointer))
                }
                Ok(_) => Err(not_found()),
                Err(e) => Err(e),
            };
        }
        self.activities
            .get(activity)
            .map(|a| &**a)
            .filter(|a| self.actor_sees_activity(actor, a))
            .ok_or_else(not_found)
    }

    /// What the activity's latest version says (read from the store when
    /// it left memory).
    pub(super) fn current_content(&self, a: &Activity) -> Result<RawJson, ServiceError> {
        let latest = *a.versions.last().expect("an activity has a version");
        match self.log.get(latest).as_deref().map(|l| &l.entry) {
            Some(Entry::Notice { content, .. }) => Ok(content.clone()),
            _ => Err(ServiceError::Unavailable(format!(
                "journal entry {latest} cannot be read back now; try again"
            ))),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn notice(
        &self,
        actor: &Actor,
        activity: &str,
        line: &str,
        version: u64,
        category: Category,
        point_of_contact: &str,
        volumes: &Volumes,
        dry_run: bool,
        now_us: i64,
        previous: Option<&Activity>,
    ) -> Result<Decision, ServiceError> {
        check_text("/point_of_contact", point_of_contact, 500)?;
        let parsed = volumes.parsed();
        let rules = self.lines[line].rules.clone();
        if let Some(read_under) = volumes.flight_level_rules() {
            if read_under != rules.vertical() {
                return Err(ServiceError::invalid(
                    "/volumes",
                    match rules.flight_level_margin_m {
                        None => "this line's rules do not allow flight levels (flight_level_margin_m is not set); give metres or feet with reference \"AMSL\" or \"W84\"",
                        Some(_) => "the flight levels were read under other rules than this line's; send the notice again",
                    },
                ));
            }
        }
        crate::sanity::check(volumes, &rules, now_us)?;
        let minima = rules.minima();
        let start = parsed
            .iter()
            .map(|v| v.window().start.0)
            .min()
            .expect("at least one volume");
        let late = start - now_us < rules.notice_lead_time_s as i64 * 1_000_000;
        let NoticeContent {
            text: content,
            sha256: hash,
        } = NoticeContent::new(
            volumes,
            activity,
            line,
            &actor.party,
            version,
            NoticeState::Notified,
            category,
            point_of_contact,
        );
        // A dry run tells what a signature must declare (`statement.rs`).
        let declared = dry_run.then(|| crate::statement::declared_notice(&content.to_value()));
        let found = self.find_conflicts(
            &actor.party,
            line,
            previous.map(|a| a.handle),
            parsed,
            &minima,
            now_us,
        );
        let mut entries = Vec::new();
        entries.push((
            Entry::Notice {
                activity: activity.to_string(),
                line: line.to_string(),
                party: actor.party.clone(),
                operator: actor.operator.clone(),
                version,
                state: NoticeState::Notified,
                content,
                content_sha256: hash.clone(),
                late,
                signed: None,
            },
            self.line_audience(line),
        ));
        if previous.is_some() {
            entries.extend(self.resolutions(activity, "amended"));
        }
        let mut reported = Vec::new();
        for found in found {
            let conflict = self.new_conflict_id(line, &hash, &found);
            let a = Side {
                kind: "activity".into(),
                id: activity.to_string(),
                version,
                party: actor.party.clone(),
            };
            found.log(conflict, a, &actor.party, &mut entries, &mut reported);
        }
        // The content is not echoed: the client sent it, and reads it back with GET.
        let body = json!({
            "activity": activity, "version": version, "content_sha256": hash, "late": late,
            "dry_run": dry_run, "conflicts": reported,
        });
        if let Some(declared) = declared {
            let mut body = body;
            body["declared"] = declared;
            return Ok(Decision {
                entries: Vec::new(),
                outcome: WriteOutcome::Done,
                body,
                volumes: None,
            });
        }
        Ok(Decision {
            entries,
            outcome: if version == 1 {
                WriteOutcome::Created
            } else {
                WriteOutcome::Done
            },
            body,
            volumes: None,
        })
    }

    pub(super) fn sees_activity(&self, party: &str, a: &Activity) -> bool {
        a.party == party || self.is_member(party, &a.line)
    }

    /// Whether `party` acknowledged `version` of the activity already.
    fn acknowledged_by(&self, a: &Activity, party: &str, version: u64) -> bool {
        a.acked.iter().any(|(v, p)| p == party && *v == version)
    }

    pub(super) fn actor_sees_activity(&self, actor: &Actor, a: &Activity) -> bool {
        actor.is_host_admin() || self.sees_activity(&actor.party, a)
    }

    pub(super) fn activity_side(&self, id: &str, a: &Activity) -> Side {
        Side {
            kind: "activity".into(),
            id: id.to_string(),
            version: a.versions.len() as u64,
            party: a.party.clone(),
        }
    }

    /// One activity with every version and acknowledgment.
    /// A retired one is read back from the store (`history.rs`).
    pub fn activity(&self, actor: &Actor, activity: &str) -> Result<Value, ServiceError> {
        let retired = self.retired_activity(activity).transpose()?;
        let a = retired
            .as_ref()
            .or_else(|| self.activities.get(activity).map(|a| &**a))
            .filter(|a| self.actor_sees_activity(actor, a))
            .ok_or_else(|| ServiceError::NotFound(format!("activity {activity}")))?;
        let versions: Vec<Value> = a.versions.iter().map(|&s| self.logged_json(s)).collect();
        let acks: Vec<Value> = a.acks.iter().map(|&s| self.logged_json(s)).collect();
        Ok(json!({
            "id": activity, "line": a.line, "party": a.party, "version": a.versions.len(),
            "state": a.state(),
            "content_sha256": a.hashes.last(), "current": versions.last(), "versions": versions, "acknowledgments": acks,
        }))
    }

    /// Activities `actor` may see, optionally of one line.
    pub fn activities(&self, actor: &Actor, line: Option<&str>) -> Vec<ActivitySummaryView> {
        self.activities
            .iter()
            .filter(|(_, a)| self.actor_sees_activity(actor, a))
            .filter(|(_, a)| line.is_none_or(|l| a.line == l))
            .map(|(id, a)| {
                let received_by: BTreeSet<&String> = a
                    .acked
                    .iter()
                    .filter(|(v, _)| *v == a.versions.len() as u64)
                    .map(|(_, p)| p)
                    .collect();
                ActivitySummaryView {
                    id: id.clone(),
                    line: a.line.clone(),
                    party: a.party.clone(),
                    version: a.versions.len(),
                    state: a.state(),
                    content_sha256: a.hashes.last().cloned().unwrap_or_default(),
                    received_by: received_by.into_iter().cloned().collect(),
                }
            })
            .collect()
    }
}
