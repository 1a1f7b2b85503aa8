//! CHANNEL_MEMBERSHIP_STORE (689): the application records that a slave joined or left.

use gnunet_service::crypto::ecdsa;
use gnunet_service::wire_layout;

/// Size of CHANNEL_MEMBERSHIP_STORE (`struct ChannelMembershipStoreRequest`), header included.
pub const MEMBERSHIP_STORE_SIZE: usize = 65;

/// CHANNEL_MEMBERSHIP_STORE (689), 65 bytes. Answered with a RESULT_CODE carrying PSYCstore's
/// result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipStore {
    /// Operation id, echoed in the RESULT_CODE (offset 8).
    pub op_id: u64,
    /// The slave added or removed (offset 16).
    pub slave_pub_key: ecdsa::PublicKey,
    /// Id of the message that announced the change (offset 48).
    pub announced_at: u64,
    /// First message id an addition is effective from; 0 for a removal (offset 56).
    pub effective_since: u64,
    /// 1 = added, 0 = removed (offset 64), kept as sent and passed on to PSYCstore.
    pub did_join: u8,
}

wire_layout! {
    impl Message(super::TYPE_CHANNEL_MEMBERSHIP_STORE) for MembershipStore {
        padding(4),
        op_id,
        slave_pub_key,
        announced_at,
        effective_since,
        did_join,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{resized, Request};
    use gnunet_service::wire::Message;

    /// `struct ChannelMembershipStoreRequest` (psyc.h), every field packed: 65 bytes, no tail
    /// padding.
    #[repr(C, packed)]
    struct CChannelMembershipStoreRequest {
        _header: [u16; 2],
        _reserved: u32,
        op_id: u64,
        slave_pub_key: [u8; 32],
        announced_at: u64,
        effective_since: u64,
        did_join: u8,
    }

    #[test]
    fn c_struct_size_and_offsets() {
        use std::mem::{offset_of, size_of};
        type C = CChannelMembershipStoreRequest;
        assert_eq!(size_of::<C>(), MEMBERSHIP_STORE_SIZE);
        assert_eq!(offset_of!(C, op_id), 8);
        assert_eq!(offset_of!(C, slave_pub_key), 16);
        assert_eq!(offset_of!(C, announced_at), 48);
        assert_eq!(offset_of!(C, effective_since), 56);
        assert_eq!(offset_of!(C, did_join), 64);
    }

    #[test]
    fn layout_round_trip_and_rejects() {
        let m = MembershipStore {
            op_id: 0x0102,
            slave_pub_key: ecdsa::PublicKey([9; 32]),
            announced_at: 2,
            effective_since: 3,
            did_join: 1,
        };
        let mut fixture = vec![0, 65, 0x02, 0xb1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2];
        fixture.extend_from_slice(&[9; 32]);
        fixture.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 1]);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(
            Request::decode(&fixture),
            Ok(Request::MembershipStore(m.clone()))
        );
        assert_eq!(
            Request::decode(&fixture).map(|r| r.op_id()),
            Ok(Some(0x0102))
        );
        // The reserved word is ignored.
        let mut dirty = fixture.clone();
        dirty[5] = 7;
        assert_eq!(MembershipStore::from_message(&dirty), Ok(m));
        // Exactly 65 bytes.
        assert!(MembershipStore::from_message(&resized(fixture[..64].to_vec())).is_err());
        let mut long = fixture;
        long.push(0);
        assert!(MembershipStore::from_message(&resized(long)).is_err());
    }
}
