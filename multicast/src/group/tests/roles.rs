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

#[test]
fn members_attach_again_when_a_stopped_origin_comes_back() {
    let mut net = origin_and_first_member(2, Config::default());
    net.take(1, 1);
    // The origin's client goes (its service crashed): the group ends below.
    net.client(0, 1, PartRequest.to_message());
    assert!(!net.nodes[1].is_attached(&group_pub()));
    // No origin yet: the member's attempts fail and it keeps trying, a pause between rounds.
    net.advance(Config::default().retry_delay);
    net.advance(Config::default().join_timeout);
    net.advance(Config::default().retry_delay);
    assert!(!net.nodes[1].is_attached(&group_pub()));
    // The origin is back: the member's next round reaches it and is admitted again.
    start_origin(&mut net, 0, 2);
    net.take(0, 1);
    let mut asked = 0;
    for _ in 0..4 {
        net.advance(Config::default().join_timeout);
        for r in of_type(&net.take(0, 2), msg::TYPE_JOIN_REQUEST) {
            asked += 1;
            let j = JoinRequest::from_message(&r).unwrap();
            let d = JoinDecision {
                peer: j.peer,
                member_pub_key: j.member_pub_key,
                decision: Decision {
                    is_admitted: ADMITTED,
                    relays: vec![],
                    response: None,
                },
                admitted_after: None,
            };
            net.client(0, 2, d.to_message());
        }
        if net.nodes[1].is_attached(&group_pub()) {
            break;
        }
    }
    assert_eq!(asked, 1, "the member asked the new origin once");
    assert!(net.nodes[1].is_attached(&group_pub()));
    // And the group goes on.
    net.client(
        0,
        2,
        Fragment::unsigned(1, 0, 1, 0, b"after".to_vec()).to_message(),
    );
    let got = fragments(&net.take(1, 1));
    assert_eq!(got.len(), 1);
}

/// A MEMBER_JOIN for `key` on `node` (client `c`) to the origin on peer 0.
fn join_with(net: &mut Net, node: usize, c: u64, key: ecdsa::PrivateKey) {
    net.client(
        node,
        c,
        MemberJoin {
            group_pub_key: group_pub(),
            member_key: key,
            origin: pid(0),
            relays: vec![],
            join_msg: None,
        }
        .to_message(),
    );
}

#[test]
fn a_member_key_libgnunetutil_never_makes_is_refused_at_once() {
    let mut net = Net::new(2, Config::default());
    start_origin(&mut net, 0, 1);
    let mut top_bit = member_key(5);
    top_bit.0[31] |= 0x80;
    for (c, bad) in [(1, top_bit), (2, ecdsa::PrivateKey([7; 32]))] {
        join_with(&mut net, 1, c, bad);
        let (d, _) = only_decision(&mut net, 1, c);
        assert_eq!(d.decision.is_admitted, msg::UNDECIDED);
        assert!(d.decision.relays.is_empty() && d.decision.response.is_none());
        assert_eq!(d.peer, pid(1));
        // It may part, and gets its PART_ACK.
        net.client(1, c, PartRequest.to_message());
        assert_eq!(of_type(&net.take(1, c), msg::TYPE_PART_ACK).len(), 1);
    }
    assert_eq!(net.stat(stat::INVALID_MEMBER_KEYS), 2);
    assert!(net.take(0, 1).is_empty(), "the origin never hears of them");
    assert!(
        net.timers.is_empty() && net.peer_end.is_empty(),
        "no join attempt, no channel, nothing to retry"
    );
    assert!(net.dropped.is_empty());
    // A valid key on the same peer still joins.
    join(&mut net, 1, 3, 5, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(
        only_decision(&mut net, 1, 3).0.decision.is_admitted,
        ADMITTED
    );
}

/// The origin client (node 0, client 1) admits the one pending join request with a response
/// that makes the JOIN_DECISION `total` bytes long (without admission point).
fn admit_with_decision_of(net: &mut Net, total: usize) {
    let requests = of_type(&net.take(0, 1), msg::TYPE_JOIN_REQUEST);
    assert_eq!(requests.len(), 1);
    let j = JoinRequest::from_message(&requests[0]).unwrap();
    let body = total - msg::JOIN_DECISION_HEADER_SIZE;
    let mut response = vec![b'x'; body];
    response[..2].copy_from_slice(&(body as u16).to_be_bytes());
    response[2..4].copy_from_slice(&456u16.to_be_bytes());
    let d = JoinDecision {
        peer: j.peer,
        member_pub_key: j.member_pub_key,
        decision: Decision {
            is_admitted: ADMITTED,
            relays: vec![],
            response: Some(response),
        },
        admitted_after: None,
    };
    let bytes = d.to_message();
    assert_eq!(bytes.len(), total);
    net.client(0, 1, bytes);
}

#[test]
fn join_decisions_that_do_not_fit_cadet_with_our_mark_never_crash_the_service() {
    let max_cadet = gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
    let mut net = Net::new(3, Config::default());
    start_origin(&mut net, 0, 1);

    // The largest decision a client can send: it used to panic when the admission point was
    // added. It cannot cross CADET at all: the joiner is told the origin could not answer.
    join(&mut net, 1, 1, 1, 0);
    admit_with_decision_of(&mut net, 65_535);
    let (d, _) = only_decision(&mut net, 1, 1);
    assert_eq!(d.decision.is_admitted, msg::UNDECIDED);
    assert_eq!(net.stat(stat::DECISIONS_TOO_LARGE), 1);
    assert_eq!(
        net.nodes[0].child_count(&group_pub()),
        0,
        "its channel closed"
    );

    // One that fits only without the point goes without it, as a C service sends it.
    join(&mut net, 2, 1, 2, 0);
    admit_with_decision_of(&mut net, max_cadet);
    let (d, size) = only_decision(&mut net, 2, 1);
    assert_eq!((d.decision.is_admitted, size), (ADMITTED, max_cadet));
    assert_eq!(net.stat(stat::DECISIONS_TOO_LARGE), 1);

    // The origin goes on: the admitted member gets the next fragment.
    send_fragment(&mut net, b"still here");
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);
    assert!(fragments(&net.take(1, 1)).is_empty());
}

#[test]
fn a_join_message_too_large_for_cadet_is_refused_unless_the_origin_is_here() {
    let max_cadet = gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
    let mut net = Net::new(2, Config::default());
    start_origin(&mut net, 0, 1);
    let big = |total: usize| {
        let body = total - msg::JOIN_REQUEST_HEADER_SIZE;
        let mut m = vec![b'j'; body];
        m[..2].copy_from_slice(&(body as u16).to_be_bytes());
        m[2..4].copy_from_slice(&123u16.to_be_bytes());
        m
    };
    let join_msg = |key: u8, total: usize| MemberJoin {
        group_pub_key: group_pub(),
        member_key: member_key(key),
        origin: pid(0),
        relays: vec![],
        join_msg: Some(big(total)),
    };
    // On another peer its join request could never reach the origin: refused at once.
    net.client(1, 1, join_msg(1, max_cadet + 1).to_message());
    let (d, _) = only_decision(&mut net, 1, 1);
    assert_eq!(d.decision.is_admitted, msg::UNDECIDED);
    assert_eq!(net.stat(stat::JOINS_TOO_LARGE), 1);
    assert!(net.timers.is_empty(), "nothing to retry");
    // The largest that fits goes through.
    net.client(1, 2, join_msg(2, max_cadet).to_message());
    assert_eq!(decide_all(&mut net, true), 1);
    // On the origin's peer no CADET is needed.
    net.client(0, 2, join_msg(3, max_cadet + 1).to_message());
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(net.stat(stat::JOINS_TOO_LARGE), 1);
}

#[test]
fn a_join_message_too_large_for_a_join_request_is_refused_not_a_panic() {
    use crate::group::input::ClientMessage;
    use gnunet_service::wire::MAX_MESSAGE_SIZE;
    let mut net = Net::new(1, Config::default());
    start_origin(&mut net, 0, 1);
    // The largest MEMBER_JOIN: its JOIN_REQUEST would be 72 bytes larger than the limit.
    let fixed = msg::MEMBER_JOIN_HEADER_SIZE;
    let body = MAX_MESSAGE_SIZE - fixed;
    let mut m = vec![b'j'; body];
    m[..2].copy_from_slice(&(body as u16).to_be_bytes());
    let join = |key: u8, join_msg: Option<Vec<u8>>| MemberJoin {
        group_pub_key: group_pub(),
        member_key: member_key(key),
        origin: pid(0),
        relays: vec![],
        join_msg,
    };
    let bytes = join(1, Some(m.clone())).try_to_message().unwrap();
    assert_eq!(bytes.len(), MAX_MESSAGE_SIZE);
    // From a client, the decoder already refuses it.
    net.client(0, 2, bytes);
    assert_eq!(net.stat(stat::CLIENTS_DROPPED), 1);
    // Should a MEMBER_JOIN like it reach the node anyway, it is refused, not a panic.
    let now = net.now;
    let decoded = ClientMessage::MemberJoin(join(2, Some(m)));
    net.nodes[0].handle_client_message(now, ClientId(3), decoded);
    while let Some(a) = net.nodes[0].poll_action() {
        net.act(0, a);
    }
    let (d, _) = only_decision(&mut net, 0, 3);
    assert_eq!(d.decision.is_admitted, msg::UNDECIDED);
    assert_eq!(net.stat(stat::JOINS_TOO_LARGE_FOR_REQUEST), 1);
    assert_eq!(
        decide_all(&mut net, true),
        0,
        "the origin never heard of it"
    );
    // The origin goes on: the next member is admitted.
    net.client(0, 4, join(3, None).to_message());
    assert_eq!(decide_all(&mut net, true), 1);
}
