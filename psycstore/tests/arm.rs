//! The service under a real GNUnet 0.19.3 peer: ARM starts `gnunet-service-psycstore` on
//! demand from `conf/psycstore.conf` (BINARY pointed at the built binary), clients find it
//! through the peer's config, and ARM restarts it after a `kill -9`.
//!
//! One peer serves all steps, in order, to keep the suite fast.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::durability::{check_survivors, integrity_ok, store_until_killed};
use common::scenario::{c_test_plugin_over_ipc, c_test_psycstore};
use common::{channel_key, fragment};
use gnunet_service::config::Config;
use psycstore::client as codec;
use psycstore::keys::ChannelKey;
use psycstore::Client;
use testnet::{repo_conf_file, ServiceConf, Testnet, Topology};

const PATIENCE: Duration = Duration::from_secs(30);

fn psycstore_pids(net: &Testnet) -> Vec<u32> {
    net.peer(0)
        .service_pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains("gnunet-service-psycstore"))
                .unwrap_or(false)
        })
        .collect()
}

fn one_pid(net: &Testnet) -> u32 {
    match psycstore_pids(net)[..] {
        [pid] => pid,
        ref other => panic!("expected one psycstore process, found {other:?}"),
    }
}

/// Sends `bytes` on a fresh connection and expects the service to close it.
fn expect_dropped(socket: &std::path::Path, bytes: &[u8]) {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(bytes).unwrap();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected a drop after {bytes:?}: {other:?}"),
    }
}

#[test]
fn psycstore_under_arm() {
    let conf = ServiceConf::from_file(
        &repo_conf_file("psycstore"),
        env!("CARGO_BIN_EXE_gnunet-service-psycstore"),
    )
    .unwrap();
    let net = Testnet::builder()
        .peers(1)
        .topology(Topology::Line)
        .service_conf(conf)
        .start()
        .unwrap();
    let peer = net.peer(0);
    assert!(psycstore_pids(&net).is_empty(), "started on demand only");

    // the C tests' scenarios, through the socket named in the peer's config
    let config = Config::load(Some(peer.config_path())).unwrap();
    let mut c = Client::connect(&config, PATIENCE).unwrap();
    c_test_psycstore(&mut c);
    c_test_plugin_over_ipc(&mut c);
    let early = fragment(1, 1, 0, b"stored before the kill");
    assert_eq!(
        c.fragment_store(&channel_key(), &early, 0).unwrap().result,
        1
    );
    let first_pid = one_pid(&net);
    let db = peer.data_home().join("psycstore/sqlite.db");
    assert!(db.exists(), "{} created with its directory", db.display());

    // a malformed request drops that client with a log line; the others go on
    let socket = peer.service_socket("psycstore");
    let test = codec::membership_test(1, &channel_key(), &common::slave_key(), 1, 0);
    let mut short = test.clone();
    short.truncate(95);
    short[..2].copy_from_slice(&95u16.to_be_bytes());
    expect_dropped(&socket, &short);
    expect_dropped(&socket, &[0, 4, 0x02, 0x9b]);
    let got = c.fragment_get_latest(&channel_key(), None, 1).unwrap();
    assert_eq!((got.items.len(), got.outcome.result), (1, 1));
    assert_eq!(one_pid(&net), first_pid, "the service kept running");
    let log = std::fs::read_to_string(peer.log_path("psycstore")).unwrap_or_default();
    for needle in ["type 661 (size 95)", "type 667 (size 4)"] {
        assert!(log.contains(needle), "log names {needle:?}:\n{log}");
    }
    drop(c);

    // kill -9 in the middle of a stream of stores; ARM restarts the service on the next connect
    let channel = ChannelKey([0x99; 32]);
    let acked = store_until_killed(&socket, &channel, || one_pid(&net), 3000);
    assert!(acked.len() >= 3000);
    let mut c = Client::connect(&config, PATIENCE).unwrap();
    check_survivors(&mut c, &channel, &acked);
    let second_pid = one_pid(&net);
    assert_ne!(second_pid, first_pid, "ARM started a new instance");
    // the earlier data is still there too
    let got = c.fragment_get(&channel_key(), None, 1, 1).unwrap();
    assert_eq!(got.items[0].fragment, early);
    drop(c);

    // stop it the ARM way (SIGTERM), then look at the file
    peer.arm_stop_service("psycstore").unwrap();
    for _ in 0..100 {
        if psycstore_pids(&net).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(psycstore_pids(&net).is_empty(), "stopped by gnunet-arm -k");
    integrity_ok(&db);
    net.stop();
}
