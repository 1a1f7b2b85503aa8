//! [`StoreSession`]: the client side of NAMESTORE record stores over one reconnecting
//! connection, without I/O.
//!
//! The owner (social's mio handler on a [link](crate::server::link), or
//! [`NamestoreClient`](super::NamestoreClient)) calls [`StoreSession::store`] and writes the
//! message it returns if the connection is up; on every new connection it writes
//! [`StoreSession::resend`]'s messages (every store not answered yet, oldest first); it hands
//! each message from the service to [`StoreSession::handle_message`], which says which store
//! it answers and how that went.
//!
//! The C library (`namestore_api.c`) fails the stores in flight with
//! `GNUNET_EC_NAMESTORE_UNKNOWN` when its connection breaks. Sending them again instead is
//! safe: a store replaces the label's whole record set, so doing it twice leaves the same set.

use super::label::{check_label, LabelError};
use super::msg::{RecordSet, RecordSetError, RecordStore, RecordStoreResponse};
use crate::crypto::identity_key::PrivateKey;
use crate::error_code::ErrorCode;
use crate::gnsrecord::Record;
use crate::requests::{PendingError, PendingRequests};
use crate::wire::{DispatchError, Message, TooLarge};

/// Identifies one store of a [`StoreSession`] (the request id on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreId(pub u32);

/// Why a store was not started; nothing was queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The label breaks a rule 0.19 enforces (see [`check_label`]).
    #[error("invalid label: {0}")]
    Label(#[from] LabelError),
    /// The records do not fit the wire format.
    #[error(transparent)]
    RecordSet(#[from] RecordSetError),
    /// The message would exceed a GNUnet message.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    /// Too many stores await answers.
    #[error(transparent)]
    Pending(#[from] PendingError),
}

/// The service's answer to one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOutcome {
    /// The store it answers.
    pub id: StoreId,
    /// `Ok` if the records are stored, else NAMESTORE's error code (its `Display` is the
    /// reason as GNUnet words it).
    pub result: Result<(), ErrorCode>,
}

/// A store request: its id and the message to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRequest {
    /// Its id; the [`StoreOutcome`] carries the same.
    pub id: StoreId,
    /// The complete RECORD_STORE message.
    pub message: Vec<u8>,
}

/// Record stores awaiting NAMESTORE's answers on one connection (see the module docs).
#[derive(Debug)]
pub struct StoreSession {
    pending: PendingRequests,
}

impl Default for StoreSession {
    /// At most 1024 stores awaiting answers.
    fn default() -> Self {
        Self::new(1024)
    }
}

impl StoreSession {
    /// A session in which at most `max_pending` stores await answers at once.
    pub fn new(max_pending: usize) -> Self {
        Self {
            pending: PendingRequests::new(max_pending),
        }
    }

    /// Replaces the records under `label` in the zone of `zone` by `records` (none: deletes
    /// them). The label is checked first; write the returned message if the connection is up
    /// (if it is not, [`StoreSession::resend`] has it for the next one).
    pub fn store(
        &mut self,
        zone: &PrivateKey,
        label: &str,
        records: Vec<Record>,
    ) -> Result<StoreRequest, StoreError> {
        check_label(label)?;
        let set = RecordSet::new(label, records)?;
        let r_id = self.pending.next_id()?;
        let message = RecordStore {
            r_id,
            zone: zone.clone(),
            sets: vec![set],
        }
        .try_to_message()?;
        self.pending.insert(r_id, message.clone())?;
        Ok(StoreRequest {
            id: StoreId(r_id),
            message,
        })
    }

    /// The messages to write on a new connection: every store not answered yet, oldest first.
    pub fn resend(&self) -> impl Iterator<Item = &[u8]> {
        self.pending.messages()
    }

    /// Takes one message from NAMESTORE: the outcome of the store it answers, or `None` for
    /// an answer to no pending store (cancelled, or answered already; C ignores those too).
    /// Anything but a well-formed RECORD_STORE_RESPONSE is an error (the owner may drop the
    /// connection).
    pub fn handle_message(&mut self, msg: &[u8]) -> Result<Option<StoreOutcome>, DispatchError> {
        let msg_type = DispatchError::header_type(msg)?;
        if msg_type != RecordStoreResponse::TYPE {
            return Err(DispatchError::unknown(msg_type, msg));
        }
        let answer: RecordStoreResponse = DispatchError::decode_as(msg)?;
        if !self.pending.complete(answer.r_id) {
            return Ok(None);
        }
        Ok(Some(StoreOutcome {
            id: StoreId(answer.r_id),
            result: if answer.ec.is_success() {
                Ok(())
            } else {
                Err(answer.ec)
            },
        }))
    }

    /// Stops waiting for `id`'s answer (the store may still happen); false if it was not
    /// pending.
    pub fn cancel(&mut self, id: StoreId) -> bool {
        self.pending.complete(id.0)
    }

    /// How many stores await answers.
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

    fn zone() -> PrivateKey {
        PrivateKey::Ecdsa(ecdsa::PrivateKey([3; 32]))
    }

    fn rec() -> Record {
        Record::relative(
            TYPE_PLACE,
            vec![1; 68],
            Duration::from_secs(60),
            Flags::NONE,
        )
    }

    fn answer(r_id: u32, ec: ErrorCode) -> Vec<u8> {
        RecordStoreResponse { r_id, ec }.to_message()
    }

    #[test]
    fn answers_are_matched_to_their_stores() {
        let mut s = StoreSession::default();
        let a = s.store(&zone(), "a", vec![rec()]).unwrap();
        let b = s.store(&zone(), "b", vec![]).unwrap();
        assert_ne!(a.id, b.id);
        let sent = RecordStore::from_message(&a.message).unwrap();
        assert_eq!((sent.r_id, sent.sets[0].label()), (a.id.0, "a"));
        assert_eq!(
            s.handle_message(&answer(b.id.0, ErrorCode::NAMESTORE_RECORD_NOT_FOUND)),
            Ok(Some(StoreOutcome {
                id: b.id,
                result: Err(ErrorCode::NAMESTORE_RECORD_NOT_FOUND)
            }))
        );
        assert_eq!(
            s.handle_message(&answer(a.id.0, ErrorCode::NONE)),
            Ok(Some(StoreOutcome {
                id: a.id,
                result: Ok(())
            }))
        );
        // A second answer, or one to nothing we asked, is ignored.
        assert_eq!(s.handle_message(&answer(a.id.0, ErrorCode::NONE)), Ok(None));
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn unanswered_stores_are_sent_again_oldest_first() {
        let mut s = StoreSession::default();
        let a = s.store(&zone(), "a", vec![rec()]).unwrap();
        let b = s.store(&zone(), "b", vec![rec()]).unwrap();
        let c = s.store(&zone(), "c", vec![rec()]).unwrap();
        s.handle_message(&answer(b.id.0, ErrorCode::NONE)).unwrap();
        assert!(s.cancel(c.id));
        assert!(!s.cancel(c.id));
        let again: Vec<&[u8]> = s.resend().collect();
        assert_eq!(again, [a.message.as_slice()]);
        // The late answer to the cancelled store matches nothing.
        assert_eq!(s.handle_message(&answer(c.id.0, ErrorCode::NONE)), Ok(None));
    }

    #[test]
    fn bad_labels_and_full_sessions_queue_nothing() {
        let mut s = StoreSession::new(1);
        assert!(matches!(
            s.store(&zone(), "home.host", vec![rec()]),
            Err(StoreError::Label(LabelError::Dot(_)))
        ));
        assert!(matches!(
            s.store(&zone(), "", vec![rec()]),
            Err(StoreError::Label(LabelError::Empty))
        ));
        let big = Record::relative(1, vec![0; 60_000], Duration::ZERO, Flags::NONE);
        assert!(s.store(&zone(), "l", vec![big]).is_err());
        assert_eq!(s.pending(), 0);
        s.store(&zone(), "a", vec![]).unwrap();
        assert!(matches!(
            s.store(&zone(), "b", vec![]),
            Err(StoreError::Pending(_))
        ));
        assert_eq!(s.resend().count(), 1);
    }

    #[test]
    fn other_messages_are_errors() {
        let mut s = StoreSession::default();
        assert!(matches!(
            s.handle_message(&[0, 4, 0, 1]),
            Err(DispatchError::UnknownType { msg_type: 1, .. })
        ));
        assert!(matches!(
            s.handle_message(&[0, 8, 1, 180, 0, 0, 0, 1]),
            Err(DispatchError::Malformed { .. })
        ));
        assert!(s.handle_message(&[0]).is_err());
    }
}
