//! What the logic takes in: messages decoded by the driver, by who may send them.
//!
//! Decoding happens at the edge (the service's driver, the simulator, the fuzz targets): the
//! driver decodes every complete message with [`ClientMessage::decode`] or
//! [`PeerMessage::decode`] and handles the errors itself (a client is dropped, a channel
//! closed), so [`Node`](super::Node) only ever sees well-formed messages. Messages that the
//! logic passes on unchanged, or whose signature covers their exact bytes, come with those
//! bytes.

use gnunet_service::wire::{Codec, DecodeError, Message, HEADER_SIZE};

use crate::msg::{
    self, Any, Fragment, JoinDecision, JoinRequest, MemberJoin, OriginStart, ReplayError,
    ReplayRequest, ReplayResponse, ReplayResponseEnd, Request,
};

/// A message from a local client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum ClientMessage {
    /// ORIGIN_START (750): become an origin of a group.
    OriginStart(OriginStart),
    /// MEMBER_JOIN (751): join a group as a member.
    MemberJoin(MemberJoin),
    /// PART_REQUEST (754): leave the group role.
    PartRequest,
    /// MESSAGE (757) from an origin client, to be signed and sent to the group.
    Fragment(Fragment),
    /// JOIN_DECISION (753) from an origin client.
    JoinDecision(JoinDecision),
    /// REQUEST (758) from a member client, to be signed and sent to the origin.
    Request(Request),
    /// REPLAY_REQUEST (760) from a member client.
    ReplayRequest(ReplayRequest),
    /// REPLAY_RESPONSE (761): an answer to a replay request this service handed the client.
    ReplayResponse {
        /// As sent; a successful answer holds the fragment's bytes, passed on unchanged.
        response: ReplayResponse,
        /// That fragment, decoded (successful answers only).
        fragment: Option<Fragment>,
    },
    /// REPLAY_RESPONSE_END (762).
    ReplayResponseEnd(ReplayResponseEnd),
    /// A well-formed multicast message of a type only the service sends to clients or peers.
    NotFromClients {
        /// Its type.
        msg_type: u16,
        /// Its size, header included.
        size: usize,
    },
}

impl ClientMessage {
    /// Decodes a complete message (header included) a client sent.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(match Any::decode(bytes)? {
            Any::OriginStart(m) => Self::OriginStart(m),
            Any::MemberJoin(m) => Self::MemberJoin(m),
            Any::PartRequest(_) => Self::PartRequest,
            Any::Fragment(m) => Self::Fragment(m),
            Any::JoinDecision(m) => Self::JoinDecision(m),
            Any::Request(m) => Self::Request(m),
            Any::ReplayRequest(m) => Self::ReplayRequest(m),
            Any::ReplayResponse(response) => {
                let fragment = match (&response.error_code, &response.fragment) {
                    (ReplayError::Ok, Some(raw)) => Some(Fragment::from_message(raw)?),
                    _ => None,
                };
                Self::ReplayResponse { response, fragment }
            }
            Any::ReplayResponseEnd(m) => Self::ReplayResponseEnd(m),
            Any::JoinRequest(_) | Any::PartAck(_) | Any::GroupEnd(_) | Any::FragmentAck(_) => {
                Self::NotFromClients {
                    msg_type: msg::message_type(bytes).unwrap_or(0),
                    size: bytes.len(),
                }
            }
        })
    }

    /// The message type, for log lines.
    pub fn msg_type(&self) -> u16 {
        match self {
            Self::OriginStart(_) => msg::TYPE_ORIGIN_START,
            Self::MemberJoin(_) => msg::TYPE_MEMBER_JOIN,
            Self::PartRequest => msg::TYPE_PART_REQUEST,
            Self::Fragment(_) => msg::TYPE_MESSAGE,
            Self::JoinDecision(_) => msg::TYPE_JOIN_DECISION,
            Self::Request(_) => msg::TYPE_REQUEST,
            Self::ReplayRequest(_) => msg::TYPE_REPLAY_REQUEST,
            Self::ReplayResponse { .. } => msg::TYPE_REPLAY_RESPONSE,
            Self::ReplayResponseEnd(_) => msg::TYPE_REPLAY_RESPONSE_END,
            Self::NotFromClients { msg_type, .. } => *msg_type,
        }
    }

    /// The size it had on the wire, header included, for log lines.
    pub fn wire_size(&self) -> usize {
        HEADER_SIZE
            + match self {
                Self::OriginStart(m) => m.encoded_len(),
                Self::MemberJoin(m) => m.encoded_len(),
                Self::PartRequest => 0,
                Self::Fragment(m) => m.encoded_len(),
                Self::JoinDecision(m) => m.encoded_len(),
                Self::Request(m) => m.encoded_len(),
                Self::ReplayRequest(m) => m.encoded_len(),
                Self::ReplayResponse { response, .. } => response.encoded_len(),
                Self::ReplayResponseEnd(m) => m.encoded_len(),
                Self::NotFromClients { size, .. } => return *size,
            }
    }
}

/// A message from a peer, on a CADET channel, with the bytes it came in where the logic
/// needs them: a join request or request is passed on unchanged, a fragment's signature is
/// checked over its bytes and it is passed on with only the hop counter patched, and a failed
/// replay's response is passed back down as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum PeerMessage<'a> {
    /// JOIN_REQUEST (752), from a child.
    JoinRequest {
        /// Decoded.
        join: JoinRequest,
        /// As received.
        raw: &'a [u8],
    },
    /// JOIN_DECISION (753), from a parent.
    JoinDecision(JoinDecision),
    /// MESSAGE (757), from a parent.
    Fragment {
        /// Decoded.
        fragment: Fragment,
        /// As received.
        raw: &'a [u8],
    },
    /// REQUEST (758), from a child.
    Request {
        /// Decoded.
        request: Request,
        /// As received.
        raw: &'a [u8],
    },
    /// REPLAY_REQUEST (760), from a child.
    ReplayRequest(ReplayRequest),
    /// REPLAY_RESPONSE (761): a failed replay, from a parent.
    ReplayResponse {
        /// Decoded.
        response: ReplayResponse,
        /// As received.
        raw: &'a [u8],
    },
    /// GROUP_END (756), from a parent of this implementation.
    GroupEnd,
    /// A well-formed multicast message of a type that never travels between peers.
    NotFromPeers {
        /// Its type.
        msg_type: u16,
        /// Its size, header included.
        size: usize,
    },
}

impl<'a> PeerMessage<'a> {
    /// Decodes a complete message (header included) that arrived on a channel.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(match Any::decode(bytes)? {
            Any::JoinRequest(join) => Self::JoinRequest { join, raw: bytes },
            Any::JoinDecision(d) => Self::JoinDecision(d),
            Any::Fragment(fragment) => Self::Fragment {
                fragment,
                raw: bytes,
            },
            Any::Request(request) => Self::Request {
                request,
                raw: bytes,
            },
            Any::ReplayRequest(r) => Self::ReplayRequest(r),
            Any::ReplayResponse(response) => Self::ReplayResponse {
                response,
                raw: bytes,
            },
            Any::GroupEnd(_) => Self::GroupEnd,
            Any::OriginStart(_)
            | Any::MemberJoin(_)
            | Any::PartRequest(_)
            | Any::PartAck(_)
            | Any::FragmentAck(_)
            | Any::ReplayResponseEnd(_) => Self::NotFromPeers {
                msg_type: msg::message_type(bytes).unwrap_or(0),
                size: bytes.len(),
            },
        })
    }

    /// The message type, for log lines.
    pub fn msg_type(&self) -> u16 {
        match self {
            Self::JoinRequest { .. } => msg::TYPE_JOIN_REQUEST,
            Self::JoinDecision(_) => msg::TYPE_JOIN_DECISION,
            Self::Fragment { .. } => msg::TYPE_MESSAGE,
            Self::Request { .. } => msg::TYPE_REQUEST,
            Self::ReplayRequest(_) => msg::TYPE_REPLAY_REQUEST,
            Self::ReplayResponse { .. } => msg::TYPE_REPLAY_RESPONSE,
            Self::GroupEnd => msg::TYPE_GROUP_END,
            Self::NotFromPeers { msg_type, .. } => *msg_type,
        }
    }

    /// The size it had on the wire, header included, for log lines.
    pub fn wire_size(&self) -> usize {
        match self {
            Self::JoinRequest { raw, .. }
            | Self::Fragment { raw, .. }
            | Self::Request { raw, .. }
            | Self::ReplayResponse { raw, .. } => raw.len(),
            Self::JoinDecision(d) => HEADER_SIZE + d.encoded_len(),
            Self::ReplayRequest(r) => HEADER_SIZE + r.encoded_len(),
            Self::GroupEnd => HEADER_SIZE,
            Self::NotFromPeers { size, .. } => *size,
        }
    }
}

#[cfg(test)]
mod tests {
    use gnunet_service::crypto::eddsa;

    use super::*;
    use crate::msg::{FragmentAck, GroupEnd, PartRequest};

    #[test]
    fn client_messages_keep_type_and_size() {
        let f = Fragment::unsigned(1, 0, 1, 0, b"abc".to_vec()).to_message();
        let m = ClientMessage::decode(&f).unwrap();
        assert!(matches!(m, ClientMessage::Fragment(_)));
        assert_eq!((m.msg_type(), m.wire_size()), (msg::TYPE_MESSAGE, f.len()));
        let start = OriginStart {
            group_key: eddsa::PrivateKey([1; 32]),
            max_fragment_id: 0,
        }
        .to_message();
        assert_eq!(
            ClientMessage::decode(&start).unwrap().wire_size(),
            start.len()
        );
        let part = PartRequest.to_message();
        assert_eq!(
            ClientMessage::decode(&part).unwrap(),
            ClientMessage::PartRequest
        );
        assert_eq!(
            ClientMessage::decode(&part).unwrap().wire_size(),
            part.len()
        );
    }

    #[test]
    fn service_to_client_types_are_named_not_taken() {
        let ack = FragmentAck.to_message();
        assert_eq!(
            ClientMessage::decode(&ack).unwrap(),
            ClientMessage::NotFromClients {
                msg_type: msg::TYPE_FRAGMENT_ACK,
                size: 4
            }
        );
        let part = PartRequest.to_message();
        assert!(matches!(
            PeerMessage::decode(&part).unwrap(),
            PeerMessage::NotFromPeers {
                msg_type: msg::TYPE_PART_REQUEST,
                size: 4
            }
        ));
        assert_eq!(
            PeerMessage::decode(&GroupEnd.to_message()).unwrap(),
            PeerMessage::GroupEnd
        );
    }

    #[test]
    fn peer_messages_carry_their_bytes_and_malformed_ones_are_errors() {
        let f = Fragment::unsigned(1, 0, 1, 0, b"abc".to_vec()).to_message();
        match PeerMessage::decode(&f).unwrap() {
            PeerMessage::Fragment { fragment, raw } => {
                assert_eq!(raw, &f[..]);
                assert_eq!(fragment.payload, b"abc");
            }
            other => panic!("decoded as {other:?}"),
        }
        assert_eq!(PeerMessage::decode(&f).unwrap().wire_size(), f.len());
        // A MESSAGE too short for its fixed part.
        assert!(PeerMessage::decode(&[0, 6, 0x02, 0xf5, 1, 2]).is_err());
        assert!(ClientMessage::decode(&[0, 6, 0x02, 0xf5, 1, 2]).is_err());
        assert!(ClientMessage::decode(&[0, 4]).is_err());
    }
}
