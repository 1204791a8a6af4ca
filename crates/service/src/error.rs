//! What can go wrong with a request, in terms an adapter maps to its protocol.

/// A request the service refuses, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// Bad input: `pointer` (a JSON pointer into the request, possibly empty)
    /// names the field; the message says what to fix.
    #[error("{pointer}: {message}")]
    Invalid {
        /// Where in the request.
        pointer: String,
        /// What to fix.
        message: String,
    },
    /// The thing does not exist, or the actor may not know that it does.
    #[error("{0} not found")]
    NotFound(String),
    /// The actor may see the thing but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// The request is out of date (for example a stale version).
    #[error("{0}")]
    Conflict(String),
    /// The thing ended long ago and is history: it is read but no longer
    /// changed; `pointer` names the field that asks for the change.
    #[error("{pointer}: {message}")]
    Ended {
        /// Where in the request.
        pointer: String,
        /// What ended and what to do instead.
        message: String,
    },
    /// A signed request sent again: a party's signature is accepted once.
    #[error("{0}")]
    Replayed(String),
    /// The party has used up a quota of the line (requests or flash messages
    /// an hour); the message says which and when it frees up.
    #[error("{0}")]
    Quota(String),
    /// The storage failed or could not be reached; the write was not made
    /// (or, when the answer to its commit was lost, may have been: the
    /// message says so, and a retry with the same Idempotency-Key is safe).
    #[error("{0}")]
    Unavailable(String),
    /// The store has no room left: the write was not made; writes resume by
    /// themselves once space is freed (retry with the same Idempotency-Key).
    #[error("{0}")]
    StoreFull(String),
}

impl ServiceError {
    pub(crate) fn invalid(pointer: &str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }
}
