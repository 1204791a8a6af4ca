//! The service's state: what replaying the journal builds, how a command is
//! decided against it (producing entries), and what each party may read.
//!
//! Deciding never mutates; [`State::evolve`] applies an entry. The writer decides
//! and evolves one command at a time, so a notice's conflict check and its
//! insertion are atomic with respect to every other notice.
//!
//! Kept whole for now, at about 2,300 lines: the entities, `evolve_with` and
//! `decide` share the state's private fields, and their split by domain concept
//! (activities, conflicts, lines, messages, reads) is issue 19. New concepts go
//! in modules of their own, as `site` and `talks` do.

use crate::command::{Command, Signed, Volumes};
use crate::content::{NoticeContent, RawJson, Stated};
use crate::deadlines::{Deadline, Deadlines, Owed, Step, FLASH_ANSWER_S};
use crate::entry::{Entry, Logged, Side, SignedBy};
use crate::error::ServiceError;
use crate::line_checks::{CheckAction, Checks, MIN_INTERVAL_S};
use crate::model::{Actor, Category, LineRules, Priority, Role, HOST};
use crate::record::{hex_all, leaf_text};
use crate::site::{Site, SiteRules};
use parley_engine::{Index, Limits, Minima, Volume};
use parley_record::{Hash, MerkleLog, VerifierKey};
use parley_wire::{format_timestamp, meeting_json, parse_timestamp, parse_volume, WireLimits};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[path = "talks.rs"]
pub(crate) mod talks;

/// Hex-encoded SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// A decided command: the entries to log (with their audiences) and the answer.
pub struct Decision {
    /// Entries and the parties that may see each.
    pub entries: Vec<(Entry, Vec<String>)>,
    /// HTTP-like status of the answer (200, 201).
    pub status: u16,
    /// The answer.
    pub body: Value,
    /// Volumes for evolving the first entry, when deciding had to make them
    /// (the writer otherwise moves them out of the command: [`Command::into_volumes`]).
    pub volumes: Option<Vec<Volume>>,
}

struct Party {
    name: String,
}

struct Operator {
    party: String,
    name: String,
    role: Role,
    revoked: bool,
}

struct Line {
    name: String,
    parties: Vec<String>,
    rules: LineRules,
    status: String,
    /// Journal positions of its messages, in line order.
    messages: Vec<u64>,
}

struct Activity {
    line: String,
    party: String,
    /// Journal positions of its notice versions.
    versions: Vec<u64>,
    hashes: Vec<String>,
    cancelled: bool,
    /// How many volumes its current version has; the volumes live in the index.
    volume_count: usize,
    handle: u32,
    /// Journal positions of acknowledgments.
    acks: Vec<u64>,
}

struct Conflict {
    a: Side,
    b: Side,
    at: u64,
    /// The parties told of it (the line's parties who see both sides).
    audience: Vec<String>,
    resolved: Option<String>,
    coordinated: BTreeMap<String, String>,
}

/// A conflict found for a new notice or site: the other side, where and when
/// they meet, and the parties to tell.
struct Found {
    side: Side,
    meetings: Vec<Value>,
    audience: Vec<String>,
}

impl Found {
    /// Logs conflict `conflict` between `a` and this side to its audience, and
    /// reports it in the answer to `party` only if `party` is told: not of a
    /// site it does not see, which the line's other parties are told of.
    fn log(
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

fn site_side(id: &str, s: &Site) -> Side {
    Side {
        kind: "site".into(),
        id: id.to_string(),
        version: 1,
        party: s.party.clone(),
    }
}

impl Conflict {
    /// Coordinated once every party told of it has marked it so.
    fn is_coordinated(&self) -> bool {
        self.audience
            .iter()
            .all(|p| self.coordinated.contains_key(p))
    }
}

#[derive(Clone)]
enum Handle {
    Activity(String),
    Site(String),
}

/// Everything the service knows, rebuilt from the journal at start.
pub struct State {
    log: Vec<Logged>,
    parties: BTreeMap<String, Party>,
    operators: BTreeMap<String, Operator>,
    by_token: HashMap<String, String>,
    lines: BTreeMap<String, Line>,
    activities: BTreeMap<String, Activity>,
    sites: BTreeMap<String, Site>,
    conflicts: BTreeMap<String, Conflict>,
    handles: Vec<Handle>,
    index: Index<u64>,
    deadlines: Deadlines,
    checks: Checks,
    talks: talks::Talks,
    record: MerkleLog,
    /// Registered public keys (verifier key lines) by party.
    party_keys: BTreeMap<String, Vec<String>>,
    limits: WireLimits,
    replay_limits: Limits,
    /// Days without a confirmed talk after which a relationship is flagged.
    talk_gap_days: i64,
    /// How large and long-lived a protected site may be.
    site_rules: SiteRules,
}

/// A new id: `prefix`, a dash and 64 random bits in hex. Ids say nothing of
/// where their entry sits in the journal, so a party cannot count the others'
/// traffic by the gaps between the ids it sees.
pub(crate) fn new_id(prefix: &str) -> String {
    let mut bits = [0u8; 8];
    getrandom::fill(&mut bits).expect("the system's randomness");
    format!("{prefix}-{}", hex(&bits))
}

/// Which messages (by kind and priority) a quota counts.
type Counted = fn(&str, Priority) -> bool;

/// A duration in seconds as minutes for a reader ("5 min", "90 s").
fn minutes(s: u64) -> String {
    if s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// RFC 3339 text of a time in µs.
fn time_text(us: i64) -> String {
    format_timestamp(parley_engine::Timestamp(us))
}

/// An open deadline as a client reads it.
fn deadline_json(d: &Deadline, now_us: i64) -> Value {
    let steps = ["reminder", "overdue", "admins"];
    json!({"id": d.id, "line": d.line, "party": d.party, "owed": d.owed, "flash": d.flash,
           "set_at": time_text(d.set_us), "due": time_text(d.due_us), "overdue": d.overdue(now_us),
           "escalation": steps[..d.steps_done]})
}

fn key(handle: u32, volume: usize) -> u64 {
    (handle as u64) << 16 | volume as u64
}

/// Identifiers chosen by people: letters, digits, `-`, `_`, `.`; 1 to 64 bytes.
fn check_id(pointer: &str, id: &str) -> Result<(), ServiceError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            pointer,
            "use 1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

fn check_text(pointer: &str, text: &str, max: usize) -> Result<(), ServiceError> {
    if text.trim().is_empty() {
        return Err(ServiceError::invalid(
            pointer,
            format!("is empty; give 1 to {max} bytes of text"),
        ));
    }
    if text.len() > max {
        return Err(ServiceError::invalid(
            pointer,
            format!("is {} bytes; shorten it to at most {max}", text.len()),
        ));
    }
    Ok(())
}

impl State {
    /// An empty state that validates new volumes against `limits`.
    pub fn new(limits: WireLimits) -> Self {
        Self {
            log: Vec::new(),
            parties: BTreeMap::new(),
            operators: BTreeMap::new(),
            by_token: HashMap::new(),
            lines: BTreeMap::new(),
            activities: BTreeMap::new(),
            sites: BTreeMap::new(),
            conflicts: BTreeMap::new(),
            handles: Vec::new(),
            index: Index::new(),
            deadlines: Deadlines::default(),
            checks: Checks::default(),
            talks: talks::Talks::default(),
            record: MerkleLog::new(),
            party_keys: BTreeMap::new(),
            limits,
            talk_gap_days: talks::TALK_GAP_DAYS,
            site_rules: SiteRules::default(),
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
    /// confirmed talk (a deployment's choice; [`talks::TALK_GAP_DAYS`] by default).
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

    /// The entries after position `seq`.
    pub fn logged_after(&self, seq: u64) -> &[Logged] {
        &self.log[seq as usize..]
    }

    /// Every unrevoked operator by the SHA-256 of its token.
    pub fn tokens(&self) -> HashMap<String, Actor> {
        self.by_token
            .iter()
            .filter_map(|(hash, id)| {
                let op = &self.operators[id];
                (!op.revoked).then(|| {
                    let actor = Actor {
                        operator: id.clone(),
                        party: op.party.clone(),
                        role: op.role,
                    };
                    (hash.clone(), actor)
                })
            })
            .collect()
    }

    /// Position of the last entry.
    pub fn last_seq(&self) -> u64 {
        self.log.len() as u64
    }

    /// Whether any operator exists (the first start has none).
    pub fn has_operators(&self) -> bool {
        !self.operators.is_empty()
    }

    /// Whether the operator exists and is not revoked.
    pub fn operator_active(&self, operator: &str) -> bool {
        self.operators.get(operator).is_some_and(|o| !o.revoked)
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
        let seq = logged.seq;
        match &logged.entry {
            Entry::PartyCreated { party, name } => {
                self.parties
                    .insert(party.clone(), Party { name: name.clone() });
            }
            Entry::OperatorCreated {
                operator,
                party,
                name,
                role,
                token_sha256,
            } => {
                self.by_token.insert(token_sha256.clone(), operator.clone());
                self.operators.insert(
                    operator.clone(),
                    Operator {
                        party: party.clone(),
                        name: name.clone(),
                        role: *role,
                        revoked: false,
                    },
                );
            }
            Entry::OperatorRevoked { operator } => {
                if let Some(op) = self.operators.get_mut(operator) {
                    op.revoked = true;
                }
            }
            Entry::LineCreated {
                line,
                name,
                parties,
                rules,
            } => {
                self.lines.insert(
                    line.clone(),
                    Line {
                        name: name.clone(),
                        parties: parties.clone(),
                        rules: *rules,
                        status: "active".into(),
                        messages: Vec::new(),
                    },
                );
                self.checks
                    .open_line(line, parties, rules.line_check_interval_s, logged.at_us);
            }
            Entry::LineStatusChanged { line, status } => {
                if let Some(l) = self.lines.get_mut(line) {
                    l.status = status.clone();
                }
            }
            Entry::MessageSent {
                line,
                seq: message,
                party,
                message: kind,
                priority,
                deadline,
                references,
                ..
            } => {
                if let Some(l) = self.lines.get_mut(line) {
                    l.messages.push(seq);
                }
                let at = logged.at_us;
                let requested = deadline
                    .as_deref()
                    .and_then(|d| parse_timestamp(d).ok())
                    .map(|t| t.0);
                let owed = Owed::Reply { message: *message };
                for other in self.others_on(line, party) {
                    if *priority == Priority::Flash && kind != "reply" {
                        let due = requested
                            .unwrap_or(i64::MAX)
                            .min(at + FLASH_ANSWER_S * 1_000_000);
                        self.deadlines
                            .set(Deadline::flash(line, &other, owed.clone(), at, due));
                    } else if let Some(due) = requested.filter(|_| kind == "request") {
                        self.deadlines
                            .set(Deadline::new(line, &other, owed.clone(), at, due));
                    }
                }
                if let (Some(r), "reply") = (references, kind.as_str()) {
                    self.deadlines
                        .meet(&Owed::Reply { message: *r }.id(line, party));
                }
            }
            Entry::Notice {
                activity,
                line,
                party,
                version,
                state,
                content,
                content_sha256,
                ..
            } => {
                let volumes = match prepared {
                    _ if state == "cancelled" => Vec::new(),
                    Some(v) => v,
                    None => self.volumes_of(&Stated::of(content).volumes),
                };
                let handle = match self.activities.get(activity) {
                    Some(a) => a.handle,
                    None => {
                        self.handles.push(Handle::Activity(activity.clone()));
                        (self.handles.len() - 1) as u32
                    }
                };
                let a = self
                    .activities
                    .entry(activity.clone())
                    .or_insert_with(|| Activity {
                        line: line.clone(),
                        party: party.clone(),
                        versions: Vec::new(),
                        hashes: Vec::new(),
                        cancelled: false,
                        volume_count: 0,
                        handle,
                        acks: Vec::new(),
                    });
                for i in 0..a.volume_count {
                    self.index.remove(&key(handle, i));
                }
                a.versions.push(seq);
                a.hashes.push(content_sha256.clone());
                a.cancelled = state == "cancelled";
                a.volume_count = volumes.len();
                for (i, v) in volumes.into_iter().enumerate() {
                    self.index.insert(key(handle, i), v);
                }
                let (line, version) = (line.clone(), *version);
                let due = logged.at_us + self.lines[&line].rules.ack_deadline_s as i64 * 1_000_000;
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
                        .set(Deadline::new(&line, &other, owed, logged.at_us, due));
                }
            }
            Entry::Acknowledged {
                activity,
                version,
                party,
                ..
            } => {
                if let Some(a) = self.activities.get_mut(activity) {
                    a.acks.push(seq);
                    let owed = Owed::Acknowledgment {
                        activity: activity.clone(),
                        version: *version,
                    };
                    self.deadlines.meet(&owed.id(&a.line, party));
                }
            }
            Entry::PartyKeyRegistered { party, key, .. } => {
                self.party_keys
                    .entry(party.clone())
                    .or_default()
                    .push(key.clone());
            }
            Entry::DeadlineEscalated { deadline, step, .. } => {
                self.deadlines.escalated(deadline, *step);
            }
            Entry::LineCheckSent {
                check,
                line,
                party,
                due,
            } => {
                let due_us = parse_timestamp(due).map_or(logged.at_us, |t| t.0);
                self.checks.sent(line, party, check, logged.at_us, due_us);
            }
            Entry::LineCheckAnswered { line, party, .. } => {
                self.checks.ended(line, party, Some(logged.at_us));
            }
            Entry::LineCheckMissed { line, party, .. } => {
                self.checks.ended(line, party, None);
            }
            Entry::ConflictFound { conflict, a, b, .. } => {
                self.conflicts.insert(
                    conflict.clone(),
                    Conflict {
                        a: a.clone(),
                        b: b.clone(),
                        at: seq,
                        audience: logged.audience.clone(),
                        resolved: None,
                        coordinated: BTreeMap::new(),
                    },
                );
            }
            Entry::ConflictResolved { conflict, by } => {
                if let Some(c) = self.conflicts.get_mut(conflict) {
                    c.resolved = Some(by.clone());
                }
            }
            Entry::ConflictCoordinated {
                conflict,
                party,
                note,
            } => {
                if let Some(c) = self.conflicts.get_mut(conflict) {
                    c.coordinated.insert(party.clone(), note.clone());
                }
            }
            Entry::SiteRegistered {
                site,
                party,
                volumes,
                expires,
                shared_with_parties,
                shared_with_lines,
                ..
            } => {
                let vols = match prepared {
                    Some(v) => v,
                    None => self.volumes_of(
                        &serde_json::from_str::<Vec<Value>>(volumes.get()).unwrap_or_default(),
                    ),
                };
                self.handles.push(Handle::Site(site.clone()));
                let handle = (self.handles.len() - 1) as u32;
                let volume_count = vols.len();
                for (i, v) in vols.into_iter().enumerate() {
                    self.index.insert(key(handle, i), v);
                }
                self.sites.insert(
                    site.clone(),
                    Site {
                        party: party.clone(),
                        volume_count,
                        expires_us: parse_timestamp(expires).map(|t| t.0).unwrap_or(i64::MAX),
                        shared_with_parties: shared_with_parties.clone(),
                        shared_with_lines: shared_with_lines.clone(),
                        at: seq,
                        handle,
                        withdrawn: false,
                    },
                );
            }
            Entry::SiteWithdrawn { site, .. } => {
                if let Some(s) = self.sites.get_mut(site) {
                    s.withdrawn = true;
                    for i in 0..s.volume_count {
                        self.index.remove(&key(s.handle, i));
                    }
                }
            }
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
            } => self.evolve_talk_confirmed(seq, logged.at_us, talk, *version, party),
            Entry::FollowUpClosed {
                talk,
                follow_up,
                party,
                ..
            } => self.evolve_follow_up_closed(seq, talk, *follow_up, party),
        }
        self.record.append(leaf_text(&logged).as_bytes());
        self.log.push(logged);
    }

    fn volumes_of(&self, volumes: &[Value]) -> Vec<Volume> {
        volumes
            .iter()
            .filter_map(|v| parse_volume(v, "", &self.replay_limits).ok())
            .collect()
    }

    // ---- visibility --------------------------------------------------------

    fn is_member(&self, party: &str, line: &str) -> bool {
        self.lines
            .get(line)
            .is_some_and(|l| l.parties.iter().any(|p| p == party))
    }

    fn sees_line(&self, actor: &Actor, line: &str) -> bool {
        self.lines.contains_key(line)
            && (actor.is_host_admin() || self.is_member(&actor.party, line))
    }

    fn sees_activity(&self, party: &str, a: &Activity) -> bool {
        a.party == party || self.is_member(party, &a.line)
    }

    fn actor_sees_activity(&self, actor: &Actor, a: &Activity) -> bool {
        actor.is_host_admin() || self.sees_activity(&actor.party, a)
    }

    fn sees_site(&self, party: &str, s: &Site) -> bool {
        s.seen_by(party, |p, l| self.is_member(p, l))
    }

    /// The parties of `line` told of a conflict there with site `s` (none: the
    /// line does not share the site).
    fn site_audience(&self, line: &str, s: &Site) -> Vec<String> {
        let parties = self.lines.get(line).map_or(&[][..], |l| &l.parties[..]);
        s.audience_on(parties, |p, l| self.is_member(p, l))
    }

    /// The member parties of `line` other than `party`.
    fn others_on(&self, line: &str, party: &str) -> Vec<String> {
        self.lines.get(line).map_or_else(Vec::new, |l| {
            l.parties.iter().filter(|p| *p != party).cloned().collect()
        })
    }

    /// The parties who see deadline `d` and get its overdue mark: its line's
    /// members, or for a talk's follow-up the talk's parties alone.
    fn deadline_parties(&self, d: &Deadline) -> &[String] {
        match &d.owed {
            Owed::FollowUp { talk, .. } => self.talks.parties(talk).unwrap_or_default(),
            _ => self
                .lines
                .get(&d.line)
                .map_or(&[], |l| l.parties.as_slice()),
        }
    }

    /// Whether `actor` may see logged entry `l`: its audience does; the host's
    /// admins see all but the register of talks.
    fn sees_entry(&self, actor: &Actor, l: &Logged) -> bool {
        (actor.is_host_admin() && !l.entry.is_talks_register()) || l.audience.contains(&actor.party)
    }

    /// Whether `actor` may see deadline `d`: its parties do; the host's admins
    /// see all but the follow-ups of talks.
    fn sees_deadline(&self, actor: &Actor, d: &Deadline) -> bool {
        (actor.is_host_admin() && !d.owed.is_talks_register())
            || self.deadline_parties(d).contains(&actor.party)
    }

    /// Unrevoked operators of `party` with at least `role`.
    fn operators_of(&self, party: &str, role: Role) -> Vec<String> {
        self.operators
            .iter()
            .filter(|(_, o)| o.party == party && !o.revoked && o.role >= role)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn line_audience(&self, line: &str) -> Vec<String> {
        self.lines
            .get(line)
            .map(|l| l.parties.clone())
            .unwrap_or_default()
    }

    // ---- deciding ----------------------------------------------------------

    /// [`State::decide`] for a request that may be signed: the signature must
    /// verify with a key of the actor's party, and is kept in the notice or
    /// acknowledgment it makes; a line that requires signatures refuses
    /// unsigned notices and acknowledgments.
    pub fn decide_signed(
        &self,
        actor: &Actor,
        command: &Command,
        signed: Option<&Signed>,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        let signable = matches!(
            command,
            Command::Notify { .. }
                | Command::Amend { .. }
                | Command::Cancel { .. }
                | Command::Acknowledge { .. }
                | Command::ConfirmTalk { .. }
        );
        let proof = match signed {
            None => None,
            Some(_) if !signable => {
                return Err(ServiceError::invalid(
                    "",
                    "only notices, amendments, cancellations, acknowledgments and confirmations of talks are signed",
                ))
            }
            Some(s) => Some(self.verify_signed(&actor.party, s)?),
        };
        if proof.is_none() {
            let line = match command {
                Command::Notify { line, .. } => Some(line.as_str()),
                Command::Amend { activity, .. }
                | Command::Cancel { activity, .. }
                | Command::Acknowledge { activity, .. } => {
                    self.activities.get(activity).map(|a| a.line.as_str())
                }
                _ => None,
            };
            if let Some(line) = line
                .filter(|l| self.sees_line(actor, l) && self.lines[*l].rules.signatures_required)
            {
                return Err(ServiceError::Forbidden(format!(
                    "line {line} takes only signed notices and acknowledgments; sign with a key of {}",
                    actor.party
                )));
            }
        }
        let mut decision = self.decide(actor, command, now_us)?;
        if let Some(p) = proof {
            decision.body["signed_by"] = Value::from(p.key.clone());
            if let Some((
                Entry::Notice { signed, .. }
                | Entry::Acknowledged { signed, .. }
                | Entry::TalkConfirmed { signed, .. },
                _,
            )) = decision.entries.first_mut()
            {
                *signed = Some(p);
            }
        }
        Ok(decision)
    }

    /// The key of `party` that verifies `s`, with the signed note.
    fn verify_signed(&self, party: &str, s: &Signed) -> Result<SignedBy, ServiceError> {
        let note = format!("{}\n\u{2014} {}\n", s.statement, s.signature.trim());
        let keys = self
            .party_keys
            .get(party)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for key in keys {
            if let Ok(k) = VerifierKey::parse(key) {
                if k.open_note(&note).is_ok() {
                    return Ok(SignedBy {
                        key: key.clone(),
                        note,
                    });
                }
            }
        }
        Err(ServiceError::invalid(
            "",
            format!(
                "the Parley-Signature does not verify with any key of {party}; register the key (parley keys register) or sign the exact body again"
            ),
        ))
    }

    /// The public keys registered by `party`.
    pub fn party_keys(&self, party: &str) -> Result<Vec<String>, ServiceError> {
        if !self.parties.contains_key(party) {
            return Err(ServiceError::NotFound(format!("party {party}")));
        }
        Ok(self.party_keys.get(party).cloned().unwrap_or_default())
    }

    /// Decides `command` for `actor` at `now_us`: the entries it logs and the
    /// answer, or why it is refused. Never changes the state.
    pub fn decide(
        &self,
        actor: &Actor,
        command: &Command,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        let next = self.last_seq() + 1;
        match command {
            Command::CreateParty { party, name } => {
                self.require_host_admin(actor)?;
                check_id("/id", party)?;
                check_text("/name", name, 200)?;
                if self.parties.contains_key(party) {
                    return Err(ServiceError::Conflict(format!(
                        "party {party} exists already"
                    )));
                }
                let entry = Entry::PartyCreated {
                    party: party.clone(),
                    name: name.clone(),
                };
                Ok(Decision {
                    entries: vec![(entry, vec![party.clone()])],
                    status: 201,
                    body: json!({"id": party, "name": name}),
                    volumes: None,
                })
            }
            Command::CreateOperator {
                party,
                name,
                role,
                token_sha256,
            } => {
                let allowed =
                    actor.is_host_admin() || (actor.party == *party && actor.role == Role::Admin);
                if !self.parties.contains_key(party) || !(allowed || actor.party == *party) {
                    return Err(ServiceError::NotFound(format!("party {party}")));
                }
                if !allowed {
                    return Err(ServiceError::Forbidden(
                        "only an admin of the party or of the host adds operators".into(),
                    ));
                }
                check_text("/name", name, 200)?;
                let operator = new_id("op");
                let entry = Entry::OperatorCreated {
                    operator: operator.clone(),
                    party: party.clone(),
                    name: name.clone(),
                    role: *role,
                    token_sha256: token_sha256.clone(),
                };
                Ok(Decision {
                    entries: vec![(entry, vec![party.clone()])],
                    status: 201,
                    body: json!({"id": operator, "party": party, "name": name, "role": role}),
                    volumes: None,
                })
            }
            Command::RevokeOperator { operator } => {
                let op = self
                    .operators
                    .get(operator)
                    .filter(|o| actor.is_host_admin() || o.party == actor.party);
                let Some(op) = op else {
                    return Err(ServiceError::NotFound(format!("operator {operator}")));
                };
                if !(actor.is_host_admin() || actor.role == Role::Admin) {
                    return Err(ServiceError::Forbidden(
                        "only an admin revokes operators".into(),
                    ));
                }
                if op.revoked {
                    return Err(ServiceError::Conflict(format!(
                        "operator {operator} is revoked already"
                    )));
                }
                Ok(Decision {
                    entries: vec![(
                        Entry::OperatorRevoked {
                            operator: operator.clone(),
                        },
                        vec![op.party.clone()],
                    )],
                    status: 200,
                    body: json!({"id": operator, "revoked": true}),
                    volumes: None,
                })
            }
            Command::CreateLine {
                line,
                name,
                parties,
                rules,
            } => {
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
                let entry = Entry::LineCreated {
                    line: line.clone(),
                    name: name.clone(),
                    parties: parties.clone(),
                    rules: *rules,
                };
                Ok(Decision {
                    entries: vec![(entry, parties.clone())],
                    status: 201,
                    body: json!({"id": line, "name": name, "parties": parties, "rules": rules, "status": "active"}),
                    volumes: None,
                })
            }
            Command::SetLineStatus { line, suspended } => {
                self.require_host_admin(actor)?;
                if !self.lines.contains_key(line) {
                    return Err(ServiceError::NotFound(format!("line {line}")));
                }
                let status = if *suspended { "suspended" } else { "active" };
                Ok(Decision {
                    entries: vec![(
                        Entry::LineStatusChanged {
                            line: line.clone(),
                            status: status.into(),
                        },
                        self.line_audience(line),
                    )],
                    status: 200,
                    body: json!({"id": line, "status": status}),
                    volumes: None,
                })
            }
            Command::SendMessage {
                line,
                message,
                priority,
                text,
                deadline,
                references,
            } => {
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
                    let found =
                        l.messages
                            .iter()
                            .any(|&s| match &self.log[(s - 1) as usize].entry {
                                Entry::MessageSent {
                                    seq,
                                    message,
                                    priority,
                                    ..
                                } => {
                                    *seq == *r
                                        && (!reply
                                            || message == "request"
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
                match message.as_str() {
                    "text" => {
                        if references.is_some() {
                            refers_to("/references", false)?;
                        }
                    }
                    "request" => {
                        let Some(d) = deadline else {
                            return Err(ServiceError::invalid(
                                "/deadline",
                                "a request needs a deadline (RFC 3339)",
                            ));
                        };
                        let t = parse_timestamp(d)
                            .map_err(|m| ServiceError::invalid("/deadline", m))?;
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
                    "reply" => refers_to("/references", true)?,
                    _ => {
                        return Err(ServiceError::invalid(
                            "/message",
                            "give \"text\", \"request\" or \"reply\"",
                        ))
                    }
                }
                self.check_quota(actor, line, message, *priority, now_us)?;
                let seq = l.messages.len() as u64 + 1;
                let entry = Entry::MessageSent {
                    line: line.clone(),
                    seq,
                    party: actor.party.clone(),
                    operator: actor.operator.clone(),
                    message: message.clone(),
                    priority: *priority,
                    text: text.clone(),
                    deadline: deadline.clone(),
                    references: *references,
                };
                let body = entry.public_json();
                Ok(Decision {
                    entries: vec![(entry, self.line_audience(line))],
                    status: 201,
                    body,
                    volumes: None,
                })
            }
            Command::Notify {
                line,
                category,
                point_of_contact,
                volumes,
                dry_run,
            } => {
                self.require_officer_on(actor, line)?;
                let activity = new_id("act");
                self.notice(
                    actor,
                    &activity,
                    line,
                    1,
                    *category,
                    point_of_contact,
                    volumes,
                    *dry_run,
                    now_us,
                    None,
                )
            }
            Command::Amend {
                activity,
                replaces_version,
                category,
                point_of_contact,
                volumes,
                dry_run,
            } => {
                let a = self.owned_activity(actor, activity, *replaces_version)?;
                let stated = Stated::of(self.current_content(a));
                let category = category.or(stated.category).unwrap_or(Category::Air);
                let poc = point_of_contact
                    .clone()
                    .or(stated.point_of_contact)
                    .unwrap_or_default();
                let line = a.line.clone();
                self.notice(
                    actor,
                    activity,
                    &line,
                    replaces_version + 1,
                    category,
                    &poc,
                    volumes,
                    *dry_run,
                    now_us,
                    Some(a),
                )
            }
            Command::Cancel {
                activity,
                replaces_version,
            } => {
                let a = self.owned_activity(actor, activity, *replaces_version)?;
                let NoticeContent { text, sha256 } = NoticeContent::restated(
                    self.current_content(a),
                    replaces_version + 1,
                    "cancelled",
                );
                let body = json!({"activity": activity, "version": replaces_version + 1, "state": "cancelled",
                                  "content_sha256": sha256, "content": text});
                let mut entries = vec![(
                    Entry::Notice {
                        activity: activity.clone(),
                        line: a.line.clone(),
                        party: actor.party.clone(),
                        operator: actor.operator.clone(),
                        version: replaces_version + 1,
                        state: "cancelled".into(),
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
                    status: 200,
                    body,
                    volumes: None,
                })
            }
            Command::Acknowledge {
                activity,
                version,
                content_sha256,
            } => {
                let a = self
                    .activities
                    .get(activity)
                    .filter(|a| self.actor_sees_activity(actor, a))
                    .ok_or_else(|| ServiceError::NotFound(format!("activity {activity}")))?;
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
                if *version == 0 || *version > latest {
                    return Err(ServiceError::invalid(
                        "/version",
                        format!("activity {activity} has versions 1 to {latest}"),
                    ));
                }
                if *version < latest {
                    return Err(ServiceError::Conflict(format!(
                        "version {version} of {activity} was replaced by version {latest}; read version {latest} and acknowledge it"
                    )));
                }
                let expected = &a.hashes[(*version - 1) as usize];
                if content_sha256 != expected {
                    return Err(ServiceError::Conflict(format!(
                        "the read-back {content_sha256} is not the content of version {version} ({expected}); read the notice again"
                    )));
                }
                let entry = Entry::Acknowledged {
                    activity: activity.clone(),
                    version: *version,
                    party: actor.party.clone(),
                    operator: actor.operator.clone(),
                    content_sha256: content_sha256.clone(),
                    signed: None,
                };
                let body = json!({"activity": activity, "version": version, "received_by": actor.party,
                                  "content_sha256": content_sha256, "meaning": "received, not approved"});
                Ok(Decision {
                    entries: vec![(entry, self.line_audience(&a.line))],
                    status: 201,
                    body,
                    volumes: None,
                })
            }
            Command::RegisterKey { party, key } => {
                // The party's own admins only: a key the host could register would
                // let the host sign as the party.
                let own_admin = actor.party == *party && actor.role == Role::Admin;
                if !self.parties.contains_key(party) || !own_admin {
                    return Err(
                        if self.parties.contains_key(party) && actor.party == *party {
                            ServiceError::Forbidden(
                                "only the party's admins register its keys".into(),
                            )
                        } else {
                            ServiceError::NotFound(format!("party {party}"))
                        },
                    );
                }
                let parsed = VerifierKey::parse(key.trim()).map_err(|e| {
                    ServiceError::invalid(
                        "/key",
                        format!("{e}; give the line `parley keys generate` printed"),
                    )
                })?;
                let name = parsed.name();
                if name != party && !name.starts_with(&format!("{party}/")) {
                    return Err(ServiceError::invalid(
                        "/key",
                        format!("the key is named {name}; name it {party} or {party}/<label>"),
                    ));
                }
                if self
                    .party_keys
                    .get(party)
                    .is_some_and(|ks| ks.iter().any(|k| k == key.trim()))
                {
                    return Err(ServiceError::Conflict(
                        "this key is registered already".into(),
                    ));
                }
                let entry = Entry::PartyKeyRegistered {
                    party: party.clone(),
                    key: key.trim().to_string(),
                    operator: actor.operator.clone(),
                };
                // Keys are public: every party may check a signature.
                let audience = self.parties.keys().cloned().collect();
                Ok(Decision {
                    entries: vec![(entry, audience)],
                    status: 201,
                    body: json!({"party": party, "key": key.trim()}),
                    volumes: None,
                })
            }
            Command::Tick => {
                self.require_host_admin(actor)?;
                let entries = self.due(now_us);
                let body = json!({"logged": entries.len()});
                Ok(Decision {
                    entries,
                    status: 200,
                    body,
                    volumes: None,
                })
            }
            Command::AnswerLineCheck { check } => {
                let Some((line, party, pending)) = self
                    .checks
                    .find(check)
                    .filter(|(line, _, _)| self.sees_line(actor, line))
                else {
                    return Err(ServiceError::NotFound(format!(
                        "line check {check} (answered, missed or never sent)"
                    )));
                };
                if party != actor.party {
                    return Err(ServiceError::Forbidden(format!(
                        "line check {check} was sent to {party}; only its operators answer it"
                    )));
                }
                if now_us > pending.due_us {
                    return Err(ServiceError::Conflict(format!(
                        "line check {check} was due at {}; it is missed, answer the next one",
                        format_timestamp(parley_engine::Timestamp(pending.due_us))
                    )));
                }
                let round_trip_ms = (now_us - pending.sent_us) / 1_000;
                let entry = Entry::LineCheckAnswered {
                    check: check.clone(),
                    line: line.to_string(),
                    party: party.to_string(),
                    operator: actor.operator.clone(),
                    round_trip_ms,
                };
                Ok(Decision {
                    entries: vec![(entry, self.line_audience(line))],
                    status: 200,
                    body: json!({"check": check, "line": line, "party": party, "round_trip_ms": round_trip_ms}),
                    volumes: None,
                })
            }
            Command::Coordinate { conflict, note } => {
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
                    conflict: conflict.clone(),
                    party: actor.party.clone(),
                    note: note.clone(),
                };
                let both = c
                    .audience
                    .iter()
                    .all(|p| *p == actor.party || c.coordinated.contains_key(p));
                Ok(Decision {
                    entries: vec![(entry, c.audience.clone())],
                    status: 200,
                    body: json!({"conflict": conflict, "state": if both { "coordinated" } else { "open" }}),
                    volumes: None,
                })
            }
            Command::RegisterSite {
                name,
                site_kind,
                volumes,
                expires,
                shared_with_parties,
                shared_with_lines,
            } => {
                if actor.role == Role::Observer || actor.party == HOST {
                    return Err(ServiceError::Forbidden(
                        "an officer of a party registers its sites".into(),
                    ));
                }
                check_text("/name", name, 200)?;
                if site_kind != "static" && site_kind != "movement" {
                    return Err(ServiceError::invalid(
                        "/kind",
                        "give \"static\" or \"movement\"",
                    ));
                }
                let t =
                    parse_timestamp(expires).map_err(|m| ServiceError::invalid("/expires", m))?;
                if t.0 <= now_us {
                    return Err(ServiceError::invalid(
                        "/expires",
                        "the expiry has passed; give a later one",
                    ));
                }
                let rules = self.site_rules;
                if t.0 - now_us > rules.max_life_days * 86_400_000_000 {
                    return Err(ServiceError::invalid(
                        "/expires",
                        format!(
                            "more than {} days from now, the longest a site stands here; give an earlier expiry and register the site again when it ends",
                            rules.max_life_days
                        ),
                    ));
                }
                for (i, v) in volumes.parsed().iter().enumerate() {
                    let km2 = v.area_m2() / 1e6;
                    if km2 > rules.max_area_km2 {
                        return Err(ServiceError::invalid(
                            &format!("/volumes/{i}"),
                            format!(
                                "covers {km2:.0} km², more than the {} km² a protected site may cover here; draw it tighter or split it into the places that need protection",
                                rules.max_area_km2
                            ),
                        ));
                    }
                }
                for (i, p) in shared_with_parties.iter().enumerate() {
                    if !self.parties.contains_key(p) {
                        return Err(ServiceError::invalid(
                            &format!("/shared_with_parties/{i}"),
                            format!("no party {p}"),
                        ));
                    }
                    let together = self
                        .lines
                        .values()
                        .any(|l| l.parties.contains(p) && l.parties.contains(&actor.party));
                    if !together {
                        return Err(ServiceError::invalid(
                            &format!("/shared_with_parties/{i}"),
                            format!("you share no line with {p}; share a site only with parties you share a line with"),
                        ));
                    }
                }
                for (i, l) in shared_with_lines.iter().enumerate() {
                    if !self.is_member(&actor.party, l) {
                        return Err(ServiceError::invalid(
                            &format!("/shared_with_lines/{i}"),
                            format!("no line {l} of yours"),
                        ));
                    }
                }
                let site = new_id("site");
                let mut audience: BTreeSet<String> = shared_with_parties.iter().cloned().collect();
                audience.insert(actor.party.clone());
                for l in shared_with_lines {
                    audience.extend(self.line_audience(l));
                }
                let entry = Entry::SiteRegistered {
                    site: site.clone(),
                    party: actor.party.clone(),
                    name: name.clone(),
                    site_kind: site_kind.clone(),
                    volumes: volumes.raw().clone(),
                    expires: format_timestamp(t),
                    shared_with_parties: shared_with_parties.clone(),
                    shared_with_lines: shared_with_lines.clone(),
                };
                let mut body = entry.public_json();
                body["id"] = json!(site);
                let mut entries = vec![(entry, audience.into_iter().collect())];
                // The activities it meets now: the conflicts a notice arriving
                // after the site would have found.
                let registered = Site {
                    party: actor.party.clone(),
                    volume_count: volumes.parsed().len(),
                    expires_us: t.0,
                    shared_with_parties: shared_with_parties.clone(),
                    shared_with_lines: shared_with_lines.clone(),
                    at: next,
                    handle: 0,
                    withdrawn: false,
                };
                let side = site_side(&site, &registered);
                let mut reported = Vec::new();
                for mut found in self.site_conflicts(&registered, volumes.parsed()) {
                    let a = std::mem::replace(&mut found.side, side.clone());
                    let conflict = new_id("c");
                    found.log(conflict, a, &actor.party, &mut entries, &mut reported);
                }
                body["conflicts"] = json!(reported);
                Ok(Decision {
                    entries,
                    status: 201,
                    body,
                    volumes: None,
                })
            }
            Command::WithdrawSite { site } => {
                let s = self
                    .sites
                    .get(site)
                    .filter(|s| actor.is_host_admin() || self.sees_site(&actor.party, s))
                    .ok_or_else(|| ServiceError::NotFound(format!("site {site}")))?;
                if s.party != actor.party || actor.role == Role::Observer {
                    return Err(ServiceError::Forbidden(format!(
                        "only an officer of {} withdraws its site",
                        s.party
                    )));
                }
                if s.withdrawn {
                    return Err(ServiceError::Conflict(format!(
                        "site {site} was withdrawn already"
                    )));
                }
                let entry = Entry::SiteWithdrawn {
                    site: site.clone(),
                    party: actor.party.clone(),
                    operator: actor.operator.clone(),
                };
                let mut entries = vec![(entry, self.log[s.at as usize - 1].audience.clone())];
                entries.extend(self.resolutions(site, "withdrawn"));
                Ok(Decision {
                    entries,
                    status: 200,
                    body: json!({"site": site, "state": "withdrawn"}),
                    volumes: None,
                })
            }
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
        }
    }

    /// A party may send at most the line's quota of requests and of flash
    /// messages in any hour, so that no one floods the other side with things
    /// it must answer.
    fn check_quota(
        &self,
        actor: &Actor,
        line: &str,
        message: &str,
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
                .map(|&s| &self.log[(s - 1) as usize])
                .take_while(|g| g.at_us > now_us - hour)
                .filter(|g| match &g.entry {
                    Entry::MessageSent {
                        party,
                        message,
                        priority,
                        ..
                    } => *party == actor.party && what(message, *priority),
                    _ => false,
                })
                .map(|g| g.at_us)
                .collect()
        };
        let quotas: [(&str, u32, Counted); 2] = [
            ("requests", l.rules.max_requests_per_hour, |m, _| {
                m == "request"
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
        if actor.role == Role::Observer {
            return Err(ServiceError::Forbidden(
                "observers cannot write on a line; an officer or admin can".into(),
            ));
        }
        Ok(())
    }

    fn owned_activity(
        &self,
        actor: &Actor,
        activity: &str,
        replaces: u64,
    ) -> Result<&Activity, ServiceError> {
        let a = self
            .activities
            .get(activity)
            .filter(|a| self.actor_sees_activity(actor, a))
            .ok_or_else(|| ServiceError::NotFound(format!("activity {activity}")))?;
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

    /// What the activity's latest version says.
    fn current_content(&self, a: &Activity) -> &RawJson {
        let latest = *a.versions.last().expect("an activity has a version");
        match &self.log[(latest - 1) as usize].entry {
            Entry::Notice { content, .. } => content,
            _ => unreachable!("activity versions are notices"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn notice(
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
        let rules = self.lines[line].rules;
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
            "notified",
            category,
            point_of_contact,
        );
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
                state: "notified".into(),
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
            let conflict = new_id("c");
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
        if dry_run {
            return Ok(Decision {
                entries: Vec::new(),
                status: 200,
                body,
                volumes: None,
            });
        }
        Ok(Decision {
            entries,
            status: if version == 1 { 201 } else { 200 },
            body,
            volumes: None,
        })
    }

    /// The escalation steps and line checks due at `now_us`, as entries.
    fn due(&self, now_us: i64) -> Vec<(Entry, Vec<String>)> {
        let mut entries = Vec::new();
        let time = |us: i64| format_timestamp(parley_engine::Timestamp(us));
        for (d, step) in self.deadlines.due(now_us) {
            let (to, audience) = match step {
                // A flash message's reminder goes to every operator, observers too.
                Step::Reminder if d.flash => (
                    self.operators_of(&d.party, Role::Observer),
                    vec![d.party.clone()],
                ),
                Step::Reminder => (
                    self.operators_of(&d.party, Role::Officer),
                    vec![d.party.clone()],
                ),
                Step::Overdue => (Vec::new(), self.deadline_parties(d).to_vec()),
                Step::Admins => (
                    self.operators_of(&d.party, Role::Admin),
                    vec![d.party.clone()],
                ),
            };
            let entry = Entry::DeadlineEscalated {
                deadline: d.id.clone(),
                line: d.line.clone(),
                party: d.party.clone(),
                owed: d.owed.clone(),
                due: time(d.due_us),
                step,
                to,
            };
            entries.push((entry, audience));
        }
        for action in self.checks.due(now_us) {
            match action {
                CheckAction::Miss { line, party, check } => {
                    let audience = self.line_audience(&line);
                    entries.push((Entry::LineCheckMissed { check, line, party }, audience));
                }
                CheckAction::Send {
                    line,
                    parties,
                    due_us,
                } => {
                    for party in parties {
                        let check = new_id("lc");
                        let entry = Entry::LineCheckSent {
                            check,
                            line: line.clone(),
                            party,
                            due: time(due_us),
                        };
                        entries.push((entry, self.line_audience(&line)));
                    }
                }
            }
        }
        entries
    }

    /// Open conflicts of `activity`, resolved `by` an amendment or cancellation.
    fn resolutions(&self, activity: &str, by: &str) -> Vec<(Entry, Vec<String>)> {
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
    fn find_conflicts(
        &self,
        party: &str,
        line: &str,
        own: Option<u32>,
        volumes: &[Volume],
        minima: &Minima,
        now_us: i64,
    ) -> Vec<Found> {
        let keep = |k: &u64| {
            let handle = (k >> 16) as u32;
            if Some(handle) == own {
                return false;
            }
            match &self.handles[handle as usize] {
                Handle::Activity(id) => {
                    let a = &self.activities[id];
                    a.party != party && a.line == line
                }
                Handle::Site(id) => {
                    let s = &self.sites[id];
                    s.party != party
                        && s.in_force(now_us)
                        && !self.site_audience(line, s).is_empty()
                }
            }
        };
        self.meetings_by_handle(volumes, minima, keep)
            .into_iter()
            .map(|(handle, meetings)| match &self.handles[handle as usize] {
                Handle::Activity(id) => {
                    let a = &self.activities[id];
                    Found {
                        side: self.activity_side(id, a),
                        meetings,
                        audience: vec![party.to_string(), a.party.clone()],
                    }
                }
                Handle::Site(id) => Found {
                    side: site_side(id, &self.sites[id]),
                    meetings,
                    audience: self.site_audience(line, &self.sites[id]),
                },
            })
            .collect()
    }

    /// What a new site's volumes conflict with: on every line that shares it,
    /// the activities of that line's other parties, under the line's minima;
    /// the same conflicts a notice arriving after the site would find.
    fn site_conflicts(&self, site: &Site, volumes: &[Volume]) -> Vec<Found> {
        let mut found = Vec::new();
        for (line, l) in &self.lines {
            let audience = self.site_audience(line, site);
            if audience.is_empty() {
                continue;
            }
            let keep = |k: &u64| match &self.handles[(k >> 16) as usize] {
                Handle::Activity(id) => {
                    let a = &self.activities[id];
                    a.line == *line && a.party != site.party
                }
                Handle::Site(_) => false,
            };
            for (handle, meetings) in self.meetings_by_handle(volumes, &l.rules.minima(), keep) {
                let Handle::Activity(id) = &self.handles[handle as usize] else {
                    continue;
                };
                let side = self.activity_side(id, &self.activities[id]);
                let audience = audience.clone();
                found.push(Found {
                    side,
                    meetings,
                    audience,
                });
            }
        }
        found
    }

    /// The meetings of `volumes` with what the index holds and `keep` admits,
    /// grouped by handle, in handle order.
    fn meetings_by_handle(
        &self,
        volumes: &[Volume],
        minima: &Minima,
        keep: impl Fn(&u64) -> bool,
    ) -> BTreeMap<u32, Vec<Value>> {
        let mut found: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
        for v in volumes {
            for (k, m) in self.index.meetings_where(v, minima, &keep) {
                found
                    .entry((k >> 16) as u32)
                    .or_default()
                    .push(meeting_json(&m));
            }
        }
        found
    }

    fn activity_side(&self, id: &str, a: &Activity) -> Side {
        Side {
            kind: "activity".into(),
            id: id.to_string(),
            version: a.versions.len() as u64,
            party: a.party.clone(),
        }
    }

    // ---- reading -------------------------------------------------------------

    /// Entries after `after` that `actor` may see, at most `limit`.
    pub fn events_after(&self, actor: &Actor, after: u64, limit: usize) -> Vec<&Logged> {
        self.log
            .iter()
            .skip(after as usize)
            .filter(|l| self.sees_entry(actor, l))
            .take(limit)
            .collect()
    }

    /// The parties `actor` may know of: its own, those it shares a line with (all for the host).
    pub fn parties(&self, actor: &Actor) -> Vec<Value> {
        self.parties
            .iter()
            .filter(|(id, _)| {
                actor.is_host_admin()
                    || **id == actor.party
                    || self
                        .lines
                        .values()
                        .any(|l| l.parties.contains(&actor.party) && l.parties.contains(id))
            })
            .map(|(id, p)| json!({"id": id, "name": p.name}))
            .collect()
    }

    /// The operators of `party` that `actor` may list (its own party's, or any for the host).
    pub fn operators(&self, actor: &Actor, party: &str) -> Result<Vec<Value>, ServiceError> {
        if !(actor.is_host_admin() || actor.party == party) || !self.parties.contains_key(party) {
            return Err(ServiceError::NotFound(format!("party {party}")));
        }
        Ok(self
            .operators
            .iter()
            .filter(|(_, o)| o.party == party)
            .map(|(id, o)| json!({"id": id, "party": o.party, "name": o.name, "role": o.role, "revoked": o.revoked}))
            .collect())
    }

    /// A line with its rules, its political status, its operation status from
    /// line checks (with the evidence) and its open deadlines, as of `now_us`.
    fn line_json(&self, id: &str, l: &Line, now_us: i64) -> Value {
        let deadlines: Vec<Value> = self
            .deadlines
            .on_line(id)
            .map(|d| deadline_json(d, now_us))
            .collect();
        json!({"id": id, "name": l.name, "parties": l.parties, "rules": l.rules, "status": l.status,
               "messages": l.messages.len(), "operation": self.checks.status(id, now_us, time_text),
               "deadlines": deadlines})
    }

    /// The lines `actor` may see, as of `now_us`.
    pub fn lines(&self, actor: &Actor, now_us: i64) -> Vec<Value> {
        self.lines
            .iter()
            .filter(|(id, _)| self.sees_line(actor, id))
            .map(|(id, l)| self.line_json(id, l, now_us))
            .collect()
    }

    /// One line, as of `now_us`.
    pub fn line(&self, actor: &Actor, line: &str, now_us: i64) -> Result<Value, ServiceError> {
        if !self.sees_line(actor, line) {
            return Err(ServiceError::NotFound(format!("line {line}")));
        }
        Ok(self.line_json(line, &self.lines[line], now_us))
    }

    /// The record's Merkle log (for its tiles).
    pub fn record(&self) -> &MerkleLog {
        &self.record
    }

    /// The record's size and root.
    pub fn record_head(&self) -> (u64, Hash) {
        (self.record.size(), self.record.root())
    }

    /// Entry `seq` as a leaf with its inclusion proof in the tree of `size`
    /// entries, if `actor` may see the entry.
    pub fn inclusion(&self, actor: &Actor, seq: u64, size: u64) -> Result<Value, ServiceError> {
        let visible = |l: &&Logged| self.sees_entry(actor, l);
        let logged = seq
            .checked_sub(1)
            .and_then(|i| self.log.get(i as usize))
            .filter(visible)
            .ok_or_else(|| ServiceError::NotFound(format!("record entry {seq}")))?;
        let proof = self
            .record
            .inclusion_proof(seq - 1, size)
            .map_err(|e| ServiceError::invalid("/size", e.to_string()))?;
        let mut receipt = json!({"seq": seq, "leaf_index": seq - 1, "tree_size": size,
                  "leaf": leaf_text(logged), "proof": hex_all(&proof)});
        if let Entry::Notice { content, .. } = &logged.entry {
            // The leaf holds the content's hash; the text goes with the receipt.
            receipt["content"] = Value::from(content.get());
        }
        Ok(receipt)
    }

    /// Entries `after + 1 ..= upto` of the record as `actor`'s party may hold
    /// them, one JSON line an entry (each ending in a newline), in journal
    /// order: the leaf text (and a notice's content) of each entry it may see
    /// (on `line`, if given), only the leaf hash of the others. Every position
    /// is there, so the root can be rebuilt. Exports are read in slices like
    /// this so that a long record never holds the state for long.
    pub fn export(&self, actor: &Actor, line: Option<&str>, after: u64, upto: u64) -> String {
        let upto = upto.min(self.log.len() as u64);
        let mut out = String::new();
        for l in &self.log[after.min(upto) as usize..upto as usize] {
            let visible =
                self.sees_entry(actor, l) && line.is_none_or(|want| l.entry.line() == Some(want));
            if visible {
                let mut v = json!({"seq": l.seq, "leaf": leaf_text(l)});
                if let Entry::Notice { content, .. } = &l.entry {
                    v["content"] = Value::from(content.get());
                }
                out.push_str(&v.to_string());
            } else {
                let hash = self.record.leaf(l.seq - 1).expect("every entry is a leaf");
                out.push_str(&format!("{{\"seq\":{},\"leaf_hash\":\"{hash}\"}}", l.seq));
            }
            out.push('\n');
        }
        out
    }

    /// A proof that the tree of `to` entries extends the tree of `from`.
    pub fn consistency(&self, from: u64, to: u64) -> Result<Value, ServiceError> {
        let proof = self
            .record
            .consistency_proof(from, to)
            .map_err(|e| ServiceError::invalid("/from", e.to_string()))?;
        let root = |n| {
            self.record
                .root_at(n)
                .map(|h| h.to_string())
                .unwrap_or_default()
        };
        Ok(
            json!({"from": from, "to": to, "from_root": root(from), "to_root": root(to),
                  "proof": hex_all(&proof)}),
        )
    }

    /// Open deadlines on the lines `actor` may see, earliest first, as of `now_us`.
    pub fn deadlines(&self, actor: &Actor, now_us: i64) -> Vec<Value> {
        let mut open: Vec<&Deadline> = self
            .deadlines
            .all()
            .filter(|d| self.sees_deadline(actor, d))
            .collect();
        open.sort_by_key(|d| (d.due_us, d.id.clone()));
        open.into_iter().map(|d| deadline_json(d, now_us)).collect()
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

    fn logged_json(&self, seq: u64) -> Value {
        let l = &self.log[(seq - 1) as usize];
        let mut v = l.entry.public_json();
        v["logged_at"] = json!(format_timestamp(parley_engine::Timestamp(l.at_us)));
        // Its place in the journal and the record: ask for its receipt with it.
        v["journal_seq"] = json!(l.seq);
        v
    }

    /// One activity with every version and acknowledgment.
    pub fn activity(&self, actor: &Actor, activity: &str) -> Result<Value, ServiceError> {
        let a = self
            .activities
            .get(activity)
            .filter(|a| self.actor_sees_activity(actor, a))
            .ok_or_else(|| ServiceError::NotFound(format!("activity {activity}")))?;
        let versions: Vec<Value> = a.versions.iter().map(|&s| self.logged_json(s)).collect();
        let acks: Vec<Value> = a.acks.iter().map(|&s| self.logged_json(s)).collect();
        Ok(json!({
            "id": activity, "line": a.line, "party": a.party, "version": a.versions.len(),
            "state": if a.cancelled { "cancelled" } else { "notified" },
            "content_sha256": a.hashes.last(), "current": versions.last(), "versions": versions, "acknowledgments": acks,
        }))
    }

    /// Activities `actor` may see, optionally of one line.
    pub fn activities(&self, actor: &Actor, line: Option<&str>) -> Vec<Value> {
        self.activities
            .iter()
            .filter(|(_, a)| self.actor_sees_activity(actor, a))
            .filter(|(_, a)| line.is_none_or(|l| a.line == l))
            .map(|(id, a)| {
                let acked_by: BTreeSet<String> = a
                    .acks
                    .iter()
                    .filter_map(|&s| match &self.log[(s - 1) as usize].entry {
                        Entry::Acknowledged { party, version, .. }
                            if *version == a.versions.len() as u64 =>
                        {
                            Some(party.clone())
                        }
                        _ => None,
                    })
                    .collect();
                json!({"id": id, "line": a.line, "party": a.party, "version": a.versions.len(),
                       "state": if a.cancelled { "cancelled" } else { "notified" },
                       "content_sha256": a.hashes.last(), "received_by": acked_by})
            })
            .collect()
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

    /// Protected sites `actor` may see.
    pub fn sites(&self, actor: &Actor) -> Vec<Value> {
        self.sites
            .iter()
            .filter(|(_, s)| actor.is_host_admin() || self.sees_site(&actor.party, s))
            .map(|(id, s)| {
                let mut v = self.logged_json(s.at);
                v["id"] = json!(id);
                v["volumes_count"] = json!(s.volume_count);
                v["withdrawn"] = json!(s.withdrawn);
                v
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_vector() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
    }
}
