//! PSYCstore's client↔service messages (types 660–677), one type per message.
//!
//! Layouts are `psycstore.md` §4. Every integer is big-endian; `op_id` is whatever the client
//! chose and is echoed back unchanged. The quirks a drop-in must keep:
//! - RESULT_CODE carries its result biased by 2^63 ([`bias`], [`unbias`]);
//!   RESULT_COUNTERS does not.
//! - FRAGMENT_STORE has `op_id` at offset 40, STATE_MODIFY at offset 4 (no reserved word).
//! - Fixed-size requests must have exactly their size; the service drops the client otherwise,
//!   which is what a [`DecodeError`] from [`Request::decode`] means.
//!
//! `reserved` fields are written as zero and ignored on receipt, so they are not kept.

use gnunet_service::wire::{DecodeError, Message, HEADER_SIZE};

mod counters;
mod fragment;
mod membership;
mod result;
mod state;

pub use counters::{CountersGet, CountersResult};
pub use fragment::{FragmentGet, FragmentStore, MessageGet, MessageGetFragment};
pub use membership::{MembershipStore, MembershipTest};
pub use result::{FragmentResult, ResultCode, StateResult};
pub use state::{
    StateGet, StateGetPrefix, StateHashUpdate, StateModify, StateReset, StateSync, STATE_OP_FIRST,
    STATE_OP_LAST,
};

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
/// two's-complement value with its top bit flipped (`psycstore.md` §3.2).
pub fn bias(result: i64) -> u64 {
    (result as u64) ^ (1 << 63)
}

/// Inverse of [`bias`].
pub fn unbias(wire: u64) -> i64 {
    (wire ^ (1 << 63)) as i64
}

/// Why a client's message could not be turned into a [`Request`]. The service drops the client
/// and logs the type and size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The bytes do not even hold a message header.
    #[error("message shorter than its header ({0} bytes)")]
    NoHeader(usize),
    /// A type PSYCstore does not handle.
    #[error("unknown message type {msg_type} (size {size})")]
    UnknownType {
        /// The type found.
        msg_type: u16,
        /// The message size.
        size: usize,
    },
    /// A known type with a layout the C service would reject.
    #[error("malformed message of type {msg_type} (size {size}): {source}")]
    Malformed {
        /// The type found.
        msg_type: u16,
        /// The message size.
        size: usize,
        /// What is wrong.
        source: DecodeError,
    },
}

/// A decoded client→service request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is named after and documented by its message type
pub enum Request {
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

impl Request {
    /// Decodes one complete client message (header included).
    pub fn decode(bytes: &[u8]) -> Result<Self, RequestError> {
        if bytes.len() < HEADER_SIZE {
            return Err(RequestError::NoHeader(bytes.len()));
        }
        let msg_type = u16::from_be_bytes([bytes[2], bytes[3]]);
        let size = bytes.len();
        let wrap = |source| RequestError::Malformed {
            msg_type,
            size,
            source,
        };
        Ok(match msg_type {
            MembershipStore::TYPE => {
                Self::MembershipStore(MembershipStore::from_message(bytes).map_err(wrap)?)
            }
            MembershipTest::TYPE => {
                Self::MembershipTest(MembershipTest::from_message(bytes).map_err(wrap)?)
            }
            FragmentStore::TYPE => {
                Self::FragmentStore(FragmentStore::from_message(bytes).map_err(wrap)?)
            }
            FragmentGet::TYPE => Self::FragmentGet(FragmentGet::from_message(bytes).map_err(wrap)?),
            MessageGet::TYPE => Self::MessageGet(MessageGet::from_message(bytes).map_err(wrap)?),
            MessageGetFragment::TYPE => {
                Self::MessageGetFragment(MessageGetFragment::from_message(bytes).map_err(wrap)?)
            }
            CountersGet::TYPE => Self::CountersGet(CountersGet::from_message(bytes).map_err(wrap)?),
            StateModify::TYPE => Self::StateModify(StateModify::from_message(bytes).map_err(wrap)?),
            StateSync::TYPE => Self::StateSync(StateSync::from_message(bytes).map_err(wrap)?),
            StateReset::TYPE => Self::StateReset(StateReset::from_message(bytes).map_err(wrap)?),
            StateHashUpdate::TYPE => {
                Self::StateHashUpdate(StateHashUpdate::from_message(bytes).map_err(wrap)?)
            }
            StateGet::TYPE => Self::StateGet(StateGet::from_message(bytes).map_err(wrap)?),
            StateGetPrefix::TYPE => {
                Self::StateGetPrefix(StateGetPrefix::from_message(bytes).map_err(wrap)?)
            }
            _ => return Err(RequestError::UnknownType { msg_type, size }),
        })
    }

    /// The complete message, header included.
    pub fn to_message(&self) -> Vec<u8> {
        match self {
            Self::MembershipStore(m) => m.to_message(),
            Self::MembershipTest(m) => m.to_message(),
            Self::FragmentStore(m) => m.to_message(),
            Self::FragmentGet(m) => m.to_message(),
            Self::MessageGet(m) => m.to_message(),
            Self::MessageGetFragment(m) => m.to_message(),
            Self::CountersGet(m) => m.to_message(),
            Self::StateModify(m) => m.to_message(),
            Self::StateSync(m) => m.to_message(),
            Self::StateReset(m) => m.to_message(),
            Self::StateHashUpdate(m) => m.to_message(),
            Self::StateGet(m) => m.to_message(),
            Self::StateGetPrefix(m) => m.to_message(),
        }
    }

    /// The client's operation id, echoed in every reply to this request.
    pub fn op_id(&self) -> u64 {
        match self {
            Self::MembershipStore(m) => m.op_id,
            Self::MembershipTest(m) => m.op_id,
            Self::FragmentStore(m) => m.op_id,
            Self::FragmentGet(m) => m.op_id,
            Self::MessageGet(m) => m.op_id,
            Self::MessageGetFragment(m) => m.op_id,
            Self::CountersGet(m) => m.op_id,
            Self::StateModify(m) => m.op_id,
            Self::StateSync(m) => m.op_id,
            Self::StateReset(m) => m.op_id,
            Self::StateHashUpdate(m) => m.op_id,
            Self::StateGet(m) => m.op_id,
            Self::StateGetPrefix(m) => m.op_id,
        }
    }
}

/// A decoded service→client reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is named after and documented by its message type
pub enum Reply {
    ResultCode(ResultCode),
    Fragment(FragmentResult),
    Counters(CountersResult),
    State(StateResult),
}

impl Reply {
    /// Decodes one complete service message (header included).
    pub fn decode(bytes: &[u8]) -> Result<Self, RequestError> {
        if bytes.len() < HEADER_SIZE {
            return Err(RequestError::NoHeader(bytes.len()));
        }
        let msg_type = u16::from_be_bytes([bytes[2], bytes[3]]);
        let size = bytes.len();
        let wrap = |source| RequestError::Malformed {
            msg_type,
            size,
            source,
        };
        Ok(match msg_type {
            ResultCode::TYPE => Self::ResultCode(ResultCode::from_message(bytes).map_err(wrap)?),
            FragmentResult::TYPE => {
                Self::Fragment(FragmentResult::from_message(bytes).map_err(wrap)?)
            }
            CountersResult::TYPE => {
                Self::Counters(CountersResult::from_message(bytes).map_err(wrap)?)
            }
            StateResult::TYPE => Self::State(StateResult::from_message(bytes).map_err(wrap)?),
            _ => return Err(RequestError::UnknownType { msg_type, size }),
        })
    }

    /// The operation id the reply belongs to.
    pub fn op_id(&self) -> u64 {
        match self {
            Self::ResultCode(m) => m.op_id,
            Self::Fragment(m) => m.op_id,
            Self::Counters(m) => m.op_id,
            Self::State(m) => m.op_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Request::decode(&bytes);
            let _ = Reply::decode(&bytes);
        }
    }
}
