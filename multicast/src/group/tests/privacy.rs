//! The privacy knobs in the group logic (issue 13, point 4): replay answers from a cache and
//! re-admissions wait for the response delay; relays add a hop delay to what they forward,
//! without reordering; with the replay cache off, replays go to the origin's application.

use gnunet_service::privacy::DelayPolicy;

use super::replays::{asked_origin, replay_of};
use super::*;

/// A delay policy whose draws are all (but for a chance of 2·10⁻⁵) its cap `d`.
fn always(d: Duration) -> DelayPolicy {
    DelayPolicy::new(Duration::from_secs(100_000), d)
}

/// Origin on 0 ← relay member on 1 ← member on 2, fragments "one" and "two" sent and
/// received, every client's inbox emptied.
fn chain_with_two_fragments() -> Net {
    let mut net = origin_and_first_member(3, one_child_each());
    join(&mut net, 2, 1, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(net.nodes[1].child_count(&group_pub()), 1);
    send_fragment(&mut net, b"one");
    send_fragment(&mut net, b"two");
    assert_eq!(fragments(&net.take(2, 1)).len(), 2);
    net.take(0, 1);
    net.take(1, 1);
    net
}

/// The relay (node 1) answers replays from its cache after 2 s; the member's own peer
/// (node 2) keeps no cache, so its requests go up to the relay.
fn relay_answers_late(net: &mut Net) {
    net.nodes[1].set_privacy(Privacy {
        response_delay: always(Duration::from_secs(2)),
        ..Privacy::default()
    });
    net.nodes[2].set_privacy(Privacy {
        replay_cache: false,
        ..Privacy::default()
    });
}

#[test]
fn a_replay_answered_from_a_cache_waits_for_the_response_delay() {
    let mut net = chain_with_two_fragments();
    relay_answers_late(&mut net);
    net.client(2, 1, replay_of(1));
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 1, "the relay's cache");
    assert!(asked_origin(&mut net).is_empty());
    assert!(fragments(&net.take(2, 1)).is_empty(), "not at once");
    net.advance(Duration::from_millis(1_999));
    assert!(
        fragments(&net.take(2, 1)).is_empty(),
        "not before the delay"
    );
    net.advance(Duration::from_millis(1));
    let got = fragments(&net.take(2, 1));
    assert_eq!((got.len(), got[0].payload.as_slice()), (1, &b"one"[..]));

    // Without the delay (the default, as C) the answer is immediate.
    net.nodes[1].set_privacy(Privacy::default());
    assert!(asked_origin(&mut net).is_empty());
    net.client(2, 1, replay_of(2));
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);
}

#[test]
fn a_held_replay_answer_is_not_sent_once_its_requester_is_gone() {
    let mut net = chain_with_two_fragments();
    relay_answers_late(&mut net);
    net.client(2, 1, replay_of(1));
    // The member parts: its channel to the relay closes before the answer is due.
    net.client(2, 1, PartRequest.to_message());
    net.advance(Duration::from_secs(3));
    assert!(fragments(&net.take(2, 1)).is_empty());
    // Nor is it sent on the closed channel (the harness keeps such messages aside).
    let sent_anyway = net
        .waiting
        .iter()
        .any(|((n, _), msgs)| *n == 1 && !fragments(msgs).is_empty());
    assert!(!sent_anyway, "a held answer went to a channel that is gone");
}

#[test]
fn with_the_replay_cache_off_replays_go_to_the_origin_application() {
    let mut net = chain_with_two_fragments();
    for node in &mut net.nodes {
        node.set_privacy(Privacy {
            replay_cache: false,
            ..Privacy::default()
        });
    }
    net.client(2, 1, replay_of(1));
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 0);
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1, "the origin's application is asked");
    assert_eq!(asked[0].member_pub_key, member_key(2).public_key());
    // The knob on again: the relay's cache answers (it kept what came while it was on).
    for node in &mut net.nodes {
        node.set_privacy(Privacy::default());
    }
    net.client(2, 1, replay_of(2));
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 1);
    assert!(asked_origin(&mut net).is_empty());
}

#[test]
fn with_the_replay_cache_off_nothing_is_kept_for_replays() {
    let mut net = origin_and_first_member(3, one_child_each());
    for node in &mut net.nodes {
        node.set_privacy(Privacy {
            replay_cache: false,
            ..Privacy::default()
        });
    }
    join(&mut net, 2, 1, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    send_fragment(&mut net, b"one");
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);
    net.take(0, 1);
    // Turned on later, the cache holds nothing from before: the origin is asked.
    for node in &mut net.nodes {
        node.set_privacy(Privacy::default());
    }
    net.client(2, 1, replay_of(1));
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 0);
    assert_eq!(asked_origin(&mut net).len(), 1);
}

#[test]
fn a_readmission_from_the_stored_decision_waits_for_the_response_delay() {
    let mut net = origin_and_first_member(3, one_child_each());
    join(&mut net, 2, 1, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    net.take(2, 1);
    net.client(2, 1, PartRequest.to_message());
    net.nodes[0].set_privacy(Privacy {
        response_delay: always(Duration::from_secs(2)),
        ..Privacy::default()
    });
    // The member comes back: the origin answers from its stored decision, after the delay.
    join(&mut net, 2, 2, 2, 0);
    assert_eq!(
        decide_all(&mut net, true),
        0,
        "the origin's client is not asked"
    );
    assert_eq!(net.stat(stat::JOINS_READMITTED), 1);
    assert!(of_type(&net.take(2, 2), msg::TYPE_JOIN_DECISION).is_empty());
    net.advance(Duration::from_millis(1_999));
    assert!(of_type(&net.take(2, 2), msg::TYPE_JOIN_DECISION).is_empty());
    net.advance(Duration::from_millis(1));
    let (d, _) = only_decision(&mut net, 2, 2);
    assert_eq!(d.decision.is_admitted, ADMITTED);
}

#[test]
fn a_relay_delays_each_forward_per_hop_and_never_reorders() {
    let mut net = origin_and_first_member(3, one_child_each());
    join(&mut net, 2, 1, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    let hop = Privacy {
        hop_delay: DelayPolicy::new(Duration::from_millis(15), Duration::from_millis(200)),
        ..Privacy::default()
    };
    // The origin forwards nothing: its hop delay does not apply to its own fragments.
    net.nodes[0].set_privacy(hop);
    net.nodes[1].set_privacy(hop);
    let mut arrived: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut step = 0u64;
    let mut collect = |net: &mut Net, step: u64| {
        for f in fragments(&net.take(2, 1)) {
            arrived.push((step, f.payload));
        }
    };
    for i in 0..40u8 {
        send_fragment(&mut net, &[i]);
        assert_eq!(
            fragments(&net.take(1, 1)).len(),
            1,
            "the relay's own client: now"
        );
        collect(&mut net, step);
        net.advance(Duration::from_millis(1));
        step += 1;
    }
    for _ in 0..300 {
        collect(&mut net, step);
        net.advance(Duration::from_millis(1));
        step += 1;
    }
    collect(&mut net, step);
    let order: Vec<u8> = arrived.iter().map(|(_, p)| p[0]).collect();
    assert_eq!(
        order,
        (0..40).collect::<Vec<u8>>(),
        "every fragment, in order"
    );
    // Sent one per ms, with a 15 ms mean: most arrive later than they were sent.
    let late = arrived
        .iter()
        .filter(|(at, p)| *at > u64::from(p[0]) + 1)
        .count();
    assert!(late > 20, "only {late} of 40 delayed");
    assert!(arrived
        .iter()
        .all(|(at, p)| *at <= u64::from(p[0]) + 40 + 200));
}

#[test]
fn without_hop_delay_forwards_are_immediate() {
    let mut net = origin_and_first_member(3, one_child_each());
    join(&mut net, 2, 1, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    send_fragment(&mut net, b"x");
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);
}
