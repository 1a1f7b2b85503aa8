//! After a restart: places restored from the store, clients reconnecting (gap G7).

use super::*;
use crate::store::{SavedEnter, SavedPlace};

fn saved_host() -> SavedPlace {
    let key = place_key(9);
    SavedPlace {
        ego: ego(1),
        place: key.public_key(),
        enter: SavedEnter::Host(HostEnter {
            place_key: key.clone(),
            ..host_enter(key.public_key())
        }),
        apps: vec![APP.into()],
        decision: None,
    }
}

fn saved_guest(decision: Option<i32>) -> SavedPlace {
    let place = eddsa::PublicKey([5; 32]);
    SavedPlace {
        ego: ego(2),
        place,
        enter: SavedEnter::Guest(GuestEnter {
            relays: vec![PeerIdentity([7; 32])],
            flags: psyc::msg::slave_join_flags::NONE,
            ..guest_enter(place, PeerIdentity([6; 32]))
        }),
        apps: vec![APP.into(), "other".into()],
        decision: decision.map(|d| JoinDecision::new(d, ecdsa::PublicKey([0; 32]))),
    }
}

/// The logic right after start-up: places restored, IDENTITY not heard yet.
fn restarted(saved: Vec<SavedPlace>) -> (T, Vec<Action>) {
    let mut t = T::with(LogicConfig {
        relay: false,
        ..LogicConfig::new(PEER)
    });
    t.s.restore(t.now, saved);
    let a = t.drain();
    (t, a)
}

#[test]
fn a_hosted_place_restarts_its_master_with_the_stored_key() {
    let saved = saved_host();
    let id = PlaceId::Host(saved.place);
    let (mut t, a) = restarted(vec![saved]);
    assert_eq!(a, vec![Action::OpenPsyc { place: id }]);
    let a = t.up(id);
    assert_eq!(
        to_psyc(&a, id),
        vec![psyc::msg::Request::MasterStart(psyc::msg::MasterStart {
            policy: psyc::msg::policy::PRIVATE,
            channel_key: place_key(9),
        })]
    );
    t.s.handle_egos_listed(t.now);
    // The C library's reconnect: policy 0, zero private key. It waits for psyc.
    let a = t.client(
        10,
        Request::HostEnter(HostEnter {
            policy: 0,
            ..host_enter(id.place())
        }),
    );
    assert!(stores(&a).is_empty());
    assert!(!replies(&a, 10)
        .iter()
        .any(|r| matches!(r, Reply::HostEnterAck(_))));
    let a = t.psyc(id, master_start_ack(1, 12));
    assert!(matches!(&replies(&a, 10)[..], [Reply::HostEnterAck(ack)]
        if ack.result_code == 1 && ack.max_message_id == 12));
}

#[test]
fn a_stored_host_without_its_key_is_not_started() {
    let mut zero = saved_host();
    if let SavedEnter::Host(h) = &mut zero.enter {
        h.place_key = eddsa::PrivateKey([0; 32]);
    }
    let mut wrong = saved_host();
    if let SavedEnter::Host(h) = &mut wrong.enter {
        h.place_key = eddsa::PrivateKey([1; 32]);
    }
    let (mut t, a) = restarted(vec![zero, wrong]);
    assert!(a.is_empty());
    t.s.handle_egos_listed(t.now);
    let a = t.app_connect(1, APP);
    assert!(!replies(&a, 1)
        .iter()
        .any(|r| matches!(r, Reply::AppPlace(_))));
}

#[test]
fn a_guest_rejoins_once_its_ego_is_known_with_the_stored_origin_and_decision() {
    let saved = saved_guest(Some(1));
    let id = PlaceId::Guest(saved.place, ego(2));
    let (mut t, a) = restarted(vec![saved]);
    assert!(a.is_empty(), "no ego yet: no join");
    // A client reconnecting now is held until IDENTITY listed the egos.
    let reconnect = Request::GuestEnter(GuestEnter {
        join_msg: None,
        ..guest_enter(id.place(), PeerIdentity([0; 32]))
    });
    assert!(t.client(20, reconnect).is_empty());
    t.s.handle_ego(t.now, "guest one", EgoKey::Ecdsa(ego_key(2)));
    assert_eq!(t.drain(), vec![Action::OpenPsyc { place: id }]);
    t.s.handle_egos_listed(t.now);
    let a = t.drain();
    assert!(replies(&a, 20).is_empty(), "waits for psyc: {a:?}");
    assert!(stores(&a).is_empty());
    let a = t.up(id);
    assert_eq!(
        to_psyc(&a, id),
        vec![psyc::msg::Request::SlaveJoin(psyc::msg::SlaveJoin {
            channel_pub_key: id.place(),
            slave_key: ego_key(2),
            origin: PeerIdentity([6; 32]),
            flags: 0,
            relays: vec![PeerIdentity([7; 32])],
            join_msg: Some(join_msg()),
        })]
    );
    let a = t.psyc(id, slave_join_ack(1, 3));
    assert!(
        matches!(&replies(&a, 20)[..], [Reply::GuestEnterAck(ack), Reply::JoinDecision(d)]
        if ack.result_code == 1 && ack.max_message_id == 3 && d.is_admitted == 1)
    );
    // psyc admits again: the clients know already.
    let a = t.psyc(id, decision(1));
    assert!(replies(&a, 20).is_empty());
    // Both apps list it.
    for app in [APP, "other"] {
        let a = t.app_connect(30, app);
        assert!(replies(&a, 30)
            .iter()
            .any(|r| matches!(r, Reply::AppPlace(p) if p.is_host == 0)));
        t.gone(30);
    }
}

#[test]
fn a_refused_guest_is_listed_but_joins_only_when_asked() {
    let saved = saved_guest(Some(0));
    let id = PlaceId::Guest(saved.place, ego(2));
    let (mut t, _) = restarted(vec![saved]);
    t.s.handle_ego(t.now, "guest one", EgoKey::Ecdsa(ego_key(2)));
    t.s.handle_egos_listed(t.now);
    assert!(t.drain().is_empty());
    let a = t.app_connect(1, APP);
    assert!(replies(&a, 1)
        .iter()
        .any(|r| matches!(r, Reply::AppPlace(_))));
    // The reconnect request (zero origin) joins with the stored origin and relays.
    let a = t.client(
        20,
        Request::GuestEnter(GuestEnter {
            join_msg: None,
            ..guest_enter(id.place(), PeerIdentity([0; 32]))
        }),
    );
    assert!(a.contains(&Action::OpenPsyc { place: id }));
    assert!(stores(&a).is_empty(), "the stored request stays");
    let a = t.up(id);
    assert!(
        matches!(&to_psyc(&a, id)[..], [psyc::msg::Request::SlaveJoin(j)]
        if j.origin == PeerIdentity([6; 32]) && j.relays.len() == 1 && j.join_msg.is_some())
    );
    let a = t.psyc(id, slave_join_ack(1, 0));
    assert!(
        matches!(&replies(&a, 20)[..], [Reply::GuestEnterAck(_)]),
        "the old refusal is not sent"
    );
    let a = t.psyc(id, decision(1));
    assert!(matches!(&replies(&a, 20)[..], [Reply::JoinDecision(d)] if d.is_admitted == 1));
    assert!(
        matches!(&stores(&a)[..], [StoreOp::SaveDecision { decision, .. }] if decision.is_admitted == 1)
    );
}

#[test]
fn a_guest_restored_after_identity_joins_at_once() {
    let mut t = T::new();
    let saved = saved_guest(None);
    let id = PlaceId::Guest(saved.place, ego(2));
    t.s.restore(t.now, vec![saved]);
    assert_eq!(t.drain(), vec![Action::OpenPsyc { place: id }]);
}
