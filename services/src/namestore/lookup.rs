//! Reading a label's records from NAMESTORE: RECORD_LOOKUP (437) and
//! RECORD_LOOKUP_RESPONSE (438) as GNUnet 0.19.3 has them (`src/namestore/namestore.h`, checked
//! by hand against `namestore_api.c` and `gnunet-service-namestore.c` `handle_record_lookup`,
//! pinned by byte fixtures below), and [`LabelLookupSession`], the sans-IO client side.
//!
//! Why a client reads NAMESTORE rather than asking GNS: GNS resolves only what ZONEMASTER
//! published (namecache and DHT), and ZONEMASTER leaves out records with
//! [`Flags::PRIVATE`](crate::gnsrecord::Flags::PRIVATE). The owner of a zone reads its private
//! records (a contact kept on this node) here, with the zone's private key.
//!
//! RECORD_LOOKUP, 16 bytes + zone key + label:
//!
//! | offset | field | size | order |
//! |---|---|---|---|
//! | 0 | header | 4 | BE |
//! | 4 | r_id | 4 | BE |
//! | 8 | label_len (NUL included) | 2 | BE |
//! | 10 | is_edit_request (0: a plain read) | 2 | BE |
//! | 12 | filter ([`FILTER_NONE`]: private records too) | 2 | BE |
//! | 14 | key_len (36) | 2 | BE |
//! | 16 | zone: typed private key | key_len | |
//! | … | label, NUL-terminated | label_len | |
//!
//! RECORD_LOOKUP_RESPONSE, 20 bytes + zone key + label + records: header, r_id, name_len,
//! rd_len, rd_count (u16 BE each), found (i16 BE: 1 yes, 0 no, −1 database error), reserved
//! (u16), key_len (u16 BE), the zone key as sent, the label as NAMESTORE normalized it
//! (NUL-terminated, name_len bytes), the serialized records (rd_len bytes, rd_count records).
//! A label that exists with no records left after the filter is "found" with 0 records.

use super::label::{check_label, LabelError};
use super::msg::MAX_NAME_LEN;
use crate::crypto::identity_key::PrivateKey;
use crate::gnsrecord::{self, Record};
use crate::requests::{PendingError, PendingRequests};
use crate::wire::{CString, Codec, DecodeError, DispatchError, Message, Reader, TooLarge};

/// `GNUNET_MESSAGE_TYPE_NAMESTORE_RECORD_LOOKUP`.
pub const TYPE_RECORD_LOOKUP: u16 = 437;
/// `GNUNET_MESSAGE_TYPE_NAMESTORE_RECORD_LOOKUP_RESPONSE`.
pub const TYPE_RECORD_LOOKUP_RESPONSE: u16 = 438;
/// `GNUNET_GNSRECORD_FILTER_NONE`: every record, private ones included.
pub const FILTER_NONE: u16 = 0;

/// RECORD_LOOKUP (437): the records under `label` in the zone of a private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLookup {
    /// Request id, echoed in the response.
    pub r_id: u32,
    /// The zone: its owner's private key.
    pub zone: PrivateKey,
    /// The label.
    pub label: String,
    /// `GNUNET_GNSRECORD_Filter` bits ([`FILTER_NONE`]).
    pub filter: u16,
}

impl Codec for RecordLookup {
    fn encode(&self, out: &mut Vec<u8>) {
        self.r_id.encode(out);
        // `LabelLookupSession::lookup` bounds the label below MAX_NAME_LEN.
        ((self.label.len() + 1) as u16).encode(out);
        0u16.encode(out);
        self.filter.encode(out);
        (self.zone.encoded_len() as u16).encode(out);
        self.zone.encode(out);
        CString::put(out, &self.label);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let r_id = u32::read(r)?;
        let label_len = u16::read(r)? as usize;
        let _edit = u16::read(r)?;
        let filter = u16::read(r)?;
        let key_len = u16::read(r)? as usize;
        let mut key = Reader::new(r.take(key_len, "zone key")?);
        let zone = PrivateKey::read(&mut key)?;
        key.expect_end()?;
        let label = CString::read_sized(r, label_len, "label")?;
        Ok(Self {
            r_id,
            zone,
            label,
            filter,
        })
    }
    fn encoded_len(&self) -> usize {
        12 + self.zone.encoded_len() + self.label.len() + 1
    }
}

impl Message for RecordLookup {
    const TYPE: u16 = TYPE_RECORD_LOOKUP;
}

/// RECORD_LOOKUP_RESPONSE (438): what the label holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLookupResponse {
    /// The request's id.
    pub r_id: u32,
    /// 1 found, 0 not found, −1 the database failed.
    pub found: i16,
    /// The zone key as sent.
    pub zone: PrivateKey,
    /// The label as NAMESTORE normalized it.
    pub label: String,
    /// The records (none if not found).
    pub records: Vec<Record>,
}

impl Codec for RecordLookupResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        // Only tests encode responses; records that do not serialize become none.
        let serialized = gnsrecord::serialize(&self.records).unwrap_or_default();
        let count = if serialized.is_empty() {
            0
        } else {
            self.records.len()
        };
        self.r_id.encode(out);
        ((self.label.len() + 1) as u16).encode(out);
        (serialized.len() as u16).encode(out);
        (count as u16).encode(out);
        self.found.encode(out);
        0u16.encode(out);
        (self.zone.encoded_len() as u16).encode(out);
        self.zone.encode(out);
        CString::put(out, &self.label);
        out.extend_from_slice(&serialized);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let r_id = u32::read(r)?;
        let name_len = u16::read(r)? as usize;
        let rd_len = u16::read(r)? as usize;
        let rd_count = u16::read(r)? as usize;
        let found = i16::read(r)?;
        let _reserved = u16::read(r)?;
        let key_len = u16::read(r)? as usize;
        let mut key = Reader::new(r.take(key_len, "zone key")?);
        let zone = PrivateKey::read(&mut key)?;
        key.expect_end()?;
        let label = CString::read_sized(r, name_len, "label")?;
        let records = gnsrecord::deserialize(r.take(rd_len, "records")?, rd_count)?;
        r.expect_end()?;
        Ok(Self {
            r_id,
            found,
            zone,
            label,
            records,
        })
    }
    fn encoded_len(&self) -> usize {
        16 + self.zone.encoded_len()
            + self.label.len()
            + 1
            + gnsrecord::serialized_len(&self.records)
    }
}

impl Message for RecordLookupResponse {
    const TYPE: u16 = TYPE_RECORD_LOOKUP_RESPONSE;
}

/// Identifies one label lookup of a [`LabelLookupSession`] (the request id on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelLookupId(pub u32);

/// Why a label lookup was not started; nothing was queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelLookupError {
    /// The label breaks a rule 0.19 enforces (see [`check_label`]).
    #[error("invalid label: {0}")]
    Label(#[from] LabelError),
    /// The message would exceed a GNUnet message.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    /// Too many lookups await answers.
    #[error(transparent)]
    Pending(#[from] PendingError),
}

/// A label lookup request: its id and the message to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelLookupRequest {
    /// Its id; the [`LabelRecords`] carry the same.
    pub id: LabelLookupId,
    /// The complete RECORD_LOOKUP message.
    pub message: Vec<u8>,
}

/// NAMESTORE's answer to one label lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRecords {
    /// The lookup it answers.
    pub id: LabelLookupId,
    /// The label's records, private ones included; `Ok(empty)` if the label holds none,
    /// `Err(())` if NAMESTORE's database failed.
    pub records: Result<Vec<Record>, ()>,
}

/// Label lookups awaiting NAMESTORE's answers on one connection; used like
/// [`StoreSession`](super::StoreSession): write what [`lookup`](Self::lookup) returns, write
/// [`resend`](Self::resend) on every new connection (a lookup only reads, so asking twice is
/// harmless), hand each RECORD_LOOKUP_RESPONSE to [`handle_message`](Self::handle_message).
#[derive(Debug)]
pub struct LabelLookupSession {
    pending: PendingRequests,
}

impl Default for LabelLookupSession {
    /// At most 1024 lookups awaiting answers.
    fn default() -> Self {
        Self::new(1024)
    }
}

impl LabelLookupSession {
    /// A session in which at most `max_pending` lookups await answers at once.
    pub fn new(max_pending: usize) -> Self {
        Self {
            pending: PendingRequests::new(max_pending),
        }
    }

    /// Asks for every record under `label` in the zone of `zone`, private ones included.
    pub fn lookup(
        &mut self,
        zone: &PrivateKey,
        label: &str,
    ) -> Result<LabelLookupRequest, LabelLookupError> {
        check_label(label)?;
        debug_assert!(label.len() < MAX_NAME_LEN);
        let r_id = self.pending.next_id()?;
        let message = RecordLookup {
            r_id,
            zone: zone.clone(),
            label: label.to_string(),
            filter: FILTER_NONE,
        }
        .try_to_message()?;
        self.pending.insert(r_id, message.clone())?;
        Ok(LabelLookupRequest {
            id: LabelLookupId(r_id),
            message,
        })
    }

    /// The messages to write on a new connection: every lookup not answered yet, oldest first.
    pub fn resend(&self) -> impl Iterator<Item = &[u8]> {
        self.pending.messages()
    }

    /// Takes one RECORD_LOOKUP_RESPONSE: the records of the lookup it answers, or `None` for
    /// an answer to nothing pending. Other messages and malformed ones are errors.
    pub fn handle_message(&mut self, msg: &[u8]) -> Result<Option<LabelRecords>, DispatchError> {
        let msg_type = DispatchError::header_type(msg)?;
        if msg_type != RecordLookupResponse::TYPE {
            return Err(DispatchError::unknown(msg_type, msg));
        }
        let answer: RecordLookupResponse = DispatchError::decode_as(msg)?;
        if !self.pending.complete(answer.r_id) {
            return Ok(None);
        }
        Ok(Some(LabelRecords {
            id: LabelLookupId(answer.r_id),
            records: if answer.found < 0 {
                Err(())
            } else {
                Ok(answer.records)
            },
        }))
    }

    /// Stops waiting for `id`'s answer; false if it was not pending.
    pub fn cancel(&mut self, id: LabelLookupId) -> bool {
        self.pending.complete(id.0)
    }

    /// How many lookups await answers.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ecdsa;
    use crate::gnsrecord::{Flags, TYPE_PKEY};

    fn zone() -> PrivateKey {
        PrivateKey::Ecdsa(ecdsa::PrivateKey([3; 32]))
    }

    fn pkey() -> Record {
        Record {
            expiration_time: 0x10,
            record_type: TYPE_PKEY,
            flags: Flags::PRIVATE,
            data: vec![5; 32],
        }
    }

    #[test]
    fn lookup_layout_matches_namestore_h() {
        let m = RecordLookup {
            r_id: 0x0a0b0c0d,
            zone: zone(),
            label: "nym".into(),
            filter: FILTER_NONE,
        };
        let bytes = m.to_message();
        assert_eq!(bytes.len(), 16 + 36 + 4);
        assert_eq!(
            &bytes[..16],
            &[0, 56, 1, 181, 10, 11, 12, 13, 0, 4, 0, 0, 0, 0, 0, 36]
        );
        assert_eq!(&bytes[16..20], &65536u32.to_be_bytes());
        assert_eq!(&bytes[20..52], &[3; 32]);
        assert_eq!(&bytes[52..], b"nym\0");
        assert_eq!(RecordLookup::from_message(&bytes), Ok(m));
    }

    #[test]
    fn response_layout_matches_namestore_h() {
        let r = RecordLookupResponse {
            r_id: 7,
            found: 1,
            zone: zone(),
            label: "nym".into(),
            records: vec![pkey()],
        };
        let bytes = r.to_message();
        assert_eq!(bytes.len(), 20 + 36 + 4 + 48);
        assert_eq!(
            &bytes[..20],
            &[0, 108, 1, 182, 0, 0, 0, 7, 0, 4, 0, 48, 0, 1, 0, 1, 0, 0, 0, 36]
        );
        assert_eq!(&bytes[56..60], b"nym\0");
        assert_eq!(RecordLookupResponse::from_message(&bytes), Ok(r));
        // Bytes past the records, or fewer than stated: errors.
        let mut long = bytes.clone();
        long.push(0);
        long[1] += 1;
        assert!(RecordLookupResponse::from_message(&long).is_err());
        let mut short = bytes[..bytes.len() - 1].to_vec();
        short[1] -= 1;
        assert!(RecordLookupResponse::from_message(&short).is_err());
    }

    #[test]
    fn answers_are_matched_and_errors_told_apart() {
        let mut s = LabelLookupSession::default();
        let a = s.lookup(&zone(), "alice").unwrap();
        let b = s.lookup(&zone(), "bob").unwrap();
        let answer = |r_id, found, records| {
            RecordLookupResponse {
                r_id,
                found,
                zone: zone(),
                label: "x".into(),
                records,
            }
            .to_message()
        };
        assert_eq!(
            s.handle_message(&answer(b.id.0, -1, vec![])),
            Ok(Some(LabelRecords {
                id: b.id,
                records: Err(())
            }))
        );
        assert_eq!(s.resend().collect::<Vec<_>>(), [a.message.as_slice()]);
        assert_eq!(
            s.handle_message(&answer(a.id.0, 1, vec![pkey()])),
            Ok(Some(LabelRecords {
                id: a.id,
                records: Ok(vec![pkey()])
            }))
        );
        assert_eq!(s.handle_message(&answer(a.id.0, 1, vec![])), Ok(None));
        assert!(s.lookup(&zone(), "a.b").is_err());
        assert!(s.handle_message(&[0, 4, 0, 1]).is_err());
        assert_eq!(s.pending(), 0);
    }
}
