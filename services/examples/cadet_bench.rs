//! CADET throughput between two loopback peers, in one run: the Rust client (messages of a
//! given size, MB/s and msgs/s) and the C `gnunet-cadet` tool (a stream of bytes, MB/s).
//!
//! `cargo run --release -p gnunet-service --example cadet_bench -- [MSG_BYTES...]`

use std::io::{Read, Write};
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use gnunet_service::cadet::msg::TYPE_CADET_CLI;
use gnunet_service::cadet::{port_of_name, CadetClient, CadetEvent};
use gnunet_service::peer::PeerIdentity;
use testnet::{Testnet, Topology};

const LONG: Duration = Duration::from_secs(300);
/// Bytes moved per measurement.
const VOLUME: usize = 64 * 1024 * 1024;

/// Bytes per measurement, overridable with `CADET_BENCH_MIB`.
fn volume() -> usize {
    std::env::var("CADET_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(VOLUME, |m| m << 20)
}

fn message(len: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.extend_from_slice(&TYPE_CADET_CLI.to_be_bytes());
    m.resize(len, 0x5a);
    m
}

fn rust_client(net: &Testnet, len: usize) -> (f64, f64) {
    let count = (volume() / len).clamp(200, 100_000);
    let port = port_of_name(&format!("bench-{len}"));
    let mut rx = CadetClient::connect_path(&net.peer(0).service_socket("cadet")).unwrap();
    rx.open_port(port).unwrap();
    let target = PeerIdentity(net.peer(0).identity_bytes());
    let sock = net.peer(1).service_socket("cadet");
    let msg = message(len);
    let tx = thread::spawn(move || {
        let mut c = CadetClient::connect_path(&sock).unwrap();
        let ccn = c.create_channel(target, port).unwrap();
        c.wait_ready(ccn, LONG).unwrap();
        (c, ccn)
    });
    let (mut c, ccn) = tx.join().unwrap();
    let tx = thread::spawn(move || {
        for _ in 0..count {
            c.send(ccn, &msg, LONG).unwrap();
        }
        c
    });
    let start = Instant::now();
    let mut got = 0;
    while got < count {
        if let CadetEvent::Data { ccn, .. } = rx.next_event(LONG).unwrap() {
            got += 1;
            rx.receive_done(ccn).unwrap();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    drop(tx.join().unwrap());
    let mib = (count * len) as f64 / 1048576.0;
    (mib / secs, count as f64 / secs)
}

fn gnunet_cadet_tool(net: &Testnet) -> f64 {
    let port = "bench-tool";
    let mut listener = net
        .peer(0)
        .command("gnunet-cadet")
        .args(["-o", port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(500));
    let mut sender = net
        .peer(1)
        .command("gnunet-cadet")
        .args([net.peer(0).identity(), port])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = sender.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let chunk = vec![0x5au8; 64 * 1024];
        for _ in 0..volume() / chunk.len() {
            stdin.write_all(&chunk).unwrap();
        }
        stdin
    });
    let mut out = listener.stdout.take().unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    let mut start = None;
    while got < volume() {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "gnunet-cadet listener ended after {got} bytes");
        start.get_or_insert_with(Instant::now);
        got += n;
    }
    let secs = start.map_or(0.0, |s| s.elapsed().as_secs_f64());
    drop(writer.join().unwrap());
    for mut child in [sender, listener] {
        let _ = child.kill();
        let _ = child.wait();
    }
    volume() as f64 / 1048576.0 / secs
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1024, 16 * 1024, 60_000]
    } else {
        sizes
    };
    let net = Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .start()
        .expect("two connected peers");
    println!(
        "cadet throughput p2 -> p1 on loopback, {} MiB per run",
        volume() >> 20
    );
    for len in sizes {
        let (mib, msgs) = rust_client(&net, len);
        println!("rust client   msg {len:>6} B: {mib:8.2} MiB/s {msgs:9.0} msgs/s");
    }
    let tool = gnunet_cadet_tool(&net);
    println!("gnunet-cadet  stream     : {tool:8.2} MiB/s");
}
