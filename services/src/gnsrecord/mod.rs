//! GNS records as GNUnet 0.19 carries them (`GNUNET_GNSRECORD_Data`,
//! `src/gnsrecord/gnsrecord_serialization.c`): the one definition that NAMESTORE's
//! RECORD_STORE and GNS's LOOKUP_RESULT share.
//!
//! A serialized record is a 16-byte header followed by its data:
//!
//! | offset | field | size | order |
//! |---|---|---|---|
//! | 0 | expiration time (µs; absolute, or relative with [`Flags::RELATIVE_EXPIRATION`]) | 8 | BE |
//! | 8 | data size | 2 | BE |
//! | 10 | [`Flags`] | 2 | BE |
//! | 12 | record type | 4 | BE |
//! | 16 | data | data size | |
//!
//! Records follow each other without gaps; the count travels outside (in the message that
//! carries them). libgnunetgnsrecord pads a record set with zeros to the next power of two
//! unless its first record is a zone delegation (PKEY/EDKEY), and readers ignore whatever
//! follows the last record: [`serialize`] pads the same way, [`deserialize`] ignores the rest.
//!
//! 2019 used a 20-byte header with u32 data size and flags and other flag values (spec
//! `social.md` §11.2, I5, I6); only the 0.19 form exists here.

mod record;

pub use record::{
    deserialize, serialize, serialized_len, Expiration, Flags, Record, RecordError,
    RECORD_HEADER_SIZE,
};

use crate::crypto::identity_key::PublicKey;
use crate::crypto::{ecdsa, eddsa};

/// `GNUNET_GNSRECORD_TYPE_ANY`: a lookup for every type.
pub const TYPE_ANY: u32 = 0;
/// `GNUNET_GNSRECORD_TYPE_PKEY`: delegation to an ECDSA zone (data: 32-byte public key).
pub const TYPE_PKEY: u32 = 65536;
/// `GNUNET_GNSRECORD_TYPE_NICK`: the zone's preferred name.
pub const TYPE_NICK: u32 = 65537;
/// `GNUNET_GNSRECORD_TYPE_LEHO`: legacy host name.
pub const TYPE_LEHO: u32 = 65538;
/// `GNUNET_GNSRECORD_TYPE_VPN`.
pub const TYPE_VPN: u32 = 65539;
/// `GNUNET_GNSRECORD_TYPE_GNS2DNS`: delegation to DNS.
pub const TYPE_GNS2DNS: u32 = 65540;
/// `GNUNET_GNSRECORD_TYPE_BOX`.
pub const TYPE_BOX: u32 = 65541;
/// `GNUNET_GNSRECORD_TYPE_PLACE`: "social place for SecuShare" (`GNUNET_GNSRECORD_PlaceData`,
/// 68 + 32·relays bytes; no 0.19 tool can print or parse it).
pub const TYPE_PLACE: u32 = 65542;
/// `GNUNET_GNSRECORD_TYPE_PHONE`.
pub const TYPE_PHONE: u32 = 65543;
/// `GNUNET_GNSRECORD_TYPE_REDIRECT`.
pub const TYPE_REDIRECT: u32 = 65551;
/// `GNUNET_GNSRECORD_TYPE_EDKEY`: delegation to an EdDSA zone (data: 32-byte public key).
pub const TYPE_EDKEY: u32 = 65556;
/// `GNUNET_GNSRECORD_TYPE_TOMBSTONE`: NAMESTORE's private marker of a deleted record set.
pub const TYPE_TOMBSTONE: u32 = 65559;

/// Whether `record_type` delegates to a zone (`GNUNET_GNSRECORD_is_zonekey_type`): 0.19
/// allows nothing else under a label that holds one, and none at the apex `@`.
pub const fn is_zone_delegation(record_type: u32) -> bool {
    matches!(record_type, TYPE_PKEY | TYPE_EDKEY)
}

/// The record type and data that delegate to `zone` (`GNUNET_GNSRECORD_data_from_identity`):
/// PKEY for an ECDSA key, EDKEY for an EdDSA one; the data is the bare 32-byte key.
pub fn delegation_to(zone: &PublicKey) -> (u32, Vec<u8>) {
    match zone {
        PublicKey::Ecdsa(k) => (TYPE_PKEY, k.0.to_vec()),
        PublicKey::Eddsa(k) => (TYPE_EDKEY, k.0.to_vec()),
    }
}

/// The zone a PKEY or EDKEY record delegates to (`GNUNET_GNSRECORD_identity_from_data`);
/// `None` for other types or data that is not 32 bytes.
pub fn delegated_zone(record_type: u32, data: &[u8]) -> Option<PublicKey> {
    let key: [u8; 32] = data.try_into().ok()?;
    match record_type {
        TYPE_PKEY => Some(PublicKey::Ecdsa(ecdsa::PublicKey(key))),
        TYPE_EDKEY => Some(PublicKey::Eddsa(eddsa::PublicKey(key))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gnunet_sys as sys;

    #[test]
    fn type_numbers_are_gana_s() {
        let pairs = [
            (TYPE_PKEY, sys::GNUNET_GNSRECORD_TYPE_PKEY),
            (TYPE_NICK, sys::GNUNET_GNSRECORD_TYPE_NICK),
            (TYPE_LEHO, sys::GNUNET_GNSRECORD_TYPE_LEHO),
            (TYPE_VPN, sys::GNUNET_GNSRECORD_TYPE_VPN),
            (TYPE_GNS2DNS, sys::GNUNET_GNSRECORD_TYPE_GNS2DNS),
            (TYPE_BOX, sys::GNUNET_GNSRECORD_TYPE_BOX),
            (TYPE_PLACE, sys::GNUNET_GNSRECORD_TYPE_PLACE),
            (TYPE_PHONE, sys::GNUNET_GNSRECORD_TYPE_PHONE),
            (TYPE_REDIRECT, sys::GNUNET_GNSRECORD_TYPE_REDIRECT),
            (TYPE_EDKEY, sys::GNUNET_GNSRECORD_TYPE_EDKEY),
            (TYPE_TOMBSTONE, sys::GNUNET_GNSRECORD_TYPE_TOMBSTONE),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours, theirs);
        }
        assert_eq!(
            std::mem::size_of::<sys::GNUNET_GNSRECORD_PlaceData>(),
            68,
            "PLACE data without relays"
        );
    }

    #[test]
    fn delegations_carry_the_bare_key_typed_by_the_record_type() {
        let e = PublicKey::Ecdsa(ecdsa::PublicKey([7; 32]));
        let d = PublicKey::Eddsa(eddsa::PublicKey([8; 32]));
        assert_eq!(delegation_to(&e), (TYPE_PKEY, vec![7; 32]));
        assert_eq!(delegation_to(&d), (TYPE_EDKEY, vec![8; 32]));
        assert_eq!(delegated_zone(TYPE_PKEY, &[7; 32]), Some(e));
        assert_eq!(delegated_zone(TYPE_EDKEY, &[8; 32]), Some(d));
        assert_eq!(delegated_zone(TYPE_PKEY, &[7; 31]), None);
        assert_eq!(delegated_zone(TYPE_PLACE, &[7; 32]), None);
        assert!(is_zone_delegation(TYPE_EDKEY) && !is_zone_delegation(TYPE_PLACE));
    }
}
