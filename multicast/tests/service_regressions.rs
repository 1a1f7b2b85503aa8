//! `gnunet-service-multicast` on two real GNUnet 0.19.3 peers, against what an outside probe
//! found a local client could do to it: crash it with a join decision too large for our
//! admission mark, make it sign joins with a member key no peer accepts (or a join request
//! too large for CADET) and retry them forever without telling the client, or, as a member
//! never admitted, answer another member's replay request with an unsigned fragment. Each time the service stays up and goes
//! on serving the other clients.

mod common;

use common::*;
use gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
use gnunet_service::client::ClientError;
use gnunet_service::crypto::ecdsa;
use gnunet_service::wire::{Message, MAX_MESSAGE_SIZE};
use multicast::client::{self, Event};
use multicast::msg::{
    Fragment, ADMITTED, JOIN_DECISION_HEADER_SIZE, JOIN_REQUEST_HEADER_SIZE, UNDECIDED,
};
use testnet::{Testnet, Topology};

#[test]
fn local_clients_cannot_crash_or_fool_the_service() {
    let net = start_net(2, Topology::Line, &[]);
    an_oversized_join_decision_reaches_the_joiner_as_undecided(&net);
    joins_that_cannot_succeed_are_refused_at_once(&net);
    only_admitted_members_answer_replays(&net);
}

/// An application join response that makes the JOIN_DECISION carrying it `total` bytes long.
fn response_for_decision_of(total: usize) -> Vec<u8> {
    app_message(456, &vec![b'r'; total - JOIN_DECISION_HEADER_SIZE - 4])
}

fn an_oversized_join_decision_reaches_the_joiner_as_undecided(net: &Testnet) {
    let gkey = group_key();
    let group = gkey.public_key();
    let mut origin = origin(net, 0, &gkey);
    let origin_peer = peer_id(net, 0);

    // The largest decision a client can send, admitting a member on the other peer: the
    // service used to add its 8-byte admission mark and abort on the size assertion.
    let mkey = member_key();
    let mut member = join(net, 1, group, origin_peer, &mkey, vec![], None);
    let j = next_join_request(&mut origin);
    let response = response_for_decision_of(MAX_MESSAGE_SIZE);
    let decision = client::decide(&j, ADMITTED, vec![], Some(response)).unwrap();
    assert_eq!(decision.len(), MAX_MESSAGE_SIZE);
    origin.send(&decision).unwrap();
    let d = next_decision(&mut member);
    assert_eq!(
        d.decision.is_admitted, UNDECIDED,
        "CADET cannot carry it: the joiner is told the origin could not answer"
    );
    wait_stat(net, 0, "# join decisions too large for CADET", 1);
    wait_log(net, 0, "join decision too large for CADET");

    // The service is still up: the same origin client admits the next member and sends.
    let mkey2 = member_key();
    let mut member2 = join(net, 1, group, origin_peer, &mkey2, vec![], None);
    admit(&mut origin, &mut member2, vec![]);
    origin.transmit(1, 0, b"still here", T).unwrap();
    assert_eq!(next_fragment(&mut member2, T).payload, b"still here");
    part(member2);
    part(member);
    part(origin);
}

fn joins_that_cannot_succeed_are_refused_at_once(net: &Testnet) {
    let gkey = group_key();
    let group = gkey.public_key();
    let mut origin = origin(net, 0, &gkey);
    let origin_peer = peer_id(net, 0);

    // Top bit set: libgnunetutil signs with a scalar that does not match the public key, so
    // no peer would ever accept the join. The client is told at once, on either peer.
    for k in [0, 1] {
        let mut bad = member_key();
        bad.0[31] |= 0x80;
        let mut member = join(net, k, group, origin_peer, &bad, vec![], None);
        let d = next_decision(&mut member);
        assert_eq!(d.decision.is_admitted, UNDECIDED);
        assert_eq!(d.peer, peer_id(net, k));
        part(member);
    }
    wait_stat(net, 1, "# joins with invalid member keys", 1);
    // A key with its low bits set is refused as well.
    let mut member = join(
        net,
        1,
        group,
        origin_peer,
        &ecdsa::PrivateKey([7; 32]),
        vec![],
        None,
    );
    assert_eq!(next_decision(&mut member).decision.is_admitted, UNDECIDED);
    part(member);
    // So is a join whose request could not cross CADET to the origin.
    let too_big = app_message(
        123,
        &vec![b'j'; MAX_CADET_MESSAGE_SIZE - JOIN_REQUEST_HEADER_SIZE - 3],
    );
    let mut member = join(
        net,
        1,
        group,
        origin_peer,
        &member_key(),
        vec![],
        Some(too_big),
    );
    assert_eq!(next_decision(&mut member).decision.is_admitted, UNDECIDED);
    wait_stat(net, 1, "# joins too large for CADET", 1);
    part(member);

    // The origin never heard of them: the next join request it gets is a valid member's.
    let good = member_key();
    let mut member = join(net, 1, group, origin_peer, &good, vec![], None);
    let j = admit(&mut origin, &mut member, vec![]);
    assert_eq!(j.member_pub_key, good.public_key());
    part(member);
    part(origin);
}

fn only_admitted_members_answer_replays(net: &Testnet) {
    let gkey = group_key();
    let group = gkey.public_key();
    let me = peer_id(net, 0);
    let mut origin = origin(net, 0, &gkey);
    let ka = member_key();
    let mut a = join(net, 0, group, me, &ka, vec![], None);
    admit(&mut origin, &mut a, vec![]);

    // Member B asks to join and is left waiting.
    let kb = member_key();
    let mut b = join(net, 0, group, me, &kb, vec![], None);
    assert_eq!(
        next_join_request(&mut origin).member_pub_key,
        kb.public_key()
    );

    // A asks the origin's application for fragment 1234; B answers in its place.
    a.send(&client::replay_fragment(1234, 0)).unwrap();
    let r = wait_for(&mut origin, "replay request 1234", T, |e| match e {
        Event::ReplayRequest(r) => Some(r),
        _ => None,
    });
    let mut forged = Fragment::unsigned(1, 0, 1, 0, b"forged".to_vec());
    forged.fragment_id = 1234;
    b.send(&client::replay_fragment_response(r.ids, &forged).unwrap())
        .unwrap();
    match b.next_event(Some(T)) {
        Err(client::Error::Service(ClientError::Closed | ClientError::Io(_))) => {}
        other => panic!("a member never admitted is dropped for answering, got {other:?}"),
    }
    wait_log(net, 0, "from a member that is not admitted");

    // The origin's own answer (bare, as C's test_multicast sends it) is the one A gets.
    let mut real = Fragment::unsigned(1, 0, 1, 0, b"real".to_vec());
    real.fragment_id = 1234;
    origin
        .send(&client::replay_fragment_response(r.ids, &real).unwrap())
        .unwrap();
    origin.send(&client::replay_end(r.ids)).unwrap();
    let f = wait_for(&mut a, "the replayed fragment", T, |e| match e {
        Event::Message(f) => Some(f),
        _ => None,
    });
    assert_eq!(f.payload, b"real");
    assert_eq!(Message::to_message(&f), Message::to_message(&real));
    part(a);
    part(origin);
}
