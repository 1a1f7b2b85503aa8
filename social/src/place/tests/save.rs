//! MSG_PROC SAVE: message bodies kept on disk.

use super::*;
use crate::msg::MsgProcSet;
use psyc::format::container::DELIVERY_REQUEST;

fn save_rule(t: &mut T, client: u64, prefix: &str) {
    t.client(
        client,
        Request::MsgProcSet(MsgProcSet {
            flags: crate::msg::msg_proc_flags::SAVE,
            method_prefix: prefix.as_bytes().to_vec(),
        }),
    );
}

#[test]
fn matching_channel_messages_are_saved_and_requests_not() {
    let mut t = T::new();
    let id = t.hosted(10, 0);
    let place = id.place();
    save_rule(&mut t, 10, "_file");
    let deliver = |t: &mut T, flags, message_id, parts: Vec<u8>| {
        stores(&t.psyc(
            id,
            psyc::msg::Reply::Message(delivery(flags, message_id, [0; 32], parts)),
        ))
    };
    assert_eq!(
        deliver(
            &mut t,
            0,
            3,
            [method(0, "_file_text"), data(b"ab")].concat()
        ),
        vec![
            StoreOp::SaveMessageStart {
                place,
                message_id: 3
            },
            StoreOp::SaveMessageData {
                place,
                message_id: 3,
                data: b"ab".to_vec()
            },
        ]
    );
    assert_eq!(
        deliver(&mut t, 0, 3, [data(b"c"), end()].concat()),
        vec![
            StoreOp::SaveMessageData {
                place,
                message_id: 3,
                data: b"c".to_vec()
            },
            StoreOp::SaveMessageEnd {
                place,
                message_id: 3,
                cancelled: false
            },
        ]
    );
    assert!(deliver(
        &mut t,
        0,
        4,
        [method(0, "_note"), data(b"x"), end()].concat()
    )
    .is_empty());
    assert!(deliver(
        &mut t,
        DELIVERY_REQUEST,
        5,
        [method(0, "_file"), data(b"x"), end()].concat()
    )
    .is_empty());
    // A message cut off by a broken psyc connection is closed as cancelled.
    deliver(&mut t, 0, 6, [method(0, "_file"), data(b"x")].concat());
    let a = t.down(id);
    assert_eq!(
        stores(&a),
        vec![StoreOp::SaveMessageEnd {
            place,
            message_id: 6,
            cancelled: true
        }]
    );
}
