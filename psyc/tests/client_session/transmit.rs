//! Transmitting: segmentation, the window of containers per MESSAGE_ACK (one, as in C, with a
//! window of 1), streaming, cancel, bounds.

use super::*;

/// `s` keeping at most `window` containers unacknowledged.
fn with_window(s: Session, window: usize) -> Session {
    s.with_limits(Limits {
        max_containers_in_flight: window,
        ..Limits::default()
    })
}

#[test]
fn one_container_in_flight_until_message_ack() {
    let mut s = with_window(master(), 1);
    s.connected();
    written(&mut s);
    let mut env = Environment::new();
    env.add(Operator::Assign, "_foo_bar", "foo bar baz")
        .unwrap();
    env.add(Operator::Set, "_big", vec![b'v'; 70_000]).unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    s.transmit("_notice_test", 8, env.clone(), data.clone())
        .unwrap();
    // Not before MASTER_START_ACK: the service drops a client transmitting too early.
    assert!(s.poll_transmit().is_none());
    accept_start(&mut s, 0);

    let mut containers = Vec::new();
    loop {
        let out = written(&mut s);
        assert_eq!(out.len(), 1, "exactly one container per ACK");
        containers.extend(out);
        assert!(s.poll_transmit().is_none());
        feed(&mut s, MessageAck);
        let ev = events(&mut s);
        if !ev.is_empty() {
            assert_eq!(ev, [Event::Transmitted { cancelled: false }]);
            break;
        }
        assert!(containers.len() < 100);
    }
    assert!(containers.len() >= 5, "{} containers", containers.len());
    assert!(!s.is_transmitting());
    let got = reassemble(&containers);
    assert_eq!(got.method, "_notice_test");
    assert_eq!(got.flags, 8 | METHOD_STATE_MODIFY);
    assert_eq!(got.env, env);
    assert_eq!(got.data, data);
    // An ACK nobody waits for is ignored.
    feed(&mut s, MessageAck);
    assert!(s.poll_transmit().is_none() && s.poll_event().is_none());
}

#[test]
fn streamed_body_pauses_and_is_bounded() {
    let mut s = started_master().with_limits(Limits {
        max_queued_data: 100_000,
        max_containers_in_flight: 1,
        ..Limits::default()
    });
    s.transmit_start("_file", 0, Environment::new()).unwrap();
    // METHOD alone waits in the open container for the body.
    assert!(s.poll_transmit().is_none());
    // Streamed messages go one at a time.
    assert_eq!(
        s.transmit_start("_other", 0, Environment::new()),
        Err(SessionError::Transmit(
            psyc::format::transmit::TransmitError::Busy
        ))
    );
    s.transmit_data(vec![1; 60_000], false).unwrap();
    let first = written(&mut s);
    assert_eq!(first.len(), 1);
    s.transmit_data(vec![2; 30_000], false).unwrap();
    assert!(
        s.poll_transmit().is_none(),
        "second container waits for the ACK"
    );
    assert_eq!(
        s.transmit_data(vec![3; 80_000], false),
        Err(SessionError::QueueFull("message body"))
    );
    feed(&mut s, MessageAck);
    let second = written(&mut s);
    assert_eq!(second.len(), 1);
    assert_eq!(s.queued_data(), 0);
    s.transmit_data(b"end".to_vec(), true).unwrap();
    assert_eq!(
        s.transmit_data(vec![1], false),
        Err(SessionError::NoTransmission)
    );
    feed(&mut s, MessageAck);
    let third = written(&mut s);
    feed(&mut s, MessageAck);
    assert_eq!(events(&mut s), [Event::Transmitted { cancelled: false }]);
    let all: Vec<Vec<u8>> = [first, second, third].concat();
    let mut body = vec![1; 60_000];
    body.extend_from_slice(&[2; 30_000]);
    body.extend_from_slice(b"end");
    assert_eq!(reassemble(&all).data, body);
}

/// The C test_psyc master message (`psyc.md` §13.1 step 6), body given in the test's four
/// chunks: nine containers as in C (the C test counts nine fragments in history), released
/// one per MESSAGE_ACK with a window of 1.
#[test]
fn c_test_psyc_master_message_is_nine_containers() {
    use psyc::format::parts::{DATA_MAX_PAYLOAD, MODIFIER_MAX_PAYLOAD};
    let mut env = Environment::new();
    env.add(Operator::Assign, "_foo", "bar baz").unwrap();
    let max_value = vec![b'x'; MODIFIER_MAX_PAYLOAD - "_test_max".len() - 1];
    env.add(Operator::Assign, "_test_max", max_value).unwrap();
    env.add(Operator::Assign, "_foo_bar", "foo bar baz")
        .unwrap();
    env.add(Operator::Assign, "_test_cont", vec![b'y'; 64374 + 64392])
        .unwrap();
    let chunks = [
        b"foo".to_vec(),
        vec![b'z'; DATA_MAX_PAYLOAD],
        b"foo bar".to_vec(),
        b"foo bar baz".to_vec(),
    ];
    let mut s = with_window(started_master(), 1);
    s.transmit_start("_notice_test", 8, env.clone()).unwrap();
    for (i, c) in chunks.iter().enumerate() {
        s.transmit_data(c.clone(), i == chunks.len() - 1).unwrap();
    }
    let mut containers = Vec::new();
    while s.is_transmitting() {
        let out = written(&mut s);
        assert_eq!(out.len(), 1);
        containers.extend(out);
        feed(&mut s, MessageAck);
    }
    assert_eq!(events(&mut s), [Event::Transmitted { cancelled: false }]);
    use PartKind::*;
    let shape: Vec<Vec<PartKind>> = containers
        .iter()
        .map(|c| {
            let parts = ClientMessage::from_message(c).unwrap().parts;
            Parts::new(&parts).map(|p| p.unwrap().kind()).collect()
        })
        .collect();
    assert_eq!(
        shape,
        [
            vec![Method, Modifier],
            vec![Modifier],
            vec![Modifier],
            vec![Modifier],
            vec![ModCont],
            vec![Data],
            vec![Data],
            vec![Data],
            vec![Data, End],
        ]
    );
    let got = reassemble(&containers);
    assert_eq!(got.env, env);
    assert_eq!(got.data, chunks.concat());
}

#[test]
fn cancel_sends_cancel_and_reports_it() {
    let mut s = with_window(started_master(), 1);
    s.transmit_start("_file", 0, Environment::new()).unwrap();
    s.transmit_data(vec![1; 10], false).unwrap();
    let c = written(&mut s);
    assert_eq!(c.len(), 1);
    s.transmit_cancel();
    assert!(s.poll_transmit().is_none());
    feed(&mut s, MessageAck);
    let c = written(&mut s);
    let parts = ClientMessage::from_message(&c[0]).unwrap().parts;
    let kinds: Vec<PartKind> = Parts::new(&parts).map(|p| p.unwrap().kind()).collect();
    assert_eq!(kinds, [PartKind::Cancel]);
    feed(&mut s, MessageAck);
    assert_eq!(events(&mut s), [Event::Transmitted { cancelled: true }]);
}

#[test]
fn slave_transmits_only_once_admitted() {
    let mut s = slave(0, None);
    s.connected();
    written(&mut s);
    s.transmit(
        "_request_test",
        0,
        Environment::new(),
        b"slave test".to_vec(),
    )
    .unwrap();
    feed(
        &mut s,
        SlaveJoinAck {
            result_code: 1,
            max_message_id: 0,
        },
    );
    assert!(s.poll_transmit().is_none());
    feed(&mut s, JoinDecision::new(0, ecdsa::PublicKey([0; 32])));
    assert!(s.poll_transmit().is_none(), "refused");
    feed(&mut s, JoinDecision::new(1, ecdsa::PublicKey([0; 32])));
    let c = written(&mut s);
    assert_eq!(reassemble(&c).data, b"slave test");
}

#[test]
fn oversized_input_is_an_error_not_a_panic() {
    let big = message("_request_join", &[], &vec![0; FRAGMENT_MAX_PAYLOAD]);
    let e = Session::slave(
        eddsa::PublicKey([1; 32]),
        ecdsa::PrivateKey([2; 32]),
        PeerIdentity([3; 32]),
        vec![],
        0,
        Some(&big),
    )
    .unwrap_err();
    assert!(matches!(e, SessionError::Build(_)), "{e:?}");
    // Relays plus a join message beyond one GNUnet message.
    let join = message("_request_join", &[], &vec![0; 60_000]);
    let e = Session::slave(
        eddsa::PublicKey([1; 32]),
        ecdsa::PrivateKey([2; 32]),
        PeerIdentity([3; 32]),
        vec![PeerIdentity([0; 32]); 300],
        0,
        Some(&join),
    )
    .unwrap_err();
    assert!(matches!(e, SessionError::TooLarge(_)), "{e:?}");

    let mut m = started_master();
    let response = message("_notice", &[], &vec![0; 64_000]);
    let e = m
        .join_decision(
            ecdsa::PublicKey([9; 32]),
            true,
            Some(&response),
            &[PeerIdentity([0; 32]); 20],
        )
        .unwrap_err();
    assert!(matches!(e, SessionError::TooLarge(_)), "{e:?}");
    let e = m
        .join_decision(
            ecdsa::PublicKey([9; 32]),
            true,
            None,
            &vec![PeerIdentity([0; 32]); 70_000],
        )
        .unwrap_err();
    assert!(matches!(e, SessionError::TooLarge(_)), "{e:?}");

    let mut s = master().with_limits(Limits {
        max_queued_data: 1000,
        ..Limits::default()
    });
    assert_eq!(
        s.transmit("_m", 0, Environment::new(), vec![0; 1001]),
        Err(SessionError::QueueFull("message body"))
    );
    assert!(matches!(
        s.transmit("not a name!", 0, Environment::new(), vec![]),
        Err(SessionError::Transmit(_))
    ));
    assert!(matches!(
        s.state_get("_a\0b"),
        Err(SessionError::InvalidArgument(_))
    ));
    assert!(matches!(
        s.history_latest(0, "", 0),
        Err(SessionError::InvalidArgument(_))
    ));
    assert!(matches!(
        s.history_replay(1, 2, "", 7),
        Err(SessionError::InvalidArgument(_))
    ));
    assert!(matches!(
        s.state_get_prefix(&"_x".repeat(40_000)),
        Err(SessionError::TooLarge(_))
    ));
    assert_eq!(s.pending_operations(), 0, "refused operations stay closed");
}
