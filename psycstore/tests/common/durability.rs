//! The kill -9 check: pipelined fragment stores, SIGKILL mid-stream, then every acknowledged
//! fragment must be back after the restart and the database must pass `integrity_check`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use psycstore::keys::ChannelKey;

use super::fragment;

/// A client thread pipelines fragment stores (window 256) and records every fragment whose
/// store was acknowledged; once `kill_after` are acknowledged the service (pid from `pid`)
/// gets SIGKILL mid-stream. Returns fragment id → payload of every acknowledged store.
pub fn store_until_killed(
    socket: &Path,
    channel: &ChannelKey,
    pid: impl FnOnce() -> u32,
    kill_after: usize,
) -> BTreeMap<u64, Vec<u8>> {
    let mut c = psycstore::Client::connect_path(socket, Duration::from_secs(20)).unwrap();
    c.set_timeout(Duration::from_secs(10));
    let pid = pid();
    let mut acked = BTreeMap::new();
    let mut sent = BTreeMap::new();
    let mut killed = false;
    let mut id = 0u64;
    loop {
        while c.pipelined() < 256 {
            id += 1;
            let payload = id.to_be_bytes().repeat(8);
            let op = match c.send_fragment_store(channel, &fragment(id, id, 0, &payload), 0) {
                Ok(op) => op,
                Err(_) => return acked,
            };
            sent.insert(op, (id, payload));
        }
        match c.recv_outcome() {
            Ok((op, outcome)) => {
                assert_eq!(outcome.result, 1, "{outcome:?}");
                let (fid, payload) = sent.remove(&op).unwrap();
                acked.insert(fid, payload);
            }
            Err(_) => {
                assert!(killed, "the connection broke before the kill");
                return acked;
            }
        }
        if !killed && acked.len() >= kill_after {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            )
            .unwrap();
            killed = true;
        }
    }
}

/// Every acknowledged fragment is stored, byte for byte.
pub fn check_survivors(
    c: &mut psycstore::Client,
    channel: &ChannelKey,
    acked: &BTreeMap<u64, Vec<u8>>,
) {
    let last = *acked.keys().last().unwrap();
    let got = c.fragment_get(channel, None, 1, last).unwrap();
    let stored: BTreeMap<u64, Vec<u8>> = got
        .items
        .into_iter()
        .map(|s| (s.fragment.fragment_id, s.fragment.payload))
        .collect();
    for (id, payload) in acked {
        assert_eq!(stored.get(id), Some(payload), "acknowledged fragment {id}");
    }
    // nothing but whole fragments: every stored one has the payload its id implies
    for (id, payload) in &stored {
        assert_eq!(payload, &id.to_be_bytes().repeat(8));
    }
}

pub fn integrity_ok(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
