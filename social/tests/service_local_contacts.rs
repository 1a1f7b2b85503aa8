//! Local contacts (issue 13, point 7) on real peers: a nym named with ZONE_ADD_NYM is a
//! private record at balanced, so another peer cannot resolve its label over GNS while a place
//! published (ZONE_ADD_PLACE) at the same time resolves; with `PRIVATE_NYMS = NO` the nym
//! resolves too (the mechanism switched off); a place added with a password never resolves
//! elsewhere. A guest still enters by a name that passes through its own private nym
//! (`home.alice.gnu`: the label from NAMESTORE, the rest over GNS), and before entering it
//! sees the host's level with `gnunet-social --status --gns NAME`, and on entering in the
//! entry decision.

mod cli_common;
mod common;

use std::time::{Duration, Instant, SystemTime};

use cli_common::*;
use common::*;
use gnunet_service::client::ClientError;
use gnunet_service::crypto::identity_key::{PrivateKey, PublicKey};
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::gns::{GnsClient, GnsError, Query};
use gnunet_service::gnsrecord::{Flags, Record, TYPE_PKEY, TYPE_PLACE};
use gnunet_service::namestore::NamestoreClient;
use gnunet_service::peer::PeerIdentity;
use social::record::{PlaceLevel, TYPE_TXT};
use testnet::{Peer, PrivacyLevel, Topology};

/// Bound of the wait for a published record on the other peer.
const DHT_PATIENCE: Duration = Duration::from_secs(60);
/// How long a lookup that should find nothing is given (the resolver sets no limit on a DHT
/// lookup of a name that does not exist, so "nothing" is an empty answer or no answer).
const ABSENT_PATIENCE: Duration = Duration::from_secs(10);

/// A lookup on `peer` of `label` in `zone`: the records, none if the name is absent or GNS
/// gave no answer within `within`.
fn lookup(
    peer: &Peer,
    zone: PublicKey,
    label: &str,
    record_type: u32,
    within: Duration,
) -> Vec<Record> {
    let mut gns = GnsClient::connect(&config(peer), T).expect("gns");
    match gns.lookup(&Query::new(zone, label, record_type), within) {
        Ok(records) => records,
        Err(GnsError::Client(ClientError::Timeout(_))) => Vec::new(),
        Err(e) => panic!("lookup of {label}: {e}"),
    }
}

/// Looks `label` up on `peer` until it has records or [`DHT_PATIENCE`] passed.
fn resolves(peer: &Peer, zone: PublicKey, label: &str, record_type: u32) -> Vec<Record> {
    let t0 = Instant::now();
    loop {
        let left = DHT_PATIENCE.saturating_sub(t0.elapsed());
        let records = lookup(
            peer,
            zone,
            label,
            record_type,
            left.max(Duration::from_secs(1)),
        );
        if !records.is_empty() || left.is_zero() {
            eprintln!(
                "[local_contacts] {label}: {} records after {:?}",
                records.len(),
                t0.elapsed()
            );
            return records;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// ZONE_ADD_NYM through the social service: `name` in `ego`'s zone names `nym`.
fn add_nym(peer: &Peer, ego: ecdsa::PublicKey, name: &str, nym: ecdsa::PublicKey) {
    let mut app = social::client::App::connect(&config(peer), "cli").expect("app connect");
    let r = app
        .zone_add_nym(
            ego,
            name,
            nym,
            SystemTime::now() + Duration::from_secs(3600),
        )
        .expect("zone add nym");
    assert_eq!(r.result, 1, "zone add nym: {r:?}");
}

/// ZONE_ADD_PLACE through the social service: `label` in `ego`'s zone names `place` at `peer`
/// (a non-empty `password` keeps it private).
fn add_place(peer: &Peer, ego: ecdsa::PublicKey, label: &str, password: &str, place: &str) {
    let mut app = social::client::App::connect(&config(peer), "cli").expect("app connect");
    let place: eddsa::PublicKey = place.parse().expect("place key");
    let origin: PeerIdentity = peer.identity().parse().expect("peer id");
    let r = app
        .zone_add_place(
            ego,
            label,
            password,
            place,
            origin,
            &[],
            SystemTime::now() + Duration::from_secs(3600),
        )
        .expect("zone add place");
    assert_eq!(r.result, 1, "zone add place: {r:?}");
}

/// The flags NAMESTORE keeps for `label` in the zone of ego `ego` on `peer`.
fn stored_flags(peer: &Peer, ego: &PrivateKey, label: &str) -> Vec<(u32, Flags)> {
    let mut ns = NamestoreClient::connect(&config(peer), T).expect("namestore");
    ns.lookup(ego, label)
        .expect("namestore lookup")
        .into_iter()
        .map(|r| (r.record_type, r.flags))
        .collect()
}

/// Host ego `host` on p1 names a contact `alice` and publishes a place `home`; p2 looks both
/// up over GNS. `nyms_private` is what the test expects of the nym.
fn run(level: Option<PrivacyLevel>, extra: &str, nyms_private: bool) {
    let extra = extra.to_string();
    let net = net_builder(2, Topology::Line, &[])
        .privacy(level)
        .extra_config(extra)
        .start()
        .expect("peers up");
    let (p1, p2) = (net.peer(0), net.peer(1));
    let host = create_ego(p1, "host");
    let friend = create_ego(p1, "friend");
    let host_pub = host.key.public_key();
    let PublicKey::Ecdsa(host_ecdsa) = host_pub else {
        panic!("ECDSA ego")
    };
    let PublicKey::Ecdsa(friend_ecdsa) = friend.key.public_key() else {
        panic!("ECDSA ego")
    };
    let place = host_enter(p1, "host");

    // The nym first, then the place: once the place resolves elsewhere, ZONEMASTER has
    // published everything public stored before it.
    add_nym(p1, host_ecdsa, "alice", friend_ecdsa);
    add_place(p1, host_ecdsa, "hidden", "a password", &place);
    add_place(p1, host_ecdsa, "home", "", &place);
    let nym_flags = stored_flags(p1, &host.key, "alice");
    assert_eq!(nym_flags.len(), 1, "{nym_flags:?}");
    assert_eq!(nym_flags[0].0, TYPE_PKEY);
    assert_eq!(
        nym_flags[0].1.contains(Flags::PRIVATE),
        nyms_private,
        "{nym_flags:?}"
    );

    // GNS answers the whole record set of the label: the PLACE record, and beside it the TXT
    // record with the host's level.
    let records = resolves(p2, host_pub, "home", TYPE_PLACE);
    let places: Vec<_> = records
        .iter()
        .filter(|r| r.record_type == TYPE_PLACE)
        .collect();
    assert_eq!(
        places.len(),
        1,
        "the published place resolves on p2: {records:?}"
    );
    let level = records
        .iter()
        .filter(|r| r.record_type == TYPE_TXT)
        .find_map(|r| PlaceLevel::decode(&r.data));
    assert_eq!(
        level,
        Some(PlaceLevel(PrivacyLevel::Balanced)),
        "{records:?}"
    );
    // A place added with a password is kept private at any level.
    let hidden = lookup(p2, host_pub, "hidden", TYPE_PLACE, ABSENT_PATIENCE);
    assert!(
        hidden.is_empty(),
        "a place added with a password resolved: {hidden:?}"
    );
    let nyms = if nyms_private {
        lookup(p2, host_pub, "alice", TYPE_PKEY, ABSENT_PATIENCE)
    } else {
        resolves(p2, host_pub, "alice", TYPE_PKEY)
    };
    if nyms_private {
        assert!(
            nyms.is_empty(),
            "a private nym resolved on another peer: {nyms:?}"
        );
        // Its own peer's GNS sees it: ZONEMASTER puts the whole record set into the local
        // namecache and only the public records into the DHT.
        let local = resolves(p1, host_pub, "alice", TYPE_PKEY);
        assert_eq!(local.len(), 1, "{local:?}");
        assert!(local[0].flags.contains(Flags::PRIVATE), "{local:?}");
    } else {
        assert_eq!(nyms.len(), 1, "a public nym resolves on p2");
        assert_eq!(nyms[0].data, friend_ecdsa.0.to_vec());
        // The knob changed in the running peer's configuration holds for the next nym,
        // without a restart.
        let set = p1
            .command("gnunet-config")
            .args(["-s", "secushare", "-o", "PRIVATE_NYMS", "-V", "YES"])
            .output()
            .expect("gnunet-config");
        assert!(set.status.success(), "{set:?}");
        add_nym(p1, host_ecdsa, "bob", friend_ecdsa);
        let bob = stored_flags(p1, &host.key, "bob");
        assert!(
            bob.iter().all(|(_, f)| f.contains(Flags::PRIVATE)),
            "{bob:?}"
        );
    }
}

#[test]
fn a_private_nym_stays_on_its_node_and_a_published_place_does_not() {
    run(Some(PrivacyLevel::Balanced), "", true);
}

#[test]
fn with_private_nyms_off_the_nym_resolves_elsewhere() {
    run(
        Some(PrivacyLevel::Balanced),
        "[secushare]\nPRIVATE_NYMS = NO\n",
        false,
    );
}

/// A guest on p2 names the host's zone `alice` (private, balanced) and enters by
/// `home.alice.gnu`: its own label from NAMESTORE, the rest over GNS.
#[test]
fn a_guest_enters_through_its_private_nym() {
    let net = net_builder(2, Topology::Line, &[])
        .privacy(Some(PrivacyLevel::Balanced))
        .start()
        .expect("peers up");
    let (p1, p2) = (net.peer(0), net.peer(1));
    let host = create_ego(p1, "host");
    let PublicKey::Ecdsa(host_ecdsa) = host.key.public_key() else {
        panic!("ECDSA ego")
    };
    let guest = create_ego(p2, "g");
    let PublicKey::Ecdsa(guest_ecdsa) = guest.key.public_key() else {
        panic!("ECDSA ego")
    };
    let place = host_enter(p1, "host");
    add_place(p1, host_ecdsa, "home", "", &place);
    add_nym(p2, guest_ecdsa, "alice", host_ecdsa);
    assert!(
        stored_flags(p2, &guest.key, "alice")
            .iter()
            .all(|(_, f)| f.contains(Flags::PRIVATE)),
        "the guest's nym is private"
    );
    // Before entering, the guest sees where the name leads and the host's level.
    let deadline = Instant::now() + DHT_PATIENCE;
    let seen = loop {
        let r = cli_common::run(p2, &["--status", "--gns", "home.alice.gnu", "--ego", "g"]);
        if let Some(e) = r.find("looked_up", |_| true) {
            break e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "look-up: {:?}\n{}",
            r.events,
            r.stderr
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    assert_eq!(seen["place"], place.as_str(), "{seen}");
    assert_eq!(seen["origin"], p1.identity(), "{seen}");
    assert_eq!(seen["level"], "balanced", "{seen}");
    let text =
        String::from_utf8(cli(p2, &["--status", "--gns", "home.alice.gnu", "--ego", "g"]).stdout)
            .expect("UTF-8");
    assert!(
        text.contains(&format!(
            "Place\thome.alice.gnu\t{place}\t{}\tprivacy=balanced\n",
            p1.identity()
        )),
        "{text}"
    );

    let _host = follow_host(p1, &place, "--welcome");
    let deadline = Instant::now() + DHT_PATIENCE;
    let r = loop {
        let r = cli_common::run(
            p2,
            &["--guest-enter", "--gns", "home.alice.gnu", "--ego", "g"],
        );
        if r.status.success() {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "enter by private nym: {:?}\n{}\nsocial log:\n{}",
            r.events,
            r.stderr,
            social_log(p2)
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    assert_eq!(entered_place(&r), place, "{:?}", r.events);
    // The entry decision tells the host's level too.
    let d = r.find("decision", |_| true).expect("a decision");
    assert_eq!(d["admitted"], true, "{d}");
    assert_eq!(d["level"], "balanced", "{d}");
    assert!(
        d["response"]["modifiers"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["name"] == "_privacy_level")),
        "{d}"
    );
}
