//! ZONE_ADD_PLACE and ZONE_ADD_NYM.

use super::*;
use crate::msg::{ZoneAddNym, ZoneAddPlace};
use crate::record::PlaceData;
use gnunet_service::gnsrecord::Flags;

const C: u64 = 1;

fn add_nym(op_id: u64, ego_pub_key: ecdsa::PublicKey, name: &str) -> Request {
    Request::ZoneAddNym(ZoneAddNym {
        op_id,
        expiration_time: 5,
        ego_pub_key,
        nym_pub_key: ego(7),
        name: name.as_bytes().to_vec(),
    })
}

fn add_place(op_id: u64, origin: PeerIdentity) -> Request {
    Request::ZoneAddPlace(ZoneAddPlace {
        op_id,
        expiration_time: 1_000,
        ego_pub_key: ego(1),
        place_pub_key: eddsa::PublicKey([5; 32]),
        origin,
        name: b"home".to_vec(),
        password: vec![],
        relays: vec![PeerIdentity([7; 32])],
    })
}

fn store_op(actions: &[Action]) -> (ZoneOpId, Vec<ZoneRecord>) {
    match actions {
        [Action::ZoneStore { op, records, .. }] => (*op, records.clone()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn refused_requests_get_a_readable_result_and_keep_the_client() {
    let mut t = T::new();
    for (op, name) in [(1, "a.b"), (2, ""), (3, "@")] {
        let a = t.client(C, add_nym(op, ego(2), name));
        let r = results(&a, C);
        assert_eq!((r[0].0, r[0].1), (op, -1));
        assert!(!r[0].2.is_empty());
        assert!(dropped(&a, C).is_none());
    }
    let a = t.client(C, add_nym(4, ego(9), "x"));
    assert!(results(&a, C)[0].2.contains("unknown ego"));
    let key = eddsa::PrivateKey([0x44; 32]);
    t.s.handle_ego(t.now, "edwards", EgoKey::Eddsa(key.clone()));
    let a = t.client(C, add_nym(5, ecdsa::PublicKey(key.public_key().0), "x"));
    let r = results(&a, C);
    assert_eq!(r[0].1, -1);
    assert!(r[0].2.contains("EdDSA ego `edwards`"));
    // Still connected: a good request goes through.
    let a = t.client(C, add_nym(6, ego(2), "friend"));
    let (op, records) = store_op(&a);
    assert_eq!(records[0].record_type, record_type::PKEY);
    assert_eq!(records[0].flags, Flags::NONE, "public, absolute expiration");
    assert_eq!(records[0].expiration_time, 5);
    t.s.handle_zone_stored(t.now, op, Ok(()));
    assert_eq!(results(&t.drain(), C), vec![(6, 1, String::new())]);
}

#[test]
fn namestore_errors_reach_the_client_as_text() {
    let mut t = T::new();
    let (op, _) = store_op(&t.client(C, add_nym(1, ego(2), "x")));
    t.s.handle_zone_stored(
        t.now,
        op,
        Err(ZoneError {
            code: 5008,
            text: "Mutually exclusive records.".into(),
        }),
    );
    assert_eq!(
        results(&t.drain(), C),
        vec![(1, -1, "Mutually exclusive records.".into())]
    );
    let (op, _) = store_op(&t.client(C, add_nym(2, ego(2), "y")));
    t.s.handle_zone_stored(
        t.now,
        op,
        Err(ZoneError {
            code: 5015,
            text: String::new(),
        }),
    );
    assert_eq!(
        results(&t.drain(), C),
        vec![(2, -1, "NAMESTORE error 5015".into())]
    );
    // A client gone before the answer gets nothing; the answer is not misdirected.
    let (op, _) = store_op(&t.client(C + 1, add_nym(3, ego(2), "z")));
    t.gone(C + 1);
    t.s.handle_zone_stored(t.now, op, Ok(()));
    assert!(t.drain().is_empty());
}

#[test]
fn place_records_carry_the_requests_origin_or_this_peer() {
    let mut t = T::new();
    for (origin, expected) in [
        (PeerIdentity([8; 32]), PeerIdentity([8; 32])),
        (PeerIdentity([0; 32]), PEER),
    ] {
        let (_, records) = store_op(&t.client(C, add_place(1, origin)));
        assert_eq!(
            records,
            vec![ZoneRecord {
                record_type: record_type::PLACE,
                flags: Flags::NONE,
                expiration_time: 1_000,
                data: PlaceData {
                    place_pub_key: eddsa::PublicKey([5; 32]),
                    origin: expected,
                    relays: vec![PeerIdentity([7; 32])],
                }
                .encode(),
            }]
        );
    }
}

#[test]
fn name_operations_are_bounded() {
    let mut t = T::with(LogicConfig {
        max_name_ops: 1,
        ..LogicConfig::new(PEER)
    });
    t.s.handle_ego(t.now, "guest one", EgoKey::Ecdsa(ego_key(2)));
    t.s.handle_egos_listed(t.now);
    store_op(&t.client(C, add_nym(1, ego(2), "x")));
    let a = t.client(C, add_nym(2, ego(2), "y"));
    assert_eq!(results(&a, C)[0].1, -1);
}

fn with_level(level: gnunet_service::privacy::Level) -> T {
    let mut t = T::new();
    t.s.set_privacy(&gnunet_service::privacy::Knobs::for_level(level));
    t
}

#[test]
fn nyms_and_places_are_private_as_the_knobs_say() {
    use gnunet_service::privacy::Level;
    for (level, nym, place) in [
        (Level::Convenient, Flags::NONE, Flags::NONE),
        (Level::Balanced, Flags::PRIVATE, Flags::NONE),
        (Level::Strict, Flags::PRIVATE, Flags::PRIVATE),
    ] {
        let mut t = with_level(level);
        let (_, records) = store_op(&t.client(C, add_nym(1, ego(2), "friend")));
        assert_eq!(records[0].flags, nym, "nym at {level}");
        let (_, records) = store_op(&t.client(C, add_place(2, PEER)));
        assert_eq!(records.len(), 1, "not hosted here: no level record");
        assert_eq!(records[0].flags, place, "place at {level}");
    }
}

#[test]
fn a_place_added_with_a_password_is_private_at_any_level() {
    let mut t = T::new();
    let mut req = add_place(1, PEER);
    if let Request::ZoneAddPlace(p) = &mut req {
        p.password = b"secret".to_vec();
    }
    let (_, records) = store_op(&t.client(C, req));
    assert_eq!(records[0].flags, Flags::PRIVATE);
}

#[test]
fn a_place_hosted_here_is_published_with_the_host_s_level() {
    use crate::record::{PlaceLevel, TYPE_TXT};
    use gnunet_service::privacy::Level;
    let mut t = with_level(Level::Strict);
    let id = t.hosted(C, 0);
    t.drain();
    let mut req = add_place(1, PEER);
    if let Request::ZoneAddPlace(p) = &mut req {
        p.place_pub_key = id.place();
    }
    let (_, records) = store_op(&t.client(C, req));
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[1].record_type, TYPE_TXT);
    assert_eq!(records[1].flags, Flags::PRIVATE, "as private as the place");
    assert_eq!(records[1].expiration_time, records[0].expiration_time);
    assert_eq!(
        PlaceLevel::decode(&records[1].data),
        Some(PlaceLevel(Level::Strict))
    );
}

mod by_name {
    use super::*;
    use crate::msg::GuestEnterByName;
    use gnunet_service::crypto::identity_key::PublicKey as ZoneKey;
    use gnunet_service::gns::LocalOptions;

    fn enter(t: &mut T, name: &str) -> Vec<Action> {
        t.client(
            C,
            Request::GuestEnterByName(GuestEnterByName {
                ego_pub_key: ego(2),
                app_id: APP.as_bytes().to_vec(),
                gns_name: name.as_bytes().to_vec(),
                password: vec![],
                join_msg: None,
            }),
        )
    }

    fn place_data() -> Vec<u8> {
        PlaceData {
            place_pub_key: eddsa::PublicKey([5; 32]),
            origin: PEER,
            relays: vec![],
        }
        .encode()
    }

    #[test]
    fn a_private_nym_of_the_own_zone_is_read_from_namestore_then_gns_resolves_the_rest() {
        let mut t = T::new();
        let a = enter(&mut t, "home.alice.gnu");
        let [Action::ZoneLookup { op, zone, label }] = &a[..] else {
            panic!("{a:?}");
        };
        assert_eq!((zone, label.as_str()), (&ego_key(2), "alice"));
        let op = *op;
        // NAMESTORE has the nym (private: no other peer sees it); its zone is not ours.
        t.s.handle_zone_lookup(t.now, op, Ok(vec![(record_type::PKEY, ego(7).0.to_vec())]));
        let a = t.drain();
        let [Action::GnsLookup { op: op2, query }] = &a[..] else {
            panic!("{a:?}");
        };
        assert_eq!(*op2, op);
        assert_eq!(
            (
                &query.zone,
                query.name.as_str(),
                query.record_type,
                query.options
            ),
            (
                &ZoneKey::Ecdsa(ego(7)),
                "home",
                record_type::PLACE,
                LocalOptions::Default
            )
        );
        t.s.handle_gns_result(t.now, op, Ok(vec![(record_type::PLACE, place_data())]));
        let id = PlaceId::Guest(eddsa::PublicKey([5; 32]), ego(2));
        assert!(t.drain().contains(&Action::OpenPsyc { place: id }));
    }

    #[test]
    fn a_nym_naming_another_ego_of_this_node_is_read_there_too() {
        let mut t = T::new();
        let a = enter(&mut t, "home.host.gnu");
        let [Action::ZoneLookup { op, .. }] = &a[..] else {
            panic!("{a:?}");
        };
        let op = *op;
        // `host` names ego 1, whose zone this node holds: its `home` comes from NAMESTORE too
        // (a private place, which GNS would not find).
        t.s.handle_zone_lookup(t.now, op, Ok(vec![(record_type::PKEY, ego(1).0.to_vec())]));
        let a = t.drain();
        let [Action::ZoneLookup { zone, label, .. }] = &a[..] else {
            panic!("{a:?}");
        };
        assert_eq!((zone, label.as_str()), (&ego_key(1), "home"));
        t.s.handle_zone_lookup(t.now, op, Ok(vec![(record_type::PLACE, place_data())]));
        let id = PlaceId::Guest(eddsa::PublicKey([5; 32]), ego(2));
        assert!(t.drain().contains(&Action::OpenPsyc { place: id }));
    }

    #[test]
    fn a_place_of_the_own_zone_is_entered_from_namestore_alone() {
        let mut t = T::new();
        let a = enter(&mut t, "home");
        let a = t.own_zone(a, Ok(vec![(record_type::PLACE, place_data())]));
        let id = PlaceId::Guest(eddsa::PublicKey([5; 32]), ego(2));
        assert!(a.contains(&Action::OpenPsyc { place: id }), "{a:?}");
    }

    #[test]
    fn without_a_record_in_namestore_gns_gets_the_whole_name() {
        let mut t = T::new();
        for answer in [Ok(vec![]), Err("namestore down".to_string())] {
            let a = enter(&mut t, "home.bob.gnu");
            let a = t.own_zone(a, answer);
            let [Action::GnsLookup { op, query }] = &a[..] else {
                panic!("{a:?}");
            };
            assert_eq!(
                (&query.zone, query.name.as_str(), query.options),
                (
                    &ZoneKey::Ecdsa(ego(2)),
                    "home.bob",
                    LocalOptions::LocalMaster
                )
            );
            t.s.handle_gns_result(t.now, *op, Ok(vec![]));
            t.drain();
        }
        // A name under a zone key not of this node never asks NAMESTORE; under one of this
        // node's zones it does.
        let key = ZoneKey::Ecdsa(ego(7)).to_string();
        let a = enter(&mut t, &format!("home.{key}"));
        assert!(matches!(&a[..], [Action::GnsLookup { .. }]), "{a:?}");
        t.gone(C);
        let key = ZoneKey::Ecdsa(ego(1)).to_string();
        let a = enter(&mut t, &format!("home.{key}"));
        assert!(
            matches!(&a[..], [Action::ZoneLookup { zone, label, .. }]
                if *zone == ego_key(1) && label == "home"),
            "{a:?}"
        );
    }
}
