//! FRAGMENT_STORE (662), FRAGMENT_GET (663), MESSAGE_GET (664), MESSAGE_GET_FRAGMENT (665).

use gnunet_service::wire::{Codec, DecodeError, Message, Reader};

use crate::fragment::Fragment;
use crate::keys::{ChannelKey, SlaveKey};

/// FRAGMENT_STORE (662), 48 bytes + fragment: store one multicast fragment.
///
/// Note the layout: flags at offset 4, the channel key at 8 and `op_id` at **40**. The
/// fragment must exactly fill the rest of the message and be at least 116 bytes; its type
/// field is not checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FragmentStore {
    /// PSYCstore flags to store with the fragment (offset 4).
    pub psycstore_flags: u32,
    /// Channel (offset 8).
    pub channel_key: ChannelKey,
    /// Operation id (offset 40).
    pub op_id: u64,
    /// The fragment (offset 48). Its payload must not exceed [`Fragment::MAX_PAYLOAD`].
    pub fragment: Fragment,
}

impl Codec for FragmentStore {
    fn encode(&self, out: &mut Vec<u8>) {
        self.psycstore_flags.encode(out);
        self.channel_key.encode(out);
        self.op_id.encode(out);
        self.fragment.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let psycstore_flags = u32::read(r)?;
        let channel_key = ChannelKey::read(r)?;
        let op_id = u64::read(r)?;
        // The nested fragment's own size must cover exactly what is left.
        let left = r.left();
        let fragment = Fragment::read(r)?;
        if fragment.encoded_len() != left {
            return Err(DecodeError::Invalid {
                field: "fragment size",
                reason: "does not fill the rest of the message",
            });
        }
        Ok(Self {
            psycstore_flags,
            channel_key,
            op_id,
            fragment,
        })
    }

    fn encoded_len(&self) -> usize {
        48 - 4 + self.fragment.encoded_len()
    }
}

impl Message for FragmentStore {
    const TYPE: u16 = 662;
}

/// FRAGMENT_GET (663), fixed 105 bytes: fragments by id range, or the latest N.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FragmentGet {
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Channel (offset 16).
    pub channel_key: ChannelKey,
    /// Requester, checked when `do_membership_test` is 1 (offset 48).
    pub slave_key: SlaveKey,
    /// Range mode: first fragment id (offset 80).
    pub first_fragment_id: u64,
    /// Range mode: last fragment id, inclusive (offset 88).
    pub last_fragment_id: u64,
    /// 0 = range mode, N > 0 = the latest N fragments (offset 96).
    pub fragment_limit: u64,
    /// 1 = test `slave_key`'s membership first (offset 104).
    pub do_membership_test: u8,
}

impl Codec for FragmentGet {
    fn encode(&self, out: &mut Vec<u8>) {
        0u32.encode(out);
        self.op_id.encode(out);
        self.channel_key.encode(out);
        self.slave_key.encode(out);
        self.first_fragment_id.encode(out);
        self.last_fragment_id.encode(out);
        self.fragment_limit.encode(out);
        self.do_membership_test.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let _reserved = u32::read(r)?;
        Ok(Self {
            op_id: u64::read(r)?,
            channel_key: ChannelKey::read(r)?,
            slave_key: SlaveKey::read(r)?,
            first_fragment_id: u64::read(r)?,
            last_fragment_id: u64::read(r)?,
            fragment_limit: u64::read(r)?,
            do_membership_test: u8::read(r)?,
        })
    }

    fn encoded_len(&self) -> usize {
        105 - 4
    }
}

impl Message for FragmentGet {
    const TYPE: u16 = 663;
}

/// MESSAGE_GET (664), 113 bytes + method prefix: whole messages by id range, or the latest N.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageGet {
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Channel (offset 16).
    pub channel_key: ChannelKey,
    /// Requester (offset 48).
    pub slave_key: SlaveKey,
    /// Range mode: first message id (offset 80).
    pub first_message_id: u64,
    /// Range mode: last message id, inclusive (offset 88).
    pub last_message_id: u64,
    /// 0 = range mode, N > 0 = the latest N messages (offset 96).
    pub message_limit: u64,
    /// Range mode: at most this many fragments, 0 = unlimited (offset 104).
    pub fragment_limit: u64,
    /// 1 = test `slave_key`'s membership first (offset 112).
    pub do_membership_test: u8,
    /// Method prefix without its terminating NUL (offset 113; the service ignores it).
    pub method_prefix: Vec<u8>,
}

impl Codec for MessageGet {
    fn encode(&self, out: &mut Vec<u8>) {
        0u32.encode(out);
        self.op_id.encode(out);
        self.channel_key.encode(out);
        self.slave_key.encode(out);
        self.first_message_id.encode(out);
        self.last_message_id.encode(out);
        self.message_limit.encode(out);
        self.fragment_limit.encode(out);
        self.do_membership_test.encode(out);
        out.extend_from_slice(&self.method_prefix);
        out.push(0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let _reserved = u32::read(r)?;
        let op_id = u64::read(r)?;
        let channel_key = ChannelKey::read(r)?;
        let slave_key = SlaveKey::read(r)?;
        let first_message_id = u64::read(r)?;
        let last_message_id = u64::read(r)?;
        let message_limit = u64::read(r)?;
        let fragment_limit = u64::read(r)?;
        let do_membership_test = u8::read(r)?;
        let method_prefix = match r.rest().split_last() {
            Some((0, prefix)) => prefix.to_vec(),
            _ => {
                return Err(DecodeError::Invalid {
                    field: "method prefix",
                    reason: "missing or not NUL-terminated",
                })
            }
        };
        Ok(Self {
            op_id,
            channel_key,
            slave_key,
            first_message_id,
            last_message_id,
            message_limit,
            fragment_limit,
            do_membership_test,
            method_prefix,
        })
    }

    fn encoded_len(&self) -> usize {
        113 - 4 + self.method_prefix.len() + 1
    }
}

impl Message for MessageGet {
    const TYPE: u16 = 664;
}

/// MESSAGE_GET_FRAGMENT (665), fixed 97 bytes: one fragment by message id and offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageGetFragment {
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Channel (offset 16).
    pub channel_key: ChannelKey,
    /// Requester (offset 48).
    pub slave_key: SlaveKey,
    /// Message id (offset 80).
    pub message_id: u64,
    /// Exact stored fragment offset (offset 88).
    pub fragment_offset: u64,
    /// 1 = test `slave_key`'s membership first (offset 96).
    pub do_membership_test: u8,
}

impl Codec for MessageGetFragment {
    fn encode(&self, out: &mut Vec<u8>) {
        0u32.encode(out);
        self.op_id.encode(out);
        self.channel_key.encode(out);
        self.slave_key.encode(out);
        self.message_id.encode(out);
        self.fragment_offset.encode(out);
        self.do_membership_test.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let _reserved = u32::read(r)?;
        Ok(Self {
            op_id: u64::read(r)?,
            channel_key: ChannelKey::read(r)?,
            slave_key: SlaveKey::read(r)?,
            message_id: u64::read(r)?,
            fragment_offset: u64::read(r)?,
            do_membership_test: u8::read(r)?,
        })
    }

    fn encoded_len(&self) -> usize {
        97 - 4
    }
}

impl Message for MessageGetFragment {
    const TYPE: u16 = 665;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragment::tests::sample;
    use proptest::prelude::*;

    fn store() -> FragmentStore {
        FragmentStore {
            psycstore_flags: 4,
            channel_key: ChannelKey([1; 32]),
            op_id: 0x99,
            fragment: sample(10),
        }
    }

    fn get() -> FragmentGet {
        FragmentGet {
            op_id: 1,
            channel_key: ChannelKey([1; 32]),
            slave_key: SlaveKey([2; 32]),
            first_fragment_id: 10,
            last_fragment_id: 20,
            fragment_limit: 30,
            do_membership_test: 1,
        }
    }

    fn message_get() -> MessageGet {
        MessageGet {
            op_id: 2,
            channel_key: ChannelKey([1; 32]),
            slave_key: SlaveKey([2; 32]),
            first_message_id: 3,
            last_message_id: 4,
            message_limit: 5,
            fragment_limit: 6,
            do_membership_test: 1,
            method_prefix: b"_converse".to_vec(),
        }
    }

    fn get_fragment() -> MessageGetFragment {
        MessageGetFragment {
            op_id: 3,
            channel_key: ChannelKey([1; 32]),
            slave_key: SlaveKey([2; 32]),
            message_id: 4,
            fragment_offset: 1024,
            do_membership_test: 0,
        }
    }

    #[test]
    fn round_trip() {
        assert_eq!(
            FragmentStore::from_message(&store().to_message()).unwrap(),
            store()
        );
        assert_eq!(
            FragmentGet::from_message(&get().to_message()).unwrap(),
            get()
        );
        assert_eq!(
            MessageGet::from_message(&message_get().to_message()).unwrap(),
            message_get()
        );
        let mut empty_prefix = message_get();
        empty_prefix.method_prefix.clear();
        assert_eq!(
            MessageGet::from_message(&empty_prefix.to_message()).unwrap(),
            empty_prefix
        );
        assert_eq!(
            MessageGetFragment::from_message(&get_fragment().to_message()).unwrap(),
            get_fragment()
        );
    }

    #[test]
    fn layout() {
        let b = store().to_message();
        assert_eq!(b.len(), 48 + 116 + 10);
        assert_eq!(&b[4..8], &4u32.to_be_bytes());
        assert_eq!(&b[8..40], &[1; 32]);
        assert_eq!(&b[40..48], &0x99u64.to_be_bytes());
        assert_eq!(&b[48..], &sample(10).to_vec()[..]);

        let b = get().to_message();
        assert_eq!(b.len(), 105);
        assert_eq!(&b[80..88], &10u64.to_be_bytes());
        assert_eq!(&b[88..96], &20u64.to_be_bytes());
        assert_eq!(&b[96..104], &30u64.to_be_bytes());
        assert_eq!(b[104], 1);

        let b = message_get().to_message();
        assert_eq!(b.len(), 113 + 10);
        assert_eq!(&b[96..104], &5u64.to_be_bytes());
        assert_eq!(&b[104..112], &6u64.to_be_bytes());
        assert_eq!(b[112], 1);
        assert_eq!(&b[113..], b"_converse\0");

        let b = get_fragment().to_message();
        assert_eq!(b.len(), 97);
        assert_eq!(&b[88..96], &1024u64.to_be_bytes());
    }

    #[test]
    fn fragment_must_fill_the_store_request() {
        let mut b = store().to_message();
        // grow the message by one byte without growing the fragment
        b.push(0);
        let size = b.len() as u16;
        b[0..2].copy_from_slice(&size.to_be_bytes());
        assert!(FragmentStore::from_message(&b).is_err());
        // a fragment shorter than its header
        let mut b = store().to_message();
        b.truncate(48 + 100);
        b[0..2].copy_from_slice(&148u16.to_be_bytes());
        b[48..50].copy_from_slice(&100u16.to_be_bytes());
        assert!(FragmentStore::from_message(&b).is_err());
    }

    #[test]
    fn method_prefix_must_be_nul_terminated() {
        let mut b = message_get().to_message();
        b.pop();
        let size = b.len() as u16;
        b[0..2].copy_from_slice(&size.to_be_bytes());
        assert!(MessageGet::from_message(&b).is_err());
        b.truncate(113);
        b[0..2].copy_from_slice(&113u16.to_be_bytes());
        assert!(MessageGet::from_message(&b).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = FragmentStore::from_message(&bytes);
            let _ = FragmentGet::from_message(&bytes);
            let _ = MessageGet::from_message(&bytes);
            let _ = MessageGetFragment::from_message(&bytes);
            let _ = FragmentStore::decode_exact(&bytes);
            let _ = MessageGet::decode_exact(&bytes);
        }
    }
}
