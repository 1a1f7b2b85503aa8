//! Per-group memory of fragments: which ids were seen (duplicate suppression and gap
//! detection) and a bounded cache of the newest fragments for answering replays.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::msg::{Fragment, ReplayIds};

/// What [`History::record`] made of a fragment id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// First time; `missing` lists earlier ids that never arrived and were not asked for yet.
    New {
        /// Ids to ask for, oldest first, at most the requested bound.
        missing: Vec<u64>,
    },
    /// Already seen (or too old to tell).
    Duplicate,
}

/// Seen ids and cached fragments of one group.
#[derive(Debug, Clone)]
pub struct History {
    /// Every id up to this one is resolved (seen, or given up). `None` before the first.
    base: Option<u64>,
    /// Seen ids above `base`.
    seen: BTreeSet<u64>,
    /// Missing ids above `base` that were asked for.
    requested: BTreeSet<u64>,
    /// Newest fragments by id.
    cache: BTreeMap<u64, Arc<Fragment>>,
    /// (message id, fragment offset) → fragment id, for the cached ones.
    by_message: HashMap<(u64, u64), u64>,
    cache_limit: usize,
    window: u64,
}

impl History {
    /// Empty history keeping `cache_limit` fragments and tracking ids `window` ahead.
    pub fn new(cache_limit: usize, window: u64) -> Self {
        Self {
            base: None,
            seen: BTreeSet::new(),
            requested: BTreeSet::new(),
            cache: BTreeMap::new(),
            by_message: HashMap::new(),
            cache_limit,
            window: window.max(1),
        }
    }

    /// Starts the history after `id` (an origin resuming at its `max_fragment_id`).
    pub fn start_after(&mut self, id: u64) {
        self.base = Some(id);
    }

    /// Highest id seen or resolved.
    pub fn head(&self) -> Option<u64> {
        self.seen.last().copied().or(self.base)
    }

    /// Records fragment `id`; `max_missing` bounds the gap list.
    pub fn record(&mut self, id: u64, max_missing: usize) -> Seen {
        let base = *self.base.get_or_insert(id.saturating_sub(1));
        if id <= base || !self.seen.insert(id) {
            return Seen::Duplicate;
        }
        self.requested.remove(&id);
        let mut missing = Vec::new();
        // id > base, so base + 1 cannot overflow.
        let mut next = base + 1;
        for &s in self.seen.range(..id) {
            while next < s && missing.len() < max_missing {
                if !self.requested.contains(&next) {
                    missing.push(next);
                }
                next += 1;
            }
            next = s + 1;
        }
        while next < id && missing.len() < max_missing {
            if !self.requested.contains(&next) {
                missing.push(next);
            }
            next += 1;
        }
        for &m in &missing {
            self.requested.insert(m);
        }
        self.advance();
        Seen::New { missing }
    }

    /// Whether `id` was asked for and is still missing.
    pub fn is_requested(&self, id: u64) -> bool {
        self.requested.contains(&id)
    }

    /// Marks `id` as asked for (a probe past the head).
    pub fn mark_requested(&mut self, id: u64) {
        if self.base.is_some_and(|b| id > b) && !self.seen.contains(&id) {
            self.requested.insert(id);
        }
    }

    /// Stops waiting for `id`: it will not be asked for again.
    pub fn give_up(&mut self, id: u64) {
        if self.requested.remove(&id) {
            if let Some(base) = self.base {
                if id > base && id <= self.head().unwrap_or(base) {
                    self.seen.insert(id);
                    self.advance();
                }
            }
        }
    }

    fn advance(&mut self) {
        let Some(mut base) = self.base else { return };
        while base < u64::MAX && self.seen.first() == Some(&(base + 1)) {
            self.seen.pop_first();
            base += 1;
        }
        // Bound the state: ids too far behind the newest are given up.
        if let Some(&last) = self.seen.last() {
            if last - base > self.window {
                let floor = last - self.window;
                base = floor;
                self.seen = self.seen.split_off(&(floor + 1));
                self.requested = self.requested.split_off(&(floor + 1));
            }
        }
        self.base = Some(base);
    }

    /// Keeps `fragment` for replays, evicting the oldest beyond the limit.
    pub fn cache(&mut self, fragment: Arc<Fragment>) {
        if self.cache_limit == 0 {
            return;
        }
        self.by_message.insert(
            (fragment.message_id, fragment.fragment_offset),
            fragment.fragment_id,
        );
        self.cache.insert(fragment.fragment_id, fragment);
        while self.cache.len() > self.cache_limit {
            if let Some((_, old)) = self.cache.pop_first() {
                let key = (old.message_id, old.fragment_offset);
                if self.by_message.get(&key) == Some(&old.fragment_id) {
                    self.by_message.remove(&key);
                }
            }
        }
    }

    /// The cached fragment a replay request asks for: by fragment id, or (id 0) by message id
    /// and offset.
    pub fn lookup(&self, ids: &ReplayIds) -> Option<Arc<Fragment>> {
        let id = if ids.fragment_id != 0 {
            ids.fragment_id
        } else {
            *self
                .by_message
                .get(&(ids.message_id, ids.fragment_offset))?
        };
        self.cache.get(&id).cloned()
    }
}

/// Whether `fragment` answers the replay request `ids`.
pub fn answers(ids: &ReplayIds, fragment: &Fragment) -> bool {
    if ids.fragment_id != 0 {
        ids.fragment_id == fragment.fragment_id
    } else {
        ids.message_id == fragment.message_id && ids.fragment_offset == fragment.fragment_offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fragment_sets_the_base_and_gaps_are_reported_once() {
        let mut h = History::new(4, 100);
        assert_eq!(h.record(10, 8), Seen::New { missing: vec![] });
        assert_eq!(h.record(10, 8), Seen::Duplicate);
        assert_eq!(h.record(9, 8), Seen::Duplicate);
        assert_eq!(
            h.record(13, 8),
            Seen::New {
                missing: vec![11, 12]
            }
        );
        assert_eq!(h.record(15, 8), Seen::New { missing: vec![14] });
        assert!(h.is_requested(11));
        assert_eq!(h.record(11, 8), Seen::New { missing: vec![] });
        h.give_up(12);
        h.give_up(14);
        assert_eq!(h.head(), Some(15));
        assert_eq!(h.record(12, 8), Seen::Duplicate);
        assert_eq!(h.record(16, 8), Seen::New { missing: vec![] });
    }

    #[test]
    fn extreme_ids_do_not_overflow() {
        let mut h = History::new(4, 10);
        h.start_after(u64::MAX - 1);
        assert_eq!(h.record(u64::MAX, 8), Seen::New { missing: vec![] });
        assert_eq!(h.record(u64::MAX, 8), Seen::Duplicate);
        assert_eq!(h.head(), Some(u64::MAX));
    }

    #[test]
    fn gap_list_is_bounded_and_window_gives_up_old_ids() {
        let mut h = History::new(4, 10);
        h.record(1, 8);
        assert_eq!(
            h.record(6, 2),
            Seen::New {
                missing: vec![2, 3]
            }
        );
        assert_eq!(
            h.record(7, 8),
            Seen::New {
                missing: vec![4, 5]
            }
        );
        assert_eq!(h.record(100, 0), Seen::New { missing: vec![] });
        assert_eq!(h.record(3, 8), Seen::Duplicate);
        assert_eq!(
            h.record(95, 2),
            Seen::New {
                missing: vec![91, 92]
            }
        );
    }

    #[test]
    fn cache_answers_by_fragment_and_by_message_and_evicts_oldest() {
        let mut h = History::new(2, 100);
        for id in 1..=3u64 {
            let mut f = Fragment::unsigned(7, id * 200, 0, 0, vec![]);
            f.fragment_id = id;
            h.cache(Arc::new(f));
        }
        let by_id = |id| ReplayIds {
            fragment_id: id,
            ..Default::default()
        };
        assert!(h.lookup(&by_id(1)).is_none());
        assert_eq!(h.lookup(&by_id(3)).unwrap().fragment_id, 3);
        let by_msg = ReplayIds {
            message_id: 7,
            fragment_offset: 400,
            ..Default::default()
        };
        assert_eq!(h.lookup(&by_msg).unwrap().fragment_id, 2);
        assert!(answers(&by_msg, &h.lookup(&by_msg).unwrap()));
        assert!(!answers(&by_id(2), &h.lookup(&by_id(3)).unwrap()));
    }
}
