//! The client side of the multicast service, in three layers:
//!
//! - the messages an origin or member application sends (this module's functions, and
//!   [`Fragmenter`] for message and request fragments) and the [`Event`]s the service sends;
//! - [`Session`]: one group role without I/O — what is (re)sent on connect, flow control,
//!   pending replays — for any event loop;
//! - [`Client`]: a blocking connection driving a [`Session`], for tools and tests.
//!
//! The messages are byte-compatible with the C `multicast_api.c`: fragment offsets count whole
//! fragments including their headers, `group_generation` and `max_fragment_id` are written in
//! the library's (little-endian) host order, replay requests carry a zero member key.
//! Unlike the C library, [`Fragmenter`] keeps fragments small enough to cross CADET (gap G2)
//! and replay answers are never truncated (gap G5).

mod blocking;
mod session;

pub use blocking::{Client, Error};
pub use session::{Limits, Role, Session, SessionError, SessionEvent};

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{DecodeError, Message, TooLarge};

use crate::msg::{
    Any, Decision, Fragment, JoinDecision, JoinRequest, MemberJoin, OriginStart, PartRequest,
    ReplayError, ReplayIds, ReplayRequest, ReplayResponse, ReplayResponseEnd, Request,
    FRAGMENT_HEADER_SIZE, REQUEST_HEADER_SIZE,
};

/// What the service sends to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// Origin: a member asks to join; answer with [`decide`].
    JoinRequest(JoinRequest),
    /// Member: the origin's decision (the whole outer+inner message).
    JoinDecision(JoinDecision),
    /// The part (or origin stop) is done.
    PartAck,
    /// A signed group message fragment (live or replayed).
    Message(Fragment),
    /// Origin: a signed request fragment from a member.
    Request(Request),
    /// Flow control: the next fragment may be sent.
    FragmentAck,
    /// Origin: a member asks for a fragment or message again; answer with
    /// [`replay_fragment_response`] / [`replay_error`] and [`replay_end`].
    ReplayRequest(ReplayRequest),
    /// Member: a replay failed.
    ReplayResponse(ReplayResponse),
}

impl Event {
    /// Decodes a complete message from the service; types a service never sends to clients
    /// are errors.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_any(Any::decode(bytes)?)
    }

    /// The event a decoded message is; types a service never sends to clients are errors.
    pub fn from_any(message: Any) -> Result<Self, DecodeError> {
        Ok(match message {
            Any::JoinRequest(m) => Event::JoinRequest(m),
            Any::JoinDecision(m) => Event::JoinDecision(m),
            Any::PartAck(_) => Event::PartAck,
            Any::Fragment(m) => Event::Message(m),
            Any::Request(m) => Event::Request(m),
            Any::FragmentAck(_) => Event::FragmentAck,
            Any::ReplayRequest(m) => Event::ReplayRequest(m),
            Any::ReplayResponse(m) => Event::ReplayResponse(m),
            _ => {
                return Err(DecodeError::Invalid {
                    field: "message type",
                    reason: "not sent by the multicast service to clients",
                })
            }
        })
    }
}

/// ORIGIN_START: become the origin of the group of `group_key`, continuing after
/// `max_fragment_id` (0 for a new group).
pub fn origin_start(group_key: eddsa::PrivateKey, max_fragment_id: u64) -> Vec<u8> {
    OriginStart {
        group_key,
        max_fragment_id,
    }
    .to_message()
}

/// MEMBER_JOIN: join `group` at `origin` (through `relays`) with `member_key`, optionally
/// with an application join message (a complete GNUnet message).
///
/// [`TooLarge`] if the relays and the join message do not fit one GNUnet message.
pub fn member_join(
    group: eddsa::PublicKey,
    member_key: ecdsa::PrivateKey,
    origin: PeerIdentity,
    relays: Vec<PeerIdentity>,
    join_msg: Option<Vec<u8>>,
) -> Result<Vec<u8>, TooLarge> {
    MemberJoin {
        group_pub_key: group,
        member_key,
        origin,
        relays,
        join_msg,
    }
    .try_to_message()
}

/// JOIN_DECISION for `request` (as the origin received it): admitted (1), refused (0) or
/// undecided (−1), with suggested relays and an optional response message.
///
/// [`TooLarge`] if the relays and the response do not fit one GNUnet message.
pub fn decide(
    request: &JoinRequest,
    is_admitted: i32,
    relays: Vec<PeerIdentity>,
    response: Option<Vec<u8>>,
) -> Result<Vec<u8>, TooLarge> {
    JoinDecision {
        peer: request.peer,
        member_pub_key: request.member_pub_key,
        decision: Decision {
            is_admitted,
            relays,
            response,
        },
        admitted_after: None,
    }
    .try_to_message()
}

/// PART_REQUEST: member part or origin stop.
pub fn part() -> Vec<u8> {
    PartRequest.to_message()
}

/// REPLAY_REQUEST for one fragment by id.
pub fn replay_fragment(fragment_id: u64, flags: u64) -> Vec<u8> {
    session::replay_request(ReplayIds {
        fragment_id,
        message_id: 0,
        fragment_offset: 0,
        flags,
    })
}

/// REPLAY_REQUEST for the fragment at `fragment_offset` of message `message_id`.
pub fn replay_message(message_id: u64, fragment_offset: u64, flags: u64) -> Vec<u8> {
    session::replay_request(ReplayIds {
        fragment_id: 0,
        message_id,
        fragment_offset,
        flags,
    })
}

/// REPLAY_RESPONSE carrying one stored, signed fragment (a complete MESSAGE).
///
/// [`TooLarge`] if the fragment's payload is too large for the fragment, or the fragment too
/// large for the response around it.
pub fn replay_fragment_response(ids: ReplayIds, fragment: &Fragment) -> Result<Vec<u8>, TooLarge> {
    ReplayResponse {
        ids,
        error_code: ReplayError::Ok,
        fragment: Some(fragment.try_to_message()?),
    }
    .try_to_message()
}

/// REPLAY_RESPONSE reporting a failure; it ends the replay.
pub fn replay_error(ids: ReplayIds, error: ReplayError) -> Vec<u8> {
    ReplayResponse {
        ids,
        error_code: error,
        fragment: None,
    }
    .to_message()
}

/// REPLAY_RESPONSE_END after the last fragment of a successful replay.
pub fn replay_end(ids: ReplayIds) -> Vec<u8> {
    ReplayResponseEnd { ids, error_code: 0 }.to_message()
}

/// Largest payload per fragment that still crosses CADET (64348 − 116).
pub const CADET_SAFE_FRAGMENT_PAYLOAD: usize =
    gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE - FRAGMENT_HEADER_SIZE;

/// Cuts an application message (origin) or request (member) into fragments the way the C
/// library numbers them: `fragment_offset` is the sum of the whole sizes (header included)
/// of the fragments before.
///
/// Every fragment's payload is at most [`CADET_SAFE_FRAGMENT_PAYLOAD`], so a fragment never
/// exceeds the message size limit whatever the size of the data.
#[derive(Debug, Clone)]
pub struct Fragmenter {
    max_payload: usize,
}

impl Default for Fragmenter {
    fn default() -> Self {
        Self {
            max_payload: CADET_SAFE_FRAGMENT_PAYLOAD,
        }
    }
}

impl Fragmenter {
    /// Fragments of at most `max_payload` bytes (at least 1, at most the CADET-safe size).
    pub fn with_max_payload(max_payload: usize) -> Self {
        Self {
            max_payload: max_payload.clamp(1, CADET_SAFE_FRAGMENT_PAYLOAD),
        }
    }

    /// `data` in pieces of at most `max` bytes; one empty piece for empty data.
    fn chunks(data: &[u8], max: usize) -> Vec<&[u8]> {
        if data.is_empty() {
            return vec![&[]];
        }
        data.chunks(max).collect()
    }

    /// The MESSAGE fragments of `data` (unsigned; the origin's service signs them).
    pub fn message(&self, message_id: u64, group_generation: u64, data: &[u8]) -> Vec<Vec<u8>> {
        let mut offset = 0u64;
        Self::chunks(data, self.max_payload)
            .into_iter()
            .map(|c| {
                let f = Fragment::unsigned(message_id, offset, group_generation, 0, c.to_vec());
                offset += f.wire_size() as u64;
                f.to_message()
            })
            .collect()
    }

    /// The REQUEST fragments of `data` (unsigned; the member's service signs them).
    pub fn request(&self, request_id: u64, data: &[u8]) -> Vec<Vec<u8>> {
        let max = self
            .max_payload
            .min(gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE - REQUEST_HEADER_SIZE);
        let mut offset = 0u64;
        Self::chunks(data, max)
            .into_iter()
            .map(|c| {
                let q = Request::unsigned(request_id, offset, 0, c.to_vec());
                offset += q.wire_size() as u64;
                q.to_message()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg;

    #[test]
    fn fragment_offsets_count_whole_fragments() {
        let frags = Fragmenter::with_max_payload(3).message(5, 0x0102, b"abcdefgh");
        assert_eq!(frags.len(), 3);
        let parsed: Vec<Fragment> = frags
            .iter()
            .map(|f| Fragment::from_message(f).unwrap())
            .collect();
        assert_eq!(parsed[0].fragment_offset, 0);
        assert_eq!(parsed[1].fragment_offset, 119);
        assert_eq!(parsed[2].fragment_offset, 238);
        assert_eq!(parsed[2].payload, b"gh");
        assert!(parsed
            .iter()
            .all(|f| f.message_id == 5 && f.fragment_id == 0));
        assert_eq!(&frags[0][104..112], &0x0102u64.to_le_bytes());

        let reqs = Fragmenter::with_max_payload(4).request(9, b"abcdef");
        let q = Request::from_message(&reqs[1]).unwrap();
        assert_eq!(q.fragment_offset, 140);
        assert_eq!(q.request_id, 9);
    }

    #[test]
    fn default_fragments_fit_cadet() {
        let data = vec![7u8; 200_000];
        for f in Fragmenter::default().message(1, 0, &data) {
            assert!(f.len() <= gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE);
        }
        assert_eq!(Fragmenter::default().message(1, 0, b"").len(), 1);
    }

    #[test]
    fn replay_builders_match_the_c_library() {
        let r = ReplayRequest::from_message(&replay_fragment(1234, 2059)).unwrap();
        assert_eq!(r.ids.fragment_id, 1234);
        assert_eq!((r.ids.message_id, r.ids.fragment_offset), (0, 0));
        assert_eq!(r.member_pub_key, ecdsa::PublicKey([0; 32]));
        let r = ReplayRequest::from_message(&replay_message(3, 116, 1)).unwrap();
        assert_eq!((r.ids.fragment_id, r.ids.message_id), (0, 3));
        let e = replay_error(r.ids, ReplayError::Other(-1));
        assert_eq!(e.len(), 48);
        assert_eq!(
            Event::decode(&e).unwrap(),
            Event::ReplayResponse(ReplayResponse {
                ids: r.ids,
                error_code: ReplayError::Other(-1),
                fragment: None
            })
        );
        assert_eq!(replay_end(r.ids).len(), 48);
        let f = Fragment::unsigned(1, 0, 1, 0, vec![9; 1000]);
        let ok = replay_fragment_response(r.ids, &f).unwrap();
        assert_eq!(ok.len(), 48 + 116 + 1000);
        assert!(
            Event::decode(&part()).is_err(),
            "PART_REQUEST is not sent to clients"
        );
    }

    fn join_request() -> JoinRequest {
        JoinRequest {
            reserved: 0,
            signature: ecdsa::Signature([1; 64]),
            purpose: gnunet_service::crypto::purpose::SignaturePurpose {
                size: 0,
                purpose: 0,
            },
            group_pub_key: eddsa::PublicKey([2; 32]),
            member_pub_key: ecdsa::PublicKey([3; 32]),
            peer: PeerIdentity([4; 32]),
            join_msg: None,
        }
    }

    #[test]
    fn decision_echoes_the_request() {
        let j = join_request();
        let d = decide(&j, 1, vec![PeerIdentity([5; 32])], None).unwrap();
        match Event::decode(&d).unwrap() {
            Event::JoinDecision(d) => {
                assert_eq!(d.peer, j.peer);
                assert_eq!(d.member_pub_key, j.member_pub_key);
                assert_eq!(d.decision.relays.len(), 1);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(msg::message_type(&d), Some(msg::TYPE_JOIN_DECISION));
        assert_eq!(origin_start(eddsa::PrivateKey([0; 32]), 0).len(), 48);
        assert_eq!(
            member_join(
                eddsa::PublicKey([0; 32]),
                ecdsa::PrivateKey([0; 32]),
                PeerIdentity([0; 32]),
                vec![],
                None
            )
            .unwrap()
            .len(),
            104
        );
    }

    /// The bytes an application message of `len` bytes takes (header included).
    fn app_message(len: usize) -> Vec<u8> {
        let mut m = vec![0; len];
        m[..2].copy_from_slice(&(len as u16).to_be_bytes());
        m
    }

    #[test]
    fn an_oversized_response_is_an_error_not_a_panic() {
        use gnunet_service::wire::MAX_MESSAGE_SIZE;
        let largest = MAX_MESSAGE_SIZE - msg::JOIN_DECISION_HEADER_SIZE;
        let d = decide(&join_request(), 1, vec![], Some(app_message(largest))).unwrap();
        assert_eq!(d.len(), MAX_MESSAGE_SIZE);
        let e = decide(&join_request(), 1, vec![], Some(app_message(largest + 1))).unwrap_err();
        assert_eq!(e.msg_type, msg::TYPE_JOIN_DECISION);
        assert_eq!(e.size, MAX_MESSAGE_SIZE + 1);
        assert!(e.type_name.ends_with("JoinDecision"), "{e}");
        assert!(decide(&join_request(), 1, vec![], Some(app_message(65_535))).is_err());
        // Too many relays are refused the same way.
        let relays = vec![PeerIdentity([5; 32]); 2100];
        assert!(decide(&join_request(), 1, relays, None).is_err());
    }

    #[test]
    fn an_oversized_join_is_an_error_not_a_panic() {
        let join = |relays: usize, join_msg| {
            member_join(
                eddsa::PublicKey([0; 32]),
                ecdsa::PrivateKey([0; 32]),
                PeerIdentity([0; 32]),
                vec![PeerIdentity([1; 32]); relays],
                join_msg,
            )
        };
        let e = join(0, Some(app_message(65_500))).unwrap_err();
        assert_eq!(e.msg_type, msg::TYPE_MEMBER_JOIN);
        assert!(e.size > gnunet_service::wire::MAX_MESSAGE_SIZE);
        assert!(join(2100, None).is_err());
        assert!(join(10, Some(app_message(1000))).is_ok());
        let e = Session::member(
            eddsa::PublicKey([0; 32]),
            ecdsa::PrivateKey([0; 32]),
            PeerIdentity([0; 32]),
            vec![],
            Some(app_message(65_500)),
        )
        .unwrap_err();
        assert_eq!(e.msg_type, msg::TYPE_MEMBER_JOIN);
    }

    #[test]
    fn an_oversized_replayed_fragment_is_an_error_not_a_panic() {
        let ids = ReplayIds::default();
        // Fits a fragment, but not a fragment inside a REPLAY_RESPONSE.
        let f = Fragment::unsigned(1, 0, 1, 0, vec![0; 65_400]);
        assert!(Message::try_to_message(&f).is_ok());
        let e = replay_fragment_response(ids, &f).unwrap_err();
        assert_eq!(e.msg_type, msg::TYPE_REPLAY_RESPONSE);
        // Does not even fit a fragment.
        let f = Fragment::unsigned(1, 0, 1, 0, vec![0; 70_000]);
        let e = replay_fragment_response(ids, &f).unwrap_err();
        assert_eq!(e.msg_type, msg::TYPE_MESSAGE);
    }

    #[test]
    fn payloads_of_any_size_are_cut_not_refused() {
        for len in [65_000, 65_536, 200_000] {
            let data = vec![3u8; len];
            let reqs = Fragmenter::default().request(1, &data);
            let frags = Fragmenter::default().message(1, 0, &data);
            for f in reqs.iter().chain(&frags) {
                assert!(f.len() <= gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE);
            }
            let total: usize = reqs
                .iter()
                .map(|q| Request::from_message(q).unwrap().payload.len())
                .sum();
            assert_eq!(total, len);
        }
    }
}
