//! An in-memory spatio-temporal index of volumes that answers "which stored
//! volumes conflict with this one under these minima?".
//!
//! # Layout
//! The globe is cut into latitude rows; each row into as many longitude columns
//! as keep cells about as wide as they are tall (so cells stay square up to the
//! poles and the antimeridian is just a column boundary). There are four levels of
//! cell size: ~20 km, ~160 km, ~1,280 km and the whole globe. A volume is filed
//! in every cell its bounding box touches at the finest level where that is at
//! most [`MAX_CELLS`] cells. Each cell's bucket is sorted by start time and knows
//! its longest window, so a query reads only the entries that can overlap its
//! window in time. Entries carry a conservative copy of their volume's box, band
//! and window, so most candidates are dismissed without touching the volume; the
//! rest get the exact test of [`crate::conflicts`].
//!
//! A plain grid measured twice as fast as an R-tree on the benchmark's traffic
//! (see ARCHITECTURE.md); levels keep huge volumes from flooding fine cells.

use crate::conflict::{conflicts, meeting, Meeting, Minima};
use crate::footprint::pad;
use crate::volume::{LatLngBox, Volume};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

/// Asks the CPU to bring `*p` into its cache (a hint: nothing is read).
#[inline]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads no memory and cannot fault, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Cell height of each level, degrees of latitude.
const LEVELS: [f64; 4] = [0.18, 1.44, 11.52, 180.0];
/// A volume goes to the finest level where its box touches at most this many cells.
pub const MAX_CELLS: usize = 16;

/// The index. `K` is the caller's key for a stored volume.
pub struct Index<K> {
    slots: Vec<Option<Slot<K>>>,
    free: Vec<u32>,
    by_key: HashMap<K, u32>,
    levels: Vec<Level>,
}

struct Slot<K> {
    key: K,
    /// Shared, so that a copy of every stored volume (a snapshot's) costs a
    /// count each, not the volumes.
    volume: Arc<Volume>,
    level: u8,
}

struct Level {
    cell_deg: f64,
    rows: u32,
    buckets: HashMap<u64, Bucket, BuildHasherDefault<CellHasher>>,
}

#[derive(Default)]
struct Bucket {
    /// Sorted by `start`.
    entries: Vec<Entry>,
    /// No entry's window is longer than this, microseconds.
    max_duration: i64,
}

/// A stored volume's summary in one cell, rounded outwards to `f32`.
#[derive(Clone, Copy, Debug)]
struct Entry {
    start: i64,
    end: i64,
    south: f32,
    north: f32,
    west: f32,
    east: f32,
    lower: f32,
    upper: f32,
    slot: u32,
}

impl<K: Copy + Eq + Hash> Default for Index<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Copy + Eq + Hash> Index<K> {
    /// An empty index.
    pub fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
            levels: LEVELS
                .iter()
                .map(|&cell_deg| Level {
                    cell_deg,
                    rows: (180.0 / cell_deg).ceil() as u32,
                    buckets: HashMap::default(),
                })
                .collect(),
        }
    }

    /// Builds an index from many volumes at once, faster than inserting them one
    /// by one. A key given twice keeps its last volume.
    pub fn bulk_load(items: impl IntoIterator<Item = (K, Volume)>) -> Self {
        let mut index = Self::new();
        for (key, volume) in items {
            if let Some(&slot) = index.by_key.get(&key) {
                index.unfile(slot);
                index.slots[slot as usize] = None;
                index.free.push(slot);
            }
            let slot = index.store(key, volume);
            index.file(slot, false);
        }
        for level in &mut index.levels {
            for bucket in level.buckets.values_mut() {
                bucket.entries.sort_unstable_by_key(|e| e.start);
            }
        }
        index
    }

    /// Number of stored volumes.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Stores `volume` under `key`, returning the volume it replaces.
    pub fn insert(&mut self, key: K, volume: Volume) -> Option<Arc<Volume>> {
        let old = self.remove(&key);
        let slot = self.store(key, volume);
        self.file(slot, true);
        old
    }

    /// Removes the volume stored under `key` and returns it (shared: a
    /// snapshot being written may still hold it, and no copy is made).
    pub fn remove(&mut self, key: &K) -> Option<Arc<Volume>> {
        let slot = self.by_key.remove(key)?;
        self.unfile(slot);
        self.free.push(slot);
        self.slots[slot as usize].take().map(|s| s.volume)
    }

    /// Every stored volume with its key, in the order of the index's own
    /// slots (the order in which queries consider them).
    pub fn iter(&self) -> impl Iterator<Item = (K, &Volume)> {
        self.slots.iter().flatten().map(|s| (s.key, &*s.volume))
    }

    /// [`Index::iter`] with each volume shared: what a copy of the index's
    /// volumes taken in a hurry (under a lock) needs.
    pub fn iter_shared(&self) -> impl Iterator<Item = (K, Arc<Volume>)> + '_ {
        self.slots
            .iter()
            .flatten()
            .map(|s| (s.key, Arc::clone(&s.volume)))
    }

    /// The volume stored under `key`.
    pub fn get(&self, key: &K) -> Option<&Volume> {
        let slot = *self.by_key.get(key)?;
        self.slots[slot as usize].as_ref().map(|s| &*s.volume)
    }

    /// Keys of every stored volume that conflicts with `volume` under `minima`.
    pub fn conflicts(&self, volume: &Volume, minima: &Minima) -> Vec<K> {
        self.conflicts_where(volume, minima, |_| true)
    }

    /// Keys of every stored volume that conflicts with `volume` under `minima`
    /// and whose key passes `keep` (for example: of another party). Each key is
    /// reported once, in no particular order.
    pub fn conflicts_where(
        &self,
        volume: &Volume,
        minima: &Minima,
        keep: impl Fn(&K) -> bool,
    ) -> Vec<K> {
        self.matching(volume, minima, keep, |other| {
            conflicts(volume, other, minima).then_some(())
        })
        .into_iter()
        .map(|(k, ())| k)
        .collect()
    }

    /// Like [`Index::conflicts_where`], with where and when each conflicting
    /// volume meets `volume` (the exact geometry runs once per candidate).
    pub fn meetings_where(
        &self,
        volume: &Volume,
        minima: &Minima,
        keep: impl Fn(&K) -> bool,
    ) -> Vec<(K, Meeting)> {
        self.matching(volume, minima, keep, |other| meeting(volume, other, minima))
    }

    /// `test` applied to every stored volume that may conflict with `volume`
    /// (the grid's superset) and whose key passes `keep`; the keys it answers.
    fn matching<T>(
        &self,
        volume: &Volume,
        minima: &Minima,
        keep: impl Fn(&K) -> bool,
        test: impl Fn(&Volume) -> Option<T>,
    ) -> Vec<(K, T)> {
        let mut candidates = Vec::new();
        let reach = pad(volume.bounds(), minima.horizontal_m);
        let w = volume.window();
        // Whole microseconds, rounded up, keep the time filter a superset.
        let t = (minima.time_s * 1e6).ceil() as i64;
        let (after, before) = (w.start.0.saturating_sub(t), w.end.0.saturating_add(t));
        let a = volume.altitude();
        let (low, high) = (a.lower_m - minima.vertical_m, a.upper_m + minima.vertical_m);
        for level in &self.levels {
            if level.buckets.is_empty() {
                continue;
            }
            let mut scan = |bucket: &Bucket| {
                let from = bucket
                    .entries
                    .partition_point(|e| e.start <= after.saturating_sub(bucket.max_duration));
                // The range is short: scanning beats a second binary search's cache misses.
                for e in bucket.entries[from..]
                    .iter()
                    .take_while(|e| e.start < before)
                {
                    if e.end > after
                        && (e.lower as f64) < high
                        && (e.upper as f64) > low
                        && (e.south as f64) <= reach.north
                        && (e.north as f64) >= reach.south
                        && lng_overlap(e.west as f64, e.east as f64, reach.west, reach.east)
                    {
                        candidates.push(e.slot);
                    }
                }
            };
            // A query box larger than the occupied part of a level reads every bucket.
            if level.count_cells(&reach, level.buckets.len()) > level.buckets.len() {
                level.buckets.values().for_each(scan);
            } else {
                level.for_each_cell(&reach, |cell| {
                    if let Some(bucket) = level.buckets.get(&cell) {
                        scan(bucket);
                    }
                });
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        // Each volume is behind a pointer of its own (so that a snapshot
        // shares it): ask for them all before testing any, so that their
        // cache misses overlap instead of following one another.
        for &slot in &candidates {
            if let Some(s) = &self.slots[slot as usize] {
                prefetch(Arc::as_ptr(&s.volume));
            }
        }
        candidates
            .into_iter()
            .filter_map(|slot| {
                let s = self.slots[slot as usize].as_ref()?;
                if !keep(&s.key) {
                    return None;
                }
                test(&s.volume).map(|t| (s.key, t))
            })
            .collect()
    }

    fn store(&mut self, key: K, volume: Volume) -> u32 {
        let level = level_for(&self.levels, &volume.bounds());
        let slot = Slot {
            key,
            volume: Arc::new(volume),
            level,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(slot);
                id
            }
            None => {
                self.slots.push(Some(slot));
                (self.slots.len() - 1) as u32
            }
        };
        self.by_key.insert(key, id);
        id
    }

    /// Adds the slot's entries to its cells, keeping buckets sorted if `sorted`.
    fn file(&mut self, slot: u32, sorted: bool) {
        let s = self.slots[slot as usize]
            .as_ref()
            .expect("filing a stored slot");
        let entry = entry_for(&s.volume, slot);
        let duration = entry.end - entry.start;
        let level = &mut self.levels[s.level as usize];
        let bounds = s.volume.bounds();
        let mut cells = Vec::new();
        level.for_each_cell(&bounds, |c| cells.push(c));
        for cell in cells {
            let bucket = level.buckets.entry(cell).or_default();
            bucket.max_duration = bucket.max_duration.max(duration);
            if sorted {
                let at = bucket.entries.partition_point(|e| e.start <= entry.start);
                bucket.entries.insert(at, entry);
            } else {
                bucket.entries.push(entry);
            }
        }
    }

    fn unfile(&mut self, slot: u32) {
        let s = self.slots[slot as usize]
            .as_ref()
            .expect("unfiling a stored slot");
        let start = s.volume.window().start.0;
        let level = &mut self.levels[s.level as usize];
        let bounds = s.volume.bounds();
        let mut cells = Vec::new();
        level.for_each_cell(&bounds, |c| cells.push(c));
        for cell in cells {
            let Some(bucket) = level.buckets.get_mut(&cell) else {
                continue;
            };
            let from = bucket.entries.partition_point(|e| e.start < start);
            if let Some(i) = bucket.entries[from..].iter().position(|e| e.slot == slot) {
                bucket.entries.remove(from + i);
            }
            if bucket.entries.is_empty() {
                level.buckets.remove(&cell);
            }
        }
    }

    /// Approximate heap bytes used by the index itself, excluding the vertices
    /// of the stored outlines.
    pub fn memory_bytes(&self) -> usize {
        let entries: usize = self
            .levels
            .iter()
            .map(|l| {
                l.buckets.capacity() * (std::mem::size_of::<(u64, Bucket)>() + 1)
                    + l.buckets
                        .values()
                        .map(|b| b.entries.capacity() * std::mem::size_of::<Entry>())
                        .sum::<usize>()
            })
            .sum();
        entries
            + self.slots.capacity() * std::mem::size_of::<Option<Slot<K>>>()
            // Each volume in its own allocation, with its two counts.
            + self.len() * (std::mem::size_of::<Volume>() + 16)
            + self.by_key.capacity() * (std::mem::size_of::<(K, u32)>() + 1)
            + self.free.capacity() * 4
    }
}

fn level_for(levels: &[Level], bounds: &LatLngBox) -> u8 {
    for (i, level) in levels.iter().enumerate() {
        if level.count_cells(bounds, MAX_CELLS) <= MAX_CELLS {
            return i as u8;
        }
    }
    (levels.len() - 1) as u8
}

fn entry_for(volume: &Volume, slot: u32) -> Entry {
    let b = volume.bounds();
    let a = volume.altitude();
    let w = volume.window();
    Entry {
        start: w.start.0,
        end: w.end.0,
        south: down(b.south),
        north: up(b.north),
        west: down(b.west),
        east: up(b.east),
        lower: down(a.lower_m),
        upper: up(a.upper_m),
        slot,
    }
}

fn down(x: f64) -> f32 {
    let y = x as f32;
    if y as f64 > x {
        y.next_down()
    } else {
        y
    }
}

fn up(x: f64) -> f32 {
    let y = x as f32;
    if (y as f64) < x {
        y.next_up()
    } else {
        y
    }
}

/// Whether two longitude intervals meet; an interval with `west > east` crosses
/// the antimeridian.
fn lng_overlap(w1: f64, e1: f64, w2: f64, e2: f64) -> bool {
    match (w1 <= e1, w2 <= e2) {
        (true, true) => w1 <= e2 && w2 <= e1,
        // A crossing interval is [w, 180] ∪ [-180, e].
        (true, false) => e1 >= w2 || w1 <= e2,
        (false, true) => e2 >= w1 || w2 <= e1,
        (false, false) => true,
    }
}

impl Level {
    fn row_of(&self, lat: f64) -> u32 {
        (((lat + 90.0) / self.cell_deg).floor().max(0.0) as u32).min(self.rows - 1)
    }

    fn columns(&self, row: u32) -> u32 {
        // Latitude of the row's edge nearest the equator, where it is widest.
        let south = -90.0 + row as f64 * self.cell_deg;
        let north = (south + self.cell_deg).min(90.0);
        let equatorward = if south <= 0.0 && north >= 0.0 {
            0.0
        } else {
            south.abs().min(north.abs())
        };
        ((360.0 * equatorward.to_radians().cos() / self.cell_deg).floor() as u32).max(1)
    }

    fn column_of(&self, lng: f64, columns: u32) -> u32 {
        ((((lng + 180.0) / 360.0) * columns as f64).floor().max(0.0) as u32).min(columns - 1)
    }

    /// The column ranges of `row` that `b` touches.
    fn column_ranges(&self, row: u32, b: &LatLngBox) -> ([(u32, u32); 2], usize) {
        let n = self.columns(row);
        if b.lng_span() >= 360.0 || n == 1 {
            return ([(0, n - 1), (0, 0)], 1);
        }
        let (w, e) = (self.column_of(b.west, n), self.column_of(b.east, n));
        if b.west <= b.east {
            ([(w, e), (0, 0)], 1)
        } else if w <= e {
            // Crossing the antimeridian yet wrapping into the same column range.
            ([(0, n - 1), (0, 0)], 1)
        } else {
            ([(w, n - 1), (0, e)], 2)
        }
    }

    /// How many cells `b` touches, counting no further than just past `limit`.
    fn count_cells(&self, b: &LatLngBox, limit: usize) -> usize {
        let mut count = 0;
        for row in self.row_of(b.south)..=self.row_of(b.north) {
            let (ranges, k) = self.column_ranges(row, b);
            count += ranges[..k]
                .iter()
                .map(|(lo, hi)| (hi - lo + 1) as usize)
                .sum::<usize>();
            if count > limit {
                break;
            }
        }
        count
    }

    fn for_each_cell(&self, b: &LatLngBox, mut f: impl FnMut(u64)) {
        for row in self.row_of(b.south)..=self.row_of(b.north) {
            let (ranges, k) = self.column_ranges(row, b);
            for &(lo, hi) in &ranges[..k] {
                for col in lo..=hi {
                    f((row as u64) << 32 | col as u64);
                }
            }
        }
    }
}

/// A fast hash for cell ids, which are already well spread in their low bits.
#[derive(Default)]
struct CellHasher(u64);

impl Hasher for CellHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, x: u64) {
        let h = (x ^ (x >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 32);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
