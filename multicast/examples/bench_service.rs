//! Origin→member throughput and one-way latency of `gnunet-service-multicast` between two
//! loopback peers, and raw CADET (the Rust cadet client) in the same run for comparison.
//!
//! `cargo run --release -p multicast --example bench_service -- [MSG_BYTES...]`
//! (default 1024 32768). Environment: `MULTICAST_BENCH_MIB`, the volume per run (default 2,
//! at least 400 messages); `MULTICAST_BENCH_ROUNDS`, runs of each kind (default 4);
//! `MULTICAST_BENCH_VERBOSE`, per-run figures with gaps, CPU seconds per process and CADET's
//! drop counters.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use gnunet_service::cadet::msg::TYPE_CADET_CLI;
use gnunet_service::cadet::{port_of_name, CadetClient, CadetEvent};
use gnunet_service::config::Config;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use multicast::client::{self, Client, Event, Fragmenter};
use multicast::msg::{ADMITTED, FRAGMENT_HEADER_SIZE};
use rand_core::OsRng;
use testnet::{repo_conf_file, service_binary, ServiceConf, Testnet, Topology};

const LONG: Duration = Duration::from_secs(300);
/// Fragments the origin client keeps in flight (FRAGMENT_ACKs outstanding).
const ORIGIN_WINDOW: usize = 8;
/// Rounds per size; each runs raw CADET and multicast once, in alternating order.
const ROUNDS: usize = 4;
/// A gap between arrivals this long is a link stall (GNUnet's loopback links sometimes stop
/// for 5 s after ~5.5 MB), counted in the report.
const STALL: u64 = 1_000_000_000;
/// Samples per latency measurement.
const LATENCY_SAMPLES: usize = 200;

fn volume() -> usize {
    std::env::var("MULTICAST_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(2 << 20, |m| m << 20)
}

fn peer_id(net: &Testnet, k: usize) -> PeerIdentity {
    PeerIdentity(net.peer(k).identity_bytes())
}

fn cadet_message(len: usize, stamp: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.extend_from_slice(&TYPE_CADET_CLI.to_be_bytes());
    m.extend_from_slice(&stamp.to_be_bytes());
    m.resize(len, 0x5a);
    m
}

fn stamp_of(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Sends `count` messages of `len` bytes on `ccn`, each stamped with its send time since `base`,
/// `pace` apart if set.
fn send_stamped(
    c: &mut CadetClient,
    ccn: u32,
    len: usize,
    count: usize,
    pace: Option<Duration>,
    base: Instant,
) {
    for _ in 0..count {
        let stamp = base.elapsed().as_nanos() as u64;
        c.send(ccn, &cadet_message(len, stamp), LONG).unwrap();
        if let Some(p) = pace {
            thread::sleep(p);
        }
    }
}

/// Takes `count` stamped messages: (stamp, arrival since `base`) each.
fn receive_stamped(rx: &mut CadetClient, count: usize, base: Instant) -> Vec<(u64, u64)> {
    let mut got = Vec::with_capacity(count);
    while got.len() < count {
        if let CadetEvent::Data { ccn, payload } = rx.next_event(LONG).unwrap() {
            got.push((stamp_of(&payload[4..]), base.elapsed().as_nanos() as u64));
            rx.receive_done(ccn).unwrap();
        }
    }
    got
}

/// Raw CADET from peer 1 to peer 0: `count` messages of `len` bytes (header included), or
/// paced single messages carrying a timestamp when `pace` is set. Returns per-message arrival
/// times relative to `base`, with the stamp they carried.
fn raw_cadet(net: &Testnet, len: usize, count: usize, pace: Option<Duration>) -> Vec<(u64, u64)> {
    if std::env::var_os("MULTICAST_BENCH_RAW_REVERSED").is_some() {
        return raw_cadet_reversed(net, len, count, pace);
    }
    let port = port_of_name(&format!("bench-mc-{len}-{count}"));
    let mut rx = CadetClient::connect_path(&net.peer(0).service_socket("cadet")).unwrap();
    rx.open_port(port).unwrap();
    let target = peer_id(net, 0);
    let sock = net.peer(1).service_socket("cadet");
    let base = Instant::now();
    let (ready_tx, ready_rx) = mpsc::channel();
    let tx = thread::spawn(move || {
        let mut c = CadetClient::connect_path(&sock).unwrap();
        let ccn = c.create_channel(target, port).unwrap();
        c.wait_ready(ccn, LONG).unwrap();
        ready_tx.send(()).unwrap();
        send_stamped(&mut c, ccn, len, count, pace, base);
        c
    });
    ready_rx.recv().unwrap();
    let got = receive_stamped(&mut rx, count, base);
    drop(tx.join().unwrap());
    got
}

/// Like [`raw_cadet`], but the receiver (peer 0) opens the channel to the sender's port, as a
/// multicast member does.
fn raw_cadet_reversed(
    net: &Testnet,
    len: usize,
    count: usize,
    pace: Option<Duration>,
) -> Vec<(u64, u64)> {
    let port = port_of_name(&format!("bench-mc-rev-{len}-{count}"));
    let target = peer_id(net, 1);
    let sock = net.peer(1).service_socket("cadet");
    let base = Instant::now();
    let (ready_tx, ready_rx) = mpsc::channel();
    let tx = thread::spawn(move || {
        let mut c = CadetClient::connect_path(&sock).unwrap();
        c.open_port(port).unwrap();
        ready_tx.send(()).unwrap();
        let ccn = loop {
            if let CadetEvent::Incoming { ccn, .. } = c.next_event(LONG).unwrap() {
                break ccn;
            }
        };
        c.wait_ready(ccn, LONG).unwrap();
        send_stamped(&mut c, ccn, len, count, pace, base);
        c
    });
    ready_rx.recv().unwrap();
    thread::sleep(Duration::from_millis(100));
    let mut rx = CadetClient::connect_path(&net.peer(0).service_socket("cadet")).unwrap();
    rx.create_channel(target, port).unwrap();
    let got = receive_stamped(&mut rx, count, base);
    drop(tx.join().unwrap());
    got
}

fn connect(net: &Testnet, k: usize) -> Client {
    let cfg = Config::load(Some(net.peer(k).config_path())).unwrap();
    Client::connect(&cfg, LONG).unwrap()
}

/// One group: origin on peer 1, member on peer 0 (the direction of the raw CADET runs).
fn group(net: &Testnet) -> (Client, Client) {
    let gkey = eddsa::PrivateKey::generate(&mut OsRng);
    let mut origin = connect(net, 1);
    origin.start_origin(gkey.clone(), 0).unwrap();
    let mut member = connect(net, 0);
    member
        .send(
            &client::member_join(
                gkey.public_key(),
                ecdsa::PrivateKey::generate(&mut OsRng),
                peer_id(net, 1),
                vec![],
                None,
            )
            .unwrap(),
        )
        .unwrap();
    let j = loop {
        if let Event::JoinRequest(j) = origin.next_event(Some(LONG)).unwrap() {
            break j;
        }
    };
    origin
        .send(&client::decide(&j, ADMITTED, vec![], None).unwrap())
        .unwrap();
    loop {
        if let Event::JoinDecision(_) = member.next_event(Some(LONG)).unwrap() {
            break;
        }
    }
    (origin, member)
}

/// Multicast origin→member: `count` fragments whose whole MESSAGE is `len` bytes; the origin
/// client keeps `ORIGIN_WINDOW` fragments in flight. Same result shape as [`raw_cadet`].
fn multicast(net: &Testnet, len: usize, count: usize, pace: Option<Duration>) -> Vec<(u64, u64)> {
    let (mut origin, mut member) = group(net);
    let payload_len = len - FRAGMENT_HEADER_SIZE;
    let base = Instant::now();
    let rx = thread::spawn(move || {
        let mut got = Vec::with_capacity(count);
        while got.len() < count {
            if let Event::Message(f) = member.next_event(Some(LONG)).unwrap() {
                got.push((stamp_of(&f.payload), base.elapsed().as_nanos() as u64));
            }
        }
        got
    });
    let fragmenter = Fragmenter::default();
    let mut in_flight = 0;
    for i in 0..count {
        while in_flight >= ORIGIN_WINDOW || (pace.is_some() && in_flight > 0) {
            if let Event::FragmentAck = origin.next_event(Some(LONG)).unwrap() {
                in_flight -= 1;
            }
        }
        let mut body = (base.elapsed().as_nanos() as u64).to_be_bytes().to_vec();
        body.resize(payload_len, 0x5a);
        for f in fragmenter.message(i as u64, 0, &body) {
            origin.send(&f).unwrap();
            in_flight += 1;
        }
        if let Some(p) = pace {
            thread::sleep(p);
        }
    }
    let got = rx.join().unwrap();
    origin.send(&client::part()).unwrap();
    got
}

/// CPU seconds (user+system) of every process whose command line names a gnunet service or
/// helper, by name and peer directory, for the verbose per-run breakdown.
fn cpu_by_process() -> std::collections::BTreeMap<String, f64> {
    let tick = 100.0; // USER_HZ on Linux
    let mut out = std::collections::BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let path = e.path();
        let Ok(cmd) = std::fs::read(path.join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmd
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let Some(exe) = args.first() else { continue };
        let name = exe.rsplit('/').next().unwrap_or(exe).to_string();
        if !(name.starts_with("gnunet") || name.starts_with("bench_service")) {
            continue;
        }
        let peer = args
            .iter()
            .find_map(|a| {
                a.split('/')
                    .find(|p| p.starts_with("peer"))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        let Some(rest) = stat.rsplit(')').next() else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        // Fields after the comm: state is 0, utime is 11, stime is 12.
        *out.entry(format!("{name}@{peer}")).or_insert(0.0) += (t(11) + t(12)) / tick;
    }
    out
}

fn cpu_delta(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) -> String {
    let mut d: Vec<(String, f64)> = after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v >= 0.05)
        .collect();
    d.sort_by(|a, b| b.1.total_cmp(&a.1));
    d.iter()
        .map(|(k, v)| format!("{k} {v:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn throughput(samples: &[(u64, u64)], len: usize) -> (f64, f64) {
    if std::env::var_os("MULTICAST_BENCH_VERBOSE").is_some() {
        let mut at: Vec<u64> = samples.iter().map(|s| s.1).collect();
        at.sort_unstable();
        let mut gaps: Vec<(u64, usize)> = at
            .windows(2)
            .enumerate()
            .map(|(i, w)| (w[1] - w[0], i))
            .collect();
        gaps.sort_unstable_by(|a, b| b.cmp(a));
        let total = at.last().copied().unwrap_or(0) - at.first().copied().unwrap_or(0);
        let big: u64 = gaps.iter().filter(|g| g.0 > 20_000_000).map(|g| g.0).sum();
        eprintln!(
            "  run: {} msgs in {:.3} s, gaps > 20 ms sum {:.3} s, largest {:?}",
            at.len(),
            total as f64 / 1e9,
            big as f64 / 1e9,
            gaps.iter()
                .take(5)
                .map(|g| format!("{:.1}ms@{}", g.0 as f64 / 1e6, g.1))
                .collect::<Vec<_>>()
        );
    }
    let first = samples.iter().map(|s| s.1).min().unwrap_or(0);
    let last = samples.iter().map(|s| s.1).max().unwrap_or(0);
    // From the first arrival to the last: excludes channel set-up.
    let secs = ((last - first) as f64 / 1e9).max(1e-9);
    let n = samples.len().saturating_sub(1) as f64;
    (n * len as f64 / 1048576.0 / secs, n / secs)
}

/// One throughput run.
#[derive(Debug, Clone, Copy)]
struct Run {
    mib_s: f64,
    msgs_s: f64,
    stalls: usize,
}

/// The run of median throughput (the upper one of an even count).
fn median(runs: &[Run]) -> Run {
    let mut v = runs.to_vec();
    v.sort_by(|a, b| a.mib_s.total_cmp(&b.mib_s));
    v[v.len() / 2]
}

fn best(runs: &[Run]) -> Run {
    runs.iter()
        .copied()
        .max_by(|a, b| a.mib_s.total_cmp(&b.mib_s))
        .unwrap_or(Run {
            mib_s: 0.0,
            msgs_s: 0.0,
            stalls: 0,
        })
}

/// Gaps of [`STALL`] or more between consecutive arrivals.
fn stalls(samples: &[(u64, u64)]) -> usize {
    let mut at: Vec<u64> = samples.iter().map(|s| s.1).collect();
    at.sort_unstable();
    at.windows(2).filter(|w| w[1] - w[0] >= STALL).count()
}

fn latency_ms(samples: &[(u64, u64)]) -> (f64, f64) {
    let mut d: Vec<u64> = samples.iter().map(|(s, a)| a.saturating_sub(*s)).collect();
    d.sort_unstable();
    let at = |q: f64| d[((d.len() - 1) as f64 * q) as usize] as f64 / 1e6;
    (at(0.5), at(0.99))
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1024, 32 * 1024]
    } else {
        sizes
    };
    let conf = ServiceConf::from_file(
        &repo_conf_file("multicast"),
        service_binary("gnunet-service-multicast"),
    )
    .unwrap();
    let net = Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .service_conf(conf)
        .start()
        .expect("two connected peers");
    println!(
        "origin (peer 2) -> member (peer 1) on loopback, {} MiB per run; sizes are whole \
         messages on the channel (multicast: 116-byte header + payload)",
        volume() >> 20
    );
    // With MULTICAST_BENCH_VERBOSE: CADET's drop counters on both peers after each run
    // (cumulative), to see retransmission stalls.
    let cadet_drops = |net: &Testnet| -> String {
        (0..2)
            .map(|k| {
                let out = net
                    .peer(k)
                    .command("gnunet-statistics")
                    .args::<[&str; 0], &str>([])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                let pick: Vec<String> = out
                    .lines()
                    .map(str::trim)
                    .filter(|l| {
                        (l.starts_with("cadet")
                            && (l.contains("duplicate") || l.contains("dropped")))
                            || l.contains("throttl")
                            || l.to_lowercase().contains("quota")
                    })
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                    .collect();
                format!("p{}: {}", k + 1, pick.join("; "))
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let verbose = std::env::var_os("MULTICAST_BENCH_VERBOSE").is_some();
    let rounds = std::env::var("MULTICAST_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(ROUNDS)
        .max(1);
    for len in sizes {
        let count = (volume() / len).clamp(400, 100_000);
        // Loopback CADET speed drifts between runs: alternate the two, report the median and
        // the best of each.
        let run = |what: &str| -> Run {
            let before = cpu_by_process();
            let samples = if what == "raw" {
                raw_cadet(&net, len, count, None)
            } else {
                multicast(&net, len, count, None)
            };
            let (mib_s, msgs_s) = throughput(&samples, len);
            if verbose {
                eprintln!(
                    "  {what}: {msgs_s:.0} msgs/s; cpu s: {}",
                    cpu_delta(&before, &cpu_by_process())
                );
                eprintln!("  cadet drops so far: {}", cadet_drops(&net));
            }
            Run {
                mib_s,
                msgs_s,
                stalls: stalls(&samples),
            }
        };
        let (mut raw, mut mc) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                raw.push(run("raw"));
                mc.push(run("multicast"));
            } else {
                mc.push(run("multicast"));
                raw.push(run("raw"));
            }
        }
        let (raw_med, mc_med) = (median(&raw), median(&mc));
        let (raw_best, mc_best) = (best(&raw), best(&mc));
        println!(
            "msg {len:>6} B, {count} msgs x {rounds} runs each\n  \
             median  raw cadet: {:7.2} MiB/s {:8.0} msgs/s   multicast: {:7.2} MiB/s \
             {:8.0} msgs/s   ratio {:.2}\n  \
             best    raw cadet: {:7.2} MiB/s {:8.0} msgs/s   multicast: {:7.2} MiB/s \
             {:8.0} msgs/s   ratio {:.2}\n  \
             link stalls >= 1 s: raw {}, multicast {}",
            raw_med.mib_s,
            raw_med.msgs_s,
            mc_med.mib_s,
            mc_med.msgs_s,
            mc_med.mib_s / raw_med.mib_s,
            raw_best.mib_s,
            raw_best.msgs_s,
            mc_best.mib_s,
            mc_best.msgs_s,
            mc_best.mib_s / raw_best.mib_s,
            raw.iter().map(|r| r.stalls).sum::<usize>(),
            mc.iter().map(|r| r.stalls).sum::<usize>(),
        );
    }
    let pace = Some(Duration::from_millis(5));
    let (raw50, raw99) = latency_ms(&raw_cadet(&net, 1024, LATENCY_SAMPLES, pace));
    let (mc50, mc99) = latency_ms(&multicast(&net, 1024, LATENCY_SAMPLES, pace));
    println!(
        "one-way latency, 1 KiB every 5 ms: raw cadet median {raw50:.2} ms p99 {raw99:.2} ms; \
         multicast median {mc50:.2} ms p99 {mc99:.2} ms"
    );
}
