//! The acceptance scenario of `test_social.c` (spec §15) at the logic level: one peer, host
//! and guest of one place, the tests playing psyc, IDENTITY, NAMESTORE and GNS.

use super::*;
use crate::msg::{
    AppEgo, AppPlace, GuestEnterByName, HistoryReplay, MsgProcSet, PlaceLeave, StateGet,
    StateGetPrefix, ZoneAddNym, ZoneAddPlace,
};
use crate::record::PlaceData;
use gnunet_service::gnsrecord::Flags;
use psyc::format::container::DELIVERY_REQUEST;
use psyc::format::parts::METHOD_STATE_MODIFY;

const APP_CLIENT: u64 = 1;
const HOST: u64 = 10;
const GUEST: u64 = 20;

fn app_egos(replies: &[Reply]) -> Vec<(ecdsa::PublicKey, Vec<u8>)> {
    replies
        .iter()
        .filter_map(|r| match r {
            Reply::AppEgo(AppEgo { ego_pub_key, name }) => Some((*ego_pub_key, name.clone())),
            _ => None,
        })
        .collect()
}

fn app_places(replies: &[Reply]) -> Vec<AppPlace> {
    replies
        .iter()
        .filter_map(|r| match r {
            Reply::AppPlace(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn test_social_at_the_logic_level() {
    let mut t = T::with(LogicConfig {
        relay: false, // spec checklist 7: the test was written against an inert relay
        ..LogicConfig::new(PEER)
    });
    let now = t.now;

    // 1. Identities: the app connects while IDENTITY is still listing; one ego is listed
    // before the end of the list, one created right after. The app hears of each once.
    assert!(
        t.app_connect(APP_CLIENT, APP).is_empty(),
        "held until the ego list"
    );
    t.s.handle_ego(now, "host one", EgoKey::Ecdsa(ego_key(1)));
    t.s.handle_egos_listed(now);
    let got = replies(&t.drain(), APP_CLIENT);
    assert_eq!(app_egos(&got), vec![(ego(1), b"host one".to_vec())]);
    assert!(matches!(got[1], Reply::AppEgoEnd(_)));
    assert!(matches!(got[2], Reply::AppPlaceEnd(_)));
    t.s.handle_ego(now, "guest one", EgoKey::Ecdsa(ego_key(2)));
    let got = replies(&t.drain(), APP_CLIENT);
    assert_eq!(app_egos(&got), vec![(ego(2), b"guest one".to_vec())]);
    t.s.handle_ego(now, "guest one", EgoKey::Ecdsa(ego_key(2)));
    assert!(t.drain().is_empty(), "the same ego again says nothing new");

    // 2. Host enter (policy PRIVATE) and MSG_PROC_SET _converse RELAY right away.
    let a = t.client(
        HOST,
        Request::HostEnter(host_enter(eddsa::PublicKey([0; 32]))),
    );
    let place = place_key(1).public_key();
    let host = PlaceId::Host(place);
    let saved = stores(&a);
    assert!(
        matches!(&saved[..], [StoreOp::SavePlace { enter: crate::store::SavedEnter::Host(h), app }]
            if h.place_key == place_key(1) && h.place_pub_key == place && app == APP)
    );
    assert_eq!(
        app_places(&replies(&a, APP_CLIENT)).len(),
        1,
        "pushed to the app"
    );
    assert!(a.contains(&Action::OpenPsyc { place: host }));
    assert!(!replies(&a, HOST)
        .iter()
        .any(|r| matches!(r, Reply::HostEnterAck(_))));
    t.client(
        HOST,
        Request::MsgProcSet(MsgProcSet {
            flags: crate::msg::msg_proc_flags::RELAY,
            method_prefix: b"_converse".to_vec(),
        }),
    );
    let a = t.up(host);
    assert_eq!(
        to_psyc(&a, host),
        vec![psyc::msg::Request::MasterStart(psyc::msg::MasterStart {
            policy: psyc::msg::policy::PRIVATE,
            channel_key: place_key(1),
        })]
    );
    let a = t.psyc(host, master_start_ack(0, 0));
    assert_eq!(
        replies(&a, HOST),
        vec![Reply::HostEnterAck(crate::msg::HostEnterAck {
            result_code: 0,
            max_message_id: 0,
            place_pub_key: place,
        })]
    );

    // Guest init: the host's ego as nym `host` in the guest's zone; result exactly 1.
    let a = t.client(
        APP_CLIENT,
        Request::ZoneAddNym(ZoneAddNym {
            op_id: 1,
            expiration_time: 60_000_000,
            ego_pub_key: ego(2),
            nym_pub_key: ego(1),
            name: b"host".to_vec(),
        }),
    );
    let [Action::ZoneStore {
        op,
        zone,
        label,
        records,
    }] = &a[..]
    else {
        panic!("{a:?}");
    };
    assert_eq!((zone, label.as_str()), (&ego_key(2), "host"));
    assert_eq!(
        records,
        &vec![ZoneRecord {
            record_type: record_type::PKEY,
            flags: Flags::NONE,
            expiration_time: 60_000_000,
            data: ego(1).0.to_vec(),
        }]
    );
    t.s.handle_zone_stored(now, *op, Ok(()));
    assert_eq!(results(&t.drain(), APP_CLIENT), vec![(1, 1, String::new())]);

    // 3. Guest enter, refused.
    let guest = PlaceId::Guest(place, ego(2));
    let a = t.client(GUEST, Request::GuestEnter(guest_enter(place, PEER)));
    assert!(a.contains(&Action::OpenPsyc { place: guest }));
    t.client(
        GUEST,
        Request::MsgProcSet(MsgProcSet {
            flags: crate::msg::msg_proc_flags::SAVE,
            method_prefix: b"_converse".to_vec(),
        }),
    );
    let a = t.up(guest);
    assert_eq!(
        to_psyc(&a, guest),
        vec![psyc::msg::Request::SlaveJoin(psyc::msg::SlaveJoin {
            channel_pub_key: place,
            slave_key: ego_key(2),
            origin: PEER,
            flags: 0,
            relays: vec![],
            join_msg: Some(join_msg()),
        })]
    );
    let a = t.psyc(guest, slave_join_ack(0, 0));
    assert_eq!(
        replies(&a, GUEST),
        vec![Reply::GuestEnterAck(crate::msg::GuestEnterAck {
            result_code: 1,
            max_message_id: 0,
        })]
    );
    let request = crate::msg::JoinRequest {
        slave_pub_key: ego(2),
        join_msg: Some(join_msg()),
    };
    let a = t.psyc(host, psyc::msg::Reply::JoinRequest(request.clone()));
    assert_eq!(replies(&a, HOST), vec![Reply::JoinRequest(request.clone())]);
    let refusal = JoinDecision::new(0, ego(2));
    let a = t.client(HOST, Request::JoinDecision(refusal.clone()));
    assert_eq!(
        to_psyc(&a, host),
        vec![psyc::msg::Request::JoinDecision(refusal)]
    );
    let a = t.psyc(guest, decision(0));
    assert!(
        replies(&a, GUEST).is_empty(),
        "the decision waits for the part"
    );
    assert_eq!(
        to_psyc(&a, guest),
        vec![psyc::msg::Request::PartRequest(psyc::msg::PartRequest)]
    );
    assert!(
        matches!(&stores(&a)[..], [StoreOp::SaveDecision { decision, .. }] if decision.is_admitted == 0)
    );
    let a = t.psyc(guest, part_ack());
    assert!(matches!(&replies(&a, GUEST)[..], [Reply::JoinDecision(d)] if d.is_admitted == 0));
    assert!(a.contains(&Action::ClosePsyc { place: guest }));
    t.gone(GUEST);

    // 4. The guest enters again (same request) and is admitted.
    let guest2 = GUEST + 1;
    let a = t.client(guest2, Request::GuestEnter(guest_enter(place, PEER)));
    assert!(a.contains(&Action::OpenPsyc { place: guest }));
    t.up(guest);
    let a = t.psyc(guest, slave_join_ack(0, 0));
    assert!(
        matches!(&replies(&a, guest2)[..], [Reply::GuestEnterAck(ack)] if ack.result_code == 1)
    );
    t.psyc(host, psyc::msg::Reply::JoinRequest(request.clone()));
    let a = t.client(HOST, Request::JoinDecision(JoinDecision::new(1, ego(2))));
    assert_eq!(
        to_psyc(&a, host),
        vec![
            psyc::msg::Request::JoinDecision(JoinDecision::new(1, ego(2))),
            crate::place::host::membership(ego(2), 0, true),
        ],
        "the decision, and the admitted guest stored as a member"
    );
    let a = t.psyc(guest, decision(1));
    assert!(matches!(&replies(&a, guest2)[..], [Reply::JoinDecision(d)] if d.is_admitted == 1));

    // 5. Host announce with state modifiers, data in chunks: the containers go to psyc
    // unchanged (METHOD flags big-endian, as our psyc reads them), one MESSAGE_ACK each.
    let announce = vec![
        [
            method(METHOD_STATE_MODIFY, "_converse_host"),
            modifier(b'=', "_foo", b"bar baz\0"),
            modifier(b'=', "_foo_bar", b"foo bar\0"),
            modifier(b'=', "_foo_bar_baz", b"foo bar baz\0"),
        ]
        .concat(),
        data(b"aaa bbb ccc "),
        data(b"abc def ghi jkl.\n"),
        [
            data(b"testing one two three "),
            data(b"four five.\n"),
            end(),
        ]
        .concat(),
    ];
    for c in &announce {
        let a = t.client(HOST, msg(c.clone()));
        assert_eq!(containers(&a, host), vec![c.clone()]);
        let a = t.psyc(host, message_ack());
        assert_eq!(
            replies(&a, HOST),
            vec![Reply::MessageAck(crate::msg::MessageAck)]
        );
    }
    assert_eq!(
        u32::from_be_bytes(announce[0][4..8].try_into().unwrap()),
        METHOD_STATE_MODIFY
    );
    // psyc delivers it to both records; the guest's SAVE rule keeps its body.
    let mut saved = Vec::new();
    for (i, c) in announce.iter().enumerate() {
        let d = delivery(0, 1, [0; 32], c.clone());
        let a = t.psyc(host, psyc::msg::Reply::Message(d.clone()));
        assert_eq!(replies(&a, HOST), vec![Reply::Message(d.clone())]);
        let a = t.psyc(guest, psyc::msg::Reply::Message(d.clone()));
        assert_eq!(
            replies(&a, guest2),
            vec![Reply::Message(d)],
            "container {i}"
        );
        saved.extend(stores(&a));
    }
    assert!(matches!(
        saved.first(),
        Some(StoreOp::SaveMessageStart { message_id: 1, .. })
    ));
    assert!(matches!(
        saved.last(),
        Some(StoreOp::SaveMessageEnd {
            message_id: 1,
            cancelled: false,
            ..
        })
    ));
    assert_eq!(saved.len(), 2 + 4);

    // 6. Guest talk: a request to the host; relay is off, so nothing is relayed.
    let talk = [
        method(0, "_converse_guest"),
        modifier(b'=', "_bar_foo", b"one two three"),
        modifier(b'=', "_bar_baz", b"four five"),
        data(b"zzz xxx yyy "),
        end(),
    ]
    .concat();
    let a = t.client(guest2, msg(talk.clone()));
    assert_eq!(containers(&a, guest), vec![talk.clone()]);
    let a = t.psyc(guest, message_ack());
    assert_eq!(
        replies(&a, guest2),
        vec![Reply::MessageAck(crate::msg::MessageAck)]
    );
    let d = delivery(DELIVERY_REQUEST, 1, ego(2).0, talk);
    let a = t.psyc(host, psyc::msg::Reply::Message(d.clone()));
    assert_eq!(replies(&a, HOST), vec![Reply::Message(d)]);
    assert!(containers(&a, host).is_empty());

    // 8. History replay: results to the asking client with its op id.
    let a = t.client(
        guest2,
        Request::HistoryReplay(HistoryReplay {
            flags: 0,
            op_id: 7,
            start_message_id: 1,
            end_message_id: 3,
            message_limit: 0,
            method_prefix: vec![],
        }),
    );
    let [psyc::msg::Request::HistoryReplay(h)] = &to_psyc(&a, guest)[..] else {
        panic!("{a:?}");
    };
    let psyc_op = h.op_id;
    let historic = delivery(1, 1, [0; 32], announce[0].clone());
    let a = t.psyc(
        guest,
        psyc::msg::Reply::HistoryResult(psyc::msg::HistoryResult::new(psyc_op, historic.clone())),
    );
    assert_eq!(
        replies(&a, guest2),
        vec![Reply::HistoryResult(psyc::msg::HistoryResult::new(
            7, historic
        ))]
    );
    let a = t.psyc(
        guest,
        psyc::msg::Reply::ResultCode(psyc::msg::ResultCode::new(psyc_op, 4)),
    );
    assert_eq!(results(&a, guest2), vec![(7, 4, String::new())]);

    // 9. State: look-at and look-for; STATE_RESULT with result code 1, as C social sent.
    let var = modifier(0, "_foo_bar", b"foo bar\0");
    for (op, request) in [
        (
            8,
            Request::StateGet(StateGet {
                op_id: 8,
                name: b"_foo_bar".to_vec(),
            }),
        ),
        (
            9,
            Request::StateGetPrefix(StateGetPrefix {
                op_id: 9,
                name: b"_foo".to_vec(),
            }),
        ),
    ] {
        let a = t.client(guest2, request);
        let psyc_op = to_psyc(&a, guest)[0].op_id().unwrap();
        let a = t.psyc(
            guest,
            psyc::msg::Reply::StateResult(psyc::msg::StateResult::new(psyc_op, var.clone())),
        );
        assert_eq!(
            replies(&a, guest2),
            vec![Reply::StateResult(psyc::msg::StateResult {
                op_id: op,
                result_code: 1,
                part: var.clone(),
            })]
        );
        assert!(replies(&a, HOST).is_empty(), "only the asking client");
        let a = t.psyc(
            guest,
            psyc::msg::Reply::ResultCode(psyc::msg::ResultCode::new(psyc_op, 1)),
        );
        assert_eq!(results(&a, guest2), vec![(op, 1, String::new())]);
    }

    // 10. Guest leave: the farewell talk goes out first, then the slave parts.
    let farewell = [
        method(0, "_notice_place_leave"),
        modifier(b':', "_message", b"Leaving.\0"),
        end(),
    ]
    .concat();
    let a = t.client(guest2, msg(farewell.clone()));
    assert_eq!(containers(&a, guest), vec![farewell.clone()]);
    let a = t.client(guest2, Request::PlaceLeave(PlaceLeave));
    assert!(
        to_psyc(&a, guest).is_empty(),
        "waits for the farewell's ACK"
    );
    let a = t.psyc(guest, message_ack());
    assert_eq!(
        to_psyc(&a, guest),
        vec![psyc::msg::Request::PartRequest(psyc::msg::PartRequest)]
    );
    let a = t.psyc(guest, part_ack());
    assert!(replies(&a, guest2).contains(&Reply::PlaceLeaveAck(crate::msg::PlaceLeaveAck)));
    assert!(stores(&a).contains(&StoreOp::ForgetPlace { ego: ego(2), place }));
    assert!(a.contains(&Action::ClosePsyc { place: guest }));
    t.gone(guest2);
    // The host's psyc delivers the farewell request: the guest is no longer a member, so a
    // new entry needs a host decision again.
    let a = t.psyc(
        host,
        psyc::msg::Reply::Message(delivery(
            psyc::format::container::DELIVERY_REQUEST,
            3,
            ego(2).0,
            farewell,
        )),
    );
    assert_eq!(
        to_psyc(&a, host),
        vec![crate::place::host::membership(ego(2), 1, false)]
    );

    // 11. The place in the host's zone: origin and relay this peer; result exactly 1.
    let a = t.client(
        APP_CLIENT,
        Request::ZoneAddPlace(ZoneAddPlace {
            op_id: 2,
            expiration_time: 60_000_000,
            ego_pub_key: ego(1),
            place_pub_key: place,
            origin: PEER,
            name: b"home".to_vec(),
            password: b"let.me*in!".to_vec(),
            relays: vec![PEER],
        }),
    );
    let [Action::ZoneStore {
        op,
        zone,
        label,
        records,
    }] = &a[..]
    else {
        panic!("{a:?}");
    };
    assert_eq!((zone, label.as_str()), (&ego_key(1), "home"));
    let record = PlaceData {
        place_pub_key: place,
        origin: PEER,
        relays: vec![PEER],
    }
    .encode();
    assert_eq!(records[0].record_type, record_type::PLACE);
    assert_eq!(records[0].data, record);
    t.s.handle_zone_stored(now, *op, Ok(()));
    assert_eq!(results(&t.drain(), APP_CLIENT), vec![(2, 1, String::new())]);

    // 12. Enter by name `home.host.gnu`, relative to the guest's zone, `.gnu` stripped.
    let guest3 = GUEST + 2;
    let a = t.client(
        guest3,
        Request::GuestEnterByName(GuestEnterByName {
            ego_pub_key: ego(2),
            app_id: APP.as_bytes().to_vec(),
            gns_name: b"home.host.gnu".to_vec(),
            password: b"let.me*in!".to_vec(),
            join_msg: Some(join_msg()),
        }),
    );
    let a = t.own_zone(a, Ok(vec![]));
    let [Action::GnsLookup { op, query }] = &a[..] else {
        panic!("{a:?}");
    };
    assert_eq!(
        (&query.zone, query.name.as_str(), query.record_type),
        (
            &gnunet_service::crypto::identity_key::PublicKey::Ecdsa(ego(2)),
            "home.host",
            record_type::PLACE
        )
    );
    t.s.handle_gns_result(now, *op, Ok(vec![(record_type::PLACE, record)]));
    let a = t.drain();
    assert!(a.contains(&Action::OpenPsyc { place: guest }));
    t.up(guest);
    t.psyc(guest, slave_join_ack(1, 1));
    t.psyc(host, psyc::msg::Reply::JoinRequest(request));
    t.client(HOST, Request::JoinDecision(JoinDecision::new(1, ego(2))));
    let a = t.psyc(guest, decision(1));
    assert!(matches!(&replies(&a, guest3)[..], [Reply::JoinDecision(_)]));

    // 13. Everything reconnects: the app finds both egos and both places again; the host
    // gets its ACK at once, the guest its ACK and the cached decision.
    t.gone(HOST);
    t.gone(guest3);
    t.gone(APP_CLIENT);
    let app2 = APP_CLIENT + 1;
    let got = replies(&t.app_connect(app2, APP), app2);
    let mut egos = app_egos(&got);
    egos.sort();
    let mut expected = vec![
        (ego(1), b"host one".to_vec()),
        (ego(2), b"guest one".to_vec()),
    ];
    expected.sort();
    assert_eq!(egos, expected);
    let places = app_places(&got);
    assert_eq!(places.len(), 2);
    assert!(places
        .iter()
        .all(|p| p.place_pub_key == place && p.place_state == 1));
    assert!(places
        .iter()
        .any(|p| p.is_host == 1 && p.ego_pub_key == ego(1)));
    assert!(places
        .iter()
        .any(|p| p.is_host == 0 && p.ego_pub_key == ego(2)));
    let host2 = HOST + 1;
    let a = t.client(
        host2,
        Request::HostEnter(HostEnter {
            policy: 0,
            ..host_enter(place)
        }),
    );
    assert!(
        replies(&a, host2).contains(&Reply::HostEnterAck(crate::msg::HostEnterAck {
            result_code: 1,
            max_message_id: 1,
            place_pub_key: place,
        }))
    );
    let guest4 = GUEST + 3;
    let a = t.client(
        guest4,
        Request::GuestEnter(GuestEnter {
            join_msg: None,
            ..guest_enter(place, PeerIdentity([0; 32]))
        }),
    );
    let got = replies(&a, guest4);
    assert!(
        matches!(&got[..], [Reply::GuestEnterAck(ack), Reply::JoinDecision(d)]
        if ack.result_code >= 0 && d.is_admitted == 1)
    );
    assert!(stores(&a).is_empty(), "a reconnect persists nothing");

    // 14. Guest leaves, then the host.
    let a = t.client(guest4, Request::PlaceLeave(PlaceLeave));
    assert_eq!(to_psyc(&a, guest).len(), 1);
    let a = t.psyc(guest, part_ack());
    assert!(replies(&a, guest4).contains(&Reply::PlaceLeaveAck(crate::msg::PlaceLeaveAck)));
    let a = t.client(host2, Request::PlaceLeave(PlaceLeave));
    assert_eq!(
        to_psyc(&a, host),
        vec![psyc::msg::Request::PartRequest(psyc::msg::PartRequest)]
    );
    let a = t.psyc(host, part_ack());
    assert_eq!(
        replies(&a, host2),
        vec![Reply::PlaceLeaveAck(crate::msg::PlaceLeaveAck)]
    );
    assert_eq!(
        stores(&a),
        vec![StoreOp::ForgetPlace { ego: ego(1), place }]
    );
    // Left for good: not listed any more, and cannot be re-entered.
    let got = replies(&t.app_connect(app2 + 1, APP), app2 + 1);
    assert!(app_places(&got).is_empty());
    let a = t.client(host2 + 1, Request::HostEnter(host_enter(place)));
    assert!(
        matches!(&replies(&a, host2 + 1)[..], [Reply::HostEnterAck(ack)] if ack.result_code == -1)
    );
}
