//! GNS's LOOKUP (500) and LOOKUP_RESULT (501) as GNUnet 0.19.3 has them (`src/gns/gns.h`, a
//! private header: the layouts below were checked by hand against it and `gns_api.c`, and are
//! pinned by byte fixtures in the tests).
//!
//! LOOKUP, 20 bytes + zone key + name:
//!
//! | offset | field | size | order |
//! |---|---|---|---|
//! | 0 | header | 4 | BE |
//! | 4 | id | 4 | BE |
//! | 8 | options ([`LocalOptions`]) | 2 | BE (i16) |
//! | 10 | recursion_depth_limit | 2 | BE |
//! | 12 | record type | 4 | BE (i32 in C, set from a u32) |
//! | 16 | key_len (36) | 4 | BE |
//! | 20 | zone: typed public key | key_len | |
//! | … | name, NUL-terminated | | |
//!
//! LOOKUP_RESULT, 12 bytes + records: header, id (u32 BE), rd_count (u32 BE; 0 = no such
//! name), the serialized records ([`crate::gnsrecord`], padded).

use crate::crypto::identity_key::PublicKey;
use crate::gnsrecord::{self, Record, RecordError};
use crate::wire::{CString, Codec, DecodeError, Message, Reader};

/// `GNUNET_MESSAGE_TYPE_GNS_LOOKUP`.
pub const TYPE_LOOKUP: u16 = 500;
/// `GNUNET_MESSAGE_TYPE_GNS_LOOKUP_RESULT`.
pub const TYPE_LOOKUP_RESULT: u16 = 501;

/// How many zones a lookup may pass through: `DEFAULT_LIMIT` of `gns_api.c`, what
/// `GNUNET_GNS_lookup` sends.
pub const DEFAULT_RECURSION_DEPTH_LIMIT: u16 = 128;
/// `GNUNET_DNSPARSER_MAX_NAME_LENGTH`: the service drops a client whose name, NUL included, is
/// longer.
pub const MAX_NAME_LENGTH: usize = 253;
/// Bytes of LOOKUP before the zone key (`struct LookupMessage`).
pub const LOOKUP_HEADER_SIZE: usize = 20;
/// Bytes of LOOKUP_RESULT before the records (`struct LookupResultMessage`).
pub const LOOKUP_RESULT_HEADER_SIZE: usize = 12;

/// `enum GNUNET_GNS_LocalOptions`: where the resolver may look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocalOptions {
    /// Local zones, the namecache and the DHT.
    #[default]
    Default,
    /// Never the DHT.
    NoDht,
    /// The DHT only for zones that are not ours.
    LocalMaster,
}

impl LocalOptions {
    /// The number on the wire.
    pub const fn to_i16(self) -> i16 {
        match self {
            LocalOptions::Default => 0,
            LocalOptions::NoDht => 1,
            LocalOptions::LocalMaster => 2,
        }
    }
}

impl Codec for LocalOptions {
    fn encode(&self, out: &mut Vec<u8>) {
        self.to_i16().encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match i16::read(r)? {
            0 => Ok(LocalOptions::Default),
            1 => Ok(LocalOptions::NoDht),
            2 => Ok(LocalOptions::LocalMaster),
            _ => Err(DecodeError::Invalid {
                field: "options",
                reason: "not a GNUNET_GNS_LocalOptions value",
            }),
        }
    }
    fn encoded_len(&self) -> usize {
        2
    }
}

/// LOOKUP (500): resolve `name` starting in `zone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// Request id, echoed in the result.
    pub id: u32,
    /// Where to look.
    pub options: LocalOptions,
    /// How many zones the resolution may pass through.
    pub recursion_depth_limit: u16,
    /// The record type wanted ([`gnsrecord::TYPE_ANY`] for all).
    pub record_type: u32,
    /// The zone the name is relative to.
    pub zone: PublicKey,
    /// The name, labels separated by dots, resolved right to left; `@` for the zone's apex.
    pub name: String,
}

impl Codec for Lookup {
    fn encode(&self, out: &mut Vec<u8>) {
        self.id.encode(out);
        self.options.encode(out);
        self.recursion_depth_limit.encode(out);
        self.record_type.encode(out);
        (self.zone.encoded_len() as u32).encode(out);
        self.zone.encode(out);
        CString::put(out, &self.name);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = u32::read(r)?;
        let options = LocalOptions::read(r)?;
        let recursion_depth_limit = u16::read(r)?;
        let record_type = u32::read(r)?;
        let key_len = u32::read(r)? as usize;
        let mut key = Reader::new(r.take(key_len, "zone key")?);
        let zone = PublicKey::read(&mut key)?;
        key.expect_end()?;
        let name = CString::read_sized(r, r.left(), "name")?;
        Ok(Self {
            id,
            options,
            recursion_depth_limit,
            record_type,
            zone,
            name,
        })
    }
    fn encoded_len(&self) -> usize {
        LOOKUP_HEADER_SIZE - 4 + self.zone.encoded_len() + self.name.len() + 1
    }
}

impl Message for Lookup {
    const TYPE: u16 = TYPE_LOOKUP;
}

/// LOOKUP_RESULT (501): every record the name has of the type asked for; none means the
/// name does not exist (GNS has no "no data" answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupResult {
    id: u32,
    records: Vec<Record>,
    /// The serialized records, padded as the service pads them.
    serialized: Vec<u8>,
}

impl LookupResult {
    /// The answer to lookup `id`; `Err` if the records do not serialize (too large).
    pub fn new(id: u32, records: Vec<Record>) -> Result<Self, RecordError> {
        let serialized = gnsrecord::serialize(&records)?;
        Ok(Self {
            id,
            records,
            serialized,
        })
    }

    /// The id of the lookup it answers.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The records.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The records, taken out.
    pub fn into_records(self) -> Vec<Record> {
        self.records
    }
}

impl Codec for LookupResult {
    fn encode(&self, out: &mut Vec<u8>) {
        self.id.encode(out);
        (self.records.len() as u32).encode(out);
        out.extend_from_slice(&self.serialized);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = u32::read(r)?;
        let count = u32::read(r)? as usize;
        let records = gnsrecord::deserialize(r.rest(), count)?;
        LookupResult::new(id, records).map_err(|_| DecodeError::Invalid {
            field: "records",
            reason: "do not fit a message",
        })
    }
    fn encoded_len(&self) -> usize {
        LOOKUP_RESULT_HEADER_SIZE - 4 + self.serialized.len()
    }
}

impl Message for LookupResult {
    const TYPE: u16 = TYPE_LOOKUP_RESULT;
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::crypto::{ecdsa, eddsa};
    use crate::gnsrecord::{Flags, TYPE_PKEY, TYPE_PLACE};

    #[test]
    fn lookup_layout_matches_gns_h() {
        let l = Lookup {
            id: 0x01020304,
            options: LocalOptions::LocalMaster,
            recursion_depth_limit: DEFAULT_RECURSION_DEPTH_LIMIT,
            record_type: TYPE_PLACE,
            zone: PublicKey::Ecdsa(ecdsa::PublicKey([6; 32])),
            name: "home.host".into(),
        };
        let bytes = l.to_message();
        assert_eq!(bytes.len(), 20 + 36 + 10);
        assert_eq!(
            &bytes[..20],
            &[0, 66, 1, 244, 1, 2, 3, 4, 0, 2, 0, 128, 0, 1, 0, 6, 0, 0, 0, 36]
        );
        assert_eq!(&bytes[20..24], &[0, 1, 0, 0]);
        assert_eq!(&bytes[24..56], &[6; 32]);
        assert_eq!(&bytes[56..], b"home.host\0");
        assert_eq!(Lookup::from_message(&bytes), Ok(l));
    }

    #[test]
    fn result_layout_matches_gns_h_with_padding() {
        let place = Record::relative(TYPE_PLACE, vec![7; 68], Duration::from_secs(1), Flags::NONE);
        let r = LookupResult::new(9, vec![place.clone()]).unwrap();
        let bytes = r.to_message();
        // 12 + (16 + 68 = 84, padded to 128).
        assert_eq!(bytes.len(), 12 + 128);
        assert_eq!(&bytes[..12], &[0, 140, 1, 245, 0, 0, 0, 9, 0, 0, 0, 1]);
        assert_eq!(
            &bytes[12..28],
            &[0, 0, 0, 0, 0, 0x0f, 0x42, 0x40, 0, 68, 0x40, 0, 0, 1, 0, 6]
        );
        assert_eq!(LookupResult::from_message(&bytes), Ok(r));
        // No records: NXDOMAIN, 12 bytes.
        let none = LookupResult::new(3, vec![]).unwrap();
        assert_eq!(none.to_message(), [0, 12, 1, 245, 0, 0, 0, 3, 0, 0, 0, 0]);
        // Padding of any content is ignored, as C does.
        let mut dirty = bytes.clone();
        dirty[139] = 0xee;
        assert_eq!(
            LookupResult::from_message(&dirty).unwrap().records(),
            &[place]
        );
    }

    #[test]
    fn bad_input_is_refused() {
        let l = Lookup {
            id: 1,
            options: LocalOptions::Default,
            recursion_depth_limit: 1,
            record_type: TYPE_PKEY,
            zone: PublicKey::Eddsa(eddsa::PublicKey([1; 32])),
            name: "a".into(),
        };
        let good = l.to_message();
        assert_eq!(Lookup::from_message(&good), Ok(l));
        for (at, value) in [(9, 3), (19, 35), (19, 0xff), (21, 9), (57, 1)] {
            let mut bad = good.clone();
            bad[at] = value;
            assert!(Lookup::from_message(&bad).is_err(), "byte {at} = {value}");
        }
        // A record count the bytes cannot hold.
        assert!(LookupResult::from_message(&[0, 12, 1, 245, 0, 0, 0, 3, 0, 0, 0, 1]).is_err());
        assert!(
            LookupResult::from_message(&[0, 12, 1, 245, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff])
                .is_err()
        );
    }
}
