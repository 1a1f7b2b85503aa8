//! Operations answered by RESULT_CODE: op ids, matching interleaved answers, per-operation
//! history receivers, state results as the C service writes them.

use super::*;

#[test]
fn operations_count_from_one_and_answers_match_by_op_id() {
    let mut s = started_master();
    let h = s
        .history_replay(1, 9, "_notice", history_replay_flags::REMOTE)
        .unwrap();
    let st = s.state_get_prefix("_foo").unwrap();
    let ms = s
        .membership_store(ecdsa::PublicKey([5; 32]), true, 2, 2)
        .unwrap();
    let rm = s
        .membership_store(ecdsa::PublicKey([5; 32]), false, 3, 3)
        .unwrap();
    let lt = s.history_latest(1, "", 0).unwrap();
    let sg = s.state_get("_foo_bar_baz").unwrap();
    assert_eq!([h, st, ms, rm, lt, sg], [1, 2, 3, 4, 5, 6]);
    let out: Vec<Request> = written(&mut s)
        .iter()
        .map(|b| Request::decode(b).unwrap())
        .collect();
    assert_eq!(
        out[0],
        Request::HistoryReplay(HistoryReplay {
            flags: history_replay_flags::REMOTE,
            op_id: 1,
            start_message_id: 1,
            end_message_id: 9,
            message_limit: 0,
            method_prefix: b"_notice".to_vec(),
        })
    );
    assert_eq!(
        out[1],
        Request::StateGetPrefix(StateGetPrefix {
            op_id: 2,
            name: b"_foo".to_vec()
        })
    );
    assert_eq!(
        out[2],
        Request::MembershipStore(MembershipStore {
            op_id: 3,
            slave_pub_key: ecdsa::PublicKey([5; 32]),
            announced_at: 2,
            effective_since: 2,
            did_join: 1,
        })
    );
    assert!(matches!(&out[3], Request::MembershipStore(m)
        if m.did_join == 0 && m.effective_since == 0 && m.announced_at == 3));
    assert!(matches!(&out[4], Request::HistoryReplay(r) if r.message_limit == 1 && r.op_id == 5));
    assert_eq!(
        out[5],
        Request::StateGet(StateGet {
            op_id: 6,
            name: b"_foo_bar_baz".to_vec()
        })
    );

    // Interleaved answers: a two-message history in one-part fragments, state variables as the
    // C service writes them (operator byte 0, gap P10), results out of order.
    let m1 = message("_notice_a", &[(Operator::Assign, "_x", b"1")], b"one");
    let m2 = message("_notice_b", &[], b"two");
    let mut frags: Vec<Delivery> = deliveries(&m1, DELIVERY_HISTORIC, 1, [0; 32])
        .into_iter()
        .chain(deliveries(&m2, DELIVERY_HISTORIC, 2, [0; 32]))
        .map(|d| Delivery::from_message(&d).unwrap())
        .collect();
    frags.reverse();
    let fragment_count = frags.len();
    let mut feed_frag = |s: &mut Session| {
        let f = frags.pop().unwrap();
        feed(s, HistoryResult::new(1, f));
    };
    feed_frag(&mut s);
    feed(
        &mut s,
        StateResult::new(2, modifier_part(0, "_foo", b"bar baz", 7)),
    );
    feed_frag(&mut s);
    feed(&mut s, ResultCode::new(3, 1));
    feed_frag(&mut s);
    feed(
        &mut s,
        StateResult::new(2, modifier_part(0, "_foo_bar", b"foo ", 11)),
    );
    feed_frag(&mut s);
    let mut cont = Vec::new();
    Part::ModCont(b"bar baz"[..].into()).emit(&mut cont);
    feed(&mut s, StateResult::new(2, cont));
    feed(
        &mut s,
        ResultCode {
            data: b"no such channel\0".to_vec(),
            ..ResultCode::new(4, -1)
        },
    );
    for _ in 4..fragment_count {
        feed_frag(&mut s);
    }
    feed(&mut s, ResultCode::new(2, 1));
    feed(&mut s, ResultCode::new(1, 7));
    // Answers to operations that are not open (another client's, the C service's gap P11)
    // are ignored.
    feed(&mut s, ResultCode::new(77, 1));
    feed(
        &mut s,
        HistoryResult::new(
            77,
            Delivery::from_message(&deliveries(&m2, 1, 2, [0; 32])[0]).unwrap(),
        ),
    );

    let hist = |id, m: &PsycMessage| Event::HistoryMessage {
        op_id: 1,
        message: ReceivedMessage {
            message_id: id,
            flags: DELIVERY_HISTORIC,
            slave_pub_key: ecdsa::PublicKey([0; 32]),
            message: m.clone(),
        },
    };
    assert_eq!(
        events(&mut s),
        [
            Event::StateVar {
                op_id: 2,
                name: "_foo".into(),
                value: b"bar baz".to_vec()
            },
            Event::OperationDone {
                op_id: 3,
                result: 1,
                error: None
            },
            hist(1, &m1),
            Event::StateVar {
                op_id: 2,
                name: "_foo_bar".into(),
                value: b"foo bar baz".to_vec()
            },
            Event::OperationDone {
                op_id: 4,
                result: -1,
                error: Some("no such channel".into())
            },
            hist(2, &m2),
            Event::OperationDone {
                op_id: 2,
                result: 1,
                error: None
            },
            Event::OperationDone {
                op_id: 1,
                result: 7,
                error: None
            },
        ]
    );
    assert_eq!(s.pending_operations(), 2);
    assert!(s.is_open(5) && s.is_open(6));

    // A reply of the wrong kind for an open operation is a protocol error.
    assert!(matches!(
        s.handle_message(&StateResult::new(5, modifier_part(b'=', "_a", b"", 0)).to_message()),
        Err(SessionError::Unexpected { .. })
    ));
    // A state result that is not a variable.
    assert!(matches!(
        s.handle_message(&StateResult::new(6, vec![0, 4, 0x02, 0xb9]).to_message()),
        Err(SessionError::BadStateResult { op_id: 6, .. })
    ));
    assert!(matches!(
        s.handle_message(
            &StateResult::new(6, modifier_part(b'=', "_a", b"xx", u32::MAX)).to_message()
        ),
        Err(SessionError::BadStateResult { op_id: 6, .. })
    ));
}

#[test]
fn history_fragments_are_validated_per_operation() {
    let mut s = started_master();
    let a = s.history_latest(2, "", 0).unwrap();
    let b = s.history_latest(2, "", 0).unwrap();
    let m = message("_notice", &[], b"x");
    let fa = deliveries(&m, DELIVERY_HISTORIC, 4, [0; 32]);
    let fb = deliveries(&m, DELIVERY_HISTORIC, 9, [0; 32]);
    // Interleaving the two operations' fragments does not mix their messages.
    for (x, y) in fa.iter().zip(&fb) {
        feed(
            &mut s,
            HistoryResult::new(a, Delivery::from_message(x).unwrap()),
        );
        feed(
            &mut s,
            HistoryResult::new(b, Delivery::from_message(y).unwrap()),
        );
    }
    let ids: Vec<(u64, u64)> = events(&mut s)
        .into_iter()
        .map(|e| match e {
            Event::HistoryMessage { op_id, message } => (op_id, message.message_id),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [(a, 4), (b, 9)]);
    // A fragment out of grammar (DATA first) is reported, not fatal.
    feed(
        &mut s,
        HistoryResult::new(a, Delivery::from_message(&fa[1]).unwrap()),
    );
    assert!(matches!(
        &events(&mut s)[..],
        [Event::HistoryInvalid { op_id, .. }] if *op_id == a
    ));
}
