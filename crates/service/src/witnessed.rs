//! The latest witnessed checkpoint: a signed checkpoint of the record with
//! the cosignatures (C2SP `cosignature/v1` lines) that witnesses returned in
//! time. The adapter that talks to witnesses sets it; checkpoints and
//! receipts are served from it once there is one.

use parley_record::Hash;
use serde_json::{json, Value};
use std::sync::{Arc, RwLock};

/// A checkpoint of the record as witnesses cosigned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessedCheckpoint {
    /// The tree size.
    pub size: u64,
    /// The root.
    pub root: Hash,
    /// The signed note with the server's signature and, after it, one
    /// cosignature line per witness that cosigned in time.
    pub note: String,
    /// The names of the witnesses whose cosignatures the note carries.
    pub cosigned_by: Vec<String>,
    /// The witnesses asked, by name (those missing did not answer in time,
    /// or refused).
    pub asked: Vec<String>,
}

impl WitnessedCheckpoint {
    /// Adds `checkpoint` (the note), `key`, `cosigned_by` and `witnesses_asked`
    /// to `answer`, an object.
    pub(crate) fn add_to(&self, answer: &mut Value, key: String) {
        answer["checkpoint"] = Value::from(self.note.clone());
        answer["key"] = Value::from(key);
        answer["cosigned_by"] = json!(self.cosigned_by);
        answer["witnesses_asked"] = json!(self.asked);
    }
}

/// Where the latest witnessed checkpoint is kept: it only moves forward.
#[derive(Default)]
pub(crate) struct Slot(RwLock<Option<Arc<WitnessedCheckpoint>>>);

impl Slot {
    /// Keeps `cp` unless a larger one is kept already.
    pub(crate) fn set(&self, cp: WitnessedCheckpoint) {
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_none_or(|held| held.size <= cp.size) {
            *slot = Some(Arc::new(cp));
        }
    }

    /// The latest, if any.
    pub(crate) fn get(&self) -> Option<Arc<WitnessedCheckpoint>> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
