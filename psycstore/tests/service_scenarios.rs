//! The request-level scenario of the C `test_psycstore.c` (`psycstore.md` §11.1), run
//! through the client codec, the sans-IO handler and the sqlite store — no sockets. Every
//! request is encoded to bytes and decoded as the service would, every reply parsed as the C
//! library would.

mod common;

use common::{channel_key, fragment, slave_key, top};
use gnunet_service::wire::Message;
use psycstore::client::{self, parse_reply, OpIds};
use psycstore::fragment::Fragment;
use psycstore::handler::{self, commit, plan, Job};
use psycstore::msg::message_flags::{STATE, STATE_APPLIED, STATE_HASH};
use psycstore::msg::{CountersResult, Reply, Request, ResultCode};
use psycstore::store::{SqliteOptions, SqliteStore, Store};

/// Sends `request` bytes through decode + handler and parses the replies.
fn call(store: &mut SqliteStore, request: &[u8]) -> Vec<Reply> {
    let request = Request::decode(request).expect("the service accepts the request");
    handler::handle_now(store, request)
        .iter()
        .map(|m| parse_reply(m).expect("the C library accepts the reply"))
        .collect()
}

/// Splits replies into data and the final RESULT_CODE, checking op ids.
fn data_and_code(replies: Vec<Reply>, op_id: u64) -> (Vec<Reply>, i64) {
    assert!(replies.iter().all(|r| r.op_id() == op_id), "{replies:?}");
    let mut replies = replies;
    match replies.pop() {
        Some(Reply::ResultCode(ResultCode {
            result_code,
            error: None,
            ..
        })) => {
            assert!(
                replies
                    .iter()
                    .all(|r| !matches!(r, Reply::ResultCode(_) | Reply::Counters(_))),
                "exactly one RESULT_CODE, last"
            );
            (replies, result_code)
        }
        other => panic!("expected a final RESULT_CODE, got {other:?}"),
    }
}

fn only_code(replies: Vec<Reply>, op_id: u64) -> i64 {
    let (data, code) = data_and_code(replies, op_id);
    assert!(data.is_empty(), "{data:?}");
    code
}

fn fragments(data: &[Reply]) -> Vec<(Fragment, u32)> {
    data.iter()
        .map(|r| match r {
            Reply::Fragment(f) => (f.fragment.clone(), f.psycstore_flags),
            other => panic!("expected RESULT_FRAGMENT, got {other:?}"),
        })
        .collect()
}

fn states(data: &[Reply]) -> Vec<(Vec<u8>, Vec<u8>)> {
    data.iter()
        .map(|r| match r {
            Reply::State(s) => (s.name.clone(), s.value.clone()),
            other => panic!("expected RESULT_STATE, got {other:?}"),
        })
        .collect()
}

#[test]
fn c_service_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(
        &dir.path().join("psycstore/sqlite.db"),
        &SqliteOptions::default(),
    )
    .unwrap();
    let mut ids = OpIds::new();
    let channel = channel_key();
    let slave = slave_key();
    let m = top(11);

    // (1) membership store, (2) membership test
    let op = ids.next();
    let msg = client::membership_store(op, &channel, &slave, true, top(6), m, 2);
    assert_eq!(only_code(call(&mut store, &msg), op), 1);
    let op = ids.next();
    let msg = client::membership_test(op, &channel, &slave, m, 2);
    assert_eq!(only_code(call(&mut store, &msg), op), 1);

    // (3) three fragments of message m
    let stored = [
        (fragment(top(9), m, 0, &channel.0), STATE),
        (fragment(top(5), m, 1024, &channel.0), STATE_APPLIED),
        (fragment(top(1), m, 16384, &channel.0), STATE_HASH),
    ];
    for (f, flags) in &stored {
        let op = ids.next();
        let msg = client::fragment_store(op, &channel, f, *flags).unwrap();
        assert_eq!(only_code(call(&mut store, &msg), op), 1);
    }

    // (4) one fragment by id, with the slave key
    let op = ids.next();
    let (data, code) = data_and_code(
        call(
            &mut store,
            &client::fragment_get(op, &channel, Some(&slave), top(9), top(9)),
        ),
        op,
    );
    assert_eq!(fragments(&data), vec![stored[0].clone()]);
    assert_eq!(code, 1);

    // (5) the latest three fragments, ascending
    let op = ids.next();
    let (data, code) = data_and_code(
        call(
            &mut store,
            &client::fragment_get_latest(op, &channel, Some(&slave), 3),
        ),
        op,
    );
    assert_eq!(fragments(&data), stored.to_vec());
    assert_eq!(code, 3);

    // (6) one fragment by message id and offset
    let op = ids.next();
    let msg = client::message_get_fragment(op, &channel, Some(&slave), m, 1024);
    let (data, code) = data_and_code(call(&mut store, &msg), op);
    assert_eq!(fragments(&data), vec![stored[1].clone()]);
    assert_eq!(code, 1);

    // (7) the message by id range, (8) the latest message
    let op = ids.next();
    let msg = client::message_get(op, &channel, Some(&slave), m, m, 0, b"").unwrap();
    let (data, code) = data_and_code(call(&mut store, &msg), op);
    assert_eq!(fragments(&data), stored.to_vec());
    assert_eq!(code, 3);
    let op = ids.next();
    let msg = client::message_get_latest(op, &channel, Some(&slave), 1, b"").unwrap();
    let (data, code) = data_and_code(call(&mut store, &msg), op);
    assert_eq!(fragments(&data), stored.to_vec());
    assert_eq!(code, 3);

    // (9) state sync of two variables
    let sync = client::state_sync(
        &mut ids,
        &channel,
        m + 1,
        m + 2,
        &[
            (b"_sync_foo", b"three two one"),
            (b"_sync_bar", b"ten eleven twelve"),
        ],
    )
    .unwrap();
    for (op, msg) in &sync {
        assert_eq!(only_code(call(&mut store, msg), *op), 1);
    }

    // (10) state modify of m: its payloads are no PSYC parts, so only the counter moves
    let op = ids.next();
    assert_eq!(
        only_code(
            call(&mut store, &client::state_modify(op, &channel, m, 0)),
            op
        ),
        1
    );

    // (11) counters: exactly one RESULT_COUNTERS, no RESULT_CODE
    let op = ids.next();
    let replies = call(&mut store, &client::counters_get(op, &channel));
    assert_eq!(
        replies,
        vec![Reply::Counters(CountersResult {
            result_code: 1,
            op_id: op,
            max_fragment_id: top(1),
            max_message_id: m,
            max_group_generation: top(4),
            max_state_message_id: m,
        })]
    );

    // (12) best match along the name family
    let op = ids.next();
    let msg = client::state_get(op, &channel, b"_sync_bar_x_yy_zzz").unwrap();
    let (data, code) = data_and_code(call(&mut store, &msg), op);
    assert_eq!(
        states(&data),
        vec![(b"_sync_bar".to_vec(), b"ten eleven twelve".to_vec())]
    );
    assert_eq!(code, 1);

    // (13) prefix, in name order
    let op = ids.next();
    let msg = client::state_get_prefix(op, &channel, b"_sync").unwrap();
    let (data, code) = data_and_code(call(&mut store, &msg), op);
    assert_eq!(
        states(&data),
        vec![
            (b"_sync_bar".to_vec(), b"ten eleven twelve".to_vec()),
            (b"_sync_foo".to_vec(), b"three two one".to_vec()),
        ]
    );
    assert_eq!(code, 1);

    // (14) reset, twice
    for _ in 0..2 {
        let op = ids.next();
        assert_eq!(
            only_code(call(&mut store, &client::state_reset(op, &channel)), op),
            1
        );
    }
    let op = ids.next();
    let msg = client::state_get_prefix(op, &channel, b"_sync").unwrap();
    assert_eq!(only_code(call(&mut store, &msg), op), 0);
}

/// Stores a join of `slave_key()` effective from message 10 and two messages, 5 and 10.
fn store_with_membership() -> SqliteStore {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let channel = channel_key();
    let mut ids = OpIds::new();
    let mut requests = vec![client::membership_store(
        ids.next(),
        &channel,
        &slave_key(),
        true,
        10,
        10,
        0,
    )];
    for (fid, mid) in [(1, 5), (2, 5), (3, 10)] {
        requests.push(
            client::fragment_store(
                ids.next(),
                &channel,
                &fragment(fid, mid, fid * 200, b"x"),
                0,
            )
            .unwrap(),
        );
    }
    for r in requests {
        assert_eq!(
            only_code(call(&mut store, &r), Request::decode(&r).unwrap().op_id()),
            1
        );
    }
    store
}

#[test]
fn failed_membership_tests_answer_as_the_c_service() {
    let mut store = store_with_membership();
    let channel = channel_key();
    let stranger = psycstore::keys::SlaveKey([9; 32]);

    // FRAGMENT_GET: nothing sent, −2
    let replies = call(
        &mut store,
        &client::fragment_get(1, &channel, Some(&stranger), 0, 10),
    );
    assert_eq!(only_code(replies, 1), -2);
    // the member may read message 10 but not message 5, which is tested first
    let replies = call(
        &mut store,
        &client::fragment_get(2, &channel, Some(&slave_key()), 0, 10),
    );
    assert_eq!(only_code(replies, 2), -2);
    let (data, code) = data_and_code(
        call(
            &mut store,
            &client::fragment_get(3, &channel, Some(&slave_key()), 3, 3),
        ),
        3,
    );
    assert_eq!((data.len(), code), (1, 1));
    // without a key there is no test
    let (data, code) = data_and_code(
        call(&mut store, &client::fragment_get(4, &channel, None, 0, 10)),
        4,
    );
    assert_eq!((data.len(), code), (3, 3));

    // MESSAGE_GET: nothing sent, but the visited fragment is counted (gap S5)
    let msg = client::message_get(5, &channel, Some(&stranger), 0, 10, 0, b"").unwrap();
    assert_eq!(only_code(call(&mut store, &msg), 5), 1);
    // MESSAGE_GET_FRAGMENT: 0
    let msg = client::message_get_fragment(6, &channel, Some(&stranger), 10, 600);
    assert_eq!(only_code(call(&mut store, &msg), 6), 0);
    let msg = client::message_get_fragment(7, &channel, Some(&slave_key()), 10, 600);
    let (data, code) = data_and_code(call(&mut store, &msg), 7);
    assert_eq!((data.len(), code), (1, 1));
    // MEMBERSHIP_TEST
    let msg = client::membership_test(8, &channel, &slave_key(), 9, 0);
    assert_eq!(only_code(call(&mut store, &msg), 8), 0);
}

#[test]
fn edge_results() {
    let mut store = store_with_membership();
    let channel = channel_key();
    let empty = psycstore::keys::ChannelKey([0xee; 32]);

    // counters of an unknown channel: 0 and zeros; of a channel without applied state: 0
    // with the fragment counters (as the C service)
    let replies = call(&mut store, &client::counters_get(1, &empty));
    assert!(matches!(
        &replies[..],
        [Reply::Counters(CountersResult {
            result_code: 0,
            max_fragment_id: 0,
            ..
        })]
    ));
    let replies = call(&mut store, &client::counters_get(2, &channel));
    assert!(matches!(
        &replies[..],
        [Reply::Counters(CountersResult {
            result_code: 0,
            max_fragment_id: 3,
            max_message_id: 10,
            ..
        })]
    ));

    // invalid names: −1, client kept (a reply is produced)
    let bad_get = psycstore::msg::StateGet::new(3, channel, b"_").to_message();
    assert_eq!(only_code(call(&mut store, &bad_get), 3), -1);
    let mut bad_sync = psycstore::msg::StateSync::new(4, channel, 3, 0, 0, b"_ab", b"v");
    bad_sync.name_size = 200;
    assert_eq!(only_code(call(&mut store, &bad_sync.to_message()), 4), -1);

    // state modify of a message that does not exist: 0, and nothing is left open
    assert_eq!(
        only_code(
            call(&mut store, &client::state_modify(5, &channel, 77, 0)),
            5
        ),
        0
    );
    let msg = client::fragment_store(6, &channel, &fragment(4, 11, 0, b"y"), 0).unwrap();
    assert_eq!(only_code(call(&mut store, &msg), 6), 1);

    // empty results
    let msg = client::message_get(7, &channel, None, 100, 200, 0, b"").unwrap();
    assert_eq!(only_code(call(&mut store, &msg), 7), 0);
    let msg = client::state_get(8, &channel, b"_nothing_here").unwrap();
    assert_eq!(only_code(call(&mut store, &msg), 8), 0);

    // fragment limit in range mode
    let msg = client::message_get(9, &channel, None, 0, 100, 2, b"").unwrap();
    let (data, code) = data_and_code(call(&mut store, &msg), 9);
    assert_eq!((data.len(), code), (2, 2));
    // a range reaching past 2^63−1 is clamped, not empty
    let (data, _) = data_and_code(
        call(
            &mut store,
            &client::fragment_get(10, &channel, None, 0, u64::MAX),
        ),
        10,
    );
    assert_eq!(data.len(), 4);
}

#[test]
fn state_hash_update_keeps_the_state_and_signs_it() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let channel = channel_key();
    let mut ids = OpIds::new();
    for (op, msg) in client::state_sync(&mut ids, &channel, 1, 1, &[(b"_a", b"1")]).unwrap() {
        assert_eq!(only_code(call(&mut store, &msg), op), 1);
    }
    let msg = client::state_hash_update(9, &channel, &gnunet_service::crypto::HashCode::ZERO);
    assert_eq!(only_code(call(&mut store, &msg), 9), 1);
    let msg = client::state_get(10, &channel, b"_a").unwrap();
    let (data, code) = data_and_code(call(&mut store, &msg), 10);
    assert_eq!(
        (states(&data), code),
        (vec![(b"_a".to_vec(), b"1".to_vec())], 1)
    );
}

#[test]
fn reads_stream_in_bounded_batches_and_writes_wait_for_commit() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let channel = channel_key();
    // 25 writes planned into one batch: no reply before the commit
    let mut batch = Vec::new();
    for i in 1..=25u64 {
        let msg =
            client::fragment_store(i, &channel, &fragment(i, 1 + i / 10, i, b"p"), 0).unwrap();
        match plan(Request::decode(&msg).unwrap()) {
            Job::Write(w) => batch.push(w),
            other => panic!("{other:?}"),
        }
    }
    let replies = commit(&mut store, &batch);
    assert_eq!(replies.len(), 25);
    for (i, r) in replies.iter().enumerate() {
        assert_eq!(
            parse_reply(r).unwrap(),
            Reply::ResultCode(ResultCode::new(i as u64 + 1, 1))
        );
    }

    let msg = client::fragment_get(99, &channel, None, 0, 1000);
    let Job::Read(mut stream) = plan(Request::decode(&msg).unwrap()) else {
        panic!()
    };
    let mut ids = Vec::new();
    let mut batches = 0;
    let mut code = None;
    while !stream.is_finished() {
        let batch = stream.next_batch(&mut store, 4);
        assert!(!batch.is_empty() && batch.len() <= 4);
        batches += 1;
        for m in batch {
            match parse_reply(&m).unwrap() {
                Reply::Fragment(f) => ids.push(f.fragment.fragment_id),
                Reply::ResultCode(r) => code = Some(r.result_code),
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(ids, (1..=25).collect::<Vec<_>>());
    assert_eq!(code, Some(25));
    assert_eq!(batches, 7, "25 fragments + 1 code in batches of 4");
    assert!(stream.next_batch(&mut store, 4).is_empty());
    let _ = store.max_state_message_id(&channel);
}
