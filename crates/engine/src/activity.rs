//! Activities (a party's planned operation, made of volumes) and the search for
//! every conflicting pair among many of them.

use crate::conflict::{meeting, Meeting, Minima};
use crate::index::Index;
use crate::volume::Volume;

/// A party's planned operation: where and when, never why.
#[derive(Clone, Debug)]
pub struct Activity {
    /// The caller's identifier.
    pub id: String,
    /// The party that will carry it out; activities of one party never conflict.
    pub party: String,
    /// Its volumes; the activity is their union.
    pub volumes: Vec<Volume>,
}

/// Two volumes of two activities that meet.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeMeeting {
    /// Position of the volume in the first activity.
    pub a_volume: usize,
    /// Position of the volume in the second activity.
    pub b_volume: usize,
    /// Where and when they meet.
    pub meeting: Meeting,
}

/// A conflicting pair of activities, by their positions in the input.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityConflict {
    /// The activity given first.
    pub a: usize,
    /// The activity given later.
    pub b: usize,
    /// Every pair of their volumes that meets, ordered by volume positions.
    pub meetings: Vec<VolumeMeeting>,
}

/// Every pair of activities of different parties that conflict under `minima`,
/// ordered by the position of the first and then of the second activity.
/// Queries run on `threads` threads (at least one); the answer does not depend on it.
pub fn find_conflicts(
    activities: &[Activity],
    minima: &Minima,
    threads: usize,
) -> Vec<ActivityConflict> {
    let key = |a: usize, v: usize| (a as u64) << 32 | v as u64;
    let index = Index::bulk_load(activities.iter().enumerate().flat_map(|(a, act)| {
        act.volumes
            .iter()
            .enumerate()
            .map(move |(v, vol)| (key(a, v), vol.clone()))
    }));
    let threads = threads.clamp(1, activities.len().max(1));
    let chunk = activities.len().div_ceil(threads).max(1);
    let find = |first: usize| {
        let mut pairs: Vec<(usize, usize, usize, usize)> = Vec::new();
        for (a, act) in activities.iter().enumerate().skip(first).take(chunk) {
            for (v, vol) in act.volumes.iter().enumerate() {
                let later_of_other_party = |k: &u64| {
                    let b = (k >> 32) as usize;
                    b > a && activities[b].party != act.party
                };
                for k in index.conflicts_where(vol, minima, later_of_other_party) {
                    pairs.push((a, (k >> 32) as usize, v, (k & 0xffff_ffff) as usize));
                }
            }
        }
        pairs
    };
    let mut pairs: Vec<(usize, usize, usize, usize)> = std::thread::scope(|s| {
        let workers: Vec<_> = (1..threads)
            .map(|t| s.spawn(move || find(t * chunk)))
            .collect();
        let mut pairs = find(0);
        for w in workers {
            pairs.extend(w.join().expect("a conflict search thread panicked"));
        }
        pairs
    });
    pairs.sort_unstable();
    let mut out: Vec<ActivityConflict> = Vec::new();
    for (a, b, va, vb) in pairs {
        let Some(m) = meeting(
            &activities[a].volumes[va],
            &activities[b].volumes[vb],
            minima,
        ) else {
            continue;
        };
        let m = VolumeMeeting {
            a_volume: va,
            b_volume: vb,
            meeting: m,
        };
        match out.last_mut() {
            Some(last) if last.a == a && last.b == b => last.meetings.push(m),
            _ => out.push(ActivityConflict {
                a,
                b,
                meetings: vec![m],
            }),
        }
    }
    out
}
