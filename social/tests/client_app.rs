//! The sans-IO application session: APP_CONNECT and the lists it brings (also egos and places
//! announced later), zone operations and detach with their results, reconnects and hostile
//! input.

use std::time::{Duration, UNIX_EPOCH};

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use proptest::prelude::*;

use social::client::{AppError, AppEvent, AppSession, Ego, PlaceInfo};
use social::msg::{AppEgo, AppEgoEnd, AppPlace, AppPlaceEnd, HostEnterAck, Request, ResultCode};

const EGO: ecdsa::PublicKey = ecdsa::PublicKey([1; 32]);
const PLACE: eddsa::PublicKey = eddsa::PublicKey([2; 32]);

fn feed<M: Message>(s: &mut AppSession, m: M) {
    s.handle_message(&m.to_message()).unwrap();
}

fn events(s: &mut AppSession) -> Vec<AppEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn written(s: &mut AppSession) -> Vec<Request> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|m| Request::decode(&m).unwrap())
        .collect()
}

fn ego(key: u8, name: &str) -> AppEgo {
    AppEgo {
        ego_pub_key: ecdsa::PublicKey([key; 32]),
        name: name.as_bytes().to_vec(),
    }
}

fn place(ego: u8, place: u8, is_host: u8) -> AppPlace {
    AppPlace {
        ego_pub_key: ecdsa::PublicKey([ego; 32]),
        place_pub_key: eddsa::PublicKey([place; 32]),
        is_host,
        place_state: 1,
    }
}

/// A session connected and listed: two egos, a hosted and an entered place.
fn listed() -> AppSession {
    let mut s = AppSession::new("cli").unwrap();
    s.connected();
    written(&mut s);
    feed(&mut s, ego(1, "host one"));
    feed(&mut s, ego(3, "guest one"));
    feed(&mut s, AppEgoEnd);
    feed(&mut s, place(1, 2, 1));
    feed(&mut s, place(3, 2, 0));
    feed(&mut s, AppPlaceEnd);
    s
}

#[test]
fn connect_lists_egos_and_places_as_events() {
    let mut s = AppSession::new("cli").unwrap();
    assert!(s.poll_transmit().is_none());
    s.connected();
    let out: Vec<_> = std::iter::from_fn(|| s.poll_transmit()).collect();
    assert_eq!(out, [vec![0, 8, 0x03, 0x54, b'c', b'l', b'i', 0]]);
    feed(&mut s, ego(1, "host one"));
    feed(&mut s, AppEgoEnd);
    assert!(!s.is_listed());
    feed(&mut s, place(1, 2, 1));
    feed(&mut s, place(9, 2, 0));
    feed(&mut s, AppPlaceEnd);
    assert!(s.is_listed());
    let host = PlaceInfo {
        ego_pub_key: EGO,
        place_pub_key: PLACE,
        is_host: true,
        state: 1,
    };
    assert!(host.is_entered());
    // A place whose ego was not listed is reported too.
    let other = PlaceInfo {
        ego_pub_key: ecdsa::PublicKey([9; 32]),
        is_host: false,
        ..host
    };
    assert_eq!(
        events(&mut s),
        [
            AppEvent::Ego(Ego {
                pub_key: EGO,
                name: "host one".into()
            }),
            AppEvent::EgosListed,
            AppEvent::Place(host),
            AppEvent::Place(other),
            AppEvent::Connected,
        ]
    );
    assert_eq!(s.places(), [host, other]);
}

#[test]
fn egos_and_places_announced_later_update_the_lists() {
    let mut s = listed();
    events(&mut s);
    feed(&mut s, ego(5, "new one"));
    feed(&mut s, ego(1, "renamed"));
    feed(&mut s, place(5, 6, 1));
    feed(&mut s, place(1, 2, 1));
    assert_eq!(events(&mut s).len(), 4);
    let names: Vec<_> = s.egos().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["renamed", "guest one", "new one"]);
    assert_eq!(s.places().len(), 3);
}

#[test]
fn zone_operations_and_detach_write_their_requests_and_match_results() {
    let mut s = listed();
    events(&mut s);
    let expiration = UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_123);
    let relays = [PeerIdentity([7; 32])];
    let add_place = s
        .zone_add_place(
            EGO,
            "home",
            "let.me*in!",
            PLACE,
            PeerIdentity([6; 32]),
            &relays,
            expiration,
        )
        .unwrap();
    let add_nym = s
        .zone_add_nym(EGO, "host", ecdsa::PublicKey([3; 32]), expiration)
        .unwrap();
    let detach = s.detach(EGO, PLACE).unwrap();
    assert_eq!((add_place, add_nym, detach), (1, 2, 3));
    match &written(&mut s)[..] {
        [Request::ZoneAddPlace(p), Request::ZoneAddNym(n), Request::AppDetach(d)] => {
            assert_eq!(p.op_id, 1);
            assert_eq!(p.expiration_time, 1_700_000_000_000_123);
            assert_eq!(
                (p.name.as_slice(), p.password.as_slice()),
                (&b"home"[..], &b"let.me*in!"[..])
            );
            assert_eq!((p.ego_pub_key, p.place_pub_key), (EGO, PLACE));
            assert_eq!(
                (p.origin, p.relays.as_slice()),
                (PeerIdentity([6; 32]), &relays[..])
            );
            assert_eq!((n.op_id, n.name.as_slice()), (2, &b"host"[..]));
            assert_eq!(n.nym_pub_key, ecdsa::PublicKey([3; 32]));
            assert_eq!((d.op_id, d.ego_pub_key, d.place_pub_key), (3, EGO, PLACE));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.pending_operations(), 3);
    feed(&mut s, ResultCode::new(2, 1));
    let mut failed = ResultCode::new(1, -1);
    failed.data = b"label invalid".to_vec();
    feed(&mut s, failed);
    // Unknown op ids are ignored.
    feed(&mut s, ResultCode::new(77, 1));
    assert_eq!(
        events(&mut s),
        [
            AppEvent::OperationDone {
                op_id: 2,
                result: 1,
                error: None
            },
            AppEvent::OperationDone {
                op_id: 1,
                result: -1,
                error: Some("label invalid".into())
            },
        ]
    );
    assert_eq!(s.pending_operations(), 1);
    assert!(matches!(
        s.zone_add_nym(EGO, "a\0", EGO, expiration),
        Err(AppError::InvalidArgument(_))
    ));
}

#[test]
fn reconnect_sends_app_connect_again_and_loses_written_operations() {
    let mut s = AppSession::new("cli").unwrap();
    // Asked for offline: written after APP_CONNECT.
    let early = s.detach(EGO, PLACE).unwrap();
    s.connected();
    match &written(&mut s)[..] {
        [Request::AppConnect(c), Request::AppDetach(d)] => {
            assert_eq!(c.app_id, b"cli");
            assert_eq!(d.op_id, early);
        }
        other => panic!("{other:?}"),
    }
    feed(&mut s, ego(1, "host one"));
    s.disconnected();
    assert_eq!(
        events(&mut s).last(),
        Some(&AppEvent::OperationLost { op_id: early })
    );
    let late = s.detach(EGO, PLACE).unwrap();
    s.connected();
    // The lists start anew; the offline operation follows APP_CONNECT.
    assert!(s.egos().is_empty());
    assert!(matches!(
        &written(&mut s)[..],
        [Request::AppConnect(_), Request::AppDetach(d)] if d.op_id == late
    ));
}

#[test]
fn app_ids_and_unexpected_messages_are_refused() {
    assert!(AppSession::new(&"x".repeat(254)).is_ok());
    assert!(matches!(
        AppSession::new(&"x".repeat(255)),
        Err(AppError::InvalidArgument(_))
    ));
    assert!(AppSession::new("a\0b").is_err());
    let mut s = listed();
    let ack = HostEnterAck {
        result_code: 1,
        max_message_id: 0,
        place_pub_key: PLACE,
    };
    assert_eq!(
        s.handle_message(&ack.to_message()),
        Err(AppError::Unexpected("HOST_ENTER_ACK"))
    );
    assert!(matches!(
        s.handle_message(&[0, 5, 0x03, 0x57, 0]),
        Err(AppError::Malformed(_))
    ));
}

#[test]
fn the_event_queue_is_bounded() {
    let mut s = AppSession::new("cli")
        .unwrap()
        .with_limits(social::client::AppLimits {
            max_events: 2,
            ..Default::default()
        });
    s.connected();
    feed(&mut s, AppEgoEnd);
    feed(&mut s, AppEgoEnd);
    assert_eq!(
        s.handle_message(&AppEgoEnd.to_message()),
        Err(AppError::EventQueueFull)
    );
    assert_eq!(events(&mut s).len(), 2);
    feed(&mut s, AppEgoEnd);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Whatever the service sends, the session does not panic and writes valid requests.
    #[test]
    fn arbitrary_replies_never_panic(
        msgs in proptest::collection::vec(
            (0u16..40, proptest::collection::vec(any::<u8>(), 0..100)),
            1..10
        )
    ) {
        let mut s = listed();
        s.detach(EGO, PLACE).unwrap();
        for (t, body) in msgs {
            let msg_type = if t < 20 { 840 + t } else { 680 + (t - 20) };
            let mut m = ((body.len() + 4) as u16).to_be_bytes().to_vec();
            m.extend_from_slice(&msg_type.to_be_bytes());
            m.extend_from_slice(&body);
            let _ = s.handle_message(&m);
            if m.len() >= 16 {
                m[8..16].copy_from_slice(&1u64.to_be_bytes());
                let _ = s.handle_message(&m);
            }
            while s.poll_event().is_some() {}
        }
        s.disconnected();
        s.connected();
        for out in std::iter::from_fn(|| s.poll_transmit()) {
            prop_assert!(Request::decode(&out).is_ok());
        }
    }
}
