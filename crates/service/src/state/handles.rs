//! The conflict index's keys: each activity and site in memory has a handle
//! (a volume's key is its handle and the volume's number, [`super::key`]).
//! Handles are never reused, so an answer never names what a handle meant
//! before; only those of what is in memory are kept, so history costs none.

use serde::{Deserialize, Serialize};

/// What a handle stands for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) enum Handle {
    Activity(String),
    Site(String),
}

/// Every handle given, the live ones by number.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(from = "HandlesImage", into = "LiveHandles")]
pub(super) struct Handles {
    live: imbl::OrdMap<u32, Handle>,
    /// The next handle to give (all below it were given).
    next: u32,
}

/// [`Handles`] as a snapshot holds them.
#[derive(Serialize, Deserialize)]
struct LiveHandles {
    live: Vec<(u32, Handle)>,
    next: u32,
}

impl From<Handles> for LiveHandles {
    fn from(h: Handles) -> LiveHandles {
        LiveHandles {
            live: h.live.into_iter().collect(),
            next: h.next,
        }
    }
}

/// [`Handles`] as a snapshot holds them, or as earlier builds held them: one
/// per handle ever given, retired ones included.
#[derive(Deserialize)]
#[serde(untagged)]
enum HandlesImage {
    Live(LiveHandles),
    Every(Vec<EarlierHandle>),
}

#[derive(Deserialize)]
enum EarlierHandle {
    Activity(String),
    Site(String),
    Retired,
}

impl From<HandlesImage> for Handles {
    fn from(image: HandlesImage) -> Handles {
        match image {
            HandlesImage::Live(LiveHandles { live, next }) => Handles {
                live: live.into_iter().collect(),
                next,
            },
            HandlesImage::Every(every) => Handles {
                next: every.len() as u32,
                live: (every.into_iter().enumerate())
                    .filter_map(|(i, h)| {
                        let live = match h {
                            EarlierHandle::Activity(id) => Handle::Activity(id),
                            EarlierHandle::Site(id) => Handle::Site(id),
                            EarlierHandle::Retired => return None,
                        };
                        Some((i as u32, live))
                    })
                    .collect(),
            },
        }
    }
}

impl Handles {
    /// A new handle for `what`.
    pub(super) fn give(&mut self, what: Handle) -> u32 {
        let handle = self.next;
        self.next += 1;
        self.live.insert(handle, what);
        handle
    }

    /// What `handle` stands for; `None` once retired.
    pub(super) fn get(&self, handle: u32) -> Option<&Handle> {
        self.live.get(&handle)
    }

    /// `handle`'s activity or site left memory: nothing in the index refers
    /// to it any more.
    pub(super) fn retire(&mut self, handle: u32) {
        self.live.remove(&handle);
    }
}
