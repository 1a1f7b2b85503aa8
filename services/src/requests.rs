//! [`PendingRequests`]: the requests a client sent over a reconnecting link and the service has
//! not answered yet, by the u32 request id the service echoes (NAMESTORE's `r_id`, GNS's
//! `id`).
//!
//! A link (see [`crate::server::link`]) forgets what it carried when its connection breaks,
//! and so does the service: a request in flight then has no answer coming. The owner keeps
//! each request's message here until the answer with its id arrives, and writes all of them
//! again, oldest first, on the next connection — what the C client libraries of GNS do
//! (`reconnect` re-sends every pending lookup). Ids are assigned here, counting up and
//! skipping ids still pending, so an answer can never be matched to the wrong request.

use std::collections::{BTreeMap, HashMap};

/// Why a request could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PendingError {
    /// As many requests as allowed await answers already.
    #[error("{0} requests await answers already")]
    Full(usize),
}

/// Requests awaiting answers, in the order they were made.
#[derive(Debug)]
pub struct PendingRequests {
    max: usize,
    next_id: u32,
    next_seq: u64,
    /// Request id and message, by the order of the request.
    by_seq: BTreeMap<u64, (u32, Vec<u8>)>,
    /// Sequence number by request id.
    seq_of: HashMap<u32, u64>,
}

impl PendingRequests {
    /// No request yet; at most `max` may await answers at once (0 counts as 1).
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            next_id: 0,
            next_seq: 0,
            by_seq: BTreeMap::new(),
            seq_of: HashMap::new(),
        }
    }

    /// The id for the next request: the next number not awaiting an answer. It is taken only
    /// by [`PendingRequests::insert`]; asking twice without inserting gives the same id.
    pub fn next_id(&mut self) -> Result<u32, PendingError> {
        if self.seq_of.len() >= self.max {
            return Err(PendingError::Full(self.max));
        }
        // At most `max` ids are taken, so this ends within `max + 1` steps.
        while self.seq_of.contains_key(&self.next_id) {
            self.next_id = self.next_id.wrapping_add(1);
        }
        Ok(self.next_id)
    }

    /// Keeps `message`, the request with id `id` (from [`PendingRequests::next_id`]), until
    /// its answer arrives. An id that is pending already is refused (nothing changes).
    pub fn insert(&mut self, id: u32, message: Vec<u8>) -> Result<(), PendingError> {
        if self.seq_of.len() >= self.max || self.seq_of.contains_key(&id) {
            return Err(PendingError::Full(self.max));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_seq.insert(seq, (id, message));
        self.seq_of.insert(id, seq);
        if id == self.next_id {
            self.next_id = id.wrapping_add(1);
        }
        Ok(())
    }

    /// The answer to `id` arrived (or the request was cancelled): forgets it. False if no
    /// request with that id was pending (a late answer to a cancelled request).
    pub fn complete(&mut self, id: u32) -> bool {
        match self.seq_of.remove(&id) {
            Some(seq) => self.by_seq.remove(&seq).is_some(),
            None => false,
        }
    }

    /// Whether a request with `id` awaits its answer.
    pub fn contains(&self, id: u32) -> bool {
        self.seq_of.contains_key(&id)
    }

    /// The messages of every pending request, oldest first: what to write on a new
    /// connection.
    pub fn messages(&self) -> impl Iterator<Item = &[u8]> {
        self.by_seq.values().map(|(_, m)| m.as_slice())
    }

    /// The ids of the pending requests, oldest first.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.by_seq.values().map(|(id, _)| *id)
    }

    /// How many requests await answers.
    pub fn len(&self) -> usize {
        self.seq_of.len()
    }

    /// Whether none does.
    pub fn is_empty(&self) -> bool {
        self.seq_of.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(p: &mut PendingRequests, tag: u8) -> u32 {
        let id = p.next_id().unwrap();
        p.insert(id, vec![tag]).unwrap();
        id
    }

    #[test]
    fn ids_count_up_and_answers_are_matched_by_id() {
        let mut p = PendingRequests::new(8);
        assert_eq!((add(&mut p, 1), add(&mut p, 2), add(&mut p, 3)), (0, 1, 2));
        assert!(p.complete(1));
        assert!(!p.complete(1), "a second answer matches nothing");
        assert!(!p.complete(77));
        assert_eq!(p.messages().collect::<Vec<_>>(), [&[1u8][..], &[3]]);
        assert_eq!(p.ids().collect::<Vec<_>>(), [0, 2]);
        assert_eq!(add(&mut p, 4), 3);
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn bounded_and_wrapping_ids_skip_pending_ones() {
        let mut p = PendingRequests::new(2);
        p.next_id = u32::MAX;
        assert_eq!(add(&mut p, 1), u32::MAX);
        assert_eq!(add(&mut p, 2), 0);
        assert_eq!(p.next_id(), Err(PendingError::Full(2)));
        assert!(p.insert(5, vec![]).is_err());
        p.complete(0);
        // Next would be 1; the oldest (u32::MAX) stays first for re-sending.
        assert_eq!(add(&mut p, 3), 1);
        assert_eq!(p.messages().collect::<Vec<_>>(), [&[1u8][..], &[3]]);
        // An id still pending is skipped when the counter comes round to it.
        p.complete(1);
        p.next_id = u32::MAX;
        assert_eq!(p.next_id(), Ok(0));
        assert!(p.insert(u32::MAX, vec![]).is_err(), "id in use");
    }
}
