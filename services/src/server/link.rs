//! Client links: the runtime's connections to other services (cadet, statistics, psycstore…),
//! kept up across restarts of those services.
//!
//! A link is opened once with [`super::Ctx::open_link`] and lives until the runtime stops or the
//! handler closes it. When its connection goes (the service restarted, a read failed, the
//! handler dropped it), the runtime reconnects with GNUnet's doubling back-off, capped at
//! [`super::Limits::link_retry_max`], and tells the handler with
//! [`super::Handler::link_down`] / [`super::Handler::link_up`].
//!
//! What a service must hold on every connection (cadet's open ports, a statistics watch) is
//! kept as the link's *registrations*: a keyed set of messages the runtime writes first on
//! every (re)connect, in the order they were first registered, before anything the handler
//! sends from `link_up` on.
//!
//! Sending on a link that is down fails with [`LinkError::Down`] instead of queueing: what was
//! sent on the old connection died with it on the other side (cadet forgets the channels of a
//! client that disconnects, so replaying their data would address channels that no longer
//! exist), and state that must survive belongs in a registration or in the handler, which
//! re-sends it from `link_up` (as the statistics sender does with its pending deltas).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::client::Backoff;

/// Identifies one client link for the lifetime of the runtime (never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub usize);

impl std::fmt::Display for LinkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "link {}", self.0)
    }
}

/// Why a link refused a message or a registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// No such link (never opened, or closed by the handler).
    #[error("{0} is not open")]
    Unknown(LinkId),
    /// The link is reconnecting; nothing is queued for it meanwhile (see the module doc).
    #[error("{0} is down")]
    Down(LinkId),
    /// The connection's queue passed its hard limit: it is being dropped and will reconnect.
    #[error("send queue of {0} is full; reconnecting")]
    QueueFull(LinkId),
    /// No link is open for this key ([`KeyedLinks`](super::KeyedLinks)).
    #[error("no link is open for this key")]
    NoLink,
    /// The link holds [`MAX_REGISTRATIONS`] already.
    #[error("{0} holds too many registrations")]
    TooManyRegistrations(LinkId),
}

/// Most registrations one link holds: each is re-sent on every reconnect, so they are bounded
/// like any queue (far above what a service registers: one cadet port per group).
pub const MAX_REGISTRATIONS: usize = 65_536;

/// A connection that lasted this long counts as a success: the back-off starts over. Shorter
/// ones (a service that accepts and closes at once) keep doubling it.
pub(super) const STABLE_AFTER: Duration = Duration::from_secs(1);

/// The messages a link re-sends first on every (re)connect, by key, in first-registered order.
#[derive(Debug, Default)]
pub struct Registrations {
    /// Message by sequence number of its first registration.
    ordered: BTreeMap<u64, Vec<u8>>,
    /// Sequence number by key.
    by_key: HashMap<Vec<u8>, u64>,
    next_seq: u64,
}

impl Registrations {
    /// Adds `msg` under `key`, or replaces the message of `key` keeping its place. False if the
    /// set is full and `key` is new.
    pub fn insert(&mut self, key: &[u8], msg: Vec<u8>) -> bool {
        if let Some(seq) = self.by_key.get(key) {
            self.ordered.insert(*seq, msg);
            return true;
        }
        if self.by_key.len() >= MAX_REGISTRATIONS {
            return false;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_key.insert(key.to_vec(), seq);
        self.ordered.insert(seq, msg);
        true
    }

    /// Removes the registration of `key`; false if there was none.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        match self.by_key.remove(key) {
            Some(seq) => self.ordered.remove(&seq).is_some(),
            None => false,
        }
    }

    /// Whether `key` is registered.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.by_key.contains_key(key)
    }

    /// The messages, in first-registered order.
    pub fn messages(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.ordered.values()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// One link as the runtime keeps it.
#[derive(Debug)]
pub(super) struct Link {
    /// The service's socket.
    pub path: PathBuf,
    /// The service's name, for logs.
    pub service: String,
    /// The connection's token while the link is up.
    pub conn: Option<usize>,
    /// When the current connection was made.
    pub up_since: Option<Instant>,
    /// When to try connecting again while down.
    pub retry_at: Option<Instant>,
    pub backoff: Backoff,
    pub registrations: Registrations,
    /// A failure to connect was logged as a warning since the link was last up; further
    /// failures go to the debug log.
    pub warned: bool,
}

impl Link {
    pub fn new(path: PathBuf, service: String, retry_max: Duration) -> Self {
        Self {
            path,
            service,
            conn: None,
            up_since: None,
            retry_at: None,
            backoff: Backoff::new(retry_max),
            registrations: Registrations::default(),
            warned: false,
        }
    }

    /// The connection is gone (or could not be made) at `now`: when to try again.
    pub fn schedule_retry(&mut self, now: Instant) -> Instant {
        if let Some(since) = self.up_since.take() {
            if now.saturating_duration_since(since) >= STABLE_AFTER {
                self.backoff.reset();
            }
        }
        self.conn = None;
        let at = now + self.backoff.next_delay();
        self.retry_at = Some(at);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_keep_first_order_and_replace_in_place() {
        let mut r = Registrations::default();
        assert!(r.insert(b"b", vec![2]));
        assert!(r.insert(b"a", vec![1]));
        assert!(r.insert(b"c", vec![3]));
        assert!(r.insert(b"b", vec![22]));
        let got: Vec<&Vec<u8>> = r.messages().collect();
        assert_eq!(got, [&vec![22], &vec![1], &vec![3]]);
        assert!(r.remove(b"a"));
        assert!(!r.remove(b"a"));
        assert!(r.insert(b"a", vec![11]));
        let got: Vec<&Vec<u8>> = r.messages().collect();
        assert_eq!(got, [&vec![22], &vec![3], &vec![11]]);
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn short_connections_keep_doubling_the_back_off() {
        let t0 = Instant::now();
        let mut l = Link::new("/x".into(), "x".into(), Duration::from_millis(100));
        assert_eq!(l.schedule_retry(t0), t0 + Duration::from_millis(1));
        // Up for 10 ms only: no reset.
        l.up_since = Some(t0);
        let t1 = t0 + Duration::from_millis(10);
        assert_eq!(l.schedule_retry(t1), t1 + Duration::from_millis(2));
        assert_eq!(l.schedule_retry(t1), t1 + Duration::from_millis(4));
        for _ in 0..10 {
            l.schedule_retry(t1);
        }
        assert_eq!(
            l.schedule_retry(t1),
            t1 + Duration::from_millis(100),
            "capped"
        );
        // Up long enough: back to the shortest delay.
        l.up_since = Some(t1);
        let t2 = t1 + STABLE_AFTER;
        assert_eq!(l.schedule_retry(t2), t2 + Duration::from_millis(1));
    }
}
