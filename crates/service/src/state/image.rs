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
    parties::Operator, parties::Party, talks::Talks, Handle, State,
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
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

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

/// The state's fields, borrowed to write an image and owned when one is read.
#[derive(Serialize, Deserialize)]
pub(crate) struct Image<'a> {
    pub(crate) format: u32,
    /// The journal position the image is the state after.
    pub(crate) seq: u64,
    /// The record's root at `seq`, hex.
    pub(crate) root: String,
    parties: Cow<'a, BTreeMap<String, Party>>,
    operators: Cow<'a, BTreeMap<String, Operator>>,
    by_token: Cow<'a, HashMap<String, String>>,
    lines: Cow<'a, BTreeMap<String, Line>>,
    activities: Cow<'a, BTreeMap<String, Activity>>,
    retired: Cow<'a, super::history::Retired>,
    sites: Cow<'a, BTreeMap<String, Site>>,
    conflicts: Cow<'a, BTreeMap<String, Conflict>>,
    handles: Cow<'a, [Handle]>,
    deadlines: Cow<'a, Deadlines>,
    checks: Cow<'a, Checks>,
    talks: Cow<'a, Talks>,
    party_keys: Cow<'a, BTreeMap<String, Vec<String>>>,
    certificates: Cow<'a, Certificates>,
    federation: Cow<'a, super::federation::Federation>,
    /// The signatures used, by hash, with when (a replay is refused after a
    /// restart from the image too).
    used_signatures: Cow<'a, HashMap<String, i64>>,
    /// The index's volumes in its slot order.
    volumes: Vec<StoredVolume>,
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

impl State {
    /// The state now as an image (JSON). Runs under the state's read lock:
    /// no copy, one pass.
    pub(crate) fn image_json(&self) -> Vec<u8> {
        let image = Image {
            format: FORMAT,
            seq: self.last_seq(),
            root: self.record.root().to_string(),
            parties: Cow::Borrowed(&self.parties),
            operators: Cow::Borrowed(&self.operators),
            by_token: Cow::Borrowed(&self.by_token),
            lines: Cow::Borrowed(&self.lines),
            activities: Cow::Borrowed(&self.activities),
            retired: Cow::Borrowed(&self.retired),
            sites: Cow::Borrowed(&self.sites),
            conflicts: Cow::Borrowed(&self.conflicts),
            handles: Cow::Borrowed(&self.handles),
            deadlines: Cow::Borrowed(&self.deadlines),
            checks: Cow::Borrowed(&self.checks),
            talks: Cow::Borrowed(&self.talks),
            party_keys: Cow::Borrowed(&self.party_keys),
            certificates: Cow::Borrowed(&self.certificates),
            federation: Cow::Borrowed(&self.federation),
            used_signatures: Cow::Borrowed(self.signing.used()),
            volumes: self
                .index
                .iter()
                .map(|(k, v)| StoredVolume::of(k, v))
                .collect(),
        };
        serde_json::to_vec(&image).expect("the state serializes")
    }

    /// Every leaf hash of the record, in order (32 bytes each): saved beside
    /// the image so that a start need not hash the whole journal again.
    pub(crate) fn leaf_bytes(&self) -> Vec<u8> {
        let size = self.record.size();
        let mut out = Vec::with_capacity(size as usize * 32);
        for i in 0..size {
            out.extend_from_slice(&self.record.leaf(i).expect("within the log").0);
        }
        out
    }

    /// The state an image describes, given the journal's first `image.seq`
    /// entries (`log`, of which only the recent may be in memory) and the
    /// record's tree of their leaves. Refused when the tree's root is not
    /// the image's, or the image refers to positions or handles it does not
    /// hold.
    pub(crate) fn from_image(
        image: Image<'static>,
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
        state.parties = image.parties.into_owned();
        state.operators = image.operators.into_owned();
        state.by_token = image.by_token.into_owned();
        state.lines = image.lines.into_owned();
        state.activities = image.activities.into_owned();
        state.retired = image.retired.into_owned();
        state.sites = image.sites.into_owned();
        state.conflicts = image.conflicts.into_owned();
        state.handles = image.handles.into_owned();
        state.deadlines = image.deadlines.into_owned();
        state.checks = image.checks.into_owned();
        state.talks = image.talks.into_owned();
        state.party_keys = image.party_keys.into_owned();
        state.certificates = image.certificates.into_owned();
        state.federation = image.federation.into_owned();
        state.signing.set_used(image.used_signatures.into_owned());
        state.record = record;
        state.log = log;
        state.check_positions(image.seq)?;
        let handles = state.handles.len() as u64;
        if let Some(v) = image.volumes.iter().find(|v| v.key >> 16 >= handles) {
            return Err(ImageError::Inconsistent(format!(
                "volume key {} has no handle",
                v.key
            )));
        }
        // Each footprint is computed again: the most of a start, on every core.
        let volumes = on_every_core(image.volumes, |v| (v.key, v.volume()));
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
            ((h as usize) < self.handles.len())
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
