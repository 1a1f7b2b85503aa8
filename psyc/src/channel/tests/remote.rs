//! History replay: the method filter, and what a slave's psycstore lacks fetched from the
//! channel by multicast replay.

use super::*;
use crate::format::container::DELIVERY_HISTORIC;
use crate::format::parts::PartKind;
use crate::msg::{history_replay_flags, HistoryReplay};
use multicast::msg::{ReplayError, ReplayIds, ReplayResponse};
use psycstore::msg::FragmentResult;

use crate::channel::Timer;

/// HISTORY_REPLAY of ids `first..=last` (range mode) from client `c`.
fn range(h: &mut Harness, c: u64, flags: u32, first: u64, last: u64, prefix: &str) -> Vec<Action> {
    h.client(
        c,
        Request::HistoryReplay(HistoryReplay {
            flags,
            op_id: 70 + c,
            start_message_id: first,
            end_message_id: last,
            message_limit: 0,
            method_prefix: prefix.as_bytes().to_vec(),
        }),
    )
}

/// The op id of the MESSAGE_GET among `actions`, with its (first, last, limit).
fn message_get(actions: &[Action]) -> (u64, (u64, u64, u64)) {
    match store_ops(actions).as_slice() {
        [StoreRequest::MessageGet(m)] => (
            m.head.op_id,
            (m.first_message_id, m.last_message_id, m.message_limit),
        ),
        other => panic!("expected one MESSAGE_GET, got {other:?}"),
    }
}

/// The (op id, first, last) of every reread (range MESSAGE_GET) among `actions`.
fn rereads(actions: &[Action]) -> Vec<(u64, u64, u64)> {
    store_ops(actions)
        .iter()
        .filter_map(|r| match r {
            StoreRequest::MessageGet(m) => {
                assert_eq!(m.message_limit, 0, "a reread is a range");
                Some((m.head.op_id, m.first_message_id, m.last_message_id))
            }
            _ => None,
        })
        .collect()
}

/// The one reread among `actions`, checked to cover `first..=last`; psycstore answers it
/// with `fragments`.
fn reread(
    h: &mut Harness,
    actions: &[Action],
    (first, last): (u64, u64),
    fragments: Vec<Fragment>,
) -> Vec<Action> {
    let [(op, from, to)] = rereads(actions)[..] else {
        panic!("expected one reread, got {:?}", rereads(actions))
    };
    assert_eq!((from, to), (first, last), "the ids read again");
    local(h, op, fragments)
}

/// psycstore answers op `op` with `fragments`, then its count.
fn local(h: &mut Harness, op: u64, fragments: Vec<Fragment>) -> Vec<Action> {
    let mut out = Vec::new();
    let count = fragments.len() as i64;
    for fragment in fragments {
        out.extend(h.store(StoreReply::Fragment(FragmentResult {
            psycstore_flags: 0,
            op_id: op,
            fragment,
        })));
    }
    out.extend(h.store(StoreReply::ResultCode(ResultCode::new(op, count))));
    out
}

/// A whole one-fragment message `id` of method `name`.
fn whole(id: u64, name: &str) -> Fragment {
    fragment(id, 0, method(0, name, false))
}

/// The (message id, offset) of every REPLAY_REQUEST among `actions`.
fn asked(actions: &[Action]) -> Vec<(u64, u64)> {
    mcast_msgs(actions)
        .iter()
        .filter_map(|m| match m {
            Any::ReplayRequest(r) => Some((r.ids.message_id, r.ids.fragment_offset)),
            _ => None,
        })
        .collect()
}

/// The (message id, offset) of every HISTORY_RESULT client `c` got, checking its op id and
/// HISTORIC flag.
fn results(actions: &[Action], c: u64) -> Vec<(u64, u64)> {
    replies_to(actions, c)
        .into_iter()
        .filter_map(|r| match r {
            Reply::HistoryResult(r) => {
                assert_eq!(r.op_id, 70 + c);
                assert_eq!(
                    r.message.header.flags & DELIVERY_HISTORIC,
                    DELIVERY_HISTORIC
                );
                Some((
                    r.message.header.message_id,
                    r.message.header.fragment_offset,
                ))
            }
            _ => None,
        })
        .collect()
}

/// The RESULT_CODE client `c` got among `actions`, if any.
fn result_code(actions: &[Action], c: u64) -> Option<i64> {
    replies_to(actions, c).into_iter().find_map(|r| match r {
        Reply::ResultCode(r) => {
            assert_eq!(r.op_id, 70 + c);
            Some(r.result_code)
        }
        _ => None,
    })
}

/// The history-fetch timers among `actions`.
fn timers(actions: &[Action]) -> Vec<Timer> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SetTimer { timer, .. } if matches!(timer, Timer::HistoryFetch { .. }) => {
                Some(*timer)
            }
            _ => None,
        })
        .collect()
}

fn failure(message_id: u64, offset: u64, error_code: ReplayError) -> Event {
    Event::ReplayResponse(ReplayResponse {
        ids: ReplayIds {
            fragment_id: 0,
            message_id,
            fragment_offset: offset,
            flags: 0,
        },
        error_code,
        fragment: None,
    })
}

/// An admitted slave with client 1, `cfg`, on a peer holding `max_message_id` of history.
fn slave_with(cfg: Config, max_message_id: u64) -> Harness {
    let mut h = Harness::with(cfg);
    let a = h.join(1, slave_join_flags::NONE);
    h.counters(&a, 1, max_message_id);
    h.mcast(slave(), Event::JoinDecision(decision(1)));
    h
}

/// A REMOTE range replay `first..=last` of client `c` whose local answer is `fragments`.
fn remote(h: &mut Harness, c: u64, first: u64, last: u64, fragments: Vec<Fragment>) -> Vec<Action> {
    let a = range(h, c, history_replay_flags::REMOTE, first, last, "");
    let (op, _) = message_get(&a);
    local(h, op, fragments)
}

fn replayed(h: &mut Harness, f: Fragment) -> Vec<Action> {
    h.mcast(slave(), Event::Message(f))
}

#[test]
fn a_remote_range_fetches_the_local_gaps_and_answers_in_order_with_the_count() {
    let mut h = Harness::admitted_slave(6);
    let a = range(&mut h, 1, history_replay_flags::REMOTE, 1, 6, "");
    let (op, query) = message_get(&a);
    assert_eq!(query, (1, 6, 0));
    let a = local(
        &mut h,
        op,
        vec![
            whole(1, "_a"),
            whole(4, "_a"),
            whole(5, "_a"),
            whole(6, "_a"),
        ],
    );
    // 4, 5 and 6 come after the gap: held back, to be read again in their turn.
    assert_eq!(results(&a, 1), vec![(1, 0)]);
    assert_eq!(result_code(&a, 1), None, "the remote part follows");
    assert_eq!(asked(&a), vec![(2, 0), (3, 0)]);
    assert_eq!(timers(&a).len(), 2);
    assert!(rereads(&a).is_empty(), "not before 2 and 3");

    // 3 comes first: it waits for 2.
    let a = replayed(&mut h, whole(3, "_a"));
    assert!(replies_to(&a, 1).is_empty());
    match store_ops(&a).as_slice() {
        [StoreRequest::FragmentStore(s)] => assert_eq!(s.fragment.message_id, 3),
        other => panic!("the fetched fragment is stored: {other:?}"),
    }
    assert!(deliveries(&a, 1).is_empty(), "not delivered live again");
    let a = replayed(&mut h, whole(2, "_a"));
    assert_eq!(results(&a, 1), vec![(2, 0), (3, 0)]);
    assert_eq!(result_code(&a, 1), None);
    let a = reread(
        &mut h,
        &a,
        (4, 6),
        vec![whole(4, "_a"), whole(5, "_a"), whole(6, "_a")],
    );
    assert_eq!(results(&a, 1), vec![(4, 0), (5, 0), (6, 0)]);
    assert_eq!(result_code(&a, 1), Some(6));
    // Nothing more is wanted: a duplicate is dropped, not stored.
    let a = replayed(&mut h, whole(2, "_a"));
    assert!(a.is_empty());
}

#[test]
fn a_multi_fragment_message_is_fetched_offset_by_offset() {
    let mut h = Harness::admitted_slave(3);
    let a = remote(&mut h, 1, 3, 3, vec![]);
    assert_eq!(asked(&a), vec![(3, 0)]);
    let head = fragment(3, 0, method(0, "_m", true));
    let second = head.wire_size() as u64;
    let a = replayed(&mut h, head);
    assert_eq!(results(&a, 1), vec![(3, 0)]);
    assert_eq!(asked(&a), vec![(3, second)]);
    let middle = fragment(3, second, data("x", false));
    let third = second + middle.wire_size() as u64;
    let a = replayed(&mut h, middle);
    assert_eq!(results(&a, 1), vec![(3, second)]);
    assert_eq!(asked(&a), vec![(3, third)]);
    let a = replayed(&mut h, fragment(3, third, data("y", true)));
    assert_eq!(results(&a, 1), vec![(3, third)]);
    assert!(asked(&a).is_empty());
    assert_eq!(result_code(&a, 1), Some(3));
}

#[test]
fn the_method_prefix_filters_whole_messages_locally_and_remotely() {
    let mut h = Harness::admitted_slave(4);
    let a = range(&mut h, 1, history_replay_flags::REMOTE, 1, 4, "_a");
    let (op, _) = message_get(&a);
    let second = fragment(1, 0, method(0, "_a_x", true)).wire_size() as u64;
    let a = local(
        &mut h,
        op,
        vec![
            fragment(1, 0, method(0, "_a_x", true)),
            fragment(1, second, data("x", true)),
            whole(2, "_b"),
        ],
    );
    assert_eq!(results(&a, 1), vec![(1, 0), (1, second)]);
    assert_eq!(asked(&a), vec![(3, 0), (4, 0)]);
    // 3 does not match: its later fragments are neither passed on nor asked for.
    let a = replayed(&mut h, fragment(3, 0, method(0, "_b_y", true)));
    assert!(results(&a, 1).is_empty());
    assert!(asked(&a).is_empty());
    let a = replayed(&mut h, whole(4, "_a"));
    assert_eq!(results(&a, 1), vec![(4, 0)]);
    assert_eq!(result_code(&a, 1), Some(3));
}

#[test]
fn a_local_message_that_stops_short_is_cancelled_and_fetched_whole() {
    let mut h = Harness::admitted_slave(2);
    let a = range(&mut h, 1, history_replay_flags::LOCAL, 1, 2, "");
    let (op, _) = message_get(&a);
    let a = local(
        &mut h,
        op,
        vec![fragment(1, 0, method(0, "_m", true)), whole(2, "_m")],
    );
    let first = fragment(1, 0, method(0, "_m", true));
    let end = first.wire_size() as u64;
    // 2 follows the message to fetch: held back.
    assert_eq!(results(&a, 1), vec![(1, 0), (1, end)]);
    match &replies_to(&a, 1)[1] {
        Reply::HistoryResult(r) => {
            let summary = crate::format::container::check_parts(&r.message.parts).expect("parts");
            assert_eq!(summary.first, Some(PartKind::Cancel));
        }
        other => panic!("{other:?}"),
    }
    // A hole of the local history: fetched although the request was LOCAL.
    assert_eq!(asked(&a), vec![(1, 0)]);
    let a = replayed(&mut h, first);
    assert_eq!(results(&a, 1), vec![(1, 0)]);
    assert_eq!(asked(&a), vec![(1, end)]);
    let a = replayed(&mut h, fragment(1, end, data("z", true)));
    assert_eq!(results(&a, 1), vec![(1, end)]);
    let a = reread(&mut h, &a, (2, 2), vec![whole(2, "_m")]);
    assert_eq!(results(&a, 1), vec![(2, 0)]);
    assert_eq!(result_code(&a, 1), Some(5));
}

#[test]
fn a_failed_replay_skips_its_message() {
    let mut h = Harness::admitted_slave(3);
    let a = remote(&mut h, 1, 1, 3, vec![]);
    assert_eq!(asked(&a), vec![(1, 0), (2, 0), (3, 0)]);
    let a = replayed(&mut h, whole(3, "_a"));
    assert!(results(&a, 1).is_empty());
    // The master's membership test refused 2 (a member sees only what follows its
    // admission): that message is skipped, the others are not.
    let a = h.mcast(slave(), failure(2, 0, ReplayError::AccessDenied));
    assert!(results(&a, 1).is_empty());
    let a = replayed(&mut h, whole(1, "_a"));
    assert_eq!(results(&a, 1), vec![(1, 0), (3, 0)]);
    assert_eq!(result_code(&a, 1), Some(2));
}

#[test]
fn a_message_failing_midway_is_cancelled() {
    let mut h = Harness::admitted_slave(1);
    let a = range(&mut h, 1, history_replay_flags::REMOTE, 1, 1, "");
    let (op, _) = message_get(&a);
    local(&mut h, op, vec![]);
    let head = fragment(1, 0, method(0, "_m", true));
    let next = head.wire_size() as u64;
    replayed(&mut h, head);
    let a = h.mcast(slave(), failure(1, next, ReplayError::NotFound));
    assert_eq!(
        results(&a, 1),
        vec![(1, next)],
        "a CANCEL at the next offset"
    );
    assert_eq!(result_code(&a, 1), Some(2));
}

#[test]
fn an_unanswered_request_is_asked_again_then_skipped() {
    let mut h = slave_with(
        Config {
            replay_attempts: 2,
            ..Config::default()
        },
        2,
    );
    let a = remote(&mut h, 1, 1, 2, vec![whole(2, "_a")]);
    assert_eq!(asked(&a), vec![(1, 0)]);
    let [first] = timers(&a)[..] else {
        panic!("one timer")
    };
    h.ch.handle_timeout(h.now, first);
    let a = h.drain();
    assert_eq!(asked(&a), vec![(1, 0)], "asked again");
    let [second] = timers(&a)[..] else {
        panic!("one timer")
    };
    h.ch.handle_timeout(h.now, first);
    assert!(h.drain().is_empty(), "a stale timer is ignored");
    h.ch.handle_timeout(h.now, second);
    let a = h.drain();
    assert!(asked(&a).is_empty());
    // Skipped after the last attempt: the held-back 2 follows.
    let a = reread(&mut h, &a, (2, 2), vec![whole(2, "_a")]);
    assert_eq!(results(&a, 1), vec![(2, 0)]);
    assert_eq!(result_code(&a, 1), Some(1));
}

#[test]
fn timers_wait_while_multicast_is_down() {
    let mut h = slave_with(
        Config {
            replay_attempts: 1,
            ..Config::default()
        },
        1,
    );
    let a = remote(&mut h, 1, 1, 1, vec![]);
    let [timer] = timers(&a)[..] else {
        panic!("one timer")
    };
    // The request went; the connection breaks (and its answer with it).
    h.ch.handle_multicast_down(h.now, slave());
    h.drain();
    h.ch.handle_timeout(h.now, timer);
    let a = h.drain();
    assert_eq!(timers(&a), vec![timer], "waits again");
    assert!(result_code(&a, 1).is_none());
    h.ch.handle_multicast_up(h.now, slave());
    h.drain();
    h.ch.handle_timeout(h.now, timer);
    let a = h.drain();
    assert!(asked(&a).is_empty(), "that one attempt was made");
    assert_eq!(result_code(&a, 1), Some(0));
}

#[test]
fn a_request_made_while_multicast_is_down_goes_when_it_is_back() {
    let mut h = slave_with(
        Config {
            replay_attempts: 1,
            ..Config::default()
        },
        1,
    );
    let a = range(&mut h, 1, history_replay_flags::REMOTE, 1, 1, "");
    let (op, _) = message_get(&a);
    h.ch.handle_multicast_down(h.now, slave());
    h.drain();
    let a = local(&mut h, op, vec![]);
    assert!(asked(&a).is_empty(), "not sent while down");
    let [timer] = timers(&a)[..] else {
        panic!("one timer")
    };
    h.ch.handle_multicast_up(h.now, slave());
    h.drain();
    h.ch.handle_timeout(h.now, timer);
    let a = h.drain();
    assert_eq!(asked(&a), vec![(1, 0)], "sent, as the same attempt");
    let a = replayed(&mut h, whole(1, "_a"));
    assert_eq!(results(&a, 1), vec![(1, 0)]);
    assert_eq!(result_code(&a, 1), Some(1));
}

#[test]
fn fetches_in_progress_are_bounded_per_record() {
    let mut h = slave_with(
        Config {
            max_history_fetches: 2,
            ..Config::default()
        },
        4,
    );
    h.join(2, slave_join_flags::NONE);
    let a = remote(&mut h, 1, 1, 4, vec![]);
    assert_eq!(asked(&a), vec![(1, 0), (2, 0)]);
    let a = remote(&mut h, 2, 4, 4, vec![]);
    assert!(asked(&a).is_empty(), "no room for client 2 yet");
    // 1 is done: the room goes to the replay with the fewest messages in progress.
    let a = replayed(&mut h, whole(1, "_a"));
    assert_eq!(results(&a, 1), vec![(1, 0)]);
    assert_eq!(asked(&a), vec![(4, 0)], "client 2's turn");
    let a = replayed(&mut h, whole(2, "_a"));
    assert_eq!(results(&a, 1), vec![(2, 0)]);
    assert_eq!(asked(&a), vec![(3, 0)]);
    let a = replayed(&mut h, whole(4, "_a"));
    assert_eq!(results(&a, 2), vec![(4, 0)]);
    assert_eq!(result_code(&a, 2), Some(1));
    assert_eq!(asked(&a), vec![(4, 0)], "client 1's own request for 4");
    let a = replayed(&mut h, whole(3, "_a"));
    assert!(asked(&a).is_empty());
    let a = replayed(&mut h, whole(4, "_a"));
    assert_eq!(results(&a, 1), vec![(4, 0)]);
    assert_eq!(result_code(&a, 1), Some(4));
}

#[test]
fn a_client_gone_midway_takes_its_replay_and_frees_its_room() {
    let mut h = slave_with(
        Config {
            max_history_fetches: 1,
            ..Config::default()
        },
        3,
    );
    h.join(2, slave_join_flags::NONE);
    let a = remote(&mut h, 2, 1, 3, vec![]);
    assert_eq!(asked(&a), vec![(1, 0)]);
    let a = remote(&mut h, 1, 3, 3, vec![]);
    assert!(asked(&a).is_empty());
    h.ch.handle_client_gone(h.now, ClientId(2));
    let a = h.drain();
    assert_eq!(asked(&a), vec![(3, 0)], "client 1 gets the room");
    let a = replayed(&mut h, whole(1, "_a"));
    assert!(a.is_empty(), "nobody wants 1 any more");
    let a = replayed(&mut h, whole(3, "_a"));
    assert_eq!(results(&a, 1), vec![(3, 0)]);
    assert_eq!(result_code(&a, 1), Some(1));
    assert!(replies_to(&a, 2).is_empty());
}

#[test]
fn latest_mode_with_remote_covers_the_newest_delivered_ids() {
    let mut h = Harness::admitted_slave(10);
    let a = h.client(
        1,
        Request::HistoryReplay(HistoryReplay {
            flags: history_replay_flags::REMOTE,
            op_id: 71,
            start_message_id: 0,
            end_message_id: 0,
            message_limit: 3,
            method_prefix: vec![],
        }),
    );
    let (op, query) = message_get(&a);
    assert_eq!(query, (8, 10, 0), "asked as the range of the 3 newest ids");
    let a = local(&mut h, op, vec![whole(9, "_a")]);
    assert_eq!(asked(&a), vec![(8, 0), (10, 0)]);
}

#[test]
fn latest_mode_without_remote_and_without_holes_is_local() {
    let mut h = Harness::admitted_slave(10);
    let a = h.client(
        1,
        Request::HistoryReplay(HistoryReplay {
            flags: history_replay_flags::LOCAL,
            op_id: 71,
            start_message_id: 0,
            end_message_id: 0,
            message_limit: 2,
            method_prefix: vec![],
        }),
    );
    let (op, query) = message_get(&a);
    assert_eq!(query, (0, 0, 2));
    let a = local(&mut h, op, vec![whole(9, "_a"), whole(10, "_a")]);
    assert!(asked(&a).is_empty());
    assert_eq!(result_code(&a, 1), Some(2));
}

#[test]
fn a_master_answers_remote_replays_locally() {
    let mut h = Harness::started_master(5);
    let a = h.client(
        1,
        Request::HistoryReplay(HistoryReplay {
            flags: history_replay_flags::REMOTE,
            op_id: 71,
            start_message_id: 1,
            end_message_id: 5,
            message_limit: 0,
            method_prefix: vec![],
        }),
    );
    let (op, _) = message_get(&a);
    let a = local(&mut h, op, vec![whole(2, "_a")]);
    assert!(asked(&a).is_empty());
    assert_eq!(result_code(&a, 1), Some(1));
}

#[test]
fn a_large_span_is_fetched_for_its_newest_ids_only() {
    let mut h = slave_with(
        Config {
            max_history_span: 2,
            ..Config::default()
        },
        9,
    );
    let a = remote(&mut h, 1, 1, 100, vec![]);
    assert_eq!(asked(&a), vec![(8, 0), (9, 0)]);
}

#[test]
fn a_psycstore_error_ends_the_replay_without_fetching() {
    let mut h = Harness::admitted_slave(3);
    let a = range(&mut h, 1, history_replay_flags::REMOTE, 1, 3, "");
    let (op, _) = message_get(&a);
    let a = h.store(StoreReply::ResultCode(ResultCode::new(op, -1)));
    assert!(asked(&a).is_empty());
    assert_eq!(result_code(&a, 1), Some(-1));
}

/// The record of client 1's peer.
fn footprint(h: &Harness) -> crate::channel::remote::Footprint {
    h.ch.records
        .get(&slave())
        .expect("the slave record")
        .history
        .footprint()
}

#[test]
fn interleaved_local_and_fetched_messages_come_in_id_order() {
    // A late joiner's store holds the stateful messages its catch-up fetched: 5, 7 and 10.
    let mut h = Harness::admitted_slave(10);
    let a = remote(
        &mut h,
        1,
        1,
        10,
        vec![whole(5, "_a"), whole(7, "_a"), whole(10, "_a")],
    );
    let mut got = results(&a, 1);
    assert!(
        got.is_empty(),
        "1 is missing: everything local is held back"
    );
    assert_eq!(
        asked(&a),
        vec![(1, 0), (2, 0), (3, 0), (4, 0), (6, 0), (8, 0), (9, 0)]
    );
    // The channel answers in any order; psycstore is asked again for each held-back run
    // when its turn comes.
    for id in [9, 4, 2, 8, 6, 3] {
        let a = replayed(&mut h, whole(id, "_a"));
        assert!(results(&a, 1).is_empty(), "{id} waits for 1");
        assert!(rereads(&a).is_empty());
    }
    let a = replayed(&mut h, whole(1, "_a"));
    got.extend(results(&a, 1));
    let a = reread(&mut h, &a, (5, 5), vec![whole(5, "_a")]);
    got.extend(results(&a, 1));
    let a = reread(&mut h, &a, (7, 7), vec![whole(7, "_a")]);
    got.extend(results(&a, 1));
    assert_eq!(result_code(&a, 1), None);
    let a = reread(&mut h, &a, (10, 10), vec![whole(10, "_a")]);
    got.extend(results(&a, 1));
    assert_eq!(got, (1..=10).map(|id| (id, 0)).collect::<Vec<_>>());
    assert_eq!(result_code(&a, 1), Some(10));
    assert_eq!(footprint(&h), Default::default(), "nothing left");
}

#[test]
fn a_large_local_answer_with_an_early_gap_is_held_back_as_a_run_not_kept() {
    const N: u64 = 10_000;
    let mut h = Harness::admitted_slave(N);
    let stored: Vec<Fragment> = (1..=N)
        .filter(|&id| id != 2)
        .map(|id| whole(id, "_a"))
        .collect();
    let a = remote(&mut h, 1, 1, N, stored.clone());
    assert_eq!(results(&a, 1), vec![(1, 0)], "up to the gap");
    assert_eq!(asked(&a), vec![(2, 0)]);
    assert!(rereads(&a).is_empty());
    // What waits: the message being fetched and the reread of 3..=N after it.
    let held = footprint(&h);
    assert_eq!((held.items, held.fragments), (2, 0), "{held:?}");
    assert!(held.runs <= 1, "{held:?}");
    let a = replayed(&mut h, whole(2, "_a"));
    assert_eq!(results(&a, 1), vec![(2, 0)]);
    let a = reread(&mut h, &a, (3, N), stored[1..].to_vec());
    assert_eq!(
        results(&a, 1),
        (3..=N).map(|id| (id, 0)).collect::<Vec<_>>()
    );
    assert_eq!(result_code(&a, 1), Some(N as i64));
}

#[test]
fn multi_fragment_messages_local_and_fetched_keep_their_order() {
    let mut h = Harness::admitted_slave(4);
    let head = |id| fragment(id, 0, method(0, "_m", true));
    let second = head(1).wire_size() as u64;
    let tail = |id| fragment(id, second, data("t", true));
    // 1 whole, 2 missing, 3 stored in part only (held back: no CANCEL, fetched whole), 4
    // whole in two fragments.
    let a = remote(
        &mut h,
        1,
        1,
        4,
        vec![head(1), tail(1), head(3), head(4), tail(4)],
    );
    assert_eq!(results(&a, 1), vec![(1, 0), (1, second)]);
    assert_eq!(asked(&a), vec![(2, 0), (3, 0)]);
    // 3's head is here first: it waits with it; 2 streams fragment by fragment.
    let a = replayed(&mut h, head(3));
    assert!(results(&a, 1).is_empty());
    assert!(asked(&a).is_empty());
    let a = replayed(&mut h, head(2));
    assert_eq!(results(&a, 1), vec![(2, 0)]);
    assert_eq!(asked(&a), vec![(2, second)]);
    let a = replayed(&mut h, tail(2));
    assert_eq!(results(&a, 1), vec![(2, second), (3, 0)]);
    assert_eq!(asked(&a), vec![(3, second)]);
    assert!(rereads(&a).is_empty(), "4 waits for 3");
    let a = replayed(&mut h, tail(3));
    assert_eq!(results(&a, 1), vec![(3, second)]);
    let a = reread(&mut h, &a, (4, 4), vec![head(4), tail(4)]);
    assert_eq!(results(&a, 1), vec![(4, 0), (4, second)]);
    assert_eq!(result_code(&a, 1), Some(8));
}

#[test]
fn a_reread_that_finds_a_message_in_part_cancels_it() {
    // 3 is newer than what the record delivered: not fetched, read again as it is stored.
    let mut h = Harness::admitted_slave(2);
    let a = remote(
        &mut h,
        1,
        1,
        3,
        vec![whole(2, "_a"), fragment(3, 0, method(0, "_a", true))],
    );
    assert!(results(&a, 1).is_empty());
    assert_eq!(asked(&a), vec![(1, 0)]);
    let a = replayed(&mut h, whole(1, "_a"));
    assert_eq!(results(&a, 1), vec![(1, 0)]);
    let head = fragment(3, 0, method(0, "_a", true));
    let end = head.wire_size() as u64;
    let a = reread(&mut h, &a, (2, 3), vec![whole(2, "_a"), head]);
    assert_eq!(results(&a, 1), vec![(2, 0), (3, 0), (3, end)]);
    assert_eq!(result_code(&a, 1), Some(4));
}

#[test]
fn without_room_to_fetch_a_held_back_answer_is_read_again_in_order() {
    let mut h = slave_with(
        Config {
            max_history_ops: 0,
            ..Config::default()
        },
        3,
    );
    let a = range(&mut h, 1, history_replay_flags::LOCAL, 1, 3, "");
    let (op, _) = message_get(&a);
    let a = local(&mut h, op, vec![whole(1, "_a"), whole(3, "_a")]);
    assert_eq!(results(&a, 1), vec![(1, 0)]);
    assert!(asked(&a).is_empty(), "no room: 2 is not fetched");
    let a = reread(&mut h, &a, (2, 3), vec![whole(3, "_a")]);
    assert_eq!(results(&a, 1), vec![(3, 0)]);
    assert_eq!(result_code(&a, 1), Some(2));
}

#[test]
fn a_client_gone_midway_takes_its_reread_with_it() {
    let mut h = Harness::admitted_slave(3);
    h.join(2, slave_join_flags::NONE);
    let a = remote(&mut h, 1, 1, 3, vec![whole(1, "_a"), whole(3, "_a")]);
    assert_eq!(results(&a, 1), vec![(1, 0)]);
    let a = remote(&mut h, 2, 1, 3, vec![whole(1, "_a"), whole(3, "_a")]);
    assert_eq!(results(&a, 2), vec![(1, 0)]);
    let a = replayed(&mut h, whole(2, "_a"));
    assert_eq!(results(&a, 1), vec![(2, 0)]);
    assert_eq!(results(&a, 2), vec![(2, 0)]);
    let [(op1, 3, 3), (op2, 3, 3)] = rereads(&a)[..] else {
        panic!("a reread each: {:?}", rereads(&a))
    };
    // Client 1 goes while its reread is with psycstore: its answer goes nowhere.
    h.ch.handle_client_gone(h.now, ClientId(1));
    h.drain();
    let a = local(&mut h, op1, vec![whole(3, "_a")]);
    assert!(a.is_empty(), "{a:?}");
    let a = local(&mut h, op2, vec![whole(3, "_a")]);
    assert_eq!(results(&a, 2), vec![(3, 0)]);
    assert_eq!(result_code(&a, 2), Some(3));
    assert_eq!(footprint(&h), Default::default());
}

#[test]
fn a_local_replay_without_holes_passes_everything_in_psycstore_order() {
    let mut h = Harness::admitted_slave(3);
    let a = range(&mut h, 1, history_replay_flags::LOCAL, 1, 3, "");
    let (op, _) = message_get(&a);
    let a = local(
        &mut h,
        op,
        vec![whole(1, "_a"), whole(2, "_a"), whole(3, "_a")],
    );
    assert_eq!(results(&a, 1), vec![(1, 0), (2, 0), (3, 0)]);
    assert!(asked(&a).is_empty());
    assert!(rereads(&a).is_empty());
    assert_eq!(result_code(&a, 1), Some(3));
}

#[test]
fn the_scan_keeps_held_back_ids_as_runs() {
    const N: u64 = 10_000;
    let replay = HistoryReplay {
        flags: history_replay_flags::REMOTE,
        op_id: 71,
        start_message_id: 1,
        end_message_id: N,
        message_limit: 0,
        method_prefix: vec![],
    };
    let (mut scan, _) = crate::channel::remote::Scan::new(&replay, Some(N), 10_000);
    let mut passed = Vec::new();
    for id in (1..=N).filter(|&id| id != 2 && id != 5_000) {
        let (cancel, pass) = scan.local(&whole(id, "_a"));
        assert_eq!(cancel, None);
        if pass {
            passed.push(id);
        }
    }
    assert_eq!(scan.end(), None);
    assert_eq!(passed, vec![1]);
    assert_eq!(scan.held_runs(), 2, "3..=4999 and 5001..=N");
}
