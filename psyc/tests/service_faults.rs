//! `gnunet-service-psyc` on two real GNUnet 0.19.3 peers (master on peer 0, slave on peer 1)
//! when the services it runs on die under a live channel:
//!
//! - psycstore killed with `kill -9` on either peer while the master streams (ARM starts it
//!   again when psyc reconnects): every acknowledged message reaches the slave in order
//!   exactly once, both peers' history holds every message (unanswered FRAGMENT_STOREs are
//!   sent again) and both see the same channel state;
//! - multicast killed (`kill -9`) on the master's peer and stopped and started through ARM on
//!   the slave's peer: psyc starts the origin and joins the member again, messages sent
//!   during and after the outage reach the slave in order exactly once.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::*;
use psyc::client::Client;
use psyc::format::env::{Environment, Operator};
use psyc::msg::history_replay_flags::LOCAL;
use psyc::service::{STAT_MULTICAST_BREAKS, STAT_STORE_CONNECTS};
use testnet::{Testnet, Topology};

/// The psycstore service's program name.
const PSYCSTORE: &str = "gnunet-service-psycstore";

/// A master on peer 0 and an admitted slave on peer 1, and what the master sent.
struct Channel {
    master: Client,
    slave: Client,
    /// Bodies of the messages whose transmit returned, in order.
    sent: Vec<Vec<u8>>,
}

impl Channel {
    fn new(net: &Testnet) -> Self {
        let key = channel_key(7);
        let (master, started) = Client::master_start(
            &psyc_socket(net, 0),
            key.clone(),
            psyc::msg::policy::PRIVATE,
        )
        .expect("master started");
        assert!(started.result >= 0, "MASTER_START_ACK {started:?}");
        let skey = slave_key(8);
        let (slave, joined) = Client::slave_join(
            &psyc_socket(net, 1),
            key.public_key(),
            skey.clone(),
            peer_id(net, 0),
            vec![],
            psyc::msg::slave_join_flags::NONE,
            None,
        )
        .expect("slave joined");
        assert!(joined.result >= 0, "SLAVE_JOIN_ACK {joined:?}");
        let mut ch = Self {
            master,
            slave,
            sent: Vec::new(),
        };
        admit_member(&mut ch.master, &mut ch.slave, &skey, 0);
        ch
    }

    /// The master sends messages `range`; every fifth assigns `_count`. Each returns once
    /// the service acknowledged it.
    /// `progress`, if given, says which message was acknowledged last.
    fn stream(&mut self, range: std::ops::RangeInclusive<u32>, progress: Option<&AtomicU32>) {
        for i in range {
            let body = format!("message {i}").into_bytes();
            let mut env = Environment::new();
            if i.is_multiple_of(5) {
                env.add(Operator::Assign, "_count", i.to_string())
                    .expect("variable name");
            }
            let cancelled = self
                .master
                .transmit("_test", 0, env, body.clone())
                .unwrap_or_else(|e| panic!("transmit of message {i}: {e}"));
            assert!(!cancelled, "message {i} went out cancelled");
            self.sent.push(body);
            if let Some(p) = progress {
                p.store(i, Ordering::SeqCst);
            }
        }
    }

    /// The slave has received exactly the messages sent so far; returns the first one's id.
    fn check_slave(&mut self) -> u64 {
        let first = expect_messages(&mut self.slave, "slave", &self.sent);
        self.sent.clear();
        first
    }
}

#[test]
fn psycstore_killed_while_the_master_streams() {
    let net = start_net(2, Topology::Line);
    let mut ch = Channel::new(&net);
    let mut all = Vec::new();

    // Another thread kills psycstore on peer 0 once message 10 is acknowledged and on peer
    // 1 once message 25 is, while the master goes on transmitting.
    let progress = AtomicU32::new(0);
    std::thread::scope(|s| {
        let killer = s.spawn(|| {
            [(0, 10), (1, 25)].map(|(k, after)| {
                let deadline = Instant::now() + T;
                while progress.load(Ordering::SeqCst) < after && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                (k, kill9(&net, k, PSYCSTORE))
            })
        });
        ch.stream(1..=40, Some(&progress));
        for (k, old) in killer.join().expect("killer thread") {
            wait_restarted(&net, k, PSYCSTORE, old);
        }
    });
    all.extend(ch.sent.iter().cloned());
    let first = ch.check_slave();

    wait_stat(&net, 0, STAT_STORE_CONNECTS, 2);
    wait_stat(&net, 1, STAT_STORE_CONNECTS, 2);
    expect_history(&mut ch.master, "master's peer", first, &all, LOCAL);
    expect_history(&mut ch.slave, "slave's peer", first, &all, LOCAL);
    let on_master = channel_state(&mut ch.master, "master");
    assert_eq!(
        on_master,
        vec![("_count".to_owned(), b"40".to_vec())],
        "master's state"
    );
    assert_eq!(
        channel_state(&mut ch.slave, "slave"),
        on_master,
        "slave's state"
    );
}

#[test]
fn multicast_restarted_under_a_live_channel() {
    let net = start_net(2, Topology::Line);
    let mut ch = Channel::new(&net);
    let mut all = Vec::new();

    // The origin's multicast dies mid-stream: the transmit waits for it.
    ch.stream(1..=10, None);
    let old = kill9(&net, 0, "gnunet-service-multicast");
    ch.stream(11..=20, None);
    wait_restarted(&net, 0, "gnunet-service-multicast", old);
    all.extend(ch.sent.iter().cloned());
    let first = ch.check_slave();
    wait_stat(&net, 0, STAT_MULTICAST_BREAKS, 1);

    // The member's multicast is stopped; messages sent meanwhile reach it after the restart.
    net.peer(1)
        .arm_stop_service("multicast")
        .expect("gnunet-arm -k multicast");
    ch.stream(21..=30, None);
    net.peer(1)
        .arm_start_service("multicast")
        .expect("gnunet-arm -i multicast");
    ch.stream(31..=40, None);
    all.extend(ch.sent.iter().cloned());
    let next = ch.check_slave();
    assert_eq!(
        next,
        first + 20,
        "no message skipped or repeated across phases"
    );
    wait_stat(&net, 1, STAT_MULTICAST_BREAKS, 1);

    expect_history(&mut ch.master, "master's peer", first, &all, LOCAL);
    expect_history(&mut ch.slave, "slave's peer", first, &all, LOCAL);
}
