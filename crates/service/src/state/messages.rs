//! Messages on a line: text, requests with a deadline, replies, and the
//! hourly quotas of requests and flash messages per party.

use super::{Decision, State};
use crate::deadlines::{Deadline, Owed, FLASH_ANSWER_S};
use crate::entry::{Entry, Logged};
use crate::error::ServiceError;
use crate::model::WriteOutcome;
use crate::model::{Actor, MessageKind, Priority};
use crate::text::{check_text, minutes, time_text};
use parley_wire::parse_timestamp;
use serde_json::Value;

/// Which messages (by kind and priority) a quota counts.
type Counted = fn(MessageKind, Priority) -> bool;

impl State {
    /// `Command::SendMessage`: text, a request with a deadline, or a reply.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide_send_message(
        &self,
        actor: &Actor,
        line: &str,
        message: MessageKind,
        priority: Priority,
        text: &str,
        deadline: Option<&str>,
        references: Option<u64>,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        self.require_officer_on(actor, line)?;
        check_text("/text", text, 10_000)?;
        let l = &self.lines[line];
        // A reply answers a request or a flash message; a correction refers to any.
        let refers_to = |pointer: &str, reply: bool| -> Result<(), ServiceError> {
            let Some(r) = references else {
                return Err(ServiceError::invalid(
                    pointer,
                    "give the line sequence number of the message referred to",
                ));
            };
            // Message r is the line's r-th (numbered as sent): one entry
            // read, from memory or the store.
            let found = r
                .checked_sub(1)
                .and_then(|i| l.messages.get(i as usize))
                .and_then(|&s| self.log.get(s))
                .is_some_and(|g| match &g.entry {
                    Entry::MessageSent {
                        seq,
                        message,
                        priority,
                        ..
                    } => {
                        *seq == r
                            && (!reply
                                || *message == MessageKind::Request
                                || *priority == Priority::Flash)
                    }
                    _ => false,
                });
            if found {
                Ok(())
            } else {
                Err(ServiceError::invalid(
                    pointer,
                    if reply {
                        format!("no request or flash message {r} on line {line}")
                    } else {
                        format!("no message {r} on line {line}")
                    },
                ))
            }
        };
        match message {
            MessageKind::Text => {
                if references.is_some() {
                    refers_to("/references", false)?;
                }
            }
            MessageKind::Request => {
                let Some(d) = deadline else {
                    return Err(ServiceError::invalid(
                        "/deadline",
                        "a request needs a deadline (RFC 3339)",
                    ));
                };
                let t = parse_timestamp(d).map_err(|m| ServiceError::invalid("/deadline", m))?;
                if t.0 <= now_us {
                    return Err(ServiceError::invalid(
                        "/deadline",
                        "the deadline has passed; give a later one",
                    ));
                }
                let shortest = l.rules.min_reply_s as i64 * 1_000_000;
                if t.0 - now_us < shortest {
                    return Err(ServiceError::invalid(
                        "/deadline",
                        format!(
                            "less than {} from now, the shortest reply time of line {line}; give a deadline at {} or later",
                            minutes(l.rules.min_reply_s),
                            time_text(now_us + shortest)
                        ),
                    ));
                }
            }
            MessageKind::Reply => refers_to("/references", true)?,
        }
        self.check_quota(actor, line, message, priority, now_us)?;
        let seq = l.messages.len() as u64 + 1;
        let entry = Entry::MessageSent {
            line: line.to_string(),
            seq,
            party: actor.party.clone(),
            operator: actor.operator.clone(),
            message,
            priority,
            text: text.to_string(),
            deadline: deadline.map(str::to_string),
            references,
        };
        let body = entry.public_json();
        Ok(Decision {
            entries: vec![(entry, self.line_audience(line))],
            outcome: WriteOutcome::Created,
            body,
            volumes: None,
        })
    }

    pub(super) fn evolve_message_sent(&mut self, logged: &Logged) {
        let Entry::MessageSent {
            line,
            seq: message,
            party,
            message: kind,
            priority,
            deadline,
            references,
            ..
        } = &logged.entry
        else {
            return;
        };
        let seq = logged.seq;
        if let Some(l) = self.lines.get_mut(line) {
            l.messages.push(seq);
        }
        // A peer's message owes from when its node logged it.
        let at = self.deadline_base(logged.at_us);
        let requested = deadline
            .as_deref()
            .and_then(|d| parse_timestamp(d).ok())
            .map(|t| t.0);
        let owed = Owed::Reply { message: *message };
        for other in self.others_on(line, party) {
            if *priority == Priority::Flash && *kind != MessageKind::Reply {
                let due = requested
                    .unwrap_or(i64::MAX)
                    .min(at + FLASH_ANSWER_S * 1_000_000);
                self.deadlines
                    .set(Deadline::flash(line, &other, owed.clone(), at, due));
            } else if let Some(due) = requested.filter(|_| *kind == MessageKind::Request) {
                self.deadlines
                    .set(Deadline::new(line, &other, owed.clone(), at, due));
            }
        }
        if let (Some(r), MessageKind::Reply) = (references, kind) {
            self.deadlines
                .meet(&Owed::Reply { message: *r }.id(line, party));
        }
    }

    /// A party may send at most the line's quota of requests and of flash
    /// messages in any hour, so that no one floods the other side with things
    /// it must answer.
    pub(super) fn check_quota(
        &self,
        actor: &Actor,
        line: &str,
        message: MessageKind,
        priority: Priority,
        now_us: i64,
    ) -> Result<(), ServiceError> {
        let l = &self.lines[line];
        let hour = 3_600_000_000;
        let counted = |what: Counted| -> Vec<i64> {
            // Messages are logged in time order: read back from the newest and
            // stop at the hour's edge, so a long history costs nothing here.
            l.messages
                .iter()
                .rev()
                .filter_map(|&s| self.log.get(s))
                .take_while(|g| g.at_us > now_us - hour)
                .filter(|g| match &g.entry {
                    Entry::MessageSent {
                        party,
                        message,
                        priority,
                        ..
                    } => *party == actor.party && what(*message, *priority),
                    _ => false,
                })
                .map(|g| g.at_us)
                .collect()
        };
        let quotas: [(&str, u32, Counted); 2] = [
            ("requests", l.rules.max_requests_per_hour, |m, _| {
                m == MessageKind::Request
            }),
            ("flash messages", l.rules.max_flash_per_hour, |_, p| {
                p == Priority::Flash
            }),
        ];
        for (name, max, what) in quotas {
            if !what(message, priority) {
                continue;
            }
            let sent = counted(what);
            if sent.len() >= max as usize {
                let frees = sent.iter().min().copied().unwrap_or(now_us) + hour;
                return Err(ServiceError::Quota(format!(
                    "{} has sent {} {name} on line {line} in the last hour, its quota; the next may go at {}",
                    actor.party,
                    sent.len(),
                    time_text(frees)
                )));
            }
        }
        Ok(())
    }

    /// Messages of a line after line sequence `after`.
    pub fn messages(
        &self,
        actor: &Actor,
        line: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Value>, ServiceError> {
        if !self.sees_line(actor, line) {
            return Err(ServiceError::NotFound(format!("line {line}")));
        }
        Ok(self.lines[line]
            .messages
            .iter()
            .skip(after as usize)
            .take(limit)
            .map(|&s| self.logged_json(s))
            .collect())
    }
}
