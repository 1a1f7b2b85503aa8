//! Naming in the ego's GNS zone: ZONE_ADD_PLACE (850) and ZONE_ADD_NYM (851), each answered
//! with a RESULT_CODE.

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{Codec, DecodeError, FieldCodec, Message, Reader, HEADER_SIZE};
use gnunet_service::wire_layout;

use super::enter::{read_relays, RelaysEnd};
use super::strings::{Terminated, Token};

/// Fixed part of ZONE_ADD_PLACE (`struct ZoneAddPlaceRequest`), header included.
pub const ZONE_ADD_PLACE_HEADER_SIZE: usize = 120;
/// Fixed part of ZONE_ADD_NYM (`struct ZoneAddNymRequest`), header included: 4 bytes of
/// compiler padding after the header.
pub const ZONE_ADD_NYM_HEADER_SIZE: usize = 88;

/// ZONE_ADD_PLACE (850), 120 bytes + name + password + relays: store a PLACE record under
/// `name` in the ego's zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneAddPlace {
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Absolute expiration time in µs (offset 16).
    pub expiration_time: u64,
    /// Zone owner, a known ego (offset 24).
    pub ego_pub_key: ecdsa::PublicKey,
    /// The place advertised (offset 56).
    pub place_pub_key: eddsa::PublicKey,
    /// Ignored by the C service, which writes its own peer into the record (offset 88).
    pub origin: PeerIdentity,
    /// Record label without its NUL (offset 120); must not contain a NUL.
    pub name: Vec<u8>,
    /// Password (ignored by the service) without its NUL, after the name; no inner NUL.
    pub password: Vec<u8>,
    /// Relays, after the password, filling the rest exactly; their number is `relay_count`
    /// at offset 4.
    pub relays: Vec<PeerIdentity>,
}

impl Codec for ZoneAddPlace {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.relays.len() as u32).encode(out);
        self.op_id.encode(out);
        self.expiration_time.encode(out);
        self.ego_pub_key.encode(out);
        self.place_pub_key.encode(out);
        self.origin.encode(out);
        Terminated::encode_field(&self.name, out);
        Terminated::encode_field(&self.password, out);
        for relay in &self.relays {
            relay.encode(out);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let relay_count = u32::read(r)?;
        let op_id = u64::read(r)?;
        let expiration_time = u64::read(r)?;
        let ego_pub_key = ecdsa::PublicKey::read(r)?;
        let place_pub_key = eddsa::PublicKey::read(r)?;
        let origin = PeerIdentity::read(r)?;
        let name = Terminated::read_field(r, "name")?;
        let password = Terminated::read_field(r, "password")?;
        let relays = read_relays(r, relay_count, RelaysEnd::FillsRest)?;
        Ok(Self {
            op_id,
            expiration_time,
            ego_pub_key,
            place_pub_key,
            origin,
            name,
            password,
            relays,
        })
    }

    fn encoded_len(&self) -> usize {
        ZONE_ADD_PLACE_HEADER_SIZE - HEADER_SIZE
            + Terminated::field_len(&self.name)
            + Terminated::field_len(&self.password)
            + 32 * self.relays.len()
    }
}

impl Message for ZoneAddPlace {
    const TYPE: u16 = super::TYPE_ZONE_ADD_PLACE;
}

/// ZONE_ADD_NYM (851), 88 bytes + name: store a PKEY record for a nym under `name` in the
/// ego's zone. Offsets 4–7 are the compiler's padding before the unpacked `op_id`: written as
/// zero (as the C library's zeroed buffer has it) and ignored on receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneAddNym {
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Absolute expiration time in µs (offset 16).
    pub expiration_time: u64,
    /// Zone owner, a known ego (offset 24).
    pub ego_pub_key: ecdsa::PublicKey,
    /// The nym named (offset 56).
    pub nym_pub_key: ecdsa::PublicKey,
    /// Record label without its NUL (offset 88): one string filling the rest, no inner NUL
    /// ([`Token`](super::Token)).
    pub name: Vec<u8>,
}

wire_layout! {
    impl Message(super::TYPE_ZONE_ADD_NYM) for ZoneAddNym {
        padding(4),
        op_id,
        expiration_time,
        ego_pub_key,
        nym_pub_key,
        name as Token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{resized, Reply, Request};

    /// The head of `struct ZoneAddPlaceRequest` as gcc lays it out on x86-64 (`op_id` and
    /// `expiration_time` are not packed, but fall on 8-byte boundaries anyway).
    #[repr(C)]
    struct CZoneAddPlaceRequest {
        _header: [u16; 2],
        relay_count: u32,
        op_id: u64,
        expiration_time: u64,
        ego_pub_key: [u8; 32],
        place_pub_key: [u8; 32],
        origin: [u8; 32],
    }

    /// `struct ZoneAddNymRequest` as gcc lays it out: `op_id` is not packed, so 4 bytes of
    /// padding follow the header.
    #[repr(C)]
    struct CZoneAddNymRequest {
        _header: [u16; 2],
        op_id: u64,
        expiration_time: u64,
        ego_pub_key: [u8; 32],
        nym_pub_key: [u8; 32],
    }

    #[test]
    fn c_struct_sizes_and_offsets() {
        use std::mem::{offset_of, size_of};
        type P = CZoneAddPlaceRequest;
        assert_eq!(size_of::<P>(), ZONE_ADD_PLACE_HEADER_SIZE);
        assert_eq!(offset_of!(P, relay_count), 4);
        assert_eq!(offset_of!(P, op_id), 8);
        assert_eq!(offset_of!(P, expiration_time), 16);
        assert_eq!(offset_of!(P, ego_pub_key), 24);
        assert_eq!(offset_of!(P, place_pub_key), 56);
        assert_eq!(offset_of!(P, origin), 88);
        type N = CZoneAddNymRequest;
        assert_eq!(size_of::<N>(), ZONE_ADD_NYM_HEADER_SIZE);
        assert_eq!(offset_of!(N, op_id), 8);
        assert_eq!(offset_of!(N, expiration_time), 16);
        assert_eq!(offset_of!(N, ego_pub_key), 24);
        assert_eq!(offset_of!(N, nym_pub_key), 56);
    }

    fn zone_add_place() -> ZoneAddPlace {
        ZoneAddPlace {
            op_id: 5,
            expiration_time: 6,
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            place_pub_key: eddsa::PublicKey([2; 32]),
            origin: PeerIdentity([3; 32]),
            name: b"home".to_vec(),
            password: b"pw".to_vec(),
            relays: vec![PeerIdentity([4; 32])],
        }
    }

    #[test]
    fn zone_add_place_layout_and_round_trip() {
        let m = zone_add_place();
        let mut fixture = vec![0, 160, 0x03, 0x52, 0, 0, 0, 1];
        fixture.extend_from_slice(&5u64.to_be_bytes());
        fixture.extend_from_slice(&6u64.to_be_bytes());
        for b in [1, 2, 3] {
            fixture.extend_from_slice(&[b; 32]);
        }
        fixture.extend_from_slice(b"home\0pw\0");
        fixture.extend_from_slice(&[4; 32]);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(
            Request::decode(&fixture),
            Ok(Request::ZoneAddPlace(m.clone()))
        );
        assert!(Reply::decode(&fixture).is_err());
        // Relays must fill the rest exactly: one byte more or less, a count too large.
        let mut bad = fixture.clone();
        bad.push(0);
        assert!(ZoneAddPlace::from_message(&resized(bad)).is_err());
        assert!(ZoneAddPlace::from_message(&resized(fixture[..159].to_vec())).is_err());
        for count in [0u32, 2, u32::MAX] {
            let mut bad = fixture.clone();
            bad[4..8].copy_from_slice(&count.to_be_bytes());
            assert!(ZoneAddPlace::from_message(&bad).is_err(), "count {count}");
        }
        // Only one string.
        let one = resized(fixture[..125].to_vec());
        assert!(ZoneAddPlace::from_message(&one).is_err());
    }

    #[test]
    fn zone_add_nym_has_a_four_byte_hole() {
        let m = ZoneAddNym {
            op_id: 0x0a,
            expiration_time: 0x0b,
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            nym_pub_key: ecdsa::PublicKey([2; 32]),
            name: b"friend".to_vec(),
        };
        let mut fixture = vec![0, 95, 0x03, 0x53, 0, 0, 0, 0];
        fixture.extend_from_slice(&0x0au64.to_be_bytes());
        fixture.extend_from_slice(&0x0bu64.to_be_bytes());
        fixture.extend_from_slice(&[1; 32]);
        fixture.extend_from_slice(&[2; 32]);
        fixture.extend_from_slice(b"friend\0");
        assert_eq!(m.to_message(), fixture);
        assert_eq!(
            Request::decode(&fixture),
            Ok(Request::ZoneAddNym(m.clone()))
        );
        // Whatever the hole holds is ignored.
        let mut holed = fixture.clone();
        holed[4..8].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(ZoneAddNym::from_message(&holed), Ok(m));
        assert!(ZoneAddNym::from_message(&resized(fixture[..88].to_vec())).is_err());
        assert!(ZoneAddNym::from_message(&resized(fixture[..94].to_vec())).is_err());
        let mut inner_nul = fixture;
        inner_nul[90] = 0;
        assert!(ZoneAddNym::from_message(&inner_nul).is_err());
    }
}
