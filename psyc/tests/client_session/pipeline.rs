//! Pipelining: a window of unacknowledged containers, whole messages queued behind each
//! other (in order, never interleaved, one Transmitted each), the queue's bounds, and what a
//! reconnect loses when several messages are in flight.

use super::*;

/// A started master keeping at most `window` containers unacknowledged.
fn master_with_window(window: usize) -> Session {
    started_master().with_limits(Limits {
        max_containers_in_flight: window,
        ..Limits::default()
    })
}

/// Reads `containers` in order as one client's stream, as the service does: every message
/// must start with METHOD after the previous one ended (an interleaved container breaks the
/// grammar). Returns the messages and, for each, the index of its last container.
fn split_messages(containers: &[Vec<u8>]) -> Vec<(PsycMessage, usize)> {
    let mut a = Assembler::default();
    let mut out = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let m = ClientMessage::from_message(c).unwrap();
        match a.push_parts(MessageMeta::default(), &m.parts) {
            Ok(Some(Completed::Message { message, .. })) => out.push((message, i)),
            Ok(None) => {}
            other => panic!("container {i}: {other:?}"),
        }
    }
    out
}

/// A body needing `n` maximal DATA containers.
fn body_of_containers(n: usize, fill: u8) -> Vec<u8> {
    vec![fill; psyc::format::parts::DATA_MAX_PAYLOAD * n]
}

#[test]
fn at_most_the_window_is_unacknowledged_and_each_ack_releases_one() {
    for window in [1, 3, 8] {
        let mut s = master_with_window(window);
        let data = body_of_containers(12, 5);
        s.transmit("_file", 0, Environment::new(), data.clone())
            .unwrap();
        let mut containers = written(&mut s);
        assert_eq!(containers.len(), window, "window {window} filled at once");
        assert_eq!(s.containers_in_flight(), window);
        // The body not written yet waits unsegmented.
        assert!(s.queued_data() > 0);
        let mut acks = 0;
        loop {
            feed(&mut s, MessageAck);
            acks += 1;
            let out = written(&mut s);
            assert!(out.len() <= 1, "one ACK frees one place");
            assert!(s.containers_in_flight() <= window);
            assert_eq!(
                s.containers_in_flight(),
                containers.len() + out.len() - acks
            );
            containers.extend(out);
            let ev = events(&mut s);
            if acks < containers.len() {
                assert!(ev.is_empty(), "Transmitted only with the last ACK");
            } else {
                assert_eq!(ev, [Event::Transmitted { cancelled: false }]);
                break;
            }
        }
        assert!(!s.is_transmitting());
        // METHOD alone, 12 DATA, END alone.
        assert_eq!(containers.len(), 14);
        assert_eq!(reassemble(&containers).data, data);
    }
    // A window of 0 counts as 1: the session never stalls.
    let mut s = master_with_window(0);
    s.transmit("_m", 0, Environment::new(), vec![1; 10])
        .unwrap();
    assert_eq!(written(&mut s).len(), 1);
}

#[test]
fn queued_messages_go_out_in_order_never_interleaved_with_one_transmitted_each() {
    let window = 4;
    let mut s = master_with_window(window);
    let mut sent = Vec::new();
    for i in 0..12u8 {
        let m = match i {
            // One spanning several containers, one with modifiers, the rest one container.
            3 => message("_file", &[], &body_of_containers(3, i)),
            7 => message(
                "_notice_state",
                &[(Operator::Assign, "_count", &[i])],
                &[i; 100],
            ),
            _ => message("_notice", &[], &[i; 100]),
        };
        s.transmit(&m.method, 0, m.env.clone(), m.data.clone())
            .unwrap();
        sent.push(m);
    }
    assert!(s.is_transmitting());
    let mut containers = written(&mut s);
    assert_eq!(containers.len(), window);
    let mut acks = 0;
    let mut transmitted = 0;
    while s.is_transmitting() {
        feed(&mut s, MessageAck);
        acks += 1;
        containers.extend(written(&mut s));
        assert!(containers.len() - acks <= window);
        transmitted += events(&mut s)
            .iter()
            .map(|e| match e {
                Event::Transmitted { cancelled: false } => 1,
                other => panic!("{other:?}"),
            })
            .sum::<usize>();
        // Exactly the messages whose last container is acknowledged are reported.
        let complete = split_messages(&containers)
            .iter()
            .filter(|(_, last)| *last < acks)
            .count();
        assert_eq!(transmitted, complete, "after {acks} ACKs");
        assert!(acks < 100);
    }
    assert_eq!(transmitted, sent.len());
    let got: Vec<PsycMessage> = split_messages(&containers)
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    let want: Vec<PsycMessage> = sent
        .into_iter()
        .map(|mut m| {
            if m.env.is_stateful() {
                m.flags |= METHOD_STATE_MODIFY;
            }
            m
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn the_queue_is_bounded_and_streams_wait_for_it() {
    let mut s = master().with_limits(Limits {
        max_queued_messages: 3,
        max_queued_data: 1000,
        max_containers_in_flight: 2,
        ..Limits::default()
    });
    s.connected();
    written(&mut s);
    // Before MASTER_START_ACK everything waits in the queue.
    for _ in 0..3 {
        s.transmit("_m", 0, Environment::new(), vec![1; 100])
            .unwrap();
    }
    assert!(!s.can_queue(0));
    assert_eq!(
        s.transmit("_m", 0, Environment::new(), vec![]),
        Err(SessionError::QueueFull("messages"))
    );
    assert_eq!(
        s.transmit_start("_stream", 0, Environment::new()),
        Err(SessionError::Transmit(
            psyc::format::transmit::TransmitError::Busy
        ))
    );
    assert_eq!(s.queued_messages(), 3);
    accept_start(&mut s, 0);
    // Two written, so two places in the queue; the body bound counts what is queued.
    assert_eq!(written(&mut s).len(), 2);
    assert_eq!(s.queued_messages(), 1);
    assert!(s.can_queue(900) && !s.can_queue(901));
    assert_eq!(
        s.transmit("_m", 0, Environment::new(), vec![2; 901]),
        Err(SessionError::QueueFull("message body"))
    );
    s.transmit("_m", 0, Environment::new(), vec![2; 900])
        .unwrap();
    for _ in 0..4 {
        feed(&mut s, MessageAck);
    }
    assert_eq!(
        events(&mut s),
        vec![Event::Transmitted { cancelled: false }; 4]
    );
    assert_eq!(split_messages(&written(&mut s)).len(), 2);
    // Everything written: a stream may start while ACKs are outstanding.
    s.transmit_start("_stream", 0, Environment::new()).unwrap();
    // Whole messages queue behind it and wait for its end.
    s.transmit("_after", 0, Environment::new(), b"after".to_vec())
        .unwrap();
    s.transmit_data(b"streamed".to_vec(), true).unwrap();
    let c = written(&mut s);
    let msgs = split_messages(&c);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].0.data, b"streamed");
    assert_eq!(msgs[1].0.data, b"after");
}

#[test]
fn a_reconnect_loses_every_message_with_a_container_on_the_connection() {
    let mut s = master_with_window(4);
    let small = |i: u8| message("_notice", &[], &[i; 10]);
    let big = message("_file", &[], &body_of_containers(5, 9));
    let order = [small(1), small(2), big.clone(), small(4), small(5)];
    for m in &order {
        s.transmit(&m.method, 0, m.env.clone(), m.data.clone())
            .unwrap();
    }
    // 1, 2 and the first two of the big message; the ACK of 1 lets the third go.
    assert_eq!(written(&mut s).len(), 4);
    feed(&mut s, MessageAck);
    assert_eq!(written(&mut s).len(), 1);
    assert_eq!(events(&mut s), [Event::Transmitted { cancelled: false }]);
    // Lost: 2 (written, not acknowledged) and the big one (partly written); 4 and 5 wait.
    s.disconnected();
    assert_eq!(events(&mut s), [Event::TransmitLost, Event::TransmitLost]);
    assert!(s.is_transmitting());
    assert_eq!(s.queued_messages(), 2);
    assert_eq!(s.containers_in_flight(), 0);
    s.connected();
    assert_eq!(written(&mut s), [master().start_message()]);
    accept_start(&mut s, 1);
    let again = written(&mut s);
    let msgs: Vec<Vec<u8>> = split_messages(&again)
        .into_iter()
        .map(|(m, _)| m.data)
        .collect();
    assert_eq!(msgs, [order[3].data.clone(), order[4].data.clone()]);
    feed(&mut s, MessageAck);
    feed(&mut s, MessageAck);
    assert_eq!(
        events(&mut s),
        vec![Event::Transmitted { cancelled: false }; 2]
    );
    assert!(!s.is_transmitting());

    // A new connection without a reported disconnect loses what was written as well.
    s.transmit("_m", 0, Environment::new(), vec![1]).unwrap();
    assert_eq!(written(&mut s).len(), 1);
    s.connected();
    assert_eq!(events(&mut s), [Event::TransmitLost]);
}
