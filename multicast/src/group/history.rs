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
    /// Payload bytes of the cached fragments.
    cached_bytes: usize,
    cache_limit: usize,
    cache_bytes_limit: usize,
    window: u64,
}

impl History {
    /// Empty history keeping at most `cache_limit` fragments of at most `cache_bytes_limit`
    /// bytes in all, and tracking ids `window` ahead.
    pub fn new(cache_limit: usize, cache_bytes_limit: usize, window: u64) -> Self {
        Self {
            base: None,
            seen: BTreeSet::new(),
            requested: BTreeSet::new(),
            cache: BTreeMap::new(),
            by_message: HashMap::new(),
            cached_bytes: 0,
            cache_limit,
            cache_bytes_limit,
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

    /// Keeps `fragment` for replays, evicting the oldest beyond the limits.
    pub fn cache(&mut self, fragment: Arc<Fragment>) {
        let size = fragment.wire_size();
        if self.cache_limit == 0 || size > self.cache_bytes_limit {
            return;
        }
        self.by_message.insert(
            (fragment.message_id, fragment.fragment_offset),
            fragment.fragment_id,
        );
        if let Some(old) = self.cache.insert(fragment.fragment_id, fragment) {
            self.cached_bytes -= old.wire_size();
        }
        self.cached_bytes += size;
        while self.cache.len() > self.cache_limit || self.cached_bytes > self.cache_bytes_limit {
            let Some((_, old)) = self.cache.pop_first() else {
                break;
            };
            self.cached_bytes -= old.wire_size();
            let key = (old.message_id, old.fragment_offset);
            if self.by_message.get(&key) == Some(&old.fragment_id) {
                self.by_message.remove(&key);
            }
        }
    }

    /// Bytes the cached fragments take.
    pub fn cached_bytes(&self) -> usize {
        self.cached_bytes
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fragment_sets_the_base_and_gaps_are_reported_once() {
        let mut h = History::new(4, usize::MAX, 100);
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
        let mut h = History::new(4, usize::MAX, 10);
        h.start_after(u64::MAX - 1);
        assert_eq!(h.record(u64::MAX, 8), Seen::New { missing: vec![] });
        assert_eq!(h.record(u64::MAX, 8), Seen::Duplicate);
        assert_eq!(h.head(), Some(u64::MAX));
    }

    #[test]
    fn gap_list_is_bounded_and_window_gives_up_old_ids() {
        let mut h = History::new(4, usize::MAX, 10);
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
        let mut h = History::new(2, usize::MAX, 100);
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
        assert!(by_msg.answered_by(&h.lookup(&by_msg).unwrap()));
        assert!(!by_id(2).answered_by(&h.lookup(&by_id(3)).unwrap()));
    }

    #[test]
    fn cache_stays_within_its_byte_bound() {
        // Room for two 1,116-byte fragments, not three.
        let mut h = History::new(100, 2 * 1116 + 10, 100);
        for id in 1..=5u64 {
            let mut f = Fragment::unsigned(id, 0, 0, 0, vec![0; 1000]);
            f.fragment_id = id;
            h.cache(Arc::new(f));
            assert!(h.cached_bytes() <= 2 * 1116 + 10);
        }
        let by_id = |id| ReplayIds {
            fragment_id: id,
            ..Default::default()
        };
        assert!(h.lookup(&by_id(3)).is_none());
        assert!(h.lookup(&by_id(4)).is_some() && h.lookup(&by_id(5)).is_some());
        assert_eq!(h.cached_bytes(), 2 * 1116);
        // A fragment larger than the whole bound is not kept and evicts nothing.
        let mut big = Fragment::unsigned(9, 0, 0, 0, vec![0; 4000]);
        big.fragment_id = 6;
        h.cache(Arc::new(big));
        assert!(h.lookup(&by_id(6)).is_none());
        assert!(h.lookup(&by_id(5)).is_some());
    }
}
