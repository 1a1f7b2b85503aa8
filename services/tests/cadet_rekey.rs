//! Forward secrecy of the links our services use (issue 13, point 5), shown on two real
//! GNUnet 0.19.3 peers: what CADET does, not what we do.
//!
//! CADET 0.19 (`src/cadet/gnunet-service-cadet_tunnels.c`) keys each tunnel between two peers
//! with a triple Diffie-Hellman of both peers' long-term EdDSA keys and one fresh ephemeral
//! ECDHE key per side (`kx_0`, made when the tunnel object is made), then runs the Axolotl
//! ratchet over it: every message has its own key from a hash chain, and the DH ratchet moves
//! to a new ephemeral key (`DHRs`) after `RATCHET_MESSAGES` (64) messages or `RATCHET_TIME`
//! (1 h). The Debian build logs nothing below INFO (its DEBUG lines are compiled out), so the
//! test reads CADET's key-exchange statistics ([`new_root_keys`]) on the peer that is *not*
//! restarted:
//!
//! 1. a channel makes the tunnel: one accepted key exchange;
//! 2. another channel with 200 messages over the same tunnel: none (so the count measures key
//!    exchanges, not channels);
//! 3. cadet on one peer is stopped and started again through ARM (its tunnel state is gone);
//!    a new channel carries data again only after a key exchange that gave the other peer's
//!    side of the tunnel a root key it did not have.

use std::time::{Duration, Instant};

use gnunet_service::cadet::msg::TYPE_CADET_CLI;
use gnunet_service::cadet::{port_of_name, CadetClient, CadetEvent};
use gnunet_service::config::Config;
use gnunet_service::peer::PeerIdentity;
use testnet::{Peer, Testnet, Topology};

/// Patience for one channel to carry its first message (a fresh KX included).
const CHANNEL_PATIENCE: Duration = Duration::from_secs(120);

fn client(peer: &Peer) -> CadetClient {
    CadetClient::connect(&Config::load(Some(peer.config_path())).expect("config")).expect("cadet")
}

fn message(seq: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(8);
    m.extend_from_slice(&8u16.to_be_bytes());
    m.extend_from_slice(&TYPE_CADET_CLI.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m
}

/// Opens a port on `to`, a channel from `from`, and sends `count` messages over it; waits
/// until `to` received them all. The clients are closed on return.
fn exchange(from: &Peer, to: &Peer, port_name: &str, count: u32) {
    let port = port_of_name(port_name);
    let mut listener = client(to);
    listener.open_port(port).expect("open port");
    let mut sender = client(from);
    let ccn = sender
        .create_channel(PeerIdentity(to.identity_bytes()), port)
        .expect("channel");
    let deadline = Instant::now() + CHANNEL_PATIENCE;
    let mut received = 0;
    for seq in 0..count {
        sender
            .send(
                ccn,
                &message(seq),
                deadline.saturating_duration_since(Instant::now()),
            )
            .unwrap_or_else(|e| panic!("send {seq}: {e}"));
        // Drain what arrived so the window keeps moving.
        while let Ok(event) = listener.next_event(Duration::from_millis(1)) {
            if let CadetEvent::Data { ccn, .. } = event {
                received += 1;
                listener.receive_done(ccn).expect("ack");
            }
        }
    }
    while received < count {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{received} of {count} messages arrived");
        match listener.next_event(left).expect("an event") {
            CadetEvent::Data { ccn, payload } => {
                assert_eq!(payload.len(), 8);
                received += 1;
                listener.receive_done(ccn).expect("ack");
            }
            CadetEvent::Destroyed { ccn } => panic!("channel {ccn:#x} destroyed"),
            CadetEvent::Incoming { .. } => {}
        }
    }
    let _ = sender.destroy_channel(ccn);
}

/// Key exchanges `peer`'s cadet accepted with a root key it did not have: CADET 0.19 counts
/// every KX (only the peer with the smaller identity, "Alice", sends KX; the other, "Betty",
/// answers with KX_AUTH) and separately those that changed nothing (duplicates, a root key
/// already known, a stale KX_AUTH). The difference is how often the tunnel got a new key.
fn new_root_keys(peer: &Peer, other: &Peer) -> u64 {
    let stat = |name: &str| peer.statistic("cadet", name).unwrap_or(0);
    let alice = peer.identity_bytes() < other.identity_bytes();
    if alice {
        stat("# KX_AUTH received")
            .saturating_sub(stat("# redundant KX_AUTH received"))
            .saturating_sub(stat(
                "# KX_AUTH not using our last KX received (auth failure)",
            ))
    } else {
        stat("# KX received")
            .saturating_sub(stat("# Duplicate KX received"))
            .saturating_sub(stat("# Duplicate unverified KX received"))
            .saturating_sub(stat("# Useless KX"))
    }
}

/// Polls [`new_root_keys`] until it exceeds `than` (statistics arrive with some delay), at
/// most `within`; the last value.
fn new_root_keys_above(peer: &Peer, other: &Peer, than: u64, within: Duration) -> u64 {
    let deadline = Instant::now() + within;
    loop {
        let n = new_root_keys(peer, other);
        if n > than || Instant::now() >= deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_reconnect_gives_the_tunnel_a_new_key_and_more_channels_do_not() {
    let net = Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .start()
        .expect("two connected peers");
    // Alice (the smaller identity) sends KX, Betty answers. Alice's cadet is the one
    // restarted: a fresh Alice starts the exchange at once, and Betty, whose tunnel had a
    // key, shows it taking a new one. (Restarting Betty instead leaves Alice's tunnel
    // believing its key is fine; the channel then came back only after about two minutes
    // in a trial run.)
    let (alice, betty) = if net.peer(0).identity_bytes() < net.peer(1).identity_bytes() {
        (net.peer(0), net.peer(1))
    } else {
        (net.peer(1), net.peer(0))
    };

    // The first channel makes the tunnel and its key.
    exchange(alice, betty, "rekey-1", 1);
    let first = new_root_keys_above(betty, alice, 0, Duration::from_secs(10));
    assert!(
        first >= 1,
        "Betty counted no key exchange for the new tunnel"
    );

    // More channels and messages over the same tunnel: no new key exchange (the Axolotl
    // ratchet moves on inside the tunnel, which no statistic shows).
    exchange(betty, alice, "rekey-2", 200);
    std::thread::sleep(Duration::from_secs(2));
    let same = new_root_keys(betty, alice);
    assert_eq!(same, first, "a key exchange without a reconnect");

    // A reconnect: Alice's cadet goes and comes back, with no tunnel state left.
    alice.arm_stop_service("cadet").expect("stop cadet");
    alice.arm_start_service("cadet").expect("start cadet");
    let t0 = Instant::now();
    exchange(alice, betty, "rekey-3", 1);
    let took = t0.elapsed();
    let after = new_root_keys_above(betty, alice, same, Duration::from_secs(10));
    eprintln!(
        "[cadet_rekey] new root keys at Betty: {first} after the first channel, {same} after \
         200 more messages, {after} after Alice's cadet restarted (data again after {took:?})"
    );
    assert!(
        after > same,
        "Betty took no new tunnel key after Alice's cadet restarted ({same} → {after})"
    );
}
