//! The storage boundary: an append-only journal of entries plus idempotency
//! records. A backend (SQLite now, PostgreSQL later) implements [`Journal`].

use crate::entry::{IdempotencyRecord, Logged};

/// Failure of the storage backend. The service stops taking writes when it
/// sees one: its memory may be ahead of what is durable.
#[derive(Debug, thiserror::Error)]
#[error("storage failed: {0}")]
pub struct StorageError(pub String);

/// Durable, ordered storage of the journal.
pub trait Journal: Send + 'static {
    /// Every entry, in order.
    fn load(&mut self) -> Result<Vec<Logged>, StorageError>;
    /// Every idempotency record.
    fn load_idempotency(&mut self) -> Result<Vec<IdempotencyRecord>, StorageError>;
    /// Appends entries and idempotency records in one transaction and returns
    /// only once it is durable (committed and synced).
    fn append(
        &mut self,
        entries: &[Logged],
        records: &[IdempotencyRecord],
    ) -> Result<(), StorageError>;
}
