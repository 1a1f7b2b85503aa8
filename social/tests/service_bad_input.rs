//! Bad input to `gnunet-service-social` on one real peer: each offender gets a clear answer
//! or is dropped with a line in the service's log, and the service and the other clients
//! carry on (an app connected before keeps working after each case).

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::*;
use gnunet_service::client::BlockingClient;
use gnunet_service::crypto::ecdsa;
use gnunet_service::crypto::identity_key::{KeyType, PrivateKey};
use gnunet_service::identity::IdentityClient;
use gnunet_service::peer::PeerIdentity;
use social::client::App;
use social::msg::{PlaceLeave, TYPE_HOST_ENTER};
use testnet::{Peer, Topology};

fn ego_pub(ego: &gnunet_service::identity::Ego) -> ecdsa::PublicKey {
    match &ego.key {
        PrivateKey::Ecdsa(k) => k.public_key(),
        PrivateKey::Eddsa(_) => panic!("ECDSA ego expected"),
    }
}

/// A raw client of the social socket, for messages no library would send.
fn raw(peer: &Peer) -> BlockingClient {
    BlockingClient::connect_path(&peer.service_socket("social"), T).expect("social socket")
}

/// Whether the service closed the raw client's connection.
fn closed(c: &mut BlockingClient) -> bool {
    c.recv(Some(Duration::from_secs(10))).is_err()
}

/// Waits for a line containing `needle` in the social service's log.
fn logged(peer: &Peer, needle: &str) {
    let deadline = Instant::now() + T;
    loop {
        let log = std::fs::read_to_string(peer.log_path("social")).unwrap_or_default();
        if log.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in the social log:\n{}",
            social_log(peer)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The bystander still gets answers: a zone operation round trip.
fn still_served(app: &mut App, ego: ecdsa::PublicKey) {
    let r = app
        .zone_add_nym(
            ego,
            "still",
            ego,
            SystemTime::now() + Duration::from_secs(60),
        )
        .expect("the bystander is answered");
    assert_eq!(r.result, 1, "{r:?}");
}

#[test]
fn bad_input_gets_clear_answers_and_the_service_carries_on() {
    let net = start_net(1, Topology::Line, &[]);
    let p = net.peer(0);
    let alice = create_ego(p, "alice");
    let alice_key = ego_pub(&alice);
    let mut bystander = App::connect(&config(p), "bystander").expect("app");
    still_served(&mut bystander, alice_key);

    // A truncated HOST_ENTER: dropped, and logged with its type and size.
    let mut c = raw(p);
    let mut bad = vec![0, 8];
    bad.extend_from_slice(&TYPE_HOST_ENTER.to_be_bytes());
    bad.extend_from_slice(&[0; 4]);
    c.send_raw(&bad).expect("send");
    assert!(closed(&mut c), "a malformed message drops its client");
    logged(p, "malformed message type 841 size 8");
    still_served(&mut bystander, alice_key);

    // An unknown message type, and PLACE_LEAVE without a place (the C service crashed, G12).
    let mut c = raw(p);
    c.send_raw(&[0, 4, 0xfd, 0xe8]).expect("send");
    assert!(closed(&mut c));
    let mut c = raw(p);
    c.send(&PlaceLeave).expect("send");
    assert!(
        closed(&mut c),
        "PLACE_LEAVE without a place drops its client"
    );
    still_served(&mut bystander, alice_key);

    // An app id with `../`: kept under an escaped name inside DATA_HOME, nothing outside.
    let data = p.data_home();
    let sneaky = App::connect(&config(p), "../x").expect("app ../x");
    let (sneaky_place, entered) = sneaky
        .host_enter(alice_key, psyc::msg::policy::PRIVATE)
        .expect("host enter");
    assert!(entered.result >= 0, "{entered:?}");
    assert!(data.join("social/apps/%..%2Fx").is_dir(), "escaped app dir");
    for outside in [data.join("social/x"), data.join("x"), p.dir().join("x")] {
        assert!(!outside.exists(), "{} exists", outside.display());
    }
    logged(p, "app id is not a plain name");

    // A GNS name that does not resolve: the enter fails (GUEST_ENTER_ACK −1), promptly.
    let t = Instant::now();
    let (_g, entered) = bystander
        .guest_enter_by_name(alice_key, "nowhere.gnu", "", None)
        .expect("enter by name answered");
    assert_eq!(entered.result, -1, "{entered:?}");
    eprintln!("unresolvable name answered in {:?}", t.elapsed());
    logged(p, "nowhere");

    // An EdDSA ego: not listed; hosting with its key is refused with a reason.
    let mut id = IdentityClient::connect(&config(p)).expect("identity");
    let ed = id.create("edwin", KeyType::Eddsa).expect("EdDSA ego");
    let ed_key = match ed.key.public_key() {
        gnunet_service::crypto::identity_key::PublicKey::Eddsa(k) => ecdsa::PublicKey(k.0),
        other => panic!("{other:?}"),
    };
    let mut app = App::connect(&config(p), "lister").expect("app");
    assert!(app.egos().iter().any(|e| e.name == "alice"));
    assert!(
        !app.egos().iter().any(|e| e.name == "edwin"),
        "EdDSA egos are not listed"
    );
    let r = app.zone_add_nym(
        ed_key,
        "nym",
        alice_key,
        SystemTime::now() + Duration::from_secs(60),
    );
    let r = r.expect("answered");
    assert_eq!(r.result, -1);
    assert!(
        r.error.unwrap_or_default().contains("EdDSA"),
        "the reason names EdDSA"
    );
    assert!(app.host_enter(ed_key, psyc::msg::policy::PRIVATE).is_err());
    logged(p, "not usable for social");
    still_served(&mut bystander, alice_key);

    // Zone operations NAMESTORE refuses, or social refuses up front: −1 with a text.
    let in_a_minute = SystemTime::now() + Duration::from_secs(60);
    let r = app
        .zone_add_nym(alice_key, "a.b", alice_key, in_a_minute)
        .expect("answered");
    assert_eq!(r.result, -1);
    assert!(r.error.unwrap_or_default().contains('.'), "names the dot");
    // A nym at the zone apex: 0.19 NAMESTORE refuses delegations there (5008); social says
    // so before asking.
    let r = app
        .zone_add_nym(alice_key, "@", alice_key, in_a_minute)
        .expect("answered");
    assert_eq!(r.result, -1);
    assert!(
        r.error.unwrap_or_default().contains("apex"),
        "names the apex"
    );
    // And a good one still goes through NAMESTORE.
    let me = PeerIdentity(p.identity_bytes());
    let place = sneaky_place.place_pub_key().expect("place key");
    let t = Instant::now();
    let r = app
        .zone_add_place(alice_key, "home", "", place, me, &[], in_a_minute)
        .expect("answered");
    assert_eq!(r.result, 1, "{r:?}");
    eprintln!("namestore answered in {:?}", t.elapsed());
    still_served(&mut bystander, alice_key);
}
