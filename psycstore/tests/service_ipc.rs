//! The service over real sockets, without ARM: the in-process runtime (to look at its queues)
//! and the `gnunet-service-psycstore` binary started by hand with a config of its own.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::durability::{check_survivors, integrity_ok, store_until_killed};
use common::harness::{InProcess, Spawned};
use common::scenario::{c_test_plugin_over_ipc, c_test_psycstore};
use common::{channel_key, fragment};
use gnunet_service::wire::Message;
use psycstore::client as codec;
use psycstore::msg::{Reply, ResultCode};
use psycstore::store::MAX_STORABLE_ID;

#[test]
fn c_scenarios_against_the_binary() {
    let mut service = Spawned::start("");
    let mut c = service.client();
    c_test_psycstore(&mut c);
    c_test_plugin_over_ipc(&mut c);
    drop(c);
    assert!(
        service.db_path().exists(),
        "database created with its directory"
    );
    let status = service.terminate();
    assert!(
        status.success(),
        "SIGTERM ends the service with 0: {status:?}"
    );
}

#[test]
fn c_scenarios_in_process() {
    let service = InProcess::start();
    c_test_psycstore(&mut service.client());
    c_test_plugin_over_ipc(&mut service.client());
    assert_eq!(service.dropped(), 0);
}

/// Sends `bytes` on a fresh connection and expects the service to close it.
fn expect_dropped(socket: &std::path::Path, bytes: &[u8]) {
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the service to drop the client after {bytes:?}: {other:?}"),
    }
}

fn with_size(mut msg: Vec<u8>, size: usize) -> Vec<u8> {
    msg.resize(size, 0);
    msg[..2].copy_from_slice(&(size as u16).to_be_bytes());
    msg
}

#[test]
fn bad_clients_are_dropped_with_a_log_line_and_others_served() {
    let service = Spawned::start("");
    let channel = channel_key();
    let mut good = service.client();
    assert_eq!(
        good.fragment_store(&channel, &fragment(1, 1, 0, b"x"), 0)
            .unwrap()
            .result,
        1
    );

    // a fixed-size request one byte short, and one byte long
    let test = codec::membership_test(1, &channel, &common::slave_key(), 1, 0);
    expect_dropped(&service.socket, &with_size(test.clone(), 95));
    expect_dropped(&service.socket, &with_size(test, 97));
    // a FRAGMENT_STORE whose fragment does not fill the message
    let store = codec::fragment_store(1, &channel, &fragment(2, 1, 1, b"abc"), 0).unwrap();
    let len = store.len();
    expect_dropped(&service.socket, &with_size(store, len + 5));
    // type 667 (unused), a reply type, a header claiming 2 bytes
    expect_dropped(&service.socket, &[0, 4, 0x02, 0x9b]);
    expect_dropped(&service.socket, &ResultCode::new(1, 1).to_message());
    expect_dropped(&service.socket, &[0, 2, 0x02, 0x9a]);

    // a request that arrives after garbage on the same connection is never answered
    let mut s = std::os::unix::net::UnixStream::connect(&service.socket).unwrap();
    let mut bytes = vec![0, 4, 0x02, 0x9b];
    bytes.extend(codec::counters_get(7, &channel));
    s.write_all(&bytes).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(s.read(&mut buf).unwrap(), 0);

    // the good client is still served, and sees its earlier write
    let got = good.fragment_get(&channel, None, 0, 10).unwrap();
    assert_eq!((got.items.len(), got.outcome.result), (1, 1));

    let log = service.log();
    for needle in [
        "type 661 (size 95)",
        "type 661 (size 97)",
        "type 662",
        "type 667 (size 4)",
        "type 674 (size 24)",
    ] {
        assert!(log.contains(needle), "log names {needle:?}:\n{log}");
    }
}

#[test]
fn store_errors_answer_minus_one_with_text() {
    let service = InProcess::start();
    let mut c = service.client();
    let channel = channel_key();

    // ids above 2^63−1 cannot be stored (63-bit database)
    let too_big = fragment(MAX_STORABLE_ID + 1, 1, 0, b"x");
    let outcome = c.fragment_store(&channel, &too_big, 0).unwrap();
    assert_eq!(outcome.result, -1);
    let text = outcome.error.expect("a failed store carries error text");
    assert!(
        text.contains("fragment_id") && text.contains("2^63-1"),
        "{text}"
    );

    let outcome = c
        .membership_store(&channel, &common::slave_key(), true, u64::MAX, 1, 1)
        .unwrap();
    assert_eq!(outcome.result, -1);
    assert!(outcome.error.unwrap().contains("announced_at"));

    // a snapshot naming a variable twice
    let dup: [(&[u8], &[u8]); 2] = [(b"_a", b"1"), (b"_a", b"2")];
    let outcome = c.state_sync(&channel, 1, 1, &dup).unwrap();
    assert_eq!(outcome.result, -1);
    assert!(outcome.error.is_some());

    // the failures did not take anything else down
    assert_eq!(
        c.fragment_store(&channel, &fragment(5, 1, 0, b"y"), 0)
            .unwrap(),
        psycstore::blocking::Outcome {
            result: 1,
            error: None
        }
    );
    assert_eq!(service.dropped(), 0);
}

#[test]
fn pipelined_writes_are_answered_in_order_and_seen_by_the_next_read() {
    let service = InProcess::start();
    let channel = channel_key();
    let mut s = service.raw();
    let mut bytes = Vec::new();
    for i in 1..=500u64 {
        bytes.extend(codec::fragment_store(i, &channel, &fragment(i, i, 0, b"p"), 0).unwrap());
    }
    bytes.extend(codec::fragment_get(501, &channel, None, 0, 1000));
    bytes.extend(codec::fragment_store(502, &channel, &fragment(9999, 9999, 0, b"q"), 0).unwrap());
    s.write_all(&bytes).unwrap();

    let mut c =
        psycstore::Client::from_connection(gnunet_service::client::BlockingClient::from_stream(s));
    let conn = c.connection();
    let next = |conn: &mut gnunet_service::client::BlockingClient| {
        codec::parse_reply(conn.recv(Some(Duration::from_secs(20))).unwrap().bytes()).unwrap()
    };
    for i in 1..=500u64 {
        assert_eq!(next(conn), Reply::ResultCode(ResultCode::new(i, 1)));
    }
    for i in 1..=500u64 {
        match next(conn) {
            Reply::Fragment(f) => assert_eq!((f.op_id, f.fragment.fragment_id), (501, i)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(next(conn), Reply::ResultCode(ResultCode::new(501, 500)));
    assert_eq!(next(conn), Reply::ResultCode(ResultCode::new(502, 1)));
}

#[test]
fn calls_run_between_pipelined_stores_and_their_answers_wait() {
    let service = InProcess::start();
    let channel = channel_key();
    let mut c = service.client();
    let first = c
        .send_fragment_store(&channel, &fragment(1, 1, 0, b"a"), 0)
        .unwrap();
    let second = c
        .send_fragment_store(&channel, &fragment(2, 2, 0, b"b"), 0)
        .unwrap();
    // a read sent after the stores sees them; their answers come first and are kept
    let got = c.fragment_get(&channel, None, 1, 2).unwrap();
    assert_eq!(got.items.len(), 2);
    assert_eq!(got.outcome.result, 2);
    assert_eq!(c.counters_get(&channel).unwrap().max_fragment_id, 2);
    assert_eq!(c.pipelined(), 2);
    assert_eq!(c.recv_outcome().unwrap(), (first, ok_outcome()));
    assert_eq!(c.recv_outcome().unwrap(), (second, ok_outcome()));
    assert!(matches!(
        c.recv_outcome(),
        Err(psycstore::blocking::Error::NothingPending)
    ));
}

fn ok_outcome() -> psycstore::blocking::Outcome {
    psycstore::blocking::Outcome {
        result: 1,
        error: None,
    }
}

#[test]
fn huge_ranges_stream_in_bounded_chunks() {
    const N: u64 = 12_000;
    const PAYLOAD: usize = 1000;
    let service = InProcess::start();
    let channel = channel_key();
    let mut writer = service.client();
    let payload = vec![0x5a; PAYLOAD];
    let mut window = 0;
    for i in 1..=N {
        writer
            .send_fragment_store(&channel, &fragment(i, i, 0, &payload), 0)
            .unwrap();
        window += 1;
        if window == 512 {
            for _ in 0..256 {
                assert_eq!(writer.recv_outcome().unwrap().1.result, 1);
            }
            window -= 256;
        }
    }
    while writer.pipelined() > 0 {
        assert_eq!(writer.recv_outcome().unwrap().1.result, 1);
    }

    // ask for everything, then do not read for a while
    let reply_size = 16 + 116 + PAYLOAD;
    let mut reader = service.raw();
    reader
        .write_all(&codec::fragment_get(1, &channel, None, 0, u64::MAX))
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    // meanwhile the service serves others
    let counters = writer.counters_get(&channel).unwrap();
    assert_eq!(counters.max_fragment_id, N);

    let mut c = psycstore::Client::from_connection(
        gnunet_service::client::BlockingClient::from_stream(reader),
    );
    let conn = c.connection();
    let mut expected = 1;
    loop {
        let raw = conn.recv(Some(Duration::from_secs(20))).unwrap();
        match codec::parse_reply(raw.bytes()).unwrap() {
            Reply::Fragment(f) => {
                assert_eq!(f.fragment.fragment_id, expected);
                expected += 1;
            }
            Reply::ResultCode(r) => {
                assert_eq!(r.result_code, N as i64);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(expected, N + 1);
    let bound = service.limits.pause_reading_at + 64 * reply_size;
    let total = N as usize * reply_size;
    assert!(
        total > service.limits.max_queue,
        "the answer exceeds any queue"
    );
    assert!(
        service.max_queued() <= bound,
        "queue peaked at {} bytes, bound {bound}",
        service.max_queued()
    );
}

#[test]
fn acknowledged_fragments_survive_kill_9() {
    let mut service = Spawned::start("");
    let channel = channel_key();
    let acked = store_until_killed(&service.socket, &channel, || service.pid(), 3000);
    assert!(acked.len() >= 3000, "{} acknowledged", acked.len());
    service.kill9_and_restart();
    check_survivors(&mut service.client(), &channel, &acked);
    let db = service.db_path();
    assert!(service.terminate().success());
    integrity_ok(&db);
}

#[test]
fn the_binary_refuses_a_backend_it_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.conf");
    std::fs::write(
        &config,
        format!(
            "[psycstore]\nUNIXPATH = {d}/run/psycstore.sock\nDATABASE = mysql\n",
            d = dir.path().display()
        ),
    )
    .unwrap();
    let log = dir.path().join("service.log");
    let status = std::process::Command::new(common::harness::service_binary())
        .arg("-c")
        .arg(&config)
        .arg("-l")
        .arg(&log)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("DATABASE = mysql: only sqlite is supported"),
        "{log}"
    );
}

#[test]
fn a_client_leaving_mid_stream_costs_the_others_nothing() {
    let service = InProcess::start();
    let channel = channel_key();
    let mut writer = service.client();
    let payload = vec![7u8; 2000];
    for i in 1..=2000u64 {
        writer
            .send_fragment_store(&channel, &fragment(i, i, 0, &payload), 0)
            .unwrap();
        if writer.pipelined() >= 256 {
            assert_eq!(writer.recv_outcome().unwrap().1.result, 1);
        }
    }
    while writer.pipelined() > 0 {
        assert_eq!(writer.recv_outcome().unwrap().1.result, 1);
    }
    // three readers ask for everything and hang up without reading
    for _ in 0..3 {
        let mut s = service.raw();
        s.write_all(&codec::fragment_get(1, &channel, None, 0, u64::MAX))
            .unwrap();
        s.write_all(&codec::counters_get(2, &channel)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let got = writer
        .message_get(&channel, None, 1990, 2000, 0, b"")
        .unwrap();
    assert_eq!((got.items.len(), got.outcome.result), (11, 11));
    assert_eq!(service.dropped(), 0, "hang-ups are not drops");
}
