//! `gnunet-service-multicast` on two real GNUnet 0.19.3 peers over the C cadet service:
//! origin on one peer, member on the other, both ways round (join decided, messages down,
//! requests up, a replay across CADET); then bad input on channels, sent by a raw CADET client
//! that plays member or origin — each is dropped or its channel closed, with a log line and a
//! statistic, and the group goes on.

mod common;

use std::time::Duration;

use common::*;
use gnunet_service::cadet::{CadetClient, CadetEvent};
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::wire::Message;
use multicast::client::{self, Event};
use multicast::crypto::{GnunetCrypto, GroupCrypto};
use multicast::msg::{
    Decision, Fragment, JoinDecision, JoinRequest, Request, ADMITTED, FRAGMENT_MAX_PAYLOAD,
};
use multicast::port::port_of_group;
use testnet::{Testnet, Topology};

#[test]
fn multicast_on_two_peers() {
    let net = start_net(2, Topology::Line, &[]);
    origin_here_member_there(&net, 0, 1);
    origin_here_member_there(&net, 1, 0);
    bad_input_from_a_member(&net);
    bad_input_from_a_parent(&net);
}

fn origin_here_member_there(net: &Testnet, o: usize, m: usize) {
    let gkey = group_key();
    let group = gkey.public_key();
    let mut origin = origin(net, o, &gkey);
    // Fragment 1 goes out before anyone joined: later only the origin's application may
    // give it to the member. The origin client keeps its own copy to answer with.
    let first = origin
        .transmit(1, 0, b"before you came", T)
        .unwrap()
        .into_iter()
        .find_map(|e| match e {
            Event::Message(f) => Some(f),
            _ => None,
        })
        .expect("the origin client gets its own fragment");

    let mkey = member_key();
    let hello = app_message(123, b"Hi, can I enter?");
    let mut member = join(
        net,
        m,
        group,
        peer_id(net, o),
        &mkey,
        vec![],
        Some(hello.clone()),
    );
    let j = next_join_request(&mut origin);
    assert_eq!(j.peer, peer_id(net, m));
    assert_eq!(j.member_pub_key, mkey.public_key());
    assert_eq!(j.join_msg.as_deref(), Some(&hello[..]));
    assert_eq!(
        j.reserved, 0,
        "origin clients see the request as a C service sent it"
    );
    let come_in = app_message(124, b"Come in!");
    origin
        .send(&client::decide(&j, ADMITTED, vec![], Some(come_in.clone())).unwrap())
        .unwrap();
    let d = next_decision(&mut member);
    assert_eq!(d.decision.is_admitted, ADMITTED);
    assert_eq!(d.decision.response.as_deref(), Some(&come_in[..]));

    // Member → origin.
    member.request(1, b"ping", T).unwrap();
    let q = wait_for(&mut origin, "the ping request", T, |e| match e {
        Event::Request(q) => Some(q),
        _ => None,
    });
    assert_eq!(q.payload, b"ping");
    assert_eq!(q.member_pub_key, mkey.public_key());

    // Origin → member.
    origin.transmit(2, 0, b"pong", T).unwrap();
    let f = next_fragment(&mut member, T);
    assert_eq!((f.fragment_id, f.payload.as_slice()), (2, &b"pong"[..]));
    assert!(GnunetCrypto.verify_fragment(&GnunetCrypto.group_verifier(&group), &f));

    // A fragment too large for CADET reaches local clients only and is counted (gap G2);
    // the next one still crosses.
    let too_large_before = stat(net, o, "# fragments too large for CADET").unwrap_or(0);
    let big = Fragment::unsigned(3, 0, 0, 0, vec![7; FRAGMENT_MAX_PAYLOAD]);
    send_acked(&mut origin, &big.to_message());
    origin.transmit(4, 0, b"after the big one", T).unwrap();
    let f = next_fragment(&mut member, T);
    assert_eq!(f.payload, b"after the big one");
    wait_stat(
        net,
        o,
        "# fragments too large for CADET",
        too_large_before + 1,
    );

    // Fragment 2 came after the admission: the member's own peer answers from its cache.
    let cached_before = stat(net, m, "# replays answered from cache").unwrap_or(0);
    member.send(&client::replay_fragment(2, 0)).unwrap();
    let f = next_fragment(&mut member, T);
    assert_eq!((f.fragment_id, f.payload.as_slice()), (2, &b"pong"[..]));
    wait_stat(net, m, "# replays answered from cache", cached_before + 1);

    // Fragment 1 predates the admission: the origin peer has it cached but asks its
    // application, naming the member, and the answer crosses CADET.
    member.send(&client::replay_fragment(1, 0)).unwrap();
    let r = wait_for(
        &mut origin,
        "the replay request for fragment 1",
        T,
        |e| match e {
            Event::ReplayRequest(r) => Some(r),
            _ => None,
        },
    );
    assert_eq!(
        (r.ids.fragment_id, r.member_pub_key),
        (1, mkey.public_key())
    );
    origin
        .send(&client::replay_fragment_response(r.ids, &first).unwrap())
        .unwrap();
    origin.send(&client::replay_end(r.ids)).unwrap();
    let f = next_fragment(&mut member, T);
    assert_eq!(
        (f.fragment_id, f.payload.as_slice()),
        (1, &b"before you came"[..])
    );

    part(member);
    part(origin);
}

fn signed_join(
    group: eddsa::PublicKey,
    key: &ecdsa::PrivateKey,
    peer: gnunet_service::peer::PeerIdentity,
) -> JoinRequest {
    let mut j = JoinRequest::unsigned(group, key.public_key(), peer, None);
    GnunetCrypto.sign_join(key, &mut j);
    j
}

/// A raw CADET channel from peer `from` to the group's port on peer `to`.
fn raw_channel(
    net: &Testnet,
    from: usize,
    to: usize,
    group: &eddsa::PublicKey,
) -> (CadetClient, u32) {
    let mut c = CadetClient::connect_path(&net.peer(from).service_socket("cadet")).unwrap();
    let ccn = c
        .create_channel(peer_id(net, to), port_of_group(group))
        .unwrap();
    c.wait_ready(ccn, T).unwrap();
    (c, ccn)
}

/// Waits for the far end to destroy `ccn`.
fn expect_destroyed(c: &mut CadetClient, ccn: u32, what: &str) {
    loop {
        match c.next_event(T) {
            Ok(CadetEvent::Destroyed { ccn: d }) if d == ccn => return,
            Ok(CadetEvent::Data { ccn: d, .. }) => c.receive_done(d).unwrap(),
            Ok(_) => {}
            Err(e) => panic!("channel not closed after {what}: {e}"),
        }
    }
}

/// A raw member on peer 1 misbehaves towards our origin on peer 0; a real member of the same
/// group keeps getting messages.
fn bad_input_from_a_member(net: &Testnet) {
    let gkey = group_key();
    let group = gkey.public_key();
    let mut origin = origin(net, 0, &gkey);
    let mkey = member_key();
    let mut member = join(net, 1, group, peer_id(net, 0), &mkey, vec![], None);
    admit(&mut origin, &mut member, vec![]);

    // A join request whose signature does not match: channel closed.
    let bad_sig_before = stat(net, 0, "# invalid signatures").unwrap_or(0);
    let (mut c, ccn) = raw_channel(net, 1, 0, &group);
    let mut j = signed_join(group, &member_key(), peer_id(net, 1));
    j.signature.0[40] ^= 0x55;
    c.send(ccn, &j.to_message(), T).unwrap();
    expect_destroyed(&mut c, ccn, "a forged join signature");
    wait_stat(net, 0, "# invalid signatures", bad_sig_before + 1);
    wait_log(net, 0, "join request with a bad signature");

    // A request from a member that asked to join but was not admitted: dropped.
    let unadmitted_before = stat(net, 0, "# messages from unadmitted members").unwrap_or(0);
    let (mut c, ccn) = raw_channel(net, 1, 0, &group);
    let intruder = member_key();
    c.send(
        ccn,
        &signed_join(group, &intruder, peer_id(net, 1)).to_message(),
        T,
    )
    .unwrap();
    let j = next_join_request(&mut origin);
    assert_eq!(j.member_pub_key, intruder.public_key());
    let mut q = Request::unsigned(9, 0, 0, b"let me talk".to_vec());
    q.fragment_id = 1;
    GnunetCrypto.sign_request(&intruder, &mut q);
    c.send(ccn, &q.to_message(), T).unwrap();
    wait_stat(
        net,
        0,
        "# messages from unadmitted members",
        unadmitted_before + 1,
    );
    wait_log(net, 0, "request from a member not admitted on this channel");

    // Garbage: a JOIN_REQUEST far too short for its fixed part. Channel closed.
    let closed_before = stat(net, 0, "# channels closed for bad input").unwrap_or(0);
    c.send(ccn, &app_message(752, &[0xee; 12]), T).unwrap();
    expect_destroyed(&mut c, ccn, "a truncated join request");
    wait_stat(net, 0, "# channels closed for bad input", closed_before + 1);
    wait_log(net, 0, "malformed message");

    // An unknown message type on a channel: closed as well.
    let (mut c, ccn) = raw_channel(net, 1, 0, &group);
    c.send(ccn, &app_message(4242, b"what is this"), T).unwrap();
    expect_destroyed(&mut c, ccn, "an unknown message type");
    wait_stat(net, 0, "# channels closed for bad input", closed_before + 2);

    // The group goes on; the intruder's request never reached the origin's client.
    origin.transmit(1, 0, b"still going", T).unwrap();
    let f = next_fragment(&mut member, T);
    assert_eq!(f.payload, b"still going");
    member.request(2, b"and me", T).unwrap();
    let q = wait_for(&mut origin, "the real member's request", T, |e| match e {
        Event::Request(q) => Some(q),
        _ => None,
    });
    assert_eq!(q.member_pub_key, mkey.public_key());
    assert_eq!(q.payload, b"and me");
    part(member);
    part(origin);
}

/// A raw origin on peer 1 (a CADET port of its own) admits our member on peer 0 and then sends
/// a fragment with a forged signature and one with a valid one.
fn bad_input_from_a_parent(net: &Testnet) {
    let gkey = group_key();
    let group = gkey.public_key();
    let mut fake = CadetClient::connect_path(&net.peer(1).service_socket("cadet")).unwrap();
    fake.open_port(port_of_group(&group)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mkey = member_key();
    let mut member = join(net, 0, group, peer_id(net, 1), &mkey, vec![], None);
    let mut ccn = None;
    let join = loop {
        match fake.next_event(T).expect("the member's channel and join") {
            CadetEvent::Incoming { ccn: c, peer, .. } => {
                assert_eq!(peer, peer_id(net, 0));
                ccn = Some(c);
            }
            CadetEvent::Data { ccn: c, payload } => {
                fake.receive_done(c).unwrap();
                break JoinRequest::from_message(&payload).expect("a join request");
            }
            CadetEvent::Destroyed { .. } => panic!("member closed its channel"),
        }
    };
    let ccn = ccn.expect("incoming channel");
    assert!(GnunetCrypto.verify_join(&join));
    let decision = JoinDecision {
        peer: join.peer,
        member_pub_key: join.member_pub_key,
        decision: Decision {
            is_admitted: ADMITTED,
            relays: vec![],
            response: None,
        },
        admitted_after: None,
    };
    fake.send(ccn, &decision.to_message(), T).unwrap();
    next_decision(&mut member);

    let bad_sig_before = stat(net, 0, "# invalid signatures").unwrap_or(0);
    let mut forged = Fragment::unsigned(1, 0, 0, 0, b"forged".to_vec());
    forged.fragment_id = 1;
    GnunetCrypto.sign_fragment(&GnunetCrypto.group_signer(&gkey), &mut forged);
    forged.payload[0] ^= 1;
    fake.send(ccn, &forged.to_message(), T).unwrap();
    wait_stat(net, 0, "# invalid signatures", bad_sig_before + 1);
    wait_log(net, 0, "fragment with a bad group signature dropped");

    let mut good = Fragment::unsigned(2, 0, 0, 0, b"genuine".to_vec());
    good.fragment_id = 2;
    GnunetCrypto.sign_fragment(&GnunetCrypto.group_signer(&gkey), &mut good);
    fake.send(ccn, &good.to_message(), T).unwrap();
    let f = next_fragment(&mut member, T);
    assert_eq!(
        f.payload, b"genuine",
        "the forged fragment never reached the client"
    );
    assert_eq!(f.fragment_offset, 0);
    part(member);
}
