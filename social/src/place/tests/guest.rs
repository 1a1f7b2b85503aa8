//! Entering as a guest: by key and by name, refusals, failures.

use super::*;
use crate::msg::{GuestEnterAck, GuestEnterByName};
use crate::record::PlaceData;

const GUEST: u64 = 20;

fn enter_acks(actions: &[Action], client: u64) -> Vec<i32> {
    replies(actions, client)
        .into_iter()
        .filter_map(|r| match r {
            Reply::GuestEnterAck(GuestEnterAck { result_code, .. }) => Some(result_code),
            _ => None,
        })
        .collect()
}

fn by_name(t: &mut T, client: u64, name: &str) -> GnsOpId {
    let a = t.client(
        client,
        Request::GuestEnterByName(GuestEnterByName {
            ego_pub_key: ego(2),
            app_id: APP.as_bytes().to_vec(),
            gns_name: name.as_bytes().to_vec(),
            password: vec![],
            join_msg: Some(join_msg()),
        }),
    );
    let a = t.own_zone(a, Ok(vec![]));
    match &a[..] {
        [Action::GnsLookup { op, .. }] => *op,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_lookup_without_a_usable_place_record_fails_the_enter_clearly() {
    let mut t = T::new();
    let place = eddsa::PublicKey([5; 32]);
    let good = PlaceData {
        place_pub_key: place,
        origin: PeerIdentity([6; 32]),
        relays: vec![PeerIdentity([7; 32])],
    }
    .encode();
    let mut short = good.clone();
    short.pop();
    let failures: [GnsAnswer; 4] = [
        Ok(vec![]),
        Ok(vec![(record_type::PLACE, short)]),
        Ok(vec![(record_type::PKEY, good.clone())]),
        Err("timeout".into()),
    ];
    for result in failures {
        let op = by_name(&mut t, GUEST, "home.host.gnu");
        t.s.handle_gns_result(t.now, op, result);
        let a = t.drain();
        assert_eq!(enter_acks(&a, GUEST), vec![-1]);
        assert!(dropped(&a, GUEST).is_none());
        assert_eq!(t.s.place_of(ClientId(GUEST)), None);
    }
    // The first PLACE record with valid data is used, with its origin and relays (G9).
    let op = by_name(&mut t, GUEST, "home.host.gnu");
    let mut bad = good.clone();
    bad.push(0);
    t.s.handle_gns_result(
        t.now,
        op,
        Ok(vec![(record_type::PLACE, bad), (record_type::PLACE, good)]),
    );
    let id = PlaceId::Guest(place, ego(2));
    assert!(t.drain().contains(&Action::OpenPsyc { place: id }));
    let a = t.up(id);
    assert!(
        matches!(&to_psyc(&a, id)[..], [psyc::msg::Request::SlaveJoin(j)]
        if j.origin == PeerIdentity([6; 32]) && j.relays == vec![PeerIdentity([7; 32])]
            && j.join_msg == Some(join_msg()) && j.flags == 0)
    );
}

#[test]
fn a_client_gone_during_the_lookup_enters_nothing() {
    let mut t = T::new();
    let op = by_name(&mut t, GUEST, "home");
    t.gone(GUEST);
    let data = PlaceData {
        place_pub_key: eddsa::PublicKey([5; 32]),
        origin: PEER,
        relays: vec![],
    }
    .encode();
    t.s.handle_gns_result(t.now, op, Ok(vec![(record_type::PLACE, data)]));
    assert!(t.drain().is_empty());
}

#[test]
fn egos_that_cannot_enter_are_refused_with_a_reason() {
    let mut t = T::new();
    let place = eddsa::PublicKey([5; 32]);
    let a = t.client(
        GUEST,
        Request::GuestEnter(GuestEnter {
            ego_pub_key: ego(9),
            ..guest_enter(place, PEER)
        }),
    );
    assert!(dropped(&a, GUEST).unwrap().contains("unknown ego"));
    let key = eddsa::PrivateKey([0x44; 32]);
    t.s.handle_ego(t.now, "edwards", EgoKey::Eddsa(key.clone()));
    let a = t.client(
        GUEST + 1,
        Request::GuestEnter(GuestEnter {
            ego_pub_key: ecdsa::PublicKey(key.public_key().0),
            ..guest_enter(place, PEER)
        }),
    );
    let reason = dropped(&a, GUEST + 1).unwrap();
    assert!(reason.contains("EdDSA ego `edwards`"), "{reason}");
    assert!(reason.contains("not usable for social"));
    assert!(stores(&a).is_empty());
}

#[test]
fn an_unknown_place_without_origin_is_not_joined() {
    let mut t = T::new();
    let a = t.client(
        GUEST,
        Request::GuestEnter(guest_enter(
            eddsa::PublicKey([5; 32]),
            PeerIdentity([0; 32]),
        )),
    );
    assert_eq!(enter_acks(&a, GUEST), vec![-1]);
    assert!(!a.iter().any(|a| matches!(a, Action::OpenPsyc { .. })));
}

#[test]
fn a_client_entering_while_the_refused_slave_parts_joins_after_the_part() {
    let mut t = T::new();
    let place = eddsa::PublicKey([5; 32]);
    let id = PlaceId::Guest(place, ego(2));
    t.client(GUEST, Request::GuestEnter(guest_enter(place, PEER)));
    t.up(id);
    t.psyc(id, slave_join_ack(1, 0));
    t.psyc(id, decision(0));
    let a = t.client(GUEST + 1, Request::GuestEnter(guest_enter(place, PEER)));
    assert!(enter_acks(&a, GUEST + 1).is_empty());
    let a = t.psyc(id, part_ack());
    for c in [GUEST, GUEST + 1] {
        assert!(matches!(&replies(&a, c)[..], [Reply::JoinDecision(d)] if d.is_admitted == 0));
    }
    let close = a.iter().position(|a| *a == Action::ClosePsyc { place: id });
    let open = a.iter().position(|a| *a == Action::OpenPsyc { place: id });
    assert!(close < open && close.is_some(), "{a:?}");
    t.up(id);
    let a = t.psyc(id, slave_join_ack(1, 0));
    // Every client hears of the new join (as C told all of them).
    assert_eq!(enter_acks(&a, GUEST), vec![1]);
    assert_eq!(enter_acks(&a, GUEST + 1), vec![1]);
    let a = t.psyc(id, decision(1));
    assert!(matches!(&replies(&a, GUEST + 1)[..], [Reply::JoinDecision(d)] if d.is_admitted == 1));
}

#[test]
fn a_failed_join_is_reported() {
    let mut t = T::new();
    let place = eddsa::PublicKey([5; 32]);
    let id = PlaceId::Guest(place, ego(2));
    t.client(GUEST, Request::GuestEnter(guest_enter(place, PEER)));
    t.up(id);
    let a = t.psyc(id, slave_join_ack(-1, 0));
    assert_eq!(enter_acks(&a, GUEST), vec![-1]);
    assert!(a.contains(&Action::ClosePsyc { place: id }));
    // Entering again joins again.
    let a = t.client(GUEST + 1, Request::GuestEnter(guest_enter(place, PEER)));
    assert!(a.contains(&Action::OpenPsyc { place: id }));
}

#[test]
fn host_and_guest_of_one_place_are_two_records() {
    let mut t = T::new();
    let host = t.hosted(10, 0);
    let guest = t.admitted(GUEST, host.place());
    assert_ne!(host, guest);
    assert_eq!(t.s.place_of(ClientId(10)), Some(host));
    assert_eq!(t.s.place_of(ClientId(GUEST)), Some(guest));
    // A second guest client shares the record: ACK and the decision at once.
    let a = t.client(
        GUEST + 1,
        Request::GuestEnter(guest_enter(host.place(), PEER)),
    );
    let got = replies(&a, GUEST + 1);
    assert!(
        matches!(&got[..], [Reply::GuestEnterAck(ack), Reply::JoinDecision(d)]
        if ack.result_code == 1 && d.is_admitted == 1)
    );
    assert!(!a.iter().any(|a| matches!(a, Action::OpenPsyc { .. })));
}

#[test]
fn entering_a_place_being_left_waits_for_the_leave() {
    use crate::msg::PlaceLeave;
    let mut t = T::new();
    let place = eddsa::PublicKey([5; 32]);
    let id = t.admitted(GUEST, place);
    let a = t.client(GUEST, Request::PlaceLeave(PlaceLeave));
    assert_eq!(
        to_psyc(&a, id),
        vec![psyc::msg::Request::PartRequest(psyc::msg::PartRequest)]
    );
    // Another connection enters the same place (origin given) before psyc confirmed the part:
    // nothing yet, no refusal.
    let again = GUEST + 1;
    let a = t.client(again, Request::GuestEnter(guest_enter(place, PEER)));
    assert!(enter_acks(&a, again).is_empty(), "{a:?}");
    assert!(!a.contains(&Action::OpenPsyc { place: id }));
    // Left: the entry goes ahead as a fresh one.
    let a = t.psyc(id, part_ack());
    assert!(replies(&a, GUEST).contains(&Reply::PlaceLeaveAck(crate::msg::PlaceLeaveAck)));
    assert!(a.contains(&Action::OpenPsyc { place: id }), "{a:?}");
}
