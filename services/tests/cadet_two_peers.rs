//! CADET through the real C cadet services of two loopback peers: the Rust client on both ends,
//! and the C `gnunet-cadet` tool at one end.

use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use gnunet_service::cadet::msg::TYPE_CADET_CLI;
use gnunet_service::cadet::{port_of_name, CadetClient, CadetError, CadetEvent};
use gnunet_service::peer::PeerIdentity;
use testnet::{Testnet, Topology};

const LONG: Duration = Duration::from_secs(120);

/// One pair of peers for all scenarios; dropped (peers stopped) at the end, also on panic.
#[test]
fn cadet_between_two_loopback_peers() {
    let net = Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .start()
        .expect("two connected peers");
    ten_thousand_messages_rust_to_rust_in_order(&net);
    rust_client_sends_to_gnunet_cadet_tool(&net);
    gnunet_cadet_tool_sends_to_rust_client(&net);
}

fn peer_id(net: &Testnet, k: usize) -> PeerIdentity {
    PeerIdentity(net.peer(k).identity_bytes())
}

/// A CADET_CLI message whose payload (1..=60000 bytes) is derived from `seq`, so the receiver
/// can check every byte.
fn test_message(seq: u32, len: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(4 + len);
    m.extend_from_slice(&((4 + len) as u16).to_be_bytes());
    m.extend_from_slice(&TYPE_CADET_CLI.to_be_bytes());
    let mut x = seq.wrapping_mul(2_654_435_761).wrapping_add(1);
    let seq_bytes = seq.to_be_bytes();
    m.extend_from_slice(&seq_bytes[..len.min(4)]);
    for _ in 4..len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        m.push(x as u8);
    }
    m
}

/// Sizes from 1 to 60000 bytes, deterministic: every 100th message is large (30000..=60000,
/// with 60000 itself at seq 100), the rest log-uniform in 1..=4096 (1 itself at seq 1). Loopback
/// links of GNUnet 0.19 often run at ~1 MiB/s; this keeps the run near 10 MB.
fn size_of_seq(seq: u32) -> usize {
    let h = seq.wrapping_mul(0x9E37_79B9).rotate_left(7);
    match seq {
        1 => 1,
        100 => 60_000,
        s if s % 100 == 0 => 30_000 + (h % 30_001) as usize,
        _ => {
            let bits = 1 + h % 12;
            (1usize << (bits - 1)) + (h >> 8) as usize % (1usize << (bits - 1))
        }
    }
}

fn ten_thousand_messages_rust_to_rust_in_order(net: &Testnet) {
    const COUNT: u32 = 10_000;
    let port = port_of_name("secushare-test-bulk");
    let mut listener = CadetClient::connect_path(&net.peer(0).service_socket("cadet")).unwrap();
    listener.open_port(port).unwrap();
    let target = peer_id(net, 0);
    let sender_socket = net.peer(1).service_socket("cadet");
    let started = Instant::now();
    let sender = thread::spawn(move || {
        let mut c = CadetClient::connect_path(&sender_socket).unwrap();
        let ccn = c.create_channel(target, port).unwrap();
        c.wait_ready(ccn, LONG).unwrap();
        let mut bytes = 0usize;
        for seq in 0..COUNT {
            let m = test_message(seq, size_of_seq(seq));
            bytes += m.len();
            c.send(ccn, &m, LONG).unwrap();
        }
        // Keep the channel open until the receiver confirms; closing early may drop the tail.
        (c, bytes)
    });
    let mut next = 0u32;
    let mut bytes = 0usize;
    while next < COUNT {
        match listener.next_event(LONG).unwrap() {
            CadetEvent::Incoming { peer, .. } => assert_eq!(peer, peer_id(net, 1)),
            CadetEvent::Data { ccn, payload } => {
                assert_eq!(
                    payload,
                    test_message(next, size_of_seq(next)),
                    "message {next}"
                );
                bytes += payload.len();
                next += 1;
                listener.receive_done(ccn).unwrap();
            }
            CadetEvent::Destroyed { ccn } => panic!("channel {ccn:#x} destroyed after {next}"),
        }
    }
    let (_sender, sent) = sender.join().unwrap();
    assert_eq!(sent, bytes);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "cadet rust->rust: {COUNT} msgs, {:.1} MiB in {secs:.1} s = {:.0} msg/s, {:.2} MiB/s",
        bytes as f64 / 1048576.0,
        f64::from(COUNT) / secs,
        bytes as f64 / 1048576.0 / secs
    );
}

/// Opens a channel to a port that a separately started program is about to open. CADET never
/// tells the initiator that a port is closed and retries with growing back-off, so a channel
/// requested just before the port opened may take long: retry with a fresh channel instead.
fn open_when_listening(
    c: &mut CadetClient,
    peer: PeerIdentity,
    port: gnunet_service::crypto::HashCode,
) -> u32 {
    for _ in 0..20 {
        let ccn = c.create_channel(peer, port).unwrap();
        match c.wait_ready(ccn, Duration::from_secs(3)) {
            Ok(()) => return ccn,
            Err(CadetError::Timeout(_)) => c.destroy_channel(ccn).unwrap(),
            Err(e) => panic!("channel to {port:?}: {e}"),
        }
    }
    panic!("no channel to {port:?} within a minute");
}

/// `gnunet-cadet` with its stdin kept open (it exits on EOF).
fn gnunet_cadet(net: &Testnet, peer: usize, args: &[&str]) -> Child {
    net.peer(peer)
        .command("gnunet-cadet")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnunet-cadet runs")
}

fn rust_client_sends_to_gnunet_cadet_tool(net: &Testnet) {
    let port_name = "secushare-test-to-tool";
    let mut tool = gnunet_cadet(net, 0, &["-o", port_name]);
    let mut out = tool.stdout.take().unwrap();
    let messages: Vec<Vec<u8>> = (0..200u32)
        .map(|seq| test_message(seq, 1 + (seq as usize * 97) % 3000))
        .collect();
    let expected: Vec<u8> = messages.iter().flat_map(|m| m[4..].to_vec()).collect();
    // The tool writes what it receives to stdout and stops acknowledging when the pipe is full:
    // read concurrently.
    let want = expected.len();
    let reader = thread::spawn(move || {
        let mut got = vec![0u8; want];
        out.read_exact(&mut got).map(|()| got)
    });
    let mut c = CadetClient::connect_path(&net.peer(1).service_socket("cadet")).unwrap();
    let ccn = open_when_listening(&mut c, peer_id(net, 0), port_of_name(port_name));
    for m in &messages {
        c.send(ccn, m, LONG).unwrap();
    }
    let got = reader
        .join()
        .unwrap()
        .expect("gnunet-cadet printed everything");
    assert!(got == expected, "gnunet-cadet printed other bytes");
    let _ = tool.kill();
    let _ = tool.wait();
}

fn gnunet_cadet_tool_sends_to_rust_client(net: &Testnet) {
    let port_name = "secushare-test-from-tool";
    let port = port_of_name(port_name);
    let mut listener = CadetClient::connect_path(&net.peer(0).service_socket("cadet")).unwrap();
    listener.open_port(port).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let target = net.peer(0).identity().to_string();
    let mut tool = gnunet_cadet(net, 1, &[&target, port_name]);
    let mut stdin = tool.stdin.take().unwrap();
    let to_send = data.clone();
    let writer = thread::spawn(move || {
        stdin.write_all(&to_send).unwrap();
        stdin
    });
    let mut got = Vec::new();
    while got.len() < data.len() {
        match listener.next_event(LONG).unwrap() {
            CadetEvent::Incoming { peer, .. } => assert_eq!(peer, peer_id(net, 1)),
            CadetEvent::Data { ccn, payload } => {
                assert_eq!(u16::from_be_bytes([payload[2], payload[3]]), TYPE_CADET_CLI);
                got.extend_from_slice(&payload[4..]);
                listener.receive_done(ccn).unwrap();
            }
            CadetEvent::Destroyed { .. } => break,
        }
    }
    assert!(
        got == data,
        "received {} of {} bytes, or other bytes",
        got.len(),
        data.len()
    );
    let _stdin = writer.join().unwrap();
    let _ = tool.kill();
    let _ = tool.wait();
}
