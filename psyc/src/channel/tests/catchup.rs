//! State catch-up of slaves that join late (`channel::catchup`): the chain of earlier
//! stateful messages is fetched by replay, stored and applied before the message that needs
//! it; only that message reaches the clients; failures and bounds never block delivery.

use std::collections::VecDeque;

use super::receive::{replays, stateless, with_delta};
use super::state::{state_get_all, state_results, store_answers, vars, WithStore};
use super::*;
use crate::channel::Timer;
use crate::format::parts::{ModifierPart, METHOD_STATE_MODIFY, METHOD_STATE_RESET};
use crate::msg::MembershipStore;
use gnunet_service::wire::Message as _;
use multicast::msg::{ReplayError, ReplayIds, ReplayResponse, FRAGMENT_HEADER_SIZE};
use psycstore::msg::message_flags;
use psycstore::store::SqliteStore;

/// Fragment `offset` of message `id` arrives at the slave.
fn arrive(h: &mut Harness, id: u64, offset: u64, payload: Vec<u8>) -> Vec<Action> {
    h.mcast(slave(), Event::Message(fragment(id, offset, payload)))
}

/// Answers the catch-up's counters lookup in `actions`: psycstore applied the state up to
/// `max_state_message_id`.
fn answer_base(h: &mut Harness, actions: &[Action], max_state_message_id: u64) -> Vec<Action> {
    h.store(StoreReply::Counters(CountersResult {
        result_code: 1,
        op_id: counters_op(actions),
        max_fragment_id: 0,
        max_message_id: 0,
        max_group_generation: 0,
        max_state_message_id,
    }))
}

/// The psycstore writes of state among `actions`, in order: `(id, delta)` for STATE_MODIFY,
/// `(0, u64::MAX)` for STATE_RESET.
fn state_writes(actions: &[Action]) -> Vec<(u64, u64)> {
    store_ops(actions)
        .into_iter()
        .filter_map(|r| match r {
            StoreRequest::StateModify(m) => Some((m.message_id, m.state_delta)),
            StoreRequest::StateReset(_) => Some((0, u64::MAX)),
            _ => None,
        })
        .collect()
}

/// The op id of the STATE_MODIFY of message `id` among `actions`.
fn modify_op(actions: &[Action], id: u64) -> u64 {
    store_ops(actions)
        .into_iter()
        .find_map(|r| match r {
            StoreRequest::StateModify(m) if m.message_id == id => Some(m.op_id),
            _ => None,
        })
        .expect("a STATE_MODIFY")
}

/// The timer among `actions`.
fn timer(actions: &[Action]) -> (Timer, std::time::Instant) {
    actions
        .iter()
        .find_map(|a| match a {
            Action::SetTimer { timer, at } => Some((*timer, *at)),
            _ => None,
        })
        .expect("a timer")
}

/// A replay failure for fragment (`id`, `offset`).
fn replay_failure(id: u64, offset: u64) -> Event {
    Event::ReplayResponse(ReplayResponse {
        ids: ReplayIds {
            fragment_id: 0,
            message_id: id,
            fragment_offset: offset,
            flags: 0,
        },
        error_code: ReplayError::NotFound,
        fragment: None,
    })
}

/// A slave without state that got stateful message 10 (delta 3: message 7 changed the state
/// before) and whose psycstore applied nothing: it asks for 7.
fn slave_fetching_7(cfg: Config) -> Harness {
    let mut h = Harness::with(cfg);
    let a = h.join(1, slave_join_flags::NONE);
    h.counters(&a, 0, 0);
    h.mcast(slave(), Event::JoinDecision(decision(1)));
    let a = arrive(&mut h, 10, 0, with_delta(3, true));
    assert!(state_writes(&a).is_empty(), "10 waits for the catch-up");
    let a = answer_base(&mut h, &a, 0);
    assert_eq!(replays(&a), vec![(7, 0)]);
    h
}

#[test]
fn a_late_slave_fetches_the_previous_stateful_message_and_delivers_only_its_own() {
    let mut h = slave_fetching_7(Config::default());
    let a = arrive(&mut h, 11, 0, stateless(true));
    assert!(deliveries(&a, 1).is_empty(), "11 waits behind 10");
    // 7 is the channel's first stateful message (delta 7: nothing before it).
    let a = arrive(&mut h, 7, 0, with_delta(7, true));
    match store_ops(&a).as_slice() {
        [StoreRequest::FragmentStore(s), StoreRequest::StateModify(m7), StoreRequest::StateModify(m10)] =>
        {
            assert_eq!(s.fragment.message_id, 7);
            assert_eq!(s.psycstore_flags, message_flags::STATE);
            assert_eq!((m7.message_id, m7.state_delta), (7, 7));
            assert_eq!((m10.message_id, m10.state_delta), (10, 3));
        }
        other => panic!("expected 7 stored, then 7 and 10 applied; got {other:?}"),
    }
    assert!(replays(&a).is_empty(), "the chain ends at 7");
    assert!(deliveries(&a, 1).is_empty(), "not before 10 is applied");
    let b = h.store(StoreReply::ResultCode(ResultCode::new(modify_op(&a, 7), 1)));
    assert!(deliveries(&b, 1).is_empty(), "7 is never delivered");
    let b = h.store(StoreReply::ResultCode(ResultCode::new(
        modify_op(&a, 10),
        1,
    )));
    assert_eq!(deliveries(&b, 1), vec![(10, 0), (11, 0)]);
    // 12 follows 10 (delta 2): the state is here, no catch-up.
    let a = arrive(&mut h, 12, 0, with_delta(2, true));
    assert_eq!(state_writes(&a), vec![(12, 2)]);
    assert!(replays(&a).is_empty());
}

#[test]
fn a_chain_of_several_messages_one_in_two_fragments_ends_at_a_reset() {
    let mut h = slave_fetching_7(Config::default());
    // 7 (delta 3) comes in two fragments; its predecessor 4 reset the state.
    let head = with_delta(3, false);
    let second = (FRAGMENT_HEADER_SIZE + head.len()) as u64;
    let a = arrive(&mut h, 7, 0, head);
    assert_eq!(replays(&a), vec![(7, second)], "the next fragment of 7");
    let a = arrive(&mut h, 7, second, data("x", true));
    match store_ops(&a).as_slice() {
        [StoreRequest::FragmentStore(s)] => {
            assert_eq!(s.fragment.fragment_offset, second);
            assert_eq!(s.psycstore_flags, 0, "only the METHOD fragment is flagged");
        }
        other => panic!("expected the second fragment stored, got {other:?}"),
    }
    assert_eq!(replays(&a), vec![(4, 0)]);
    let a = arrive(&mut h, 4, 0, with_delta(0, true));
    assert_eq!(
        state_writes(&a),
        vec![(0, u64::MAX), (4, 0), (7, 3), (10, 3)],
        "reset, then oldest first, then the waiting message"
    );
    assert!(replays(&a).is_empty(), "nothing before a reset is wanted");
    let a = h.store(StoreReply::ResultCode(ResultCode::new(
        modify_op(&a, 10),
        1,
    )));
    assert_eq!(deliveries(&a, 1), vec![(10, 0)]);
}

#[test]
fn the_chain_stops_at_the_state_psycstore_holds() {
    // psycstore applied up to 4 already (another record of the peer): 7 (delta 3) is all
    // that is missing.
    let mut h = Harness::admitted_slave(0);
    let a = arrive(&mut h, 10, 0, with_delta(3, true));
    let a = answer_base(&mut h, &a, 4);
    assert_eq!(replays(&a), vec![(7, 0)]);
    let a = arrive(&mut h, 7, 0, with_delta(3, true));
    assert_eq!(state_writes(&a), vec![(7, 3), (10, 3)]);

    // psycstore holds the predecessor itself: nothing is fetched.
    let mut h = Harness::admitted_slave(0);
    let a = arrive(&mut h, 10, 0, with_delta(3, true));
    let a = answer_base(&mut h, &a, 7);
    assert!(replays(&a).is_empty());
    assert_eq!(state_writes(&a), vec![(10, 3)]);
    let a = h.store(StoreReply::ResultCode(ResultCode::new(
        modify_op(&a, 10),
        1,
    )));
    assert_eq!(deliveries(&a, 1), vec![(10, 0)]);
}

#[test]
fn a_record_with_the_state_does_not_fetch() {
    // The slave's first stateful message follows state it has (predecessor 0).
    let mut h = Harness::admitted_slave(4);
    let a = arrive(&mut h, 5, 0, with_delta(5, true));
    assert_eq!(state_writes(&a), vec![(5, 5)]);
    assert!(replays(&a).is_empty());
    assert!(!store_ops(&a)
        .iter()
        .any(|r| matches!(r, StoreRequest::CountersGet(_))));
    // A master never catches up, even when its record is behind.
    let mut h = Harness::started_master(2);
    let a = h.mcast(
        master(),
        Event::Message(fragment(3, 0, with_delta(1, true))),
    );
    assert_eq!(state_writes(&a), vec![(3, 1)]);
    assert!(replays(&a).is_empty());
}

#[test]
fn a_failed_replay_gives_the_catch_up_up_and_still_delivers() {
    let mut h = slave_fetching_7(Config::default());
    let a = h.mcast(slave(), replay_failure(6, 0));
    assert!(state_writes(&a).is_empty(), "a failure for another message");
    let a = h.mcast(slave(), replay_failure(7, 0));
    assert_eq!(
        state_writes(&a),
        vec![(10, 3)],
        "10 applied as without catch-up"
    );
    let a = h.store(StoreReply::ResultCode(ResultCode::new(
        modify_op(&a, 10),
        0,
    )));
    assert_eq!(deliveries(&a, 1), vec![(10, 0)]);
}

#[test]
fn an_unanswered_replay_is_asked_again_then_given_up() {
    let mut h = Harness::admitted_slave(0);
    let a = arrive(&mut h, 10, 0, with_delta(3, true));
    let a = answer_base(&mut h, &a, 0);
    let first = timer(&a);
    let mut current = first;
    for attempt in 1..=3 {
        h.now = current.1;
        h.ch.handle_timeout(h.now, current.0);
        let a = h.drain();
        if attempt < 3 {
            assert_eq!(replays(&a), vec![(7, 0)], "asked again");
            assert!(state_writes(&a).is_empty());
            current = timer(&a);
            h.ch.handle_timeout(h.now, first.0);
            assert!(h.drain().is_empty(), "the first request's timer is stale");
        } else {
            assert!(replays(&a).is_empty());
            assert_eq!(state_writes(&a), vec![(10, 3)], "given up: 10 applied");
        }
    }
}

#[test]
fn a_chain_longer_than_the_bound_is_given_up() {
    let mut h = slave_fetching_7(Config {
        max_state_chain: 2,
        ..Config::default()
    });
    let a = arrive(&mut h, 7, 0, with_delta(1, true));
    assert_eq!(replays(&a), vec![(6, 0)]);
    let a = arrive(&mut h, 6, 0, with_delta(1, true));
    assert!(replays(&a).is_empty(), "5 would be the third");
    assert_eq!(state_writes(&a), vec![(10, 3)]);

    // The fragment bound: 7 has more fragments than one catch-up may fetch.
    let mut h = slave_fetching_7(Config {
        max_state_chain_fragments: 1,
        ..Config::default()
    });
    let a = arrive(&mut h, 7, 0, with_delta(3, false));
    assert!(replays(&a).is_empty());
    assert_eq!(state_writes(&a), vec![(10, 3)]);
}

#[test]
fn a_chain_leading_to_a_message_without_state_is_given_up() {
    let mut h = slave_fetching_7(Config::default());
    let a = arrive(&mut h, 7, 0, stateless(true));
    assert!(store_ops(&a)
        .iter()
        .all(|r| !matches!(r, StoreRequest::FragmentStore(_))));
    assert_eq!(state_writes(&a), vec![(10, 3)]);
}

#[test]
fn the_fetch_waits_for_multicast_and_goes_on_when_it_is_back() {
    let mut h = Harness::admitted_slave(0);
    let a = arrive(&mut h, 10, 0, with_delta(3, true));
    h.ch.handle_multicast_down(h.now, slave());
    let b = answer_base(&mut h, &a, 0);
    assert!(
        replays(&b).is_empty(),
        "nothing asked while multicast is down"
    );
    h.ch.handle_multicast_up(h.now, slave());
    let a = h.drain();
    assert_eq!(replays(&a), vec![(7, 0)]);
}

/// A slave on another peer, with its own psycstore, whose multicast asks `master` for
/// replays as the multicast service does (with the slave's key).
struct LateSlave {
    h: Harness,
    store: SqliteStore,
    /// The replay requests it sent, as (message id, offset).
    asked: Vec<(u64, u64)>,
}

impl LateSlave {
    /// Joins now (client 1) and is admitted; its peer holds nothing of the channel.
    fn join(master: &mut WithStore) -> Self {
        let mut s = Self {
            h: Harness::new(),
            store: SqliteStore::open_in_memory().expect("an in-memory store"),
            asked: Vec::new(),
        };
        let a = s.h.join(1, slave_join_flags::NONE);
        s.run(master, a);
        let a = s.h.mcast(slave(), Event::JoinDecision(decision(1)));
        s.run(master, a);
        s
    }

    /// Carries out `actions` in the slave's psycstore and multicast; returns the rest.
    fn run(&mut self, master: &mut WithStore, actions: Vec<Action>) -> Vec<Action> {
        let mut todo: VecDeque<Action> = actions.into();
        let mut rest = Vec::new();
        while let Some(action) = todo.pop_front() {
            match action {
                Action::Store { request } => {
                    todo.extend(store_answers(&mut self.store, &mut self.h, request))
                }
                Action::Multicast {
                    msg: Any::ReplayRequest(mut r),
                    ..
                } => {
                    self.asked.push((r.ids.message_id, r.ids.fragment_offset));
                    r.member_pub_key = slave_key().public_key();
                    let a = master.h.mcast(super::master(), Event::ReplayRequest(r));
                    for answer in mcast_msgs(&master.run(a)) {
                        let event = match answer {
                            Any::ReplayResponse(ReplayResponse {
                                fragment: Some(bytes),
                                ..
                            }) => Event::Message(
                                Fragment::from_message(&bytes).expect("a replayed fragment"),
                            ),
                            Any::ReplayResponse(failed) => Event::ReplayResponse(failed),
                            _ => continue, // REPLAY_RESPONSE_END
                        };
                        todo.extend(self.h.mcast(slave(), event));
                    }
                }
                other => rest.push(other),
            }
        }
        rest
    }

    /// Multicast delivers `f` live; returns what reaches the client and the timers.
    fn receive(&mut self, master: &mut WithStore, f: Fragment) -> Vec<Action> {
        let a = self.h.mcast(slave(), Event::Message(f));
        self.run(master, a)
    }

    /// The channel state as the slave's client reads it on the slave's peer.
    fn state(&mut self, master: &mut WithStore) -> Vec<(String, String)> {
        let a = self.h.client(1, state_get_all());
        let a = self.run(master, a);
        state_results(&a, 1)
    }
}

/// A modifier `=name value` part.
fn assign(name: &str, value: &str) -> Vec<u8> {
    let mut p = Vec::new();
    Part::Modifier(ModifierPart {
        value_size: value.len() as u32,
        oper: b'=',
        name: Cow::Borrowed(name.as_bytes()),
        value: Cow::Borrowed(value.as_bytes()),
    })
    .emit(&mut p);
    p
}

/// The master's application admits the slave to the whole history (from message 1).
fn store_membership(master: &mut WithStore) {
    let a = master.h.client(
        1,
        Request::MembershipStore(MembershipStore {
            op_id: 9,
            slave_pub_key: slave_key().public_key(),
            announced_at: 1,
            effective_since: 1,
            did_join: 1,
        }),
    );
    let a = master.run(a);
    assert!(
        replies_to(&a, 1)
            .iter()
            .any(|r| matches!(r, Reply::ResultCode(c) if c.result_code == 1)),
        "membership stored"
    );
}

/// A master whose channel had messages 1–6: stateful 2 (`_a`, `_b`), 4 (`_b`; and `_e` in
/// its second fragment), 5 (`_c`); stateless 1, 3, 6.
fn channel_with_history() -> WithStore {
    let mut m = WithStore::master();
    m.send(0, &[]);
    m.send(METHOD_STATE_MODIFY, &[(b'=', "_a", "1"), (b'=', "_b", "2")]);
    m.send(0, &[]);
    let mut head = method(METHOD_STATE_MODIFY, "_notice_state", true);
    head.extend(assign("_b", "3"));
    let a = m.h.send(1, head);
    m.run(a);
    let mut tail = assign("_e", "5");
    tail.extend(data("tail", true));
    let a = m.h.send(1, tail);
    m.run(a);
    m.send(METHOD_STATE_MODIFY, &[(b'=', "_c", "x")]);
    m.send(0, &[]);
    assert_eq!(
        m.sent.len(),
        7,
        "six messages, one of them in two fragments"
    );
    m
}

/// The fragments of message `id` the master sent.
fn sent(m: &WithStore, id: u64) -> Vec<Fragment> {
    m.sent
        .iter()
        .filter(|f| f.message_id == id)
        .cloned()
        .collect()
}

#[test]
fn a_late_slave_catches_up_with_the_masters_state_through_real_psycstores() {
    let mut m = channel_with_history();
    store_membership(&mut m);
    let mut s = LateSlave::join(&mut m);
    m.send(METHOD_STATE_MODIFY, &[(b'=', "_a", "9")]);
    let [seven] = sent(&m, 7).try_into().expect("message 7 in one fragment");
    let a = s.receive(&mut m, seven);
    assert_eq!(deliveries(&a, 1), vec![(7, 0)], "only 7 reaches the client");
    let second = sent(&m, 4)[1].fragment_offset;
    assert_eq!(
        s.asked,
        vec![(5, 0), (4, 0), (4, second), (2, 0)],
        "the chain, backwards, with both fragments of 4; never the stateless ones"
    );
    let expected = vars(&[("_a", "9"), ("_b", "3"), ("_c", "x"), ("_e", "5")]);
    assert_eq!(m.state(), expected);
    assert_eq!(
        s.state(&mut m),
        expected,
        "the slave sees the master's state"
    );

    // The next stateful message follows on without any replay.
    m.send(METHOD_STATE_MODIFY, &[(b'=', "_f", "6")]);
    let [eight] = sent(&m, 8).try_into().expect("message 8 in one fragment");
    let a = s.receive(&mut m, eight);
    assert_eq!(deliveries(&a, 1), vec![(8, 0)]);
    assert_eq!(s.asked.len(), 4, "nothing more asked");
    assert_eq!(s.state(&mut m), m.state());
}

#[test]
fn a_late_slave_after_a_reset_fetches_back_to_the_reset_only() {
    let mut m = WithStore::master();
    m.send(METHOD_STATE_MODIFY, &[(b'=', "_old", "1")]);
    m.send(
        METHOD_STATE_RESET | METHOD_STATE_MODIFY,
        &[(b'=', "_b", "2")],
    );
    m.send(METHOD_STATE_MODIFY, &[(b'=', "_c", "3")]);
    store_membership(&mut m);
    let mut s = LateSlave::join(&mut m);
    m.send(METHOD_STATE_MODIFY, &[(b'=', "_d", "4")]);
    for f in sent(&m, 4) {
        let a = s.receive(&mut m, f);
        assert_eq!(deliveries(&a, 1), vec![(4, 0)]);
    }
    assert_eq!(
        s.asked,
        vec![(3, 0), (2, 0)],
        "back to the reset, not past it"
    );
    let expected = vars(&[("_b", "2"), ("_c", "3"), ("_d", "4")]);
    assert_eq!(m.state(), expected);
    assert_eq!(s.state(&mut m), expected);
}

#[test]
fn a_slave_the_master_does_not_admit_to_history_still_gets_the_message() {
    // No membership stored: the master's psycstore refuses the replay.
    let mut m = channel_with_history();
    let mut s = LateSlave::join(&mut m);
    m.send(METHOD_STATE_MODIFY, &[(b'=', "_a", "9")]);
    let [seven] = sent(&m, 7).try_into().expect("message 7 in one fragment");
    let a = s.receive(&mut m, seven);
    assert_eq!(deliveries(&a, 1), vec![(7, 0)], "delivered all the same");
    assert_eq!(s.asked, vec![(5, 0)], "given up at the first refusal");
    assert_eq!(s.state(&mut m), vec![], "the state stays behind");
}
