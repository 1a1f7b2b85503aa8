//! Shared by the real-peer tests: peers with our service registered, clients in group roles,
//! waiting for events, statistics and log lines.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use gnunet_service::config::Config;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use multicast::client::{self, Client, Event};
use multicast::msg::{Fragment, JoinDecision, JoinRequest};
use rand_core::OsRng;
use testnet::{repo_conf_file, ServiceConf, Testnet, Topology};

/// Patience for anything that crosses CADET.
pub const T: Duration = Duration::from_secs(30);

/// `n` peers with `gnunet-service-multicast` (this build) registered, plus `[multicast]`
/// options.
pub fn start_net(n: usize, topology: Topology, options: &[(&str, &str)]) -> Testnet {
    let mut conf = ServiceConf::from_file(
        &repo_conf_file("multicast"),
        env!("CARGO_BIN_EXE_gnunet-service-multicast"),
    )
    .expect("conf/multicast.conf");
    for (k, v) in options {
        conf.service.options.push((k.to_string(), v.to_string()));
    }
    Testnet::builder()
        .peers(n)
        .topology(topology)
        .service_conf(conf)
        .start()
        .expect("peers up")
}

/// The identity of peer `k`.
pub fn peer_id(net: &Testnet, k: usize) -> PeerIdentity {
    PeerIdentity(net.peer(k).identity_bytes())
}

/// A fresh group key.
pub fn group_key() -> eddsa::PrivateKey {
    eddsa::PrivateKey::generate(&mut OsRng)
}

/// A fresh member key.
pub fn member_key() -> ecdsa::PrivateKey {
    ecdsa::PrivateKey::generate(&mut OsRng)
}

/// A client of peer `k`'s multicast service.
pub fn connect(net: &Testnet, k: usize) -> Client {
    let cfg = Config::load(Some(net.peer(k).config_path())).expect("peer config");
    Client::connect(&cfg, T).expect("multicast service reachable")
}

/// An origin client of `key` on peer `k`.
pub fn origin(net: &Testnet, k: usize, key: &eddsa::PrivateKey) -> Client {
    let mut c = connect(net, k);
    c.start_origin(key.clone(), 0).unwrap();
    c
}

/// A member client on peer `k` that asked to join `group` at `origin_peer`.
pub fn join(
    net: &Testnet,
    k: usize,
    group: eddsa::PublicKey,
    origin_peer: PeerIdentity,
    key: &ecdsa::PrivateKey,
    relays: Vec<PeerIdentity>,
    join_msg: Option<Vec<u8>>,
) -> Client {
    let mut c = connect(net, k);
    c.send(&client::member_join(group, key.clone(), origin_peer, relays, join_msg).unwrap())
        .unwrap();
    c
}

/// A complete GNUnet message of `msg_type` carrying `body`.
pub fn app_message(msg_type: u16, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(4 + body.len());
    m.extend_from_slice(&((4 + body.len()) as u16).to_be_bytes());
    m.extend_from_slice(&msg_type.to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// Reads events until `pick` returns something (other events are skipped), or panics after
/// `timeout` naming `what`.
pub fn wait_for<R>(
    c: &mut Client,
    what: &str,
    timeout: Duration,
    mut pick: impl FnMut(Event) -> Option<R>,
) -> R {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            panic!("timed out waiting for {what}");
        }
        match c.next_event(Some(left)) {
            Ok(e) => {
                if let Some(r) = pick(e) {
                    return r;
                }
            }
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }
}

/// The next join request at an origin.
pub fn next_join_request(c: &mut Client) -> JoinRequest {
    wait_for(c, "a join request", T, |e| match e {
        Event::JoinRequest(j) => Some(j),
        _ => None,
    })
}

/// The next join decision at a member.
pub fn next_decision(c: &mut Client) -> JoinDecision {
    wait_for(c, "a join decision", T, |e| match e {
        Event::JoinDecision(d) => Some(d),
        _ => None,
    })
}

/// The next message fragment.
pub fn next_fragment(c: &mut Client, timeout: Duration) -> Fragment {
    wait_for(c, "a message fragment", timeout, |e| match e {
        Event::Message(f) => Some(f),
        _ => None,
    })
}

/// Sends one raw (already encoded) fragment or request and waits for its FRAGMENT_ACK;
/// returns the other events that arrived meanwhile.
pub fn send_acked(c: &mut Client, msg: &[u8]) -> Vec<Event> {
    c.send(msg).unwrap();
    let mut others = Vec::new();
    wait_for(c, "FRAGMENT_ACK", T, |e| match e {
        Event::FragmentAck => Some(()),
        e => {
            others.push(e);
            None
        }
    });
    others
}

/// The fragments among `events`.
pub fn fragments(events: Vec<Event>) -> Vec<Fragment> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Message(f) => Some(f),
            _ => None,
        })
        .collect()
}

/// Parts (or stops) and waits for PART_ACK.
pub fn part(mut c: Client) {
    c.send(&client::part()).unwrap();
    wait_for(&mut c, "PART_ACK", T, |e| match e {
        Event::PartAck => Some(()),
        _ => None,
    });
}

/// Value of statistic `name` of subsystem multicast on peer `k`, if set.
pub fn stat(net: &Testnet, k: usize, name: &str) -> Option<u64> {
    let out = net
        .peer(k)
        .command("gnunet-statistics")
        .args(["-s", "multicast", "-n", name, "-q"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .last()
        .and_then(|v| v.parse().ok())
}

/// Waits until statistic `name` on peer `k` is at least `min`; returns it.
pub fn wait_stat(net: &Testnet, k: usize, name: &str, min: u64) -> u64 {
    let deadline = Instant::now() + T;
    loop {
        let v = stat(net, k, name).unwrap_or(0);
        if v >= min {
            return v;
        }
        if Instant::now() > deadline {
            panic!("statistic {name:?} on peer {k} stayed at {v}, expected at least {min}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until the multicast log of peer `k` contains `needle`.
pub fn wait_log(net: &Testnet, k: usize, needle: &str) {
    let path = net.peer(k).log_path("multicast");
    let deadline = Instant::now() + T;
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains(needle) {
            return;
        }
        if Instant::now() > deadline {
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            panic!(
                "no {needle:?} in {}; last lines:\n{}",
                path.display(),
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Origin admits the next join request (with `relays`), the member sees the admission.
pub fn admit(origin: &mut Client, member: &mut Client, relays: Vec<PeerIdentity>) -> JoinRequest {
    let j = next_join_request(origin);
    origin
        .send(&client::decide(&j, multicast::msg::ADMITTED, relays, None).unwrap())
        .unwrap();
    let d = next_decision(member);
    assert_eq!(d.decision.is_admitted, multicast::msg::ADMITTED);
    j
}
