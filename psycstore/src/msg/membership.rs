//! MEMBERSHIP_STORE (660) and MEMBERSHIP_TEST (661).

use gnunet_service::wire::{Codec, DecodeError, Message, Reader};

use crate::keys::{ChannelKey, SlaveKey};

/// MEMBERSHIP_STORE (660), fixed 105 bytes: record that a slave joined or left a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipStore {
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Channel (offset 16).
    pub channel_key: ChannelKey,
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

impl Codec for MembershipStore {
    fn encode(&self, out: &mut Vec<u8>) {
        0u32.encode(out);
        self.op_id.encode(out);
        self.channel_key.encode(out);
        self.slave_key.encode(out);
        self.announced_at.encode(out);
        self.effective_since.encode(out);
        self.group_generation.encode(out);
        self.did_join.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let _reserved = u32::read(r)?;
        Ok(Self {
            op_id: u64::read(r)?,
            channel_key: ChannelKey::read(r)?,
            slave_key: SlaveKey::read(r)?,
            announced_at: u64::read(r)?,
            effective_since: u64::read(r)?,
            group_generation: u64::read(r)?,
            did_join: u8::read(r)?,
        })
    }

    fn encoded_len(&self) -> usize {
        105 - 4
    }
}

impl Message for MembershipStore {
    const TYPE: u16 = 660;
}

/// MEMBERSHIP_TEST (661), fixed 96 bytes: may this slave read this message?
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipTest {
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Channel (offset 16).
    pub channel_key: ChannelKey,
    /// Member asking (offset 48).
    pub slave_key: SlaveKey,
    /// Message the access is tested for (offset 80).
    pub message_id: u64,
    /// Group generation (offset 88; ignored by the service).
    pub group_generation: u64,
}

impl Codec for MembershipTest {
    fn encode(&self, out: &mut Vec<u8>) {
        0u32.encode(out);
        self.op_id.encode(out);
        self.channel_key.encode(out);
        self.slave_key.encode(out);
        self.message_id.encode(out);
        self.group_generation.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let _reserved = u32::read(r)?;
        Ok(Self {
            op_id: u64::read(r)?,
            channel_key: ChannelKey::read(r)?,
            slave_key: SlaveKey::read(r)?,
            message_id: u64::read(r)?,
            group_generation: u64::read(r)?,
        })
    }

    fn encoded_len(&self) -> usize {
        96 - 4
    }
}

impl Message for MembershipTest {
    const TYPE: u16 = 661;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn store() -> MembershipStore {
        MembershipStore {
            op_id: 0x0a0b_0c0d_0e0f_1011,
            channel_key: ChannelKey([1; 32]),
            slave_key: SlaveKey([2; 32]),
            announced_at: 3,
            effective_since: 4,
            group_generation: 5,
            did_join: 1,
        }
    }

    fn test_req() -> MembershipTest {
        MembershipTest {
            op_id: 7,
            channel_key: ChannelKey([1; 32]),
            slave_key: SlaveKey([2; 32]),
            message_id: 8,
            group_generation: 9,
        }
    }

    #[test]
    fn round_trip() {
        let m = store();
        assert_eq!(MembershipStore::from_message(&m.to_message()).unwrap(), m);
        let t = test_req();
        assert_eq!(MembershipTest::from_message(&t.to_message()).unwrap(), t);
    }

    #[test]
    fn layout() {
        let b = store().to_message();
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

        let b = test_req().to_message();
        assert_eq!(b.len(), 96);
        assert_eq!(&b[80..88], &8u64.to_be_bytes());
        assert_eq!(&b[88..96], &9u64.to_be_bytes());
    }

    #[test]
    fn wrong_size_is_rejected() {
        let mut b = store().to_message();
        b.push(0);
        b[1] = 106;
        assert!(MembershipStore::from_message(&b).is_err());
        let mut b = test_req().to_message();
        b.pop();
        b[1] = 95;
        assert!(MembershipTest::from_message(&b).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = MembershipStore::from_message(&bytes);
            let _ = MembershipTest::from_message(&bytes);
            let _ = MembershipStore::decode_exact(&bytes);
        }
    }
}
