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
