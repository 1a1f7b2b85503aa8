//! Group generation (gap P16): advanced by the master's INC_GROUP_GEN, carried in fragments,
//! used for memberships.

use super::receive::stateless;
use super::start::join_request;
use super::*;
use crate::format::parts::METHOD_INC_GROUP_GEN;
use crate::msg::MembershipStore;

/// The (message id, group generation) of every fragment sent.
fn generations(actions: &[Action]) -> Vec<(u64, u64)> {
    mcast_msgs(actions)
        .into_iter()
        .filter_map(|m| match m {
            Any::Fragment(f) => Some((f.message_id, f.group_generation)),
            _ => None,
        })
        .collect()
}

/// Client 1 files a membership; the generation psycstore is given.
fn stored_generation(h: &mut Harness) -> u64 {
    let a = h.client(
        1,
        Request::MembershipStore(MembershipStore {
            op_id: 3,
            slave_pub_key: slave_key().public_key(),
            announced_at: 1,
            effective_since: 1,
            did_join: 1,
        }),
    );
    match store_ops(&a).as_slice() {
        [StoreRequest::MembershipStore(m)] => m.group_generation,
        other => panic!("expected MEMBERSHIP_STORE, got {other:?}"),
    }
}

#[test]
fn inc_group_gen_advances_the_generation_after_its_message() {
    let mut h = Harness::started_master_at(0, 3);
    let mut out = h.send(1, method(METHOD_INC_GROUP_GEN, "_notice_a", true));
    out.extend(h.send(1, data("rest of a", true)));
    out.extend(h.send(1, method(0, "_notice_b", false)));
    out.extend(h.send(1, method(METHOD_INC_GROUP_GEN, "_notice_c", false)));
    out.extend(h.send(1, method(0, "_notice_d", false)));
    for _ in 0..5 {
        out.extend(h.mcast(master(), Event::FragmentAck));
    }
    assert_eq!(
        generations(&out),
        vec![(1, 3), (1, 3), (2, 4), (3, 4), (4, 5)],
        "every fragment of a message has the generation it started with"
    );
}

#[test]
fn the_master_tests_and_files_memberships_with_its_generation() {
    let mut h = Harness::started_master_at(0, 7);
    assert_eq!(stored_generation(&mut h), 7);
    h.send(1, method(METHOD_INC_GROUP_GEN, "_notice_epoch", false));
    assert_eq!(stored_generation(&mut h), 8);
    let a = h.mcast(master(), Event::JoinRequest(join_request()));
    match store_ops(&a).as_slice() {
        [StoreRequest::MembershipTest(t)] => assert_eq!(t.group_generation, 8),
        other => panic!("expected MEMBERSHIP_TEST, got {other:?}"),
    }
}

#[test]
fn a_slave_files_memberships_with_the_generation_it_last_received() {
    let mut h = Harness::new();
    let a = h.join(1, slave_join_flags::NONE);
    h.counters_at(&a, 1, 4, 2);
    h.mcast(slave(), Event::JoinDecision(decision(1)));
    assert_eq!(stored_generation(&mut h), 2, "from the counters");
    let mut f = fragment(5, 0, stateless(true));
    f.group_generation = 6;
    let a = h.mcast(slave(), Event::Message(f));
    assert_eq!(deliveries(&a, 1), vec![(5, 0)]);
    assert_eq!(stored_generation(&mut h), 6);
}
