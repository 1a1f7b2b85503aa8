//! The master's automatic answers wait for the response delay the driver draws (issue 13,
//! point 4): replays answered from psycstore, and joins decided by the membership test.

use std::time::Duration;

use super::query::replay_request;
use super::start::{join_request, membership};
use super::*;
use crate::channel::Timer;
use psycstore::msg::FragmentResult;

/// The answer timers in `actions`, with their times.
fn answer_timers(actions: &[Action]) -> Vec<(Instant, RecordKey)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SetTimer {
                at,
                timer: Timer::Answer { record, at: armed },
            } => {
                assert_eq!(at, armed);
                Some((*at, *record))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_replay_answered_from_the_store_waits_for_the_response_delay_in_order() {
    let mut h = Harness::started_master(9);
    let delay = Duration::from_millis(300);
    h.ch.set_response_delay(delay);
    let a = h.mcast(master(), replay_request(17, 0, 0));
    let op_id = match store_ops(&a).as_slice() {
        [StoreRequest::FragmentGet(g)] => g.head.op_id,
        other => panic!("expected FRAGMENT_GET, got {other:?}"),
    };
    let a = h.store(StoreReply::Fragment(FragmentResult {
        psycstore_flags: 0,
        op_id,
        fragment: fragment(5, 0, data("x", true)),
    }));
    assert!(mcast_msgs(&a).is_empty(), "not at once");
    assert_eq!(answer_timers(&a), vec![(h.now + delay, master())]);
    // The end comes with a shorter draw: it still waits behind the fragment.
    h.ch.set_response_delay(Duration::from_millis(10));
    let a = h.store(StoreReply::ResultCode(ResultCode::new(op_id, 1)));
    assert!(mcast_msgs(&a).is_empty());
    assert_eq!(answer_timers(&a), vec![(h.now + delay, master())]);

    let early = h.now + Duration::from_millis(299);
    h.ch.handle_timeout(
        early,
        Timer::Answer {
            record: master(),
            at: early,
        },
    );
    assert!(mcast_msgs(&h.drain()).is_empty(), "not before the delay");
    h.ch.handle_timeout(
        h.now + delay,
        Timer::Answer {
            record: master(),
            at: h.now + delay,
        },
    );
    match mcast_msgs(&h.drain()).as_slice() {
        [Any::ReplayResponse(r), Any::ReplayResponseEnd(e)] => {
            assert_eq!(r.ids.fragment_id, 17);
            assert_eq!(e.ids.fragment_id, 17);
        }
        other => panic!("expected the answer and its end, got {other:?}"),
    }
}

#[test]
fn a_member_admitted_by_membership_waits_for_the_response_delay() {
    let mut h = Harness::started_master(0);
    let delay = Duration::from_secs(2);
    h.ch.set_response_delay(delay);
    let a = h.mcast(master(), Event::JoinRequest(join_request()));
    let a = membership(&mut h, &a, 1);
    assert!(replies_to(&a, 1).is_empty(), "the clients are not asked");
    assert!(mcast_msgs(&a).is_empty(), "not at once");
    assert_eq!(answer_timers(&a), vec![(h.now + delay, master())]);
    h.ch.handle_timeout(
        h.now + delay,
        Timer::Answer {
            record: master(),
            at: h.now + delay,
        },
    );
    assert!(matches!(
        mcast_msgs(&h.drain()).as_slice(),
        [Any::JoinDecision(d)] if d.decision.is_admitted == 1
    ));
}

#[test]
fn answers_of_a_record_that_is_gone_are_not_sent() {
    let mut h = Harness::started_master(0);
    h.ch.set_response_delay(Duration::from_secs(1));
    let a = h.mcast(master(), Event::JoinRequest(join_request()));
    membership(&mut h, &a, 1);
    h.ch.handle_client_gone(h.now, ClientId(1));
    h.drain();
    h.ch.handle_timeout(
        h.now + Duration::from_secs(1),
        Timer::Answer {
            record: master(),
            at: h.now + Duration::from_secs(1),
        },
    );
    assert!(h.drain().is_empty());
}
