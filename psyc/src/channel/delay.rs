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

use std::time::{Duration, Instant};

use gnunet_service::privacy::{Hold, OrderedDelays};

use multicast::msg::Any;

use super::action::{Action, RecordKey, Timer};
use super::Channels;

/// Answers held per record; past this the oldest goes out early (in order), so a flood of
/// requests cannot make a record hold unbounded state.
const MAX_HELD_PER_RECORD: usize = 1024;

/// The held answers, per record in release order, and the delay of the next ones.
#[derive(Debug)]
pub(super) struct HeldAnswers {
    /// The delay for answers the current input causes (drawn by the driver).
    delay: Duration,
    queues: OrderedDelays<RecordKey, Any>,
}

impl Default for HeldAnswers {
    fn default() -> Self {
        HeldAnswers {
            delay: Duration::ZERO,
            queues: OrderedDelays::new(MAX_HELD_PER_RECORD),
        }
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
        match self
            .answers
            .queues
            .hold(record, now, self.answers.delay, msg)
        {
            Hold::Now(msg) => self.out.multicast(record, msg),
            Hold::Held { release, early } => {
                if let Some(msg) = early {
                    self.out.multicast(record, msg);
                }
                self.out.push(Action::SetTimer {
                    at: release,
                    timer: Timer::Answer {
                        record,
                        at: release,
                    },
                });
            }
        }
    }

    /// A held answer of `record` may be due.
    pub(super) fn answer_timer(&mut self, now: Instant, record: RecordKey) {
        let due = self.answers.queues.due(record, now);
        if !self.records.contains_key(&record) {
            return; // the record is gone, and its connection to multicast with it
        }
        for msg in due {
            self.out.multicast(record, msg);
        }
    }
}
