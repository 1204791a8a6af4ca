//! The state as a snapshot holds it: every field the journal built, apart
//! from the journal itself and the record's tree (rebuilt from the journal's
//! leaves, which ties the image to the journal), and the volumes as they were
//! given, which are rebuilt without validating them again
//! ([`Volume::trusted`]: they were validated when they were logged).
//!
//! The image is JSON (exact for floats: `float_roundtrip`); `crate::snapshot`
//! compresses it and keeps it in the store.

use super::{
    activities::Activity, certificates::Certificates, conflicts::Conflict, lines::Line,
    parties::Operator, parties::Party, talks::Talks, Handles, State,
};
use crate::deadlines::Deadlines;
use crate::line_checks::Checks;
use crate::site::Site;
use parley_engine::{
    AltitudeBand, Index, LatLng, Outline, TimeWindow, Timestamp, Volume, VolumeInput,
};
use parley_record::MerkleLog;
use parley_wire::WireLimits;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The image's format; an image of another format is refused (and the
/// journal replayed), so a change of the state's fields only needs a new
/// number here.
pub(crate) const FORMAT: u32 = 5;

/// A volume as it was given (and validated): outline, band, window.
#[derive(Serialize, Deserialize)]
enum Shape {
    /// Vertices as `[lat, lng]`.
    Polygon(Vec<[f64; 2]>),
    /// `[lat, lng, radius_m]`.
    Circle([f64; 3]),
}

#[derive(Serialize, Deserialize)]
struct StoredVolume {
    key: u64,
    shape: Shape,
    /// Lower and upper altitude, metres.
    band: [f64; 2],
    /// Start and end, µs.
    window: [i64; 2],
}

/// An image's volumes: shared with the index when taken (written out as
/// [`StoredVolume`]s after the state's lock is let go), as stored when read.
enum ImageVolumes {
    Shared(Vec<(u64, Arc<Volume>)>),
    Read(Vec<StoredVolume>),
}

impl Serialize for ImageVolumes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ImageVolumes::Shared(v) => {
                s.collect_seq(v.iter().map(|(k, v)| StoredVolume::of(*k, v)))
            }
            ImageVolumes::Read(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ImageVolumes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::deserialize(d).map(ImageVolumes::Read)
    }
}

impl StoredVolume {
    fn of(key: u64, v: &Volume) -> StoredVolume {
        let shape = match v.outline() {
            Outline::Polygon(vertices) => {
                Shape::Polygon(vertices.iter().map(|p| [p.lat, p.lng]).collect())
            }
            Outline::Circle { center, radius_m } => {
                Shape::Circle([center.lat, center.lng, *radius_m])
            }
        };
        let (a, w) = (v.altitude(), v.window());
        StoredVolume {
            key,
            shape,
            band: [a.lower_m, a.upper_m],
            window: [w.start.0, w.end.0],
        }
    }

    fn volume(self) -> Volume {
        let outline = match self.shape {
            Shape::Polygon(vertices) => Outline::Polygon(
                vertices
                    .into_iter()
                    .map(|[lat, lng]| LatLng::new(lat, lng))
                    .collect(),
            ),
            Shape::Circle([lat, lng, radius_m]) => Outline::Circle {
                center: LatLng::new(lat, lng),
                radius_m,
            },
        };
        Volume::trusted(VolumeInput {
            outline,
            altitude: AltitudeBand {
                lower_m: self.band[0],
                upper_m: self.band[1],
            },
            window: TimeWindow {
                start: Timestamp(self.window[0]),
                end: Timestamp(self.window[1]),
            },
        })
    }
}

/// `work` done on each of `items` on every core; the results in order.
pub(crate) fn on_every_core<T: Send, R: Send>(
    items: Vec<T>,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = items.len().div_ceil(threads).max(1);
    let mut parts: Vec<Vec<T>> = Vec::new();
    for item in items {
        match parts.last_mut() {
            Some(last) if last.len() < per => last.push(item),
            _ => parts.push(vec![item]),
        }
    }
    let work = &work;
    std::thread::scope(|s| {
        let running: Vec<_> = parts
            .into_iter()
            .map(|part| s.spawn(move || part.into_iter().map(work).collect::<Vec<R>>()))
            .collect();
        running
            .into_iter()
            .flat_map(|r| r.join().expect("no panic"))
            .collect()
    })
}

/// The state's fields: a copy that shares what it can with the state (the
/// large maps are persistent, so copying them is a pointer's worth).
#[derive(Serialize, Deserialize)]
pub(crate) struct Image {
    pub(crate) format: u32,
    /// The journal position the image is the state after.
    pub(crate) seq: u64,
    /// The record's root at `seq`, hex.
    pub(crate) root: String,
    parties: BTreeMap<String, Party>,
    operators: BTreeMap<String, Operator>,
    by_token: HashMap<String, String>,
    lines: BTreeMap<String, Line>,
    activities: imbl::OrdMap<String, crate::shared_value::SharedValue<Activity>>,
    retired: super::history::Retired,
    sites: BTreeMap<String, Site>,
    conflicts: imbl::OrdMap<String, crate::shared_value::SharedValue<Conflict>>,
    handles: Handles,
    deadlines: Deadlines,
    checks: Checks,
    talks: Talks,
    party_keys: BTreeMap<String, Vec<String>>,
    certificates: Certificates,
    federation: super::federation::Federation,
    /// The signatures used, by hash, with when (a replay is refused after a
    /// restart from the image too).
    used_signatures: HashMap<String, i64>,
    /// The index's volumes in its slot order.
    volumes: ImageVolumes,
}

/// Why an image does not fit the journal.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Not an image this build reads.
    #[error("format {0} (this build reads format {FORMAT})")]
    Format(u32),
    /// The journal is shorter than the image.
    #[error("it is of entry {seq} and the journal holds {len}")]
    Beyond { seq: u64, len: u64 },
    /// The journal's leaves do not give the image's root.
    #[error("its record root {image} is not the journal's {journal} at entry {seq}")]
    Root {
        seq: u64,
        image: String,
        journal: String,
    },
    /// The journal's leaf at a position it checked is not the one the
    /// snapshot carries: the journal is not the one it was taken of.
    #[error("its record leaf of entry {0} is not the journal's")]
    Leaf(u64),
    /// It refers to something the journal does not hold.
    #[error("it is inconsistent: {0}")]
    Inconsistent(String),
}

impl Image {
    /// The retired activities' pairs, for a section of the snapshot of
    /// their own (the JSON leaves them out).
    pub(crate) fn retired_pair_bytes(&self) -> Vec<u8> {
        self.retired.pair_bytes()
    }

    /// Takes the retired activities' pairs from the snapshot's section.
    pub(crate) fn load_retired_pairs(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.retired.load_pair_bytes(bytes)
    }

    /// Takes the retired activities' pairs as read from the snapshot's
    /// section ([`crate::state::decode_pairs`]).
    pub(crate) fn load_retired(&mut self, pairs: Vec<(u64, u64)>) -> Result<(), String> {
        self.retired.load_pairs(pairs)
    }

    /// The image as the JSON a snapshot keeps.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("the state serializes")
    }
}

impl State {
    /// The state now as an image, a copy: taken under the state's read lock,
    /// it is written out ([`Image::to_json`]) after the lock is let go, so
    /// that the writer waits for a copy, not for the JSON of the whole state.
    pub(crate) fn image(&self) -> Image {
        Image {
            format: FORMAT,
            seq: self.last_seq(),
            root: self.record.root().to_string(),
            parties: self.parties.clone(),
            operators: self.operators.clone(),
            by_token: self.by_token.clone(),
            lines: self.lines.clone(),
            activities: self.activities.clone(),
            retired: self.retired.clone(),
            sites: self.sites.clone(),
            conflicts: self.conflicts.clone(),
            handles: self.handles.clone(),
            deadlines: self.deadlines.clone(),
            checks: self.checks.clone(),
            talks: self.talks.clone(),
            party_keys: self.party_keys.clone(),
            certificates: self.certificates.clone(),
            federation: self.federation.clone(),
            used_signatures: self.signing.used().clone(),
            volumes: ImageVolumes::Shared(self.index.iter_shared().collect()),
        }
    }

    /// How many activities, sites and conflicts an image of the state holds
    /// (what sets how often snapshots are taken: `snapshot/mod.rs`).
    pub(crate) fn image_items(&self) -> u64 {
        (self.activities.len() + self.sites.len() + self.conflicts.len()) as u64
    }

    /// A copy of the record's tree (its chunks shared, so cheap), to write
    /// out its hashes (`MerkleLog::level_bytes`) after the state's lock is let go.
    pub(crate) fn record_copy(&self) -> MerkleLog {
        self.record.clone()
    }

    /// The state an image describes, given the journal's first `image.seq`
    /// entries (`log`, of which only the recent may be in memory) and the
    /// record's tree of their leaves. Refused when the tree's root is not
    /// the image's, or the image refers to positions or handles it does not
    /// hold.
    pub(crate) fn from_image(
        image: Image,
        log: super::entries::Entries,
        record: MerkleLog,
        limits: WireLimits,
    ) -> Result<State, ImageError> {
        if image.format != FORMAT {
            return Err(ImageError::Format(image.format));
        }
        let len = log.len();
        if image.seq != len {
            return Err(ImageError::Beyond {
                seq: image.seq,
                len,
            });
        }
        let root = record.root().to_string();
        if root != image.root {
            return Err(ImageError::Root {
                seq: image.seq,
                image: image.root,
                journal: root,
            });
        }
        let mut state = State::new(limits);
        state.parties = image.parties;
        state.operators = image.operators;
        state.by_token = image.by_token;
        state.lines = image.lines;
        state.activities = image.activities;
        state.retired = image.retired;
        state.sites = image.sites;
        state.conflicts = image.conflicts;
        state.handles = image.handles;
        state.deadlines = image.deadlines;
        state.checks = image.checks;
        state.talks = image.talks;
        state.party_keys = image.party_keys;
        state.certificates = image.certificates;
        state.federation = image.federation;
        state.signing.set_used(image.used_signatures);
        state.record = record;
        state.log = log;
        state.check_positions(image.seq)?;
        let ImageVolumes::Read(stored) = image.volumes else {
            unreachable!("an image read from JSON holds its volumes as stored")
        };
        let live =
            |key: u64| u32::try_from(key >> 16).is_ok_and(|h| state.handles.get(h).is_some());
        if let Some(v) = stored.iter().find(|v| !live(v.key)) {
            return Err(ImageError::Inconsistent(format!(
                "volume key {} has no handle",
                v.key
            )));
        }
        // Each footprint is computed again: the most of a start, on every core.
        let volumes = on_every_core(stored, |v| (v.key, v.volume()));
        state.index = Index::bulk_load(volumes);
        Ok(state)
    }

    /// Every journal position and handle the state refers to is one it
    /// holds, so that no read of a restored state can index out of range.
    fn check_positions(&self, len: u64) -> Result<(), ImageError> {
        let within = |what: &str, seq: u64| {
            (1..=len).contains(&seq).then_some(()).ok_or_else(|| {
                ImageError::Inconsistent(format!("{what} refers to entry {seq} of {len}"))
            })
        };
        let handle = |what: &str, h: u32| {
            (self.handles.get(h).is_some())
                .then_some(())
                .ok_or_else(|| ImageError::Inconsistent(format!("{what} has no handle {h}")))
        };
        for (id, a) in &self.activities {
            handle(id, a.handle)?;
            for &seq in a.versions.iter().chain(&a.acks) {
                within(id, seq)?;
            }
            if !self.lines.contains_key(&a.line) {
                return Err(ImageError::Inconsistent(format!("{id} is on no line")));
            }
        }
        for seq in self.retired.positions() {
            within("a retired activity", seq)?;
        }
        for (id, s) in &self.sites {
            handle(id, s.handle)?;
            within(id, s.at)?;
        }
        for (id, c) in &self.conflicts {
            within(id, c.at)?;
        }
        for (id, l) in &self.lines {
            for &seq in &l.messages {
                within(id, seq)?;
            }
        }
        for id in self.by_token.values() {
            if !self.operators.contains_key(id) {
                return Err(ImageError::Inconsistent(format!("no operator {id}")));
            }
        }
        self.talks
            .check_positions(len)
            .map_err(ImageError::Inconsistent)
    }
}
