//! The GNS records social writes and reads: PLACE (how a place is found by name), PKEY (a
//! nym's zone), and the TXT record beside a PLACE record that tells guests the host's privacy
//! level before they enter ([`PlaceLevel`]).
//!
//! PLACE data is `struct GNUNET_GNSRECORD_PlaceData` (unchanged from 2019 to 0.19, `social.md`
//! §10, §11.2) followed by the relays:
//!
//! | offset | field | size |
//! |---|---|---|
//! | 0 | place public key (EdDSA) | 32 |
//! | 32 | origin peer | 32 |
//! | 64 | relay count, u32 big-endian | 4 |
//! | 68 | relays | 32 each |
//!
//! The C service trusted `relay_count` and entered with whatever it said even when the record
//! was shorter or longer (gap G9: the entry then failed silently); here the count must
//! account for the record's size exactly, or decoding fails with
//! [`PlaceDataError::RelayCount`]. No gnsrecord plugin knows PLACE, so these records have no
//! text form.

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{Codec, Reader};

/// `GNUNET_GNSRECORD_TYPE_PLACE` ("social place for SecuShare") and `_PKEY` (a zone
/// delegation, for social a nym's ECDSA key), as GNUnet's record types are defined once.
pub use gnunet_service::gnsrecord::{TYPE_PKEY, TYPE_PLACE};

/// Size of PLACE data without relays (`sizeof (struct GNUNET_GNSRECORD_PlaceData)`).
pub const PLACE_DATA_FIXED_SIZE: usize = 68;
/// Size of one relay.
const RELAY_SIZE: usize = 32;

/// The data of a PLACE record: where a place is and which peers to join it through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaceData {
    /// The place.
    pub place_pub_key: eddsa::PublicKey,
    /// The peer hosting it (multicast origin).
    pub origin: PeerIdentity,
    /// Peers to join through.
    pub relays: Vec<PeerIdentity>,
}

/// Why record data is not a PLACE record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlaceDataError {
    /// Shorter than the 68 fixed bytes.
    #[error("PLACE record data of {len} bytes is shorter than {PLACE_DATA_FIXED_SIZE}")]
    TooShort {
        /// Data size.
        len: usize,
    },
    /// The relay count does not account for the data's size (the C service's silent failure,
    /// gap G9).
    #[error("PLACE record says {relay_count} relays, but its {len} bytes hold {room}")]
    RelayCount {
        /// The count in the record.
        relay_count: u32,
        /// Data size.
        len: usize,
        /// Relays the bytes after the fixed part would hold (fractional ones rounded down).
        room: usize,
    },
}

impl PlaceData {
    /// Size of the record data: 68 + 32 per relay.
    pub fn encoded_len(&self) -> usize {
        PLACE_DATA_FIXED_SIZE + RELAY_SIZE * self.relays.len()
    }

    /// The record data. The caller bounds the relays: a record must fit a NAMESTORE message
    /// (at most 2,045 relays fit the 16-bit record size); the relays come from a client
    /// message, which holds fewer than that.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&self.place_pub_key.0);
        out.extend_from_slice(&self.origin.0);
        // More than u32::MAX relays cannot be in memory as client input; saturate anyway.
        let count = u32::try_from(self.relays.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for relay in &self.relays {
            out.extend_from_slice(&relay.0);
        }
        out
    }

    /// Reads record data; the relay count must match the size exactly.
    pub fn decode(data: &[u8]) -> Result<Self, PlaceDataError> {
        let len = data.len();
        let too_short = |_| PlaceDataError::TooShort { len };
        let mut r = Reader::new(data);
        let place_pub_key = eddsa::PublicKey::read(&mut r).map_err(too_short)?;
        let origin = PeerIdentity::read(&mut r).map_err(too_short)?;
        let relay_count = u32::read(&mut r).map_err(too_short)?;
        let relays = r.rest();
        let room = relays.len() / RELAY_SIZE;
        if room * RELAY_SIZE != relays.len() || usize::try_from(relay_count) != Ok(room) {
            return Err(PlaceDataError::RelayCount {
                relay_count,
                len,
                room,
            });
        }
        Ok(Self {
            place_pub_key,
            origin,
            relays: relays
                .chunks_exact(RELAY_SIZE)
                .map(PeerIdentity::decode_exact)
                .collect::<Result<_, _>>()
                .map_err(too_short)?,
        })
    }
}

/// The data of a PKEY record delegating to `nym`: its 32-byte ECDSA public key.
pub fn pkey_data(nym: &ecdsa::PublicKey) -> [u8; 32] {
    nym.0
}

/// `GNUNET_DNSPARSER_TYPE_TXT`: GNS keeps a TXT record's data as the bare text (GNUnet's `dns`
/// gnsrecord plugin prints and parses it so), which `gnunet-gns -t TXT` shows.
pub const TYPE_TXT: u32 = 16;

/// The prefix of the TXT record that carries a place's level: `secushare privacy=<level>`.
const LEVEL_PREFIX: &str = "secushare privacy=";

/// The privacy level of the host of a place, as its PLACE record's TXT companion says it: the
/// record is `secushare privacy=convenient|balanced|strict` (0.19 allows other record types
/// beside a PLACE record; C clients and the C service look only at the PLACE record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceLevel(pub gnunet_service::privacy::Level);

impl PlaceLevel {
    /// The TXT record's data.
    pub fn encode(self) -> Vec<u8> {
        format!("{LEVEL_PREFIX}{}", self.0.name()).into_bytes()
    }

    /// The level of TXT data written by [`PlaceLevel::encode`]; `None` for any other text.
    pub fn decode(data: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(data).ok()?;
        text.strip_prefix(LEVEL_PREFIX)?
            .parse()
            .ok()
            .map(PlaceLevel)
    }

    /// The level among the records of a name (record type, data), if one is there.
    pub fn find(records: &[(u32, Vec<u8>)]) -> Option<Self> {
        records
            .iter()
            .filter(|(t, _)| *t == TYPE_TXT)
            .find_map(|(_, data)| Self::decode(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(relays: usize) -> PlaceData {
        PlaceData {
            place_pub_key: eddsa::PublicKey([1; 32]),
            origin: PeerIdentity([2; 32]),
            relays: (0..relays)
                .map(|i| PeerIdentity([10 + i as u8; 32]))
                .collect(),
        }
    }

    #[test]
    fn layout_is_the_c_struct_then_the_relays() {
        use gnunet_sys as sys;
        assert_eq!(
            std::mem::size_of::<sys::GNUNET_GNSRECORD_PlaceData>(),
            PLACE_DATA_FIXED_SIZE
        );
        assert_eq!(
            std::mem::offset_of!(sys::GNUNET_GNSRECORD_PlaceData, origin),
            32
        );
        assert_eq!(
            std::mem::offset_of!(sys::GNUNET_GNSRECORD_PlaceData, relay_count),
            64
        );
        assert_eq!(sys::GNUNET_GNSRECORD_TYPE_PLACE, TYPE_PLACE);
        assert_eq!(sys::GNUNET_GNSRECORD_TYPE_PKEY, TYPE_PKEY);

        let mut fixture = vec![1; 32];
        fixture.extend_from_slice(&[2; 32]);
        fixture.extend_from_slice(&[0, 0, 0, 2]);
        fixture.extend_from_slice(&[10; 32]);
        fixture.extend_from_slice(&[11; 32]);
        let data = sample(2);
        assert_eq!(data.encoded_len(), 68 + 64);
        assert_eq!(data.encode(), fixture);
        assert_eq!(PlaceData::decode(&fixture), Ok(data));
        assert_eq!(PlaceData::decode(&sample(0).encode()), Ok(sample(0)));
        assert_eq!(pkey_data(&ecdsa::PublicKey([7; 32])), [7; 32]);
    }

    #[test]
    fn a_relay_count_that_does_not_fit_the_size_is_an_error() {
        let good = sample(2).encode();
        assert_eq!(
            PlaceData::decode(&good[..67]),
            Err(PlaceDataError::TooShort { len: 67 })
        );
        assert_eq!(
            PlaceData::decode(&[]),
            Err(PlaceDataError::TooShort { len: 0 })
        );
        // One relay short, one extra byte, a count that claims more or fewer.
        assert_eq!(
            PlaceData::decode(&good[..100]),
            Err(PlaceDataError::RelayCount {
                relay_count: 2,
                len: 100,
                room: 1
            })
        );
        let mut extra = good.clone();
        extra.push(0);
        assert!(matches!(
            PlaceData::decode(&extra),
            Err(PlaceDataError::RelayCount { room: 2, .. })
        ));
        for count in [0u32, 1, 3, u32::MAX] {
            let mut wrong = good.clone();
            wrong[64..68].copy_from_slice(&count.to_be_bytes());
            assert_eq!(
                PlaceData::decode(&wrong),
                Err(PlaceDataError::RelayCount {
                    relay_count: count,
                    len: 132,
                    room: 2
                })
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_or_fail_without_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Ok(place) = PlaceData::decode(&data) {
                proptest::prop_assert_eq!(place.encode(), data);
            }
        }

        #[test]
        fn every_place_round_trips(relays in 0usize..40, key in proptest::array::uniform32(proptest::num::u8::ANY)) {
            let mut data = sample(relays);
            data.place_pub_key = eddsa::PublicKey(key);
            proptest::prop_assert_eq!(PlaceData::decode(&data.encode()), Ok(data));
        }
    }

    #[test]
    fn the_level_record_reads_back_and_ignores_other_text() {
        use gnunet_service::privacy::Level;
        for level in Level::ALL {
            let data = PlaceLevel(level).encode();
            assert_eq!(PlaceLevel::decode(&data), Some(PlaceLevel(level)));
        }
        assert_eq!(
            PlaceLevel(Level::Strict).encode(),
            b"secushare privacy=strict".to_vec()
        );
        assert_eq!(PlaceLevel::decode(b"secushare privacy=paranoid"), None);
        assert_eq!(PlaceLevel::decode(b"v=spf1"), None);
        let records = vec![
            (TYPE_PLACE, vec![0; 68]),
            (TYPE_TXT, b"hello".to_vec()),
            (TYPE_TXT, b"secushare privacy=balanced".to_vec()),
        ];
        assert_eq!(
            PlaceLevel::find(&records),
            Some(PlaceLevel(Level::Balanced))
        );
    }
}
