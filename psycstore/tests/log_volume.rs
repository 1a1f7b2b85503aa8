//! What a misbehaving or hasty local client costs in log lines, against the real
//! `gnunet-service-psycstore` binary (started by hand with `-L INFO -l FILE`):
//! - hundreds of clients sending garbage give a bounded number of lines (one statement writes
//!   at most its share per minute, plus a summary), and the service still answers;
//! - a client that sends requests and leaves without reading the replies is a normal
//!   disconnect, not a warning.

mod common;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::harness::Spawned;
use common::{channel_key, fragment};
use gnunet_service::logging::writer::MAX_LINES;
use psycstore::client as codec;

/// Clients that each send one garbage message.
const GARBAGE_CLIENTS: usize = 300;

/// Sends `bytes` and waits until the service closed the connection.
fn send_and_wait_for_close(socket: &std::path::Path, bytes: &[u8]) {
    let mut s = UnixStream::connect(socket).unwrap();
    s.write_all(bytes).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut sink);
}

fn warnings(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(" WARNING ") || l.contains(" ERROR "))
        .collect()
}

#[test]
fn garbage_from_hundreds_of_clients_gives_a_bounded_log() {
    let mut service = Spawned::start("");
    for i in 0..GARBAGE_CLIENTS {
        // An unknown type, and a header announcing less than a header, by turns.
        let garbage: &[u8] = if i % 2 == 0 {
            &[0, 6, 0x12, 0x34, 1, 2]
        } else {
            &[0, 2, 0, 0]
        };
        send_and_wait_for_close(&service.socket, garbage);
    }
    // Still serving.
    let mut c = service.client();
    let f = fragment(1, 1, 0, b"after the garbage");
    assert_eq!(c.fragment_store(&channel_key(), &f, 0).unwrap().result, 1);
    drop(c);
    assert!(service.terminate().success());

    let log = service.log();
    let drops = log.lines().filter(|l| l.contains("client dropped")).count();
    assert_eq!(drops, MAX_LINES as usize, "one statement's share:\n{log}");
    let suppressed = GARBAGE_CLIENTS - MAX_LINES as usize;
    assert!(
        log.contains(&format!("suppressed {suppressed} similar lines")),
        "the rest is summarised at exit:\n{log}"
    );
    let total = log.lines().count();
    assert!(
        total < 40,
        "{total} lines for {GARBAGE_CLIENTS} bad clients:\n{log}"
    );
}

#[test]
fn leaving_with_replies_unread_is_no_warning() {
    let mut service = Spawned::start("");
    let channel = channel_key();
    let mut c = service.client();
    let payload = vec![0x5a; 4000];
    for id in 1..=64 {
        let f = fragment(id, id, 0, &payload);
        assert_eq!(c.fragment_store(&channel, &f, 0).unwrap().result, 1);
    }
    // Each asks for every fragment (256 KiB of replies) several times over and leaves at
    // once: the service's writes meet a closed socket (EPIPE) or its reads a reset.
    for _ in 0..50 {
        let mut s = UnixStream::connect(&service.socket).unwrap();
        let mut requests = Vec::new();
        for op in 0..8 {
            requests.extend(codec::fragment_get(op, &channel, None, 1, 64));
        }
        s.write_all(&requests).unwrap();
        drop(s);
    }
    // Still serving, with everything.
    let got = c.fragment_get(&channel, None, 1, 64).unwrap();
    assert_eq!((got.items.len(), got.outcome.result), (64, 64));
    drop(c);
    assert!(service.terminate().success());
    let log = service.log();
    assert_eq!(warnings(&log), Vec::<&str>::new(), "log:\n{log}");
}
