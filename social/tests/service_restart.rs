//! `gnunet-service-social` killed (`kill -9`) mid-conversation, first on the guest's peer,
//! then on the host's, then on the guest's again with no host client attached, driven only
//! through `gnunet-social` (`--json` parsed): ARM starts it again on the next client connect;
//! it comes back with its places from `DATA_HOME`, the host's channel restarts (message ids
//! go on), the guest re-joins with its stored origin without entering again (the host's
//! service keeps the re-join until a host client decides), what was acknowledged before a
//! kill replays after it (the state too), and the conversation goes on both ways.

mod cli_common;
mod common;

use std::time::Instant;

use cli_common::*;
use common::*;
use testnet::{Peer, Topology};

/// Peers p1 (host `host`) and p2 (guest `g1`) with a place entered and both followed; one
/// announcement and one talk request went through. Returns the place and the followers.
fn conversation(p1: &Peer, p2: &Peer) -> (String, Follower, Follower) {
    create_ego(p1, "host");
    create_ego(p2, "g1");
    let place = host_enter(p1, "host");
    let host = follow_host(p1, &place, "--welcome");
    let r = enter_by_key(p2, &place, p1, "g1");
    assert!(r.status.success(), "{:?} {}", r.events, r.stderr);
    let guest = follow_guest(p2, &place, &[]);
    announce(p1, &place, "before the kill");
    guest.wait_message("before the kill");
    talk(p2, &place, "talk before the kill");
    host.wait_message("talk before the kill");
    run_ok(
        p1,
        &[
            "--host-assign",
            "--place",
            &place,
            "--name",
            "_topic",
            "--data",
            "news",
        ],
    );
    guest.wait("message", |m| m["method"] == "_assign");
    (place, host, guest)
}

#[test]
fn killed_on_the_guest_peer_then_on_the_host_peer_social_comes_back_with_its_places() {
    let t0 = Instant::now();
    let net = start_net(2, Topology::Line, &[]);
    let (p1, p2) = (net.peer(0), net.peer(1));
    eprintln!("peers up in {:?}", t0.elapsed());
    let (place, host, guest) = conversation(p1, p2);
    let g1 = ego_key(p2, "g1");

    // The guest's service dies mid-conversation; the host announces meanwhile.
    let t = Instant::now();
    kill_and_come_back(p2, guest, &place, "guest");
    announce(p1, &place, "while the guest was away");
    // Re-joined with its stored origin, without --guest-enter: talk and announcements flow.
    let guest = follow(p2, &["--guest-reconnect", "--place", &place]);
    let e = guest.wait("entered", |e| e["reconnect"] == true);
    assert!(e["result"].as_i64().is_some_and(|r| r >= 0), "{e}");
    talk(p2, &place, "talk after the guest restart");
    let m = host.wait_message("talk after the guest restart");
    assert_eq!(m["nym"], g1.as_str(), "{m}");
    announce(p1, &place, "after the guest restart");
    guest.wait_message("after the guest restart");
    assert_has(
        &latest(p2, &place),
        &[
            "before the kill",
            "while the guest was away",
            "after the guest restart",
        ],
        "guest history",
    );
    assert_var(p2, &place, "_topic", "news\u{0}");
    eprintln!("guest-side restart checked in {:?}", t.elapsed());

    // The host's service dies: it comes back with the place and restarts its channel.
    let t = Instant::now();
    drop(guest.stop());
    kill_and_come_back(p1, host, &place, "host");
    let host = follow(p1, &["--host-reconnect", "--place", &place, "--welcome"]);
    let e = host.wait("entered", |e| e["reconnect"] == true);
    assert!(
        e["max_message_id"].as_u64().is_some_and(|id| id >= 3),
        "{e}"
    );
    announce(p1, &place, "after the host restart");
    assert_has(
        &latest(p1, &place),
        &[
            "before the kill",
            "after the guest restart",
            "after the host restart",
        ],
        "host history",
    );
    assert_var(p1, &place, "_topic", "news\u{0}");
    eprintln!("host-side restart checked in {:?}", t.elapsed());

    // With no host client attached, the guest's service restarts again: the guest is a
    // stored member of the channel, so psyc admits its re-join without asking the host's
    // clients; then both ways work again.
    let t = Instant::now();
    drop(host.stop());
    let guest = follow_guest(p2, &place, &[]);
    kill_and_come_back(p2, guest, &place, "guest");
    let guest = follow_guest(p2, &place, &[]);
    let host = follow(p1, &["--host-reconnect", "--place", &place, "--welcome"]);
    talk(p2, &place, "talk after both restarts");
    host.wait_message("talk after both restarts");
    announce(p1, &place, "after both restarts");
    guest.wait_message("after both restarts");
    eprintln!("pending re-join checked in {:?}", t.elapsed());
    drop(guest.stop());
    drop(host.stop());
    eprintln!("done in {:?}", t0.elapsed());
}

/// After the host's service died and came back, the conversation goes on: a new
/// announcement reaches the guest and its talk reaches the host. When the host's social dies,
/// psyc stops the master and multicast ends the group; the guest's multicast member attaches
/// again once the origin is back, and is admitted without a host decision because the host
/// stored it as a member when it admitted it.
#[test]
fn after_a_host_side_kill_the_conversation_goes_on() {
    let net = start_net(2, Topology::Line, &[]);
    let (p1, p2) = (net.peer(0), net.peer(1));
    let (place, host, guest) = conversation(p1, p2);
    kill_and_come_back(p1, host, &place, "host");
    let host = follow_host(p1, &place, "--welcome");
    announce(p1, &place, "after the host restart");
    guest.wait_message("after the host restart");
    talk(p2, &place, "talk after the host restart");
    host.wait_message("talk after the host restart");
}
