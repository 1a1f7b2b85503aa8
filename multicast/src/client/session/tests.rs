//! The session on its own: what it writes on connect and reconnect, how acks pace fragments,
//! how replay answers are matched, and what it refuses.

use super::*;
use crate::client::{decide, part, replay_end, replay_error};
use crate::msg::{
    Decision, FragmentAck, JoinDecision, JoinRequest, PartAck, ReplayResponse, ReplayResponseEnd,
    Request, REFUSED,
};

fn origin() -> Session {
    Session::origin(eddsa::PrivateKey([1; 32]), 0)
}

fn member() -> Session {
    Session::member(
        eddsa::PublicKey([2; 32]),
        ecdsa::PrivateKey([3; 32]),
        PeerIdentity([4; 32]),
        vec![],
        None,
    )
    .unwrap()
}

/// `s` connected, with its start message already written.
fn live(mut s: Session) -> Session {
    s.connected();
    written(&mut s);
    s
}

/// Everything the session wants written, decoded.
fn written(s: &mut Session) -> Vec<Any> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|m| Any::decode(&m).expect("the session writes valid messages"))
        .collect()
}

fn events(s: &mut Session) -> Vec<SessionEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// The fragment the service would echo to origin clients (or deliver to members).
fn signed(id: u64, message_id: u64, offset: u64) -> Fragment {
    let mut f = Fragment::unsigned(message_id, offset, 0, 0, b"x".to_vec());
    f.fragment_id = id;
    f
}

fn deliver(s: &mut Session, m: impl Message) {
    s.handle_message(&m.to_message())
        .expect("a message for clients");
}

fn decision(is_admitted: i32) -> JoinDecision {
    JoinDecision {
        peer: PeerIdentity([4; 32]),
        member_pub_key: ecdsa::PublicKey([5; 32]),
        decision: Decision {
            is_admitted,
            relays: vec![],
            response: None,
        },
        admitted_after: None,
    }
}

fn payloads(messages: &[Any]) -> Vec<Vec<u8>> {
    messages
        .iter()
        .filter_map(|m| match m {
            Any::Fragment(f) => Some(f.payload.clone()),
            Any::Request(q) => Some(q.payload.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn start_message_goes_first_on_every_connect_and_carries_the_newest_fragment_id() {
    let mut s = origin();
    assert!(written(&mut s).is_empty(), "nothing before a connection");
    s.connected();
    assert!(matches!(&written(&mut s)[..], [Any::OriginStart(m)] if m.max_fragment_id == 0));
    deliver(&mut s, signed(7, 1, 0));
    deliver(&mut s, signed(5, 1, 0));
    assert_eq!(s.max_fragment_id(), Some(7));
    s.disconnected();
    s.connected();
    match &written(&mut s)[..] {
        [Any::OriginStart(m)] => {
            assert_eq!(m.max_fragment_id, 7);
            assert_eq!(m.group_key, eddsa::PrivateKey([1; 32]));
        }
        other => panic!("expected ORIGIN_START, got {other:?}"),
    }

    let mut m = member();
    m.connected();
    m.disconnected();
    m.connected();
    assert!(
        matches!(&written(&mut m)[..], [Any::MemberJoin(j)] if j.origin == PeerIdentity([4; 32]))
    );
}

#[test]
fn one_fragment_in_flight_until_its_ack() {
    let mut s = origin();
    s.set_fragmenter(Fragmenter::with_max_payload(2));
    s.connected();
    written(&mut s);
    s.transmit(9, 0, b"abcdef").unwrap();
    assert_eq!(payloads(&written(&mut s)), [b"ab"]);
    assert_eq!(s.unacknowledged(), 3);
    deliver(&mut s, FragmentAck);
    assert_eq!(payloads(&written(&mut s)), [b"cd"]);
    deliver(&mut s, FragmentAck);
    assert_eq!(payloads(&written(&mut s)), [b"ef"]);
    assert!(events(&mut s).is_empty());
    deliver(&mut s, FragmentAck);
    assert_eq!(events(&mut s), [SessionEvent::AllAcknowledged]);
    assert_eq!(s.unacknowledged(), 0);
    // An extra ACK (the C service sends several) releases nothing and says nothing.
    deliver(&mut s, FragmentAck);
    assert!(written(&mut s).is_empty() && events(&mut s).is_empty());
    // The offsets count whole fragments, as the C library's.
    s.transmit(10, 0, b"ghij").unwrap();
    deliver(&mut s, FragmentAck);
    let offsets: Vec<u64> = written(&mut s)
        .iter()
        .filter_map(|m| match m {
            Any::Fragment(f) => Some(f.fragment_offset),
            _ => None,
        })
        .collect();
    assert_eq!(offsets, [0, msg::FRAGMENT_HEADER_SIZE as u64 + 2]);
}

#[test]
fn unacknowledged_fragment_is_sent_again_after_the_start_message() {
    let mut s = origin();
    s.set_fragmenter(Fragmenter::with_max_payload(1));
    s.connected();
    s.transmit(1, 0, b"ab").unwrap();
    written(&mut s);
    s.disconnected();
    assert!(s.poll_transmit().is_none());
    s.transmit(2, 0, b"c").unwrap();
    s.connected();
    let out = written(&mut s);
    assert!(matches!(out[0], Any::OriginStart(_)));
    assert_eq!(payloads(&out), [b"a"], "the unacknowledged fragment, alone");
    deliver(&mut s, FragmentAck);
    deliver(&mut s, FragmentAck);
    assert_eq!(payloads(&written(&mut s)), [b"b", b"c"]);
}

#[test]
fn member_requests_wait_for_admission_on_each_connection() {
    let mut s = live(member());
    s.request(4, b"hello").unwrap();
    assert!(written(&mut s).is_empty(), "not admitted yet");
    deliver(&mut s, decision(REFUSED));
    assert!(written(&mut s).is_empty());
    assert!(!s.is_admitted());
    assert!(matches!(
        &events(&mut s)[..],
        [SessionEvent::Service(Event::JoinDecision(d))] if d.decision.is_admitted == REFUSED
    ));
    deliver(&mut s, decision(ADMITTED));
    let out = written(&mut s);
    assert!(matches!(&out[..], [Any::Request(q)] if q.request_id == 4 && q.payload == b"hello"));

    // A new connection must be admitted again before the request goes out once more.
    s.disconnected();
    s.connected();
    assert!(matches!(&written(&mut s)[..], [Any::MemberJoin(_)]));
    deliver(&mut s, decision(ADMITTED));
    assert_eq!(payloads(&written(&mut s)), [b"hello"]);
}

#[test]
fn replays_are_matched_by_fragment_id_or_by_message_and_offset() {
    let mut s = live(member());
    let by_id = ReplayIds {
        fragment_id: 3,
        ..ReplayIds::default()
    };
    let by_message = ReplayIds {
        message_id: 8,
        fragment_offset: 116,
        ..ReplayIds::default()
    };
    s.replay(by_id).unwrap();
    s.replay(by_message).unwrap();
    s.replay(by_id).unwrap();
    let out = written(&mut s);
    assert!(
        matches!(&out[..], [Any::ReplayRequest(a), Any::ReplayRequest(b)]
            if a.ids == by_id && b.ids == by_message && a.member_pub_key.0 == [0; 32]),
        "each asked once: {out:?}"
    );
    assert_eq!(s.pending_replays(), [by_id, by_message]);

    // A fragment that answers neither is a live message.
    deliver(&mut s, signed(4, 8, 0));
    assert!(matches!(
        &events(&mut s)[..],
        [SessionEvent::Service(Event::Message(f))] if f.fragment_id == 4
    ));
    deliver(&mut s, signed(3, 1, 0));
    deliver(&mut s, signed(9, 8, 116));
    assert_eq!(
        events(&mut s),
        [
            SessionEvent::ReplayDone {
                ids: by_id,
                result: Ok(signed(3, 1, 0))
            },
            SessionEvent::ReplayDone {
                ids: by_message,
                result: Ok(signed(9, 8, 116))
            },
        ]
    );
    assert!(s.pending_replays().is_empty());
}

#[test]
fn failed_and_ended_replays_are_done_and_unknown_failures_pass_through() {
    let mut s = member();
    s.connected();
    let a = ReplayIds {
        fragment_id: 1,
        flags: 2059,
        ..ReplayIds::default()
    };
    let b = ReplayIds {
        fragment_id: 2,
        ..ReplayIds::default()
    };
    s.replay(a).unwrap();
    s.replay(b).unwrap();
    s.handle_message(&replay_error(a, ReplayError::Other(-1)))
        .unwrap();
    s.handle_message(&replay_end(b)).unwrap();
    let unknown = ReplayIds {
        fragment_id: 77,
        ..ReplayIds::default()
    };
    s.handle_message(&replay_error(unknown, ReplayError::NotFound))
        .unwrap();
    assert_eq!(
        events(&mut s),
        [
            SessionEvent::ReplayDone {
                ids: a,
                result: Err(ReplayError::Other(-1))
            },
            SessionEvent::ReplayDone {
                ids: b,
                result: Err(ReplayError::NotFound)
            },
            SessionEvent::Service(Event::ReplayResponse(ReplayResponse {
                ids: unknown,
                error_code: ReplayError::NotFound,
                fragment: None
            })),
        ]
    );
    // An end for nothing pending is no event.
    deliver(
        &mut s,
        ReplayResponseEnd {
            ids: a,
            error_code: 0,
        },
    );
    assert!(events(&mut s).is_empty());
}

#[test]
fn a_successful_replay_response_carries_its_fragment() {
    let mut s = member();
    s.connected();
    let ids = ReplayIds {
        fragment_id: 5,
        ..ReplayIds::default()
    };
    s.replay(ids).unwrap();
    s.handle_message(&super::super::replay_fragment_response(ids, &signed(5, 1, 0)).unwrap())
        .unwrap();
    assert_eq!(
        events(&mut s),
        [SessionEvent::ReplayDone {
            ids,
            result: Ok(signed(5, 1, 0))
        }]
    );
}

#[test]
fn pending_replays_are_asked_again_after_a_reconnect_and_bounded() {
    let mut s = Session::with_limits(Limits {
        max_pending_replays: 2,
        ..Limits::default()
    });
    s.replay(ReplayIds::default()).unwrap_err();
    s.send(member().start_message().unwrap()).unwrap();
    let ids = |n| ReplayIds {
        fragment_id: n,
        ..ReplayIds::default()
    };
    s.replay(ids(1)).unwrap();
    s.replay(ids(2)).unwrap();
    assert_eq!(
        s.replay(ids(3)),
        Err(SessionError::QueueFull("pending replays"))
    );
    assert!(written(&mut s).is_empty(), "asked only once connected");
    s.connected();
    let out = written(&mut s);
    assert!(matches!(
        &out[..],
        [Any::MemberJoin(_), Any::ReplayRequest(a), Any::ReplayRequest(b)]
            if a.ids == ids(1) && b.ids == ids(2)
    ));
}

#[test]
fn roles_order_and_bounds_are_enforced() {
    let mut s = Session::new();
    assert_eq!(s.transmit(1, 0, b"x"), Err(SessionError::NotStarted));
    assert!(matches!(
        s.send(vec![0, 5, 2, 0xee]),
        Err(SessionError::Malformed(_))
    ));
    s.connected();
    let j = JoinRequest::unsigned(
        eddsa::PublicKey([0; 32]),
        ecdsa::PublicKey([0; 32]),
        PeerIdentity([0; 32]),
        None,
    );
    assert_eq!(
        s.send(decide(&j, ADMITTED, vec![], None).unwrap()),
        Err(SessionError::NotStarted)
    );
    s.send(origin().start_message().unwrap()).unwrap();
    assert_eq!(
        s.send(member().start_message().unwrap()),
        Err(SessionError::AlreadyStarted)
    );
    assert_eq!(s.role(), Some(Role::Origin));
    assert_eq!(
        s.request(1, b"x"),
        Err(SessionError::WrongRole(msg::TYPE_REQUEST))
    );
    assert_eq!(
        s.replay(ReplayIds::default()),
        Err(SessionError::WrongRole(msg::TYPE_REPLAY_REQUEST))
    );
    s.send(decide(&j, ADMITTED, vec![], None).unwrap()).unwrap();
    assert!(matches!(
        s.send(FragmentAck.to_message()),
        Err(SessionError::Malformed(_))
    ));
    assert!(matches!(
        &written(&mut s)[..],
        [Any::OriginStart(_), Any::JoinDecision(_)]
    ));
    s.disconnected();
    assert_eq!(
        s.send(decide(&j, ADMITTED, vec![], None).unwrap()),
        Err(SessionError::NotConnected),
        "an answer means nothing on the next connection"
    );

    let mut m = member();
    m.connected();
    assert_eq!(
        m.send(decide(&j, ADMITTED, vec![], None).unwrap()),
        Err(SessionError::WrongRole(msg::TYPE_JOIN_DECISION))
    );
    m.send(replay_end(ReplayIds::default())).unwrap();

    let mut small = Session::with_limits(Limits {
        max_queued_bytes: 2 * msg::FRAGMENT_HEADER_SIZE,
        ..Limits::default()
    });
    small.send(origin().start_message().unwrap()).unwrap();
    small.transmit(1, 0, b"").unwrap();
    assert_eq!(
        small.transmit(2, 0, b"too much"),
        Err(SessionError::QueueFull("fragments"))
    );
    assert_eq!(small.unacknowledged(), 1, "all or nothing");
}

#[test]
fn part_ends_the_session_once_confirmed_or_disconnected() {
    let mut s = live(member());
    s.request(1, b"never sent").unwrap();
    s.send(part()).unwrap();
    assert!(matches!(&written(&mut s)[..], [Any::PartRequest(_)]));
    assert_eq!(s.request(2, b"x"), Err(SessionError::Parted));
    assert!(!s.is_parted());
    deliver(&mut s, PartAck);
    assert_eq!(events(&mut s), [SessionEvent::Parted]);
    assert!(s.is_parted() && s.unacknowledged() == 0);
    s.disconnected();
    s.connected();
    assert!(
        written(&mut s).is_empty(),
        "nothing is re-sent after parting"
    );

    let mut s = origin();
    s.connected();
    s.part().unwrap();
    s.disconnected();
    assert_eq!(events(&mut s), [SessionEvent::Parted]);

    let mut s = origin();
    s.part().unwrap();
    assert_eq!(
        events(&mut s),
        [SessionEvent::Parted],
        "no connection to wait for"
    );
}

#[test]
fn messages_written_around_the_session_are_noted() {
    let mut s = Session::new();
    s.connected();
    s.note_written(&member().start_message().unwrap());
    assert_eq!(s.role(), Some(Role::Member));
    s.note_written(&super::super::replay_fragment(6, 0));
    assert_eq!(s.pending_replays().len(), 1);
    deliver(&mut s, decision(ADMITTED));
    // A raw request waits for its ACK before the session sends its own.
    s.note_written(&Request::unsigned(1, 0, 0, b"raw".to_vec()).to_message());
    s.request(2, b"mine").unwrap();
    assert!(written(&mut s).is_empty());
    deliver(&mut s, FragmentAck);
    assert_eq!(payloads(&written(&mut s)), [b"mine"]);
    s.note_written(&part());
    deliver(&mut s, PartAck);
    assert!(s.is_parted());
}

#[test]
fn messages_no_service_sends_to_clients_are_errors_and_change_nothing() {
    let mut s = live(origin());
    for bytes in [part(), member().start_message().unwrap(), vec![0, 4, 0, 1]] {
        assert!(s.handle_message(&bytes).is_err());
    }
    assert!(written(&mut s).is_empty() && events(&mut s).is_empty());
}
