//! `gnunet-service-multicast` on five real GNUnet 0.19.3 peers: an origin and four members
//! whose services form a relay tree (small `MAX_CHILDREN` forces relaying). Messages reach
//! every member through relays; a relay's service is stopped mid-stream, its children
//! re-attach elsewhere, replay the gap, and no message is lost.
//!
//! Two underlays: a line of peers (with `MAX_CHILDREN = 1` the tree is a chain 0→1→2→3→4)
//! and a full mesh where the members all join through the origin (`MAX_CHILDREN = 2`: the
//! origin takes two, the others are redirected below them, a star of stars).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use multicast::client::{Client, Event};
use testnet::{Testnet, Topology};

/// Messages in the stream; the relay is stopped after `STOP_AFTER` of them.
const MESSAGES: u64 = 60;
const STOP_AFTER: u64 = 20;

/// Both underlays in one test, one after the other, so only five peers run at a time.
#[test]
fn relay_trees_on_five_peers() {
    relay_tree_on_a_line_of_five_peers();
    relay_tree_on_a_mesh_of_five_peers();
}

fn relay_tree_on_a_line_of_five_peers() {
    let net = start_net(5, Topology::Line, &[("MAX_CHILDREN", "1")]);
    let mut members = build_tree(&net);
    // The chain: peer k is k hops from the origin.
    let hops = hop_counts(&mut members.1, &mut members.0);
    assert_eq!(
        hops,
        BTreeMap::from([(1, 1), (2, 2), (3, 3), (4, 4)]),
        "chain of relays"
    );
    stream_and_stop_relay(&net, members, 2);
}

fn relay_tree_on_a_mesh_of_five_peers() {
    let net = start_net(5, Topology::Mesh, &[("MAX_CHILDREN", "2")]);
    let mut members = build_tree(&net);
    let hops = hop_counts(&mut members.1, &mut members.0);
    assert_eq!(hops.values().filter(|h| **h == 1).count(), 2, "{hops:?}");
    assert_eq!(hops.values().filter(|h| **h == 2).count(), 2, "{hops:?}");
    // Stop a relay that has a child (statistics reach the service within a flush period).
    std::thread::sleep(Duration::from_millis(500));
    let relay = (1..=4)
        .find(|k| hops[k] == 1 && stat(&net, *k, "# children").unwrap_or(0) > 0)
        .expect("a first-level member relays");
    stream_and_stop_relay(&net, members, relay);
}

/// Origin on peer 0, members on peers 1..=4 joining in order; every join is admitted by the
/// origin's client, wherever in the tree it enters.
fn build_tree(net: &Testnet) -> (Client, BTreeMap<usize, Client>) {
    let gkey = group_key();
    let mut origin = origin(net, 0, &gkey);
    let mut members = BTreeMap::new();
    for k in 1..=4 {
        let mut m = join(
            net,
            k,
            gkey.public_key(),
            peer_id(net, 0),
            &member_key(),
            vec![],
            Some(app_message(123, format!("Hi, I am peer #{k}").as_bytes())),
        );
        let j = admit(&mut origin, &mut m, vec![]);
        assert_eq!(j.peer, peer_id(net, k));
        members.insert(k, m);
    }
    wait_stat(net, 0, "# joins redirected", 2);
    (origin, members)
}

/// Sends message 0 and returns the hop counter each member saw it with.
fn hop_counts(members: &mut BTreeMap<usize, Client>, origin: &mut Client) -> BTreeMap<usize, u32> {
    origin.transmit(0, 0, b"where are you?", T).unwrap();
    members
        .iter_mut()
        .map(|(k, m)| {
            let f = next_fragment(m, T);
            assert_eq!(f.payload, b"where are you?");
            (*k, f.hop_counter)
        })
        .collect()
}

fn stream_and_stop_relay(
    net: &Testnet,
    (mut origin, mut members): (Client, BTreeMap<usize, Client>),
    relay: usize,
) {
    let started = Instant::now();
    for id in 1..=MESSAGES {
        if id == STOP_AFTER + 1 {
            net.peer(relay).arm_stop_service("multicast").unwrap();
            // The stopped member's client is gone with its service.
            members.remove(&relay);
        }
        let body = format!("message {id}");
        origin.transmit(id, 0, body.as_bytes(), T).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    for (k, m) in members.iter_mut() {
        let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while (1..=MESSAGES).any(|id| !seen.contains_key(&id)) {
            let left = deadline.saturating_duration_since(Instant::now());
            let missing: Vec<u64> = (1..=MESSAGES).filter(|id| !seen.contains_key(id)).collect();
            match m.next_event(Some(left.max(Duration::from_millis(1)))) {
                Ok(Event::Message(f)) => {
                    let body = format!("message {}", f.message_id);
                    assert_eq!(f.payload, body.as_bytes());
                    *seen.entry(f.message_id).or_insert(0) += 1;
                }
                Ok(_) => {}
                Err(e) => panic!("member on peer {k} is missing {missing:?}: {e}"),
            }
        }
        let duplicates: u32 = seen.values().map(|n| n - 1).sum();
        eprintln!("peer {k}: all {MESSAGES} messages, {duplicates} duplicate deliveries");
    }
    let lost_parents = |net: &Testnet| -> u64 {
        (1..=4)
            .filter(|k| *k != relay)
            .map(|k| stat(net, k, "# parents lost").unwrap_or(0))
            .sum()
    };
    let deadline = Instant::now() + T;
    while lost_parents(net) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let lost_parents = lost_parents(net);
    assert!(lost_parents >= 1, "some member lost its parent");
    let replayed: u64 = (1..=4)
        .filter(|k| *k != relay)
        .map(|k| stat(net, k, "# missing fragments requested").unwrap_or(0))
        .sum();
    eprintln!(
        "relay on peer {relay} stopped; {lost_parents} parents lost, {replayed} fragments pulled, \
         done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
