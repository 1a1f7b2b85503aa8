//! Three real peers (and a fourth), driven only through the `gnunet-social` binary (`--json`
//! parsed): a host on p1 refuses and then admits a guest from p2 who enters by key, publishes
//! the place in its zone, a guest on p3 enters by `home.<host zone key>` through the DHT and
//! one on p4 by `home.alice.gnu` (`alice` naming the host's zone in its own); announcements
//! and talk reach the others' `--follow` processes (after the p3 guest's service was killed
//! and re-joined with the stored origin and relay); history and state are read on a guest's
//! peer; guests and host leave.
//!
//! The steps that are not the binary: publishing the place (ZONE_ADD_PLACE) and naming the
//! host's zone (ZONE_ADD_NYM) go through `social::client::App`, as the tool has no option for
//! them (neither had the 2019 tool; see its man page).

mod cli_common;
mod common;

use std::time::{Duration, Instant, SystemTime};

use cli_common::*;
use common::*;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use testnet::Topology;

/// Two egos of one peer in the same place, both talking to the host: each member's requests
/// go up its own channel, on which the origin admitted it.
#[test]
fn two_guests_on_one_peer_both_talk() {
    let net = start_net(2, Topology::Line, &[]);
    let (p1, p2) = (net.peer(0), net.peer(1));
    create_ego(p1, "host");
    create_ego(p2, "g1");
    create_ego(p2, "g2");
    let place = host_enter(p1, "host");
    let host = follow_host(p1, &place, "--welcome");
    for ego in ["g1", "g2"] {
        let r = enter_by_key(p2, &place, p1, ego);
        assert!(r.status.success(), "{:?} {}", r.events, r.stderr);
    }
    for ego in ["g1", "g2"] {
        let text = format!("hi from {ego}");
        talk_as(p2, &place, &["--ego", ego], &text);
        host.wait_message(&text);
    }
}

#[test]
fn three_peers_enter_talk_replay_and_leave_through_the_cli() {
    let t0 = Instant::now();
    let net = start_net(4, Topology::Mesh, &[]);
    let (p1, p2, p3, p4) = (net.peer(0), net.peer(1), net.peer(2), net.peer(3));
    let host_ego = create_ego(p1, "host");
    create_ego(p2, "g1");
    create_ego(p3, "g2");
    eprintln!("peers up in {:?}", t0.elapsed());
    let g1 = ego_key(p2, "g1");
    let g2 = ego_key(p3, "g2");

    // The host creates the place.
    let place = host_enter(p1, "host");
    let status = run_ok(p1, &["--status"]);
    assert!(
        status
            .find("place", |e| e["role"] == "host"
                && e["key"] == place.as_str())
            .is_some(),
        "{:?}",
        status.events
    );

    // First the host refuses: the guest's enter fails (exit 1) with the refusal.
    let host = follow_host(p1, &place, "--deny");
    let r = enter_by_key(p2, &place, p1, "g1");
    assert_eq!(
        r.status.code(),
        Some(1),
        "refused enter: {:?} {}",
        r.events,
        r.stderr
    );
    let d = r.find("decision", |_| true).expect("a decision");
    assert_eq!(d["admitted"], false, "{d}");
    assert_eq!(d["response"]["method"], "_notice_place_refuse", "{d}");
    host.wait("entry_request", |e| e["nym"] == g1.as_str());
    host.wait("entry_answered", |e| {
        e["nym"] == g1.as_str() && e["admitted"] == false
    });
    drop(host.stop());

    // Then it welcomes: the same guest asks again and is admitted.
    let host = follow_host(p1, &place, "--welcome");
    let r = enter_by_key(p2, &place, p1, "g1");
    assert!(r.status.success(), "{:?} {}", r.events, r.stderr);
    let d = r.find("decision", |_| true).expect("a decision");
    assert_eq!(d["admitted"], true, "{d}");
    assert_eq!(d["response"]["method"], "_notice_place_admit", "{d}");
    host.wait("entry_answered", |e| {
        e["nym"] == g1.as_str() && e["admitted"] == true
    });
    let g1f = follow_guest(p2, &place, &[]);

    // The host publishes the place as `home` in its zone (g1's peer as relay); g2 enters by
    // name (DHT).
    let host_zone = host_ego.key.public_key().to_string();
    let relay: PeerIdentity = p2.identity().parse().expect("peer id");
    publish_place(p1, &host_ego_key(p1), &place, &[relay]);
    let gns = format!("home.{host_zone}");
    let r = enter_by_name(p3, &gns);
    assert_eq!(entered_place(&r), place, "by name: {:?}", r.events);
    host.wait("entry_answered", |e| {
        e["nym"] == g2.as_str() && e["admitted"] == true
    });
    // g3 on p4 names the host's zone `alice` in its own zone and enters by
    // `home.alice.gnu`: a delegation from its zone (namecache) to the host's (DHT).
    create_ego(p4, "g3");
    let g3: ecdsa::PublicKey = ego_key(p4, "g3").parse().expect("ego key");
    name_zone(p4, &g3, "alice", &host_ego_key(p1));
    let r = enter_by_name_as(p4, "home.alice.gnu", "g3");
    assert_eq!(entered_place(&r), place, "by nym: {:?}", r.events);
    host.wait("entry_answered", |e| {
        e["nym"] == g3.to_string() && e["admitted"] == true
    });
    let g2f = follow_guest(p3, &place, &["--ego", "g2"]);
    // g2's service dies and comes back: it re-joins with the origin and relay of the record
    // (stored), without entering again.
    kill_and_come_back(p3, g2f, &place, "guest");
    let g2f = follow_guest(p3, &place, &["--ego", "g2"]);

    // Announcements reach both guests; talk reaches the host, with the talker's nym.
    announce(p1, &place, "hello all");
    for g in [&g1f, &g2f] {
        let m = g.wait_message("hello all");
        assert_eq!(m["method"], "_converse", "{m}");
        assert_eq!(m["request"], false, "{m}");
    }
    let g3s = g3.to_string();
    let talkers = [
        (p2, "g1", &g1, "hi from g1"),
        (p3, "g2", &g2, "hi from g2"),
        (p4, "g3", &g3s, "hi from g3"),
    ];
    for (peer, ego, nym, text) in talkers {
        talk_as(peer, &place, &["--ego", ego], text);
        let m = host.wait_message(text);
        assert_eq!(m["nym"], nym.as_str(), "{m}");
        assert_eq!(m["request"], true, "{m}");
    }
    assign(p1, &place, "_topic", "news");
    announce(p1, &place, "second");
    let second = g1f.wait_message("second");
    g2f.wait_message("second");

    // History and state on g1's peer.
    let r = run_ok(
        p2,
        &[
            "--replay-latest",
            "--place",
            &place,
            "--limit",
            "10",
            "--method",
            "_converse",
        ],
    );
    let texts: Vec<_> = r.all("message").iter().map(|m| m["data"].clone()).collect();
    assert!(
        texts.contains(&"hello all".into()) && texts.contains(&"second".into()),
        "latest: {:?}",
        r.events
    );
    assert!(
        r.all("message")
            .iter()
            .all(|m| m["method"] == "_converse" && m["historic"] == true),
        "{:?}",
        r.events
    );
    let last = second["id"].as_u64().expect("message id");
    let first = g1f.wait_message("hello all")["id"]
        .as_u64()
        .expect("message id");
    let r = run_ok(
        p2,
        &[
            "--replay",
            "--place",
            &place,
            "--start",
            &first.to_string(),
            "--until",
            &last.to_string(),
        ],
    );
    let ids: Vec<_> = r
        .all("message")
        .iter()
        .filter_map(|m| m["id"].as_u64())
        .collect();
    assert!(
        ids.contains(&first) && ids.contains(&last),
        "replay {first}..{last}: {:?}",
        r.events
    );
    assert!(ids.iter().all(|id| (first..=last).contains(id)), "{ids:?}");
    let r = run_ok(
        p2,
        &["--look-at", "--place", &place, "--name", "_topic_sub"],
    );
    assert!(
        r.find("var", |v| v["name"] == "_topic"
            && v["value"] == "news\u{0}")
            .is_some(),
        "look-at: {:?}",
        r.events
    );
    let r = run_ok(p2, &["--look-for", "--place", &place, "--name", "_to"]);
    assert!(
        r.find("var", |v| v["name"] == "_topic").is_some(),
        "look-for: {:?}",
        r.events
    );

    // g2 leaves while its follower runs (the host hears the farewell); then the host leaves
    // while g1 follows, and g1 hears the closing notice; g1 leaves last.
    run_ok(p3, &["--guest-leave", "--place", &place, "--ego", "g2"]);
    host.wait("farewell", |e| e["nym"] == g2.as_str());
    // Its follower ends with the place (exit 0, `left` last).
    let mut g2f = g2f;
    g2f.wait_left();
    let mut host = host;
    run_ok(p1, &["--host-leave", "--place", &place]);
    host.wait_left();
    g1f.wait("message", |m| m["method"] == "_notice_place_closing");
    drop(g1f.stop());
    let r = run_ok(p2, &["--guest-leave", "--place", &place]);
    assert!(
        r.find("left", |e| e["role"] == "guest").is_some(),
        "{:?}",
        r.events
    );
    run_ok(p4, &["--guest-leave", "--place", &place, "--ego", "g3"]);
    for p in [p1, p2, p3, p4] {
        let status = run_ok(p, &["--status"]);
        assert!(status.all("place").is_empty(), "{:?}", status.events);
    }
    eprintln!("done in {:?}", t0.elapsed());
}

/// The ego `host`'s ECDSA key on `peer`.
fn host_ego_key(peer: &testnet::Peer) -> ecdsa::PublicKey {
    ego_key(peer, "host").parse().expect("ego key")
}

/// ZONE_ADD_PLACE: `home` in the host's zone names `place` at `peer`, with `relays`.
fn publish_place(
    peer: &testnet::Peer,
    ego: &ecdsa::PublicKey,
    place: &str,
    relays: &[PeerIdentity],
) {
    let mut app = social::client::App::connect(&config(peer), "cli").expect("app connect");
    let place: eddsa::PublicKey = place.parse().expect("place key");
    let origin: PeerIdentity = peer.identity().parse().expect("peer id");
    let result = app
        .zone_add_place(
            *ego,
            "home",
            "",
            place,
            origin,
            relays,
            SystemTime::now() + Duration::from_secs(3600),
        )
        .expect("zone add place");
    assert!(result.result >= 0, "zone add place: {result:?}");
}

/// ZONE_ADD_NYM: `name` in the zone of `ego` at `peer` names the zone `nym`.
fn name_zone(peer: &testnet::Peer, ego: &ecdsa::PublicKey, name: &str, nym: &ecdsa::PublicKey) {
    let mut app = social::client::App::connect(&config(peer), "cli").expect("app connect");
    let result = app
        .zone_add_nym(
            *ego,
            name,
            *nym,
            SystemTime::now() + Duration::from_secs(3600),
        )
        .expect("zone add nym");
    assert!(result.result >= 0, "zone add nym: {result:?}");
}

/// `--guest-enter --gns NAME --ego g2`, tried again while the name is not yet in the DHT.
fn enter_by_name(peer: &testnet::Peer, name: &str) -> Run {
    enter_by_name_as(peer, name, "g2")
}

/// `--guest-enter --gns NAME --ego EGO`, tried again while the name is not yet in the DHT.
fn enter_by_name_as(peer: &testnet::Peer, name: &str, ego: &str) -> Run {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = run(peer, &["--guest-enter", "--gns", name, "--ego", ego]);
        if r.status.success() {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "enter by name {name}: {:?}\n{}\nsocial log:\n{}",
            r.events,
            r.stderr,
            social_log(peer)
        );
        eprintln!("enter by name not yet: {:?}", r.events);
        std::thread::sleep(Duration::from_secs(1));
    }
}
