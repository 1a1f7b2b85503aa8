//! Joining through the tree, forwarding down it, redirects, and repair after a relay dies.

use super::*;

#[test]
fn remote_member_gets_messages_and_sends_requests_and_replays() {
    let mut net = Net::new(2, Config::default());
    start_origin(&mut net, 0, 1);
    join(&mut net, 1, 1, 1, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(of_type(&net.take(1, 1), msg::TYPE_JOIN_DECISION).len(), 1);

    send_fragment(&mut net, b"pong");
    let got = fragments(&net.take(1, 1));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, b"pong");
    assert_eq!(got[0].hop_counter, 1);
    net.take(0, 1);

    net.client(
        1,
        1,
        Request::unsigned(9, 0, 0, b"ping".to_vec()).to_message(),
    );
    let reqs = of_type(&net.take(0, 1), msg::TYPE_REQUEST);
    assert_eq!(reqs.len(), 1);
    let q = Request::from_message(&reqs[0]).unwrap();
    assert_eq!(q.member_pub_key, member_key(1).public_key());
    assert!(GnunetCrypto.verify_request(&q));
    assert_eq!(of_type(&net.take(1, 1), msg::TYPE_FRAGMENT_ACK).len(), 1);

    // Replay of fragment 1: the member's own cache answers.
    let by_id = |id| ReplayRequest {
        member_pub_key: ecdsa::PublicKey([0; 32]),
        ids: ReplayIds {
            fragment_id: id,
            flags: 2049,
            ..Default::default()
        },
        uid: 0,
    };
    net.client(1, 1, by_id(1).to_message());
    assert_eq!(fragments(&net.take(1, 1))[0].fragment_id, 1);

    // Past the head: the origin's service knows and answers with an error.
    net.client(1, 1, by_id(1234).to_message());
    let err = of_type(&net.take(1, 1), msg::TYPE_REPLAY_RESPONSE);
    assert_eq!(err.len(), 1);
    assert_eq!(
        ReplayResponse::from_message(&err[0]).unwrap().error_code,
        msg::ReplayError::PastHead
    );

    // By message id, not cached anywhere: the origin's client answers, named the member.
    let by_msg = ReplayRequest {
        member_pub_key: ecdsa::PublicKey([0; 32]),
        ids: ReplayIds {
            message_id: 77,
            fragment_offset: 0,
            ..Default::default()
        },
        uid: 0,
    };
    net.client(1, 1, by_msg.to_message());
    let asked = of_type(&net.take(0, 1), msg::TYPE_REPLAY_REQUEST);
    assert_eq!(asked.len(), 1);
    let asked = ReplayRequest::from_message(&asked[0]).unwrap();
    assert_eq!(asked.member_pub_key, member_key(1).public_key());
    let mut old = Fragment::unsigned(77, 0, 1, 0, vec![1; 300]);
    old.fragment_id = 1;
    GnunetCrypto.sign_fragment(&eddsa::SigningKey::new(&GROUP), &mut old);
    net.client(
        0,
        1,
        ReplayResponse {
            ids: asked.ids,
            error_code: msg::ReplayError::Ok,
            fragment: Some(old.to_message()),
        }
        .to_message(),
    );
    net.client(
        0,
        1,
        ReplayResponseEnd {
            ids: asked.ids,
            error_code: 0,
        }
        .to_message(),
    );
    let replayed = fragments(&net.take(1, 1));
    assert_eq!(replayed.len(), 1);
    assert_eq!(
        replayed[0].payload.len(),
        300,
        "no 8-bit truncation (gap G5)"
    );
}

#[test]
fn full_origin_redirects_tree_capable_joiners_and_relays_forward() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(3, cfg);
    join(&mut net, 2, 1, 2, 0);
    // Redirected to peer 1, which passes the join up; the origin client decides.
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(net.stat(stat::JOINS_REDIRECTED), 1);
    assert_eq!(net.stat(stat::JOINS_FORWARDED), 1);
    assert_eq!(net.nodes[0].child_count(&group_pub()), 1);
    assert_eq!(net.nodes[1].child_count(&group_pub()), 1);
    assert_eq!(of_type(&net.take(2, 1), msg::TYPE_JOIN_DECISION).len(), 1);

    send_fragment(&mut net, b"down the tree");
    assert_eq!(fragments(&net.take(1, 1))[0].hop_counter, 1);
    let deep = fragments(&net.take(2, 1));
    assert_eq!(deep.len(), 1);
    assert_eq!(deep[0].hop_counter, 2);
    assert!(GnunetCrypto.verify_fragment(&group_pub().prepare().ok(), &deep[0]));

    // A request from the grandchild climbs through the relay.
    net.take(0, 1);
    net.client(
        2,
        1,
        Request::unsigned(1, 0, 0, b"up".to_vec()).to_message(),
    );
    let reqs = of_type(&net.take(0, 1), msg::TYPE_REQUEST);
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        Request::from_message(&reqs[0]).unwrap().member_pub_key,
        member_key(2).public_key()
    );
}

#[test]
fn c_joiners_are_never_redirected() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(3, cfg);
    join_as_c_peer(&mut net, 2, 3);
    assert_eq!(net.stat(stat::JOINS_REDIRECTED), 0);
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(net.nodes[0].child_count(&group_pub()), 2);
}

#[test]
fn orphans_reattach_and_pull_the_gap() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(3, cfg.clone());
    join(&mut net, 2, 1, 2, 0);
    decide_all(&mut net, true);
    send_fragment(&mut net, b"one");
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);

    net.kill(1);
    assert_eq!(net.stat(stat::PARENTS_LOST), 1);
    // While peer 2 is detached the origin goes on.
    send_fragment(&mut net, b"two");
    send_fragment(&mut net, b"three");
    assert!(fragments(&net.take(2, 1)).is_empty());

    // After the jitter peer 2 joins the origin again; the origin re-admits it from the
    // stored decision without asking its client, and peer 2 pulls 2 and 3 by replay.
    net.advance(cfg.reattach_jitter);
    assert_eq!(decide_all(&mut net, true), 0);
    assert_eq!(net.stat(stat::JOINS_READMITTED), 1);
    let got: Vec<u64> = fragments(&net.take(2, 1))
        .iter()
        .map(|f| f.fragment_id)
        .collect();
    assert_eq!(got, vec![2, 3]);
    assert!(
        of_type(&net.take(2, 1), msg::TYPE_JOIN_DECISION).is_empty(),
        "the client is not told about re-admission"
    );
    send_fragment(&mut net, b"four");
    assert_eq!(fragments(&net.take(2, 1))[0].fragment_id, 4);
}

#[test]
fn two_members_on_one_peer_each_reach_the_origin_with_their_requests() {
    let mut net = origin_and_first_member(2, Config::default());
    // A second member on the same peer, admitted on its own channel.
    join(&mut net, 1, 2, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    net.take(0, 1);
    for c in [1, 2] {
        net.client(
            1,
            c,
            Request::unsigned(c, 0, 0, b"up".to_vec()).to_message(),
        );
    }
    let senders: Vec<_> = of_type(&net.take(0, 1), msg::TYPE_REQUEST)
        .iter()
        .map(|r| Request::from_message(r).unwrap().member_pub_key)
        .collect();
    assert_eq!(
        senders,
        vec![member_key(1).public_key(), member_key(2).public_key()]
    );
    assert_eq!(net.stat(stat::UNADMITTED_TRAFFIC), 0);
}
