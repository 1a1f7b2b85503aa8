//! MEMBERSHIP_STORE (660) and MEMBERSHIP_TEST (661).

use gnunet_service::wire_layout;

use super::head::{operation, RequestHead};
use super::{TYPE_MEMBERSHIP_STORE, TYPE_MEMBERSHIP_TEST};
use crate::keys::SlaveKey;

/// MEMBERSHIP_STORE (660), fixed 105 bytes: record that a slave joined or left a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipStore {
    /// Operation id and channel (offset 4).
    pub head: RequestHead,
    /// Member whose status changes (offset 48).
    pub slave_key: SlaveKey,
    /// Id of the message announcing the change (offset 80).
    pub announced_at: u64,
    /// Join: first message id the slave may read; part: 0 (offset 88).
    pub effective_since: u64,
    /// Part: last group generation the slave may read (offset 96; stored, never used).
    pub group_generation: u64,
    /// 1 = join, 0 = part; stored verbatim (offset 104).
    pub did_join: u8,
}

/// MEMBERSHIP_TEST (661), fixed 96 bytes: may this slave read this message?
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipTest {
    /// Operation id and channel (offset 4).
    pub head: RequestHead,
    /// Member asking (offset 48).
    pub slave_key: SlaveKey,
    /// Message the access is tested for (offset 80).
    pub message_id: u64,
    /// Group generation (offset 88; ignored by the service).
    pub group_generation: u64,
}

wire_layout! {
    impl Message(TYPE_MEMBERSHIP_STORE) for MembershipStore {
        head,
        slave_key,
        announced_at,
        effective_since,
        group_generation,
        did_join,
    }
}

wire_layout! {
    impl Message(TYPE_MEMBERSHIP_TEST) for MembershipTest {
        head,
        slave_key,
        message_id,
        group_generation,
    }
}

operation! {
    MembershipStore: head.op_id;
    MembershipTest: head.op_id;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ChannelKey;
    use crate::msg::tests::{round_trip, with_size};
    use gnunet_service::wire::Message;

    fn store() -> MembershipStore {
        MembershipStore {
            head: RequestHead::new(0x0a0b_0c0d_0e0f_1011, ChannelKey([1; 32])),
            slave_key: SlaveKey([2; 32]),
            announced_at: 3,
            effective_since: 4,
            group_generation: 5,
            did_join: 1,
        }
    }

    fn test_req() -> MembershipTest {
        MembershipTest {
            head: RequestHead::new(7, ChannelKey([1; 32])),
            slave_key: SlaveKey([2; 32]),
            message_id: 8,
            group_generation: 9,
        }
    }

    #[test]
    fn layout_and_round_trip() {
        let b = round_trip(&store());
        assert_eq!(b.len(), 105);
        assert_eq!(&b[0..4], &[0, 105, 0x02, 0x94]);
        assert_eq!(&b[4..8], &[0; 4]);
        assert_eq!(&b[8..16], &0x0a0b_0c0d_0e0f_1011u64.to_be_bytes());
        assert_eq!(&b[16..48], &[1; 32]);
        assert_eq!(&b[48..80], &[2; 32]);
        assert_eq!(&b[80..88], &3u64.to_be_bytes());
        assert_eq!(&b[88..96], &4u64.to_be_bytes());
        assert_eq!(&b[96..104], &5u64.to_be_bytes());
        assert_eq!(b[104], 1);

        let b = round_trip(&test_req());
        assert_eq!(b.len(), 96);
        assert_eq!(&b[80..88], &8u64.to_be_bytes());
        assert_eq!(&b[88..96], &9u64.to_be_bytes());
    }

    #[test]
    fn wrong_size_is_rejected() {
        let mut b = store().to_message();
        b.push(0);
        assert!(MembershipStore::from_message(&with_size(b)).is_err());
        let mut b = test_req().to_message();
        b.pop();
        assert!(MembershipTest::from_message(&with_size(b)).is_err());
    }
}
