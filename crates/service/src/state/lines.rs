//! Lines between parties: their rules, political status, who is on them and
//! what each line shows (its operation status and open deadlines).

use super::deadlines::deadline_view;
use super::{Decision, State};
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::line_checks::MIN_INTERVAL_S;
use crate::model::WriteOutcome;
use crate::model::{Actor, LineRules, LineStatus, HOST};
use crate::text::{check_id, check_text, time_text};
use crate::views::{LineView, OperationState};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// The widest vertical margin a line may give flight levels, metres.
pub const MAX_FLIGHT_LEVEL_MARGIN_M: f64 = 5_000.0;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Line {
    pub(super) name: String,
    pub(super) parties: Vec<String>,
    pub(super) rules: LineRules,
    pub(super) status: LineStatus,
    /// Journal positions of its messages, in line order.
    pub(super) messages: Vec<u64>,
}

impl State {
    /// `Command::CreateLine`: the host opens a line between two or more parties.
    pub(super) fn decide_create_line(
        &self,
        actor: &Actor,
        line: &str,
        name: &str,
        parties: &[String],
        rules: &LineRules,
    ) -> Result<Decision, ServiceError> {
        self.require_host_admin(actor)?;
        check_id("/id", line)?;
        check_text("/name", name, 200)?;
        if self.lines.contains_key(line) {
            return Err(ServiceError::Conflict(format!(
                "line {line} exists already"
            )));
        }
        let distinct: BTreeSet<&String> = parties.iter().collect();
        if distinct.len() < 2 || distinct.len() != parties.len() {
            return Err(ServiceError::invalid(
                "/parties",
                "give two or more different parties",
            ));
        }
        for (i, p) in parties.iter().enumerate() {
            if !self.parties.contains_key(p) || p == HOST {
                return Err(ServiceError::invalid(
                    &format!("/parties/{i}"),
                    format!("no party {p}"),
                ));
            }
        }
        let week_s = 7 * 86_400;
        for (name, v, min, max) in [
            (
                "notice_lead_time_s",
                rules.notice_lead_time_s,
                0,
                365 * 86_400,
            ),
            ("ack_deadline_s", rules.ack_deadline_s, 1, week_s),
            ("min_reply_s", rules.min_reply_s, 60, week_s),
            (
                "max_requests_per_hour",
                rules.max_requests_per_hour.into(),
                1,
                1_000,
            ),
            (
                "max_flash_per_hour",
                rules.max_flash_per_hour.into(),
                1,
                1_000,
            ),
            (
                "line_check_interval_s",
                rules.line_check_interval_s,
                MIN_INTERVAL_S,
                week_s,
            ),
        ] {
            if !(min..=max).contains(&v) {
                return Err(ServiceError::invalid(
                    &format!("/rules/{name}"),
                    format!("give a whole number of seconds from {min} to {max}"),
                ));
            }
        }
        for (name, v) in [
            ("horizontal_m", rules.horizontal_m),
            ("vertical_m", rules.vertical_m),
            ("time_s", rules.time_s),
        ] {
            if !v.is_finite() || !(0.0..=1.0e6).contains(&v) {
                return Err(ServiceError::invalid(
                    &format!("/rules/{name}"),
                    "give a number from 0 to 1000000",
                ));
            }
        }
        if let Some(m) = rules.flight_level_margin_m {
            if !m.is_finite() || !(0.0..=MAX_FLIGHT_LEVEL_MARGIN_M).contains(&m) {
                return Err(ServiceError::invalid(
                    "/rules/flight_level_margin_m",
                    format!("give metres from 0 to {MAX_FLIGHT_LEVEL_MARGIN_M} (a flight level's true altitude may be some hundreds of metres from the standard atmosphere's), or leave it out to refuse flight levels"),
                ));
            }
        }
        if let Some(r) = &rules.region {
            crate::sanity::check_region(r)?;
        }
        let entry = Entry::LineCreated {
            line: line.to_string(),
            name: name.to_string(),
            parties: parties.to_vec(),
            rules: rules.clone(),
        };
        Ok(Decision {
            entries: vec![(entry, parties.to_vec())],
            outcome: WriteOutcome::Created,
            body: json!({"id": line, "name": name, "parties": parties, "rules": rules, "status": "active"}),
            volumes: None,
        })
    }

    /// `Command::SetLineStatus`: the host suspends or resumes a line.
    pub(super) fn decide_set_line_status(
        &self,
        actor: &Actor,
        line: &str,
        suspended: bool,
    ) -> Result<Decision, ServiceError> {
        self.require_host_admin(actor)?;
        if !self.lines.contains_key(line) {
            return Err(ServiceError::NotFound(format!("line {line}")));
        }
        let status = if suspended {
            LineStatus::Suspended
        } else {
            LineStatus::Active
        };
        Ok(Decision {
            entries: vec![(
                Entry::LineStatusChanged {
                    line: line.to_string(),
                    status,
                },
                self.line_audience(line),
            )],
            outcome: WriteOutcome::Done,
            body: json!({"id": line, "status": status}),
            volumes: None,
        })
    }

    pub(super) fn evolve_line_created(
        &mut self,
        at_us: i64,
        line: &str,
        name: &str,
        parties: &[String],
        rules: &LineRules,
    ) {
        self.lines.insert(
            line.to_string(),
            Line {
                name: name.to_string(),
                parties: parties.to_vec(),
                rules: rules.clone(),
                status: LineStatus::Active,
                messages: Vec::new(),
            },
        );
        self.checks
            .open_line(line, parties, rules.line_check_interval_s, at_us);
    }

    pub(super) fn evolve_line_status_changed(&mut self, line: &str, status: LineStatus) {
        if let Some(l) = self.lines.get_mut(line) {
            l.status = status;
        }
    }

    pub(super) fn is_member(&self, party: &str, line: &str) -> bool {
        self.lines
            .get(line)
            .is_some_and(|l| l.parties.iter().any(|p| p == party))
    }

    /// What `actor` may give in altitudes on `line` ([`crate::gate::rules_seen_by`]).
    pub fn vertical_rules_for(&self, actor: &Actor, line: &str) -> parley_wire::VerticalRules {
        self.lines
            .get(line)
            .map(|l| crate::gate::rules_seen_by(actor, &l.parties, l.rules.vertical()))
            .unwrap_or_default()
    }

    /// Every line as requests are read against it ([`crate::gate::Gate`]).
    pub(crate) fn gate_lines(&self) -> HashMap<String, crate::gate::GateLine> {
        self.lines
            .iter()
            .map(|(id, l)| {
                let gate = crate::gate::GateLine {
                    parties: l.parties.clone(),
                    vertical: l.rules.vertical(),
                };
                (id.clone(), gate)
            })
            .collect()
    }

    pub(super) fn sees_line(&self, actor: &Actor, line: &str) -> bool {
        self.lines.contains_key(line)
            && (actor.is_host_admin() || self.is_member(&actor.party, line))
    }

    /// The member parties of `line` other than `party`.
    pub(super) fn others_on(&self, line: &str, party: &str) -> Vec<String> {
        self.lines.get(line).map_or_else(Vec::new, |l| {
            l.parties.iter().filter(|p| *p != party).cloned().collect()
        })
    }

    pub(super) fn line_audience(&self, line: &str) -> Vec<String> {
        self.lines
            .get(line)
            .map(|l| l.parties.clone())
            .unwrap_or_default()
    }

    /// A line with its rules, its political status, its operation status from
    /// line checks (with the evidence) and its open deadlines, as of `now_us`.
    pub(super) fn line_view(&self, id: &str, l: &Line, now_us: i64) -> LineView {
        let mut operation = self.checks.status(id, now_us, time_text);
        operation.nodes = self.node_standing(id, now_us);
        if operation.nodes.iter().any(|n| !n.reachable) {
            operation.state = OperationState::NodeUnreachable;
        }
        LineView {
            id: id.to_string(),
            name: l.name.clone(),
            parties: l.parties.clone(),
            rules: l.rules.clone(),
            status: l.status,
            messages: l.messages.len(),
            operation,
            deadlines: self
                .deadlines
                .on_line(id)
                .map(|d| deadline_view(d, now_us))
                .collect(),
        }
    }

    /// The lines `actor` may see, as of `now_us`.
    pub fn lines(&self, actor: &Actor, now_us: i64) -> Vec<LineView> {
        self.lines
            .iter()
            .filter(|(id, _)| self.sees_line(actor, id))
            .map(|(id, l)| self.line_view(id, l, now_us))
            .collect()
    }

    /// One line, as of `now_us`.
    pub fn line(&self, actor: &Actor, line: &str, now_us: i64) -> Result<LineView, ServiceError> {
        if !self.sees_line(actor, line) {
            return Err(ServiceError::NotFound(format!("line {line}")));
        }
        Ok(self.line_view(line, &self.lines[line], now_us))
    }
}
