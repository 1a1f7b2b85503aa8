//! Reception: check, store, order, gap recovery, state, history.

use super::*;
use crate::format::parts::STATE_DELTA_NOT_MODIFIED;
use crate::msg::HistoryReplay;
use multicast::msg::{ReplayError, ReplayResponse};
use proptest::prelude::Strategy as _;
use psycstore::msg::{message_flags, FragmentResult};

/// A whole one-fragment message `id`, stateless.
fn whole(id: u64) -> Event {
    Event::Message(fragment(id, 0, stateless(true)))
}

/// A METHOD with state_delta NOT_MODIFIED as a master would have sent it; END if `ends`.
pub(super) fn stateless(ends: bool) -> Vec<u8> {
    with_delta(STATE_DELTA_NOT_MODIFIED, ends)
}

pub(super) fn with_delta(state_delta: u64, ends: bool) -> Vec<u8> {
    let mut p = Vec::new();
    Part::Method(MethodPart {
        flags: 0,
        state_delta,
        name: Cow::Borrowed(b"_notice"),
    })
    .emit(&mut p);
    if ends {
        Part::End.emit(&mut p);
    }
    p
}

/// The replay requests among `actions`, as (message id, offset).
pub(super) fn replays(actions: &[Action]) -> Vec<(u64, u64)> {
    mcast_msgs(actions)
        .into_iter()
        .filter_map(|m| match m {
            Any::ReplayRequest(r) => Some((r.ids.message_id, r.ids.fragment_offset)),
            _ => None,
        })
        .collect()
}

#[test]
fn fragments_are_checked_then_stored_then_delivered_in_order() {
    let mut h = Harness::admitted_slave(4);
    let a = h.mcast(slave(), Event::Message(fragment(5, 0, vec![0, 3, 2, 0xb9])));
    assert!(a.is_empty(), "invalid parts: neither stored nor delivered");
    let a = h.mcast(slave(), Event::Message(fragment(5, 0, data("x", true))));
    assert!(a.is_empty(), "a first fragment must start with METHOD");
    let a = h.mcast(slave(), whole(5));
    match store_ops(&a).as_slice() {
        [StoreRequest::FragmentStore(s)] => {
            assert_eq!(s.fragment.message_id, 5);
            assert_eq!(s.psycstore_flags, 0);
        }
        other => panic!("expected FRAGMENT_STORE, got {other:?}"),
    }
    assert_eq!(deliveries(&a, 1), vec![(5, 0)]);
    let a = h.mcast(slave(), whole(5));
    assert!(a.is_empty(), "a duplicate is dropped");
}

#[test]
fn a_multi_fragment_message_is_reassembled_by_offset() {
    let mut h = Harness::admitted_slave(4);
    let head = stateless(false);
    let second = (multicast::msg::FRAGMENT_HEADER_SIZE + head.len()) as u64;
    let a = h.mcast(
        slave(),
        Event::Message(fragment(5, second, data("b", true))),
    );
    assert!(deliveries(&a, 1).is_empty());
    let a = h.mcast(slave(), Event::Message(fragment(5, 0, head)));
    assert_eq!(deliveries(&a, 1), vec![(5, 0), (5, second)]);
    let a = h.mcast(slave(), whole(6));
    assert_eq!(deliveries(&a, 1), vec![(6, 0)]);
}

#[test]
fn a_missing_message_is_replayed_then_delivered_in_order() {
    let mut h = Harness::admitted_slave(4);
    let a = h.mcast(slave(), whole(7));
    assert!(deliveries(&a, 1).is_empty(), "5 and 6 are missing");
    assert_eq!(replays(&a), vec![(5, 0), (6, 0)]);
    let a = h.mcast(slave(), whole(6));
    assert!(deliveries(&a, 1).is_empty());
    let a = h.mcast(slave(), whole(5));
    assert_eq!(deliveries(&a, 1), vec![(5, 0), (6, 0), (7, 0)]);
}

#[test]
fn outstanding_replays_are_bounded() {
    let mut h = Harness::with(Config {
        max_replays: 2,
        ..Config::default()
    });
    let a = h.join(1, slave_join_flags::NONE);
    h.counters(&a, 1, 4);
    h.mcast(slave(), Event::JoinDecision(decision(1)));
    let a = h.mcast(slave(), whole(10));
    assert_eq!(replays(&a), vec![(5, 0), (6, 0)]);
    let a = h.mcast(slave(), whole(5));
    assert_eq!(deliveries(&a, 1), vec![(5, 0)]);
    assert_eq!(
        replays(&a),
        vec![(7, 0)],
        "a slot freed, the next gap asked for"
    );
}

#[test]
fn a_gap_is_skipped_after_the_last_replay_attempt() {
    let mut h = Harness::admitted_slave(4);
    let a = h.mcast(slave(), whole(6));
    let timer = a
        .iter()
        .find_map(|a| match a {
            Action::SetTimer { timer, at } => Some((*timer, *at)),
            _ => None,
        })
        .expect("a replay timer");
    let mut timer = timer;
    for attempt in 1..=3 {
        h.now = timer.1;
        h.ch.handle_timeout(h.now, timer.0);
        let a = h.ch.drain_actions();
        if attempt < 3 {
            assert_eq!(replays(&a), vec![(5, 0)], "asked again");
            timer = a
                .iter()
                .find_map(|a| match a {
                    Action::SetTimer { timer, at } => Some((*timer, *at)),
                    _ => None,
                })
                .expect("a new timer");
        } else {
            assert_eq!(deliveries(&a, 1), vec![(6, 0)], "5 skipped, 6 delivered");
        }
    }
}

#[test]
fn a_failed_replay_skips_the_message_and_cancels_what_was_delivered_of_it() {
    let mut h = Harness::admitted_slave(4);
    h.mcast(slave(), Event::Message(fragment(5, 0, stateless(false))));
    let a = h.mcast(slave(), whole(6));
    assert_eq!(
        replays(&a),
        vec![(
            5,
            (multicast::msg::FRAGMENT_HEADER_SIZE + stateless(false).len()) as u64
        )]
    );
    let ids = multicast::msg::ReplayIds {
        fragment_id: 0,
        message_id: 5,
        fragment_offset: 0,
        flags: 0,
    };
    let a = h.mcast(
        slave(),
        Event::ReplayResponse(ReplayResponse {
            ids,
            error_code: ReplayError::NotFound,
            fragment: None,
        }),
    );
    let got = replies_to(&a, 1);
    match got.first() {
        Some(Reply::Message(d)) => {
            assert_eq!(d.header.message_id, 5);
            assert!(matches!(Part::parse(&d.parts), Ok((Part::Cancel, _))));
        }
        other => panic!("expected a CANCEL for 5, got {other:?}"),
    }
    assert_eq!(deliveries(&a, 1).last(), Some(&(6, 0)));
}

#[test]
fn a_slave_without_history_starts_at_the_masters_numbering() {
    let mut h = Harness::admitted_slave(0);
    let a = h.mcast(slave(), whole(41));
    assert_eq!(deliveries(&a, 1), vec![(41, 0)]);
    assert!(replays(&a).is_empty(), "nothing before 41 is wanted");
}

#[test]
fn a_stateful_message_is_applied_in_psycstore_before_delivery() {
    let mut h = Harness::started_master(0);
    let a = h.mcast(
        master(),
        Event::Message(fragment(1, 0, with_delta(1, true))),
    );
    let ops = store_ops(&a);
    assert!(
        matches!(&ops[0], StoreRequest::FragmentStore(s) if s.psycstore_flags == message_flags::STATE)
    );
    let modify = match &ops[1] {
        StoreRequest::StateModify(m) => m.clone(),
        other => panic!("expected STATE_MODIFY after the store, got {other:?}"),
    };
    assert_eq!((modify.message_id, modify.state_delta), (1, 1));
    assert!(
        deliveries(&a, 1).is_empty(),
        "not before the state is applied"
    );
    let a = h.mcast(master(), whole(2));
    assert!(deliveries(&a, 1).is_empty(), "2 waits behind 1");
    let a = h.store(StoreReply::ResultCode(ResultCode::new(modify.op_id, 1)));
    assert_eq!(deliveries(&a, 1), vec![(1, 0), (2, 0)]);
}

#[test]
fn a_failed_state_modify_does_not_block_the_channel() {
    let mut h = Harness::started_master(0);
    let a = h.mcast(
        master(),
        Event::Message(fragment(1, 0, with_delta(1, true))),
    );
    let op_id = match &store_ops(&a)[1] {
        StoreRequest::StateModify(m) => m.op_id,
        other => panic!("{other:?}"),
    };
    let a = h.store(StoreReply::ResultCode(ResultCode::new(op_id, -1)));
    assert_eq!(deliveries(&a, 1), vec![(1, 0)]);
}

#[test]
fn requests_reach_the_master_clients_with_the_slave_key() {
    let mut h = Harness::started_master(0);
    let mut q = multicast::msg::Request::unsigned(3, 0, 0, stateless(true));
    q.member_pub_key = slave_key().public_key();
    let a = h.mcast(master(), Event::Request(q));
    match replies_to(&a, 1).as_slice() {
        [Reply::Message(d)] => {
            assert_eq!(d.header.flags, crate::format::container::DELIVERY_REQUEST);
            assert_eq!(d.header.message_id, 3);
            assert_eq!(d.header.slave_pub_key, slave_key().public_key().0);
        }
        other => panic!("{other:?}"),
    }
    assert!(store_ops(&a).is_empty(), "requests are not stored");
}

#[test]
fn history_results_go_only_to_the_client_that_asked() {
    let mut h = Harness::started_master(0);
    h.client(
        2,
        Request::MasterStart(MasterStart {
            policy: 0,
            channel_key: channel_key(),
        }),
    );
    let a = h.client(
        2,
        Request::HistoryReplay(HistoryReplay {
            flags: 0,
            op_id: 77,
            start_message_id: 1,
            end_message_id: 1,
            message_limit: 0,
            method_prefix: vec![],
        }),
    );
    let op_id = match store_ops(&a).as_slice() {
        [StoreRequest::MessageGet(m)] => m.head.op_id,
        other => panic!("{other:?}"),
    };
    // psycstore hands back the fragment as stored (multicast's own type).
    let stored = fragment(1, 0, stateless(true));
    let a = h.store(StoreReply::Fragment(FragmentResult {
        psycstore_flags: 0,
        op_id,
        fragment: stored,
    }));
    let a2 = h.store(StoreReply::ResultCode(ResultCode::new(op_id, 1)));
    assert!(replies_to(&a, 1).is_empty() && replies_to(&a2, 1).is_empty());
    match replies_to(&a, 2).as_slice() {
        [Reply::HistoryResult(r)] => {
            assert_eq!(r.op_id, 77);
            assert_eq!(
                r.message.header.flags,
                crate::format::container::DELIVERY_HISTORIC
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(replies_to(&a2, 2).as_slice(), [Reply::ResultCode(r)] if r.op_id == 77 && r.result_code == 1)
    );
}

#[test]
fn a_slave_far_behind_jumps_to_the_channel_instead_of_waiting() {
    let mut h = Harness::admitted_slave(4);
    let a = h.mcast(slave(), whole(1000));
    assert_eq!(deliveries(&a, 1), vec![(1000, 0)]);
    assert!(replays(&a).is_empty());
}

/// An admitted slave at message 4 whose record holds at most `bound` bytes of fragments.
fn bounded_slave(bound: usize) -> Harness {
    let mut h = Harness::with(Config {
        max_buffered_bytes: bound,
        ..Config::default()
    });
    let a = h.join(1, slave_join_flags::NONE);
    h.counters(&a, 1, 4);
    h.mcast(slave(), Event::JoinDecision(decision(1)));
    h
}

/// Bytes one [`whole`] message holds.
fn whole_size() -> usize {
    fragment(1, 0, stateless(true)).wire_size()
}

/// Bytes the slave record holds (checked against a recount).
fn held(h: &Harness) -> usize {
    let (counted, recount) =
        h.ch.records
            .get(&slave())
            .map_or((0, 0), |r| r.rx.held_bytes());
    assert_eq!(counted, recount, "byte accounting");
    counted
}

#[test]
fn fragments_over_the_byte_bound_are_dropped_then_replayed_when_there_is_room() {
    let s = whole_size();
    let mut h = bounded_slave(4 * s);
    for id in 7..=10 {
        let a = h.mcast(slave(), whole(id));
        assert!(deliveries(&a, 1).is_empty(), "5 and 6 are missing");
    }
    assert_eq!(held(&h), 4 * s);
    let a = h.mcast(slave(), whole(11));
    assert_eq!(held(&h), 4 * s, "11 went over the bound: evicted");
    assert!(
        replays(&a).is_empty(),
        "the buffer is full: 5 and 6 are asked already"
    );
    h.mcast(slave(), whole(5));
    let a = h.mcast(slave(), whole(6));
    assert_eq!(
        deliveries(&a, 1),
        vec![(6, 0), (7, 0), (8, 0), (9, 0), (10, 0)]
    );
    assert_eq!(held(&h), 0, "delivered fragments are released");
    assert_eq!(
        replays(&a),
        vec![(11, 0)],
        "the evicted message is fetched again"
    );
    let a = h.mcast(slave(), whole(11));
    assert_eq!(deliveries(&a, 1), vec![(11, 0)]);
}

#[test]
fn the_message_due_next_displaces_later_ones() {
    let s = whole_size();
    let mut h = bounded_slave(3 * s);
    for id in 6..=8 {
        h.mcast(slave(), whole(id));
    }
    // The second fragment of 5 (its first is missing) takes the place of 8.
    let head = stateless(false);
    let second = (multicast::msg::FRAGMENT_HEADER_SIZE + head.len()) as u64;
    let tail = fragment(5, second, data("b", true));
    let tail_size = tail.wire_size();
    h.mcast(slave(), Event::Message(tail));
    assert_eq!(held(&h), 2 * s + tail_size);
    let a = h.mcast(slave(), Event::Message(fragment(5, 0, head)));
    assert_eq!(deliveries(&a, 1), vec![(5, 0), (5, second), (6, 0), (7, 0)]);
    assert_eq!(
        replays(&a),
        vec![(8, 0)],
        "8 was evicted, the stream may be over"
    );
    let a = h.mcast(slave(), whole(8));
    assert_eq!(deliveries(&a, 1), vec![(8, 0)]);
}

#[test]
fn a_stateful_message_larger_than_the_bound_is_skipped() {
    let mut h = bounded_slave(2 * whole_size());
    let mut out = h.mcast(
        slave(),
        Event::Message(fragment(5, 0, with_delta(1, false))),
    );
    let mut offset = fragment(5, 0, with_delta(1, false)).wire_size() as u64;
    for text in ["one", "two", "three"] {
        let f = fragment(5, offset, data(text, false));
        offset += f.wire_size() as u64;
        out.extend(h.mcast(slave(), Event::Message(f)));
    }
    assert!(
        !store_ops(&out)
            .iter()
            .any(|r| matches!(r, StoreRequest::StateModify(_))),
        "never complete, never applied"
    );
    assert!(deliveries(&out, 1).is_empty());
    assert_eq!(held(&h), 0, "5 skipped: nothing held");
    let a = h.mcast(slave(), whole(6));
    assert_eq!(deliveries(&a, 1), vec![(6, 0)]);
}

#[test]
fn invalid_request_fragments_are_dropped() {
    let mut h = Harness::started_master(0);
    let request = |offset: u64, payload: Vec<u8>| {
        let mut q = multicast::msg::Request::unsigned(1, offset, 0, payload);
        q.member_pub_key = slave_key().public_key();
        Event::Request(q)
    };
    let a = h.mcast(master(), request(0, data("no method", true)));
    assert!(a.is_empty(), "a request starts with METHOD");
    let a = h.mcast(master(), request(200, stateless(true)));
    assert!(a.is_empty(), "METHOD only in the first fragment");
    let a = h.mcast(master(), request(0, vec![0, 3, 2, 0xb9]));
    assert!(a.is_empty(), "broken parts");
    let a = h.mcast(master(), request(200, data("continued", true)));
    assert_eq!(deliveries(&a, 1), vec![(1, 200)], "a continuation passes");
    let a = h.mcast(master(), request(0, stateless(false)));
    assert_eq!(
        deliveries(&a, 1),
        vec![(1, 0)],
        "unordered, as in C (gap P5)"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

    /// Whatever order messages 5..=20 arrive in, and however small the buffer, every one is
    /// delivered once and in order when the master answers the replays, and the record never
    /// holds more than the bound.
    #[test]
    fn any_arrival_order_is_delivered_in_order_within_the_bound(
        order in proptest::sample::subsequence((5u64..=20).collect::<Vec<_>>(), 0..=16)
            .prop_shuffle(),
        slots in 1usize..5,
    ) {
        let bound = slots * whole_size();
        let mut h = bounded_slave(bound);
        let newest = order.iter().max().copied();
        let mut got = Vec::new();
        let mut asked = Vec::new();
        for id in order {
            let a = h.mcast(slave(), whole(id));
            got.extend(deliveries(&a, 1));
            asked.extend(replays(&a));
            proptest::prop_assert!(held(&h) <= bound);
        }
        // The master answers every replay request, oldest first, until nothing is asked.
        let mut rounds = 0;
        while let Some((id, offset)) = (!asked.is_empty()).then(|| asked.remove(0)) {
            proptest::prop_assert_eq!(offset, 0);
            let a = h.mcast(slave(), whole(id));
            got.extend(deliveries(&a, 1));
            asked.extend(replays(&a));
            proptest::prop_assert!(held(&h) <= bound);
            rounds += 1;
            proptest::prop_assert!(rounds < 200, "replays do not converge");
        }
        let delivered: Vec<u64> = got.iter().map(|d| d.0).collect();
        let expected: Vec<u64> = newest.map_or(vec![], |n| (5..=n).collect());
        proptest::prop_assert_eq!(&delivered, &expected);
    }
}
