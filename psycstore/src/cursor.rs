//! Walking a read request's results in bounded chunks.
//!
//! A cursor remembers where the last chunk ended (the key of its last row) and asks the store
//! for the next page on demand, so the service can stop between chunks when a client's queue
//! is full and answer a range of any size with bounded memory. Bounds that depend on the data
//! ("the latest N") are resolved once, on the first chunk, so later writes cannot make the
//! answer grow. Rows written between two chunks inside the scanned range may or may not be
//! included, as with any long-running read.

use crate::keys::ChannelKey;
use crate::store::{Position, Scan, StateVar, Store, StoreError, StoredFragment};

/// What a fragment cursor walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragmentQuery {
    /// Fragments `first ≤ fragment_id ≤ last` (FRAGMENT_GET, range mode).
    FragmentRange {
        /// First id.
        first: u64,
        /// Last id, inclusive.
        last: u64,
    },
    /// The `n` newest fragments, ascending (FRAGMENT_GET with a limit).
    LatestFragments {
        /// How many.
        n: u64,
    },
    /// Fragments of messages `first ≤ message_id ≤ last`, at most `fragment_limit` of them
    /// (0 = all), in (message id, offset) order (MESSAGE_GET, range mode).
    MessageRange {
        /// First message id.
        first: u64,
        /// Last message id, inclusive.
        last: u64,
        /// Fragment cap, 0 = none.
        fragment_limit: u64,
    },
    /// Every fragment of the `n` newest messages, ascending fragment id (MESSAGE_GET with a
    /// limit).
    LatestMessages {
        /// How many messages.
        n: u64,
    },
}

#[derive(Clone, Copy, Debug)]
enum Resolution {
    Pending,
    Resolved(Scan),
    Exhausted,
}

/// A resumable walk over the fragments a query selects.
#[derive(Clone, Debug)]
pub struct FragmentCursor {
    channel: ChannelKey,
    query: FragmentQuery,
    scan: Resolution,
    after: Option<Position>,
    /// Fragments still allowed by a fragment limit (`None` = unlimited).
    remaining: Option<u64>,
}

impl FragmentCursor {
    /// A cursor over `query` in `channel`.
    pub fn new(channel: ChannelKey, query: FragmentQuery) -> Self {
        let remaining = match query {
            FragmentQuery::MessageRange { fragment_limit, .. } if fragment_limit > 0 => {
                Some(fragment_limit)
            }
            _ => None,
        };
        Self {
            channel,
            query,
            scan: Resolution::Pending,
            after: None,
            remaining,
        }
    }

    /// Whether the walk is known to be over (a further chunk would be empty).
    pub fn is_done(&self) -> bool {
        matches!(self.scan, Resolution::Exhausted)
    }

    /// The next at most `max` fragments (at least 1 is asked for); empty when done.
    pub fn next_chunk<S: Store + ?Sized>(
        &mut self,
        store: &mut S,
        max: usize,
    ) -> Result<Vec<StoredFragment>, StoreError> {
        let scan = match self.scan {
            Resolution::Exhausted => return Ok(Vec::new()),
            Resolution::Resolved(scan) => scan,
            Resolution::Pending => {
                let resolved = match self.query {
                    FragmentQuery::FragmentRange { first, last } => {
                        Some(Scan::FragmentIds { first, last })
                    }
                    FragmentQuery::MessageRange { first, last, .. } => {
                        Some(Scan::MessageIds { first, last })
                    }
                    FragmentQuery::LatestFragments { n } => {
                        store.latest_fragments_scan(&self.channel, n)?
                    }
                    FragmentQuery::LatestMessages { n } => {
                        store.latest_messages_scan(&self.channel, n)?
                    }
                };
                match resolved {
                    Some(scan) => {
                        self.scan = Resolution::Resolved(scan);
                        scan
                    }
                    None => {
                        self.scan = Resolution::Exhausted;
                        return Ok(Vec::new());
                    }
                }
            }
        };
        let mut want = max.max(1);
        if let Some(remaining) = self.remaining {
            want = want.min(usize::try_from(remaining).unwrap_or(usize::MAX));
        }
        if want == 0 {
            self.scan = Resolution::Exhausted;
            return Ok(Vec::new());
        }
        let page = store.fragment_page(&self.channel, &scan, self.after, want)?;
        match page.last() {
            Some(last) => self.after = Some(last.position_in(&scan)),
            None => self.scan = Resolution::Exhausted,
        }
        if page.len() < want {
            self.scan = Resolution::Exhausted;
        }
        if let Some(remaining) = self.remaining.as_mut() {
            *remaining -= page.len() as u64;
            if *remaining == 0 {
                self.scan = Resolution::Exhausted;
            }
        }
        Ok(page)
    }
}

/// A resumable walk over the state variables whose names start with a prefix.
#[derive(Clone, Debug)]
pub struct StatePrefixCursor {
    channel: ChannelKey,
    prefix: Vec<u8>,
    after: Option<Vec<u8>>,
    done: bool,
}

impl StatePrefixCursor {
    /// A cursor over the variables of `channel` starting with `prefix`.
    pub fn new(channel: ChannelKey, prefix: &[u8]) -> Self {
        Self {
            channel,
            prefix: prefix.to_vec(),
            after: None,
            done: false,
        }
    }

    /// Whether the walk is known to be over (a further chunk would be empty).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next at most `max` variables in name order; empty when done.
    pub fn next_chunk<S: Store + ?Sized>(
        &mut self,
        store: &mut S,
        max: usize,
    ) -> Result<Vec<StateVar>, StoreError> {
        if self.done {
            return Ok(Vec::new());
        }
        let want = max.max(1);
        let page =
            store.state_prefix_page(&self.channel, &self.prefix, self.after.as_deref(), want)?;
        match page.last() {
            Some(last) => self.after = Some(last.name.clone()),
            None => self.done = true,
        }
        if page.len() < want {
            self.done = true;
        }
        Ok(page)
    }
}
