//! The runtime under a real `gnunet-arm`: a test-only echo service is started on demand when a
//! client connects, drops clients that send garbage (with a log line) while serving others, and
//! is stopped by `gnunet-arm -e`.

use std::io::Write;
use std::net::Shutdown;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use gnunet_service::client::{BlockingClient, ClientError};
use testnet::{ServiceSection, Testnet, Topology};

const TYPE_ECHO: u16 = 65000;
const T: Duration = Duration::from_secs(20);

fn echo_binary() -> PathBuf {
    // target/<profile>/deps/<test> → target/<profile>/examples/gnunet-service-echo
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let bin = profile_dir.join("examples").join("gnunet-service-echo");
    assert!(
        bin.exists(),
        "{} missing: run cargo build --workspace --all-targets",
        bin.display()
    );
    bin
}

fn echo_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&((4 + body.len()) as u16).to_be_bytes());
    m.extend_from_slice(&TYPE_ECHO.to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn echo_round_trip(c: &mut BlockingClient, body: &[u8]) {
    let m = echo_message(body);
    c.send_raw(&m).unwrap();
    let reply = c.recv(Some(T)).unwrap();
    assert_eq!(reply.bytes(), &m[..]);
}

fn echo_pids(net: &Testnet) -> Vec<u32> {
    net.peer(0)
        .service_pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains("gnunet-service-echo"))
                .unwrap_or(false)
        })
        .collect()
}

/// Sends `bytes`, half-closes, and expects the service to close the connection.
fn expect_dropped(net: &Testnet, bytes: &[u8]) {
    let socket = net.peer(0).service_socket("echo");
    let mut c = BlockingClient::connect_path(&socket, T).unwrap();
    let mut s = c.stream().try_clone().unwrap();
    s.write_all(bytes).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    match c.recv(Some(T)) {
        Err(ClientError::Closed) => {}
        other => panic!("expected the service to drop us after {bytes:?}, got {other:?}"),
    }
}

#[test]
fn echo_service_under_arm() {
    let net = Testnet::builder()
        .peers(1)
        .topology(Topology::Line)
        .service(ServiceSection {
            name: "echo".into(),
            binary: echo_binary(),
            options: vec![
                ("START_ON_DEMAND".into(), "YES".into()),
                ("IMMEDIATE_START".into(), "NO".into()),
                (
                    "UNIXPATH".into(),
                    "$GNUNET_RUNTIME_DIR/gnunet-service-echo.sock".into(),
                ),
                ("UNIX_MATCH_UID".into(), "NO".into()),
                ("UNIX_MATCH_GID".into(), "YES".into()),
            ],
        })
        .start()
        .expect("one peer");

    // Declared, not running: ARM holds the socket until a client shows up.
    assert!(echo_pids(&net).is_empty(), "echo started before any client");
    let socket = net.peer(0).service_socket("echo");
    let mut steady = BlockingClient::connect_path(&socket, T).unwrap();
    echo_round_trip(&mut steady, b"hello");
    let pids = echo_pids(&net);
    assert_eq!(pids.len(), 1, "exactly one echo process after demand start");

    // Garbage: each offender is dropped, with a log line naming the problem.
    expect_dropped(&net, &[0, 2, 0, 1]);
    expect_dropped(&net, &[0, 8, 0x12, 0x34, 1, 2, 3, 4]);
    expect_dropped(&net, &[0, 100, 0xfd, 0xe8, 1, 2, 3]);
    // The steady client and new clients are still served by the same process.
    echo_round_trip(&mut steady, &[7u8; 60_000]);
    let mut fresh = BlockingClient::connect_path(&socket, T).unwrap();
    echo_round_trip(&mut fresh, b"after garbage");
    assert_eq!(
        echo_pids(&net),
        pids,
        "the service must survive bad clients"
    );
    let log = std::fs::read_to_string(net.peer(0).log_path("echo")).unwrap_or_default();
    for needle in [
        "below the 4-byte header",
        "unknown message type 4660",
        "stream ended inside a message",
    ] {
        assert!(log.contains(needle), "log lacks {needle:?}:\n{log}");
    }
    drop(steady);
    drop(fresh);

    // gnunet-arm -e stops it (exit on SIGTERM), before any kill fallback of the harness.
    let status = net
        .peer(0)
        .command("gnunet-arm")
        .arg("-e")
        .status()
        .expect("gnunet-arm -e runs");
    assert!(status.success());
    let deadline = Instant::now() + T;
    while pids
        .iter()
        .any(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
    {
        assert!(
            Instant::now() < deadline,
            "echo still running after gnunet-arm -e"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
