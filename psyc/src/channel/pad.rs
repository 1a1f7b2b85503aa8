//! Size padding of what a channel record sends, and its removal from what it receives
//! (issue 13, point 2).
//!
//! Every message the logic forms for the channel is padded so that the multicast message
//! that carries it between peers — MESSAGE fragment, REQUEST fragment, JOIN_REQUEST with the
//! join message, JOIN_DECISION with the join response, each with multicast's headers and
//! signature — has the size of a class of the [`Padding`] scheme, at most the largest
//! message CADET carries ([`MAX_WIRE`]). The padding is one padding part at the end of the parts
//! (wire form: [`crate::format::padding`]). The scheme is an input: the driver sets the
//! current one ([`Channels::set_padding`](super::Channels::set_padding)) before it hands the
//! logic anything, so a changed configuration pads the next message.
//!
//! - A message too close to the maximum for a padding part to fit goes unpadded (it is in the
//!   top class anyway, up to the last few bytes).
//! - A join decision that admits a joiner of this implementation carries multicast's 8-byte
//!   admission point after it ([`multicast::msg::JoinDecision::admitted_after`]); the padding
//!   counts it, so a decision that reaches a C joiner (without the point) is 8 bytes short of
//!   its class.
//! - Replay answers need nothing here: a replayed fragment is the stored fragment, which was
//!   padded when it was sent, and multicast sends it as the plain MESSAGE it was (from the
//!   origin's psycstore or from a relay's cache).
//!
//! On receipt, `unpadded` (over [`crate::format::padding::strip`]) removes the padding before the part check and before anything
//! reaches a client; the fragment goes to psycstore as received (signed, padded).

use gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
use gnunet_service::privacy::Padding;
use multicast::msg::{Decision, JoinDecision, ADMITTED, JOIN_REQUEST_HEADER_SIZE};
use tracing::debug;

use crate::format::container::TYPE_CONTAINER;
use crate::format::padding::{self, MIN_PADDING};

/// The top of every padding scheme: the largest message a CADET channel carries between
/// peers (a multicast fragment may be larger, 63 KiB, but then cannot leave the peer).
pub const MAX_WIRE: usize = MAX_CADET_MESSAGE_SIZE;

/// Size of multicast's admission point after an admitting decision between our peers.
const ADMISSION_MARK: usize = 8;

/// An empty type-691 container: the join message or response "none", before padding.
fn empty_container() -> Vec<u8> {
    let mut c = Vec::with_capacity(MIN_PADDING);
    c.extend_from_slice(&(MIN_PADDING as u16).to_be_bytes());
    c.extend_from_slice(&TYPE_CONTAINER.to_be_bytes());
    c
}

/// How many padding bytes a message of `wire` bytes gets: 0, or at least [`MIN_PADDING`].
fn gap(scheme: &Padding, wire: usize) -> usize {
    scheme.padded_len(wire, MIN_PADDING, MAX_WIRE) - wire
}

/// Pads the `parts` of a fragment or request whose multicast header is `header` bytes.
pub(super) fn pad_parts(scheme: &Padding, header: usize, parts: &mut Vec<u8>) {
    let gap = gap(scheme, header + parts.len());
    if gap > 0 && !padding::append(parts, gap) {
        debug!(gap, "no padding part fits");
    }
}

/// Pads a type-691 container carried in a multicast message with `overhead` bytes around it;
/// "no container" becomes a padding-only one when the scheme pads.
fn pad_container(scheme: &Padding, overhead: usize, msg: Option<Vec<u8>>) -> Option<Vec<u8>> {
    if scheme.is_none() {
        return msg;
    }
    let mut msg = msg.unwrap_or_else(empty_container);
    let gap = gap(scheme, overhead + msg.len());
    if gap > 0 && !padding::pad_container(&mut msg, gap) {
        debug!(gap, "join message or response not padded");
    }
    Some(msg)
}

/// The join message of a MEMBER_JOIN, padded for the JOIN_REQUEST multicast forms of it.
pub(super) fn pad_join_message(scheme: &Padding, join_msg: Option<Vec<u8>>) -> Option<Vec<u8>> {
    pad_container(scheme, JOIN_REQUEST_HEADER_SIZE, join_msg)
}

/// Pads the response of a JOIN_DECISION so that what multicast sends the joiner is a class.
pub(super) fn pad_decision(scheme: &Padding, d: &mut JoinDecision) {
    let without = JoinDecision {
        decision: Decision {
            response: None,
            ..d.decision.clone()
        },
        admitted_after: None,
        ..d.clone()
    };
    let mark = if d.decision.is_admitted == ADMITTED {
        ADMISSION_MARK
    } else {
        0
    };
    let overhead = multicast::msg::Any::JoinDecision(without)
        .to_message()
        .len()
        + mark;
    d.decision.response = pad_container(scheme, overhead, d.decision.response.take());
}

/// The parts of a received fragment or request payload without padding; `None` (drop it)
/// when its padding is malformed.
pub(super) fn unpadded(payload: &[u8]) -> Option<&[u8]> {
    match padding::strip(payload) {
        Ok(parts) => Some(parts),
        Err(e) => {
            debug!(%e, "dropping a fragment with malformed padding");
            None
        }
    }
}

/// Removes the padding of a received payload in place (it is the tail). `false`: malformed.
pub(super) fn strip_in_place(payload: &mut Vec<u8>) -> bool {
    match unpadded(payload).map(<[u8]>::len) {
        Some(len) => {
            payload.truncate(len);
            true
        }
        None => false,
    }
}

/// A received join message or response without its padding (`None` when it held only
/// padding or its padding is malformed).
pub(super) fn unpadded_container(msg: Option<Vec<u8>>) -> Option<Vec<u8>> {
    let msg = msg?;
    match padding::strip_container(&msg) {
        Ok(m) => m,
        Err(e) => {
            debug!(%e, "dropping a join message or response with malformed padding");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gnunet_service::crypto::ecdsa;
    use gnunet_service::peer::PeerIdentity;
    use multicast::msg::{Any, Fragment, JoinRequest, Request, FRAGMENT_HEADER_SIZE, REFUSED};

    use crate::format::parts::Part;

    fn buckets() -> Padding {
        Padding::Buckets(gnunet_service::privacy::DEFAULT_BUCKETS.to_vec())
    }

    fn parts(body: usize) -> Vec<u8> {
        let mut p = Vec::new();
        Part::Data(vec![7; body].into()).emit(&mut p);
        Part::End.emit(&mut p);
        p
    }

    #[test]
    fn fragments_and_requests_land_on_classes() {
        for scheme in [buckets(), Padding::Padme, Padding::Fixed(2048)] {
            for body in [0, 1, 10, 300, 500, 4000, 9000, 40_000, 64_000] {
                let mut p = parts(body);
                let plain = p.clone();
                pad_parts(&scheme, FRAGMENT_HEADER_SIZE, &mut p);
                let wire = Any::Fragment(Fragment::unsigned(1, 0, 0, 0, p.clone()))
                    .to_message()
                    .len();
                let class = scheme.class_of(wire, MAX_WIRE);
                assert!(
                    wire == class || wire + MIN_PADDING > MAX_WIRE,
                    "{scheme} {body}: {wire}"
                );
                assert_eq!(unpadded(&p), Some(plain.as_slice()));
                let mut q = plain.clone();
                pad_parts(&scheme, multicast::msg::REQUEST_HEADER_SIZE, &mut q);
                let wire = Any::Request(Request::unsigned(1, 0, 0, q))
                    .to_message()
                    .len();
                assert!(wire == scheme.class_of(wire, MAX_WIRE) || wire + MIN_PADDING > MAX_WIRE);
            }
        }
    }

    #[test]
    fn no_scheme_adds_nothing() {
        let mut p = parts(33);
        let plain = p.clone();
        pad_parts(&Padding::None, FRAGMENT_HEADER_SIZE, &mut p);
        assert_eq!(p, plain);
        assert_eq!(pad_join_message(&Padding::None, None), None);
    }

    #[test]
    fn join_messages_and_decisions_land_on_classes() {
        let scheme = buckets();
        for msg in [None, Some(parts(20)), Some(parts(3000))] {
            let container = msg.map(|p| {
                let mut c = empty_container();
                c.extend_from_slice(&p);
                let n = c.len() as u16;
                c[..2].copy_from_slice(&n.to_be_bytes());
                c
            });
            let padded = pad_join_message(&scheme, container.clone());
            let join = JoinRequest::unsigned(
                gnunet_service::crypto::eddsa::PublicKey([1; 32]),
                ecdsa::PublicKey([2; 32]),
                PeerIdentity([3; 32]),
                padded.clone(),
            );
            let wire = Any::JoinRequest(join).to_message().len();
            assert!([512, 4096].contains(&wire), "{wire}");
            assert_eq!(unpadded_container(padded), container);
            for is_admitted in [ADMITTED, REFUSED] {
                let mut d = JoinDecision {
                    peer: PeerIdentity([3; 32]),
                    member_pub_key: ecdsa::PublicKey([2; 32]),
                    decision: Decision {
                        is_admitted,
                        relays: vec![],
                        response: container.clone(),
                    },
                    admitted_after: None,
                };
                pad_decision(&scheme, &mut d);
                if is_admitted == ADMITTED {
                    d.admitted_after = Some(9);
                }
                let response = d.decision.response.clone();
                let wire = Any::JoinDecision(d).to_message().len();
                assert!([512, 4096].contains(&wire), "{wire}");
                assert_eq!(unpadded_container(response), container);
            }
        }
    }

    #[test]
    fn malformed_padding_is_refused() {
        let mut p = parts(5);
        padding::append(&mut p, 10);
        let n = p.len();
        p[n - 1] = 9;
        assert_eq!(unpadded(&p), None);
        assert!(!strip_in_place(&mut p));
    }
}
