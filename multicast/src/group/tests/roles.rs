//! Client roles: joining and parting on the origin's peer, protocol misuse, group end.

use super::*;

#[test]
fn local_join_refused_then_admitted_and_messages_reach_both() {
    let mut net = Net::new(1, Config::default());
    start_origin(&mut net, 0, 1);
    join(&mut net, 0, 2, 1, 0);
    assert_eq!(decide_all(&mut net, false), 1);
    let d = of_type(&net.take(0, 2), msg::TYPE_JOIN_DECISION);
    assert_eq!(d.len(), 1);
    assert_eq!(
        JoinDecision::from_message(&d[0])
            .unwrap()
            .decision
            .is_admitted,
        REFUSED
    );
    net.client(0, 2, PartRequest.to_message());
    assert_eq!(of_type(&net.take(0, 2), msg::TYPE_PART_ACK).len(), 1);
    assert!(
        net.take(0, 1).is_empty(),
        "PART_ACK goes only to the client that parted"
    );

    join(&mut net, 0, 3, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(of_type(&net.take(0, 3), msg::TYPE_JOIN_DECISION).len(), 1);

    send_fragment(&mut net, b"ABC DEF");
    let to_origin = net.take(0, 1);
    let to_member = fragments(&net.take(0, 3));
    assert_eq!(fragments(&to_origin).len(), 1);
    assert_eq!(of_type(&to_origin, msg::TYPE_FRAGMENT_ACK).len(), 1);
    assert_eq!(to_member.len(), 1);
    assert_eq!(to_member[0].fragment_id, 1);
    assert!(GnunetCrypto.verify_fragment(&group_pub().prepare().ok(), &to_member[0]));

    // A later client of the admitted member gets the whole stored decision (gap G9).
    join(&mut net, 0, 4, 2, 0);
    let d = of_type(&net.take(0, 4), msg::TYPE_JOIN_DECISION);
    assert_eq!(d.len(), 1);
    assert!(JoinDecision::from_message(&d[0]).is_ok());
    assert!(net.take(0, 1).is_empty(), "no second join request");
}

#[test]
fn bad_input_is_dropped_and_counted() {
    let mut net = Net::new(2, Config::default());
    start_origin(&mut net, 0, 1);
    join(&mut net, 1, 1, 1, 0);
    decide_all(&mut net, true);
    net.take(1, 1);

    // A forged fragment from the parent: dropped, counted, the group goes on.
    let up = net.peer_end.keys().find(|k| k.0 == 0).copied().unwrap();
    let mut forged = Fragment::unsigned(1, 0, 1, 0, b"evil".to_vec());
    forged.fragment_id = 5;
    GnunetCrypto.sign_fragment(
        &eddsa::SigningKey::new(&eddsa::PrivateKey([9; 32])),
        &mut forged,
    );
    net.act(
        0,
        Action::SendChannel {
            channel: up.1,
            msg: forged.to_message(),
        },
    );
    net.run();
    assert!(fragments(&net.take(1, 1)).is_empty());
    assert_eq!(net.stat(stat::INVALID_SIGNATURES), 1);
    send_fragment(&mut net, b"fine");
    assert_eq!(fragments(&net.take(1, 1)).len(), 1);

    // A request signed by a key that was never admitted: dropped at the origin.
    let (mchan, _) = (net.peer_end[&up], ());
    let mut q = Request::unsigned(1, 0, 0, b"sneak".to_vec());
    q.fragment_id = 1;
    GnunetCrypto.sign_request(&member_key(7), &mut q);
    net.act(
        1,
        Action::SendChannel {
            channel: mchan.1,
            msg: q.to_message(),
        },
    );
    net.run();
    assert!(of_type(&net.take(0, 1), msg::TYPE_REQUEST).is_empty());
    assert_eq!(net.stat(stat::UNADMITTED_TRAFFIC), 1);

    // Garbage on a channel closes it.
    net.act(
        1,
        Action::SendChannel {
            channel: mchan.1,
            msg: vec![0, 6, 0x02, 0xf5, 1, 2],
        },
    );
    net.run();
    assert_eq!(net.stat(stat::CHANNELS_CLOSED_BAD_INPUT), 1);

    // An oversize fragment from the origin client drops that client.
    net.client(
        0,
        1,
        Fragment::unsigned(1, 0, 0, 0, vec![0; 64512 - 115]).to_message(),
    );
    assert_eq!(net.dropped.len(), 1);
    assert!(net.dropped[0].2.contains("exceeds"));

    // A member client may not send MESSAGEs (the C service aborted, gap G8).
    join(&mut net, 1, 2, 2, 0);
    net.client(1, 2, Fragment::unsigned(1, 0, 0, 0, vec![]).to_message());
    assert_eq!(net.dropped.len(), 2);
}

#[test]
fn origin_stop_ends_the_group_below() {
    let mut net = Net::new(2, Config::default());
    start_origin(&mut net, 0, 1);
    join(&mut net, 1, 1, 1, 0);
    decide_all(&mut net, true);
    net.client(0, 1, PartRequest.to_message());
    assert!(net.ports.iter().all(|p| p.0 != 0), "origin port closed");
    assert_eq!(net.nodes[0].child_count(&group_pub()), 0);
    assert!(!net.nodes[1].is_attached(&group_pub()));
    assert!(matches!(
        Any::decode(&PartRequest.to_message()),
        Ok(Any::PartRequest(_))
    ));
}
