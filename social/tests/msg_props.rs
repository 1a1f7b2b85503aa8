//! Property tests of the social client↔service messages: every message type round-trips
//! through the dispatch enums, decoding arbitrary bytes never panics, and whatever decodes
//! re-encodes to the input (reserved words and ZONE_ADD_NYM's hole aside, which are written as
//! zero).

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use proptest::collection::vec;
use proptest::prelude::*;

use social::msg::{
    AppConnect, AppDetach, AppEgo, AppEgoEnd, AppPlace, AppPlaceEnd, ClientMessage, Delivery,
    DeliveryHeader, GuestEnter, GuestEnterAck, GuestEnterByName, HistoryReplay, HistoryResult,
    HostEnter, HostEnterAck, JoinDecision, JoinRequest, MessageAck, MsgProcClear, MsgProcSet,
    PlaceLeave, PlaceLeaveAck, Reply, Request, ResultCode, StateGet, StateGetPrefix, StateResult,
    ZoneAddNym, ZoneAddPlace,
};

/// Types whose bytes 4..8 are a reserved word or padding the decoder ignores.
const WITH_RESERVED: [u16; 6] = [680, 702, 703, 704, 705, 851];

/// The input with the ignored word at offset 4 zeroed for the types that have one: what a
/// re-encoding of it must equal.
fn without_reserved(msg: &[u8]) -> Vec<u8> {
    let mut out = msg.to_vec();
    let msg_type = u16::from_be_bytes([msg[2], msg[3]]);
    if WITH_RESERVED.contains(&msg_type) && out.len() >= 8 {
        out[4..8].fill(0);
    }
    out
}

/// A message of type `msg_type` with `body`, its header's size right.
fn framed(msg_type: u16, body: &[u8]) -> Vec<u8> {
    let mut m = ((body.len() + 4) as u16).to_be_bytes().to_vec();
    m.extend_from_slice(&msg_type.to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// A complete GNUnet message of any type with a short body.
fn nested() -> impl Strategy<Value = Vec<u8>> {
    (any::<u16>(), vec(any::<u8>(), 0..40)).prop_map(|(msg_type, body)| framed(msg_type, &body))
}

/// A string that is followed by more fields, or a client's single string (a token): no NUL
/// inside.
fn mid_string() -> impl Strategy<Value = Vec<u8>> {
    vec(1u8..=255, 0..20)
}

/// A string that ends the message where inner NULs are allowed (PSYC requests, APP_EGO).
fn end_string() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..30)
}

fn peer() -> impl Strategy<Value = PeerIdentity> {
    any::<[u8; 32]>().prop_map(PeerIdentity)
}

fn ecdsa_pub() -> impl Strategy<Value = ecdsa::PublicKey> {
    any::<[u8; 32]>().prop_map(ecdsa::PublicKey)
}

fn eddsa_pub() -> impl Strategy<Value = eddsa::PublicKey> {
    any::<[u8; 32]>().prop_map(eddsa::PublicKey)
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
    (any::<i32>(), ecdsa_pub(), proptest::option::of(nested())).prop_map(
        |(is_admitted, slave_pub_key, response)| JoinDecision {
            response,
            ..JoinDecision::new(is_admitted, slave_pub_key)
        },
    )
}

fn host_enter() -> impl Strategy<Value = HostEnter> {
    (
        any::<(u32, [u8; 32])>(),
        ecdsa_pub(),
        eddsa_pub(),
        vec(1u8..=255, 0..254),
    )
        .prop_map(
            |((policy, key), ego_pub_key, place_pub_key, app_id)| HostEnter {
                policy,
                ego_pub_key,
                place_pub_key,
                place_key: eddsa::PrivateKey(key),
                app_id,
            },
        )
}

fn guest_enter() -> impl Strategy<Value = GuestEnter> {
    (
        (ecdsa_pub(), eddsa_pub(), peer(), any::<u32>()),
        mid_string(),
        vec(peer(), 0..4),
        proptest::option::of(nested()),
    )
        .prop_map(
            |((ego_pub_key, place_pub_key, origin, flags), app_id, relays, join_msg)| GuestEnter {
                ego_pub_key,
                place_pub_key,
                origin,
                flags,
                app_id,
                relays,
                join_msg,
            },
        )
}

fn guest_enter_by_name() -> impl Strategy<Value = GuestEnterByName> {
    (
        ecdsa_pub(),
        (mid_string(), mid_string(), mid_string()),
        proptest::option::of(nested()),
    )
        .prop_map(
            |(ego_pub_key, (app_id, gns_name, password), join_msg)| GuestEnterByName {
                ego_pub_key,
                app_id,
                gns_name,
                password,
                join_msg,
            },
        )
}

fn zone_add_place() -> impl Strategy<Value = ZoneAddPlace> {
    (
        any::<(u64, u64)>(),
        (ecdsa_pub(), eddsa_pub(), peer()),
        (mid_string(), mid_string()),
        vec(peer(), 0..4),
    )
        .prop_map(
            |(
                (op_id, expiration_time),
                (ego_pub_key, place_pub_key, origin),
                (name, password),
                relays,
            )| {
                ZoneAddPlace {
                    op_id,
                    expiration_time,
                    ego_pub_key,
                    place_pub_key,
                    origin,
                    name,
                    password,
                    relays,
                }
            },
        )
}

fn zone_add_nym() -> impl Strategy<Value = ZoneAddNym> {
    (any::<(u64, u64)>(), ecdsa_pub(), ecdsa_pub(), mid_string()).prop_map(
        |((op_id, expiration_time), ego_pub_key, nym_pub_key, name)| ZoneAddNym {
            op_id,
            expiration_time,
            ego_pub_key,
            nym_pub_key,
            name,
        },
    )
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        host_enter().prop_map(Request::HostEnter),
        guest_enter().prop_map(Request::GuestEnter),
        guest_enter_by_name().prop_map(Request::GuestEnterByName),
        Just(Request::PlaceLeave(PlaceLeave)),
        zone_add_place().prop_map(Request::ZoneAddPlace),
        zone_add_nym().prop_map(Request::ZoneAddNym),
        mid_string().prop_map(|app_id| Request::AppConnect(AppConnect { app_id })),
        (eddsa_pub(), ecdsa_pub(), any::<u64>()).prop_map(|(place_pub_key, ego_pub_key, op_id)| {
            Request::AppDetach(AppDetach {
                place_pub_key,
                ego_pub_key,
                op_id,
            })
        }),
        (any::<u32>(), mid_string()).prop_map(|(flags, method_prefix)| {
            Request::MsgProcSet(MsgProcSet {
                flags,
                method_prefix,
            })
        }),
        Just(Request::MsgProcClear(MsgProcClear)),
        join_decision().prop_map(Request::JoinDecision),
        vec(any::<u8>(), 0..80).prop_map(|parts| Request::Message(ClientMessage { parts })),
        (any::<(u32, u64, u64, u64, u64)>(), end_string()).prop_map(
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
        (any::<u64>(), end_string())
            .prop_map(|(op_id, name)| Request::StateGet(StateGet { op_id, name })),
        (any::<u64>(), end_string())
            .prop_map(|(op_id, name)| Request::StateGetPrefix(StateGetPrefix { op_id, name })),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        (any::<(i32, u64)>(), eddsa_pub()).prop_map(
            |((result_code, max_message_id), place_pub_key)| {
                Reply::HostEnterAck(HostEnterAck {
                    result_code,
                    max_message_id,
                    place_pub_key,
                })
            }
        ),
        any::<(i32, u64)>().prop_map(|(result_code, max_message_id)| {
            Reply::GuestEnterAck(GuestEnterAck {
                result_code,
                max_message_id,
            })
        }),
        Just(Reply::PlaceLeaveAck(PlaceLeaveAck)),
        (ecdsa_pub(), end_string())
            .prop_map(|(ego_pub_key, name)| Reply::AppEgo(AppEgo { ego_pub_key, name })),
        Just(Reply::AppEgoEnd(AppEgoEnd)),
        (ecdsa_pub(), eddsa_pub(), any::<(u8, u8)>()).prop_map(
            |(ego_pub_key, place_pub_key, (is_host, place_state))| {
                Reply::AppPlace(AppPlace {
                    ego_pub_key,
                    place_pub_key,
                    is_host,
                    place_state,
                })
            }
        ),
        Just(Reply::AppPlaceEnd(AppPlaceEnd)),
        (any::<(u64, i64)>(), vec(any::<u8>(), 0..30)).prop_map(|((op_id, result_code), data)| {
            Reply::ResultCode(ResultCode {
                op_id,
                result_code,
                data,
            })
        }),
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
        msg_type in prop_oneof![838u16..862, 678u16..708],
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
/// relay counts, terminating NULs) is an error. (A message with an optional nested tail is
/// valid without it, so those are cut without one.)
#[test]
fn every_truncation_is_an_error() {
    let requests = [
        Request::HostEnter(HostEnter {
            policy: 1,
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            place_pub_key: eddsa::PublicKey([2; 32]),
            place_key: eddsa::PrivateKey([0; 32]),
            app_id: b"app".to_vec(),
        }),
        Request::GuestEnter(GuestEnter {
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            place_pub_key: eddsa::PublicKey([2; 32]),
            origin: PeerIdentity([3; 32]),
            flags: 0,
            app_id: b"app".to_vec(),
            relays: vec![PeerIdentity([4; 32])],
            join_msg: None,
        }),
        Request::GuestEnterByName(GuestEnterByName {
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            app_id: b"a".to_vec(),
            gns_name: b"n.gnu".to_vec(),
            password: b"p".to_vec(),
            join_msg: None,
        }),
        Request::ZoneAddPlace(ZoneAddPlace {
            op_id: 1,
            expiration_time: 2,
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            place_pub_key: eddsa::PublicKey([2; 32]),
            origin: PeerIdentity([3; 32]),
            name: b"n".to_vec(),
            password: vec![],
            relays: vec![PeerIdentity([4; 32])],
        }),
        Request::ZoneAddNym(ZoneAddNym {
            op_id: 1,
            expiration_time: 2,
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            nym_pub_key: ecdsa::PublicKey([2; 32]),
            name: b"n".to_vec(),
        }),
        Request::AppConnect(AppConnect {
            app_id: b"a".to_vec(),
        }),
        Request::AppDetach(AppDetach {
            place_pub_key: eddsa::PublicKey([1; 32]),
            ego_pub_key: ecdsa::PublicKey([2; 32]),
            op_id: 0,
        }),
        Request::MsgProcSet(MsgProcSet {
            flags: 1,
            method_prefix: b"_m".to_vec(),
        }),
    ];
    let replies = [
        Reply::HostEnterAck(HostEnterAck {
            result_code: 1,
            max_message_id: 2,
            place_pub_key: eddsa::PublicKey([3; 32]),
        }),
        Reply::GuestEnterAck(GuestEnterAck {
            result_code: 1,
            max_message_id: 2,
        }),
        Reply::AppEgo(AppEgo {
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            name: b"me".to_vec(),
        }),
        Reply::AppPlace(AppPlace {
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            place_pub_key: eddsa::PublicKey([2; 32]),
            is_host: 0,
            place_state: 1,
        }),
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
