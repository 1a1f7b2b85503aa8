//! Automatic answers of a master held for their privacy delay (issue 13, point 4).
//!
//! Two answers go out without a client deciding: a member's replay request answered from
//! psycstore, and a join decided by the membership test (a member the store knows is
//! admitted, as in C, without asking the master's clients). An observer who sees the request
//! reach the origin and the answer leave it right after links the two, so both wait for the
//! response delay of `[secushare] RESPONSE_DELAY`. The driver draws that delay before each
//! psycstore answer it hands in ([`Channels::set_response_delay`]); the logic holds the
//! answer and asks for a [`Timer::Answer`].
//!
//! The answers of one record keep their order: a replay's fragment and its end, or two
//! decisions, never overtake each other (the release of each is `max(previous, now + delay)`).
//! Records do not wait for each other.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use multicast::msg::Any;

use super::action::{Action, RecordKey, Timer};
use super::Channels;

/// Answers held per record; past this the oldest goes out early (in order), so a flood of
/// requests cannot make a record hold unbounded state.
const MAX_HELD_PER_RECORD: usize = 1024;

/// The held answers, per record in release order, and the delay of the next ones.
#[derive(Debug, Default)]
pub(super) struct HeldAnswers {
    /// The delay for answers the current input causes (drawn by the driver).
    delay: Duration,
    queues: HashMap<RecordKey, VecDeque<(Instant, Any)>>,
}

impl HeldAnswers {
    /// Holds `msg` for `record` from `now`; returns the release time when a timer is needed,
    /// and what must go at once (no delay and nothing before it, or the oldest of a full
    /// queue).
    fn hold(&mut self, now: Instant, record: RecordKey, msg: Any) -> (Option<Instant>, Vec<Any>) {
        let queue = self.queues.entry(record).or_default();
        if self.delay.is_zero() && queue.is_empty() {
            self.queues.remove(&record);
            return (None, vec![msg]);
        }
        let earliest = now.checked_add(self.delay).unwrap_or(now);
        let release = queue
            .back()
            .map_or(earliest, |(last, _)| earliest.max(*last));
        let mut now_out = Vec::new();
        if queue.len() >= MAX_HELD_PER_RECORD {
            now_out.extend(queue.pop_front().map(|(_, m)| m));
        }
        queue.push_back((release, msg));
        (Some(release), now_out)
    }

    /// The answers of `record` due at `now`, in order.
    fn due(&mut self, now: Instant, record: RecordKey) -> Vec<Any> {
        let Some(queue) = self.queues.get_mut(&record) else {
            return Vec::new();
        };
        let mut due = Vec::new();
        while queue.front().is_some_and(|(at, _)| *at <= now) {
            due.extend(queue.pop_front().map(|(_, m)| m));
        }
        if queue.is_empty() {
            self.queues.remove(&record);
        }
        due
    }
}

impl Channels {
    /// The delay of the automatic answers (replays, joins decided by membership) that the
    /// next inputs cause; the driver draws a fresh one from the privacy knobs before each
    /// psycstore answer. Zero (the default): at once.
    pub fn set_response_delay(&mut self, delay: Duration) {
        self.answers.delay = delay;
    }

    /// Sends an automatic answer to multicast for `record` after the response delay.
    pub(super) fn answer_later(&mut self, now: Instant, record: RecordKey, msg: Any) {
        let (release, at_once) = self.answers.hold(now, record, msg);
        for msg in at_once {
            self.out.multicast(record, msg);
        }
        if let Some(at) = release {
            self.out.push(Action::SetTimer {
                at,
                timer: Timer::Answer { record, at },
            });
        }
    }

    /// A held answer of `record` may be due.
    pub(super) fn answer_timer(&mut self, now: Instant, record: RecordKey) {
        let due = self.answers.due(now, record);
        if !self.records.contains_key(&record) {
            return; // the record is gone, and its connection to multicast with it
        }
        for msg in due {
            self.out.multicast(record, msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use multicast::msg::{ReplayIds, ReplayResponseEnd};

    fn end(id: u64) -> Any {
        Any::ReplayResponseEnd(ReplayResponseEnd {
            ids: ReplayIds {
                fragment_id: id,
                ..Default::default()
            },
            error_code: 0,
        })
    }

    #[test]
    fn held_answers_keep_their_order_per_record_and_zero_goes_at_once() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let key = |b| RecordKey::Master(gnunet_service::crypto::eddsa::PublicKey([b; 32]));
        let (a, b) = (key(1), key(2));
        let mut h = HeldAnswers::default();
        assert_eq!(h.hold(t0, a, end(1)), (None, vec![end(1)]));
        h.delay = ms(300);
        assert_eq!(h.hold(t0, a, end(2)).0, Some(t0 + ms(300)));
        h.delay = ms(10);
        // A shorter draw waits behind the longer one of its record, not of another record.
        assert_eq!(h.hold(t0, a, end(3)).0, Some(t0 + ms(300)));
        assert_eq!(h.hold(t0, b, end(4)).0, Some(t0 + ms(10)));
        h.delay = Duration::ZERO;
        assert_eq!(
            h.hold(t0, a, end(5)).0,
            Some(t0 + ms(300)),
            "behind the queue"
        );
        assert_eq!(h.due(t0 + ms(10), b), vec![end(4)]);
        assert!(h.due(t0 + ms(299), a).is_empty());
        assert_eq!(h.due(t0 + ms(300), a), vec![end(2), end(3), end(5)]);
    }
}
