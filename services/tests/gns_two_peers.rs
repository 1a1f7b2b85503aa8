//! A record stored in a zone on one real GNUnet 0.19.3 peer is found by GNS on another, through
//! ZONEMASTER's publication into the DHT: our NAMESTORE client on peer 1, our GNS client (and
//! `gnunet-gns`) on peer 2, the name given as `label.<zone key>`.
//!
//! Nothing needs configuring for two directly connected peers on loopback: ZONEMASTER publishes
//! a changed record set at once (it monitors NAMESTORE), and the DHT of two neighbours stores
//! and finds the block within moments. The wait is bounded (60 s) and the time measured.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gnunet_service::config::Config;
use gnunet_service::crypto::identity_key::{KeyType, PublicKey};
use gnunet_service::gns::{GnsClient, ZoneName};
use gnunet_service::gnsrecord::{Expiration, Flags, Record, TYPE_PLACE};
use gnunet_service::identity::IdentityClient;
use gnunet_service::namestore::NamestoreClient;
use testnet::{Testnet, Topology};

/// Bound of the whole wait for the record on the other peer.
const DHT_PATIENCE: Duration = Duration::from_secs(60);
/// Patience for one local answer.
const T: Duration = Duration::from_secs(20);

#[test]
fn a_public_record_of_peer_1_resolves_on_peer_2() {
    let net = Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .lean(false)
        .start()
        .expect("two connected peers");
    let (p1, p2) = (net.peer(0), net.peer(1));
    let c1 = Config::load(Some(p1.config_path())).expect("p1 config");
    let c2 = Config::load(Some(p2.config_path())).expect("p2 config");

    let host = IdentityClient::connect(&c1)
        .expect("identity")
        .create("host", KeyType::Ecdsa)
        .expect("host ego");
    let zone: PublicKey = host.key.public_key();
    let data: Vec<u8> = (0..68 + 32).map(|i| (i * 3) as u8).collect();
    let place = Record::relative(TYPE_PLACE, data, Duration::from_secs(3600), Flags::NONE);
    let t0 = Instant::now();
    NamestoreClient::connect(&c1, T)
        .expect("namestore")
        .store(&host.key, "room", vec![place.clone()])
        .expect("stored");

    // Peer 2 knows no ego of peer 1: the zone key in the name says where to start. Its own
    // (empty) zone stands in for the ego the name would be relative to.
    let guest = IdentityClient::connect(&c2)
        .expect("identity")
        .create("guest", KeyType::Ecdsa)
        .expect("guest ego");
    let name = format!("room.{zone}");
    let query = ZoneName::relative_to(&guest.key.public_key(), &name).query(TYPE_PLACE);
    assert_eq!((query.zone, query.name.as_str()), (zone, "room"));

    let mut gns = GnsClient::connect(&c2, T).expect("gns");
    // One lookup stays open until the DHT answers (the resolver sets no limit); ask again if
    // an answer came empty, until the bound.
    let records = loop {
        let left = DHT_PATIENCE.saturating_sub(t0.elapsed());
        assert!(
            !left.is_zero(),
            "no answer from the DHT within {DHT_PATIENCE:?}"
        );
        match gns.lookup(&query, left) {
            Ok(records) if !records.is_empty() => break records,
            Ok(_) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => panic!("lookup on peer 2 failed after {:?}: {e}", t0.elapsed()),
        }
    };
    eprintln!(
        "[gns_two_peers] stored on p1, resolved on p2 after {:?}",
        t0.elapsed()
    );
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].record_type, TYPE_PLACE);
    assert_eq!(records[0].data, place.data);

    // Published blocks carry absolute expirations: the hour became a point in time.
    let now_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as u64;
    match records[0].expiration() {
        Expiration::Absolute(at) => {
            let hour = 3_600_000_000;
            assert!(
                at > now_us + hour - 300_000_000 && at <= now_us + hour,
                "{at}"
            );
        }
        other => panic!("expected an absolute expiration, got {other:?}"),
    }

    // GNUnet's own tool on peer 2 finds it too: it prints the name and, having no plugin for
    // PLACE, no value (a missing name prints "No results.").
    let out = Command::new("timeout")
        .arg("30")
        .arg("gnunet-gns")
        .arg("-c")
        .arg(p2.config_path())
        .args(["-u", &name, "-t", "65542"])
        .output()
        .expect("gnunet-gns runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        printed,
        format!("{name}:\n"),
        "a found name, no printable value"
    );
}
