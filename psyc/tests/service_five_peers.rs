//! `gnunet-service-psyc` on five real GNUnet 0.19.3 peers in a line, with multicast's
//! `MAX_CHILDREN = 1` so the multicast tree is a chain: the master on peer 0 sends 50
//! messages (some changing channel state) before anyone joins; a plain multicast member on
//! peer 1 joins first and becomes the relay below the origin; then slaves on peers 2, 3 and 4
//! join late (each redirected below the one before), are admitted by the master's
//! application, which stores their membership, and get every later message in order exactly
//! once, while the relay on peer 1 is stopped mid-stream. Each slave can replay the messages
//! from before its join from the master (REMOTE history) and sees the master's channel state.

mod common;

use std::time::Instant;

use common::*;
use gnunet_service::config::Config;
use gnunet_service::crypto::ecdsa;
use psyc::client::Client;
use psyc::format::env::{Environment, Operator};
use psyc::msg::history_replay_flags::{LOCAL, REMOTE};
use testnet::{Testnet, Topology};

/// Messages sent before any slave joins, and after.
const EARLY: u32 = 50;
const LATE: u32 = 30;
/// The relay is stopped after this many of the late messages.
const STOP_AFTER: u32 = 10;

#[test]
fn late_slaves_on_a_chain_of_five_peers_lose_nothing_when_a_relay_stops() {
    let started = Instant::now();
    let net = start_net_with(5, Topology::Line, &[("MAX_CHILDREN", "1")]);
    let channel = channel_key(21);
    let (mut master, _) = Client::master_start(
        &psyc_socket(&net, 0),
        channel.clone(),
        psyc::msg::policy::PRIVATE,
    )
    .expect("master started");

    let early: Vec<Vec<u8>> = (1..=EARLY).map(|i| send(&mut master, i)).collect();

    // The relay: a plain multicast member on peer 1, admitted by the master's application.
    let relay_key = slave_key(30);
    let mut relay = multicast::client::Client::connect(
        &Config::load(Some(net.peer(1).config_path())).expect("peer 1 config"),
        T,
    )
    .expect("multicast on peer 1");
    relay
        .send(
            &multicast::client::member_join(
                channel.public_key(),
                relay_key.clone(),
                peer_id(&net, 0),
                vec![],
                None,
            )
            .expect("MEMBER_JOIN"),
        )
        .expect("send MEMBER_JOIN");
    admit_join_request(&mut master, relay_key.public_key());
    loop {
        match relay.next_event(Some(T)).expect("the relay's decision") {
            multicast::client::Event::JoinDecision(d) => {
                assert_eq!(d.decision.is_admitted, 1, "relay admitted");
                break;
            }
            _ => continue,
        }
    }

    // Three late slaves; the last one names peer 1 as its relay.
    let mut slaves: Vec<(usize, Client)> = Vec::new();
    for (k, seed) in [(2, 32), (3, 33), (4, 34)] {
        let relays = if k == 4 {
            vec![peer_id(&net, 1)]
        } else {
            vec![]
        };
        let key = slave_key(seed);
        let mut slave = join(&net, k, &channel.public_key(), &key, relays);
        // The membership counts from message 1: the slave may replay the history.
        admit_member(&mut master, &mut slave, &key, 1);
        slaves.push((k, slave));
    }
    // The relay on peer 1 serves a child (the chain goes through it).
    net.peer(1)
        .wait_statistic("multicast", "# children", 1, T)
        .unwrap_or_else(|v| panic!("peer 1 relays no child ({v})"));
    eprintln!(
        "children on peers 0..=4: {:?}",
        multicast_stats(&net, "# children", 0..=4)
    );

    let mut late = Vec::new();
    for i in EARLY + 1..=EARLY + LATE {
        if i == EARLY + STOP_AFTER + 1 {
            net.peer(1)
                .arm_stop_service("multicast")
                .expect("stop the relay's multicast");
            relay_client_gone(&mut relay);
        }
        late.push(send(&mut master, i));
    }

    for (k, slave) in &mut slaves {
        let first = expect_messages(slave, &format!("slave on peer {k}"), &late);
        assert_eq!(
            first,
            u64::from(EARLY) + 1,
            "slave on peer {k} starts after its join"
        );
    }
    let lost = multicast_stats(&net, "# parents lost", 2..=4);
    assert!(
        lost.iter().sum::<u64>() >= 1,
        "a slave's peer lost its parent when the relay stopped: {lost:?}"
    );
    eprintln!(
        "relay on peer 1 stopped: parents lost on peers 2..=4 {lost:?}, fragments pulled {:?}",
        multicast_stats(&net, "# missing fragments requested", 2..=4)
    );

    // History: the master's peer holds everything; each slave's own peer the late messages;
    // the early ones come from the master.
    let all: Vec<Vec<u8>> = early.iter().chain(&late).cloned().collect();
    expect_history(&mut master, "master", 1, &all, LOCAL);
    for (k, slave) in &mut slaves {
        let name = format!("slave on peer {k}");
        expect_history(slave, &name, u64::from(EARLY) + 1, &late, LOCAL);
        expect_history(slave, &name, 1, &early, REMOTE);
    }

    // State: the master's is the last value of each variable.
    let want_state = vec![
        (
            "_count".to_owned(),
            format!("{}", EARLY + LATE).into_bytes(),
        ),
        ("_topic".to_owned(), b"topic 77".to_vec()),
    ];
    assert_eq!(
        channel_state(&mut master, "master"),
        want_state,
        "master's state"
    );
    for (k, slave) in &mut slaves {
        let name = format!("slave on peer {k}");
        let state = channel_state(slave, &name);
        assert_eq!(state, want_state, "{name}: the master's state");
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
}

/// Message `i`: body `message i`; every fifth sets `_count` to `i`, every seventh `_topic`
/// to `topic i`. Returns the body once the master's transmit returned.
fn send(master: &mut Client, i: u32) -> Vec<u8> {
    let body = format!("message {i}").into_bytes();
    let mut env = Environment::new();
    if i.is_multiple_of(5) {
        env.add(Operator::Assign, "_count", i.to_string())
            .expect("name");
    }
    if i.is_multiple_of(7) {
        env.add(Operator::Assign, "_topic", format!("topic {i}"))
            .expect("name");
    }
    let cancelled = master
        .transmit("_test", 0, env, body.clone())
        .unwrap_or_else(|e| panic!("transmit of message {i}: {e}"));
    assert!(!cancelled, "message {i} went out cancelled");
    body
}

/// A slave on peer `k` of the channel whose master is on peer 0, SLAVE_JOIN acknowledged.
fn join(
    net: &Testnet,
    k: usize,
    channel: &gnunet_service::crypto::eddsa::PublicKey,
    key: &ecdsa::PrivateKey,
    relays: Vec<gnunet_service::peer::PeerIdentity>,
) -> Client {
    let (slave, joined) = Client::slave_join(
        &psyc_socket(net, k),
        *channel,
        key.clone(),
        peer_id(net, 0),
        relays,
        psyc::msg::slave_join_flags::NONE,
        None,
    )
    .unwrap_or_else(|e| panic!("slave on peer {k}: {e}"));
    assert!(joined.result >= 0, "slave on peer {k}: {joined:?}");
    slave
}

/// The relay's client sees its service go away (whatever it still had queued is read first).
fn relay_client_gone(relay: &mut multicast::client::Client) {
    while relay
        .next_event(Some(std::time::Duration::from_secs(5)))
        .is_ok()
    {}
}

/// Statistic `name` of multicast on each of `peers`.
fn multicast_stats(net: &Testnet, name: &str, peers: std::ops::RangeInclusive<usize>) -> Vec<u64> {
    peers
        .map(|k| net.peer(k).statistic("multicast", name).unwrap_or(0))
        .collect()
}
