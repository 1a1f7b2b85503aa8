//! Applications: connect, ego and place pushes, detach, app ids.

use super::*;
use crate::msg::{AppDetach, AppEgo, AppPlace};

const APP_CLIENT: u64 = 1;

fn egos(actions: &[Action], client: u64) -> Vec<(ecdsa::PublicKey, Vec<u8>)> {
    replies(actions, client)
        .into_iter()
        .filter_map(|r| match r {
            Reply::AppEgo(AppEgo { ego_pub_key, name }) => Some((ego_pub_key, name)),
            _ => None,
        })
        .collect()
}

fn places(actions: &[Action], client: u64) -> Vec<AppPlace> {
    replies(actions, client)
        .into_iter()
        .filter_map(|r| match r {
            Reply::AppPlace(p) => Some(p),
            _ => None,
        })
        .collect()
}

#[test]
fn apps_hear_of_ego_changes_once_and_not_of_eddsa_egos() {
    let mut t = T::new();
    t.s.handle_ego(
        t.now,
        "edwards",
        EgoKey::Eddsa(eddsa::PrivateKey([0x44; 32])),
    );
    let a = t.app_connect(APP_CLIENT, APP);
    let listed = egos(&a, APP_CLIENT);
    assert_eq!(listed.len(), 2, "EdDSA egos are not listed: {listed:?}");
    // Created after the connect: pushed; renamed: pushed; unchanged: not.
    t.s.handle_ego(t.now, "third", EgoKey::Ecdsa(ego_key(3)));
    assert_eq!(
        egos(&t.drain(), APP_CLIENT),
        vec![(ego(3), b"third".to_vec())]
    );
    t.s.handle_ego(t.now, "renamed", EgoKey::Ecdsa(ego_key(3)));
    assert_eq!(
        egos(&t.drain(), APP_CLIENT),
        vec![(ego(3), b"renamed".to_vec())]
    );
    t.s.handle_ego(t.now, "renamed", EgoKey::Ecdsa(ego_key(3)));
    assert!(t.drain().is_empty());
    // Deleted: an APP_EGO with an empty name, once.
    let deleted = gnunet_service::crypto::identity_key::PublicKey::Ecdsa(ego(3));
    t.s.handle_ego_deleted(t.now, deleted);
    assert_eq!(egos(&t.drain(), APP_CLIENT), vec![(ego(3), vec![])]);
    t.s.handle_ego_deleted(t.now, deleted);
    assert!(t.drain().is_empty());
    // EdDSA egos are never pushed.
    t.s.handle_ego(
        t.now,
        "edwards2",
        EgoKey::Eddsa(eddsa::PrivateKey([0x45; 32])),
    );
    assert!(t.drain().is_empty());
}

#[test]
fn app_connect_waits_for_the_whole_ego_list() {
    let mut t = T::with(LogicConfig::new(PEER));
    assert!(t.app_connect(APP_CLIENT, APP).is_empty());
    t.s.handle_ego(t.now, "a", EgoKey::Ecdsa(ego_key(1)));
    t.s.handle_ego(t.now, "b", EgoKey::Ecdsa(ego_key(2)));
    assert!(t.drain().is_empty());
    t.s.handle_egos_listed(t.now);
    let a = t.drain();
    assert_eq!(egos(&a, APP_CLIENT).len(), 2);
    assert!(matches!(
        replies(&a, APP_CLIENT)[..],
        [_, _, Reply::AppEgoEnd(_), Reply::AppPlaceEnd(_)]
    ));
}

#[test]
fn requests_held_before_the_ego_list_are_bounded() {
    let mut t = T::with(LogicConfig {
        max_held_requests: 2,
        ..LogicConfig::new(PEER)
    });
    assert!(t.app_connect(APP_CLIENT, APP).is_empty());
    assert!(t.app_connect(APP_CLIENT, APP).is_empty());
    let a = t.app_connect(APP_CLIENT, APP);
    assert!(dropped(&a, APP_CLIENT)
        .unwrap()
        .contains("before the ego list"));
    t.s.handle_egos_listed(t.now);
    assert!(
        t.drain().is_empty(),
        "the dropped client's requests went with it"
    );
}

#[test]
fn unsafe_app_ids_are_kept_under_escaped_names_and_overlong_ones_drop_the_client() {
    let mut t = T::new();
    for (client, id) in [(1, "../x"), (2, "a/b"), (3, ".")] {
        let a = t.app_connect(client, id);
        assert!(dropped(&a, client).is_none(), "{id}");
    }
    let a = t.client(
        4,
        Request::HostEnter(HostEnter {
            app_id: b"..".to_vec(),
            ..host_enter(eddsa::PublicKey([0; 32]))
        }),
    );
    assert!(dropped(&a, 4).is_none());
    match stores(&a).as_slice() {
        [StoreOp::SavePlace { app, .. }] => assert_eq!(app, "%.."),
        other => panic!("expected one SavePlace, got {other:?}"),
    }
    let a = t.app_connect(5, &"/".repeat(200));
    assert!(dropped(&a, 5).unwrap().contains("app id refused"));
    let a = t.app_connect(6, APP);
    assert!(dropped(&a, 6).is_none());
    let a = t.app_connect(6, APP);
    assert!(dropped(&a, 6).unwrap().contains("second APP_CONNECT"));
}

#[test]
fn apps_hear_of_new_places_and_only_their_own() {
    let mut t = T::new();
    t.app_connect(APP_CLIENT, APP);
    t.app_connect(2, "other");
    let a = t.client(
        10,
        Request::HostEnter(host_enter(eddsa::PublicKey([0; 32]))),
    );
    let place = place_key(1).public_key();
    assert_eq!(
        places(&a, APP_CLIENT),
        vec![AppPlace {
            ego_pub_key: ego(1),
            place_pub_key: place,
            is_host: 1,
            place_state: 1,
        }]
    );
    assert!(places(&a, 2).is_empty());
    // Entering it again with the same app says nothing new; with the other app it does.
    let a = t.client(11, Request::HostEnter(host_enter(place)));
    assert!(places(&a, APP_CLIENT).is_empty());
    let a = t.client(
        12,
        Request::HostEnter(HostEnter {
            app_id: b"other".to_vec(),
            ..host_enter(place)
        }),
    );
    assert_eq!(places(&a, 2).len(), 1);
    assert_eq!(
        stores(&a),
        vec![StoreOp::AttachApp {
            app: "other".into(),
            ego: ego(1),
            place,
        }]
    );
}

#[test]
fn detach_forgets_the_association_in_memory_and_on_disk() {
    let mut t = T::new();
    let a = t.client(
        3,
        Request::AppDetach(AppDetach {
            place_pub_key: eddsa::PublicKey([5; 32]),
            ego_pub_key: ego(1),
            op_id: 0,
        }),
    );
    assert!(dropped(&a, 3).unwrap().contains("before APP_CONNECT"));
    t.app_connect(APP_CLIENT, APP);
    let host = t.hosted(10, 0);
    let place = host.place();
    t.admitted(20, place);
    let detach = |ego_pub_key| {
        Request::AppDetach(AppDetach {
            place_pub_key: place,
            ego_pub_key,
            op_id: 0,
        })
    };
    let a = t.client(APP_CLIENT, detach(ego(1)));
    assert_eq!(results(&a, APP_CLIENT), vec![(0, 1, String::new())]);
    assert_eq!(
        stores(&a),
        vec![StoreOp::DetachApp {
            app: APP.into(),
            ego: ego(1),
            place,
        }]
    );
    let a = t.client(APP_CLIENT, detach(ego(1)));
    assert_eq!(results(&a, APP_CLIENT), vec![(0, -1, String::new())]);
    assert!(stores(&a).is_empty());
    // The guest's entry is still listed, the host's not; the place itself runs on.
    let a = t.app_connect(APP_CLIENT + 1, APP);
    let listed = places(&a, APP_CLIENT + 1);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].is_host, 0);
    let a = t.client(11, Request::HostEnter(host_enter(place)));
    assert!(replies(&a, 11)
        .iter()
        .any(|r| matches!(r, Reply::HostEnterAck(ack) if ack.result_code == 1)));
}
