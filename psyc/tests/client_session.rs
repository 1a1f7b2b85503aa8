//! The sans-IO psyc client session: what it writes, what it makes of the service's replies,
//! MESSAGE_ACK backpressure and pipelining, op-id matching, reconnects and hostile input.

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use proptest::prelude::*;

use psyc::client::{DropReason, Event, Limits, ReceivedMessage, Role, Session, SessionError};
use psyc::format::container::{DELIVERY_HISTORIC, DELIVERY_REQUEST};
use psyc::format::env::{Environment, Operator};
use psyc::format::message::PsycMessage;
use psyc::format::parts::{Part, PartKind, Parts, FRAGMENT_MAX_PAYLOAD, METHOD_STATE_MODIFY};
use psyc::format::receive::{Assembler, Completed, MessageMeta};
use psyc::msg::{
    history_replay_flags, policy, slave_join_flags, ClientMessage, Delivery, DeliveryHeader,
    HistoryReplay, HistoryResult, JoinDecision, JoinRequest, MasterStart, MasterStartAck,
    MembershipStore, MessageAck, PartAck, Request, ResultCode, SlaveJoin, SlaveJoinAck, StateGet,
    StateGetPrefix, StateResult,
};

#[path = "client_session/ops.rs"]
mod ops;
#[path = "client_session/pipeline.rs"]
mod pipeline;
#[path = "client_session/transmit.rs"]
mod transmit;

// ------------------------------------------------------------ helpers

fn master() -> Session {
    Session::master(eddsa::PrivateKey([7; 32]), policy::PRIVATE)
}

/// A master connected, started, its start message written.
fn started_master() -> Session {
    let mut s = master();
    s.connected();
    assert!(s.poll_transmit().is_some());
    accept_start(&mut s, 0);
    s
}

/// The service's MASTER_START_ACK (started, the channel's last message `max_message_id`),
/// its event taken.
fn accept_start(s: &mut Session, max_message_id: u64) {
    feed(
        s,
        MasterStartAck {
            result_code: 1,
            max_message_id,
        },
    );
    assert!(matches!(s.poll_event(), Some(Event::MasterStarted { .. })));
}

fn slave(flags: u32, join: Option<&PsycMessage>) -> Session {
    Session::slave(
        eddsa::PublicKey([1; 32]),
        ecdsa::PrivateKey([2; 32]),
        PeerIdentity([3; 32]),
        vec![PeerIdentity([4; 32]), PeerIdentity([5; 32])],
        flags,
        join,
    )
    .unwrap()
}

fn feed<M: Message>(s: &mut Session, m: M) {
    s.handle_message(&m.to_message()).unwrap();
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn written(s: &mut Session) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}

fn message(method: &str, mods: &[(Operator, &str, &[u8])], data: &[u8]) -> PsycMessage {
    let mut m = PsycMessage::new(method);
    for (oper, name, value) in mods {
        m.env.add(*oper, name, value.to_vec()).unwrap();
    }
    m.data = data.to_vec();
    m
}

/// The containers a service would deliver for `m`, cut after every part so that a message
/// spans several containers.
fn deliveries(m: &PsycMessage, flags: u32, message_id: u64, slave: [u8; 32]) -> Vec<Vec<u8>> {
    let mut parts = Vec::new();
    m.render_parts(&mut parts).unwrap();
    let header = DeliveryHeader {
        flags,
        message_id,
        fragment_offset: 0,
        slave_pub_key: slave,
    };
    let mut out = Vec::new();
    let mut rest = &parts[..];
    while !rest.is_empty() {
        let (_, len) = Part::parse(rest).unwrap();
        out.push(
            Delivery {
                header,
                parts: rest[..len].to_vec(),
            }
            .to_message(),
        );
        rest = &rest[len..];
    }
    out
}

/// Reassembles client containers written by a session into the message they carry.
fn reassemble(containers: &[Vec<u8>]) -> PsycMessage {
    let mut a = Assembler::default();
    let mut done = None;
    for c in containers {
        let m = ClientMessage::from_message(c).unwrap();
        assert!(m.parts.len() <= FRAGMENT_MAX_PAYLOAD);
        if let Some(Completed::Message { message, .. }) =
            a.push_parts(MessageMeta::default(), &m.parts).unwrap()
        {
            done = Some(message);
        }
    }
    done.expect("containers end the message")
}

fn modifier_part(oper: u8, name: &str, value: &[u8], value_size: u32) -> Vec<u8> {
    let mut p = Vec::new();
    Part::Modifier(psyc::format::parts::ModifierPart {
        value_size,
        oper,
        name: name.as_bytes().into(),
        value: value.into(),
    })
    .emit(&mut p);
    p
}
// ------------------------------------------------------------ start and join

#[test]
fn master_start_goes_first_with_policy_in_host_order() {
    let mut s = master();
    assert_eq!(s.role(), Role::Master);
    assert!(s.poll_transmit().is_none(), "nothing before a connection");
    s.connected();
    let start = s.poll_transmit().unwrap();
    assert_eq!(
        MasterStart::from_message(&start).unwrap(),
        MasterStart {
            policy: policy::PRIVATE,
            channel_key: eddsa::PrivateKey([7; 32])
        }
    );
    assert_eq!(&start[4..8], &[3, 0, 0, 0]);
    feed(
        &mut s,
        MasterStartAck {
            result_code: 0,
            max_message_id: 42,
        },
    );
    assert_eq!(
        events(&mut s),
        [Event::MasterStarted {
            result: 0,
            max_message_id: 42
        }]
    );
    assert!(s.is_ready());
}

#[test]
fn slave_join_carries_relays_flags_and_the_join_message() {
    let join = message(
        "_request_join",
        &[
            (Operator::Assign, "_foo", b"bar baz"),
            (Operator::Assign, "_foo_bar", b"foo bar baz"),
        ],
        b"some data",
    );
    let mut s = slave(slave_join_flags::LOCAL, Some(&join));
    s.connected();
    let j = SlaveJoin::from_message(&s.poll_transmit().unwrap()).unwrap();
    assert_eq!(j.flags, slave_join_flags::LOCAL);
    assert_eq!(j.relays, [PeerIdentity([4; 32]), PeerIdentity([5; 32])]);
    assert_eq!(j.origin, PeerIdentity([3; 32]));
    let nested = ClientMessage::from_message(&j.join_msg.unwrap()).unwrap();
    let mut a = Assembler::default();
    match a.push_parts(MessageMeta::default(), &nested.parts).unwrap() {
        Some(Completed::Message { message, .. }) => assert_eq!(message, join),
        other => panic!("{other:?}"),
    }
    feed(
        &mut s,
        SlaveJoinAck {
            result_code: 1,
            max_message_id: 3,
        },
    );
    assert_eq!(
        events(&mut s),
        [Event::SlaveConnected {
            result: 1,
            max_message_id: 3
        }]
    );
    // A LOCAL slave never transmits, even once admitted.
    feed(&mut s, JoinDecision::new(1, ecdsa::PublicKey([0; 32])));
    assert!(!s.is_ready());
    assert_eq!(
        s.transmit("_m", 0, Environment::new(), vec![]),
        Err(SessionError::LocalSlave)
    );
}

#[test]
fn join_request_decision_and_response() {
    let mut m = started_master();
    let join = message("_request_join", &[(Operator::Set, "_nick", b"x")], b"hi");
    feed(
        &mut m,
        JoinRequest {
            slave_pub_key: ecdsa::PublicKey([9; 32]),
            join_msg: Some(join.to_client_message().unwrap().to_message()),
        },
    );
    assert_eq!(
        events(&mut m),
        [Event::JoinRequest {
            slave_pub_key: ecdsa::PublicKey([9; 32]),
            message: Some(join)
        }]
    );
    // A join message that is not a valid PSYC message arrives as none.
    feed(
        &mut m,
        JoinRequest {
            slave_pub_key: ecdsa::PublicKey([8; 32]),
            join_msg: Some(vec![0, 8, 0x02, 0xb3, 0, 4, 0x02, 0xb9]),
        },
    );
    assert!(matches!(
        &events(&mut m)[..],
        [Event::JoinRequest { message: None, .. }]
    ));

    let response = message("_notice_place_admit", &[], b"welcome");
    m.join_decision(
        ecdsa::PublicKey([9; 32]),
        true,
        Some(&response),
        &[PeerIdentity([1; 32])],
    )
    .unwrap();
    let d = JoinDecision::from_message(&m.poll_transmit().unwrap()).unwrap();
    assert_eq!(d.is_admitted, 1);
    assert_eq!(d.slave_pub_key, ecdsa::PublicKey([9; 32]));
    assert_eq!(d.relay_slots, 1, "C reserves zeroed relay slots");
    assert_eq!(
        d.response,
        Some(response.to_client_message().unwrap().to_message())
    );
    m.join_decision(ecdsa::PublicKey([8; 32]), false, None, &[])
        .unwrap();
    let d = JoinDecision::from_message(&m.poll_transmit().unwrap()).unwrap();
    assert_eq!((d.is_admitted, d.response, d.relay_slots), (0, None, 0));

    // The slave sees the decision with the response parsed (C lost it, gap P9).
    let mut s = slave(0, None);
    s.connected();
    written(&mut s);
    feed(
        &mut s,
        JoinDecision {
            response: Some(response.to_client_message().unwrap().to_message()),
            ..JoinDecision::new(1, ecdsa::PublicKey([0; 32]))
        },
    );
    assert_eq!(
        events(&mut s),
        [Event::JoinDecision {
            is_admitted: 1,
            response: Some(response)
        }]
    );
    assert!(s.is_ready());
    // Only masters decide.
    assert_eq!(
        s.join_decision(ecdsa::PublicKey([9; 32]), true, None, &[]),
        Err(SessionError::WrongRole(Role::Slave))
    );
}
// ------------------------------------------------------------ receiving

#[test]
fn channel_messages_and_requests_are_assembled_separately() {
    let mut s = started_master();
    let notice = message(
        "_notice_test",
        &[(Operator::Assign, "_foo", b"bar")],
        b"foo bar baz",
    );
    let req_a = message("_request_test", &[(Operator::Set, "_abc_def", b"1")], b"a");
    let req_b = message("_request_test", &[], b"b");
    let channel = deliveries(&notice, 0, 3, [0; 32]);
    let from_a = deliveries(&req_a, DELIVERY_REQUEST, 1, [0xa; 32]);
    let from_b = deliveries(&req_b, DELIVERY_REQUEST, 1, [0xb; 32]);
    let longest = channel.len().max(from_a.len()).max(from_b.len());
    for i in 0..longest {
        for stream in [&channel, &from_a, &from_b] {
            if let Some(c) = stream.get(i) {
                s.handle_message(c).unwrap();
            }
        }
    }
    let mut got = events(&mut s);
    got.sort_by_key(|e| format!("{e:?}"));
    let mut want = vec![
        Event::Message(ReceivedMessage {
            message_id: 3,
            flags: 0,
            slave_pub_key: ecdsa::PublicKey([0; 32]),
            message: notice,
        }),
        Event::Message(ReceivedMessage {
            message_id: 1,
            flags: DELIVERY_REQUEST,
            slave_pub_key: ecdsa::PublicKey([0xa; 32]),
            message: req_a,
        }),
        Event::Message(ReceivedMessage {
            message_id: 1,
            flags: DELIVERY_REQUEST,
            slave_pub_key: ecdsa::PublicKey([0xb; 32]),
            message: req_b,
        }),
    ];
    want.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(got, want);
}

#[test]
fn invalid_and_cancelled_messages_are_events_and_garbage_is_an_error() {
    let mut s = started_master();
    let m = message("_notice", &[], b"x");
    let c = deliveries(&m, 0, 5, [0; 32]);
    // DATA without METHOD.
    s.handle_message(&c[1]).unwrap();
    assert!(matches!(
        &events(&mut s)[..],
        [Event::MessageDropped {
            message_id: 5,
            reason: DropReason::Invalid(_),
            ..
        }]
    ));
    // METHOD then CANCEL.
    s.handle_message(&c[0]).unwrap();
    let mut cancel = Vec::new();
    Part::Cancel.emit(&mut cancel);
    s.handle_message(
        &Delivery {
            header: DeliveryHeader {
                message_id: 5,
                ..DeliveryHeader::default()
            },
            parts: cancel,
        }
        .to_message(),
    )
    .unwrap();
    assert_eq!(
        events(&mut s),
        [Event::MessageCancelled {
            message_id: 5,
            flags: 0,
            slave_pub_key: ecdsa::PublicKey([0; 32])
        }]
    );
    // Not a psyc reply at all, or one a master never gets.
    assert!(matches!(
        s.handle_message(&[0, 5, 0x02, 0xa8, 1]),
        Err(SessionError::Malformed(_))
    ));
    assert!(matches!(
        s.handle_message(
            &SlaveJoinAck {
                result_code: 1,
                max_message_id: 0
            }
            .to_message()
        ),
        Err(SessionError::Unexpected { .. })
    ));
}

#[test]
fn receive_streams_and_events_are_bounded() {
    let mut s = started_master().with_limits(Limits {
        max_receive_streams: 2,
        max_events: 3,
        max_pending_ops: 2,
        ..Limits::default()
    });
    let m = message("_request", &[], b"x");
    for key in 1..=3u8 {
        let first = &deliveries(&m, DELIVERY_REQUEST, 1, [key; 32])[0];
        s.handle_message(first).unwrap();
    }
    assert!(matches!(
        &events(&mut s)[..],
        [Event::MessageDropped {
            reason: DropReason::TooManyStreams,
            ..
        }]
    ));
    // Events beyond the bound are refused, and the message is not consumed.
    s.state_get("_a").unwrap();
    s.state_get("_b").unwrap();
    assert_eq!(
        s.state_get("_c"),
        Err(SessionError::QueueFull("pending operations"))
    );
    for _ in 0..3 {
        feed(&mut s, StateResult::new(1, modifier_part(0, "_a", b"v", 1)));
    }
    let ack = ResultCode::new(1, 1).to_message();
    assert_eq!(s.handle_message(&ack), Err(SessionError::EventQueueFull));
    assert_eq!(events(&mut s).len(), 3);
    s.handle_message(&ack).unwrap();
    assert!(matches!(
        &events(&mut s)[..],
        [Event::OperationDone { op_id: 1, .. }]
    ));
}

// ------------------------------------------------------------ reconnect and part

#[test]
fn reconnect_resends_start_and_unanswered_reads() {
    let mut s = started_master();
    let unanswered_history = s.history_latest(1, "", 0).unwrap();
    let answered_state = s.state_get_prefix("_").unwrap();
    let membership = s
        .membership_store(ecdsa::PublicKey([5; 32]), true, 1, 1)
        .unwrap();
    let unanswered_state = s.state_get("_foo").unwrap();
    written(&mut s);
    feed(
        &mut s,
        StateResult::new(answered_state, modifier_part(0, "_a", b"v", 1)),
    );
    events(&mut s);
    // A message half sent.
    s.transmit_start("_file", 0, Environment::new()).unwrap();
    s.transmit_data(vec![1; 10], false).unwrap();
    assert_eq!(written(&mut s).len(), 1);

    s.disconnected();
    assert_eq!(
        events(&mut s),
        [
            Event::OperationLost {
                op_id: answered_state
            },
            Event::OperationLost { op_id: membership },
            Event::TransmitLost,
        ]
    );
    assert!(!s.is_transmitting());
    // Operations started while disconnected wait for the connection.
    let offline = s.state_get("_bar").unwrap();
    s.transmit("_notice", 0, Environment::new(), b"later".to_vec())
        .unwrap();
    assert!(s.poll_transmit().is_none());

    s.connected();
    let out = written(&mut s);
    assert_eq!(out[0], master().start_message(), "start message first");
    let ids: Vec<Option<u64>> = out[1..]
        .iter()
        .map(|b| Request::decode(b).unwrap().op_id())
        .collect();
    assert_eq!(
        ids,
        [
            Some(unanswered_history),
            Some(unanswered_state),
            Some(offline)
        ]
    );
    // The unstarted message goes once the service accepts messages again.
    accept_start(&mut s, 1);
    let c = written(&mut s);
    assert_eq!(reassemble(&c).data, b"later");
    // Next op ids continue.
    assert_eq!(s.state_get("_x").unwrap(), offline + 1);
}

#[test]
fn part_waits_for_part_ack() {
    let mut s = started_master();
    let op = s.state_get("_foo").unwrap();
    s.transmit("_notice", 0, Environment::new(), vec![1; 10])
        .unwrap();
    written(&mut s);
    s.part().unwrap();
    assert_eq!(written(&mut s), [vec![0, 4, 0x02, 0xad]]);
    assert_eq!(s.part(), Err(SessionError::Parted));
    assert!(matches!(s.state_get("_a"), Err(SessionError::Parted)));
    feed(&mut s, PartAck);
    assert_eq!(
        events(&mut s),
        [Event::OperationLost { op_id: op }, Event::Parted]
    );
    assert!(s.is_parted());
    // A parted session writes nothing on a new connection.
    s.connected();
    assert!(s.poll_transmit().is_none());

    // Without a connection the part is immediate.
    let mut t = master();
    t.part().unwrap();
    assert_eq!(events(&mut t), [Event::Parted]);
}

/// A session embedded in another socket's protocol (social's place connections): its own
/// start and part messages, replies handed in decoded, the socket's own requests written in
/// order, a start message replaced for later connections, and messages counted as handed in.
#[test]
fn embedded_session_uses_the_given_start_and_part_messages() {
    let mut s = Session::embedded(Role::Master, b"START".to_vec(), b"PART".to_vec(), false);
    assert_eq!(
        s.send_request(b"X".to_vec()),
        Err(SessionError::NotConnected)
    );
    s.connected();
    s.send_request(b"EXTRA".to_vec()).unwrap();
    assert_eq!(written(&mut s), [b"START".to_vec(), b"EXTRA".to_vec()]);
    s.handle_reply(psyc::msg::Reply::MasterStartAck(MasterStartAck {
        result_code: 0,
        max_message_id: 5,
    }))
    .unwrap();
    assert_eq!(
        events(&mut s),
        [Event::MasterStarted {
            result: 0,
            max_message_id: 5
        }]
    );
    assert_eq!(s.messages_handed_in(), 0);
    s.transmit("_notice", 0, Environment::new(), b"x".to_vec())
        .unwrap();
    assert!(s
        .transmit("bad name", 0, Environment::new(), vec![])
        .is_err());
    assert_eq!(s.messages_handed_in(), 1);
    assert_eq!(written(&mut s).len(), 1);
    s.set_start_message(b"AGAIN".to_vec());
    s.disconnected();
    assert_eq!(events(&mut s), [Event::TransmitLost]);
    s.connected();
    assert_eq!(written(&mut s), [b"AGAIN".to_vec()]);
    s.part().unwrap();
    assert_eq!(written(&mut s), [b"PART".to_vec()]);
    assert_eq!(s.send_request(b"Y".to_vec()), Err(SessionError::Parted));
    s.handle_reply(psyc::msg::Reply::PartAck(PartAck)).unwrap();
    assert_eq!(events(&mut s), [Event::Parted]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever the service sends, the session does not panic.
    #[test]
    fn arbitrary_replies_never_panic(
        msgs in proptest::collection::vec(
            (0u16..30, proptest::collection::vec(any::<u8>(), 0..120)),
            1..8
        )
    ) {
        let mut s = started_master();
        s.history_latest(1, "", 0).unwrap();
        s.state_get("_a").unwrap();
        s.transmit("_m", 0, Environment::new(), vec![1; 70_000]).unwrap();
        let mut slave = slave(0, None);
        slave.connected();
        for (t, body) in msgs {
            let mut m = ((body.len() + 4) as u16).to_be_bytes().to_vec();
            m.extend_from_slice(&(680 + t).to_be_bytes());
            m.extend_from_slice(&body);
            let _ = s.handle_message(&m);
            let _ = slave.handle_message(&m);
            // Also with the op ids of the open operations.
            if m.len() >= 16 {
                m[8..16].copy_from_slice(&1u64.to_be_bytes());
                let _ = s.handle_message(&m);
            }
        }
        events(&mut s);
        written(&mut s);
    }
}
