//! Where PSYCstore keeps its data: the [`Store`] trait and its sqlite backend.
//!
//! Writes go through [`Store::apply`], which runs a whole batch in one transaction and commits
//! once (group commit): a write's result is known — and may be acknowledged — only when the
//! transaction holding it committed. Each write runs in its own savepoint, so one failing write
//! does not undo the others of its batch.
//!
//! Reads return bounded pages ([`Store::fragment_page`], [`Store::state_prefix_page`]); the
//! cursors in [`crate::cursor`] walk them so that a huge range never becomes one huge vector.
//!
//! Ids are `u64` on the wire and 63-bit in the database (sqlite integers are signed): writes
//! with a larger id are refused with [`StoreError::OutOfRange`], and read ranges are clamped
//! to the storable ids.

use crate::fragment::Fragment;
use crate::keys::{ChannelKey, SlaveKey};

pub mod assignments;
pub mod schema;
mod sqlite;

pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

/// Largest id the database can hold (sqlite's signed 64-bit integers).
pub const MAX_STORABLE_ID: u64 = i64::MAX as u64;

/// Why a store operation failed. The service answers −1 (`GNUNET_SYSERR`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// sqlite reported an error.
    #[error("sqlite error while {context}: {source}")]
    Sqlite {
        /// What the store was doing.
        context: &'static str,
        /// sqlite's error.
        source: rusqlite::Error,
    },
    /// An id, offset or generation does not fit into the database's 63 bits.
    #[error("{field} = {value} is larger than 2^63-1 and cannot be stored")]
    OutOfRange {
        /// Which value.
        field: &'static str,
        /// The value.
        value: u64,
    },
    /// A staged STATE_SYNC variable with this name exists already.
    #[error("state variable staged twice in one sync")]
    DuplicateSyncName,
    /// A row the C schema allows but PSYCstore cannot answer with (e.g. a fragment too large
    /// for a RESULT_FRAGMENT).
    #[error("stored row unusable: {0}")]
    Corrupt(&'static str),
    /// The database file's directory could not be created.
    #[error("cannot create database directory {path}: {source}")]
    Directory {
        /// The directory.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The batch's transaction did not commit; every write of the batch is lost.
    #[error("commit failed: {0}")]
    Commit(String),
}

/// A fragment as stored: the multicast fragment and the PSYCstore flags filed with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFragment {
    /// The fragment, rebuilt from the columns.
    pub fragment: Fragment,
    /// `psycstore_flags` column.
    pub psycstore_flags: u32,
}

/// One state variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateVar {
    /// Name (no NUL).
    pub name: Vec<u8>,
    /// Value (current or signed, depending on the query).
    pub value: Vec<u8>,
}

/// Counters of the newest stored fragment of a channel (COUNTERS_GET).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MessageCounters {
    /// Highest fragment id.
    pub max_fragment_id: u64,
    /// Message id of that fragment.
    pub max_message_id: u64,
    /// Group generation of that fragment.
    pub max_group_generation: u64,
}

/// One write of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOp {
    /// Record a join (`did_join` = 1) or part of a slave. Result: `true`.
    MembershipStore {
        /// Channel.
        channel: ChannelKey,
        /// Member.
        slave: SlaveKey,
        /// 1 = join, 0 = part; stored verbatim.
        did_join: u8,
        /// Message announcing the change.
        announced_at: u64,
        /// First message id the member may read.
        effective_since: u64,
        /// Last group generation the member may read (stored only).
        group_generation: u64,
    },
    /// Store a fragment; an already stored one (same id, or same message and offset) is
    /// silently kept. Result: `true`.
    FragmentStore {
        /// Channel.
        channel: ChannelKey,
        /// The fragment.
        fragment: Fragment,
        /// Flags filed with it.
        psycstore_flags: u32,
    },
    /// OR `flags` into the flags of the first fragment (offset 0) of a message.
    /// Result: whether such a fragment exists. Not reachable over IPC.
    MessageAddFlags {
        /// Channel.
        channel: ChannelKey,
        /// Message.
        message_id: u64,
        /// Flags to add.
        flags: u32,
    },
    /// Apply the `=` modifiers of stored message `message_id` to the current state, then drop
    /// emptied variables and record `message_id` as the last applied state message.
    /// With `state_delta` > 0 the previous applied message must be `message_id − state_delta`.
    /// Result: `false` if out of order or the message has no fragments (nothing changes).
    StateModify {
        /// Channel.
        channel: ChannelKey,
        /// Stored message.
        message_id: u64,
        /// Distance to the previous stateful message, 0 = unchecked.
        state_delta: u64,
    },
    /// One variable of a state snapshot: `first` clears the staging area, the variable is
    /// staged, `last` replaces the current state by the staged one (current = signed = staged)
    /// and records both message ids. Result: `true`.
    StateSync {
        /// Channel.
        channel: ChannelKey,
        /// Clear the staging area first.
        first: bool,
        /// Install the snapshot after staging.
        last: bool,
        /// Variable name.
        name: Vec<u8>,
        /// Variable value.
        value: Vec<u8>,
        /// Recorded as `max_state_message_id` by `last`.
        max_state_message_id: u64,
        /// Recorded as `state_hash_message_id` by `last`.
        state_hash_message_id: u64,
    },
    /// Delete every state variable of the channel. Result: `true`.
    StateReset {
        /// Channel.
        channel: ChannelKey,
    },
    /// Signed value := current value for every variable of the channel. Result: `true`.
    StateUpdateSigned {
        /// Channel.
        channel: ChannelKey,
    },
}

/// Result of one write: `Ok(true)` = done (1), `Ok(false)` = not applicable (0), `Err` = −1.
pub type WriteResult = Result<bool, StoreError>;

/// Which fragments a page query walks, with its bounds already resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// `first ≤ fragment_id ≤ last`, ascending fragment id.
    FragmentIds {
        /// Lowest id.
        first: u64,
        /// Highest id, inclusive.
        last: u64,
    },
    /// `first ≤ message_id ≤ last`, in (message_id, fragment_offset) order — the order the C
    /// plugin's unique index yields.
    MessageIds {
        /// Lowest message id.
        first: u64,
        /// Highest message id, inclusive.
        last: u64,
    },
    /// Fragments with `message_id ≥ min_message_id` and
    /// `first_fragment_id ≤ fragment_id ≤ last_fragment_id`, ascending fragment id: the
    /// fragments of the latest messages.
    MessagesFrom {
        /// Lowest message id included.
        min_message_id: u64,
        /// Lowest fragment id to look at.
        first_fragment_id: u64,
        /// Highest fragment id to look at.
        last_fragment_id: u64,
    },
}

/// Where a page query resumes: the key of the last row already returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// After this fragment id ([`Scan::FragmentIds`], [`Scan::MessagesFrom`]).
    FragmentId(u64),
    /// After this (message id, fragment offset) ([`Scan::MessageIds`]).
    MessageOffset(u64, u64),
}

impl StoredFragment {
    /// The resume key of this fragment within `scan`.
    pub fn position_in(&self, scan: &Scan) -> Position {
        match scan {
            Scan::MessageIds { .. } => {
                Position::MessageOffset(self.fragment.message_id, self.fragment.fragment_offset)
            }
            _ => Position::FragmentId(self.fragment.fragment_id),
        }
    }
}

/// PSYCstore's storage, the plugin API of the C service (`psycstore.md` §7) reshaped for
/// group commit and bounded reads.
pub trait Store {
    /// Runs `batch` in one transaction, one savepoint per write, and commits once. Returns one
    /// result per write, in order, valid only after this call returned (the commit happened).
    /// If the commit fails every result is an error.
    fn apply(&mut self, batch: &[WriteOp]) -> Vec<WriteResult>;

    /// Whether a join of `slave` with `effective_since ≤ message_id` is recorded (parts and
    /// generations are not considered, as in the C service).
    fn membership_test(
        &mut self,
        channel: &ChannelKey,
        slave: &SlaveKey,
        message_id: u64,
    ) -> Result<bool, StoreError>;

    /// Up to `limit` fragments of `scan` after `after`, in the scan's order.
    fn fragment_page(
        &mut self,
        channel: &ChannelKey,
        scan: &Scan,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Vec<StoredFragment>, StoreError>;

    /// The scan covering the `n` fragments with the highest ids, or `None` if the channel has
    /// no fragments.
    fn latest_fragments_scan(
        &mut self,
        channel: &ChannelKey,
        n: u64,
    ) -> Result<Option<Scan>, StoreError>;

    /// The scan covering every fragment of the `n` highest message ids, or `None` if the
    /// channel has no fragments.
    fn latest_messages_scan(
        &mut self,
        channel: &ChannelKey,
        n: u64,
    ) -> Result<Option<Scan>, StoreError>;

    /// The fragment of `message_id` at exactly `fragment_offset`.
    fn message_fragment(
        &mut self,
        channel: &ChannelKey,
        message_id: u64,
        fragment_offset: u64,
    ) -> Result<Option<StoredFragment>, StoreError>;

    /// Counters of the channel's newest fragment, `None` without fragments.
    fn message_counters(
        &mut self,
        channel: &ChannelKey,
    ) -> Result<Option<MessageCounters>, StoreError>;

    /// The last message whose state changes were applied, `None` if unknown channel or never.
    fn max_state_message_id(&mut self, channel: &ChannelKey) -> Result<Option<u64>, StoreError>;

    /// Current value of exactly `name`.
    fn state_get(
        &mut self,
        channel: &ChannelKey,
        name: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` variables whose name starts with `prefix` (byte-wise) and sorts after
    /// `after`, ascending by name, with current values.
    fn state_prefix_page(
        &mut self,
        channel: &ChannelKey,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<StateVar>, StoreError>;

    /// Up to `limit` variables with a signed value, sorting after `after`, with signed values.
    fn state_signed_page(
        &mut self,
        channel: &ChannelKey,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<StateVar>, StoreError>;

    /// The best match for `name` along its family: `name` itself, else the name cut at its last
    /// `_` (never cutting into the leading `_x` stem), and so on — `_a_b_c`, `_a_b`, `_a`.
    /// Returns the matching name and its value (STATE_GET, `psycstore.md` §5.12).
    fn state_get_best(
        &mut self,
        channel: &ChannelKey,
        name: &[u8],
    ) -> Result<Option<StateVar>, StoreError> {
        let mut candidate = name;
        loop {
            if let Some(value) = self.state_get(channel, candidate)? {
                return Ok(Some(StateVar {
                    name: candidate.to_vec(),
                    value,
                }));
            }
            // C: retry only for names of at least four characters, cutting at a '_' that is
            // at index ≥ 2.
            if name.len() < 4 {
                return Ok(None);
            }
            match candidate.iter().rposition(|&b| b == b'_') {
                Some(cut) if cut >= 2 => candidate = &candidate[..cut],
                _ => return Ok(None),
            }
        }
    }
}
