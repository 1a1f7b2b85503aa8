//! The sans-IO place session: the bytes each operation writes (as the C library writes them),
//! what it makes of the service's replies, MESSAGE_ACK backpressure, the library's own
//! messages (leave notices, farewell announcements) and hostile input.

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use proptest::prelude::*;

use psyc::format::container::{DELIVERY_HISTORIC, DELIVERY_REQUEST};
use psyc::format::env::{Environment, Operator};
use psyc::format::message::PsycMessage;
use psyc::format::parts::METHOD_STATE_MODIFY;
use psyc::format::receive::{Assembler, Completed, MessageMeta};
use psyc::msg::{policy, slave_join_flags};
use social::client::{ChannelSession, Event, Limits, PlaceSession, Role, SessionError};
use social::msg::{
    msg_proc_flags, AppEgo, AppPlace, ClientMessage, Delivery, DeliveryHeader, GuestEnterAck,
    HistoryResult, HostEnterAck, JoinDecision, JoinRequest, MessageAck, PlaceLeaveAck, Request,
    ResultCode, StateResult, TYPE_MESSAGE,
};

const EGO: ecdsa::PublicKey = ecdsa::PublicKey([1; 32]);
const PLACE: eddsa::PublicKey = eddsa::PublicKey([2; 32]);
const NYM: ecdsa::PublicKey = ecdsa::PublicKey([9; 32]);

// ------------------------------------------------------------ helpers

fn feed<M: Message>(s: &mut PlaceSession, m: M) {
    s.handle_message(&m.to_message()).unwrap();
}

fn events(s: &mut PlaceSession) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn written(s: &mut PlaceSession) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}

fn decoded(s: &mut PlaceSession) -> Vec<Request> {
    written(s)
        .iter()
        .map(|m| Request::decode(m).unwrap())
        .collect()
}

/// A host of a new place, connected, entered (HOST_ENTER_ACK with `PLACE`), writes taken.
fn entered_host() -> PlaceSession {
    let mut s = PlaceSession::host_enter("cli", EGO, policy::PRIVATE).unwrap();
    s.connected();
    written(&mut s);
    feed(
        &mut s,
        HostEnterAck {
            result_code: 0,
            max_message_id: 0,
            place_pub_key: PLACE,
        },
    );
    assert!(matches!(events(&mut s)[..], [Event::MasterStarted { .. }]));
    s
}

/// A guest entered by key and admitted.
fn admitted_guest() -> PlaceSession {
    let mut s =
        PlaceSession::guest_enter("cli", EGO, PLACE, PeerIdentity([3; 32]), vec![], None).unwrap();
    s.connected();
    written(&mut s);
    feed(
        &mut s,
        GuestEnterAck {
            result_code: 1,
            max_message_id: 7,
        },
    );
    feed(&mut s, JoinDecision::new(1, EGO));
    assert_eq!(events(&mut s).len(), 2);
    s
}

fn message(method: &str, mods: &[(Operator, &str, &[u8])], data: &[u8]) -> PsycMessage {
    let mut m = PsycMessage::new(method);
    for (oper, name, value) in mods {
        m.env.add(*oper, name, value.to_vec()).unwrap();
    }
    m.data = data.to_vec();
    m
}

/// One delivery container holding all of `m`.
fn delivery(m: &PsycMessage, flags: u32, message_id: u64, slave: [u8; 32]) -> Delivery {
    m.to_delivery(DeliveryHeader {
        flags,
        message_id,
        fragment_offset: 0,
        slave_pub_key: slave,
    })
    .unwrap()
}

/// Reassembles the message the containers among `requests` carry.
fn reassemble(requests: &[Request]) -> PsycMessage {
    let mut a = Assembler::default();
    for r in requests {
        if let Request::Message(ClientMessage { parts }) = r {
            if let Some(Completed::Message { message, .. }) =
                a.push_parts(MessageMeta::default(), parts).unwrap()
            {
                return message;
            }
        }
    }
    panic!("no complete message in {requests:?}")
}

fn ack(s: &mut PlaceSession) {
    feed(s, MessageAck);
}

// ------------------------------------------------------------ entering

#[test]
fn host_enter_writes_a_new_place_request_and_learns_the_key_from_the_ack() {
    let mut s = PlaceSession::host_enter("cli", EGO, policy::PRIVATE).unwrap();
    assert!(s.is_host());
    assert_eq!(s.place_pub_key(), None);
    s.connected();
    let out = written(&mut s);
    // HOST_ENTER: policy 3 in host order, the ego, zero place keys, "cli\0".
    let mut expected = vec![0, 108, 0x03, 0x49, 3, 0, 0, 0];
    expected.extend_from_slice(&[1; 32]);
    expected.extend_from_slice(&[0; 64]);
    expected.extend_from_slice(b"cli\0");
    assert_eq!(out, [expected]);
    // The service's APP_PLACE for another ego does not name this place.
    feed(
        &mut s,
        AppPlace {
            ego_pub_key: NYM,
            place_pub_key: eddsa::PublicKey([8; 32]),
            is_host: 1,
            place_state: 1,
        },
    );
    assert_eq!(s.place_pub_key(), None);
    feed(
        &mut s,
        HostEnterAck {
            result_code: 0,
            max_message_id: 0,
            place_pub_key: PLACE,
        },
    );
    assert_eq!(
        events(&mut s),
        [Event::MasterStarted {
            result: 0,
            max_message_id: 0
        }]
    );
    assert_eq!(s.place_pub_key(), Some(PLACE));
    // After a lost connection the place is entered again, not made anew.
    s.disconnected();
    s.connected();
    match &decoded(&mut s)[..] {
        [Request::HostEnter(h)] => {
            assert_eq!(h.place_pub_key, PLACE);
            assert_eq!(h.policy, policy::PRIVATE);
            assert_eq!(h.place_key.0, [0; 32]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn host_reconnect_names_the_place_with_policy_zero() {
    let mut s = PlaceSession::host_reconnect("app", EGO, PLACE).unwrap();
    assert_eq!(s.place_pub_key(), Some(PLACE));
    s.connected();
    match &decoded(&mut s)[..] {
        [Request::HostEnter(h)] => {
            assert_eq!((h.policy, h.ego_pub_key, h.place_pub_key), (0, EGO, PLACE));
            assert_eq!(h.app_id, b"app");
        }
        other => panic!("{other:?}"),
    }
    feed(
        &mut s,
        HostEnterAck {
            result_code: 1,
            max_message_id: 12,
            place_pub_key: PLACE,
        },
    );
    assert_eq!(
        events(&mut s),
        [Event::MasterStarted {
            result: 1,
            max_message_id: 12
        }]
    );
}

#[test]
fn guest_enter_carries_origin_relays_and_the_entry_request() {
    let join = message(
        "_request_enter",
        &[(Operator::Set, "_foo", b"bar\0")],
        b"let me in\0",
    );
    let relays = vec![PeerIdentity([4; 32]), PeerIdentity([5; 32])];
    let mut s = PlaceSession::guest_enter(
        "cli",
        EGO,
        PLACE,
        PeerIdentity([3; 32]),
        relays.clone(),
        Some(&join),
    )
    .unwrap();
    assert!(!s.is_host());
    s.connected();
    match &decoded(&mut s)[..] {
        [Request::GuestEnter(g)] => {
            assert_eq!(g.flags, 0);
            assert_eq!(g.origin, PeerIdentity([3; 32]));
            assert_eq!(g.relays, relays);
            assert_eq!(g.app_id, b"cli");
            let nested = ClientMessage::from_message(g.join_msg.as_ref().unwrap()).unwrap();
            assert_eq!(nested.parts, join.to_client_message().unwrap().parts);
        }
        other => panic!("{other:?}"),
    }
    // Talk waits for admission: nothing is written before the decision.
    s.talk("_converse", Environment::new(), b"hi".to_vec())
        .unwrap();
    feed(
        &mut s,
        GuestEnterAck {
            result_code: 1,
            max_message_id: 7,
        },
    );
    assert!(written(&mut s).is_empty());
    let mut decision = JoinDecision::new(1, EGO);
    decision.response = Some(
        message("_notice_place_admit", &[], b"Welcome, nym!\0")
            .to_client_message()
            .unwrap()
            .to_message(),
    );
    feed(&mut s, decision);
    let evs = events(&mut s);
    assert_eq!(
        evs[0],
        Event::SlaveConnected {
            result: 1,
            max_message_id: 7
        }
    );
    match &evs[1] {
        Event::JoinDecision {
            is_admitted: 1,
            response: Some(r),
        } => assert_eq!(r.data, b"Welcome, nym!\0"),
        other => panic!("{other:?}"),
    }
    assert_eq!(reassemble(&decoded(&mut s)).data, b"hi");
}

#[test]
fn guest_enter_by_name_learns_the_place_from_app_place() {
    let mut s = PlaceSession::guest_enter_by_name("cli", EGO, "home.host.gnu", "", None).unwrap();
    assert_eq!(s.place_pub_key(), None);
    s.connected();
    match &decoded(&mut s)[..] {
        [Request::GuestEnterByName(g)] => {
            assert_eq!(g.gns_name, b"home.host.gnu");
            assert_eq!(g.password, b"");
            assert_eq!(g.join_msg, None);
        }
        other => panic!("{other:?}"),
    }
    feed(
        &mut s,
        AppPlace {
            ego_pub_key: EGO,
            place_pub_key: PLACE,
            is_host: 0,
            place_state: 1,
        },
    );
    assert_eq!(s.place_pub_key(), Some(PLACE));
    assert!(events(&mut s).is_empty());
    assert!(matches!(
        PlaceSession::guest_enter_by_name("cli", EGO, "a\0b", "", None),
        Err(SessionError::InvalidArgument(_))
    ));
}

#[test]
fn guest_reconnect_sends_no_origin_and_a_local_guest_cannot_talk() {
    let mut s = PlaceSession::guest_reconnect("cli", EGO, PLACE, slave_join_flags::LOCAL).unwrap();
    s.connected();
    match &decoded(&mut s)[..] {
        [Request::GuestEnter(g)] => {
            assert_eq!(g.origin, PeerIdentity::default());
            assert!(g.relays.is_empty() && g.join_msg.is_none());
            assert_eq!(g.flags, slave_join_flags::LOCAL);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.talk("_m", Environment::new(), vec![]),
        Err(SessionError::LocalSlave)
    );
    // Not leaving with a notice either: PLACE_LEAVE at once.
    s.leave(Environment::new()).unwrap();
    assert_eq!(written(&mut s), [vec![0, 4, 0x03, 0x50]]);
}

#[test]
fn app_ids_are_checked() {
    assert!(PlaceSession::host_enter(&"a".repeat(254), EGO, 0).is_ok());
    assert!(matches!(
        PlaceSession::host_enter(&"a".repeat(255), EGO, 0),
        Err(SessionError::InvalidArgument(_))
    ));
    assert!(PlaceSession::host_reconnect("a\0", EGO, PLACE).is_err());
}

// ------------------------------------------------------------ admission

#[test]
fn host_answers_entry_requests() {
    let mut s = entered_host();
    let join = message(
        "_request_enter",
        &[(Operator::Set, "_foo", b"bar\0")],
        b"let me in\0",
    );
    feed(
        &mut s,
        JoinRequest {
            slave_pub_key: NYM,
            join_msg: Some(join.to_client_message().unwrap().to_message()),
        },
    );
    assert_eq!(
        events(&mut s),
        [Event::JoinRequest {
            slave_pub_key: NYM,
            message: Some(join.clone()),
        }]
    );
    let response = message("_notice_place_admit", &[], b"Welcome, nym!\0");
    s.entry_decision(NYM, true, Some(&response)).unwrap();
    match &decoded(&mut s)[..] {
        [Request::JoinDecision(d)] => {
            assert_eq!((d.is_admitted, d.slave_pub_key), (1, NYM));
            assert_eq!(d.relay_slots, 0);
            assert!(d.response.is_some());
        }
        other => panic!("{other:?}"),
    }
    s.entry_decision(NYM, false, None).unwrap();
    assert_eq!(written(&mut s)[0].len(), 40);
    let mut guest = admitted_guest();
    assert_eq!(
        guest.entry_decision(NYM, true, None),
        Err(SessionError::WrongRole(Role::Slave))
    );
}

// ------------------------------------------------------------ messages

#[test]
fn announce_carries_method_modifiers_and_data_paced_by_acks() {
    let mut s = entered_host().with_limits(Limits::default());
    let mut env = Environment::new();
    env.add(Operator::Set, "_foo", b"bar baz\0".to_vec())
        .unwrap();
    env.add(Operator::Assign, "_topic", b"x".to_vec()).unwrap();
    // Three containers' worth of body.
    let body = vec![7u8; 150_000];
    s.announce("_converse", env.clone(), body.clone()).unwrap();
    let first = decoded(&mut s);
    assert!(first.iter().all(|r| matches!(r, Request::Message(_))));
    let mut all = first.clone();
    for _ in 0..first.len() {
        ack(&mut s);
        all.extend(decoded(&mut s));
    }
    while !matches!(
        events(&mut s)[..],
        [Event::Transmitted { cancelled: false }]
    ) {
        ack(&mut s);
        all.extend(decoded(&mut s));
    }
    let m = reassemble(&all);
    assert_eq!(m.method, "_converse");
    assert_eq!(m.env, env);
    assert_eq!(m.data, body);
    // `=` makes the message stateful.
    assert_eq!(m.flags & METHOD_STATE_MODIFY, METHOD_STATE_MODIFY);
    // Talking is the guest's.
    assert_eq!(
        s.talk("_m", Environment::new(), vec![]),
        Err(SessionError::WrongRole(Role::Master))
    );
}

#[test]
fn the_window_bounds_containers_in_flight() {
    let mut s = entered_host().with_limits(Limits {
        max_containers_in_flight: 2,
        ..Limits::default()
    });
    s.announce("_m", Environment::new(), vec![1; 64_000 * 5])
        .unwrap();
    assert_eq!(written(&mut s).len(), 2);
    assert!(written(&mut s).is_empty());
    ack(&mut s);
    assert_eq!(written(&mut s).len(), 1);
}

#[test]
fn incoming_messages_and_cancellations_are_events() {
    let mut s = admitted_guest();
    let m = message(
        "_converse_host",
        &[(Operator::Assign, "_foo", b"bar baz\0")],
        b"hello",
    );
    feed(&mut s, delivery(&m, 0, 5, [0; 32]));
    match &events(&mut s)[..] {
        [Event::Message(r)] => {
            assert_eq!((r.message_id, r.flags), (5, 0));
            assert_eq!(r.message, m);
        }
        other => panic!("{other:?}"),
    }
    // A message its sender cancels.
    let mut parts = Vec::new();
    psyc::format::parts::Part::Method(psyc::format::parts::MethodPart {
        flags: 0,
        state_delta: 0,
        name: b"_converse".as_slice().into(),
    })
    .emit(&mut parts);
    psyc::format::parts::Part::Cancel.emit(&mut parts);
    let header = DeliveryHeader {
        message_id: 6,
        ..DeliveryHeader::default()
    };
    feed(&mut s, Delivery { header, parts });
    assert!(matches!(
        events(&mut s)[..],
        [Event::MessageCancelled { message_id: 6, .. }]
    ));
}

#[test]
fn eject_announces_the_32_byte_nym() {
    let mut s = entered_host();
    let mut env = Environment::new();
    env.add(Operator::Set, "_reason", b"spam".to_vec()).unwrap();
    s.eject(NYM, env).unwrap();
    let m = reassemble(&decoded(&mut s));
    assert_eq!(m.method, "_notice_place_leave");
    let nym = m.env.iter().find(|v| v.name == "_nym").unwrap();
    assert_eq!(
        (nym.oper, nym.value.as_slice()),
        (Operator::Set, &NYM.0[..])
    );
    ack(&mut s);
    // The caller's message: its outcome shows.
    assert_eq!(events(&mut s), [Event::Transmitted { cancelled: false }]);
}

#[test]
fn a_guests_farewell_is_reported_and_announced_by_the_host() {
    let mut s = entered_host();
    // The caller's own announcement is in flight when the farewell arrives.
    s.announce("_converse", Environment::new(), b"one".to_vec())
        .unwrap();
    written(&mut s);
    let leave = message(
        "_notice_place_leave",
        &[
            (Operator::Set, "_message", b"Leaving.\0"),
            (Operator::Set, "_nym", b"forged"),
        ],
        b"",
    );
    feed(&mut s, delivery(&leave, DELIVERY_REQUEST, 1, NYM.0));
    let evs = events(&mut s);
    assert!(matches!(&evs[..], [Event::Message(r)] if r.slave_pub_key == NYM));
    // The announcement follows the caller's message.
    ack(&mut s);
    let announced = reassemble(&decoded(&mut s));
    assert_eq!(announced.method, "_notice_place_leave");
    let vars: Vec<_> = announced
        .env
        .iter()
        .map(|v| (v.name.as_str(), v.value.clone()))
        .collect();
    assert_eq!(
        vars,
        [
            ("_message", b"Leaving.\0".to_vec()),
            ("_nym", NYM.0.to_vec())
        ]
    );
    ack(&mut s);
    // Only the caller's message has an outcome.
    assert_eq!(events(&mut s), [Event::Transmitted { cancelled: false }]);
    // The host's own notice (no guest key) is no farewell.
    feed(&mut s, delivery(&leave, 0, 2, [0; 32]));
    assert_eq!(events(&mut s).len(), 1);
    assert!(written(&mut s).is_empty());
}

// ------------------------------------------------------------ leaving

#[test]
fn host_leave_announces_closing_then_leaves() {
    let mut s = entered_host();
    let mut env = Environment::new();
    env.add(Operator::Set, "_message", b"bye".to_vec()).unwrap();
    s.leave(env.clone()).unwrap();
    assert!(s.is_leaving());
    let notice = reassemble(&decoded(&mut s));
    assert_eq!(
        (notice.method.as_str(), &notice.env),
        ("_notice_place_closing", &env)
    );
    // PLACE_LEAVE only after the notice is acknowledged.
    assert!(written(&mut s).is_empty());
    ack(&mut s);
    assert_eq!(written(&mut s), [vec![0, 4, 0x03, 0x50]]);
    assert!(events(&mut s).is_empty());
    assert_eq!(s.leave(Environment::new()), Err(SessionError::Parted));
    feed(&mut s, PlaceLeaveAck);
    assert_eq!(events(&mut s), [Event::Parted]);
}

#[test]
fn guest_leave_talks_the_notice_and_unadmitted_guests_leave_at_once() {
    let mut s = admitted_guest();
    s.leave(Environment::new()).unwrap();
    assert_eq!(reassemble(&decoded(&mut s)).method, "_notice_place_leave");
    ack(&mut s);
    assert_eq!(
        decoded(&mut s),
        [Request::PlaceLeave(social::msg::PlaceLeave)]
    );

    let mut waiting =
        PlaceSession::guest_enter("cli", EGO, PLACE, PeerIdentity([3; 32]), vec![], None).unwrap();
    waiting.connected();
    written(&mut waiting);
    feed(
        &mut waiting,
        GuestEnterAck {
            result_code: 1,
            max_message_id: 0,
        },
    );
    waiting.leave(Environment::new()).unwrap();
    assert_eq!(
        decoded(&mut waiting),
        [Request::PlaceLeave(social::msg::PlaceLeave)]
    );
    // Offline, leaving ends at once.
    let mut offline = PlaceSession::host_reconnect("cli", EGO, PLACE).unwrap();
    offline.leave(Environment::new()).unwrap();
    assert_eq!(events(&mut offline), [Event::Parted]);
}

#[test]
fn a_notice_lost_with_the_connection_still_leaves() {
    let mut s = entered_host();
    s.leave(Environment::new()).unwrap();
    written(&mut s);
    s.disconnected();
    assert_eq!(events(&mut s), [Event::Parted]);
}

// ------------------------------------------------------------ operations

#[test]
fn history_replay_and_latest() {
    let mut s = admitted_guest();
    let op = s.history_replay(1, 3, "_converse").unwrap();
    let latest = s.history_latest(2, "").unwrap();
    match &decoded(&mut s)[..] {
        [Request::HistoryReplay(a), Request::HistoryReplay(b)] => {
            assert_eq!(
                (
                    a.op_id,
                    a.start_message_id,
                    a.end_message_id,
                    a.message_limit,
                    a.flags
                ),
                (op, 1, 3, 0, 0)
            );
            assert_eq!(a.method_prefix_c(), b"_converse");
            assert_eq!((b.op_id, b.message_limit), (latest, 2));
        }
        other => panic!("{other:?}"),
    }
    let m = message("_converse_host", &[], b"x");
    feed(
        &mut s,
        HistoryResult::new(op, delivery(&m, DELIVERY_HISTORIC, 2, [0; 32])),
    );
    feed(&mut s, ResultCode::new(op, 1));
    let evs = events(&mut s);
    assert!(
        matches!(&evs[0], Event::HistoryMessage { op_id, message } if *op_id == op && message.message == m)
    );
    assert_eq!(
        evs[1],
        Event::OperationDone {
            op_id: op,
            result: 1,
            error: None
        }
    );
    assert!(s.history_latest(0, "").is_err());
}

#[test]
fn look_at_and_look_for() {
    let mut s = admitted_guest();
    let at = s.look_at("_foo_bar").unwrap();
    let prefix = s.look_for("_foo").unwrap();
    match &decoded(&mut s)[..] {
        [Request::StateGet(a), Request::StateGetPrefix(b)] => {
            assert_eq!((a.op_id, a.name_c()), (at, &b"_foo_bar"[..]));
            assert_eq!((b.op_id, b.name_c()), (prefix, &b"_foo"[..]));
        }
        other => panic!("{other:?}"),
    }
    let mut part = Vec::new();
    psyc::format::parts::Part::Modifier(psyc::format::parts::ModifierPart {
        value_size: 7,
        oper: b'=',
        name: b"_foo_bar".as_slice().into(),
        value: b"foo bar".as_slice().into(),
    })
    .emit(&mut part);
    feed(&mut s, StateResult::new(at, part));
    feed(&mut s, ResultCode::new(at, 1));
    assert_eq!(
        events(&mut s),
        [
            Event::StateVar {
                op_id: at,
                name: "_foo_bar".into(),
                value: b"foo bar".to_vec()
            },
            Event::OperationDone {
                op_id: at,
                result: 1,
                error: None
            }
        ]
    );
}

#[test]
fn msg_proc_set_and_clear() {
    let mut s = entered_host();
    s.msg_proc_set("_converse", msg_proc_flags::RELAY).unwrap();
    s.msg_proc_clear().unwrap();
    let out = written(&mut s);
    let mut set = vec![0, 18, 0x03, 0x5a, 0, 0, 0, 1];
    set.extend_from_slice(b"_converse\0");
    assert_eq!(out, [set, vec![0, 4, 0x03, 0x5b]]);
    assert!(matches!(
        s.msg_proc_set("_x", 4),
        Err(SessionError::InvalidArgument(_))
    ));
    let mut offline = PlaceSession::host_reconnect("cli", EGO, PLACE).unwrap();
    assert_eq!(
        offline.msg_proc_set("_x", msg_proc_flags::SAVE),
        Err(SessionError::NotConnected)
    );
}

// ------------------------------------------------------------ hostile input

#[test]
fn replies_of_the_wrong_kind_are_errors() {
    let mut guest = admitted_guest();
    let ack = HostEnterAck {
        result_code: 1,
        max_message_id: 0,
        place_pub_key: PLACE,
    };
    assert!(matches!(
        guest.handle_message(&ack.to_message()),
        Err(SessionError::Unexpected {
            got: "HOST_ENTER_ACK",
            ..
        })
    ));
    let ego = AppEgo {
        ego_pub_key: EGO,
        name: b"me".to_vec(),
    };
    assert!(guest.handle_message(&ego.to_message()).is_err());
    assert!(matches!(
        guest.handle_message(&[0, 4, 0x03, 0x4b]),
        Err(SessionError::Malformed(_))
    ));
    let mut host = entered_host();
    assert!(host
        .handle_message(
            &GuestEnterAck {
                result_code: 1,
                max_message_id: 0
            }
            .to_message()
        )
        .is_err());
    assert!(host
        .handle_message(&[0, 5, 0x02, TYPE_MESSAGE as u8, 0])
        .is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Whatever the service sends, a host and a guest (each with operations open, a message
    /// going out and leaving begun) do not panic, and write only valid requests.
    #[test]
    fn arbitrary_replies_never_panic(
        msgs in proptest::collection::vec(
            (0u16..190, proptest::collection::vec(any::<u8>(), 0..120)),
            1..10
        )
    ) {
        let mut sessions = [entered_host(), admitted_guest()];
        for s in &mut sessions {
            s.look_for("_").unwrap();
            s.history_latest(3, "").unwrap();
            s.channel_mut().transmit("_m", 0, Environment::new(), vec![1; 70_000]).unwrap();
            s.leave(Environment::new()).unwrap();
        }
        for (t, body) in msgs {
            let msg_type = if t < 30 { 680 + t } else { 840 + (t - 30) % 30 };
            let mut m = ((body.len() + 4) as u16).to_be_bytes().to_vec();
            m.extend_from_slice(&msg_type.to_be_bytes());
            m.extend_from_slice(&body);
            for s in &mut sessions {
                let _ = s.handle_message(&m);
                if m.len() >= 16 {
                    let mut steered = m.clone();
                    steered[8..16].copy_from_slice(&1u64.to_be_bytes());
                    let _ = s.handle_message(&steered);
                }
                while s.poll_event().is_some() {}
                for out in std::iter::from_fn(|| s.poll_transmit()) {
                    prop_assert!(Request::decode(&out).is_ok());
                }
            }
        }
    }
}
