//! Tunables of the group logic.

use std::time::Duration;

/// Knobs of [`Node`](super::Node). The defaults suit a real network; the simulator reads its
/// own from scenario files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Most children a peer (origin or relay) takes before it redirects tree-capable joiners
    /// to its children. C joiners cannot be redirected and are always taken.
    pub max_children: usize,
    /// Most relays listed in one redirect.
    pub max_redirect_relays: usize,
    /// Fragments kept per group to answer replays (the newest ones).
    pub replay_cache: usize,
    /// Bytes those fragments may take per group (fragments of up to 64 KiB would otherwise
    /// let 1,024 of them hold 64 MiB).
    pub replay_cache_bytes: usize,
    /// How far fragment ids may run ahead of the oldest unresolved one before it is given up.
    pub dedup_window: u64,
    /// Most missing fragments asked for at once when a gap shows.
    pub max_gap_request: usize,
    /// Fragments past our newest one asked for at once after re-attaching (to learn what we
    /// missed while detached).
    pub probe_batch: usize,
    /// Replay requests waiting for an answer, per group.
    pub max_pending_replays: usize,
    /// How long a join attempt may go unanswered before the next target is tried.
    pub join_timeout: Duration,
    /// How long a forwarded replay request is remembered.
    pub replay_timeout: Duration,
    /// Upper bound of the random delay before an orphan re-attaches (spreads the load).
    pub reattach_jitter: Duration,
    /// Pause before starting over when every join target failed.
    pub retry_delay: Duration,
    /// Fragment ids per epoch of a deniable group (`[multicast] EPOCH_FRAGMENTS`; whether a
    /// group is deniable is a privacy knob, [`super::Privacy`]): the content of an epoch
    /// becomes deniable when the first fragment of the next is sent.
    pub epoch_fragments: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_children: 16,
            max_redirect_relays: 8,
            replay_cache: 1024,
            replay_cache_bytes: 8 << 20,
            dedup_window: 4096,
            max_gap_request: 32,
            probe_batch: 4,
            max_pending_replays: 1024,
            join_timeout: Duration::from_secs(10),
            replay_timeout: Duration::from_secs(30),
            reattach_jitter: Duration::from_millis(500),
            retry_delay: Duration::from_secs(5),
            epoch_fragments: 16,
        }
    }
}
