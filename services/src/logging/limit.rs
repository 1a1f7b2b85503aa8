//! Rate limits for log lines, per cause (sans-IO: the caller passes `now`).
//!
//! A local client or a remote peer decides how often a warning about its input is written; one
//! probe wrote 67,451 lines (9.9 MB) before this existed. Each cause (for the log writer: one
//! log statement) may write [`LineLimiter::max_lines`] lines per interval; what is over is
//! counted, and one summary line per cause and interval says how many were left out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What to do with one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Write it; first write a summary for the `suppressed` lines of this cause's previous
    /// interval, if any.
    Write {
        /// Lines of this cause left out in its previous interval and not yet summarised.
        suppressed: u64,
    },
    /// Leave it out (counted for the summary).
    Suppress,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    written: u32,
    suppressed: u64,
}

/// Lines written and left out per cause in the current interval. Causes are the caller's
/// (e.g. log statements, of which there is a fixed number), so the map stays bounded.
#[derive(Debug)]
pub struct LineLimiter<K> {
    max_lines: u32,
    interval: Duration,
    windows: BTreeMap<K, Window>,
}

impl<K: Ord + Clone> LineLimiter<K> {
    /// At most `max_lines` lines per cause in each `interval`.
    pub fn new(max_lines: u32, interval: Duration) -> Self {
        Self {
            max_lines,
            interval,
            windows: BTreeMap::new(),
        }
    }

    /// Lines per cause and interval.
    pub fn max_lines(&self) -> u32 {
        self.max_lines
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Whether a line of `cause` at `now` is written.
    pub fn admit(&mut self, now: Instant, cause: &K) -> Admission {
        let interval = self.interval;
        let w = self.windows.entry(cause.clone()).or_insert(Window {
            start: now,
            written: 0,
            suppressed: 0,
        });
        if now.saturating_duration_since(w.start) >= interval {
            let suppressed = w.suppressed;
            *w = Window {
                start: now,
                written: 1,
                suppressed: 0,
            };
            return Admission::Write { suppressed };
        }
        if w.written < self.max_lines {
            w.written += 1;
            Admission::Write { suppressed: 0 }
        } else {
            w.suppressed += 1;
            Admission::Suppress
        }
    }

    /// Causes whose interval is over with lines left out, and how many: write their summary
    /// now (each is reported once).
    pub fn due_summaries(&mut self, now: Instant) -> Vec<(K, u64)> {
        let interval = self.interval;
        self.take_summaries(|w| now.saturating_duration_since(w.start) >= interval)
    }

    /// Every cause with lines left out, interval over or not (at shutdown).
    pub fn all_summaries(&mut self) -> Vec<(K, u64)> {
        self.take_summaries(|_| true)
    }

    fn take_summaries(&mut self, due: impl Fn(&Window) -> bool) -> Vec<(K, u64)> {
        let mut out = Vec::new();
        for (cause, w) in self.windows.iter_mut() {
            if w.suppressed > 0 && due(w) {
                out.push((cause.clone(), w.suppressed));
                w.suppressed = 0;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn each_cause_gets_its_lines_then_is_counted() {
        let t0 = Instant::now();
        let mut l = LineLimiter::new(3, 10 * SEC);
        let written = |l: &mut LineLimiter<&str>, cause, n| {
            (0..n)
                .filter(|_| l.admit(t0, &cause) != Admission::Suppress)
                .count()
        };
        assert_eq!(written(&mut l, "drop", 1000), 3);
        assert_eq!(
            written(&mut l, "refused", 2),
            2,
            "another cause is not limited"
        );
        assert_eq!(l.due_summaries(t0 + 9 * SEC), [], "interval not over");
        assert_eq!(l.due_summaries(t0 + 10 * SEC), [("drop", 997)]);
        assert_eq!(l.due_summaries(t0 + 11 * SEC), [], "reported once");
    }

    #[test]
    fn the_next_interval_starts_with_the_summary_of_the_last() {
        let t0 = Instant::now();
        let mut l = LineLimiter::new(2, 10 * SEC);
        for _ in 0..5 {
            l.admit(t0, &1u8);
        }
        assert_eq!(
            l.admit(t0 + 10 * SEC, &1u8),
            Admission::Write { suppressed: 3 }
        );
        assert_eq!(
            l.admit(t0 + 11 * SEC, &1u8),
            Admission::Write { suppressed: 0 }
        );
        assert_eq!(l.admit(t0 + 12 * SEC, &1u8), Admission::Suppress);
        assert_eq!(l.all_summaries(), [(1u8, 1)]);
        assert_eq!(l.all_summaries(), []);
    }
}
