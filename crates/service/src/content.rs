//! A notice's content: the exact JSON text that recipients acknowledge by its
//! SHA-256 (the read-back).
//!
//! The content is kept as compact text ([`RawJson`]), not as a tree of values:
//! it is hashed, stored and sent as it is, never rebuilt. Its `volumes` member
//! comes first so that the adapter, on its own thread, can hash the bulk of it
//! ([`Volumes::parse`] absorbs `{"volumes":[...],`) and the single writer only
//! finishes the hash over the few fields it decides (the activity's id, its
//! version).

use crate::error::ServiceError;
use crate::hashing::hex;
use crate::model::{Category, NoticeState};
use parley_engine::Volume;
use parley_wire::{parse_volume_on, Parsed, VerticalRules, WireLimits};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// JSON kept as its compact text. Serializes as the JSON it holds (so the
/// stored format is the same as for a value); deserializes from any JSON.
#[derive(Clone, Debug)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Wraps JSON text that serde_json wrote (so it is valid and compact).
    pub(crate) fn from_serialized(text: String) -> RawJson {
        RawJson(RawValue::from_string(text).expect("serde_json wrote valid JSON"))
    }

    /// JSON text read back as stored (written by [`RawJson`]'s serializer).
    pub(crate) fn from_raw(raw: Box<RawValue>) -> RawJson {
        RawJson(raw)
    }

    /// The compact JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The JSON as a value (for reading and answering, not for hashing).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.get()).expect("RawJson holds valid JSON")
    }

    /// SHA-256 of the text, hex.
    pub fn sha256_hex(&self) -> String {
        hex(&Sha256::digest(self.get().as_bytes()))
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    // Through a value: a raw value cannot be borrowed from inside the journal's
    // internally tagged entries. serde_json writes a value back byte for byte as
    // it wrote it first, so the text (and its hash) survives the round trip.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(RawJson::from_serialized(v.to_string()))
    }
}

/// The fields of a notice's content after its volumes, in their order.
#[derive(Serialize)]
struct After<'a> {
    activity: &'a str,
    line: &'a str,
    party: &'a str,
    version: u64,
    state: &'a str,
    category: Category,
    point_of_contact: &'a str,
}

/// What a notice says, as text and hash.
pub(crate) struct NoticeContent {
    pub(crate) text: RawJson,
    pub(crate) sha256: String,
}

impl NoticeContent {
    /// The content of a notice of `volumes`, finishing the hash the adapter began.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        volumes: &Volumes,
        activity: &str,
        line: &str,
        party: &str,
        version: u64,
        state: NoticeState,
        category: Category,
        point_of_contact: &str,
    ) -> NoticeContent {
        let after = serde_json::to_string(&After {
            activity,
            line,
            party,
            version,
            state: state.as_str(),
            category,
            point_of_contact,
        })
        .expect("notice fields serialize");
        // `after` is `{...}`: its brace is replaced by the volumes already hashed.
        let rest = &after[1..];
        let mut hasher = volumes.content_hasher().clone();
        hasher.update(rest.as_bytes());
        let sha256 = hex(&hasher.finalize());
        let mut text = String::with_capacity(volumes.content_prefix_len() + rest.len());
        text.push_str(VOLUMES_KEY);
        text.push_str(volumes.raw().get());
        text.push(',');
        text.push_str(rest);
        NoticeContent {
            text: RawJson::from_serialized(text),
            sha256,
        }
    }

    /// `content` with its version and state replaced (a cancellation),
    /// member order kept.
    pub(crate) fn restated(content: &RawJson, version: u64, state: NoticeState) -> NoticeContent {
        let mut v = content.to_value();
        v["version"] = Value::from(version);
        v["state"] = Value::from(state.as_str());
        let text = RawJson::from_serialized(v.to_string());
        let sha256 = text.sha256_hex();
        NoticeContent { text, sha256 }
    }
}

/// How a notice's content begins.
pub(crate) const VOLUMES_KEY: &str = "{\"volumes\":";

/// The members of a stored notice's content the service reads back.
#[derive(Deserialize)]
pub(crate) struct Stated {
    #[serde(default)]
    pub(crate) category: Option<Category>,
    #[serde(default)]
    pub(crate) point_of_contact: Option<String>,
    #[serde(default)]
    pub(crate) volumes: Vec<Value>,
}

impl Stated {
    /// Reads `content`'s members (those missing are left empty).
    pub(crate) fn of(content: &RawJson) -> Stated {
        serde_json::from_str(content.get()).unwrap_or(Stated {
            category: None,
            point_of_contact: None,
            volumes: Vec::new(),
        })
    }
}

/// Volumes as given (compact JSON, quoted verbatim in the notice) and as
/// validated. Built only by [`Volumes::parse`]; adapters parse in their own
/// threads so the single writer does not have to.
#[derive(Clone, Debug)]
pub struct Volumes {
    raw: RawJson,
    /// SHA-256 begun over the start of a notice's content (see `content.rs`).
    content_hasher: Sha256,
    parsed: Vec<Volume>,
    /// The line's vertical rules they were read under, when any altitude
    /// needed them (a flight level): the writer checks they are the line's.
    flight_level_rules: Option<VerticalRules>,
    /// The sender confirmed that what looks like a mistake is meant
    /// (`confirm_unusual`; see `crate::sanity`).
    unusual_confirmed: bool,
}

impl Volumes {
    /// Validates F3548 Volume4D or GeoJSON Feature values against `limits`;
    /// errors point at `/volumes/<i>/...`. Flight levels are refused: see
    /// [`Volumes::parse_on`].
    pub fn parse(json: Vec<Value>, limits: &WireLimits) -> Result<Volumes, ServiceError> {
        Volumes::parse_on(json, limits, &VerticalRules::default())
    }

    /// [`Volumes::parse`] for a line whose rules say what altitudes it
    /// accepts (`LineRules::vertical`).
    pub fn parse_on(
        json: Vec<Value>,
        limits: &WireLimits,
        vertical: &VerticalRules,
    ) -> Result<Volumes, ServiceError> {
        if json.is_empty() {
            return Err(ServiceError::invalid(
                "/volumes",
                "give at least one volume",
            ));
        }
        if json.len() > limits.max_volumes {
            return Err(ServiceError::invalid(
                "/volumes",
                format!("give at most {} volumes", limits.max_volumes),
            ));
        }
        let invalid = |e: parley_wire::WireError| ServiceError::Invalid {
            pointer: e.pointer,
            message: e.message,
        };
        // Routes and multipolygons become several volumes; errors point
        // into the volumes as given.
        let expanded =
            parley_wire::shapes::expand(&json, "/volumes", limits.max_volumes).map_err(invalid)?;
        let parsed: Vec<Parsed> = expanded
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                parse_volume_on(v, &format!("/volumes/{i}"), &limits.volume, vertical)
                    .map_err(|e| invalid(expanded.error(e)))
            })
            .collect::<Result<_, _>>()?;
        // The content keeps each volume as the F3548 form of what was validated,
        // whatever form it came in (GeoJSON, ...): every read-back, in the
        // console, the CLI or a recipient's own tool, reads one shape, and the
        // one the engine checks. Altitudes given otherwise (above mean sea
        // level, flight levels) are kept beside it, as given, in a member
        // `given` that readers of the F3548 form pass over: the read-back
        // hash covers both.
        let canonical: Vec<Value> = parsed
            .iter()
            .map(|p| parley_wire::volume4d_json_given(&p.volume, p.given.as_ref()))
            .collect();
        let flight_levels = json.iter().any(parley_wire::altitude::uses_flight_level);
        let parsed = parsed.into_iter().map(|p| p.volume).collect();
        let raw =
            RawJson::from_serialized(serde_json::to_string(&canonical).expect("values serialize"));
        let mut content_hasher = Sha256::new();
        content_hasher.update(VOLUMES_KEY.as_bytes());
        content_hasher.update(raw.get().as_bytes());
        content_hasher.update(b",");
        Ok(Volumes {
            raw,
            content_hasher,
            parsed,
            flight_level_rules: flight_levels.then_some(*vertical),
            unusual_confirmed: false,
        })
    }

    /// The volumes as validated, each in the F3548 form: a JSON array, compact.
    pub fn raw(&self) -> &RawJson {
        &self.raw
    }

    pub(crate) fn content_hasher(&self) -> &Sha256 {
        &self.content_hasher
    }

    pub(crate) fn content_prefix_len(&self) -> usize {
        VOLUMES_KEY.len() + self.raw.get().len() + 1
    }

    /// The vertical rules flight levels in them were read under, if any
    /// was given.
    pub fn flight_level_rules(&self) -> Option<VerticalRules> {
        self.flight_level_rules
    }

    /// The same volumes, with the sender's confirmation that what looks
    /// like a mistake (a notice of the past, a volume outside the line's
    /// region) is meant, or not.
    pub fn with_unusual_confirmed(mut self, confirmed: bool) -> Volumes {
        self.unusual_confirmed = confirmed;
        self
    }

    /// Whether the sender confirmed what looks like a mistake.
    pub fn unusual_confirmed(&self) -> bool {
        self.unusual_confirmed
    }

    /// The validated volumes.
    pub fn parsed(&self) -> &[Volume] {
        &self.parsed
    }

    /// The validated volumes, for the writer to index without copying.
    pub(crate) fn into_parsed(self) -> Vec<Volume> {
        self.parsed
    }
}

impl PartialEq for Volumes {
    fn eq(&self, other: &Self) -> bool {
        self.raw.get() == other.raw.get()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use parley_wire::WireLimits;
    use serde_json::json;

    // A fixed date is safe for ever here: hashing a notice's content reads no clock.
    pub(crate) fn volumes() -> Volumes {
        let v = json!({"volume": {"outline_circle": {"center": {"lat": 35.0, "lng": 38.0},
            "radius": {"value": 1000.0, "units": "M"}},
            "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
            "time_start": {"value": "2026-11-22T10:00:00Z", "format": "RFC3339"},
            "time_end": {"value": "2026-11-22T11:00:00Z", "format": "RFC3339"}});
        Volumes::parse(vec![v], &WireLimits::default()).expect("valid volume")
    }

    #[test]
    fn the_hash_is_the_hash_of_the_text_and_the_text_is_the_compact_value() {
        let v = volumes();
        let c = NoticeContent::new(
            &v,
            "act-1",
            "l1",
            "north",
            1,
            NoticeState::Notified,
            Category::Air,
            "ops \"desk\"",
        );
        assert_eq!(c.sha256, c.text.sha256_hex());
        let value = c.text.to_value();
        assert_eq!(c.text.get(), value.to_string());
        assert_eq!(
            value["volumes"],
            Value::Array(vec![serde_json::from_str(
                &v.raw().get()[1..v.raw().get().len() - 1]
            )
            .unwrap()])
        );
        assert_eq!(value["point_of_contact"], "ops \"desk\"");
        assert_eq!(value["version"], 1);
        assert_eq!(value.as_object().unwrap().keys().next().unwrap(), "volumes");
    }

    #[test]
    fn a_restated_content_keeps_its_order_and_changes_its_hash() {
        let c = NoticeContent::new(
            &volumes(),
            "act-1",
            "l1",
            "north",
            1,
            NoticeState::Notified,
            Category::Air,
            "ops",
        );
        let r = NoticeContent::restated(&c.text, 2, NoticeState::Cancelled);
        assert_ne!(r.sha256, c.sha256);
        assert_eq!(r.sha256, r.text.sha256_hex());
        let (a, b) = (c.text.to_value(), r.text.to_value());
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&a), keys(&b));
        assert_eq!(b["state"], "cancelled");
        assert_eq!(b["volumes"], a["volumes"]);
    }

    #[test]
    fn a_journal_entry_keeps_the_content_byte_for_byte() {
        let c = NoticeContent::new(
            &volumes(),
            "act-1",
            "l1",
            "north",
            1,
            NoticeState::Notified,
            Category::Air,
            "ünïcode ✓ \u{1} 1e300",
        );
        let entry = crate::Entry::Notice {
            activity: "act-1".into(),
            line: "l1".into(),
            party: "north".into(),
            operator: "op-1".into(),
            version: 1,
            state: NoticeState::Notified,
            content: c.text.clone(),
            content_sha256: c.sha256.clone(),
            late: false,
            signed: None,
        };
        let stored = serde_json::to_string(&entry).unwrap();
        assert!(stored.contains(c.text.get()), "stored verbatim: {stored}");
        let back: crate::Entry = serde_json::from_str(&stored).unwrap();
        let crate::Entry::Notice { content, .. } = &back else {
            panic!("a notice: {back:?}")
        };
        assert_eq!(content.get(), c.text.get());
        assert_eq!(content.sha256_hex(), c.sha256);
        assert_eq!(back, entry);
    }
}
