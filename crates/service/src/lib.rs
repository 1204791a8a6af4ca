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

mod command;
mod content;
mod deadlines;
mod entry;
mod error;
mod hashing;
mod journal;
mod line_checks;
mod model;
mod record;
mod sanity;
mod service;
mod site;
mod state;
mod talk_record;
mod text;
mod views;
mod witnessed;

pub use command::{Command, Signed};
pub use content::{RawJson, Volumes};
pub use deadlines::{Owed, Step, FLASH_ANSWER_S};
pub use entry::{Entry, IdempotencyRecord, Logged, Side, SignedBy};
pub use error::ServiceError;
pub use hashing::{hex, sha256_hex};
pub use journal::{from_row, to_row, CaughtUp, Journal, Row, StorageError};
pub use line_checks::{answer_window_us, MIN_INTERVAL_S, SILENT_AFTER};
pub use model::{
    Actor, Category, LineRules, LineStatus, MessageKind, NoticeState, Priority, Region, Role,
    SiteKind, WriteOutcome, HOST,
};
pub use record::{leaf_text, signed_checkpoint, ORIGIN};
pub use service::{
    system_clock, Answer, Clock, Idempotency, Reply, Service, IDEMPOTENCY_WINDOW_H, MAX_BATCH,
};
pub use site::{SiteRules, SITE_MAX_AREA_KM2, SITE_MAX_LIFE_DAYS};
pub use state::normalise_spki;
pub use state::{Decision, State};
pub use talk_record::{
    AgendaItem, FollowUp, Outcome, Participant, TalkRecord, MAX_TALK_ITEMS, TALK_GAP_DAYS,
};
pub use views::{
    DeadlineView, LineView, OperationState, OperationView, OperatorView, PartyChecksView,
    PartyView, PendingCheckView,
};
pub use witnessed::WitnessedCheckpoint;
