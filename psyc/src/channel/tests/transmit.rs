//! Transmission: numbering, state deltas, pacing, no interleaving.

use super::*;
use crate::format::parts::{METHOD_STATE_MODIFY, STATE_DELTA_NOT_MODIFIED};
use crate::msg::MessageAck;

/// The (message id, offset, state_delta of a leading METHOD) of every fragment sent.
fn sent(actions: &[Action]) -> Vec<(u64, u64, Option<u64>)> {
    mcast_msgs(actions)
        .into_iter()
        .filter_map(|m| match m {
            Any::Fragment(f) => Some((f.message_id, f.fragment_offset, delta(&f.payload))),
            Any::Request(q) => Some((q.request_id, q.fragment_offset, delta(&q.payload))),
            _ => None,
        })
        .collect()
}

fn delta(parts: &[u8]) -> Option<u64> {
    match Part::parse(parts) {
        Ok((Part::Method(m), _)) => Some(m.state_delta),
        _ => None,
    }
}

fn acks(actions: &[Action], c: u64) -> usize {
    replies_to(actions, c)
        .iter()
        .filter(|r| **r == Reply::MessageAck(MessageAck))
        .count()
}

#[test]
fn master_messages_are_numbered_after_the_stored_counter_with_state_flags_read_big_endian() {
    let mut h = Harness::started_master(12);
    let a = h.send(1, method(METHOD_STATE_MODIFY, "_notice_a", false));
    assert_eq!(
        sent(&a),
        vec![(13, 0, Some(13))],
        "distance to state message 0"
    );
    h.mcast(master(), Event::FragmentAck);
    let a = h.send(1, method(0, "_notice_b", false));
    assert_eq!(sent(&a), vec![(14, 0, Some(STATE_DELTA_NOT_MODIFIED))]);
    h.mcast(master(), Event::FragmentAck);
    let a = h.send(1, method(METHOD_STATE_MODIFY, "_notice_c", false));
    assert_eq!(sent(&a), vec![(15, 0, Some(2))], "15 − 13");
}

/// A master whose records keep at most `window` fragments with multicast.
fn windowed_master(window: usize) -> Harness {
    Harness::started_master_with(
        Config {
            max_fragments_in_flight: window,
            ..Config::default()
        },
        0,
        0,
    )
}

#[test]
fn message_ack_comes_when_the_container_is_handed_out_within_the_window() {
    let mut h = windowed_master(2);
    let a = h.send(1, method(0, "_m", true));
    assert_eq!((sent(&a).len(), acks(&a, 1)), (1, 1), "room in the window");
    let a = h.send(1, data("x", false));
    let frag_size = (multicast::msg::FRAGMENT_HEADER_SIZE + method(0, "_m", true).len()) as u64;
    assert_eq!(
        sent(&a),
        vec![(1, frag_size, None)],
        "offsets count whole fragments"
    );
    assert_eq!(acks(&a, 1), 1);
    let a = h.send(1, data("y", true));
    assert!(sent(&a).is_empty(), "the window is full");
    assert_eq!(acks(&a, 1), 0, "no ACK before the channel took more");
    let a = h.mcast(master(), Event::FragmentAck);
    assert_eq!((sent(&a).len(), acks(&a, 1)), (1, 1));
    let a = h.mcast(master(), Event::FragmentAck);
    assert!(sent(&a).is_empty() && acks(&a, 1) == 0, "nothing left");
}

#[test]
fn two_clients_messages_do_not_interleave() {
    let mut h = Harness::started_master(0);
    h.client(
        2,
        Request::MasterStart(MasterStart {
            policy: 0,
            channel_key: channel_key(),
        }),
    );
    let mut out = h.send(1, method(0, "_a", true));
    out.extend(h.send(2, method(0, "_b", true)));
    out.extend(h.send(2, data("b", true)));
    out.extend(h.send(1, data("a1", false)));
    out.extend(h.send(1, data("a2", true)));
    for _ in 0..5 {
        out.extend(h.mcast(master(), Event::FragmentAck));
    }
    let ids: Vec<u64> = sent(&out).iter().map(|s| s.0).collect();
    assert_eq!(
        ids,
        vec![1, 1, 1, 2, 2],
        "client 1's message whole, then client 2's"
    );
    assert_eq!(acks(&out, 1), 3);
    assert_eq!(acks(&out, 2), 2);
}

#[test]
fn a_sender_leaving_mid_message_closes_it_with_cancel() {
    let mut h = windowed_master(1);
    h.send(1, method(0, "_a", true));
    h.ch.handle_client_gone(h.now, ClientId(1));
    let _ = h.ch.drain_actions();
    // The record is gone with its last client; a record with another client keeps going.
    let mut h = windowed_master(1);
    h.client(
        2,
        Request::MasterStart(MasterStart {
            policy: 0,
            channel_key: channel_key(),
        }),
    );
    h.send(1, method(0, "_a", true));
    h.send(2, method(0, "_b", false));
    h.ch.handle_client_gone(h.now, ClientId(1));
    assert!(
        h.ch.drain_actions().is_empty(),
        "the METHOD is still in flight"
    );
    let a = h.mcast(master(), Event::FragmentAck);
    match mcast_msgs(&a).as_slice() {
        [Any::Fragment(f)] => {
            assert_eq!(f.message_id, 1);
            assert!(matches!(Part::parse(&f.payload), Ok((Part::Cancel, _))));
        }
        other => panic!("expected the CANCEL, got {other:?}"),
    }
    let a = h.mcast(master(), Event::FragmentAck);
    assert_eq!(sent(&a), vec![(2, 0, Some(STATE_DELTA_NOT_MODIFIED))]);
}

#[test]
fn out_of_order_containers_drop_the_client() {
    let mut h = Harness::started_master(0);
    assert!(
        dropped(&h.send(1, data("x", true)), 1),
        "continues no message"
    );
    let mut h = Harness::started_master(0);
    h.send(1, method(0, "_a", true));
    assert!(
        dropped(&h.send(1, method(0, "_b", false)), 1),
        "a message inside another"
    );
    let mut h = Harness::started_master(0);
    assert!(
        dropped(&h.send(1, vec![0, 3, 2, 0xb9]), 1),
        "malformed parts"
    );
}

#[test]
fn slave_requests_are_numbered_from_one_and_never_carry_state() {
    let mut h = Harness::admitted_slave(0);
    let a = h.send(1, method(METHOD_STATE_MODIFY, "_request_a", false));
    assert_eq!(sent(&a), vec![(1, 0, Some(STATE_DELTA_NOT_MODIFIED))]);
    assert!(matches!(mcast_msgs(&a).as_slice(), [Any::Request(_)]));
    h.mcast(slave(), Event::FragmentAck);
    let a = h.send(1, method(0, "_request_b", false));
    assert_eq!(sent(&a)[0].0, 2);
}

#[test]
fn a_full_transmit_queue_drops_the_sender() {
    let mut h = Harness::with(Config {
        max_transmit_queue: 2,
        max_fragments_in_flight: 1,
        ..Config::default()
    });
    let a = h.client(
        1,
        Request::MasterStart(MasterStart {
            policy: 0,
            channel_key: channel_key(),
        }),
    );
    h.counters(&a, 0, 0);
    h.send(1, method(0, "_a", true)); // in flight
    h.send(1, data("1", false));
    h.send(1, data("2", false));
    assert!(dropped(&h.send(1, data("3", true)), 1));
}

#[test]
fn a_second_message_leaves_after_a_first_sent_in_one_piece() {
    // gap P23: the C service lost message 2 when message 1 went out whole.
    let mut h = windowed_master(1);
    let mut out = h.send(1, method(0, "_notice_one", false));
    out.extend(h.send(1, method(0, "_notice_two", false)));
    assert_eq!(sent(&out).len(), 1, "one fragment with multicast at a time");
    out.extend(h.mcast(master(), Event::FragmentAck));
    out.extend(h.mcast(master(), Event::FragmentAck));
    let a = h.send(1, method(0, "_notice_three", false));
    out.extend(a);
    out.extend(h.mcast(master(), Event::FragmentAck));
    let ids: Vec<u64> = sent(&out).iter().map(|s| s.0).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(acks(&out, 1), 3);
}
