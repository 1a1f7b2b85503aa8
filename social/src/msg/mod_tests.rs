use super::*;
use gnunet_service::crypto::ecdsa;
use gnunet_service::wire::Message;

#[test]
fn type_numbers_match_gnunet_protocols_h() {
    use gnunet_sys as sys;
    let pairs = [
        (
            TYPE_SOCIAL_RESULT_CODE,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_RESULT_CODE,
        ),
        (TYPE_HOST_ENTER, sys::GNUNET_MESSAGE_TYPE_SOCIAL_HOST_ENTER),
        (
            TYPE_HOST_ENTER_ACK,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_HOST_ENTER_ACK,
        ),
        (
            TYPE_GUEST_ENTER,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_GUEST_ENTER,
        ),
        (
            TYPE_GUEST_ENTER_BY_NAME,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_GUEST_ENTER_BY_NAME,
        ),
        (
            TYPE_GUEST_ENTER_ACK,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_GUEST_ENTER_ACK,
        ),
        (
            TYPE_ENTRY_REQUEST,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_ENTRY_REQUEST,
        ),
        (
            TYPE_ENTRY_DECISION,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_ENTRY_DECISION,
        ),
        (
            TYPE_PLACE_LEAVE,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_PLACE_LEAVE,
        ),
        (
            TYPE_PLACE_LEAVE_ACK,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_PLACE_LEAVE_ACK,
        ),
        (
            TYPE_ZONE_ADD_PLACE,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_ZONE_ADD_PLACE,
        ),
        (
            TYPE_ZONE_ADD_NYM,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_ZONE_ADD_NYM,
        ),
        (
            TYPE_APP_CONNECT,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_APP_CONNECT,
        ),
        (TYPE_APP_DETACH, sys::GNUNET_MESSAGE_TYPE_SOCIAL_APP_DETACH),
        (TYPE_APP_EGO, sys::GNUNET_MESSAGE_TYPE_SOCIAL_APP_EGO),
        (
            TYPE_APP_EGO_END,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_APP_EGO_END,
        ),
        (TYPE_APP_PLACE, sys::GNUNET_MESSAGE_TYPE_SOCIAL_APP_PLACE),
        (
            TYPE_APP_PLACE_END,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_APP_PLACE_END,
        ),
        (
            TYPE_MSG_PROC_SET,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_MSG_PROC_SET,
        ),
        (
            TYPE_MSG_PROC_CLEAR,
            sys::GNUNET_MESSAGE_TYPE_SOCIAL_MSG_PROC_CLEAR,
        ),
        // The PSYC types the social socket carries.
        (TYPE_RESULT_CODE, sys::GNUNET_MESSAGE_TYPE_PSYC_RESULT_CODE),
        (
            TYPE_JOIN_REQUEST,
            sys::GNUNET_MESSAGE_TYPE_PSYC_JOIN_REQUEST,
        ),
        (
            TYPE_JOIN_DECISION,
            sys::GNUNET_MESSAGE_TYPE_PSYC_JOIN_DECISION,
        ),
        (TYPE_MESSAGE, sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE),
        (TYPE_MESSAGE_ACK, sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_ACK),
        (
            TYPE_HISTORY_REPLAY,
            sys::GNUNET_MESSAGE_TYPE_PSYC_HISTORY_REPLAY,
        ),
        (
            TYPE_HISTORY_RESULT,
            sys::GNUNET_MESSAGE_TYPE_PSYC_HISTORY_RESULT,
        ),
        (TYPE_STATE_GET, sys::GNUNET_MESSAGE_TYPE_PSYC_STATE_GET),
        (
            TYPE_STATE_GET_PREFIX,
            sys::GNUNET_MESSAGE_TYPE_PSYC_STATE_GET_PREFIX,
        ),
        (
            TYPE_STATE_RESULT,
            sys::GNUNET_MESSAGE_TYPE_PSYC_STATE_RESULT,
        ),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(u32::from(ours), theirs);
    }
    // Each social message type declares the number of its constant.
    assert_eq!(
        [
            HostEnter::TYPE,
            HostEnterAck::TYPE,
            GuestEnter::TYPE,
            GuestEnterByName::TYPE,
            GuestEnterAck::TYPE,
            PlaceLeave::TYPE,
            PlaceLeaveAck::TYPE,
            ZoneAddPlace::TYPE,
            ZoneAddNym::TYPE,
            AppConnect::TYPE,
            AppDetach::TYPE,
            AppEgo::TYPE,
            AppEgoEnd::TYPE,
            AppPlace::TYPE,
            AppPlaceEnd::TYPE,
            MsgProcSet::TYPE,
            MsgProcClear::TYPE,
        ],
        [841, 842, 843, 844, 845, 848, 849, 850, 851, 852, 853, 854, 855, 856, 857, 858, 859]
    );
}

#[test]
fn unused_and_other_direction_types_are_unknown() {
    assert_eq!(Request::decode(&[0, 3, 3]), Err(MessageError::NoHeader(3)));
    assert_eq!(Reply::decode(&[]), Err(MessageError::NoHeader(0)));
    // Defined-but-unused SOCIAL types, neighbours, and PSYC types social does not carry
    // (MASTER_START, SLAVE_JOIN, PART_REQUEST, MEMBERSHIP_STORE, their acks).
    for t in [
        839u16, 840, 846, 847, 860, 681, 682, 683, 684, 685, 686, 689,
    ] {
        let mut m = vec![0, 4];
        m.extend_from_slice(&t.to_be_bytes());
        assert!(
            matches!(Request::decode(&m), Err(MessageError::UnknownType { .. })),
            "{t}"
        );
        assert!(
            matches!(Reply::decode(&m), Err(MessageError::UnknownType { .. })),
            "{t}"
        );
    }
    // One direction's header-only messages are unknown the other way.
    assert!(matches!(
        Reply::decode(&PlaceLeave.to_message()),
        Err(MessageError::UnknownType { msg_type: 848, .. })
    ));
    assert!(matches!(
        Request::decode(&PlaceLeaveAck.to_message()),
        Err(MessageError::UnknownType { msg_type: 849, .. })
    ));
    assert!(matches!(
        Request::decode(&MessageAck.to_message()),
        Err(MessageError::UnknownType { msg_type: 699, .. })
    ));
    assert!(matches!(
        Request::decode(
            &GuestEnterAck {
                result_code: 1,
                max_message_id: 0
            }
            .to_message()
        ),
        Err(MessageError::UnknownType { msg_type: 845, .. })
    ));
}

#[test]
fn psyc_types_come_through_as_psyc_defines_them() {
    // A host client's JOIN_DECISION as social_api.c builds it: no relay slots.
    let decision = JoinDecision {
        response: Some(vec![0, 4, 0x02, 0xb3]),
        ..JoinDecision::new(psyc::msg::status::OK, ecdsa::PublicKey([6; 32]))
    };
    let mut fixture = vec![0, 44, 0x02, 0xb0, 0, 0, 0, 1];
    fixture.extend_from_slice(&[6; 32]);
    fixture.extend_from_slice(&[0, 4, 0x02, 0xb3]);
    assert_eq!(decision.to_message(), fixture);
    assert_eq!(
        Request::decode(&fixture),
        Ok(Request::JoinDecision(decision.clone()))
    );
    assert_eq!(Reply::decode(&fixture), Ok(Reply::JoinDecision(decision)));
    // Type 691 by direction.
    let client = ClientMessage {
        parts: vec![0, 4, 0x02, 0xb9],
    };
    assert_eq!(
        Request::decode(&client.to_message()),
        Ok(Request::Message(client.clone()))
    );
    assert!(matches!(
        Reply::decode(&client.to_message()),
        Err(MessageError::Malformed { msg_type: 691, .. })
    ));
    // RESULT_CODE with error text: unbiased, not NUL-terminated, op id echoed.
    let result = ResultCode {
        data: b"no".to_vec(),
        ..ResultCode::new(3, -1)
    };
    let bytes = result.to_message();
    assert_eq!(
        &bytes[16..],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, b'n', b'o']
    );
    assert_eq!(Reply::decode(&bytes).map(|r| r.op_id()), Ok(Some(3)));
    let replay = HistoryReplay {
        flags: psyc::msg::history_replay_flags::LOCAL,
        op_id: 9,
        start_message_id: 1,
        end_message_id: 2,
        message_limit: 0,
        method_prefix: b"_m".to_vec(),
    };
    assert_eq!(
        Request::decode(&replay.to_message()).map(|r| r.op_id()),
        Ok(Some(9))
    );
    let get = StateGetPrefix {
        op_id: 4,
        name: b"_foo".to_vec(),
    };
    assert_eq!(
        Request::decode(&get.to_message()),
        Ok(Request::StateGetPrefix(get))
    );
}
