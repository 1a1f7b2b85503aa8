//! Holding automatic responses until their delay is over (issue 13, point 4).
//!
//! [`DelayQueue`] is sans-IO: the caller passes `now` and the drawn delay in, asks
//! [`DelayQueue::next_release`] when to wake up (a timer, or a bounded wait), and takes out
//! what is due with [`DelayQueue::pop_due`]. Each item waits on its own, so a long draw for
//! one response never holds up another (no head-of-line blocking).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
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
}
