//! The journal as the state reads it: the recent entries in memory, the
//! older ones read from the store when asked for (exports, receipts, event
//! streams, an old activity's versions). Entries leave memory only once
//! they are durable and only when the store can give them back
//! ([`EntryReader`], a connection of its own); a state without one (tests,
//! journals that keep none) keeps them all.

use crate::entry::Logged;
use crate::journal::{EntryReader, StorageError};
use std::borrow::Cow;
use std::sync::Arc;

/// Entries kept in memory once a store can read the older ones back: enough
/// for every batch, the live streams' catch-up and what is decided against
/// often (the last hour's messages, say).
pub const RECENT_ENTRIES: usize = 4_096;

pub(crate) struct Entries {
    /// Entries `base + 1 ..= base + recent.len()`.
    recent: Vec<Logged>,
    base: u64,
    /// When the last entry was logged (µs; 0 before any).
    last_at_us: i64,
    reader: Option<Arc<dyn EntryReader>>,
    /// How many recent entries stay in memory.
    keep: usize,
}

impl Default for Entries {
    fn default() -> Self {
        Entries {
            recent: Vec::new(),
            base: 0,
            last_at_us: 0,
            reader: None,
            keep: RECENT_ENTRIES,
        }
    }
}

impl Entries {
    /// A journal whose first `base` entries are in the store only (a start
    /// from a snapshot that carries the record's leaves reads just the
    /// recent ones).
    pub(crate) fn after(base: u64, reader: Option<Arc<dyn EntryReader>>) -> Entries {
        Entries {
            base,
            reader,
            ..Entries::default()
        }
    }

    /// Keeps the last `keep` entries in memory (at least one).
    pub(crate) fn set_keep(&mut self, keep: usize) {
        self.keep = keep.max(1);
    }

    pub(crate) fn keep(&self) -> usize {
        self.keep
    }

    /// Reads entries that left memory through `reader`, and lets them leave.
    pub(crate) fn set_reader(&mut self, reader: Option<Arc<dyn EntryReader>>) {
        self.reader = reader;
    }

    pub(crate) fn in_memory(&self) -> usize {
        self.recent.len()
    }

    pub(crate) fn len(&self) -> u64 {
        self.base + self.recent.len() as u64
    }

    pub(crate) fn last_at_us(&self) -> i64 {
        self.last_at_us
    }

    pub(crate) fn push(&mut self, l: Logged) {
        self.last_at_us = l.at_us;
        self.recent.push(l);
    }

    /// Lets entries up to `durable` (committed) leave memory, keeping the
    /// last `keep` ([`RECENT_ENTRIES`] by default) once twice as many are
    /// there (so that entries leave by the thousand, not one at a time);
    /// nothing leaves without a reader.
    pub(crate) fn forget_durable(&mut self, durable: u64) {
        if self.reader.is_none() || self.recent.len() < 2 * self.keep {
            return;
        }
        let keep_from = self.len().saturating_sub(self.keep as u64);
        let gone = keep_from.min(durable).saturating_sub(self.base) as usize;
        if gone > 0 {
            self.recent.drain(..gone);
            self.recent.shrink_to(2 * self.keep);
            self.base += gone as u64;
        }
    }

    /// Entry `seq`, from memory or the store; `None` beyond the journal
    /// (or when the store cannot be read, which is said on stderr).
    pub(crate) fn get(&self, seq: u64) -> Option<Cow<'_, Logged>> {
        if seq == 0 || seq > self.len() {
            return None;
        }
        if seq > self.base {
            return self
                .recent
                .get((seq - self.base - 1) as usize)
                .map(Cow::Borrowed);
        }
        self.read(seq - 1, seq).pop().map(Cow::Owned)
    }

    /// Entries `after + 1 ..= upto` (clamped to the journal), in order.
    pub(crate) fn range(&self, after: u64, upto: u64) -> Cow<'_, [Logged]> {
        let upto = upto.min(self.len());
        let after = after.min(upto);
        if after >= self.base {
            let (from, to) = ((after - self.base) as usize, (upto - self.base) as usize);
            return Cow::Borrowed(&self.recent[from..to]);
        }
        let mut out = self.read(after, upto.min(self.base));
        if upto > self.base {
            out.extend_from_slice(&self.recent[..(upto - self.base) as usize]);
        }
        Cow::Owned(out)
    }

    /// What the store gives for `after + 1 ..= upto` (all before `base`).
    fn read(&self, after: u64, upto: u64) -> Vec<Logged> {
        let Some(reader) = &self.reader else {
            return Vec::new();
        };
        match reader.range(after, upto) {
            Ok(entries) => entries,
            Err(e) => {
                report(&e);
                Vec::new()
            }
        }
    }
}

fn report(e: &StorageError) {
    eprintln!("parley: journal entries could not be read back: {e}");
}
