//! [`LookupSession`]: the client side of GNS lookups over one reconnecting connection,
//! without I/O.
//!
//! The owner calls [`LookupSession::lookup`] and writes the message it returns if the
//! connection is up; on every new connection it writes [`LookupSession::resend`]'s messages
//! (every lookup not answered yet, oldest first — what `gns_api.c` does on reconnect); it hands
//! each message from the service to [`LookupSession::handle_message`], which says which lookup
//! it answers and with which records.

use super::msg::{
    LocalOptions, Lookup, LookupResult, DEFAULT_RECURSION_DEPTH_LIMIT, MAX_NAME_LENGTH,
};
use crate::crypto::identity_key::PublicKey;
use crate::gnsrecord::Record;
use crate::requests::{PendingError, PendingRequests};
use crate::wire::{DispatchError, Message, TooLarge};

/// Identifies one lookup of a [`LookupSession`] (the request id on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LookupId(pub u32);

/// What to look up: a name relative to a zone, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The zone the name starts in.
    pub zone: PublicKey,
    /// The name: labels separated by dots, resolved right to left starting in `zone`; `@` is
    /// the zone's apex. The service strips no TLD (see [`super::ZoneName`] for that).
    pub name: String,
    /// The record type wanted ([`crate::gnsrecord::TYPE_ANY`] for all).
    pub record_type: u32,
    /// Where the resolver may look.
    pub options: LocalOptions,
    /// How many zones the resolution may pass through.
    pub recursion_depth_limit: u16,
}

impl Query {
    /// `name` in `zone`, type `record_type`, default options and recursion limit (what
    /// `GNUNET_GNS_lookup` sends).
    pub fn new(zone: PublicKey, name: &str, record_type: u32) -> Self {
        Self {
            zone,
            name: name.to_string(),
            record_type,
            options: LocalOptions::Default,
            recursion_depth_limit: DEFAULT_RECURSION_DEPTH_LIMIT,
        }
    }

    /// The same query with `options`.
    pub fn with_options(mut self, options: LocalOptions) -> Self {
        self.options = options;
        self
    }
}

/// Why a lookup was not started; nothing was queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The name is too long for GNS (the service would drop the connection, ending every
    /// other lookup on it).
    #[error("name of {0} bytes is longer than the {max} GNS takes", max = MAX_NAME_LENGTH - 1)]
    NameTooLong(usize),
    /// The name contains a NUL byte.
    #[error("name contains a NUL byte")]
    NameNul,
    /// The message would exceed a GNUnet message.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    /// Too many lookups await answers.
    #[error(transparent)]
    Pending(#[from] PendingError),
}

/// A lookup request: its id and the message to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRequest {
    /// Its id; the [`LookupAnswer`] carries the same.
    pub id: LookupId,
    /// The complete LOOKUP message.
    pub message: Vec<u8>,
}

/// The service's answer to one lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupAnswer {
    /// The lookup it answers.
    pub id: LookupId,
    /// The records found; empty if the name does not exist (or could not be resolved in time).
    pub records: Vec<Record>,
}

/// Lookups awaiting GNS's answers on one connection (see the module docs).
#[derive(Debug)]
pub struct LookupSession {
    pending: PendingRequests,
}

impl Default for LookupSession {
    /// At most 1024 lookups awaiting answers.
    fn default() -> Self {
        Self::new(1024)
    }
}

impl LookupSession {
    /// A session in which at most `max_pending` lookups await answers at once.
    pub fn new(max_pending: usize) -> Self {
        Self {
            pending: PendingRequests::new(max_pending),
        }
    }

    /// Starts `query`. Write the returned message if the connection is up (if it is not,
    /// [`LookupSession::resend`] has it for the next one).
    pub fn lookup(&mut self, query: &Query) -> Result<LookupRequest, LookupError> {
        if query.name.contains('\0') {
            return Err(LookupError::NameNul);
        }
        if query.name.len() + 1 > MAX_NAME_LENGTH {
            return Err(LookupError::NameTooLong(query.name.len()));
        }
        let id = self.pending.next_id()?;
        let message = Lookup {
            id,
            options: query.options,
            recursion_depth_limit: query.recursion_depth_limit,
            record_type: query.record_type,
            zone: query.zone,
            name: query.name.clone(),
        }
        .try_to_message()?;
        self.pending.insert(id, message.clone())?;
        Ok(LookupRequest {
            id: LookupId(id),
            message,
        })
    }

    /// The messages to write on a new connection: every lookup not answered yet, oldest
    /// first.
    pub fn resend(&self) -> impl Iterator<Item = &[u8]> {
        self.pending.messages()
    }

    /// Takes one message from GNS: the answer to the lookup it names, or `None` for an answer
    /// to no pending lookup (cancelled; C ignores those too). Anything but a well-formed
    /// LOOKUP_RESULT is an error (the owner may drop the connection).
    pub fn handle_message(&mut self, msg: &[u8]) -> Result<Option<LookupAnswer>, DispatchError> {
        let msg_type = DispatchError::header_type(msg)?;
        if msg_type != LookupResult::TYPE {
            return Err(DispatchError::unknown(msg_type, msg));
        }
        let result: LookupResult = DispatchError::decode_as(msg)?;
        if !self.pending.complete(result.id()) {
            return Ok(None);
        }
        Ok(Some(LookupAnswer {
            id: LookupId(result.id()),
            records: result.into_records(),
        }))
    }

    /// Stops waiting for `id`'s answer; false if it was not pending. (GNS has no cancel
    /// message: the service finishes the lookup and its answer is ignored.)
    pub fn cancel(&mut self, id: LookupId) -> bool {
        self.pending.complete(id.0)
    }

    /// How many lookups await answers.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::crypto::ecdsa;
    use crate::gnsrecord::{Flags, TYPE_PLACE};

    fn query(name: &str) -> Query {
        Query::new(
            PublicKey::Ecdsa(ecdsa::PublicKey([2; 32])),
            name,
            TYPE_PLACE,
        )
    }

    fn answer(id: LookupId, records: Vec<Record>) -> Vec<u8> {
        LookupResult::new(id.0, records).unwrap().to_message()
    }

    #[test]
    fn answers_are_matched_and_unanswered_lookups_sent_again() {
        let mut s = LookupSession::default();
        let a = s.lookup(&query("a")).unwrap();
        let b = s
            .lookup(&query("b").with_options(LocalOptions::NoDht))
            .unwrap();
        let sent = Lookup::from_message(&b.message).unwrap();
        assert_eq!(
            (
                sent.id,
                sent.name.as_str(),
                sent.options,
                sent.recursion_depth_limit
            ),
            (b.id.0, "b", LocalOptions::NoDht, 128)
        );
        let rec = Record::relative(TYPE_PLACE, vec![1; 68], Duration::from_secs(5), Flags::NONE);
        assert_eq!(
            s.handle_message(&answer(b.id, vec![rec.clone()])),
            Ok(Some(LookupAnswer {
                id: b.id,
                records: vec![rec]
            }))
        );
        assert_eq!(s.resend().collect::<Vec<_>>(), [a.message.as_slice()]);
        assert_eq!(s.handle_message(&answer(b.id, vec![])), Ok(None));
        assert!(s.cancel(a.id));
        assert_eq!(s.handle_message(&answer(a.id, vec![])), Ok(None));
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn names_the_service_would_drop_us_for_are_refused() {
        let mut s = LookupSession::new(1);
        assert_eq!(s.lookup(&query("a\0b")), Err(LookupError::NameNul));
        let longest = "x".repeat(MAX_NAME_LENGTH - 1);
        assert_eq!(
            s.lookup(&query(&format!("{longest}y"))),
            Err(LookupError::NameTooLong(MAX_NAME_LENGTH))
        );
        s.lookup(&query(&longest)).unwrap();
        assert!(matches!(
            s.lookup(&query("c")),
            Err(LookupError::Pending(_))
        ));
        assert!(s.handle_message(&[0, 4, 1, 244]).is_err());
    }
}
