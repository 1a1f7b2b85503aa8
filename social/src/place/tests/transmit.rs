//! Messages of place clients on their way to psyc, and psyc connections breaking.

use super::*;
use crate::msg::{MessageAck, PlaceLeave, StateGet};

const A: u64 = 10;
const B: u64 = 11;

fn two_host_clients(cfg: LogicConfig) -> (T, PlaceId) {
    let mut t = T::with(cfg);
    t.s.handle_egos_listed(t.now);
    let id = t.hosted(A, 0);
    t.client(B, Request::HostEnter(host_enter(id.place())));
    (t, id)
}

fn one_message(name: &str) -> Vec<u8> {
    [method(0, name), data(b"x"), end()].concat()
}

#[test]
fn a_client_that_overfills_the_queue_is_dropped_alone() {
    let (mut t, id) = two_host_clients(LogicConfig {
        psyc_window: 1,
        max_transmit_entries: 2,
        ..LogicConfig::new(PEER)
    });
    let a = t.client(B, msg(one_message("_b")));
    assert_eq!(containers(&a, id).len(), 1, "in flight");
    t.client(A, msg(method(0, "_a")));
    t.client(A, msg(data(b"1")));
    let a = t.client(A, msg(data(b"2")));
    assert!(dropped(&a, A).unwrap().contains("queue is full"));
    // B's message is acknowledged; A's queued containers went with it.
    let a = t.psyc(id, message_ack());
    assert_eq!(replies(&a, B), vec![Reply::MessageAck(MessageAck)]);
    assert!(containers(&a, id).is_empty());
    let a = t.client(B, msg(one_message("_b2")));
    assert_eq!(containers(&a, id).len(), 1);
}

#[test]
fn a_client_vanishing_mid_message_has_it_cancelled() {
    let (mut t, id) = two_host_clients(LogicConfig::new(PEER));
    let a = t.client(A, msg(method(0, "_a")));
    assert_eq!(containers(&a, id), vec![method(0, "_a")]);
    let a = t.client(B, msg(one_message("_b")));
    assert!(containers(&a, id).is_empty(), "waits for A's message");
    let a = t.gone(A);
    assert_eq!(containers(&a, id), vec![cancel(), one_message("_b")]);
    for expect_b in [false, false, true] {
        let a = t.psyc(id, message_ack());
        assert_eq!(!replies(&a, B).is_empty(), expect_b);
    }
}

#[test]
fn messages_need_an_entered_place() {
    let mut t = T::new();
    let a = t.client(A, msg(one_message("_a")));
    assert!(dropped(&a, A).unwrap().contains("no place"));
    t.client(B, Request::HostEnter(host_enter(eddsa::PublicKey([0; 32]))));
    let a = t.client(B, msg(one_message("_b")));
    assert!(dropped(&a, B).unwrap().contains("no ENTER_ACK"));
}

#[test]
fn guest_messages_wait_for_the_admission() {
    let mut t = T::new();
    let place = eddsa::PublicKey([5; 32]);
    let id = PlaceId::Guest(place, ego(2));
    t.client(A, Request::GuestEnter(guest_enter(place, PEER)));
    t.up(id);
    t.psyc(id, slave_join_ack(1, 0));
    let a = t.client(A, msg(one_message("_talk")));
    assert!(containers(&a, id).is_empty());
    let a = t.psyc(id, decision(1));
    assert_eq!(containers(&a, id), vec![one_message("_talk")]);
}

#[test]
fn a_broken_psyc_connection_is_cleaned_up_and_restarted() {
    let (mut t, id) = two_host_clients(LogicConfig::new(PEER));
    t.client(A, msg(method(0, "_a")));
    t.client(B, msg(one_message("_b")));
    let a = t.client(
        B,
        Request::StateGet(StateGet {
            op_id: 3,
            name: b"_x".to_vec(),
        }),
    );
    assert_eq!(to_psyc(&a, id).len(), 1);
    let a = t.down(id);
    // A's half-sent message cannot go on: A is dropped; its container in flight was ACKed.
    assert_eq!(replies(&a, A), vec![Reply::MessageAck(MessageAck)]);
    assert!(dropped(&a, A).unwrap().contains("psyc connection broke"));
    assert_eq!(results(&a, B)[0].1, -1);
    assert!(a.iter().all(|a| !matches!(a, Action::Psyc { .. })));
    // Up again: MASTER_START first, then B's message once the master runs.
    let a = t.up(id);
    assert!(matches!(
        &to_psyc(&a, id)[..],
        [psyc::msg::Request::MasterStart(_)]
    ));
    let a = t.psyc(id, master_start_ack(1, 0));
    assert_eq!(containers(&a, id), vec![one_message("_b")]);
    // Answers of the old connection are not taken for the new one's.
    let a = t.psyc(
        id,
        psyc::msg::Reply::ResultCode(psyc::msg::ResultCode::new(1, 1)),
    );
    assert!(results(&a, B).is_empty());
}

#[test]
fn leaving_sends_complete_messages_and_cancels_unfinished_ones() {
    let (mut t, id) = two_host_clients(LogicConfig {
        psyc_window: 1,
        ..LogicConfig::new(PEER)
    });
    t.client(B, msg(one_message("_b")));
    t.client(A, msg(method(0, "_a_unfinished")));
    let a = t.client(B, Request::PlaceLeave(PlaceLeave));
    assert!(to_psyc(&a, id).is_empty());
    let a = t.client(A, msg(data(b"late")));
    assert!(dropped(&a, A).is_none(), "ignored, not dropped");
    let a = t.psyc(id, message_ack());
    assert_eq!(
        to_psyc(&a, id),
        vec![psyc::msg::Request::PartRequest(psyc::msg::PartRequest)]
    );
    let a = t.psyc(id, part_ack());
    for c in [A, B] {
        assert_eq!(
            replies(&a, c),
            vec![Reply::PlaceLeaveAck(crate::msg::PlaceLeaveAck)]
        );
        assert_eq!(t.s.place_of(ClientId(c)), None);
    }
    let a = t.client(A, Request::PlaceLeave(PlaceLeave));
    assert!(dropped(&a, A).is_some(), "no place any more");
}

#[test]
fn a_guest_not_admitted_leaves_at_once_and_a_refused_one_too() {
    let mut t = T::new();
    let place = eddsa::PublicKey([5; 32]);
    let id = PlaceId::Guest(place, ego(2));
    t.client(A, Request::GuestEnter(guest_enter(place, PEER)));
    let a = t.client(A, Request::PlaceLeave(PlaceLeave));
    assert_eq!(
        replies(&a, A),
        vec![Reply::PlaceLeaveAck(crate::msg::PlaceLeaveAck)]
    );
    assert!(a.contains(&Action::ClosePsyc { place: id }));
    assert!(stores(&a).contains(&StoreOp::ForgetPlace { ego: ego(2), place }));
    // Refused and parted: nothing at psyc, left at once.
    t.client(B, Request::GuestEnter(guest_enter(place, PEER)));
    t.up(id);
    t.psyc(id, slave_join_ack(1, 0));
    t.psyc(id, decision(0));
    t.psyc(id, part_ack());
    let a = t.client(B, Request::PlaceLeave(PlaceLeave));
    assert_eq!(
        replies(&a, B),
        vec![Reply::PlaceLeaveAck(crate::msg::PlaceLeaveAck)]
    );
}
