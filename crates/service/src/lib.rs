//! Parley's application core: parties, operators, lines, messages, activity
//! notices, acknowledgments, conflicts, protected sites and the register of
//! talks between parties, kept as a journal.
//!
//! - [`Command`]: every write, built by an adapter (the HTTP server) from a request.
//! - [`State`]: what replaying the journal builds; [`State::decide`] turns a
//!   command into [`Entry`]s without changing anything, [`State::evolve`] applies
//!   an entry, and the read methods answer what a party may see.
//! - [`Service`]: the running service. One writer decides commands in order and
//!   commits them in groups through a [`Journal`] (the storage boundary), so a
//!   notice's conflict check and insertion are atomic and a success is durable.
//!
//! No HTTP and no SQL here: `parley-server` and `parley-store-sqlite` are the
//! adapters.
#![deny(missing_docs)]

mod attribution;
mod command;
mod content;
mod deadlines;
mod entry;
mod error;
pub mod federation;
mod gate;
mod hashing;
mod journal;
mod line_checks;
mod model;
mod receipt;
mod record;
mod sanity;
mod service;
mod shared_value;
mod site;
mod snapshot;
mod state;
mod statement;
mod stored;
mod talk_record;
mod text;
mod views;
mod witnessed;
mod writer;

pub use attribution::acting_party;
pub use command::{Command, Signed};
pub use content::{RawJson, Volumes};
pub use deadlines::{Owed, Step, FLASH_ANSWER_S};
pub use entry::{Entry, IdempotencyRecord, Logged, MadeBy, Side, SignedBy};
pub use error::ServiceError;
pub use hashing::{hex, sha256_hex};
pub use journal::{
    from_row, pack_entry, packed_rows, to_row, unpack_entry, CaughtUp, EntryReader, Journal, Row,
    SnapshotStore, StorageError, StoredSnapshot,
};
pub use line_checks::{answer_window_us, MIN_INTERVAL_S, SILENT_AFTER};
pub use model::{
    Actor, Category, LineRules, LineStatus, MessageKind, NoticeState, Priority, Region,
    RegionBounds, RegionVertex, Role, SiteKind, WriteOutcome, HOST,
};
pub use record::{leaf_text, signed_checkpoint, ORIGIN};
pub use service::{
    system_clock, Answer, Clock, Idempotency, Reply, Service, IDEMPOTENCY_WINDOW_H, KEEP_ENDED_H,
    MAX_BATCH,
};
pub use site::{SiteRules, SITE_MAX_AREA_KM2, SITE_MAX_LIFE_DAYS};
pub use snapshot::{Restored, SNAPSHOT_EVERY_ENTRIES, SNAPSHOT_EVERY_S};
pub use state::normalise_spki;
pub use state::{Decision, LineLogs, NodeLogs, Peer, State, MAX_DELIVERY, RECENT_ENTRIES};
pub use statement::{
    canonical, canonical_sha256, canonical_volumes, signed_note, Claim, Statement,
    MAX_SIGNATURE_SKEW_S, SIGNATURE_SKEW_S, STATEMENT_V1, STATEMENT_V2,
};
pub use talk_record::{
    AgendaItem, FollowUp, Outcome, Participant, TalkRecord, MAX_TALK_ITEMS, TALK_GAP_DAYS,
};
pub use views::{
    ActivitySummaryView, DeadlineView, LineView, NodeView, OperationState, OperationView,
    OperatorView, PartyChecksView, PartyView, PendingCheckView, TalkRelationView, TalkState,
    TalkSummaryView,
};
pub use witnessed::WitnessedCheckpoint;
