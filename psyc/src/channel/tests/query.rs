//! The master's answers to members' replay requests.

use super::*;
use gnunet_service::wire::Message;
use multicast::msg::{ReplayError, ReplayIds, ReplayRequest};
use psycstore::msg::FragmentResult;

pub(super) fn replay_request(fragment_id: u64, message_id: u64, fragment_offset: u64) -> Event {
    Event::ReplayRequest(ReplayRequest {
        member_pub_key: slave_key().public_key(),
        ids: ReplayIds {
            fragment_id,
            message_id,
            fragment_offset,
            flags: 0,
        },
        uid: 0,
    })
}

#[test]
fn a_message_replay_is_answered_by_message_id_and_fragment_offset() {
    // gap P18: C always answered with the message's first fragment.
    let mut h = Harness::started_master(9);
    let a = h.mcast(master(), replay_request(0, 5, 300));
    let op_id = match store_ops(&a).as_slice() {
        [StoreRequest::MessageGetFragment(g)] => {
            assert_eq!((g.message_id, g.fragment_offset), (5, 300));
            assert_eq!(g.slave_key.0, slave_key().public_key().0);
            assert_eq!(g.do_membership_test, 1, "only for members");
            g.head.op_id
        }
        other => panic!("expected MESSAGE_GET_FRAGMENT, got {other:?}"),
    };
    let stored = fragment(5, 300, data("x", true));
    let a = h.store(StoreReply::Fragment(FragmentResult {
        psycstore_flags: 0,
        op_id,
        fragment: stored,
    }));
    match mcast_msgs(&a).as_slice() {
        [Any::ReplayResponse(r)] => {
            assert_eq!(r.error_code, ReplayError::Ok);
            assert_eq!((r.ids.message_id, r.ids.fragment_offset), (5, 300));
            let f = multicast::msg::Fragment::from_message(r.fragment.as_deref().unwrap_or(&[]))
                .expect("the fragment");
            assert_eq!((f.message_id, f.fragment_offset), (5, 300));
        }
        other => panic!("expected REPLAY_RESPONSE, got {other:?}"),
    }
    let a = h.store(StoreReply::ResultCode(ResultCode::new(op_id, 1)));
    assert!(matches!(
        mcast_msgs(&a).as_slice(),
        [Any::ReplayResponseEnd(e)] if e.ids.fragment_offset == 300
    ));
}

#[test]
fn a_replay_psycstore_refuses_is_answered_with_the_reason() {
    let mut h = Harness::started_master(9);
    for (result, expected) in [
        (psycstore::msg::status::NO, ReplayError::NotFound),
        (
            psycstore::msg::status::MEMBERSHIP_TEST_FAILED,
            ReplayError::AccessDenied,
        ),
        (-1, ReplayError::InternalError),
    ] {
        let a = h.mcast(master(), replay_request(17, 0, 0));
        let op_id = match store_ops(&a).as_slice() {
            [StoreRequest::FragmentGet(g)] => {
                assert_eq!((g.first_fragment_id, g.last_fragment_id), (17, 17));
                g.head.op_id
            }
            other => panic!("expected FRAGMENT_GET, got {other:?}"),
        };
        let a = h.store(StoreReply::ResultCode(ResultCode::new(op_id, result)));
        assert!(
            matches!(mcast_msgs(&a).as_slice(), [Any::ReplayResponse(r)] if r.error_code == expected && r.fragment.is_none()),
            "{result}"
        );
    }
}
