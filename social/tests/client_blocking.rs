//! The blocking handles against a scripted service on a real UNIX socket: the application's
//! listing and a zone operation; a host entering, announcing, answering an entry request,
//! seeing a farewell (which the library announces) and leaving; a guest waiting for its
//! entry decision. (End-to-end tests against `gnunet-service-social` live with the service.)

use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, SystemTime};

use gnunet_service::client::{BlockingClient, ClientError};
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::RawMessage;

use psyc::format::container::DELIVERY_REQUEST;
use psyc::format::env::{Environment, Operator};
use psyc::format::message::PsycMessage;
use social::client::{App, AppEvent, Event};
use social::msg::{
    AppEgo, AppEgoEnd, AppPlace, AppPlaceEnd, DeliveryHeader, GuestEnterAck, HostEnterAck,
    JoinDecision, JoinRequest, MessageAck, PlaceLeaveAck, Request, ResultCode, TYPE_MESSAGE,
};

const EGO: ecdsa::PublicKey = ecdsa::PublicKey([1; 32]);
const PLACE: eddsa::PublicKey = eddsa::PublicKey([2; 32]);
const NYM: ecdsa::PublicKey = ecdsa::PublicKey([9; 32]);
const WAIT: Option<Duration> = Some(Duration::from_secs(10));

fn socket_path(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("social-client-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn recv(conn: &mut BlockingClient) -> Result<Request, ClientError> {
    let raw: RawMessage = conn.recv(WAIT)?;
    Ok(Request::decode(raw.bytes()).expect("a valid request"))
}

/// Reads containers, acknowledging each, until one ends a message; returns the method.
fn ack_message(conn: &mut BlockingClient) -> Result<String, ClientError> {
    let mut method = String::new();
    loop {
        let raw = conn.recv(WAIT)?;
        assert_eq!(raw.msg_type(), TYPE_MESSAGE);
        let bytes = raw.bytes();
        // METHOD part: size, type 693, flags, state delta, then the name.
        if bytes.len() > 20 && bytes[6..8] == [0x02, 0xb5] {
            let name = &bytes[20..];
            let end = name.iter().position(|&b| b == 0).unwrap_or(0);
            method = String::from_utf8_lossy(&name[..end]).into_owned();
        }
        conn.send(&MessageAck)?;
        if bytes.ends_with(&[0, 4, 0x02, 0xb9]) {
            return Ok(method);
        }
    }
}

#[test]
fn app_lists_and_a_host_announces_admits_and_leaves() {
    let path = socket_path("host");
    let listener = UnixListener::bind(&path).unwrap();
    let service = thread::spawn(move || -> Result<Vec<String>, ClientError> {
        // The application connection.
        let (stream, _) = listener.accept()?;
        let mut app = BlockingClient::from_stream(stream);
        assert!(matches!(recv(&mut app)?, Request::AppConnect(c) if c.app_id == b"cli"));
        app.send(&AppEgo {
            ego_pub_key: EGO,
            name: b"host one".to_vec(),
        })?;
        app.send(&AppEgoEnd)?;
        app.send(&AppPlace {
            ego_pub_key: EGO,
            place_pub_key: PLACE,
            is_host: 1,
            place_state: 1,
        })?;
        app.send(&AppPlaceEnd)?;
        let Request::ZoneAddNym(n) = recv(&mut app)? else {
            panic!("not ZONE_ADD_NYM")
        };
        app.send(&ResultCode::new(n.op_id, 1))?;

        // The place connection.
        let (stream, _) = listener.accept()?;
        let mut place = BlockingClient::from_stream(stream);
        assert!(matches!(recv(&mut place)?, Request::HostEnter(h) if h.place_pub_key == PLACE));
        place.send(&HostEnterAck {
            result_code: 1,
            max_message_id: 4,
            place_pub_key: PLACE,
        })?;
        let mut methods = vec![ack_message(&mut place)?];
        // An entry request; the decision comes back.
        place.send(&JoinRequest {
            slave_pub_key: NYM,
            join_msg: None,
        })?;
        let Request::JoinDecision(d) = recv(&mut place)? else {
            panic!("not JOIN_DECISION")
        };
        assert_eq!((d.is_admitted, d.slave_pub_key), (1, NYM));
        // A guest's farewell: the library announces it.
        let farewell = PsycMessage::new("_notice_place_leave")
            .to_delivery(DeliveryHeader {
                flags: DELIVERY_REQUEST,
                message_id: 1,
                fragment_offset: 0,
                slave_pub_key: NYM.0,
            })
            .unwrap();
        place.send(&farewell)?;
        methods.push(ack_message(&mut place)?);
        // Leaving: the closing notice, then PLACE_LEAVE.
        methods.push(ack_message(&mut place)?);
        assert!(matches!(recv(&mut place)?, Request::PlaceLeave(_)));
        place.send(&PlaceLeaveAck)?;
        Ok(methods)
    });

    let mut app = App::connect_path(&path, "cli", Duration::from_secs(10)).unwrap();
    assert_eq!(app.egos()[0].name, "host one");
    assert!(matches!(app.next_event(WAIT), Ok(AppEvent::Ego(e)) if e.pub_key == EGO));
    assert_eq!(app.next_event(WAIT).unwrap(), AppEvent::EgosListed);
    let info = match app.next_event(WAIT).unwrap() {
        AppEvent::Place(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(app.next_event(WAIT).unwrap(), AppEvent::Connected);
    let added = app
        .zone_add_nym(EGO, "guest", NYM, SystemTime::now())
        .unwrap();
    assert_eq!(added.result, 1);

    let (mut host, entered) = app.host_reconnect(&info).unwrap();
    assert_eq!((entered.result, entered.max_message_id), (1, 4));
    assert_eq!(entered.place_pub_key, Some(PLACE));
    let mut env = Environment::new();
    env.add(Operator::Set, "_foo", b"bar baz\0".to_vec())
        .unwrap();
    // A streamed body, handed over in chunks.
    let chunks = [b"hel".to_vec(), b"lo".to_vec()];
    assert!(!host.announce_chunks("_converse", env, chunks).unwrap());
    assert!(matches!(
        host.next_event(WAIT),
        Ok(Event::JoinRequest { slave_pub_key, .. }) if slave_pub_key == NYM
    ));
    host.entry_decision(NYM, true, None).unwrap();
    match host.next_event(WAIT).unwrap() {
        Event::Message(m) => {
            let f = social::client::Farewell::from_message(&m).unwrap();
            assert_eq!(f.nym, NYM);
        }
        other => panic!("{other:?}"),
    }
    host.leave(Environment::new()).unwrap();
    assert_eq!(
        service.join().unwrap().unwrap(),
        ["_converse", "_notice_place_leave", "_notice_place_closing"]
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_guest_waits_for_its_entry_decision() {
    let path = socket_path("guest");
    let listener = UnixListener::bind(&path).unwrap();
    let service = thread::spawn(move || -> Result<(), ClientError> {
        let (stream, _) = listener.accept()?;
        let mut app = BlockingClient::from_stream(stream);
        recv(&mut app)?;
        app.send(&AppEgoEnd)?;
        app.send(&AppPlaceEnd)?;
        let (stream, _) = listener.accept()?;
        let mut place = BlockingClient::from_stream(stream);
        let Request::GuestEnter(g) = recv(&mut place)? else {
            panic!("not GUEST_ENTER")
        };
        assert!(g.join_msg.is_some());
        place.send(&AppPlace {
            ego_pub_key: EGO,
            place_pub_key: PLACE,
            is_host: 0,
            place_state: 1,
        })?;
        place.send(&GuestEnterAck {
            result_code: 1,
            max_message_id: 0,
        })?;
        thread::sleep(Duration::from_millis(100));
        place.send(&JoinDecision::new(0, EGO))?;
        // The client closes its connection after the refusal.
        assert!(place.recv(WAIT).is_err());
        Ok(())
    });
    let app = App::connect_path(&path, "cli", Duration::from_secs(10)).unwrap();
    assert!(app.egos().is_empty());
    let join = PsycMessage::new("_request_enter");
    let (mut guest, entered) = app
        .guest_enter(EGO, PLACE, PeerIdentity([3; 32]), vec![], Some(&join))
        .unwrap();
    assert_eq!(entered.result, 1);
    assert_eq!(entered.place_pub_key, Some(PLACE));
    let decision = guest.wait_entry_decision().unwrap();
    assert!(!decision.admitted());
    guest.disconnect();
    service.join().unwrap().unwrap();
    let _ = std::fs::remove_file(&path);
}
