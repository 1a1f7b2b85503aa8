//! `gnunet-service-multicast` under a real GNUnet 0.19.3 peer, started on demand by ARM: the
//! scenarios of the C `test_multicast.c` (spec §13.1), driven through the service socket, then
//! clients that break the protocol — each is dropped with a log line and a statistic, and the
//! service goes on serving the others.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use common::*;
use gnunet_service::wire::Message;
use multicast::client::{self, Event};
use multicast::msg::{
    Fragment, ReplayError, Request, ADMITTED, FRAGMENT_HEADER_SIZE, FRAGMENT_MAX_PAYLOAD, REFUSED,
};
use testnet::{Testnet, Topology};

#[test]
fn multicast_on_one_peer() {
    let net = start_net(1, Topology::Line, &[]);
    c_test_multicast(&net);
    protocol_breakers_are_dropped_and_the_service_goes_on(&net);
}

/// Fragment `k` of message 1 in the C test, with the cumulative offset of the ones before.
fn c_test_fragments() -> Vec<Vec<u8>> {
    let payloads: Vec<Vec<u8>> = vec![
        b"ABC DEF".to_vec(),
        vec![b'x'; FRAGMENT_MAX_PAYLOAD],
        b"GHI JKL MNO".to_vec(),
        b"PQR STUW XYZ".to_vec(),
    ];
    let mut offset = 0u64;
    payloads
        .into_iter()
        .map(|p| {
            let len = p.len();
            let f = Fragment::unsigned(1, offset, 1, 0, p);
            offset += (FRAGMENT_HEADER_SIZE + len) as u64;
            Message::to_message(&f)
        })
        .collect()
}

fn c_test_multicast(net: &Testnet) {
    let me = peer_id(net, 0);
    let gkey = group_key();
    let group = gkey.public_key();
    let mut origin = origin(net, 0, &gkey);

    // 2. Join refused, with application messages both ways.
    let join_msg = app_message(123, b"let me in!");
    let m1 = member_key();
    let mut member = join(net, 0, group, me, &m1, vec![me], Some(join_msg.clone()));
    let j = next_join_request(&mut origin);
    assert_eq!(j.member_pub_key, m1.public_key());
    assert_eq!(j.join_msg.as_deref(), Some(&join_msg[..]));
    assert_eq!(j.peer, me);
    let response = app_message(456, b"here's the decision");
    origin
        .send(&client::decide(&j, REFUSED, vec![], Some(response.clone())).unwrap())
        .unwrap();
    let d = next_decision(&mut member);
    assert_eq!(d.decision.is_admitted, REFUSED);
    assert!(d.decision.relays.is_empty());
    assert_eq!(d.decision.response.as_deref(), Some(&response[..]));
    part(member);

    // 3. Join admitted, with this peer as relay.
    let m2 = member_key();
    let mut member = join(net, 0, group, me, &m2, vec![me], Some(join_msg.clone()));
    let j = next_join_request(&mut origin);
    assert_eq!(j.member_pub_key, m2.public_key());
    origin
        .send(&client::decide(&j, ADMITTED, vec![me], Some(response.clone())).unwrap())
        .unwrap();
    let d = next_decision(&mut member);
    assert_eq!(d.decision.is_admitted, ADMITTED);
    assert_eq!(d.decision.relays, vec![me]);
    assert_eq!(d.decision.response.as_deref(), Some(&response[..]));

    // 4. Origin to all: four fragments, one of maximum payload; both roles get all four.
    let mut at_origin = Vec::new();
    for f in c_test_fragments() {
        at_origin.extend(fragments(send_acked(&mut origin, &f)));
    }
    while at_origin.len() < 4 {
        at_origin.push(next_fragment(&mut origin, T));
    }
    let at_member: Vec<Fragment> = (0..4).map(|_| next_fragment(&mut member, T)).collect();
    for got in [&at_origin, &at_member] {
        let ids: Vec<u64> = got.iter().map(|f| f.fragment_id).collect();
        assert_eq!(ids, vec![1, 2, 3, 4]);
        assert_eq!(got[0].payload, b"ABC DEF");
        assert_eq!(got[1].payload.len(), FRAGMENT_MAX_PAYLOAD);
        assert_eq!(got[3].payload, b"PQR STUW XYZ");
        assert!(got.iter().all(|f| f.message_id == 1));
    }

    // 5. Member to origin: a request in three fragments, each signed by the member's key.
    let mut offset = 0u64;
    for chunk in [&b"abc def"[..], b"ghi jkl mno", b"pqr stuw xyz"] {
        let q = Request::unsigned(1, offset, 0, chunk.to_vec());
        offset += (multicast::msg::REQUEST_HEADER_SIZE + chunk.len()) as u64;
        send_acked(&mut member, &Message::to_message(&q));
    }
    let reqs: Vec<Request> = (0..3)
        .map(|_| {
            wait_for(&mut origin, "a request", T, |e| match e {
                Event::Request(q) => Some(q),
                _ => None,
            })
        })
        .collect();
    assert!(reqs[0].payload.starts_with(b"abc"));
    assert!(reqs
        .iter()
        .all(|q| q.member_pub_key == m2.public_key() && q.request_id == 1));
    assert_eq!(
        reqs.iter().map(|q| q.fragment_id).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );

    // 6. Replay error: the origin's application sees the request and answers −1.
    member.send(&client::replay_fragment(1234, 2059)).unwrap();
    let r = wait_for(&mut origin, "replay request 1234", T, |e| match e {
        Event::ReplayRequest(r) => Some(r),
        _ => None,
    });
    assert_eq!((r.ids.fragment_id, r.ids.flags), (1234, 2059));
    origin
        .send(&client::replay_error(r.ids, ReplayError::Other(-1)))
        .unwrap();
    let e = wait_for(&mut member, "replay error", T, |e| match e {
        Event::ReplayResponse(r) => Some(r),
        _ => None,
    });
    assert_eq!(e.ids.fragment_id, 1234);
    assert_ne!(e.error_code, ReplayError::Ok);

    // 7. Replay OK: with the origin on this peer its application answers, not the service's
    // cache (C's test_multicast answers with a bare, unsigned 116-byte MESSAGE and expects
    // exactly that back).
    member.send(&client::replay_fragment(1, 2049)).unwrap();
    let r = wait_for(&mut origin, "replay request 1", T, |e| match e {
        Event::ReplayRequest(r) => Some(r),
        _ => None,
    });
    assert_eq!((r.ids.fragment_id, r.ids.flags), (1, 2049));
    let mut bare = Fragment::unsigned(1, 0, 1, 0, Vec::new());
    bare.fragment_id = 1;
    origin
        .send(&client::replay_fragment_response(r.ids, &bare).unwrap())
        .unwrap();
    origin.send(&client::replay_end(r.ids)).unwrap();
    let f = wait_for(&mut member, "replayed fragment 1", T, |e| match e {
        Event::Message(f) => Some(f),
        _ => None,
    });
    assert_eq!((f.fragment_id, f.message_id), (1, 1));
    assert!(
        f.payload.is_empty(),
        "the origin's answer, not the cached fragment"
    );

    // 8. Member part, origin stop.
    part(member);
    part(origin);
    assert!(wait_stat(net, 0, "# fragments originated", 4) >= 4);
}

/// Sends `bytes` on a fresh connection and expects the service to close it.
fn expect_dropped(net: &Testnet, bytes: &[&[u8]]) {
    let mut s = UnixStream::connect(net.peer(0).service_socket("multicast")).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    for b in bytes {
        s.write_all(b).unwrap();
    }
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("expected the service to drop the client: {e}"),
        }
    }
}

fn protocol_breakers_are_dropped_and_the_service_goes_on(net: &Testnet) {
    let me = peer_id(net, 0);
    let gkey = group_key();
    let start = client::origin_start(gkey.clone(), 0);
    let dropped_before = stat(net, 0, "# clients dropped").unwrap_or(0);

    // A fragment over the 64512-byte maximum.
    let oversize = Fragment::unsigned(1, 0, 0, 0, vec![0; 65_000 - FRAGMENT_HEADER_SIZE]);
    expect_dropped(net, &[&start, &Message::to_message(&oversize)]);
    wait_log(net, 0, "exceeds 64512");
    // A message before ORIGIN_START / MEMBER_JOIN.
    expect_dropped(net, &[&client::part()]);
    wait_log(net, 0, "before ORIGIN_START or MEMBER_JOIN");
    // A member sending a group message (the C service aborted here, gap G8).
    let mj = client::member_join(gkey.public_key(), member_key(), me, vec![], None).unwrap();
    let f = Fragment::unsigned(1, 0, 0, 0, b"not yours".to_vec());
    expect_dropped(net, &[&mj, &Message::to_message(&f)]);
    wait_log(net, 0, "not allowed for this client's role");
    // Garbage: a MEMBER_JOIN too short for its fixed part.
    expect_dropped(net, &[&app_message(751, &[0; 20])]);
    wait_stat(net, 0, "# clients dropped", dropped_before + 4);

    // The service still serves a whole group.
    let mut o = origin(net, 0, &gkey);
    let mk = member_key();
    let mut m = join(net, 0, gkey.public_key(), me, &mk, vec![], None);
    admit(&mut o, &mut m, vec![]);
    o.transmit(7, 0, b"still here", T).unwrap();
    let f = next_fragment(&mut m, T);
    assert_eq!(f.payload, b"still here");
    part(m);
    part(o);
}
