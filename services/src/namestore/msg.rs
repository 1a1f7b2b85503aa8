//! NAMESTORE's RECORD_STORE (435) and RECORD_STORE_RESPONSE (436) as GNUnet 0.19.3 has them
//! (`src/namestore/namestore.h`, a private header: the layouts below were checked by hand
//! against it and `namestore_api.c`, and are pinned by byte fixtures in the tests).
//!
//! RECORD_STORE, 12 bytes + zone key + record sets:
//!
//! | offset | field | size | order |
//! |---|---|---|---|
//! | 0 | header | 4 | BE |
//! | 4 | r_id | 4 | BE |
//! | 8 | rd_set_count | 2 | BE |
//! | 10 | key_len (36) | 2 | BE |
//! | 12 | zone: typed private key | key_len | |
//! | … | per set: name_len, rd_len, rd_count, reserved (u16 BE each), label incl. NUL, records | 8 + name_len + rd_len | |
//!
//! RECORD_STORE_RESPONSE, 12 bytes: header, r_id (u32 BE), `GNUNET_ErrorCode` (u32 BE).

use crate::crypto::identity_key::PrivateKey;
use crate::error_code::ErrorCode;
use crate::gnsrecord::{self, Record, RecordError};
use crate::wire::{CString, Codec, DecodeError, Reader};
use crate::wire_layout;

/// `GNUNET_MESSAGE_TYPE_NAMESTORE_RECORD_STORE`.
pub const TYPE_RECORD_STORE: u16 = 435;
/// `GNUNET_MESSAGE_TYPE_NAMESTORE_RECORD_STORE_RESPONSE`.
pub const TYPE_RECORD_STORE_RESPONSE: u16 = 436;

/// `MAX_NAME_LEN`: most bytes of a label, its NUL included (the C client refuses longer).
pub const MAX_NAME_LEN: usize = 256;
/// Bytes of a record set's fixed part (`struct RecordSet`).
pub const RECORD_SET_HEADER_SIZE: usize = 8;
/// Bytes of RECORD_STORE before the zone key (`struct RecordStoreMessage`).
pub const RECORD_STORE_HEADER_SIZE: usize = 12;

/// Why a record set cannot be put into a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordSetError {
    /// The label has a NUL byte, which would end it early in C.
    #[error("label contains a NUL byte")]
    LabelNul,
    /// The label is longer than [`MAX_NAME_LEN`] − 1 bytes.
    #[error("label of {0} bytes is longer than the {max} NAMESTORE takes", max = MAX_NAME_LEN - 1)]
    LabelTooLong(usize),
    /// More records than the 16-bit count holds.
    #[error("{0} records do not fit one record set")]
    TooManyRecords(usize),
    /// The records do not serialize into one message.
    #[error(transparent)]
    Records(#[from] RecordError),
}

/// The records to store under one label (`struct RecordSet` and what follows it). Built with
/// [`RecordSet::new`], which checks everything the wire format limits, so encoding cannot
/// fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSet {
    label: String,
    records: Vec<Record>,
    /// The serialized records, padding included.
    serialized: Vec<u8>,
}

impl RecordSet {
    /// The set `records` under `label`; a store replaces whatever the label held (none: the
    /// label's records are deleted).
    pub fn new(label: &str, records: Vec<Record>) -> Result<Self, RecordSetError> {
        if label.contains('\0') {
            return Err(RecordSetError::LabelNul);
        }
        if label.len() >= MAX_NAME_LEN {
            return Err(RecordSetError::LabelTooLong(label.len()));
        }
        if records.len() > u16::MAX as usize {
            return Err(RecordSetError::TooManyRecords(records.len()));
        }
        let serialized = gnsrecord::serialize(&records)?;
        if serialized.len() > u16::MAX as usize {
            return Err(RecordError::SetTooLarge {
                size: serialized.len(),
            }
            .into());
        }
        Ok(Self {
            label: label.to_string(),
            records,
            serialized,
        })
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The records.
    pub fn records(&self) -> &[Record] {
        &self.records
    }
}

impl Codec for RecordSet {
    fn encode(&self, out: &mut Vec<u8>) {
        // `new` bounded all three to u16.
        ((self.label.len() + 1) as u16).encode(out);
        (self.serialized.len() as u16).encode(out);
        (self.records.len() as u16).encode(out);
        0u16.encode(out);
        CString::put(out, &self.label);
        out.extend_from_slice(&self.serialized);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name_len = u16::read(r)? as usize;
        let rd_len = u16::read(r)? as usize;
        let rd_count = u16::read(r)? as usize;
        let _reserved = u16::read(r)?;
        let label = CString::read_sized(r, name_len, "label")?;
        let records = gnsrecord::deserialize(r.take(rd_len, "records")?, rd_count)?;
        RecordSet::new(&label, records).map_err(|_| DecodeError::Invalid {
            field: "record set",
            reason: "does not fit the wire limits",
        })
    }
    fn encoded_len(&self) -> usize {
        RECORD_SET_HEADER_SIZE + self.label.len() + 1 + self.serialized.len()
    }
}

/// RECORD_STORE (435): replace the record sets of some labels in the zone of a private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordStore {
    /// Request id, echoed in the response.
    pub r_id: u32,
    /// The zone: an ego's private key (ECDSA or EdDSA).
    pub zone: PrivateKey,
    /// The sets, at most `u16::MAX` (the service stops at the first it refuses).
    pub sets: Vec<RecordSet>,
}

impl Codec for RecordStore {
    fn encode(&self, out: &mut Vec<u8>) {
        self.r_id.encode(out);
        (self.sets.len().min(u16::MAX as usize) as u16).encode(out);
        (self.zone.encoded_len() as u16).encode(out);
        self.zone.encode(out);
        for set in self.sets.iter().take(u16::MAX as usize) {
            set.encode(out);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let r_id = u32::read(r)?;
        let set_count = u16::read(r)? as usize;
        let key_len = u16::read(r)? as usize;
        let mut key = Reader::new(r.take(key_len, "zone key")?);
        let zone = PrivateKey::read(&mut key)?;
        key.expect_end()?;
        if set_count > r.left() / RECORD_SET_HEADER_SIZE {
            return Err(DecodeError::Invalid {
                field: "rd_set_count",
                reason: "more sets than the message can hold",
            });
        }
        let sets = (0..set_count)
            .map(|_| RecordSet::read(r))
            .collect::<Result<_, _>>()?;
        Ok(Self { r_id, zone, sets })
    }
    fn encoded_len(&self) -> usize {
        RECORD_STORE_HEADER_SIZE - 4
            + self.zone.encoded_len()
            + self
                .sets
                .iter()
                .take(u16::MAX as usize)
                .map(RecordSet::encoded_len)
                .sum::<usize>()
    }
}

impl crate::wire::Message for RecordStore {
    const TYPE: u16 = TYPE_RECORD_STORE;
}

/// RECORD_STORE_RESPONSE (436): how the store with `r_id` went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordStoreResponse {
    /// The request's id.
    pub r_id: u32,
    /// [`ErrorCode::NONE`] on success.
    pub ec: ErrorCode,
}

wire_layout! {
    impl Message(TYPE_RECORD_STORE_RESPONSE) for RecordStoreResponse { r_id, ec }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::crypto::{ecdsa, eddsa};
    use crate::gnsrecord::{Flags, TYPE_PKEY, TYPE_PLACE};
    use crate::wire::Message;

    fn pkey_set() -> RecordSet {
        let r = Record {
            expiration_time: 0x10,
            record_type: TYPE_PKEY,
            flags: Flags::PRIVATE,
            data: vec![5; 32],
        };
        RecordSet::new("nym", vec![r]).unwrap()
    }

    #[test]
    fn record_store_layout_matches_namestore_h() {
        let m = RecordStore {
            r_id: 0x0a0b0c0d,
            zone: PrivateKey::Ecdsa(ecdsa::PrivateKey([3; 32])),
            sets: vec![pkey_set()],
        };
        let bytes = m.to_message();
        // 12 + 36 key + 8 set header + 4 label + 48 record (a PKEY first: no padding).
        assert_eq!(bytes.len(), 12 + 36 + 8 + 4 + 48);
        assert_eq!(&bytes[..12], &[0, 108, 1, 179, 10, 11, 12, 13, 0, 1, 0, 36]);
        assert_eq!(&bytes[12..16], &65536u32.to_be_bytes());
        assert_eq!(&bytes[16..48], &[3; 32]);
        // RecordSet: name_len 4, rd_len 48, rd_count 1, reserved 0, "nym\0".
        assert_eq!(
            &bytes[48..60],
            &[0, 4, 0, 48, 0, 1, 0, 0, b'n', b'y', b'm', 0]
        );
        // The record: expiration, data size, flags, type, data.
        assert_eq!(
            &bytes[60..76],
            &[0, 0, 0, 0, 0, 0, 0, 0x10, 0, 32, 0x80, 0, 0, 1, 0, 0]
        );
        assert_eq!(&bytes[76..], &[5; 32]);
        assert_eq!(RecordStore::from_message(&bytes), Ok(m));
    }

    #[test]
    fn response_layout_and_round_trip() {
        let r = RecordStoreResponse {
            r_id: 7,
            ec: ErrorCode::NAMESTORE_LABEL_INVALID,
        };
        let bytes = r.to_message();
        assert_eq!(bytes, [0, 12, 1, 180, 0, 0, 0, 7, 0, 0, 0x13, 0x97]);
        assert_eq!(RecordStoreResponse::from_message(&bytes), Ok(r));
        assert!(RecordStoreResponse::from_message(&bytes[..11]).is_err());
    }

    #[test]
    fn sets_of_several_records_and_labels_round_trip() {
        let place = Record::relative(
            TYPE_PLACE,
            vec![1; 100],
            Duration::from_secs(60),
            Flags::NONE,
        );
        let m = RecordStore {
            r_id: 1,
            zone: PrivateKey::Eddsa(eddsa::PrivateKey([4; 32])),
            sets: vec![
                RecordSet::new("place", vec![place.clone(), place]).unwrap(),
                RecordSet::new("@", vec![]).unwrap(),
                pkey_set(),
            ],
        };
        let bytes = m.to_message();
        assert_eq!(RecordStore::from_message(&bytes), Ok(m.clone()));
        assert_eq!(m.encoded_len() + 4, bytes.len());
    }

    #[test]
    fn limits_are_checked_when_built_and_when_read() {
        assert_eq!(
            RecordSet::new("a\0b", vec![]),
            Err(RecordSetError::LabelNul)
        );
        assert_eq!(
            RecordSet::new(&"x".repeat(256), vec![]),
            Err(RecordSetError::LabelTooLong(256))
        );
        assert!(RecordSet::new(&"x".repeat(255), vec![]).is_ok());
        let big = Record::relative(1, vec![0; 70_000], Duration::ZERO, Flags::NONE);
        assert!(matches!(
            RecordSet::new("l", vec![big]),
            Err(RecordSetError::Records(_))
        ));
        let m = RecordStore {
            r_id: 1,
            zone: PrivateKey::Ecdsa(ecdsa::PrivateKey([3; 32])),
            sets: vec![pkey_set()],
        };
        let good = m.to_message();
        // A set count beyond what the bytes hold, a key length other than the key's,
        // a truncated message: errors, no panic, no large allocation.
        for (at, value) in [(8, 0xff), (11, 35), (11, 37), (49, 0x40), (50, 1)] {
            let mut bad = good.clone();
            bad[at] = value;
            assert!(
                RecordStore::from_message(&bad).is_err(),
                "byte {at} = {value}"
            );
        }
        let mut short = good[..good.len() - 1].to_vec();
        short[1] -= 1;
        assert!(RecordStore::from_message(&short).is_err());
    }
}
