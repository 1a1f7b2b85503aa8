//! Binding a client to a channel: MASTER_START (681), SLAVE_JOIN (683), and their answers
//! MASTER_START_ACK (682) and SLAVE_JOIN_ACK (684).

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{
    Codec, DecodeError, FieldCodec, LittleEndian, Reader, TrailingMessage, HEADER_SIZE,
};
use gnunet_service::wire_layout;

/// Size of MASTER_START (`struct MasterStartRequest`), header included.
pub const MASTER_START_SIZE: usize = 40;
/// Fixed part of SLAVE_JOIN (`struct SlaveJoinRequest`), header included.
pub const SLAVE_JOIN_HEADER_SIZE: usize = 108;
/// Size of MASTER_START_ACK and SLAVE_JOIN_ACK (`struct GNUNET_PSYC_CountersResultMessage`).
pub const COUNTERS_RESULT_SIZE: usize = 16;

/// MASTER_START (681), 40 bytes: the client becomes the master of the channel of
/// `channel_key`. The first message of a master client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterStart {
    /// [`policy`](super::policy) bits (offset 4). **Little-endian**: the C library stores the
    /// enum without `htonl`, so on every host GNUnet runs on the bytes are little-endian. (The
    /// C service applied `ntohl` and kept the swapped value; it never used it, gap P6.)
    pub policy: u32,
    /// The channel's (= multicast group's) private key (offset 8).
    pub channel_key: eddsa::PrivateKey,
}

wire_layout! {
    impl Message(super::TYPE_MASTER_START) for MasterStart {
        policy as LittleEndian,
        channel_key,
    }
}

/// SLAVE_JOIN (683), 108 bytes + relays + join message: the client becomes a slave of a
/// channel. The first message of a slave client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaveJoin {
    /// The channel to join (offset 8).
    pub channel_pub_key: eddsa::PublicKey,
    /// The slave's private key, handed down to multicast, which signs with it (offset 40).
    pub slave_key: ecdsa::PrivateKey,
    /// The master's peer (offset 72).
    pub origin: PeerIdentity,
    /// [`slave_join_flags`](super::slave_join_flags) (offset 104).
    pub flags: u32,
    /// Peers to join through (offset 108); their number is `relay_count` at offset 4.
    pub relays: Vec<PeerIdentity>,
    /// Optional join message, a complete nested message (a client PSYC_MESSAGE, type 691, from
    /// the C library; the C service does not check the type) that exactly fills the rest.
    pub join_msg: Option<Vec<u8>>,
}

impl Codec for SlaveJoin {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.relays.len() as u32).encode(out);
        self.channel_pub_key.encode(out);
        self.slave_key.encode(out);
        self.origin.encode(out);
        self.flags.encode(out);
        for relay in &self.relays {
            relay.encode(out);
        }
        TrailingMessage::encode_field(&self.join_msg, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let relay_count = u32::read(r)?;
        let channel_pub_key = eddsa::PublicKey::read(r)?;
        let slave_key = ecdsa::PrivateKey::read(r)?;
        let origin = PeerIdentity::read(r)?;
        let flags = u32::read(r)?;
        // Refuse a count the message cannot hold before allocating for it. (The C service
        // computed the relay bytes in 16 bits, so a huge count wrapped; here it is an error.)
        let relay_bytes = (relay_count as usize)
            .checked_mul(32)
            .filter(|&n| n <= r.left())
            .ok_or(DecodeError::Invalid {
                field: "relay_count",
                reason: "more relays than the message holds",
            })?;
        let relays = r
            .take(relay_bytes, "relays")?
            .chunks_exact(32)
            .map(PeerIdentity::decode_exact)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            channel_pub_key,
            slave_key,
            origin,
            flags,
            relays,
            join_msg: TrailingMessage::read_field(r, "join message")?,
        })
    }

    fn encoded_len(&self) -> usize {
        SLAVE_JOIN_HEADER_SIZE - HEADER_SIZE
            + 32 * self.relays.len()
            + TrailingMessage::field_len(&self.join_msg)
    }
}

impl gnunet_service::wire::Message for SlaveJoin {
    const TYPE: u16 = super::TYPE_SLAVE_JOIN;
}

/// Declares a `GNUNET_PSYC_CountersResultMessage` type: 16 bytes, the result of the PSYCstore
/// counters lookup that binding to a channel starts.
macro_rules! counters_result {
    ($(#[$doc:meta])* $name:ident = $type:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            /// Counters result, 32-bit two's complement (offset 4): [`status::OK`] = the channel
            /// has stored messages, [`status::NO`] = empty history, [`status::SYSERR`] = error.
            /// The C library treats anything but 1 or 0 as a failure to start or join.
            ///
            /// [`status::OK`]: super::status::OK
            /// [`status::NO`]: super::status::NO
            /// [`status::SYSERR`]: super::status::SYSERR
            pub result_code: i32,
            /// Last message id known for the channel (offset 8).
            pub max_message_id: u64,
        }

        wire_layout! {
            impl Message($type) for $name { result_code, max_message_id }
        }
    };
}

counters_result!(
    /// MASTER_START_ACK (682), 16 bytes: the master's channel is (or is not) ready.
    MasterStartAck = super::TYPE_MASTER_START_ACK
);
counters_result!(
    /// SLAVE_JOIN_ACK (684), 16 bytes: the slave's record exists; the join decision comes
    /// separately.
    SlaveJoinAck = super::TYPE_SLAVE_JOIN_ACK
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{policy, resized, slave_join_flags, Reply, Request};
    use gnunet_service::wire::Message;

    fn peer(b: u8) -> PeerIdentity {
        PeerIdentity([b; 32])
    }

    /// `struct MasterStartRequest` (psyc.h), every field packed.
    #[repr(C, packed)]
    struct CMasterStartRequest {
        _header: [u16; 2],
        policy: u32,
        channel_key: [u8; 32],
    }

    /// `struct SlaveJoinRequest` (psyc.h), every field packed.
    #[repr(C, packed)]
    struct CSlaveJoinRequest {
        _header: [u16; 2],
        relay_count: u32,
        channel_pub_key: [u8; 32],
        slave_key: [u8; 32],
        origin: [u8; 32],
        flags: u32,
    }

    /// `struct GNUNET_PSYC_CountersResultMessage` (gnunet_psyc_service.h).
    #[repr(C, packed)]
    struct CCountersResultMessage {
        _header: [u16; 2],
        result_code: u32,
        max_message_id: u64,
    }

    #[test]
    fn c_struct_sizes_and_offsets() {
        use std::mem::{offset_of, size_of};
        assert_eq!(size_of::<CMasterStartRequest>(), MASTER_START_SIZE);
        assert_eq!(offset_of!(CMasterStartRequest, policy), 4);
        assert_eq!(offset_of!(CMasterStartRequest, channel_key), 8);
        assert_eq!(size_of::<CSlaveJoinRequest>(), SLAVE_JOIN_HEADER_SIZE);
        assert_eq!(offset_of!(CSlaveJoinRequest, relay_count), 4);
        assert_eq!(offset_of!(CSlaveJoinRequest, channel_pub_key), 8);
        assert_eq!(offset_of!(CSlaveJoinRequest, slave_key), 40);
        assert_eq!(offset_of!(CSlaveJoinRequest, origin), 72);
        assert_eq!(offset_of!(CSlaveJoinRequest, flags), 104);
        assert_eq!(size_of::<CCountersResultMessage>(), COUNTERS_RESULT_SIZE);
        assert_eq!(offset_of!(CCountersResultMessage, result_code), 4);
        assert_eq!(offset_of!(CCountersResultMessage, max_message_id), 8);
    }

    #[test]
    fn master_start_is_40_bytes_with_host_order_policy() {
        let m = MasterStart {
            policy: policy::PRIVATE,
            channel_key: eddsa::PrivateKey([7; 32]),
        };
        let mut fixture = vec![0, 40, 0x02, 0xa9, 3, 0, 0, 0];
        fixture.extend_from_slice(&[7; 32]);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(MasterStart::from_message(&fixture), Ok(m.clone()));
        assert_eq!(Request::decode(&fixture), Ok(Request::MasterStart(m)));
        // Exactly 40 bytes.
        assert!(MasterStart::from_message(&fixture[..39]).is_err());
        let mut short = fixture[..39].to_vec();
        short[1] = 39;
        assert!(MasterStart::from_message(&short).is_err());
        let mut long = fixture.clone();
        long.push(0);
        long[1] = 41;
        assert!(MasterStart::from_message(&long).is_err());
        let mut wrong = fixture;
        wrong[3] = 0xab;
        assert!(MasterStart::from_message(&wrong).is_err());
    }

    fn slave_join() -> SlaveJoin {
        SlaveJoin {
            channel_pub_key: eddsa::PublicKey([1; 32]),
            slave_key: ecdsa::PrivateKey([2; 32]),
            origin: peer(3),
            flags: slave_join_flags::LOCAL,
            relays: vec![peer(4), peer(5)],
            join_msg: Some(vec![0, 8, 0x02, 0xb3, 0, 4, 0x02, 0xb9]),
        }
    }

    #[test]
    fn slave_join_layout_and_round_trip() {
        let m = slave_join();
        let mut fixture = vec![0, 180, 0x02, 0xab, 0, 0, 0, 2];
        for b in [1, 2, 3] {
            fixture.extend_from_slice(&[b; 32]);
        }
        fixture.extend_from_slice(&[0, 0, 0, 1]);
        fixture.extend_from_slice(&[4; 32]);
        fixture.extend_from_slice(&[5; 32]);
        fixture.extend_from_slice(&[0, 8, 0x02, 0xb3, 0, 4, 0x02, 0xb9]);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(SlaveJoin::from_message(&fixture), Ok(m.clone()));
        assert_eq!(Request::decode(&fixture), Ok(Request::SlaveJoin(m.clone())));
        let bare = SlaveJoin {
            relays: vec![],
            join_msg: None,
            ..m
        };
        assert_eq!(bare.to_message().len(), SLAVE_JOIN_HEADER_SIZE);
        assert_eq!(SlaveJoin::from_message(&bare.to_message()), Ok(bare));
    }

    #[test]
    fn slave_join_rejects_what_the_c_service_drops() {
        let good = slave_join().to_message();
        // More relays than bytes, and a count that overflows when multiplied.
        for count in [3u32, u32::MAX] {
            let mut bad = good.clone();
            bad[4..8].copy_from_slice(&count.to_be_bytes());
            assert!(SlaveJoin::from_message(&bad).is_err(), "count {count}");
        }
        // A join message that does not exactly fill the rest.
        let mut bad = good.clone();
        bad.push(0);
        assert!(SlaveJoin::from_message(&resized(bad)).is_err());
        let mut bad = good.clone();
        bad[173] = 9; // nested size 9 > the 8 bytes left
        assert!(SlaveJoin::from_message(&bad).is_err());
        // 1–3 bytes after the relays cannot be a join message.
        let bare = slave_join();
        let mut bad = SlaveJoin {
            join_msg: None,
            ..bare
        }
        .to_message();
        bad.extend_from_slice(&[0, 3, 0]);
        assert!(SlaveJoin::from_message(&resized(bad)).is_err());
        // Truncated inside the fixed part.
        assert!(SlaveJoin::from_message(&resized(good[..100].to_vec())).is_err());
    }

    #[test]
    fn counters_results_are_16_bytes_with_signed_result() {
        let m = MasterStartAck {
            result_code: -1,
            max_message_id: 0x0102_0304_0506_0708,
        };
        let fixture = [
            0, 16, 0x02, 0xaa, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        assert_eq!(m.to_message(), fixture);
        assert_eq!(MasterStartAck::from_message(&fixture), Ok(m));
        assert_eq!(Reply::decode(&fixture), Ok(Reply::MasterStartAck(m)));
        let s = SlaveJoinAck {
            result_code: 1,
            max_message_id: 9,
        };
        let fixture = [0, 16, 0x02, 0xac, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9];
        assert_eq!(s.to_message(), fixture);
        assert_eq!(Reply::decode(&fixture), Ok(Reply::SlaveJoinAck(s)));
        // One ack type is not the other; sizes are exact.
        assert!(MasterStartAck::from_message(&fixture).is_err());
        assert!(SlaveJoinAck::from_message(&resized(fixture[..15].to_vec())).is_err());
        let mut long = fixture.to_vec();
        long.push(0);
        assert!(SlaveJoinAck::from_message(&resized(long)).is_err());
    }
}
