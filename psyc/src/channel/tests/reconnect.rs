//! psycstore and multicast going away and coming back under live records.

use super::*;
use crate::msg::{HistoryReplay, MessageAck, PartRequest};

fn counters_op(actions: &[Action]) -> Option<u64> {
    store_ops(actions).into_iter().find_map(|r| match r {
        StoreRequest::CountersGet(c) => Some(c.head.op_id),
        _ => None,
    })
}

#[test]
fn unanswered_psycstore_requests_are_sent_again_when_psycstore_is_back() {
    let mut h = Harness::new();
    let a = h.client(
        1,
        Request::MasterStart(MasterStart {
            policy: 0,
            channel_key: channel_key(),
        }),
    );
    let op = counters_op(&a).expect("a counters lookup");
    // psycstore restarts before answering: the driver calls handle_store_up again.
    h.ch.handle_store_up(h.now);
    let again = h.drain();
    assert_eq!(
        counters_op(&again),
        Some(op),
        "the same request, same op id"
    );
    let a = h.counters(&again, 1, 4);
    assert!(mcast_msgs(&a)
        .iter()
        .any(|m| matches!(m, Any::OriginStart(_))));
    // Answered requests are not sent again.
    h.ch.handle_store_up(h.now);
    assert!(store_ops(&h.drain()).is_empty());
}

#[test]
fn a_history_read_that_passed_results_on_fails_instead_of_repeating_them() {
    let mut h = Harness::started_master(3);
    let a = h.client(
        1,
        Request::HistoryReplay(HistoryReplay {
            flags: 0,
            op_id: 77,
            start_message_id: 1,
            end_message_id: 3,
            message_limit: 0,
            method_prefix: Vec::new(),
        }),
    );
    let op = store_ops(&a)[0].op_id();
    let a = h.store(StoreReply::Fragment(psycstore::msg::FragmentResult {
        psycstore_flags: 0,
        op_id: op,
        fragment: fragment(1, 0, method(0, "_m", false)),
    }));
    assert_eq!(replies_to(&a, 1).len(), 1, "one history result passed on");
    h.ch.handle_store_up(h.now);
    let a = h.drain();
    assert!(store_ops(&a).is_empty(), "not read again");
    match replies_to(&a, 1).as_slice() {
        [Reply::ResultCode(r)] => {
            assert_eq!((r.op_id, r.result_code), (77, -1));
        }
        other => panic!("expected one RESULT_CODE, got {other:?}"),
    }
}

#[test]
fn a_restarted_multicast_restarts_the_origin_after_the_last_fragment_and_resends_the_one_in_flight()
{
    let mut h = Harness::started_master(0);
    let a = h.send(1, method(0, "_a", false));
    // Multicast hands the origin its own fragment back with the id it gave it.
    let mut own = match mcast_msgs(&a).as_slice() {
        [Any::Fragment(f)] => f.clone(),
        other => panic!("one fragment expected, got {other:?}"),
    };
    own.fragment_id = 41;
    h.mcast(master(), Event::Message(own));
    h.mcast(master(), Event::FragmentAck);
    let a = h.send(1, method(0, "_b", false));
    let in_flight = mcast_msgs(&a);
    assert_eq!(in_flight.len(), 1);
    h.ch.handle_multicast_down(h.now, master());
    assert!(h.drain().is_empty());
    let a = h.send(1, method(0, "_c", false));
    assert!(
        mcast_msgs(&a).is_empty(),
        "nothing goes while multicast is down"
    );
    h.ch.handle_multicast_up(h.now, master());
    let a = h.drain();
    let msgs = mcast_msgs(&a);
    match msgs.first() {
        Some(Any::OriginStart(o)) => assert_eq!(o.max_fragment_id, 41),
        other => panic!("ORIGIN_START first, got {other:?}"),
    }
    assert_eq!(
        msgs.get(1),
        in_flight.first(),
        "then the fragment that was in flight"
    );
    assert_eq!(msgs.len(), 3, "then the one queued meanwhile");
    assert_eq!(
        replies_to(&a, 1),
        vec![Reply::MessageAck(MessageAck)],
        "acknowledged as it is handed out"
    );
}

#[test]
fn a_rejoined_slave_keeps_its_decision_unless_refused_now() {
    let mut h = Harness::admitted_slave(0);
    h.ch.handle_multicast_down(h.now, slave());
    h.ch.handle_multicast_up(h.now, slave());
    let a = h.drain();
    assert!(
        matches!(mcast_msgs(&a).as_slice(), [Any::MemberJoin(_)]),
        "joins again"
    );
    let a = h.mcast(slave(), Event::JoinDecision(decision(1)));
    assert!(replies_to(&a, 1).is_empty(), "the client knows it is in");
    h.ch.handle_multicast_down(h.now, slave());
    h.ch.handle_multicast_up(h.now, slave());
    h.drain();
    let a = h.mcast(slave(), Event::JoinDecision(decision(0)));
    assert!(matches!(
        replies_to(&a, 1).as_slice(),
        [Reply::JoinDecision(d)] if d.is_admitted == 0
    ));
    assert!(matches!(mcast_msgs(&a).as_slice(), [Any::PartRequest(_)]));
    let a = h.mcast(slave(), Event::PartAck);
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::CloseMulticast { record } if *record == slave())));
}

#[test]
fn a_part_while_multicast_is_down_is_acknowledged_at_once() {
    let mut h = Harness::started_master(0);
    h.ch.handle_multicast_down(h.now, master());
    let a = h.client(1, Request::PartRequest(PartRequest));
    assert_eq!(replies_to(&a, 1), vec![Reply::PartAck(crate::msg::PartAck)]);
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::CloseMulticast { record } if *record == master())));
    h.ch.handle_multicast_up(h.now, master());
    assert!(
        mcast_msgs(&h.drain()).is_empty(),
        "parted: not started again"
    );
}

#[test]
fn a_part_in_progress_completes_when_multicast_goes_away() {
    let mut h = Harness::started_master(0);
    let a = h.client(1, Request::PartRequest(PartRequest));
    assert!(replies_to(&a, 1).is_empty(), "waits for multicast");
    h.ch.handle_multicast_down(h.now, master());
    let a = h.drain();
    assert_eq!(replies_to(&a, 1), vec![Reply::PartAck(crate::msg::PartAck)]);
}

#[test]
fn a_silent_psycstore_fills_the_operation_table_only_up_to_its_bound() {
    let mut h = Harness::with(Config {
        max_store_ops: 4,
        ..Config::default()
    });
    let a = h.client(
        1,
        Request::MasterStart(MasterStart {
            policy: 0,
            channel_key: channel_key(),
        }),
    );
    h.counters(&a, 1, 0);
    // psycstore stops answering; the master's own fragments come back and are stored.
    for id in 1..=10 {
        h.mcast(
            master(),
            Event::Message(fragment(id, 0, super::receive::stateless(true))),
        );
    }
    h.ch.handle_store_up(h.now);
    let again = store_ops(&h.drain());
    assert_eq!(again.len(), 4, "the newest four are kept: {again:?}");
    let ids: Vec<u64> = again
        .iter()
        .filter_map(|r| match r {
            StoreRequest::FragmentStore(f) => Some(f.fragment.message_id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec![7, 8, 9, 10], "{again:?}");
}
