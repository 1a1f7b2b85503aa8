//! Holding automatic responses and forwards until their delay is over (issue 13, point 4).
//!
//! Both queues are sans-IO: the caller passes `now` and the drawn delay in, arms a timer (or
//! a bounded wait) for the release time, and takes out what is due.
//! - [`DelayQueue`]: each item waits on its own, so a long draw for one response never holds
//!   up another (no head-of-line blocking).
//! - [`OrderedDelays`]: items of one key (a channel, a guest) keep their order: an item's
//!   release is `max(the key's previous release, now + delay)`, so delays never reorder what
//!   goes one way; different keys do not wait for each other.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// One held item, ordered by release time, then by arrival.
#[derive(Debug)]
struct Held<T> {
    release: Instant,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Held<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.release, self.seq) == (other.release, other.seq)
    }
}

impl<T> Eq for Held<T> {}

impl<T> PartialOrd for Held<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Held<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.release, self.seq).cmp(&(other.release, other.seq))
    }
}

/// Items held until their release time; those released at the same time come out in the
/// order they went in.
#[derive(Debug)]
pub struct DelayQueue<T> {
    heap: BinaryHeap<Reverse<Held<T>>>,
    next_seq: u64,
}

impl<T> Default for DelayQueue<T> {
    fn default() -> Self {
        DelayQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<T> DelayQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `item` until `now + delay`; returns the release time.
    pub fn push(&mut self, now: Instant, delay: Duration, item: T) -> Instant {
        let release = now.checked_add(delay).unwrap_or(now);
        self.heap.push(Reverse(Held {
            release,
            seq: self.next_seq,
            item,
        }));
        self.next_seq += 1;
        release
    }

    /// When the next item is due, if any is held.
    pub fn next_release(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(h)| h.release)
    }

    /// The next item due at `now`, if any.
    pub fn pop_due(&mut self, now: Instant) -> Option<T> {
        if self.next_release()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse(h)| h.item)
    }

    /// Every item, due or not, in release order (a shutdown that flushes what it holds).
    pub fn drain_all(&mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.heap.len());
        while let Some(Reverse(h)) = self.heap.pop() {
            out.push(h.item);
        }
        out
    }

    /// How many items are held.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// What [`OrderedDelays::hold`] did with an item.
#[derive(Debug, PartialEq, Eq)]
pub enum Hold<T> {
    /// Send it now: no delay, and nothing of its key held before it.
    Now(T),
    /// Held until `release` (arm a timer for it). `early` is the oldest item of the key,
    /// which had to make room in a full queue: send it now (order is kept).
    Held {
        /// When it is due.
        release: Instant,
        /// The item that goes at once instead, if the key's queue was full.
        early: Option<T>,
    },
}

/// Items held per key, each key's items in order, at most `max_per_key` per key.
#[derive(Debug)]
pub struct OrderedDelays<K, T> {
    queues: HashMap<K, VecDeque<(Instant, T)>>,
    max_per_key: usize,
}

impl<K: Eq + Hash + Copy, T> OrderedDelays<K, T> {
    /// Empty; at most `max_per_key` items wait per key (at least 1).
    pub fn new(max_per_key: usize) -> Self {
        OrderedDelays {
            queues: HashMap::new(),
            max_per_key: max_per_key.max(1),
        }
    }

    /// Holds `item` of `key` for `delay` from `now`, behind what the key holds already.
    pub fn hold(&mut self, key: K, now: Instant, delay: Duration, item: T) -> Hold<T> {
        let queue = self.queues.entry(key).or_default();
        if delay.is_zero() && queue.is_empty() {
            self.queues.remove(&key);
            return Hold::Now(item);
        }
        let earliest = now.checked_add(delay).unwrap_or(now);
        let release = queue
            .back()
            .map_or(earliest, |(last, _)| earliest.max(*last));
        let early = if queue.len() >= self.max_per_key {
            queue.pop_front().map(|(_, t)| t)
        } else {
            None
        };
        queue.push_back((release, item));
        Hold::Held { release, early }
    }

    /// The items of `key` due at `now`, in order.
    pub fn due(&mut self, key: K, now: Instant) -> Vec<T> {
        let Some(queue) = self.queues.get_mut(&key) else {
            return Vec::new();
        };
        let mut due = Vec::new();
        while queue.front().is_some_and(|(at, _)| *at <= now) {
            due.extend(queue.pop_front().map(|(_, t)| t));
        }
        if queue.is_empty() {
            self.queues.remove(&key);
        }
        due
    }

    /// The items of every key due at `now`, each key's in order.
    pub fn due_all(&mut self, now: Instant) -> Vec<(K, T)> {
        let keys: Vec<K> = self.queues.keys().copied().collect();
        keys.into_iter()
            .flat_map(|k| self.due(k, now).into_iter().map(move |t| (k, t)))
            .collect()
    }

    /// Whether `key` holds anything.
    pub fn is_holding(&self, key: K) -> bool {
        self.queues.contains_key(&key)
    }

    /// How many items are held, all keys together.
    pub fn len(&self) -> usize {
        self.queues.values().map(VecDeque::len).sum()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Forgets what `key` holds (its channel is gone).
    pub fn forget(&mut self, key: K) {
        self.queues.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_out_when_due_each_on_its_own_clock() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut q = DelayQueue::new();
        q.push(t0, ms(500), "slow");
        q.push(t0, ms(10), "fast");
        q.push(t0, ms(10), "fast too");
        assert_eq!(q.next_release(), Some(t0 + ms(10)));
        assert_eq!(q.pop_due(t0 + ms(9)), None);
        // The long draw does not hold the short ones up; equal times keep their order.
        assert_eq!(q.pop_due(t0 + ms(10)), Some("fast"));
        assert_eq!(q.pop_due(t0 + ms(10)), Some("fast too"));
        assert_eq!(q.pop_due(t0 + ms(10)), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_due(t0 + ms(500)), Some("slow"));
        assert!(q.is_empty() && q.next_release().is_none());
    }

    #[test]
    fn a_zero_delay_is_due_at_once_and_drain_takes_everything() {
        let t0 = Instant::now();
        let mut q = DelayQueue::new();
        q.push(t0, Duration::ZERO, 1);
        q.push(t0, Duration::from_secs(30), 2);
        assert_eq!(q.pop_due(t0), Some(1));
        assert_eq!(q.drain_all(), vec![2]);
    }

    #[test]
    fn ordered_releases_never_go_back_so_a_key_keeps_its_order() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut d = OrderedDelays::new(16);
        let release = |h: Hold<u8>| match h {
            Hold::Held { release, early } => {
                assert!(early.is_none());
                release
            }
            Hold::Now(_) => panic!("held expected"),
        };
        // A long draw, then a short one: the second waits for the first.
        assert_eq!(release(d.hold('a', t0, ms(100), 1)), t0 + ms(100));
        assert_eq!(release(d.hold('a', t0, ms(5), 2)), t0 + ms(100));
        // Even a zero draw queues behind them; another key does not wait.
        assert_eq!(release(d.hold('a', t0, ms(0), 3)), t0 + ms(100));
        assert_eq!(release(d.hold('b', t0, ms(5), 9)), t0 + ms(5));
        assert_eq!(release(d.hold('a', t0, ms(150), 4)), t0 + ms(150));
        assert_eq!(d.len(), 5);
        assert!(d.due('a', t0 + ms(99)).is_empty());
        let mut due = d.due_all(t0 + ms(100));
        due.sort_by_key(|(k, _)| *k);
        assert_eq!(due, vec![('a', 1), ('a', 2), ('a', 3), ('b', 9)]);
        assert_eq!(d.due('a', t0 + ms(200)), vec![4]);
        assert!(d.is_empty() && !d.is_holding('a'));
        // Nothing held and no delay: straight out.
        assert_eq!(d.hold('a', t0, Duration::ZERO, 5), Hold::Now(5));
    }

    #[test]
    fn a_full_key_lets_its_oldest_go_early_and_forgetting_clears_it() {
        let t0 = Instant::now();
        let mut d = OrderedDelays::new(2);
        let s = Duration::from_secs(1);
        d.hold(1, t0, s, 'x');
        d.hold(1, t0, s, 'y');
        match d.hold(1, t0, s, 'z') {
            Hold::Held { early, .. } => assert_eq!(early, Some('x')),
            other => panic!("{other:?}"),
        }
        d.forget(1);
        assert!(!d.is_holding(1));
        assert!(d.due(1, t0 + s).is_empty());
    }
}
