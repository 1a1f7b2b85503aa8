//! What the tool prints: the C tool's text lines, and one JSON object per line with `--json`.

use gnunet_service::crypto::{ecdsa, eddsa};
use psyc::format::container::{DELIVERY_HISTORIC, DELIVERY_REQUEST};
use psyc::format::env::Operator;
use serde_json::{json, Value as Json};

use super::*;

type Buffers = Output<Vec<u8>, Vec<u8>>;

fn text() -> Buffers {
    Output::new(Vec::new(), Vec::new(), false)
}

fn as_json() -> Buffers {
    Output::new(Vec::new(), Vec::new(), true)
}

fn printed(o: Buffers) -> (String, String) {
    let (out, err) = o.into_inner();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// The JSON lines printed, parsed.
fn lines(o: Buffers) -> Vec<Json> {
    printed(o)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn received(flags: u32, slave: [u8; 32]) -> ReceivedMessage {
    let mut message = PsycMessage::new("_converse_host");
    message.flags = 2;
    message
        .env
        .add(Operator::Set, "_foo", b"bar baz\0".to_vec())
        .unwrap();
    message
        .env
        .add(Operator::Assign, "_n", b"1".to_vec())
        .unwrap();
    message.data = b"hello\0world".to_vec();
    ReceivedMessage {
        message_id: 42,
        flags,
        slave_pub_key: ecdsa::PublicKey(slave),
        message,
    }
}

const EGO: ecdsa::PublicKey = ecdsa::PublicKey([1; 32]);
const PLACE: eddsa::PublicKey = eddsa::PublicKey([2; 32]);

#[test]
fn listing_lines_as_c_prints_them() {
    let mut o = text();
    o.caution().unwrap();
    o.ego(&Ego {
        pub_key: EGO,
        name: "host one".into(),
    })
    .unwrap();
    let place = PlaceInfo {
        ego_pub_key: EGO,
        place_pub_key: PLACE,
        is_host: true,
        state: 1,
    };
    o.place(&place).unwrap();
    o.place(&PlaceInfo {
        is_host: false,
        ..place
    })
    .unwrap();
    o.listed().unwrap();
    let (out, err) = printed(o);
    assert_eq!(
        out,
        format!("Ego\t{EGO}\thost one\nHost\t{PLACE}\nGuest\t{PLACE}\n.\n")
    );
    assert_eq!(
        err,
        "Caution: This tool does not produce correct binary safe PSYC syntax.\n\n"
    );
}

#[test]
fn messages_as_c_prints_them() {
    let mut o = text();
    o.message(&received(0, [0; 32])).unwrap();
    o.cancelled(43).unwrap();
    let (out, err) = printed(o);
    // A blank line, the modifiers, the method and the body (up to its NUL), a dot.
    assert_eq!(
        out,
        "\n:_foo\tbar baz\n=_n\t1\n_converse_host\nhello\n.\n.\n"
    );
    assert_eq!(
        err,
        "* Received method for message ID 42:\n_converse_host (flags: 2)\n\
         * Received end of message ID 42, cancelled: 0\n\
         * Received end of message ID 43, cancelled: 1\n"
    );
}

#[test]
fn binary_values_never_reach_the_terminal_raw() {
    let mut o = text();
    let mut m = received(0, [0; 32]);
    m.message.env = Default::default();
    m.message.data.clear();
    let nym = ecdsa::PublicKey([0x9b; 32]);
    for (name, value) in [
        ("_nym", nym.0.to_vec()),
        ("_blob", vec![0x1b, b'[', b'2', b'J']),
        ("_bad", vec![0xff, 0xfe]),
        ("_text", b"tab\there\0rest".to_vec()),
    ] {
        m.message.env.add(Operator::Set, name, value).unwrap();
    }
    o.message(&m).unwrap();
    assert_eq!(
        printed(o).0,
        format!("\n:_nym\t{nym}\n:_blob\t(4 bytes)\n:_bad\t(2 bytes)\n:_text\ttab\there\n.\n")
    );
}

#[test]
fn a_message_without_body_prints_no_body_lines() {
    let mut o = text();
    let mut m = received(0, [0; 32]);
    m.message.env = Default::default();
    m.message.data.clear();
    o.message(&m).unwrap();
    assert_eq!(printed(o).0, "\n.\n");
}

#[test]
fn stderr_lines_of_places_admission_and_state() {
    let mut o = text();
    let entered = Entered {
        result: 0,
        max_message_id: 7,
        place_pub_key: Some(PLACE),
    };
    o.entered(true, false, &entered).unwrap();
    o.entered(false, false, &entered).unwrap();
    o.entry_request(EGO, None).unwrap();
    let mut response = PsycMessage::new("_notice_place_admit");
    response.data = b"Welcome, nym!\0".to_vec();
    o.decision(1, Some(&response)).unwrap();
    o.var("_foo_bar", b"foo bar\0").unwrap();
    o.farewell(EGO, &Default::default()).unwrap();
    o.left(true).unwrap();
    o.left(false).unwrap();
    o.transmitted("_m", false).unwrap();
    o.result("replay", 3, None).unwrap();
    let (out, err) = printed(o);
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "* Host entered: {PLACE}, max_message_id: 7\n\
             * Guest entered local place: {PLACE}, max_message_id: 7\n\
             * Entry request: {EGO}\n\
             * Guest received entry decision 1\n\
             * _notice_place_admit\nWelcome, nym!\n\
             * Received var: _foo_bar\nfoo bar\n\
             * Farewell: {EGO}\n\
             * The host has left the place.\n\
             * Guest has left the place.\n"
        )
    );
}

#[test]
fn json_lines_for_every_event() {
    let mut o = as_json();
    o.ego(&Ego {
        pub_key: EGO,
        name: "host one".into(),
    })
    .unwrap();
    o.place(&PlaceInfo {
        ego_pub_key: EGO,
        place_pub_key: PLACE,
        is_host: false,
        state: 1,
    })
    .unwrap();
    o.listed().unwrap();
    o.entered(
        true,
        true,
        &Entered {
            result: 1,
            max_message_id: 9,
            place_pub_key: Some(PLACE),
        },
    )
    .unwrap();
    o.entry_request(EGO, None).unwrap();
    o.entry_answered(EGO, false).unwrap();
    o.decision(0, None).unwrap();
    o.cancelled(5).unwrap();
    o.dropped(6, "bad").unwrap();
    o.var("_bin", &[0xff, 0]).unwrap();
    o.result("look-for", 1, Some("oops")).unwrap();
    o.transmitted("_m", true).unwrap();
    o.left(false).unwrap();
    o.error("boom").unwrap();
    let (ego, place) = (EGO.to_string(), PLACE.to_string());
    assert_eq!(
        lines(o),
        [
            json!({"event": "ego", "key": ego, "name": "host one"}),
            json!({"event": "place", "role": "guest", "key": place, "ego": ego}),
            json!({"event": "listed"}),
            json!({"event": "entered", "role": "host", "reconnect": true, "place": place,
                   "result": 1, "max_message_id": 9}),
            json!({"event": "entry_request", "nym": ego, "message": null}),
            json!({"event": "entry_answered", "nym": ego, "admitted": false}),
            json!({"event": "decision", "admitted": false, "is_admitted": 0, "response": null}),
            json!({"event": "cancelled", "id": 5}),
            json!({"event": "dropped", "id": 6, "reason": "bad"}),
            json!({"event": "var", "name": "_bin", "value_hex": "ff00"}),
            json!({"event": "result", "op": "look-for", "result": 1, "error": "oops"}),
            json!({"event": "transmitted", "method": "_m", "cancelled": true}),
            json!({"event": "left", "role": "guest"}),
            json!({"event": "error", "message": "boom"}),
        ]
    );
}

#[test]
fn json_messages_carry_method_modifiers_and_data() {
    let mut o = as_json();
    o.message(&received(DELIVERY_REQUEST, [3; 32])).unwrap();
    let mut binary = received(DELIVERY_HISTORIC, [0; 32]);
    binary.message.data = vec![0xc3, 0x28];
    o.message(&binary).unwrap();
    let mut response = PsycMessage::new("_notice_place_refuse");
    response.data = b"Go away!\0".to_vec();
    o.decision(0, Some(&response)).unwrap();
    o.farewell(EGO, &received(0, [0; 32]).message.env).unwrap();
    let modifiers = json!([
        {"oper": ":", "name": "_foo", "value": "bar baz\u{0}"},
        {"oper": "=", "name": "_n", "value": "1"},
    ]);
    assert_eq!(
        lines(o),
        [
            json!({"event": "message", "id": 42, "flags": DELIVERY_REQUEST, "historic": false,
                   "request": true, "nym": ecdsa::PublicKey([3; 32]).to_string(),
                   "method": "_converse_host", "method_flags": 2, "modifiers": modifiers,
                   "data": "hello\u{0}world"}),
            json!({"event": "message", "id": 42, "flags": DELIVERY_HISTORIC, "historic": true,
                   "request": false, "nym": null, "method": "_converse_host", "method_flags": 2,
                   "modifiers": modifiers, "data_hex": "c328"}),
            json!({"event": "decision", "admitted": false, "is_admitted": 0,
                   "response": {"method": "_notice_place_refuse", "method_flags": 0,
                                "modifiers": [], "data": "Go away!\u{0}"}}),
            json!({"event": "farewell", "nym": EGO.to_string(), "modifiers": modifiers}),
        ]
    );
}

#[test]
fn json_keeps_stderr_lines_and_stdout_clean() {
    let mut o = as_json();
    o.message(&received(0, [0; 32])).unwrap();
    o.info("Fetching history…").unwrap();
    let (out, err) = printed(o);
    assert_eq!(out.lines().count(), 1);
    assert!(err.ends_with("* Fetching history…\n"));
}

#[test]
fn a_decision_names_the_host_s_level_and_a_look_up_its_place() {
    use crate::record::PlaceData;
    use gnunet_service::crypto::eddsa;
    use gnunet_service::peer::PeerIdentity;
    use gnunet_service::privacy::Level;
    let mut response = PsycMessage::new("_notice_place_admit");
    response.env.push(psyc::format::env::Modifier {
        oper: psyc::format::env::Operator::Set,
        name: crate::place::level::VAR_PRIVACY_LEVEL.into(),
        value: b"strict".to_vec(),
    });
    let place = PlaceData {
        place_pub_key: eddsa::PublicKey([4; 32]),
        origin: PeerIdentity([5; 32]),
        relays: vec![],
    };
    let mut o = as_json();
    o.decision(1, Some(&response)).unwrap();
    o.looked_up("home.alice.gnu", &place, Some(Level::Balanced))
        .unwrap();
    o.looked_up("x", &place, None).unwrap();
    let l = lines(o);
    assert_eq!(l[0]["level"], "strict");
    assert_eq!(l[1]["event"], "looked_up");
    assert_eq!(l[1]["level"], "balanced");
    assert_eq!(l[1]["place"], place.place_pub_key.to_string());
    assert_eq!(l[2]["level"], Json::Null);
    let mut o = text();
    o.decision(1, Some(&response)).unwrap();
    o.looked_up("x", &place, None).unwrap();
    let (out, err) = printed(o);
    assert!(
        err.contains("* The host's privacy level: strict\n"),
        "{err}"
    );
    assert_eq!(
        out,
        format!(
            "Place\tx\t{}\t{}\tprivacy=unknown\n",
            place.place_pub_key, place.origin
        )
    );
}
