//! The ack-hold policy for congested channels (sans-IO: takes `now`, returns what to do).
//!
//! An input that fed channels which are congested (more messages waiting for CADET credit
//! than [`super::QueueLimits::congested_at`]) is not acknowledged yet: the client's
//! FRAGMENT_ACK, or the receive-done of the channel message, is held until every channel it
//! fed has room again (or is gone). So an origin slows down to the pace of its tree. A
//! channel that keeps an acknowledgement held for longer than the patience is *overdue*: its
//! peer stopped taking messages, and the driver closes it so it cannot stall the group.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::group::{ChannelId, ClientId};

/// What completes an input once the channels it fed have room again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    /// A FRAGMENT_ACK (or other held message) for a client.
    Client(ClientId, Vec<u8>),
    /// The receive-done of a channel message.
    CadetAck(ChannelId),
}

/// An acknowledgement held back while channels it fed are congested.
#[derive(Debug)]
struct Hold {
    waiting: BTreeSet<ChannelId>,
    release: Release,
    since: Instant,
}

/// Every acknowledgement held for congested channels.
#[derive(Debug)]
pub struct Holds {
    holds: Vec<Hold>,
    patience: Duration,
}

impl Holds {
    /// No holds; a channel holding one for `patience` is overdue.
    pub fn new(patience: Duration) -> Self {
        Self {
            holds: Vec::new(),
            patience,
        }
    }

    /// Completes an input at once when none of the channels it fed is congested; otherwise
    /// holds it until they all have room. Returns what can be released now.
    pub fn hold(
        &mut self,
        now: Instant,
        congested: BTreeSet<ChannelId>,
        release: Release,
    ) -> Option<Release> {
        if congested.is_empty() {
            return Some(release);
        }
        self.holds.push(Hold {
            waiting: congested,
            release,
            since: now,
        });
        None
    }

    /// `ch` has room again (or is gone): the holds that waited only for it are released.
    pub fn channel_ready(&mut self, ch: ChannelId) -> Vec<Release> {
        if self.holds.is_empty() {
            return Vec::new();
        }
        let (ready, waiting): (Vec<Hold>, Vec<Hold>) = std::mem::take(&mut self.holds)
            .into_iter()
            .map(|mut h| {
                h.waiting.remove(&ch);
                h
            })
            .partition(|h| h.waiting.is_empty());
        self.holds = waiting;
        ready.into_iter().map(|h| h.release).collect()
    }

    /// Every hold, released (all channels are gone with the CADET connection).
    pub fn release_all(&mut self) -> Vec<Release> {
        std::mem::take(&mut self.holds)
            .into_iter()
            .map(|h| h.release)
            .collect()
    }

    /// Drops the held messages of a client that left.
    pub fn forget_client(&mut self, client: ClientId) {
        self.holds
            .retain(|h| !matches!(h.release, Release::Client(c, _) if c == client));
    }

    /// Channels that have kept an acknowledgement held for the patience or longer.
    pub fn overdue(&self, now: Instant) -> BTreeSet<ChannelId> {
        self.holds
            .iter()
            .filter(|h| now.saturating_duration_since(h.since) >= self.patience)
            .flat_map(|h| h.waiting.iter().copied())
            .collect()
    }

    /// When the oldest hold becomes overdue (`None` without holds): when to call
    /// [`Holds::overdue`] next.
    pub fn deadline(&self) -> Option<Instant> {
        self.holds.iter().map(|h| h.since + self.patience).min()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.holds.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATIENCE: Duration = Duration::from_secs(10);

    fn set(ids: &[u64]) -> BTreeSet<ChannelId> {
        ids.iter().map(|i| ChannelId(*i)).collect()
    }

    #[test]
    fn an_input_that_fed_no_congested_channel_completes_at_once() {
        let mut h = Holds::new(PATIENCE);
        let ack = Release::CadetAck(ChannelId(1));
        assert_eq!(h.hold(Instant::now(), set(&[]), ack.clone()), Some(ack));
        assert!(h.is_empty());
        assert_eq!(h.deadline(), None);
    }

    #[test]
    fn a_hold_is_released_once_every_channel_it_fed_has_room() {
        let mut h = Holds::new(PATIENCE);
        let now = Instant::now();
        let ack = Release::Client(ClientId(5), vec![1, 2]);
        assert_eq!(h.hold(now, set(&[1, 2]), ack.clone()), None);
        assert_eq!(
            h.hold(now, set(&[2]), Release::CadetAck(ChannelId(9))),
            None
        );
        assert_eq!(h.channel_ready(ChannelId(1)), []);
        assert_eq!(
            h.channel_ready(ChannelId(2)),
            [ack, Release::CadetAck(ChannelId(9))]
        );
        assert!(h.is_empty());
    }

    #[test]
    fn channels_holding_past_the_patience_are_overdue() {
        let mut h = Holds::new(PATIENCE);
        let t0 = Instant::now();
        h.hold(t0, set(&[1, 2]), Release::CadetAck(ChannelId(7)));
        let t1 = t0 + Duration::from_secs(4);
        h.hold(t1, set(&[3]), Release::CadetAck(ChannelId(8)));
        assert_eq!(h.deadline(), Some(t0 + PATIENCE));
        assert!(h
            .overdue(t0 + PATIENCE - Duration::from_millis(1))
            .is_empty());
        assert_eq!(h.overdue(t0 + PATIENCE), set(&[1, 2]));
        assert_eq!(h.overdue(t1 + PATIENCE), set(&[1, 2, 3]));
        // Closing the overdue channels releases what they held.
        assert_eq!(h.channel_ready(ChannelId(1)), []);
        assert_eq!(
            h.channel_ready(ChannelId(2)),
            [Release::CadetAck(ChannelId(7))]
        );
        assert_eq!(h.deadline(), Some(t1 + PATIENCE));
    }

    #[test]
    fn a_client_that_left_loses_its_held_acks_and_release_all_empties() {
        let mut h = Holds::new(PATIENCE);
        let now = Instant::now();
        h.hold(now, set(&[1]), Release::Client(ClientId(1), vec![]));
        h.hold(now, set(&[1]), Release::Client(ClientId(2), vec![]));
        h.hold(now, set(&[1]), Release::CadetAck(ChannelId(3)));
        h.forget_client(ClientId(1));
        assert_eq!(
            h.release_all(),
            [
                Release::Client(ClientId(2), vec![]),
                Release::CadetAck(ChannelId(3))
            ]
        );
        assert!(h.is_empty());
    }
}
