//! Hosting: entering, psyc's start, entry requests and decisions, relaying.

use super::*;
use crate::msg::{HostEnterAck, JoinRequest, MsgProcSet, PlaceLeave};
use psyc::format::container::DELIVERY_REQUEST;
use psyc::format::parts::{Parts, METHOD_STATE_MODIFY};

pub(super) const HOST: u64 = 10;

fn acks(actions: &[Action], client: u64) -> Vec<HostEnterAck> {
    replies(actions, client)
        .into_iter()
        .filter_map(|r| match r {
            Reply::HostEnterAck(a) => Some(a),
            _ => None,
        })
        .collect()
}

#[test]
fn an_unknown_place_key_gets_a_failed_ack_not_a_zero_key_master() {
    let mut t = T::new();
    let unknown = eddsa::PublicKey([9; 32]);
    let a = t.client(HOST, Request::HostEnter(host_enter(unknown)));
    assert_eq!(
        acks(&a, HOST),
        vec![HostEnterAck {
            result_code: -1,
            max_message_id: 0,
            place_pub_key: unknown,
        }]
    );
    assert!(dropped(&a, HOST).is_none());
    assert!(!a.iter().any(|a| matches!(a, Action::OpenPsyc { .. })));
    // The client may still create a place.
    let a = t.client(
        HOST,
        Request::HostEnter(host_enter(eddsa::PublicKey([0; 32]))),
    );
    assert!(a.iter().any(|a| matches!(a, Action::OpenPsyc { .. })));
}

#[test]
fn a_client_bringing_the_private_key_creates_the_place() {
    let mut t = T::new();
    let key = eddsa::PrivateKey([0x33; 32]);
    let a = t.client(
        HOST,
        Request::HostEnter(HostEnter {
            place_key: key.clone(),
            ..host_enter(key.public_key())
        }),
    );
    assert!(
        matches!(&stores(&a)[..], [StoreOp::SavePlace { enter: crate::store::SavedEnter::Host(h), .. }] if h.place_key == key)
    );
    assert!(a.contains(&Action::OpenPsyc {
        place: PlaceId::Host(key.public_key())
    }));
}

#[test]
fn clients_entering_before_the_master_started_wait_for_it() {
    let mut t = T::new();
    let a = t.client(
        HOST,
        Request::HostEnter(host_enter(eddsa::PublicKey([0; 32]))),
    );
    assert!(acks(&a, HOST).is_empty());
    let place = place_key(1).public_key();
    let id = PlaceId::Host(place);
    let a = t.client(HOST + 1, Request::HostEnter(host_enter(place)));
    assert!(
        acks(&a, HOST + 1).is_empty(),
        "C answered 1 at once, with a stale id"
    );
    assert!(
        stores(&a).is_empty(),
        "the same app: nothing new to persist"
    );
    t.up(id);
    let a = t.psyc(id, master_start_ack(1, 5));
    for c in [HOST, HOST + 1] {
        assert_eq!(
            acks(&a, c),
            vec![HostEnterAck {
                result_code: 1,
                max_message_id: 5,
                place_pub_key: place,
            }]
        );
    }
    // A restarted psyc: MASTER_START again, no second ACK to the clients.
    t.down(id);
    let a = t.up(id);
    assert!(matches!(
        &to_psyc(&a, id)[..],
        [psyc::msg::Request::MasterStart(_)]
    ));
    let a = t.psyc(id, master_start_ack(1, 5));
    assert!(acks(&a, HOST).is_empty());
    // A client entering now gets 1 at once.
    let a = t.client(HOST + 2, Request::HostEnter(host_enter(place)));
    assert_eq!(acks(&a, HOST + 2)[0].result_code, 1);
}

#[test]
fn a_master_that_does_not_start_is_reported_and_tried_again() {
    let mut t = T::new();
    t.client(
        HOST,
        Request::HostEnter(host_enter(eddsa::PublicKey([0; 32]))),
    );
    let place = place_key(1).public_key();
    let id = PlaceId::Host(place);
    t.up(id);
    let a = t.psyc(id, master_start_ack(-1, 0));
    assert_eq!(acks(&a, HOST)[0].result_code, -1);
    assert!(a.contains(&Action::ClosePsyc { place: id }));
    assert_eq!(t.s.place_of(ClientId(HOST)), None);
    let a = t.client(HOST + 1, Request::HostEnter(host_enter(place)));
    assert!(a.contains(&Action::OpenPsyc { place: id }));
    t.up(id);
    let a = t.psyc(id, master_start_ack(0, 0));
    assert_eq!(acks(&a, HOST + 1)[0].result_code, 0);
}

#[test]
fn entry_requests_wait_for_a_decision_and_reach_later_host_clients() {
    let mut t = T::new();
    let id = t.hosted(HOST, 0);
    let req = JoinRequest {
        slave_pub_key: ego(7),
        join_msg: Some(join_msg()),
    };
    let a = t.psyc(id, psyc::msg::Reply::JoinRequest(req.clone()));
    assert_eq!(replies(&a, HOST), vec![Reply::JoinRequest(req.clone())]);
    t.gone(HOST);
    let a = t.client(HOST + 1, Request::HostEnter(host_enter(id.place())));
    let got = replies(&a, HOST + 1);
    assert!(
        matches!(&got[..], [Reply::HostEnterAck(_), Reply::JoinRequest(r), Reply::AppPlace(_)] if *r == req)
    );
    // A decision for a guest nobody asked about is ignored; the pending one goes to psyc.
    let a = t.client(
        HOST + 1,
        Request::JoinDecision(JoinDecision::new(1, ego(8))),
    );
    assert!(to_psyc(&a, id).is_empty());
    let a = t.client(
        HOST + 1,
        Request::JoinDecision(JoinDecision::new(1, ego(7))),
    );
    // An admission is also stored as a membership, so the guest may fetch what it missed.
    assert_eq!(
        to_psyc(&a, id),
        vec![
            psyc::msg::Request::JoinDecision(JoinDecision::new(1, ego(7))),
            crate::place::host::membership(ego(7), 0, true),
        ]
    );
    let a = t.client(
        HOST + 1,
        Request::JoinDecision(JoinDecision::new(1, ego(7))),
    );
    assert!(to_psyc(&a, id).is_empty(), "decided already");
}

#[test]
fn entry_requests_beyond_the_bound_are_refused() {
    let mut t = T::with(LogicConfig {
        max_pending_entries: 1,
        ..LogicConfig::new(PEER)
    });
    t.s.handle_egos_listed(t.now);
    let id = t.hosted(HOST, 0);
    for n in [7, 7] {
        let a = t.psyc(
            id,
            psyc::msg::Reply::JoinRequest(JoinRequest {
                slave_pub_key: ego(n),
                join_msg: None,
            }),
        );
        assert!(to_psyc(&a, id).is_empty(), "a repeat replaces the request");
    }
    let a = t.psyc(
        id,
        psyc::msg::Reply::JoinRequest(JoinRequest {
            slave_pub_key: ego(8),
            join_msg: None,
        }),
    );
    assert_eq!(
        to_psyc(&a, id),
        vec![psyc::msg::Request::JoinDecision(JoinDecision::new(
            0,
            ego(8)
        ))]
    );
    assert!(replies(&a, HOST).is_empty());
}

#[test]
fn place_requests_need_a_place_and_the_right_role() {
    let mut t = T::new();
    let a = t.client(HOST, Request::PlaceLeave(PlaceLeave));
    assert!(dropped(&a, HOST).unwrap().contains("no place"), "gap G12");
    let a = t.client(
        HOST + 1,
        Request::JoinDecision(JoinDecision::new(1, ego(7))),
    );
    assert!(dropped(&a, HOST + 1).is_some());
    let host = t.hosted(HOST + 2, 0);
    let guest = t.admitted(HOST + 3, host.place());
    assert_eq!(t.s.place_of(ClientId(HOST + 3)), Some(guest));
    let a = t.client(
        HOST + 3,
        Request::JoinDecision(JoinDecision::new(1, ego(7))),
    );
    assert!(dropped(&a, HOST + 3).unwrap().contains("guest"));
    // Only that client: the host's is untouched.
    let a = t.client(HOST + 2, Request::HostEnter(host_enter(host.place())));
    assert!(dropped(&a, HOST + 2).unwrap().contains("already entered"));
}

#[test]
fn an_eddsa_ego_cannot_host() {
    let mut t = T::new();
    let key = eddsa::PrivateKey([0x44; 32]);
    t.s.handle_ego(t.now, "edwards", EgoKey::Eddsa(key.clone()));
    let a = t.client(
        HOST,
        Request::HostEnter(HostEnter {
            ego_pub_key: ecdsa::PublicKey(key.public_key().0),
            ..host_enter(eddsa::PublicKey([0; 32]))
        }),
    );
    let reason = dropped(&a, HOST).unwrap();
    assert!(reason.contains("EdDSA ego `edwards`") && reason.contains("not usable for social"));
    assert!(stores(&a).is_empty());
}

pub(super) fn relay_rule(t: &mut T, client: u64) {
    t.client(
        client,
        Request::MsgProcSet(MsgProcSet {
            flags: crate::msg::msg_proc_flags::RELAY,
            method_prefix: b"_converse".to_vec(),
        }),
    );
}

#[test]
fn a_relayed_request_is_announced_with_its_sender_once_complete() {
    let mut t = T::with(LogicConfig::new(PEER));
    t.s.handle_egos_listed(t.now);
    let id = t.hosted(HOST, 0);
    relay_rule(&mut t, HOST);
    let guest = ego(2).0;
    let first = [
        method(METHOD_STATE_MODIFY, "_converse_guest"),
        modifier(b':', "_nym", b"forged"),
        modifier(b'=', "_bar_foo", b"one two three"),
    ]
    .concat();
    let a = t.psyc(
        id,
        psyc::msg::Reply::Message(delivery(DELIVERY_REQUEST, 4, guest, first)),
    );
    assert!(containers(&a, id).is_empty(), "gathered until the END");
    assert_eq!(
        replies(&a, HOST).len(),
        1,
        "the host's clients see the request"
    );
    let second = [data(b"zzz"), end()].concat();
    let a = t.psyc(
        id,
        psyc::msg::Reply::Message(delivery(DELIVERY_REQUEST, 4, guest, second.clone())),
    );
    assert_eq!(
        containers(&a, id),
        vec![
            [method(0, "_converse_guest"), modifier(b':', "_nym", &guest)].concat(),
            modifier(b'=', "_bar_foo", b"one two three"),
            second,
        ]
    );
    // No MESSAGE_ACKs for relayed containers.
    for _ in 0..3 {
        let a = t.psyc(id, message_ack());
        assert!(replies(&a, HOST).is_empty());
    }
    // The relayed message comes back as a channel message: not relayed again.
    let back = [method(0, "_converse_guest"), end()].concat();
    let a = t.psyc(id, psyc::msg::Reply::Message(delivery(0, 1, [0; 32], back)));
    assert!(containers(&a, id).is_empty());
}

#[test]
fn requests_outside_the_rules_or_cancelled_are_not_relayed() {
    let mut t = T::with(LogicConfig::new(PEER));
    t.s.handle_egos_listed(t.now);
    let id = t.hosted(HOST, 0);
    relay_rule(&mut t, HOST);
    let guest = ego(2).0;
    for parts in [
        [method(0, "_notice_guest"), end()].concat(),
        [method(0, "_conversely"), end()].concat(),
        [method(0, "_converse"), data(b"x"), cancel()].concat(),
    ] {
        let a = t.psyc(
            id,
            psyc::msg::Reply::Message(delivery(DELIVERY_REQUEST, 1, guest, parts)),
        );
        assert!(containers(&a, id).is_empty());
    }
    // A new request drops the unfinished one; the new one is relayed.
    t.psyc(
        id,
        psyc::msg::Reply::Message(delivery(DELIVERY_REQUEST, 2, guest, method(0, "_converse"))),
    );
    let a = t.psyc(
        id,
        psyc::msg::Reply::Message(delivery(
            DELIVERY_REQUEST,
            3,
            guest,
            [method(0, "_converse_b"), end()].concat(),
        )),
    );
    let sent = containers(&a, id);
    assert_eq!(sent.len(), 2);
    let names: Vec<_> = Parts::new(&sent[0])
        .map(|p| p.unwrap().into_owned())
        .collect();
    assert!(matches!(&names[0], Part::Method(m) if m.name.as_ref() == b"_converse_b"));
    // Relaying off (as for the acceptance test): nothing.
    let mut t = T::new();
    let id = t.hosted(HOST, 0);
    relay_rule(&mut t, HOST);
    let a = t.psyc(
        id,
        psyc::msg::Reply::Message(delivery(
            DELIVERY_REQUEST,
            1,
            guest,
            [method(0, "_converse"), end()].concat(),
        )),
    );
    assert!(containers(&a, id).is_empty());
}
