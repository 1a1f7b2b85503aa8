//! Wire types of every multicast message, client↔service and peer↔peer (types 750–762).
//!
//! The layouts are those of the 2019 C original (`multicast.h`), quirks included:
//! - [`ReplayRequest`] is 80 bytes and [`ReplayResponse`] 48 bytes because of x86-64 ABI padding
//!   (padding is written as zeros and ignored when read);
//! - [`OriginStart::max_fragment_id`] and [`Fragment::group_generation`] are little-endian,
//!   the host order in which the C client library writes them on every platform GNUnet runs on;
//! - a join decision is always the 68-byte outer header followed by the inner decision (to
//!   joiners of this implementation only, an 8-byte admission point follows it).
//!
//! Each type implements [`Message`] (header added and checked by `to_message`/`from_message`).
//! Layouts are declared once, field by field in wire order, with
//! [`wire_layout!`](gnunet_service::wire_layout); only MEMBER_JOIN, whose relay count stands
//! apart from its relays, is written by hand. The layout tests compare every fixed part with
//! the C struct rebuilt from `gnunet-sys` types (sizes and field offsets). [`Any`] decodes
//! whichever of them a buffer holds.

/// The inherent methods of a message whose signature covers everything from its purpose
/// field (at byte `$offset` of the message) to its end: its size, the purpose it must carry and
/// the block that is signed.
macro_rules! signed_range {
    ($ty:ident, signed_from: $offset:expr, purpose: $purpose:ident) => {
        impl $ty {
            /// Total size on the wire, header included.
            pub fn wire_size(&self) -> usize {
                gnunet_service::wire::HEADER_SIZE + gnunet_service::wire::Codec::encoded_len(self)
            }

            #[doc = concat!(
                                        "The purpose the signed range must carry: its size and [`",
                                        stringify!($purpose),
                                        "`](super::",
                                        stringify!($purpose),
                                        ")."
                                    )]
            pub fn expected_purpose(&self) -> gnunet_service::crypto::purpose::SignaturePurpose {
                gnunet_service::crypto::purpose::SignaturePurpose {
                    size: self.wire_size().saturating_sub($offset) as u32,
                    purpose: super::$purpose,
                }
            }

            /// Fills in the purpose header for signing.
            pub fn set_purpose(&mut self) {
                self.purpose = self.expected_purpose();
            }

            /// Whether the purpose header is the one a correctly signed message carries.
            pub fn purpose_ok(&self) -> bool {
                self.purpose == self.expected_purpose()
            }

            /// The bytes the signature covers: the purpose field to the end.
            pub fn signed_block(&self) -> Vec<u8> {
                let mut out = gnunet_service::wire::Codec::to_vec(self);
                let unsigned = ($offset - gnunet_service::wire::HEADER_SIZE).min(out.len());
                out.drain(..unsigned);
                out
            }
        }
    };
}

#[cfg(test)]
mod c_structs;
mod control;
mod fragment;
mod join;
mod replay;

pub use control::{FragmentAck, GroupEnd, PartAck, PartRequest};
pub use fragment::{Fragment, Request, FRAGMENT_HEADER_SIZE, REQUEST_HEADER_SIZE};
pub use join::{
    Decision, JoinDecision, JoinRequest, MemberJoin, OriginStart, JOIN_DECISION_HEADER_SIZE,
    JOIN_REQUEST_HEADER_SIZE, MEMBER_JOIN_HEADER_SIZE, TREE_CAPABLE,
};
pub use replay::{
    ReplayError, ReplayIds, ReplayRequest, ReplayResponse, ReplayResponseEnd, REPLAY_REQUEST_SIZE,
    REPLAY_RESPONSE_HEADER_SIZE,
};

use gnunet_service::crypto::purpose::SignaturePurpose;
use gnunet_service::wire::{DecodeError, Message, HEADER_SIZE};

/// The purpose field of a message not signed yet (what a client sends).
const NO_PURPOSE: SignaturePurpose = SignaturePurpose {
    size: 0,
    purpose: 0,
};

/// `GNUNET_MESSAGE_TYPE_MULTICAST_ORIGIN_START`.
pub const TYPE_ORIGIN_START: u16 = 750;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_MEMBER_JOIN`.
pub const TYPE_MEMBER_JOIN: u16 = 751;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_JOIN_REQUEST`.
pub const TYPE_JOIN_REQUEST: u16 = 752;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_JOIN_DECISION`.
pub const TYPE_JOIN_DECISION: u16 = 753;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_PART_REQUEST`.
pub const TYPE_PART_REQUEST: u16 = 754;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_PART_ACK`.
pub const TYPE_PART_ACK: u16 = 755;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_GROUP_END`.
pub const TYPE_GROUP_END: u16 = 756;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_MESSAGE`.
pub const TYPE_MESSAGE: u16 = 757;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_REQUEST`.
pub const TYPE_REQUEST: u16 = 758;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_FRAGMENT_ACK`.
pub const TYPE_FRAGMENT_ACK: u16 = 759;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_REPLAY_REQUEST`.
pub const TYPE_REPLAY_REQUEST: u16 = 760;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_REPLAY_RESPONSE`.
pub const TYPE_REPLAY_RESPONSE: u16 = 761;
/// `GNUNET_MESSAGE_TYPE_MULTICAST_REPLAY_RESPONSE_END`.
pub const TYPE_REPLAY_RESPONSE_END: u16 = 762;

/// `GNUNET_SIGNATURE_PURPOSE_MULTICAST_MESSAGE`: the group key signs message fragments.
pub const PURPOSE_MESSAGE: u32 = 19;
/// `GNUNET_SIGNATURE_PURPOSE_MULTICAST_REQUEST`: the member key signs requests and join
/// requests.
pub const PURPOSE_REQUEST: u32 = 24;

/// `GNUNET_MULTICAST_FRAGMENT_MAX_SIZE`: largest message fragment, header included.
pub const FRAGMENT_MAX_SIZE: usize = 63 * 1024;
/// `GNUNET_MULTICAST_FRAGMENT_MAX_PAYLOAD`: largest payload of one message fragment.
pub const FRAGMENT_MAX_PAYLOAD: usize = FRAGMENT_MAX_SIZE - FRAGMENT_HEADER_SIZE;

/// `GNUNET_YES` in a join decision: admitted.
pub const ADMITTED: i32 = 1;
/// `GNUNET_NO` in a join decision: refused.
pub const REFUSED: i32 = 0;
/// `GNUNET_SYSERR` in a join decision: the origin could not answer.
pub const UNDECIDED: i32 = -1;
/// Between peers of this implementation only: "I have no room for you, join through one of
/// these relays instead". Sent only to joiners that marked their JOIN_REQUEST
/// [`TREE_CAPABLE`]; C peers never see it.
pub const REDIRECT: i32 = 2;

/// The type in the header of a complete message, if it has one.
pub fn message_type(bytes: &[u8]) -> Option<u16> {
    (bytes.len() >= HEADER_SIZE).then(|| u16::from_be_bytes([bytes[2], bytes[3]]))
}

/// Declares [`Any`] over the message types named, each a variant of the same name.
macro_rules! any_message {
    ($($name:ident),* $(,)?) => {
        /// Any multicast message, decoded by the type in its header.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(clippy::large_enum_variant)]
        pub enum Any {
            $(
                #[doc = concat!("[`", stringify!($name), "`].")]
                $name($name),
            )*
        }

        impl Any {
            /// Decodes a complete message (header included) of any multicast type.
            pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
                let t = message_type(bytes).ok_or(DecodeError::Truncated {
                    what: "message header",
                    needed: HEADER_SIZE,
                    available: bytes.len(),
                })?;
                $(
                    if t == <$name as Message>::TYPE {
                        return Ok(Any::$name($name::from_message(bytes)?));
                    }
                )*
                Err(DecodeError::Invalid {
                    field: "message type",
                    reason: "not a multicast message type",
                })
            }

            /// The complete wire form, header included.
            pub fn to_message(&self) -> Vec<u8> {
                match self {
                    $(Any::$name(m) => m.to_message(),)*
                }
            }
        }
    };
}

any_message!(
    OriginStart,
    MemberJoin,
    JoinRequest,
    JoinDecision,
    PartRequest,
    PartAck,
    GroupEnd,
    Fragment,
    Request,
    FragmentAck,
    ReplayRequest,
    ReplayResponse,
    ReplayResponseEnd,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_numbers_match_gnunet_protocols_h() {
        use gnunet_sys as sys;
        let pairs = [
            (
                TYPE_ORIGIN_START,
                sys::GNUNET_MESSAGE_TYPE_MULTICAST_ORIGIN_START,
            ),
            (
                TYPE_MEMBER_JOIN,
                sys::GNUNET_MESSAGE_TYPE_MULTICAST_MEMBER_JOIN,
            ),
            (
                TYPE_JOIN_REQUEST,
                sys::GNUNET_MESSAGE_TYPE_MULTICAST_JOIN_REQUEST,
            ),
            (
                TYPE_JOIN_DECISION,
                sys::GNUNET_MESSAGE_TYPE_MULTICAST_JOIN_DECISION,
            ),
            (
                TYPE_PART_REQUEST,
                sys::GNUNET_MESSAGE_TYPE_MULTICAST_PART_REQUEST,
            ),
            (TYPE_PART_ACK, sys::GNUNET_MESSAGE_TYPE_MULTICAST_PART_ACK),
            (TYPE_GROUP_END, sys::GNUNET_MESSAGE_TYPE_MULTICAST_GROUP_END),
            (TYPE_MESSAGE, sys::GNUNET_MESSAGE_TYPE_MULTICAST_MESSAGE),
            (TYPE_REQUEST, sys::GNUNET_MESSAGE_TYPE_MULTICAST_REQUEST),
            (
                TYPE_FRAGMENT_ACK,
                sys::GNUNET_MESSAGE_TYPE_MULTICAST_FRAGMENT_ACK,
            ),
            (
                TYPE_REPLAY_REQUEST,
                sys::GNUNET_MESSAGE_TYPE_MULTICAST_REPLAY_REQUEST,
            ),
            (
                TYPE_REPLAY_RESPONSE,
                sys::GNUNET_MESSAGE_TYPE_MULTICAST_REPLAY_RESPONSE,
            ),
            (
                TYPE_REPLAY_RESPONSE_END,
                sys::GNUNET_MESSAGE_TYPE_MULTICAST_REPLAY_RESPONSE_END,
            ),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(u32::from(ours), theirs);
        }
    }

    #[test]
    fn any_rejects_foreign_types_and_short_input() {
        assert!(Any::decode(&[0, 4, 0x03, 0xe8]).is_err());
        assert!(Any::decode(&[0, 4]).is_err());
        assert!(Any::decode(&[]).is_err());
        assert_eq!(
            Any::decode(&[0, 4, 0x02, 0xf2]).unwrap(),
            Any::PartRequest(PartRequest)
        );
    }
}
