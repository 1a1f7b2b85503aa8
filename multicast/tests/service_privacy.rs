//! The privacy knobs of `gnunet-service-multicast` on three real peers in a chain (origin on
//! peer 0, relay member on peer 1, member on peer 2 below it): a relay's per-hop delay
//! (`[secushare] HOP_DELAY`) holds each forwarded fragment without reordering them, a
//! relay's answer from its replay cache waits for `RESPONSE_DELAY`, and with
//! `REPLAY_CACHE = NO` replays reach the origin's application. The knobs are changed by
//! rewriting a peer's configuration while its service runs (it re-reads the file for the
//! next message).

mod common;

use std::time::{Duration, Instant};

use common::*;
use multicast::client::{self, Client, Event};
use multicast::msg::Fragment;
use testnet::{Testnet, Topology};

/// A delay whose draws are all its cap (the mean is huge): `HOP_DELAY` / `RESPONSE_DELAY`
/// options for exactly `ms` milliseconds.
fn always(option: &str, ms: u64) -> String {
    format!("{option} = 100000 s\n{option}_CAP = {ms} ms\n")
}

/// Writes peer `k`'s configuration as the harness made it plus a `[secushare]` section.
fn set_knobs(net: &Testnet, originals: &[String], k: usize, knobs: &str) {
    let text = format!("{}\n[secushare]\n{knobs}", originals[k]);
    std::fs::write(net.peer(k).config_path(), text).expect("rewrite the config");
    std::thread::sleep(Duration::from_millis(20));
}

/// The origin sends `data` as message `id`; how long until member `m` has it.
fn one_way(origin: &mut Client, m: &mut Client, id: u64, data: &[u8]) -> (Duration, Fragment) {
    let t0 = Instant::now();
    origin.transmit(id, 0, data, T).unwrap();
    let f = next_fragment(m, T);
    (t0.elapsed(), f)
}

#[test]
fn hop_delays_hold_forwards_in_order_and_the_replay_cache_knob_sends_replays_to_the_origin() {
    let net = start_net(3, Topology::Line, &[("MAX_CHILDREN", "1")]);
    let originals: Vec<String> = (0..3)
        .map(|k| std::fs::read_to_string(net.peer(k).config_path()).unwrap())
        .collect();
    let gkey = group_key();
    let mut origin = origin(&net, 0, &gkey);
    let mut members = Vec::new();
    for k in 1..=2 {
        let mut m = join(
            &net,
            k,
            gkey.public_key(),
            peer_id(&net, 0),
            &member_key(),
            vec![],
            None,
        );
        admit(&mut origin, &mut m, vec![]);
        members.push(m);
    }
    wait_stat(&net, 0, "# joins redirected", 1);
    let (m1, m2) = members.split_at_mut(1);
    let (m1, m2) = (&mut m1[0], &mut m2[0]);

    // No hop delay (the harness's convenient level): the second hop is quick.
    let (plain, f) = one_way(&mut origin, m2, 1, b"one");
    assert_eq!(f.hop_counter, 2, "peer 2 hangs below peer 1");
    next_fragment(m1, T);
    eprintln!("two hops without delay: {plain:?}");

    // Peer 1 relays with a 600 ms hop delay; its own client still gets fragments at once.
    set_knobs(&net, &originals, 1, &always("HOP_DELAY", 600));
    let t0 = Instant::now();
    for id in 2..=6u64 {
        origin
            .transmit(id, 0, format!("msg {id}").as_bytes(), T)
            .unwrap();
    }
    let mut signed = Vec::new();
    for id in 2..=6u64 {
        let f = next_fragment(m1, T);
        assert_eq!(f.message_id, id);
        signed.push(f);
    }
    let at_relay = t0.elapsed();
    let mut order = Vec::new();
    for _ in 2..=6u64 {
        order.push(next_fragment(m2, T).message_id);
    }
    let below = t0.elapsed();
    eprintln!("relay's client after {at_relay:?}, member below after {below:?}");
    assert_eq!(order, vec![2, 3, 4, 5, 6], "the hop delay keeps the order");
    assert!(at_relay < Duration::from_millis(600), "{at_relay:?}");
    assert!(below >= Duration::from_millis(600), "{below:?}");
    set_knobs(&net, &originals, 1, "");
    let (after, _) = one_way(&mut origin, m2, 7, b"seven");
    next_fragment(m1, T);
    assert!(
        after < Duration::from_millis(600),
        "hop delay off again: {after:?}"
    );

    // Replays. Peer 2 keeps no cache; peer 1 answers from its own after 700 ms.
    set_knobs(&net, &originals, 2, "REPLAY_CACHE = NO\n");
    set_knobs(&net, &originals, 1, &always("RESPONSE_DELAY", 700));
    let cached = stat(&net, 1, "# replays answered from cache").unwrap_or(0);
    let t0 = Instant::now();
    m2.send(&client::replay_fragment(3, 0)).unwrap();
    let f = next_fragment(m2, T);
    let took = t0.elapsed();
    eprintln!("replay from the relay's cache after {took:?}");
    assert_eq!(f.message_id, 3);
    assert!(took >= Duration::from_millis(700), "{took:?}");
    wait_stat(&net, 1, "# replays answered from cache", cached + 1);

    // No replay caches anywhere: the origin's application is asked, and its answer arrives.
    for k in 0..3 {
        set_knobs(&net, &originals, k, "REPLAY_CACHE = NO\n");
    }
    m2.send(&client::replay_fragment(4, 0)).unwrap();
    let r = wait_for(&mut origin, "the replay request", T, |e| match e {
        Event::ReplayRequest(r) => Some(r),
        _ => None,
    });
    assert_eq!(r.ids.fragment_id, 4);
    // The application answers with the fragment as the group signed it (from its store).
    let answer = signed
        .iter()
        .find(|f| f.fragment_id == 4)
        .expect("fragment 4");
    origin
        .send(&client::replay_fragment_response(r.ids, answer).unwrap())
        .unwrap();
    origin.send(&client::replay_end(r.ids)).unwrap();
    let outcome = wait_for(m2, "the replay's outcome", T, |e| match e {
        Event::Message(f) => Some(Ok(f.fragment_id)),
        Event::ReplayResponse(r) => Some(Err(r.error_code)),
        _ => None,
    });
    assert_eq!(outcome, Ok(4), "the origin's answer reaches the member");
    assert_eq!(
        stat(&net, 1, "# replays answered from cache").unwrap_or(0),
        cached + 1,
        "no cache answered"
    );
}
