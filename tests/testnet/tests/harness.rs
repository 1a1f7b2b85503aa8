//! The harness against real GNUnet peers: start, link, identities, registered sections, stop.

use std::path::Path;
use std::process::Command;

use testnet::{repo_conf_file, ServiceConf, Testnet, Topology};

fn tool_stdout(mut cmd: Command) -> String {
    let out = cmd.output().expect("run tool");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn core_view(peer: &testnet::Peer) -> String {
    tool_stdout(peer.command("gnunet-core"))
}

#[test]
fn two_peers_in_line_link_and_stop_cleanly() {
    let conf = ServiceConf::from_file(
        &repo_conf_file("psycstore"),
        "/nonexistent/gnunet-service-psycstore",
    )
    .expect("conf/psycstore.conf");
    let net = Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .service_conf(conf)
        .start()
        .expect("2 peers start");
    let (p1, p2) = (net.peer(0), net.peer(1));
    assert_ne!(p1.identity(), p2.identity());
    assert_ne!(p1.port(), p2.port());

    // The identity is the Ed25519 public key of the peer's 32-byte key seed (spec §4.2).
    for peer in net.peers() {
        let seed = std::fs::read(peer.data_home().join("private_key.ecc")).expect("hostkey");
        let seed: [u8; 32] = seed.try_into().expect("32-byte seed");
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        assert_eq!(
            peer.identity_bytes(),
            public.to_bytes(),
            "p{}",
            peer.index() + 1
        );
    }

    // Each side's gnunet-core names the other.
    assert!(
        core_view(p1).contains(&p2.identity()[..4]),
        "{}",
        core_view(p1)
    );
    assert!(
        core_view(p2).contains(&p1.identity()[..4]),
        "{}",
        core_view(p2)
    );

    // The registered section reached the peer config, with the absolute binary and a short
    // socket path under the peer's runtime dir.
    let mut cmd = p1.command("gnunet-config");
    cmd.args(["-s", "psycstore", "-o", "BINARY"]);
    assert_eq!(tool_stdout(cmd), "/nonexistent/gnunet-service-psycstore");
    let socket = p1.service_socket("psycstore");
    assert_eq!(
        socket,
        p1.runtime_dir().join("gnunet-service-psycstore.sock")
    );
    assert!(socket.as_os_str().len() < 100, "{}", socket.display());
    let db = p1
        .config_value("psycstore-sqlite", "FILENAME", true)
        .expect("companion section");
    assert!(Path::new(&db).starts_with(p1.data_home()), "{db}");

    // ARM logs to the peer dir.
    assert!(p1.log_path("arm").is_file());

    let configs: Vec<_> = net
        .peers()
        .iter()
        .map(|p| p.config_path().to_owned())
        .collect();
    let dir = net.dir().to_owned();
    assert!(
        !net.peer(0).service_pids().is_empty(),
        "ARM and services run"
    );
    net.stop();
    for config in &configs {
        assert!(
            testnet::pids_naming(config).is_empty(),
            "processes left for {}",
            config.display()
        );
    }
    if std::env::var(testnet::KEEP_ENV).as_deref() != Ok("1") {
        assert!(!dir.exists(), "{} not removed", dir.display());
    }
}

#[test]
fn three_peers_in_line_only_link_neighbours() {
    let net = Testnet::builder()
        .peers(3)
        .topology(Topology::Line)
        .start()
        .expect("3 peers start");
    let short: Vec<&str> = net.peers().iter().map(|p| &p.identity()[..4]).collect();
    let ends = net.peer(0).core_neighbours().expect("p1 view");
    assert_eq!(ends, vec![short[1].to_owned()], "p1 links only to p2");
    let middle = net.peer(1).core_neighbours().expect("p2 view");
    assert!(middle.contains(&short[0].to_owned()) && middle.contains(&short[2].to_owned()));

    // Services stay available on demand and can be started/stopped through ARM.
    let p3 = net.peer(2);
    p3.arm_start_service("identity")
        .expect("gnunet-arm -i identity");
    let list = tool_stdout({
        let mut c = p3.command("gnunet-arm");
        c.arg("-I");
        c
    });
    assert!(
        list.contains("identity (binary='gnunet-service-identity', status=started)"),
        "{list}"
    );
    p3.arm_stop_service("identity")
        .expect("gnunet-arm -k identity");
}

#[test]
fn failed_start_reports_the_peer_and_leaves_nothing_behind() {
    let started = std::time::Instant::now();
    let err = Testnet::builder()
        .peers(1)
        .extra_config("[arm]\nBINARY = /nonexistent/gnunet-service-arm\n")
        .start()
        .expect_err("ARM cannot start");
    let text = err.to_string();
    assert!(
        matches!(err, testnet::TestnetError::PeerStart { peer: 1, .. }),
        "{text}"
    );
    assert!(text.contains("arm.log"), "{text}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "failed slowly: {text}"
    );
}

#[test]
fn a_panicking_test_still_stops_its_peers() {
    let mut config = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let net = Testnet::builder().peers(1).start().expect("1 peer starts");
        config = Some(net.peer(0).config_path().to_owned());
        assert!(!net.peer(0).service_pids().is_empty());
        panic!("test body fails while the peer runs");
    }));
    assert!(result.is_err());
    let config = config.expect("peer was started");
    assert!(
        testnet::pids_naming(&config).is_empty(),
        "processes left after panic"
    );
}

#[test]
fn three_peers_in_mesh_see_each_other() {
    let net = Testnet::builder()
        .peers(3)
        .topology(Topology::Mesh)
        .start()
        .expect("3 peers start");
    for (k, peer) in net.peers().iter().enumerate() {
        let mut seen = peer.core_neighbours().expect("core view");
        seen.sort();
        let mut expected: Vec<String> = net
            .peers()
            .iter()
            .filter(|p| p.index() != k)
            .map(|p| p.identity()[..4].to_owned())
            .collect();
        expected.sort();
        assert_eq!(seen, expected, "p{}", k + 1);
    }
}
