//! Property tests of the psyc client↔service messages: every message type round-trips through
//! the dispatch enums, decoding arbitrary bytes never panics, and whatever decodes re-encodes
//! to the input (reserved words aside, which are written as zero).

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use proptest::collection::vec;
use proptest::prelude::*;

use psyc::msg::{
    ClientMessage, Delivery, DeliveryHeader, HistoryReplay, HistoryResult, JoinDecision,
    JoinRequest, MasterStart, MasterStartAck, MembershipStore, MessageAck, PartAck, PartRequest,
    Reply, Request, ResultCode, SlaveJoin, SlaveJoinAck, StateGet, StateGetPrefix, StateResult,
};

/// The input with the reserved word at offset 4 zeroed for the types that have one: what a
/// re-encoding of it must equal.
fn without_reserved(msg: &[u8]) -> Vec<u8> {
    let mut out = msg.to_vec();
    let msg_type = u16::from_be_bytes([msg[2], msg[3]]);
    if [680, 689, 702, 703, 704, 705].contains(&msg_type) && out.len() >= 8 {
        out[4..8].fill(0);
    }
    out
}

/// A complete GNUnet message of any type with a short body.
fn nested() -> impl Strategy<Value = Vec<u8>> {
    (any::<u16>(), vec(any::<u8>(), 0..40)).prop_map(|(msg_type, body)| {
        let mut m = ((body.len() + 4) as u16).to_be_bytes().to_vec();
        m.extend_from_slice(&msg_type.to_be_bytes());
        m.extend_from_slice(&body);
        m
    })
}

fn peer() -> impl Strategy<Value = PeerIdentity> {
    any::<[u8; 32]>().prop_map(PeerIdentity)
}

fn ecdsa_pub() -> impl Strategy<Value = ecdsa::PublicKey> {
    any::<[u8; 32]>().prop_map(ecdsa::PublicKey)
}

fn delivery() -> impl Strategy<Value = Delivery> {
    (any::<(u32, u64, u64, [u8; 32])>(), vec(any::<u8>(), 0..60)).prop_map(
        |((flags, message_id, fragment_offset, key), parts)| Delivery {
            header: DeliveryHeader {
                flags,
                message_id,
                fragment_offset,
                slave_pub_key: key,
            },
            parts,
        },
    )
}

fn join_decision() -> impl Strategy<Value = JoinDecision> {
    (
        any::<i32>(),
        ecdsa_pub(),
        proptest::option::of(nested()),
        0u16..4,
    )
        .prop_map(
            |(is_admitted, slave_pub_key, response, relay_slots)| JoinDecision {
                is_admitted,
                slave_pub_key,
                response,
                relay_slots,
            },
        )
}

fn request() -> impl Strategy<Value = Request> {
    let text = || vec(any::<u8>(), 0..30);
    prop_oneof![
        (any::<u32>(), any::<[u8; 32]>()).prop_map(|(policy, k)| Request::MasterStart(
            MasterStart {
                policy,
                channel_key: eddsa::PrivateKey(k),
            }
        )),
        (
            any::<([u8; 32], [u8; 32], u32)>(),
            peer(),
            vec(peer(), 0..4),
            proptest::option::of(nested())
        )
            .prop_map(|((chan, slave, flags), origin, relays, join_msg)| {
                Request::SlaveJoin(SlaveJoin {
                    channel_pub_key: eddsa::PublicKey(chan),
                    slave_key: ecdsa::PrivateKey(slave),
                    origin,
                    flags,
                    relays,
                    join_msg,
                })
            }),
        Just(Request::PartRequest(PartRequest)),
        join_decision().prop_map(Request::JoinDecision),
        (any::<(u64, u64, u64, u8)>(), ecdsa_pub()).prop_map(
            |((op_id, announced_at, effective_since, did_join), slave_pub_key)| {
                Request::MembershipStore(MembershipStore {
                    op_id,
                    slave_pub_key,
                    announced_at,
                    effective_since,
                    did_join,
                })
            }
        ),
        vec(any::<u8>(), 0..80).prop_map(|parts| Request::Message(ClientMessage { parts })),
        (any::<(u32, u64, u64, u64, u64)>(), text()).prop_map(
            |((flags, op_id, start, end, limit), method_prefix)| {
                Request::HistoryReplay(HistoryReplay {
                    flags,
                    op_id,
                    start_message_id: start,
                    end_message_id: end,
                    message_limit: limit,
                    method_prefix,
                })
            }
        ),
        (any::<u64>(), text())
            .prop_map(|(op_id, name)| Request::StateGet(StateGet { op_id, name })),
        (any::<u64>(), text())
            .prop_map(|(op_id, name)| Request::StateGetPrefix(StateGetPrefix { op_id, name })),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        (any::<(u64, i64)>(), vec(any::<u8>(), 0..30)).prop_map(|((op_id, result_code), data)| {
            Reply::ResultCode(ResultCode {
                op_id,
                result_code,
                data,
            })
        }),
        any::<(i32, u64)>().prop_map(|(result_code, max_message_id)| {
            Reply::MasterStartAck(MasterStartAck {
                result_code,
                max_message_id,
            })
        }),
        any::<(i32, u64)>().prop_map(|(result_code, max_message_id)| {
            Reply::SlaveJoinAck(SlaveJoinAck {
                result_code,
                max_message_id,
            })
        }),
        Just(Reply::PartAck(PartAck)),
        (ecdsa_pub(), proptest::option::of(nested())).prop_map(|(slave_pub_key, join_msg)| {
            Reply::JoinRequest(JoinRequest {
                slave_pub_key,
                join_msg,
            })
        }),
        join_decision().prop_map(Reply::JoinDecision),
        delivery().prop_map(Reply::Message),
        Just(Reply::MessageAck(MessageAck)),
        (any::<(u64, i64)>(), delivery()).prop_map(|((op_id, result_code), message)| {
            Reply::HistoryResult(HistoryResult {
                op_id,
                result_code,
                message,
            })
        }),
        (any::<(u64, i64)>(), nested()).prop_map(|((op_id, result_code), part)| {
            Reply::StateResult(StateResult {
                op_id,
                result_code,
                part,
            })
        }),
    ]
}

/// A message of type `msg_type` with `body`, its header's size right.
fn framed(msg_type: u16, body: &[u8]) -> Vec<u8> {
    let mut m = ((body.len() + 4) as u16).to_be_bytes().to_vec();
    m.extend_from_slice(&msg_type.to_be_bytes());
    m.extend_from_slice(body);
    m
}

proptest! {
    #[test]
    fn every_request_round_trips(req in request()) {
        let bytes = req.to_message();
        prop_assert_eq!(Request::decode(&bytes), Ok(req));
    }

    #[test]
    fn every_reply_round_trips(reply in reply()) {
        let bytes = reply.to_message();
        prop_assert_eq!(Reply::decode(&bytes), Ok(reply));
    }

    #[test]
    fn what_decodes_re_encodes_to_the_input(
        msg_type in 678u16..708,
        body in vec(any::<u8>(), 0..400),
    ) {
        let bytes = framed(msg_type, &body);
        if let Ok(req) = Request::decode(&bytes) {
            prop_assert_eq!(req.to_message(), without_reserved(&bytes));
        }
        if let Ok(reply) = Reply::decode(&bytes) {
            prop_assert_eq!(reply.to_message(), without_reserved(&bytes));
        }
    }

    #[test]
    fn raw_garbage_never_panics(bytes in vec(any::<u8>(), 0..300)) {
        let _ = Request::decode(&bytes);
        let _ = Reply::decode(&bytes);
    }
}

/// Every proper prefix of a message whose size is fixed by its own fields (fixed layouts,
/// relay counts, terminating NULs, nested sizes) is an error, for either direction. (A message
/// with an optional nested tail is valid without it, so those are cut without one.)
#[test]
fn every_truncation_is_an_error() {
    let requests = [
        Request::MasterStart(MasterStart {
            policy: 3,
            channel_key: eddsa::PrivateKey([1; 32]),
        }),
        Request::SlaveJoin(SlaveJoin {
            channel_pub_key: eddsa::PublicKey([1; 32]),
            slave_key: ecdsa::PrivateKey([2; 32]),
            origin: PeerIdentity([3; 32]),
            flags: 0,
            relays: vec![PeerIdentity([4; 32])],
            join_msg: None,
        }),
        Request::JoinDecision(JoinDecision::new(1, ecdsa::PublicKey([5; 32]))),
        Request::MembershipStore(MembershipStore {
            op_id: 1,
            slave_pub_key: ecdsa::PublicKey([6; 32]),
            announced_at: 2,
            effective_since: 2,
            did_join: 1,
        }),
        Request::HistoryReplay(HistoryReplay {
            flags: 0,
            op_id: 1,
            start_message_id: 1,
            end_message_id: 2,
            message_limit: 0,
            method_prefix: b"_m".to_vec(),
        }),
        Request::StateGet(StateGet {
            op_id: 1,
            name: b"_a".to_vec(),
        }),
    ];
    let replies = [
        Reply::ResultCode(ResultCode::new(1, 1)),
        Reply::MasterStartAck(MasterStartAck {
            result_code: 1,
            max_message_id: 2,
        }),
        Reply::JoinRequest(JoinRequest {
            slave_pub_key: ecdsa::PublicKey([7; 32]),
            join_msg: None,
        }),
        Reply::HistoryResult(HistoryResult::new(1, Delivery::default())),
        Reply::StateResult(StateResult::new(1, framed(695, b"value"))),
        Reply::Message(Delivery::default()),
    ];
    let cuts = |bytes: Vec<u8>| {
        (0..bytes.len()).map(move |len| {
            let mut cut = bytes[..len].to_vec();
            if let Some(size) = cut.get_mut(0..2) {
                size.copy_from_slice(&(len as u16).to_be_bytes());
            }
            cut
        })
    };
    for req in requests {
        for cut in cuts(req.to_message()) {
            assert!(
                Request::decode(&cut).is_err(),
                "{req:?} cut to {}",
                cut.len()
            );
        }
    }
    for reply in replies {
        for cut in cuts(reply.to_message()) {
            assert!(
                Reply::decode(&cut).is_err(),
                "{reply:?} cut to {}",
                cut.len()
            );
        }
    }
}
