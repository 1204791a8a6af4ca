//! What leaves memory as it becomes history: the volumes of activities whose
//! every window ended more than a deployment's keep time ago, and of sites
//! no longer in force, leave the conflict index (nothing can conflict with
//! them any more: a notice is of a window to come). The activities and sites
//! stay in the state, the journal and the record: they are read, exported
//! and proved as before.

use super::{key, State};

impl State {
    /// Takes out of the conflict index the volumes of every activity whose
    /// windows all ended before `now_us - keep_us`, and of every site not in
    /// force at `now_us` (withdrawn ones are out already); how many volumes
    /// left. Called by the writer now and then; replay does not need it (a
    /// start's first sweep does the same).
    pub fn evict_ended(&mut self, now_us: i64, keep_us: i64) -> usize {
        let before = now_us.saturating_sub(keep_us);
        let mut gone = Vec::new();
        let ended = |keys: &mut dyn Iterator<Item = u64>, gone: &mut Vec<u64>, past: i64| {
            let present: Vec<(u64, i64)> = keys
                .filter_map(|k| self.index.get(&k).map(|v| (k, v.window().end.0)))
                .collect();
            if !present.is_empty() && present.iter().all(|&(_, end)| end <= past) {
                gone.extend(present.into_iter().map(|(k, _)| k));
            }
        };
        for a in self.activities.values() {
            ended(
                &mut (0..a.volume_count).map(|i| key(a.handle, i)),
                &mut gone,
                before,
            );
        }
        for s in self.sites.values().filter(|s| !s.in_force(now_us)) {
            // Any window: a site out of force protects nothing.
            ended(
                &mut (0..s.volume_count).map(|i| key(s.handle, i)),
                &mut gone,
                i64::MAX,
            );
        }
        for k in &gone {
            self.index.remove(k);
        }
        gone.len()
    }

    /// Volumes in the conflict index (live activities and sites in force).
    pub fn indexed_volumes(&self) -> usize {
        self.index.len()
    }
}
