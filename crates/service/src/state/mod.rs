//! The service's state: what replaying the journal builds, how a command is
//! decided against it (producing entries), and what each party may read.
//!
//! Deciding never mutates; [`State::evolve`] applies an entry. The writer decides
//! and evolves one command at a time, so a notice's conflict check and its
//! insertion are atomic with respect to every other notice.
//!
//! This module keeps the state's fields and the two dispatches, one line per
//! command and per entry kind; each domain concept has a child module with its
//! `decide_*`, `evolve_*` and reads, as `impl State` blocks over these fields:
//!
//! | module | concept |
//! |---|---|
//! | `parties` | parties, operators, tokens |
//! | `oversight` | what the host may do to a party: its settings, the recovery path |
//! | `lines` | lines, their rules and status, who is on them |
//! | `messages` | messages on a line: text, requests, replies, quotas |
//! | `activities` | activity notices, amendments, cancellations, acknowledgments |
//! | `conflicts` | conflicts found, resolved and coordinated |
//! | `sites` | protected sites |
//! | `signatures` | signed requests: statements checked, used signatures |
//! | `keys` | a party's chain of keys: registered, revoked |
//! | `deadlines` | what is owed, escalation (the tick) |
//! | `line_checks` | line checks and their answers |
//! | `record` | the tamper-evident record: inclusion, consistency, exports |
//! | `talks` | the register of talks |
//! | `federation` | peer nodes, federated lines' logs, peers' deliveries |

mod activities;
mod certificates;
mod conflicts;
mod deadlines;
mod entries;
mod federation;
mod handles;
mod history;
mod image;
mod keys;
mod line_checks;
mod lines;
mod messages;
mod oversight;
mod parties;
mod record;
mod signatures;
mod sites;
pub(crate) mod talks;

use crate::command::Command;
use crate::deadlines::Deadlines;
use crate::entry::{Entry, Logged};
use crate::error::ServiceError;
use crate::line_checks::Checks;
use crate::model::{Actor, Role, WriteOutcome};
use crate::record::leaf_text;
use crate::shared_value::SharedValue;
use crate::site::{Site, SiteRules};
use activities::Activity;
pub use certificates::normalise_spki;
use conflicts::Conflict;
pub(crate) use entries::Entries;
pub use entries::RECENT_ENTRIES;
pub use federation::{LineLogs, NodeLogs, Peer, MAX_DELIVERY};
use handles::{Handle, Handles};
pub(crate) use history::decode_pairs;
pub(crate) use image::{on_every_core, Image, ImageError};
use imbl::OrdMap;
use lines::Line;
use parley_engine::{Index, Limits, Volume};
use parley_record::MerkleLog;
use parley_wire::{format_timestamp, parse_volume, WireLimits};
use parties::{Operator, Party};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// A decided command: the entries to log (with their audiences) and the answer.
pub struct Decision {
    /// Entries and the parties that may see each.
    pub entries: Vec<(Entry, Vec<String>)>,
    /// Whether it made something new.
    pub outcome: WriteOutcome,
    /// The answer.
    pub body: Value,
    /// Volumes for evolving the first entry, when deciding had to make them
    /// (the writer otherwise moves them out of the command: [`Command::into_volumes`]).
    pub volumes: Option<Vec<Volume>>,
}

/// Everything the service knows, rebuilt from the journal at start.
pub struct State {
    /// The journal: recent entries in memory, older ones in the store (`entries.rs`).
    log: entries::Entries,
    parties: BTreeMap<String, Party>,
    operators: BTreeMap<String, Operator>,
    by_token: HashMap<String, String>,
    lines: BTreeMap<String, Line>,
    activities: OrdMap<String, SharedValue<Activity>>,
    /// Activities that ended long ago: only where their entries are (`history.rs`).
    retired: history::Retired,
    sites: BTreeMap<String, Site>,
    conflicts: OrdMap<String, SharedValue<Conflict>>,
    handles: Handles,
    index: Index<u64>,
    deadlines: Deadlines,
    checks: Checks,
    talks: talks::Talks,
    record: MerkleLog,
    /// Registered public keys (verifier key lines) by party.
    party_keys: BTreeMap<String, Vec<String>>,
    /// The record's origin, the skew and the signatures used (`signatures.rs`).
    signing: signatures::Signing,
    /// Client certificates bound to parties (`certificates.rs`).
    certificates: certificates::Certificates,
    limits: WireLimits,
    replay_limits: Limits,
    /// Days without a confirmed talk after which a relationship is flagged.
    talk_gap_days: i64,
    /// How large and long-lived a protected site may be.
    site_rules: SiteRules,
    /// Peer nodes and federated lines (`federation.rs`).
    federation: federation::Federation,
}

/// The index key of volume `volume` of the activity or site with `handle`.
fn key(handle: u32, volume: usize) -> u64 {
    (handle as u64) << 16 | volume as u64
}

impl State {
    /// An empty state that validates new volumes against `limits`.
    pub fn new(limits: WireLimits) -> Self {
        Self {
            log: Default::default(),
            parties: BTreeMap::new(),
            operators: BTreeMap::new(),
            by_token: HashMap::new(),
            lines: BTreeMap::new(),
            activities: OrdMap::new(),
            retired: Default::default(),
            sites: BTreeMap::new(),
            conflicts: OrdMap::new(),
            handles: Handles::default(),
            index: Index::new(),
            deadlines: Deadlines::default(),
            checks: Checks::default(),
            talks: talks::Talks::default(),
            record: MerkleLog::new(),
            party_keys: BTreeMap::new(),
            signing: Default::default(),
            certificates: Default::default(),
            limits,
            talk_gap_days: crate::talk_record::TALK_GAP_DAYS,
            site_rules: SiteRules::default(),
            federation: Default::default(),
            // Entries already logged were valid when logged; tighter limits later
            // must not make the journal unreadable.
            replay_limits: Limits {
                max_vertices: usize::MAX,
                max_area_m2: f64::INFINITY,
                max_extent_m: f64::INFINITY,
                max_duration_us: i64::MAX,
            },
        }
    }

    /// The limits new volumes are validated against.
    pub fn limits(&self) -> &WireLimits {
        &self.limits
    }

    /// Flags a relationship on the status board after `days` without a
    /// confirmed talk (a deployment's choice; [`crate::TALK_GAP_DAYS`] by default).
    pub fn set_talk_gap_days(&mut self, days: i64) {
        self.talk_gap_days = days;
    }

    /// See [`State::set_talk_gap_days`].
    pub fn talk_gap_days(&self) -> i64 {
        self.talk_gap_days
    }

    /// Limits new protected sites to `rules` (a deployment's choice;
    /// [`SiteRules::default`] otherwise). Sites registered before keep theirs.
    pub fn set_site_rules(&mut self, rules: SiteRules) {
        self.site_rules = rules;
    }

    /// See [`State::set_site_rules`].
    pub fn site_rules(&self) -> SiteRules {
        self.site_rules
    }

    /// The entries after position `seq` (borrowed while they are in
    /// memory, read from the store before that).
    pub fn logged_after(&self, seq: u64) -> std::borrow::Cow<'_, [Logged]> {
        self.log.range(seq, u64::MAX)
    }

    /// Logged entry `seq`, from memory or the store.
    pub fn logged(&self, seq: u64) -> Option<std::borrow::Cow<'_, Logged>> {
        self.log.get(seq)
    }

    /// Position of the last entry.
    pub fn last_seq(&self) -> u64 {
        self.log.len()
    }

    /// When the last entry was logged (µs since the epoch; 0 before any).
    pub fn last_at_us(&self) -> i64 {
        self.log.last_at_us()
    }

    /// Reads entries that left memory back through `reader` (a store's own
    /// connection), so that only recent ones stay in memory.
    pub fn set_entry_reader(&mut self, reader: Option<std::sync::Arc<dyn crate::EntryReader>>) {
        self.log.set_reader(reader);
    }

    /// Keeps the last `entries` entries in memory once a store reads the
    /// older back ([`RECENT_ENTRIES`] by default).
    pub fn set_recent_entries(&mut self, entries: usize) {
        self.log.set_keep(entries);
    }

    /// How many journal entries are held in memory now.
    pub fn entries_in_memory(&self) -> usize {
        self.log.in_memory()
    }

    /// See [`State::set_recent_entries`].
    pub fn recent_entries(&self) -> usize {
        self.log.keep()
    }

    /// Entries up to `seq` are durable: they may leave memory (the store
    /// reads them back).
    pub fn forget_durable(&mut self, seq: u64) {
        self.log.forget_durable(seq);
    }

    // ---- evolving ----------------------------------------------------------

    /// Applies a logged entry. Entries come from [`State::decide`] or the journal,
    /// so they are trusted to be consistent.
    pub fn evolve(&mut self, logged: Logged) {
        self.evolve_with(logged, None);
    }

    /// [`State::evolve`], given the entry's volumes already validated (from its
    /// [`Decision`]) so they need not be parsed again.
    pub fn evolve_with(&mut self, logged: Logged, prepared: Option<Vec<Volume>>) {
        let (seq, at_us) = (logged.seq, logged.at_us);
        match &logged.entry {
            Entry::PartyCreated { party, name } => self.evolve_party_created(party, name),
            Entry::OperatorCreated { .. } => self.evolve_operator_created(&logged),
            Entry::OperatorRevoked { operator, .. } => self.evolve_operator_revoked(operator),
            Entry::PartySettingsChanged {
                party,
                host_may_add_operators,
                ..
            } => self.evolve_party_settings_changed(party, *host_may_add_operators),
            Entry::LineCreated {
                line,
                name,
                parties,
                rules,
            } => self.evolve_line_created(at_us, line, name, parties, rules),
            Entry::LineStatusChanged { line, status } => {
                self.evolve_line_status_changed(line, *status)
            }
            Entry::MessageSent { .. } => self.evolve_message_sent(&logged),
            Entry::Notice { .. } => self.evolve_notice(&logged, prepared),
            Entry::Acknowledged {
                activity,
                version,
                party,
                ..
            } => self.evolve_acknowledged(seq, activity, *version, party),
            Entry::PartyKeyRegistered { party, key, .. } => {
                self.evolve_party_key_registered(party, key)
            }
            Entry::PartyKeyRevoked { party, key, .. } => self.evolve_party_key_revoked(party, key),
            Entry::PartyCertificateBound {
                party, spki_sha256, ..
            } => self.evolve_certificate_bound(party, spki_sha256),
            Entry::DeadlineEscalated { deadline, step, .. } => {
                self.evolve_deadline_escalated(deadline, *step)
            }
            Entry::LineCheckSent {
                check,
                line,
                party,
                due,
            } => self.evolve_line_check_sent(at_us, check, line, party, due),
            Entry::LineCheckAnswered { line, party, .. } => {
                self.evolve_line_check_answered(at_us, line, party)
            }
            Entry::LineCheckMissed { line, party, .. } => {
                self.evolve_line_check_missed(line, party)
            }
            Entry::ConflictFound { conflict, a, b, .. } => {
                self.evolve_conflict_found(&logged, conflict, a, b)
            }
            Entry::ConflictResolved { conflict, by } => self.evolve_conflict_resolved(conflict, by),
            Entry::ConflictCoordinated {
                conflict,
                party,
                note,
            } => self.evolve_conflict_coordinated(conflict, party, note),
            Entry::SiteRegistered { .. } => self.evolve_site_registered(&logged, prepared),
            Entry::SiteWithdrawn { site, .. } => self.evolve_site_withdrawn(site),
            Entry::TalkRecorded {
                talk,
                version,
                party,
                record,
                ..
            } => self.evolve_talk_recorded(seq, talk, *version, party, record),
            Entry::TalkConfirmed {
                talk,
                version,
                party,
                ..
            } => self.evolve_talk_confirmed(seq, at_us, talk, *version, party),
            Entry::FollowUpClosed {
                talk,
                follow_up,
                party,
                ..
            } => self.evolve_follow_up_closed(seq, talk, *follow_up, party),
            Entry::PeerAdded {
                node,
                url,
                node_key,
                parties,
                tls_pin,
                cosigner_key,
            } => {
                let peer = Peer {
                    url: url.clone(),
                    node_key: node_key.clone(),
                    parties: parties.clone(),
                    tls_pin: tls_pin.clone(),
                    cosigner_key: cosigner_key.clone(),
                };
                self.evolve_peer_added(node, peer)
            }
            Entry::Received { .. } => self.evolve_received(&logged),
            Entry::Delivered {
                node,
                line,
                through,
                receipt,
                cosigned,
            } => self.evolve_delivered(node, line, (*through, receipt), cosigned.as_deref()),
            Entry::PeerMisbehaved { line, delivery, .. } => {
                self.evolve_peer_misbehaved(line, delivery)
            }
            Entry::NoticeUndelivered {
                line,
                node,
                activity,
                version,
                ..
            } => self.evolve_notice_undelivered(line, node, activity, *version),
            Entry::PeerRefused {
                node, line, index, ..
            } => self.evolve_peer_refused(node, line, *index),
        }
        self.evolve_federation(&logged);
        self.evolve_signed(&logged);
        self.record.append(leaf_text(&logged).as_bytes());
        self.log.push(logged);
    }

    /// Volumes read back from the journal: valid when logged, so checked
    /// against no limits that may have tightened since.
    fn volumes_of(&self, volumes: &[Value]) -> Vec<Volume> {
        volumes
            .iter()
            .filter_map(|v| parse_volume(v, "", &self.replay_limits).ok())
            .collect()
    }

    // ---- deciding ----------------------------------------------------------

    /// Decides `command` for `actor` at `now_us`: the entries it logs and the
    /// answer, or why it is refused. Never changes the state.
    pub fn decide(
        &self,
        actor: &Actor,
        command: &Command,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        match command {
            Command::CreateParty { party, name } => self.decide_create_party(actor, party, name),
            Command::CreateOperator {
                party,
                name,
                role,
                token_sha256,
            } => self.decide_create_operator(actor, party, name, *role, token_sha256),
            Command::RevokeOperator { operator } => self.decide_revoke_operator(actor, operator),
            Command::SetPartySettings {
                party,
                host_may_add_operators,
            } => self.decide_party_settings(actor, party, *host_may_add_operators),
            Command::CreateLine {
                line,
                name,
                parties,
                rules,
            } => self.decide_create_line(actor, line, name, parties, rules),
            Command::SetLineStatus { line, suspended } => {
                self.decide_set_line_status(actor, line, *suspended)
            }
            Command::SendMessage {
                line,
                message,
                priority,
                text,
                deadline,
                references,
            } => self.decide_send_message(
                actor,
                line,
                *message,
                *priority,
                text,
                deadline.as_deref(),
                *references,
                now_us,
            ),
            Command::Notify {
                line,
                category,
                point_of_contact,
                volumes,
                dry_run,
            } => self.decide_notify(
                actor,
                line,
                *category,
                point_of_contact,
                volumes,
                *dry_run,
                now_us,
            ),
            Command::Amend {
                activity,
                replaces_version,
                category,
                point_of_contact,
                volumes,
                dry_run,
            } => self.decide_amend(
                actor,
                activity,
                *replaces_version,
                *category,
                point_of_contact.as_deref(),
                volumes,
                *dry_run,
                now_us,
            ),
            Command::Cancel {
                activity,
                replaces_version,
            } => self.decide_cancel(actor, activity, *replaces_version),
            Command::Acknowledge {
                activity,
                version,
                content_sha256,
            } => self.decide_acknowledge(actor, activity, *version, content_sha256),
            Command::RegisterKey { party, key } => self.decide_register_key(actor, party, key),
            Command::RevokeKey { party, key } => self.decide_revoke_key(actor, party, key),
            Command::BindCertificate { party, spki_sha256 } => {
                self.decide_bind_certificate(actor, party, spki_sha256)
            }
            Command::Tick => self.decide_tick(actor, now_us),
            Command::AnswerLineCheck { check } => {
                self.decide_answer_line_check(actor, check, now_us)
            }
            Command::Coordinate { conflict, note } => self.decide_coordinate(actor, conflict, note),
            Command::RegisterSite {
                name,
                site_kind,
                volumes,
                expires,
                shared_with_parties,
                shared_with_lines,
            } => self.decide_register_site(
                actor,
                name,
                *site_kind,
                volumes,
                expires,
                shared_with_parties,
                shared_with_lines,
                now_us,
            ),
            Command::WithdrawSite { site } => self.decide_withdraw_site(actor, site),
            Command::RecordTalk { record } => self.decide_record_talk(actor, record, now_us),
            Command::ProposeTalkVersion { talk, record } => {
                self.decide_talk_version(actor, talk, record, now_us)
            }
            Command::ConfirmTalk {
                talk,
                version,
                content_sha256,
            } => self.decide_confirm_talk(actor, talk, *version, content_sha256.as_deref()),
            Command::CloseFollowUp {
                talk,
                follow_up,
                note,
            } => self.decide_close_follow_up(actor, talk, *follow_up, note),
            Command::AddPeer { node, peer } => self.decide_add_peer(actor, node, peer.clone()),
            Command::Ingest { delivery, index } => {
                self.decide_ingest(actor, delivery, *index, now_us)
            }
            Command::KeepEvidence { delivery } => self.decide_keep_evidence(actor, delivery),
            Command::CheckHeads { delivery } => self.decide_check_heads(actor, delivery),
            Command::ConfirmDelivery {
                node,
                line,
                receipt,
                cosignature,
                refusals,
            } => self.decide_confirm_delivery(
                actor,
                node,
                line,
                (receipt, refusals),
                cosignature.as_deref(),
            ),
        }
    }

    // ---- who may see and do what ---------------------------------------------

    /// Whether `actor` may see logged entry `l`: its audience does; the host's
    /// admins see all but the register of talks.
    fn sees_entry(&self, actor: &Actor, l: &Logged) -> bool {
        (actor.is_host_admin() && !l.entry.is_talks_register()) || l.audience.contains(&actor.party)
    }

    fn require_host_admin(&self, actor: &Actor) -> Result<(), ServiceError> {
        if actor.is_host_admin() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(
                "only the host's admins do this".into(),
            ))
        }
    }

    fn require_officer_on(&self, actor: &Actor, line: &str) -> Result<(), ServiceError> {
        if !self.sees_line(actor, line) {
            return Err(ServiceError::NotFound(format!("line {line}")));
        }
        if !self.is_member(&actor.party, line) {
            return Err(ServiceError::Forbidden(
                "the host is not a party to the line; only its parties write on it".into(),
            ));
        }
        self.require_line_accepted(line)?;
        if actor.role == Role::Observer {
            return Err(ServiceError::Forbidden(
                "observers cannot write on a line; an officer or admin can".into(),
            ));
        }
        Ok(())
    }

    fn logged_json(&self, seq: u64) -> Value {
        let Some(l) = self.log.get(seq) else {
            return json!({"journal_seq": seq, "unreadable": true});
        };
        let mut v = l.entry.public_json();
        v["logged_at"] = json!(format_timestamp(parley_engine::Timestamp(l.at_us)));
        // Its place in the journal and the record: ask for its receipt with it.
        v["journal_seq"] = json!(l.seq);
        v
    }
}
