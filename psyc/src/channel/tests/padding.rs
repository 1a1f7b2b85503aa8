//! Padding of what the records send, its removal from what they receive, and a scheme that
//! changes between two messages (see [`crate::channel::pad`]).

use super::start::join_request;
use super::*;
use crate::format::padding;
use crate::msg::JoinDecision;
use gnunet_service::privacy::{Padding, DEFAULT_BUCKETS};
use gnunet_service::wire::Message;

fn buckets() -> Padding {
    Padding::Buckets(DEFAULT_BUCKETS.to_vec())
}

/// The wire sizes of the multicast fragments and requests among `actions`.
fn wire_sizes(actions: &[Action]) -> Vec<usize> {
    mcast_msgs(actions)
        .into_iter()
        .filter(|m| matches!(m, Any::Fragment(_) | Any::Request(_)))
        .map(|m| m.to_message().len())
        .collect()
}

#[test]
fn the_scheme_set_before_a_message_pads_that_message_and_offsets_count_the_padding() {
    let mut h = Harness::started_master(0);
    h.ch.set_padding(&buckets());
    let a = h.send(1, method(0, "_m", true));
    assert_eq!(wire_sizes(&a), vec![512]);
    h.mcast(master(), Event::FragmentAck);
    let big = data(&"x".repeat(5000), false);
    let a = h.send(1, big);
    assert_eq!(wire_sizes(&a), vec![32768]);
    let offset = match mcast_msgs(&a).as_slice() {
        [Any::Fragment(f)] => f.fragment_offset,
        other => panic!("{other:?}"),
    };
    assert_eq!(offset, 512, "the first fragment counts padded");
    h.mcast(master(), Event::FragmentAck);
    // The knob changes: the next container goes as it is.
    h.ch.set_padding(&Padding::None);
    let last = data("end", true);
    let a = h.send(1, last.clone());
    assert_eq!(
        wire_sizes(&a),
        vec![multicast::msg::FRAGMENT_HEADER_SIZE + last.len()]
    );
    h.mcast(master(), Event::FragmentAck);
    h.ch.set_padding(&Padding::Padme);
    let a = h.send(1, method(0, "_n", false));
    let size = wire_sizes(&a)[0];
    assert_eq!(size, gnunet_service::privacy::padme(size));
}

#[test]
fn slave_requests_are_padded_too() {
    let mut h = Harness::admitted_slave(0);
    h.ch.set_padding(&buckets());
    let a = h.send(1, method(0, "_request", false));
    assert_eq!(wire_sizes(&a), vec![512]);
}

#[test]
fn received_padding_is_stored_but_never_delivered() {
    let mut h = Harness::admitted_slave(0);
    let parts = super::receive::stateless(true);
    let mut padded = parts.clone();
    assert!(padding::append(&mut padded, 300));
    let a = h.mcast(slave(), Event::Message(fragment(1, 0, padded.clone())));
    let stored: Vec<Vec<u8>> = store_ops(&a)
        .into_iter()
        .filter_map(|r| match r {
            StoreRequest::FragmentStore(s) => Some(s.fragment.payload),
            _ => None,
        })
        .collect();
    assert_eq!(stored, vec![padded.clone()], "stored as signed");
    let delivered: Vec<Vec<u8>> = replies_to(&a, 1)
        .into_iter()
        .filter_map(|r| match r {
            Reply::Message(d) => Some(d.parts),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, vec![parts]);
    // Padding that is not the last part, or not zeros, drops the fragment.
    let mut bad = padded;
    let n = bad.len();
    bad[n - 1] = 1;
    let a = h.mcast(slave(), Event::Message(fragment(2, 0, bad)));
    assert!(deliveries(&a, 1).is_empty());
    assert!(store_ops(&a).is_empty());
}

#[test]
fn join_messages_and_responses_are_padded_and_arrive_without_padding() {
    // The slave's MEMBER_JOIN carries a padding-only join message when it has none.
    let mut h = Harness::new();
    h.ch.set_padding(&buckets());
    let a = h.join(1, slave_join_flags::NONE);
    let a = h.counters(&a, 0, 0);
    let join_msg = mcast_msgs(&a).into_iter().find_map(|m| match m {
        Any::MemberJoin(j) => Some(j.join_msg),
        _ => None,
    });
    let join_msg = join_msg
        .expect("MEMBER_JOIN")
        .expect("a padded join message");
    assert_eq!(
        multicast::msg::JOIN_REQUEST_HEADER_SIZE + join_msg.len(),
        512
    );
    assert_eq!(padding::strip_container(&join_msg), Ok(None));
    // A padded response reaches the slave's client without padding.
    let mut d = decision(1);
    let mut response = ClientMessage {
        parts: data("welcome", true),
    }
    .to_message();
    let plain = response.clone();
    assert!(padding::pad_container(&mut response, 100));
    d.decision.response = Some(response);
    let a = h.mcast(slave(), Event::JoinDecision(d));
    assert!(matches!(
        replies_to(&a, 1).as_slice(),
        [Reply::JoinDecision(d)] if d.response.as_deref() == Some(plain.as_slice())
    ));

    // The master: a padded join message reaches its client without padding; its decision
    // goes out padded.
    let mut h = Harness::started_master(0);
    h.ch.set_padding(&buckets());
    let mut j = join_request();
    let plain = j.join_msg.clone();
    if let Some(m) = j.join_msg.as_mut() {
        assert!(padding::pad_container(m, 64));
    }
    let a = h.mcast(master(), Event::JoinRequest(j));
    let op_id = store_ops(&a)
        .into_iter()
        .find_map(|r| match r {
            StoreRequest::MembershipTest(t) => Some(t.head.op_id),
            _ => None,
        })
        .expect("a membership test");
    let a = h.store(StoreReply::ResultCode(ResultCode::new(op_id, 0)));
    assert!(matches!(
        replies_to(&a, 1).as_slice(),
        [Reply::JoinRequest(r)] if r.join_msg == plain
    ));
    let a = h.client(
        1,
        Request::JoinDecision(JoinDecision::new(0, slave_key().public_key())),
    );
    match mcast_msgs(&a).as_slice() {
        [Any::JoinDecision(d)] => assert_eq!(Any::JoinDecision(d.clone()).to_message().len(), 512),
        other => panic!("{other:?}"),
    }
}
