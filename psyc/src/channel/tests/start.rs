//! Master start, slave join, admission, part, binding rules.

use super::*;
use crate::msg::{JoinDecision, MasterStartAck, PartRequest, SlaveJoinAck};
use gnunet_service::wire::Message;

fn start_request() -> Request {
    Request::MasterStart(MasterStart {
        policy: 3,
        channel_key: channel_key(),
    })
}

#[test]
fn master_start_looks_up_counters_then_starts_the_origin_and_acks() {
    let mut h = Harness::new();
    let a = h.client(1, start_request());
    assert_eq!(store_ops(&a).len(), 1, "only the counters lookup");
    assert!(replies_to(&a, 1).is_empty(), "no ACK before the counters");
    let a = h.counters(&a, 1, 12);
    match mcast_msgs(&a).as_slice() {
        [Any::OriginStart(o)] => {
            assert_eq!(o.max_fragment_id, 40);
            assert_eq!(o.group_key, channel_key());
        }
        other => panic!("expected ORIGIN_START, got {other:?}"),
    }
    assert_eq!(
        replies_to(&a, 1),
        vec![Reply::MasterStartAck(MasterStartAck {
            result_code: 1,
            max_message_id: 12
        })]
    );
}

#[test]
fn a_later_master_client_attaches_and_waits_for_the_counters() {
    let mut h = Harness::new();
    let first = h.client(1, start_request());
    let a = h.client(2, start_request());
    assert!(a.is_empty(), "no second lookup, no early ACK: {a:?}");
    let a = h.counters(&first, 0, 0);
    let ack = Reply::MasterStartAck(MasterStartAck {
        result_code: 0,
        max_message_id: 0,
    });
    assert_eq!(replies_to(&a, 1), vec![ack.clone()]);
    assert_eq!(replies_to(&a, 2), vec![ack.clone()]);
    assert_eq!(mcast_msgs(&a).len(), 1, "one origin");
    let a = h.client(3, start_request());
    assert_eq!(replies_to(&a, 3), vec![ack]);
}

#[test]
fn a_failed_counters_lookup_is_reported_and_the_record_goes() {
    let mut h = Harness::new();
    let a = h.client(1, start_request());
    let a = h.counters(&a, -1, 0);
    assert!(mcast_msgs(&a).is_empty());
    assert_eq!(
        replies_to(&a, 1),
        vec![Reply::MasterStartAck(MasterStartAck {
            result_code: -1,
            max_message_id: 0
        })]
    );
    assert_eq!(h.ch.record_of(ClientId(1)), None);
}

#[test]
fn requests_before_binding_and_second_bindings_drop_the_client() {
    let mut h = Harness::new();
    let a = h.client(1, Request::PartRequest(PartRequest));
    assert!(dropped(&a, 1));
    let mut h = Harness::started_master(0);
    let a = h.client(1, start_request());
    assert!(dropped(&a, 1));
}

#[test]
fn slave_join_joins_the_group_with_its_relays_and_admission_reaches_every_client() {
    let mut h = Harness::new();
    let a = h.join(1, slave_join_flags::NONE);
    let a = h.counters(&a, 0, 0);
    assert_eq!(
        replies_to(&a, 1),
        vec![Reply::SlaveJoinAck(SlaveJoinAck {
            result_code: 0,
            max_message_id: 0
        })]
    );
    match mcast_msgs(&a).as_slice() {
        [Any::MemberJoin(j)] => {
            assert_eq!(j.relays, vec![PeerIdentity([4; 32])]);
            assert_eq!(j.origin, PeerIdentity([3; 32]));
        }
        other => panic!("expected MEMBER_JOIN, got {other:?}"),
    }
    let a = h.join(2, slave_join_flags::NONE);
    assert!(mcast_msgs(&a).is_empty(), "joining already");
    let a = h.mcast(slave(), Event::JoinDecision(decision(1)));
    let admitted = Reply::JoinDecision(JoinDecision::new(1, ecdsa::PublicKey([0; 32])));
    assert_eq!(replies_to(&a, 1), vec![admitted.clone()]);
    assert_eq!(replies_to(&a, 2), vec![admitted.clone()]);
    // A later client gets the ACK and the stored decision.
    let a = h.join(3, slave_join_flags::NONE);
    assert_eq!(replies_to(&a, 3).get(1), Some(&admitted));
    assert!(mcast_msgs(&a).is_empty());
}

#[test]
fn a_local_slave_join_stays_off_the_network_and_the_joiner_gets_the_decision() {
    let mut h = Harness::new();
    let a = h.join(1, slave_join_flags::LOCAL);
    let a = h.counters(&a, 0, 0);
    assert!(mcast_msgs(&a).is_empty());
    let got = replies_to(&a, 1);
    assert!(matches!(got.get(1), Some(Reply::JoinDecision(d)) if d.is_admitted == 1));
    let a = h.join(2, slave_join_flags::LOCAL);
    assert!(matches!(
        replies_to(&a, 2).get(1),
        Some(Reply::JoinDecision(_))
    ));
    assert!(replies_to(&a, 1).is_empty());
    // A LOCAL slave cannot transmit.
    let a = h.send(1, method(0, "_m", false));
    assert!(dropped(&a, 1));
}

#[test]
fn a_refused_slave_leaves_the_group_and_may_join_again() {
    let mut h = Harness::new();
    let a = h.join(1, slave_join_flags::NONE);
    h.counters(&a, 0, 0);
    let a = h.mcast(slave(), Event::JoinDecision(decision(0)));
    assert!(matches!(replies_to(&a, 1).as_slice(), [Reply::JoinDecision(d)] if d.is_admitted == 0));
    // It parts, and the connection closes when multicast confirmed it.
    assert!(matches!(mcast_msgs(&a).as_slice(), [Any::PartRequest(_)]));
    assert!(!a.contains(&Action::CloseMulticast { record: slave() }));
    let a = h.mcast(slave(), Event::PartAck);
    assert!(a.contains(&Action::CloseMulticast { record: slave() }));
    assert!(
        replies_to(&a, 1).is_empty(),
        "the client did not ask to part"
    );
    let a = h.join(2, slave_join_flags::NONE);
    assert!(matches!(mcast_msgs(&a).as_slice(), [Any::MemberJoin(_)]));
}

#[test]
fn a_join_while_a_refused_slave_leaves_waits_for_the_part() {
    let mut h = Harness::new();
    let a = h.join(1, slave_join_flags::NONE);
    h.counters(&a, 0, 0);
    h.mcast(slave(), Event::JoinDecision(decision(0)));
    // Joining again before multicast confirmed the part: no MEMBER_JOIN yet (multicast could
    // still hold the refused member) and not the old refusal.
    let a = h.join(2, slave_join_flags::NONE);
    assert!(mcast_msgs(&a).is_empty());
    assert!(matches!(
        replies_to(&a, 2).as_slice(),
        [Reply::SlaveJoinAck(_)]
    ));
    // The part confirmed: the old connection closes, a new one joins.
    let a = h.mcast(slave(), Event::PartAck);
    let close = a
        .iter()
        .position(|x| *x == Action::CloseMulticast { record: slave() });
    let open = a
        .iter()
        .position(|x| *x == Action::OpenMulticast { record: slave() });
    assert!(
        matches!((close, open), (Some(c), Some(o)) if c < o),
        "{a:?}"
    );
    assert!(matches!(mcast_msgs(&a).as_slice(), [Any::MemberJoin(_)]));
    let a = h.mcast(slave(), Event::JoinDecision(decision(1)));
    for c in [1, 2] {
        assert!(
            matches!(replies_to(&a, c).as_slice(), [Reply::JoinDecision(d)] if d.is_admitted == 1)
        );
    }
}

#[test]
fn a_master_start_on_a_stopped_record_starts_the_channel_again() {
    let mut h = Harness::started_master(0);
    h.client(1, Request::PartRequest(PartRequest));
    let a = h.mcast(master(), Event::PartAck);
    assert!(a.contains(&Action::CloseMulticast { record: master() }));
    // Client 1 has not gone yet when client 2 starts the channel again: fresh counters, then
    // the origin starts again.
    let a = h.client(
        2,
        Request::MasterStart(MasterStart {
            policy: 0,
            channel_key: channel_key(),
        }),
    );
    assert!(replies_to(&a, 2).is_empty(), "waits for the counters");
    let a = h.counters(&a, 1, 7);
    assert!(matches!(
        replies_to(&a, 2).as_slice(),
        [Reply::MasterStartAck(ack)] if ack.result_code == 1 && ack.max_message_id == 7
    ));
    assert!(matches!(mcast_msgs(&a).as_slice(), [Any::OriginStart(_)]));
}

pub(super) fn join_request() -> multicast::msg::JoinRequest {
    multicast::msg::JoinRequest {
        reserved: 0,
        signature: ecdsa::Signature([0; 64]),
        purpose: gnunet_service::crypto::purpose::SignaturePurpose {
            size: 0,
            purpose: 0,
        },
        group_pub_key: channel_key().public_key(),
        member_pub_key: slave_key().public_key(),
        peer: PeerIdentity([6; 32]),
        join_msg: Some(
            ClientMessage {
                parts: method(0, "_request_join", false),
            }
            .to_message(),
        ),
    }
}

/// Answers the membership test in `actions` with `result`.
pub(super) fn membership(h: &mut Harness, actions: &[Action], result: i64) -> Vec<Action> {
    let op_id = store_ops(actions)
        .into_iter()
        .find_map(|r| match r {
            StoreRequest::MembershipTest(t) => Some(t.head.op_id),
            _ => None,
        })
        .expect("a membership test");
    h.store(StoreReply::ResultCode(ResultCode::new(op_id, result)))
}

#[test]
fn a_join_request_is_tested_then_decided_by_a_master_client() {
    let mut h = Harness::started_master(0);
    let a = h.mcast(master(), Event::JoinRequest(join_request()));
    assert!(replies_to(&a, 1).is_empty(), "membership test first");
    let a = membership(&mut h, &a, 0);
    match replies_to(&a, 1).as_slice() {
        [Reply::JoinRequest(r)] => {
            assert_eq!(r.slave_pub_key, slave_key().public_key());
            assert!(r.join_msg.is_some());
        }
        other => panic!("expected JOIN_REQUEST, got {other:?}"),
    }
    let mut d = JoinDecision::new(1, slave_key().public_key());
    d.response = Some(
        ClientMessage {
            parts: data("welcome", true),
        }
        .to_message(),
    );
    let a = h.client(1, Request::JoinDecision(d));
    match mcast_msgs(&a).as_slice() {
        [Any::JoinDecision(d)] => {
            assert_eq!(d.peer, PeerIdentity([6; 32]));
            assert_eq!(d.decision.is_admitted, 1);
            assert!(d.decision.response.is_some());
        }
        other => panic!("expected JOIN_DECISION, got {other:?}"),
    }
}

#[test]
fn a_known_member_is_admitted_without_asking_the_clients() {
    let mut h = Harness::started_master(0);
    let a = h.mcast(master(), Event::JoinRequest(join_request()));
    let a = membership(&mut h, &a, 1);
    assert!(replies_to(&a, 1).is_empty());
    assert!(
        matches!(mcast_msgs(&a).as_slice(), [Any::JoinDecision(d)] if d.decision.is_admitted == 1)
    );
}

#[test]
fn part_acks_only_the_asking_client_and_the_last_client_closes_the_record() {
    let mut h = Harness::started_master(0);
    h.client(2, start_request());
    let a = h.client(2, Request::PartRequest(PartRequest));
    assert!(matches!(mcast_msgs(&a).as_slice(), [Any::PartRequest(_)]));
    let a = h.mcast(master(), Event::PartAck);
    assert_eq!(replies_to(&a, 2), vec![Reply::PartAck(crate::msg::PartAck)]);
    assert!(replies_to(&a, 1).is_empty());
    h.ch.handle_client_gone(h.now, ClientId(2));
    assert!(h.ch.drain_actions().is_empty());
    h.ch.handle_client_gone(h.now, ClientId(1));
    assert!(
        h.ch.drain_actions().is_empty(),
        "already closed by the part"
    );

    let mut h = Harness::started_master(0);
    h.ch.handle_client_gone(h.now, ClientId(1));
    assert_eq!(
        h.ch.drain_actions(),
        vec![Action::CloseMulticast { record: master() }]
    );
}
