//! PSYCstore's client↔service messages (types 660–677), one type per message.
//!
//! Layouts are `psycstore.md` §4. Every integer is big-endian; `op_id` is whatever the client
//! chose and is echoed back unchanged. The quirks a drop-in must keep:
//! - RESULT_CODE carries its result biased by 2^63 ([`bias`], [`unbias`]);
//!   RESULT_COUNTERS does not.
//! - FRAGMENT_STORE has `op_id` at offset 40, STATE_MODIFY at offset 4 (no reserved word).
//! - Fixed-size requests must have exactly their size; the service drops the client otherwise,
//!   which is what a [`RequestError`] from [`Request::decode`] means.
//!
//! `reserved` fields are written as zero and ignored on receipt, so they are not kept. Layouts
//! are declared field by field in wire order with [`wire_layout!`](gnunet_service::wire_layout);
//! only RESULT_STATE, whose name size is derived from its name, is written by hand.

use gnunet_service::wire::OffsetBinary;

mod counters;
mod fragment;
mod head;
mod membership;
mod result;
mod state;

pub use counters::{CountersGet, CountersResult};
pub use fragment::{FragmentGet, FragmentStore, MessageGet, MessageGetFragment};
pub use head::RequestHead;
pub use membership::{MembershipStore, MembershipTest};
pub use result::{FragmentResult, ResultCode, StateResult};
pub use state::{
    StateGet, StateGetPrefix, StateHashUpdate, StateModify, StateReset, StateSync, STATE_OP_FIRST,
    STATE_OP_LAST,
};

/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_MEMBERSHIP_STORE`.
pub const TYPE_MEMBERSHIP_STORE: u16 = 660;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_MEMBERSHIP_TEST`.
pub const TYPE_MEMBERSHIP_TEST: u16 = 661;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_FRAGMENT_STORE`.
pub const TYPE_FRAGMENT_STORE: u16 = 662;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_FRAGMENT_GET`.
pub const TYPE_FRAGMENT_GET: u16 = 663;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_MESSAGE_GET`.
pub const TYPE_MESSAGE_GET: u16 = 664;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_MESSAGE_GET_FRAGMENT`.
pub const TYPE_MESSAGE_GET_FRAGMENT: u16 = 665;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_COUNTERS_GET`.
pub const TYPE_COUNTERS_GET: u16 = 666;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_MODIFY`.
pub const TYPE_STATE_MODIFY: u16 = 668;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_SYNC`.
pub const TYPE_STATE_SYNC: u16 = 669;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_RESET`.
pub const TYPE_STATE_RESET: u16 = 670;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_HASH_UPDATE`.
pub const TYPE_STATE_HASH_UPDATE: u16 = 671;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_GET`.
pub const TYPE_STATE_GET: u16 = 672;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_GET_PREFIX`.
pub const TYPE_STATE_GET_PREFIX: u16 = 673;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_RESULT_CODE`.
pub const TYPE_RESULT_CODE: u16 = 674;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_RESULT_FRAGMENT`.
pub const TYPE_RESULT_FRAGMENT: u16 = 675;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_RESULT_COUNTERS`.
pub const TYPE_RESULT_COUNTERS: u16 = 676;
/// `GNUNET_MESSAGE_TYPE_PSYCSTORE_RESULT_STATE`.
pub const TYPE_RESULT_STATE: u16 = 677;

/// A message that belongs to one client operation: every request and reply carries the
/// operation id the client chose.
pub trait Operation {
    /// The operation id.
    fn op_id(&self) -> u64;

    /// Puts `op_id` in place of the operation id.
    fn set_op_id(&mut self, op_id: u64);
}

/// Result values the service reports (`GNUNET_OK`, `GNUNET_NO`, …).
pub mod status {
    /// `GNUNET_OK` / `GNUNET_YES`.
    pub const OK: i64 = 1;
    /// `GNUNET_NO`: nothing found / not applicable.
    pub const NO: i64 = 0;
    /// `GNUNET_SYSERR`: the operation failed.
    pub const SYSERR: i64 = -1;
    /// `GNUNET_PSYCSTORE_MEMBERSHIP_TEST_FAILED`: the requester may not read the fragment.
    pub const MEMBERSHIP_TEST_FAILED: i64 = -2;
}

/// Per-fragment PSYCstore flags (`enum GNUNET_PSYCSTORE_MessageFlags`), stored opaquely.
pub mod message_flags {
    /// The message contains state modifiers.
    pub const STATE: u32 = 1;
    /// The message's state modifiers were applied.
    pub const STATE_APPLIED: u32 = 2;
    /// The message contains a state hash.
    pub const STATE_HASH: u32 = 4;
}

/// Wire form of a RESULT_CODE result: `result − INT64_MIN` with wrap-around, i.e. the
/// two's-complement value with its top bit flipped (`psycstore.md` §3.2): [`OffsetBinary`].
pub fn bias(result: i64) -> u64 {
    OffsetBinary::to_wire(result)
}

/// Inverse of [`bias`].
pub fn unbias(wire: u64) -> i64 {
    OffsetBinary::from_wire(wire)
}

/// Why a client's message could not be turned into a [`Request`] (or a service's into a
/// [`Reply`]): the wire crate's [`DispatchError`](gnunet_service::wire::DispatchError). The
/// service drops the client and logs the type and size.
pub use gnunet_service::wire::DispatchError as RequestError;

/// An enum over message types that all carry an operation id:
/// [`message_enum!`](gnunet_service::message_enum) (decoding by type number, encoding) and the
/// operation id.
macro_rules! operation_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident($ty:ty)),* $(,)? }) => {
        gnunet_service::message_enum!(
            $(#[$doc])*
            pub $name { $($variant($ty),)* }
        );

        impl $name {
            /// The operation id the message carries.
            pub fn op_id(&self) -> u64 {
                match self {
                    $(Self::$variant(m) => Operation::op_id(m),)*
                }
            }
        }

        impl Operation for $name {
            fn op_id(&self) -> u64 {
                $name::op_id(self)
            }

            fn set_op_id(&mut self, op_id: u64) {
                match self {
                    $(Self::$variant(m) => m.set_op_id(op_id),)*
                }
            }
        }
    };
}

operation_enum!(
    /// A decoded client→service request.
    Request {
        MembershipStore(MembershipStore),
        MembershipTest(MembershipTest),
        FragmentStore(FragmentStore),
        FragmentGet(FragmentGet),
        MessageGet(MessageGet),
        MessageGetFragment(MessageGetFragment),
        CountersGet(CountersGet),
        StateModify(StateModify),
        StateSync(StateSync),
        StateReset(StateReset),
        StateHashUpdate(StateHashUpdate),
        StateGet(StateGet),
        StateGetPrefix(StateGetPrefix),
    }
);

operation_enum!(
    /// A decoded service→client reply.
    Reply {
        ResultCode(ResultCode),
        Fragment(FragmentResult),
        Counters(CountersResult),
        State(StateResult),
    }
);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gnunet_service::wire::{Codec, Message, HEADER_SIZE};
    use proptest::prelude::*;

    /// Encodes `m`, checks that it decodes back to `m`, and returns the bytes for the layout
    /// assertions.
    pub(crate) fn round_trip<M: Message + std::fmt::Debug + PartialEq>(m: &M) -> Vec<u8> {
        let bytes = m.to_message();
        assert_eq!(&M::from_message(&bytes).unwrap(), m);
        assert_eq!(&M::decode_exact(&bytes[HEADER_SIZE..]).unwrap(), m);
        bytes
    }

    /// `bytes` with the header's size field set to their length.
    pub(crate) fn with_size(mut bytes: Vec<u8>) -> Vec<u8> {
        let size = bytes.len() as u16;
        bytes[0..2].copy_from_slice(&size.to_be_bytes());
        bytes
    }

    #[test]
    fn type_numbers_match_gnunet_protocols_h() {
        use gnunet_sys as sys;
        let pairs = [
            (
                TYPE_MEMBERSHIP_STORE,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_MEMBERSHIP_STORE,
            ),
            (
                TYPE_MEMBERSHIP_TEST,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_MEMBERSHIP_TEST,
            ),
            (
                TYPE_FRAGMENT_STORE,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_FRAGMENT_STORE,
            ),
            (
                TYPE_FRAGMENT_GET,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_FRAGMENT_GET,
            ),
            (
                TYPE_MESSAGE_GET,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_MESSAGE_GET,
            ),
            (
                TYPE_MESSAGE_GET_FRAGMENT,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_MESSAGE_GET_FRAGMENT,
            ),
            (
                TYPE_COUNTERS_GET,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_COUNTERS_GET,
            ),
            (
                TYPE_STATE_MODIFY,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_MODIFY,
            ),
            (
                TYPE_STATE_SYNC,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_SYNC,
            ),
            (
                TYPE_STATE_RESET,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_RESET,
            ),
            (
                TYPE_STATE_HASH_UPDATE,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_HASH_UPDATE,
            ),
            (TYPE_STATE_GET, sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_GET),
            (
                TYPE_STATE_GET_PREFIX,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_STATE_GET_PREFIX,
            ),
            (
                TYPE_RESULT_CODE,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_RESULT_CODE,
            ),
            (
                TYPE_RESULT_FRAGMENT,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_RESULT_FRAGMENT,
            ),
            (
                TYPE_RESULT_COUNTERS,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_RESULT_COUNTERS,
            ),
            (
                TYPE_RESULT_STATE,
                sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_RESULT_STATE,
            ),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(u32::from(ours), theirs);
        }
    }

    #[test]
    fn the_request_head_is_reserved_op_id_and_channel() {
        let head = RequestHead::new(0x0102_0304_0506_0708, crate::keys::ChannelKey([9; 32]));
        let b = head.to_vec();
        assert_eq!(b.len(), 44);
        assert_eq!(&b[0..4], &[0; 4]);
        assert_eq!(&b[4..12], &0x0102_0304_0506_0708u64.to_be_bytes());
        assert_eq!(&b[12..44], &[9; 32]);
        assert_eq!(RequestHead::decode_exact(&b), Ok(head));
    }

    #[test]
    fn bias_matches_the_spec_table() {
        assert_eq!(bias(1).to_be_bytes(), [0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(bias(0).to_be_bytes(), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            bias(-1).to_be_bytes(),
            [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            bias(-2).to_be_bytes(),
            [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]
        );
        assert_eq!(bias(3).to_be_bytes(), [0x80, 0, 0, 0, 0, 0, 0, 3]);
        for v in [i64::MIN, -5, 0, 7, i64::MAX] {
            assert_eq!(unbias(bias(v)), v);
        }
    }

    #[test]
    fn unknown_and_headerless_messages_are_errors() {
        assert_eq!(Request::decode(&[0, 3, 2]), Err(RequestError::NoHeader(3)));
        assert!(matches!(
            Request::decode(&[0, 4, 2, 0x9b]),
            Err(RequestError::UnknownType {
                msg_type: 667,
                size: 4
            })
        ));
        // a reply type is not a request
        assert!(matches!(
            Request::decode(&ResultCode::new(1, 1).to_message()),
            Err(RequestError::UnknownType { msg_type: 674, .. })
        ));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_messages_never_panics(
            msg_type in 655u16..680,
            body in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let size = (body.len() + 4) as u16;
            let mut bytes = size.to_be_bytes().to_vec();
            bytes.extend_from_slice(&msg_type.to_be_bytes());
            bytes.extend_from_slice(&body);
            if let Ok(req) = Request::decode(&bytes) {
                // whatever decodes re-encodes to something that decodes to the same value
                prop_assert_eq!(Request::decode(&req.to_message()), Ok(req));
            }
            if let Ok(reply) = Reply::decode(&bytes) {
                prop_assert_eq!(reply.op_id(), reply.op_id());
            }
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Request::decode(&bytes);
            let _ = Reply::decode(&bytes);
            // every body decoder on its own, as a nested or embedded use would call it
            macro_rules! bodies {
                ($($ty:ty),*) => {$(let _ = <$ty>::decode_exact(&bytes);)*};
            }
            bodies!(
                MembershipStore, MembershipTest, FragmentStore, FragmentGet, MessageGet,
                MessageGetFragment, CountersGet, StateModify, StateSync, StateReset,
                StateHashUpdate, StateGet, StateGetPrefix, ResultCode, FragmentResult,
                CountersResult, StateResult
            );
        }
    }
}
