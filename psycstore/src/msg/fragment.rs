//! FRAGMENT_STORE (662), FRAGMENT_GET (663), MESSAGE_GET (664), MESSAGE_GET_FRAGMENT (665).

use gnunet_service::wire::{CString, NestedAnyType};
use gnunet_service::wire_layout;

use super::head::{operation, RequestHead};
use super::{TYPE_FRAGMENT_GET, TYPE_FRAGMENT_STORE, TYPE_MESSAGE_GET, TYPE_MESSAGE_GET_FRAGMENT};
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
    /// The fragment (offset 48). Its payload must not exceed
    /// [`MAX_PAYLOAD`](crate::fragment::MAX_PAYLOAD).
    pub fragment: Fragment,
}

wire_layout! {
    impl Message(TYPE_FRAGMENT_STORE) for FragmentStore {
        psycstore_flags,
        channel_key,
        op_id,
        fragment as NestedAnyType,
    }
}

/// FRAGMENT_GET (663), fixed 105 bytes: fragments by id range, or the latest N.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FragmentGet {
    /// Operation id and channel (offset 4).
    pub head: RequestHead,
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

wire_layout! {
    impl Message(TYPE_FRAGMENT_GET) for FragmentGet {
        head,
        slave_key,
        first_fragment_id,
        last_fragment_id,
        fragment_limit,
        do_membership_test,
    }
}

/// MESSAGE_GET (664), 113 bytes + method prefix: whole messages by id range, or the latest N.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageGet {
    /// Operation id and channel (offset 4).
    pub head: RequestHead,
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

wire_layout! {
    impl Message(TYPE_MESSAGE_GET) for MessageGet {
        head,
        slave_key,
        first_message_id,
        last_message_id,
        message_limit,
        fragment_limit,
        do_membership_test,
        method_prefix as CString,
    }
}

/// MESSAGE_GET_FRAGMENT (665), fixed 97 bytes: one fragment by message id and offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageGetFragment {
    /// Operation id and channel (offset 4).
    pub head: RequestHead,
    /// Requester (offset 48).
    pub slave_key: SlaveKey,
    /// Message id (offset 80).
    pub message_id: u64,
    /// Exact stored fragment offset (offset 88).
    pub fragment_offset: u64,
    /// 1 = test `slave_key`'s membership first (offset 96).
    pub do_membership_test: u8,
}

wire_layout! {
    impl Message(TYPE_MESSAGE_GET_FRAGMENT) for MessageGetFragment {
        head,
        slave_key,
        message_id,
        fragment_offset,
        do_membership_test,
    }
}

operation! {
    FragmentStore: op_id;
    FragmentGet: head.op_id;
    MessageGet: head.op_id;
    MessageGetFragment: head.op_id;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragment::tests::sample;
    use crate::msg::tests::{round_trip, with_size};
    use gnunet_service::wire::Message;

    const HEAD: RequestHead = RequestHead {
        op_id: 1,
        channel_key: ChannelKey([1; 32]),
    };

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
            head: HEAD,
            slave_key: SlaveKey([2; 32]),
            first_fragment_id: 10,
            last_fragment_id: 20,
            fragment_limit: 30,
            do_membership_test: 1,
        }
    }

    fn message_get() -> MessageGet {
        MessageGet {
            head: HEAD,
            slave_key: SlaveKey([2; 32]),
            first_message_id: 3,
            last_message_id: 4,
            message_limit: 5,
            fragment_limit: 6,
            do_membership_test: 1,
            method_prefix: b"_converse".to_vec(),
        }
    }

    #[test]
    fn layout_and_round_trip() {
        let b = round_trip(&store());
        assert_eq!(b.len(), 48 + 116 + 10);
        assert_eq!(&b[4..8], &4u32.to_be_bytes());
        assert_eq!(&b[8..40], &[1; 32]);
        assert_eq!(&b[40..48], &0x99u64.to_be_bytes());
        assert_eq!(&b[48..], &sample(10).to_message()[..]);

        let b = round_trip(&get());
        assert_eq!(b.len(), 105);
        assert_eq!(&b[80..88], &10u64.to_be_bytes());
        assert_eq!(&b[88..96], &20u64.to_be_bytes());
        assert_eq!(&b[96..104], &30u64.to_be_bytes());
        assert_eq!(b[104], 1);

        let b = round_trip(&message_get());
        assert_eq!(b.len(), 113 + 10);
        assert_eq!(&b[96..104], &5u64.to_be_bytes());
        assert_eq!(&b[104..112], &6u64.to_be_bytes());
        assert_eq!(b[112], 1);
        assert_eq!(&b[113..], b"_converse\0");
        let mut empty_prefix = message_get();
        empty_prefix.method_prefix.clear();
        assert_eq!(round_trip(&empty_prefix).len(), 114);

        let b = round_trip(&MessageGetFragment {
            head: HEAD,
            slave_key: SlaveKey([2; 32]),
            message_id: 4,
            fragment_offset: 1024,
            do_membership_test: 0,
        });
        assert_eq!(b.len(), 97);
        assert_eq!(&b[88..96], &1024u64.to_be_bytes());
    }

    #[test]
    fn fragment_must_fill_the_store_request() {
        // grow the message by one byte without growing the fragment
        let mut b = store().to_message();
        b.push(0);
        assert!(FragmentStore::from_message(&with_size(b)).is_err());
        // a fragment shorter than its header
        let mut b = store().to_message();
        b.truncate(48 + 100);
        b[48..50].copy_from_slice(&100u16.to_be_bytes());
        assert!(FragmentStore::from_message(&with_size(b)).is_err());
    }

    #[test]
    fn method_prefix_must_be_nul_terminated() {
        let mut b = message_get().to_message();
        b.pop();
        assert!(MessageGet::from_message(&with_size(b.clone())).is_err());
        b.truncate(113);
        assert!(MessageGet::from_message(&with_size(b)).is_err());
    }
}
