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
//! [`Any`] decodes whichever of them a buffer holds.

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

use gnunet_service::wire::{DecodeError, Message, Reader, HEADER_SIZE};

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

/// Reads an optional trailing GNUnet message that must fill the rest of the input exactly
/// (join messages and join responses): absent when nothing is left.
pub(crate) fn read_trailing_message(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Option<Vec<u8>>, DecodeError> {
    if r.left() == 0 {
        return Ok(None);
    }
    let rest = r.rest();
    check_nested(rest, what)?;
    Ok(Some(rest.to_vec()))
}

/// Checks that `bytes` is exactly one GNUnet message (its header's size equals its length).
pub(crate) fn check_nested(bytes: &[u8], what: &'static str) -> Result<(), DecodeError> {
    if bytes.len() < HEADER_SIZE {
        return Err(DecodeError::Invalid {
            field: what,
            reason: "shorter than a message header",
        });
    }
    let size = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
    if size != bytes.len() {
        return Err(DecodeError::Invalid {
            field: what,
            reason: "nested message size does not fill the rest",
        });
    }
    Ok(())
}

/// The type in the header of a complete message, if it has one.
pub fn message_type(bytes: &[u8]) -> Option<u16> {
    (bytes.len() >= HEADER_SIZE).then(|| u16::from_be_bytes([bytes[2], bytes[3]]))
}

/// Any multicast message, decoded by the type in its header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Any {
    /// 750.
    OriginStart(OriginStart),
    /// 751.
    MemberJoin(MemberJoin),
    /// 752.
    JoinRequest(JoinRequest),
    /// 753.
    JoinDecision(JoinDecision),
    /// 754.
    PartRequest(PartRequest),
    /// 755.
    PartAck(PartAck),
    /// 756.
    GroupEnd(GroupEnd),
    /// 757.
    Fragment(Fragment),
    /// 758.
    Request(Request),
    /// 759.
    FragmentAck(FragmentAck),
    /// 760.
    ReplayRequest(ReplayRequest),
    /// 761.
    ReplayResponse(ReplayResponse),
    /// 762.
    ReplayResponseEnd(ReplayResponseEnd),
}

impl Any {
    /// Decodes a complete message (header included) of any multicast type.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let t = message_type(bytes).ok_or(DecodeError::Truncated {
            what: "message header",
            needed: HEADER_SIZE,
            available: bytes.len(),
        })?;
        Ok(match t {
            TYPE_ORIGIN_START => Any::OriginStart(OriginStart::from_message(bytes)?),
            TYPE_MEMBER_JOIN => Any::MemberJoin(MemberJoin::from_message(bytes)?),
            TYPE_JOIN_REQUEST => Any::JoinRequest(JoinRequest::from_message(bytes)?),
            TYPE_JOIN_DECISION => Any::JoinDecision(JoinDecision::from_message(bytes)?),
            TYPE_PART_REQUEST => Any::PartRequest(PartRequest::from_message(bytes)?),
            TYPE_PART_ACK => Any::PartAck(PartAck::from_message(bytes)?),
            TYPE_GROUP_END => Any::GroupEnd(GroupEnd::from_message(bytes)?),
            TYPE_MESSAGE => Any::Fragment(Fragment::from_message(bytes)?),
            TYPE_REQUEST => Any::Request(Request::from_message(bytes)?),
            TYPE_FRAGMENT_ACK => Any::FragmentAck(FragmentAck::from_message(bytes)?),
            TYPE_REPLAY_REQUEST => Any::ReplayRequest(ReplayRequest::from_message(bytes)?),
            TYPE_REPLAY_RESPONSE => Any::ReplayResponse(ReplayResponse::from_message(bytes)?),
            TYPE_REPLAY_RESPONSE_END => {
                Any::ReplayResponseEnd(ReplayResponseEnd::from_message(bytes)?)
            }
            other => {
                return Err(DecodeError::Invalid {
                    field: "message type",
                    reason: if (750..=762).contains(&other) {
                        "unreachable"
                    } else {
                        "not a multicast message type"
                    },
                })
            }
        })
    }

    /// The complete wire form, header included.
    pub fn to_message(&self) -> Vec<u8> {
        match self {
            Any::OriginStart(m) => m.to_message(),
            Any::MemberJoin(m) => m.to_message(),
            Any::JoinRequest(m) => m.to_message(),
            Any::JoinDecision(m) => m.to_message(),
            Any::PartRequest(m) => m.to_message(),
            Any::PartAck(m) => m.to_message(),
            Any::GroupEnd(m) => m.to_message(),
            Any::Fragment(m) => m.to_message(),
            Any::Request(m) => m.to_message(),
            Any::FragmentAck(m) => m.to_message(),
            Any::ReplayRequest(m) => m.to_message(),
            Any::ReplayResponse(m) => m.to_message(),
            Any::ReplayResponseEnd(m) => m.to_message(),
        }
    }
}

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
    fn nested_message_must_fill_the_rest() {
        assert!(check_nested(&[0, 4, 0, 1], "x").is_ok());
        assert!(check_nested(&[0, 5, 0, 1], "x").is_err());
        assert!(check_nested(&[0, 4, 0, 1, 9], "x").is_err());
        assert!(check_nested(&[0, 4, 0], "x").is_err());
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
