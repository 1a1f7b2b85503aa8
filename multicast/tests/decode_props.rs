//! Decoders never panic, what decodes re-encodes to the same bytes, and every message with
//! arbitrary field values survives encoding and decoding unchanged.

use gnunet_service::crypto::purpose::SignaturePurpose;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use multicast::msg::{
    Any, Decision, Fragment, JoinDecision, JoinRequest, MemberJoin, OriginStart, ReplayError,
    ReplayIds, ReplayRequest, ReplayResponse, ReplayResponseEnd, Request,
};
use proptest::prelude::*;

/// A complete GNUnet message of some type carrying up to 40 bytes, or nothing.
fn nested() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(
            |(msg_type, body)| {
                let mut m = ((4 + body.len()) as u16).to_be_bytes().to_vec();
                m.extend_from_slice(&msg_type.to_be_bytes());
                m.extend_from_slice(&body);
                m
            },
        ),
    )
}

fn peers() -> impl Strategy<Value = Vec<PeerIdentity>> {
    proptest::collection::vec(any::<[u8; 32]>().prop_map(PeerIdentity), 0..4)
}

fn purpose() -> impl Strategy<Value = SignaturePurpose> {
    (any::<u32>(), any::<u32>()).prop_map(|(size, purpose)| SignaturePurpose { size, purpose })
}

fn ids() -> impl Strategy<Value = ReplayIds> {
    any::<[u64; 4]>().prop_map(
        |[fragment_id, message_id, fragment_offset, flags]| ReplayIds {
            fragment_id,
            message_id,
            fragment_offset,
            flags,
        },
    )
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..300)
}

fn any_message() -> impl Strategy<Value = Any> {
    prop_oneof![
        (any::<[u8; 32]>(), any::<u64>()).prop_map(|(k, max_fragment_id)| Any::OriginStart(
            OriginStart {
                group_key: eddsa::PrivateKey(k),
                max_fragment_id,
            }
        )),
        (any::<[[u8; 32]; 3]>(), peers(), nested()).prop_map(|([g, m, o], relays, join_msg)| {
            Any::MemberJoin(MemberJoin {
                group_pub_key: eddsa::PublicKey(g),
                member_key: ecdsa::PrivateKey(m),
                origin: PeerIdentity(o),
                relays,
                join_msg,
            })
        }),
        (
            any::<u32>(),
            any::<[u8; 64]>(),
            purpose(),
            any::<[[u8; 32]; 3]>(),
            nested()
        )
            .prop_map(|(reserved, sig, purpose, [g, m, p], join_msg)| {
                Any::JoinRequest(JoinRequest {
                    reserved,
                    signature: ecdsa::Signature(sig),
                    purpose,
                    group_pub_key: eddsa::PublicKey(g),
                    member_pub_key: ecdsa::PublicKey(m),
                    peer: PeerIdentity(p),
                    join_msg,
                })
            }),
        (
            any::<[[u8; 32]; 2]>(),
            any::<i32>(),
            peers(),
            nested(),
            any::<Option<u64>>()
        )
            .prop_map(|([p, m], is_admitted, relays, response, admitted_after)| {
                Any::JoinDecision(JoinDecision {
                    peer: PeerIdentity(p),
                    member_pub_key: ecdsa::PublicKey(m),
                    decision: Decision {
                        is_admitted,
                        relays,
                        response,
                    },
                    admitted_after,
                })
            }),
        (
            any::<(u32, [u8; 64], u32)>(),
            purpose(),
            any::<[u64; 4]>(),
            payload()
        )
            .prop_map(
                |((hop_counter, sig, flags), purpose, [a, b, c, d], payload)| {
                    Any::Fragment(Fragment {
                        hop_counter,
                        signature: eddsa::Signature(sig),
                        purpose,
                        fragment_id: a,
                        fragment_offset: b,
                        message_id: c,
                        group_generation: d,
                        flags,
                        payload,
                    })
                }
            ),
        (
            any::<([u8; 32], [u8; 64], u32)>(),
            purpose(),
            any::<[u64; 3]>(),
            payload()
        )
            .prop_map(|((key, sig, flags), purpose, [a, b, c], payload)| {
                Any::Request(Request {
                    member_pub_key: ecdsa::PublicKey(key),
                    signature: ecdsa::Signature(sig),
                    purpose,
                    fragment_id: a,
                    fragment_offset: b,
                    request_id: c,
                    flags,
                    payload,
                })
            }),
        (any::<[u8; 32]>(), ids(), any::<u32>()).prop_map(|(key, ids, uid)| {
            Any::ReplayRequest(ReplayRequest {
                member_pub_key: ecdsa::PublicKey(key),
                ids,
                uid,
            })
        }),
        (ids(), any::<i32>(), nested()).prop_map(|(ids, code, fragment)| {
            Any::ReplayResponse(ReplayResponse {
                ids,
                error_code: ReplayError::from_code(code),
                fragment,
            })
        }),
        (ids(), any::<i32>()).prop_map(|(ids, error_code)| Any::ReplayResponseEnd(
            ReplayResponseEnd { ids, error_code }
        )),
    ]
}

proptest! {
    #[test]
    fn decode_never_panics(ty in 745u16..767, body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut m = vec![0u8; 4];
        m.extend_from_slice(&body);
        let len = m.len() as u16;
        m[0..2].copy_from_slice(&len.to_be_bytes());
        m[2..4].copy_from_slice(&ty.to_be_bytes());
        if let Ok(decoded) = Any::decode(&m) {
            let again = decoded.to_message();
            prop_assert_eq!(again.len(), m.len());
            prop_assert_eq!(Any::decode(&again), Ok(decoded));
        }
    }

    #[test]
    fn raw_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Any::decode(&bytes);
    }

    #[test]
    fn every_message_round_trips(m in any_message()) {
        let bytes = m.to_message();
        prop_assert_eq!(u16::from_be_bytes([bytes[0], bytes[1]]) as usize, bytes.len());
        prop_assert_eq!(Any::decode(&bytes), Ok(m.clone()));
        if let Any::Fragment(f) = &m {
            prop_assert_eq!(Fragment::from_message(&bytes).map(|g| g.wire_size()), Ok(f.wire_size()));
        }
    }
}
