//! `gnunet-service-psyc` between two loopback peers, against our multicast alone in the same
//! run: master→slave throughput of 1 KiB messages, one-way latency, STATE_GET latency and how
//! fast a late slave catches up on a channel's history.
//!
//! `cargo run --release -p psyc --example bench_psyc` (`scripts/bench-psyc.sh` builds the
//! services first). The master (or multicast origin) is on peer 1, the slave (member) on
//! peer 2. Each throughput round runs, in rotating order:
//!
//! - **multicast w8**: an origin client sends 1 KiB payload fragments keeping 8 in flight, as
//!   `multicast`'s own bench does (the baseline);
//! - **multicast w1**: the same with one fragment in flight, which is how the psyc service
//!   feeds multicast (one fragment per channel with multicast until its FRAGMENT_ACK);
//! - **psyc client**: [`psyc::client::Client::transmit_queued`] per message (METHOD + 1 KiB
//!   DATA + END in one container), then [`psyc::client::Client::wait_transmitted`]: the
//!   messages are pipelined, with the session's window of containers in flight (8 by default,
//!   MESSAGE_ACK backpressure);
//! - **psyc raw w8**: the same containers written by a raw client keeping 8 unacknowledged,
//!   to tell the client's window from the service's.
//!
//! Environment: `PSYC_BENCH_MSGS` messages per throughput run (default 2000),
//! `PSYC_BENCH_ROUNDS` rounds (default 3), `PSYC_BENCH_HISTORY` messages stored before the
//! late slave joins (default 10000), `PSYC_BENCH_CATCHUP` the latest messages it fetches
//! (default 1000), `PSYC_BENCH_STATE_GETS` timed STATE_GETs (default 1000),
//! `PSYC_BENCH_VERBOSE=1` per-run figures with CPU seconds per service process.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use gnunet_service::client::BlockingClient;
use gnunet_service::config::Config;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use multicast::client as mc;
use multicast::msg::ADMITTED;
use psyc::client::{Client, Event};
use psyc::format::env::{Environment, Operator};
use psyc::format::parts::{MethodPart, Part};
use psyc::msg::{
    history_replay_flags, policy, slave_join_flags, status, ClientMessage, JoinDecision,
    MasterStart, Reply, Request,
};
use testnet::{ServiceConf, Testnet, Topology};

/// Patience for anything crossing the services.
const LONG: Duration = Duration::from_secs(120);
/// Body bytes of a throughput or latency message (the multicast baseline's payload size).
const BODY: usize = 1024;
/// Method of every bench message.
const METHOD: &str = "_bench";
/// Fragments (multicast) or containers (raw psyc) kept in flight by the windowed senders.
const WINDOW: usize = 8;
/// A gap between arrivals this long is a link stall, counted in the report.
const STALL_NS: u64 = 1_000_000_000;
/// Latency samples and their spacing.
const LATENCY_SAMPLES: usize = 200;
const LATENCY_PACE: Duration = Duration::from_millis(5);
/// State variables set for the STATE_GET measurement.
const STATE_VARS: usize = 100;

/// Arrivals of stamped messages: (send stamp, arrival), nanoseconds since a common base.
type Arrivals = Vec<(u64, u64)>;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn verbose() -> bool {
    std::env::var_os("PSYC_BENCH_VERBOSE").is_some()
}

fn since(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

/// A `len`-byte body starting with the send time since `base`.
fn stamped(len: usize, base: Instant) -> Vec<u8> {
    let mut body = since(base).to_be_bytes().to_vec();
    body.resize(len, 0x5a);
    body
}

fn stamp_of(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// The two peers, their sockets and identities, and fresh keys for every channel.
struct Bench {
    net: Testnet,
    next_key: u32,
}

impl Bench {
    fn socket(&self, k: usize) -> PathBuf {
        self.net.peer(k).service_socket("psyc")
    }

    fn peer_id(&self, k: usize) -> PeerIdentity {
        PeerIdentity(self.net.peer(k).identity_bytes())
    }

    /// A key seed never used before in this run (each test net starts with empty stores).
    fn seed(&mut self) -> [u8; 32] {
        self.next_key += 1;
        let mut seed = [0x42; 32];
        seed[..4].copy_from_slice(&self.next_key.to_be_bytes());
        seed
    }

    fn channel_key(&mut self) -> eddsa::PrivateKey {
        eddsa::PrivateKey(self.seed())
    }

    fn slave_key(&mut self) -> ecdsa::PrivateKey {
        ecdsa::PrivateKey::clamped(self.seed())
    }

    fn multicast_client(&self, k: usize) -> mc::Client {
        let cfg = Config::load(Some(self.net.peer(k).config_path())).unwrap();
        mc::Client::connect(&cfg, LONG).unwrap()
    }

    /// A slave of `channel` on peer 2 whose join the master admits in `admit` (called once the
    /// join is on its way); returns the slave and its key once it has the decision.
    fn join_slave(
        &mut self,
        channel: eddsa::PublicKey,
        admit: impl FnOnce(),
    ) -> (Client, ecdsa::PublicKey) {
        let slave_key = self.slave_key();
        let slave_pub = slave_key.public_key();
        let (mut slave, _) = Client::slave_join(
            &self.socket(1),
            channel,
            slave_key,
            self.peer_id(0),
            vec![],
            slave_join_flags::NONE,
            None,
        )
        .unwrap();
        slave.set_timeout(LONG);
        admit();
        match slave
            .wait_event(|e| matches!(e, Event::JoinDecision { .. }))
            .unwrap()
        {
            Event::JoinDecision { is_admitted, .. } => assert_eq!(is_admitted, status::OK),
            other => panic!("join decision expected, got {other:?}"),
        }
        (slave, slave_pub)
    }

    /// A new channel: master client on peer 1, admitted slave client on peer 2.
    fn psyc_channel(&mut self) -> (Client, Client, ecdsa::PublicKey) {
        let key = self.channel_key();
        let (mut master, _) =
            Client::master_start(&self.socket(0), key.clone(), policy::PRIVATE).unwrap();
        master.set_timeout(LONG);
        let (slave, slave_pub) = self.join_slave(key.public_key(), || admit_next(&mut master));
        (master, slave, slave_pub)
    }

    /// A new multicast group: origin client on peer 1, admitted member on peer 2.
    fn multicast_group(&mut self) -> (mc::Client, mc::Client) {
        let gkey = self.channel_key();
        let mut origin = self.multicast_client(0);
        origin.start_origin(gkey.clone(), 0).unwrap();
        let mut member = self.multicast_client(1);
        let join = mc::member_join(
            gkey.public_key(),
            self.slave_key(),
            self.peer_id(0),
            vec![],
            None,
        )
        .unwrap();
        member.send(&join).unwrap();
        let request = loop {
            if let mc::Event::JoinRequest(j) = origin.next_event(Some(LONG)).unwrap() {
                break j;
            }
        };
        origin
            .send(&mc::decide(&request, ADMITTED, vec![], None).unwrap())
            .unwrap();
        loop {
            if let mc::Event::JoinDecision(_) = member.next_event(Some(LONG)).unwrap() {
                break;
            }
        }
        (origin, member)
    }
}

/// Master: admits the next slave that asks to join.
fn admit_next(master: &mut Client) {
    match master
        .wait_event(|e| matches!(e, Event::JoinRequest { .. }))
        .unwrap()
    {
        Event::JoinRequest { slave_pub_key, .. } => master
            .join_decision(slave_pub_key, true, None, &[])
            .unwrap(),
        other => panic!("join request expected, got {other:?}"),
    }
}

/// Takes every event the client has queued or can read at once (the master's own messages
/// come back to it, and its event queue is bounded).
fn drain(client: &mut Client) {
    while client.next_event(Some(Duration::ZERO)).is_ok() {}
}

/// The slave side of a run: `count` stamped channel messages with their arrival times.
fn receive_psyc(mut slave: Client, count: usize, base: Instant) -> (Client, Arrivals) {
    let mut got = Vec::with_capacity(count);
    while got.len() < count {
        if let Event::Message(m) = slave.next_event(None).unwrap() {
            got.push((stamp_of(&m.message.data), since(base)));
        }
    }
    (slave, got)
}

/// Master→slave through the psyc client: `count` messages of [`BODY`] bytes queued in the
/// session one after the other (pipelined within its window of unacknowledged containers),
/// `pace` apart if set.
fn psyc_client_run(b: &mut Bench, count: usize, pace: Option<Duration>) -> Arrivals {
    let (mut master, slave, _) = b.psyc_channel();
    let base = Instant::now();
    let rx = thread::spawn(move || receive_psyc(slave, count, base));
    for _ in 0..count {
        let body = stamped(BODY, base);
        master
            .transmit_queued(METHOD, 0, Environment::new(), body)
            .unwrap();
        drain(&mut master);
        if let Some(p) = pace {
            thread::sleep(p);
        }
    }
    let report = master.wait_transmitted().unwrap();
    assert_eq!(report.transmitted, count as u64, "{report:?}");
    let (mut slave, got) = rx.join().unwrap();
    let _ = slave.part();
    let _ = master.part();
    got
}

/// The parts of one whole bench message in one container: METHOD, DATA `body`, END.
fn container(body: &[u8]) -> Vec<u8> {
    let mut parts = Vec::with_capacity(body.len() + 32);
    let method = Part::Method(MethodPart {
        flags: 0,
        state_delta: 0,
        name: Cow::Borrowed(METHOD.as_bytes()),
    });
    for part in [method, Part::Data(Cow::Borrowed(body)), Part::End] {
        part.emit(&mut parts);
    }
    Request::Message(ClientMessage { parts }).to_message()
}

/// A raw master connection: MASTER_START acknowledged, the slave admitted by `bench`.
fn raw_master(b: &mut Bench) -> (BlockingClient, Client) {
    let key = b.channel_key();
    let mut master = BlockingClient::connect_path(&b.socket(0), LONG).unwrap();
    master
        .send_raw(
            &Request::MasterStart(MasterStart {
                policy: policy::PRIVATE,
                channel_key: key.clone(),
            })
            .to_message(),
        )
        .unwrap();
    while !matches!(next_reply(&mut master), Reply::MasterStartAck(_)) {}
    let (slave, _) = b.join_slave(key.public_key(), || loop {
        if let Reply::JoinRequest(j) = next_reply(&mut master) {
            let decision = JoinDecision::new(status::OK, j.slave_pub_key);
            master
                .send_raw(&Request::JoinDecision(decision).to_message())
                .unwrap();
            break;
        }
    });
    (master, slave)
}

fn next_reply(conn: &mut BlockingClient) -> Reply {
    let raw = conn.recv(Some(LONG)).unwrap();
    Reply::decode(raw.bytes()).unwrap()
}

/// Master→slave with a raw master client that keeps [`WINDOW`] containers unacknowledged
/// (the service queues them; see `TRANSMIT_QUEUE` in `conf/psyc.conf`).
fn psyc_raw_run(b: &mut Bench, count: usize) -> Arrivals {
    let (mut master, slave) = raw_master(b);
    let base = Instant::now();
    let rx = thread::spawn(move || receive_psyc(slave, count, base));
    let mut in_flight = 0;
    for _ in 0..count {
        while in_flight >= WINDOW {
            if let Reply::MessageAck(_) = next_reply(&mut master) {
                in_flight -= 1;
            }
        }
        master.send_raw(&container(&stamped(BODY, base))).unwrap();
        in_flight += 1;
    }
    while in_flight > 0 {
        if let Reply::MessageAck(_) = next_reply(&mut master) {
            in_flight -= 1;
        }
    }
    let (mut slave, got) = rx.join().unwrap();
    let _ = slave.part();
    got
}

/// Origin→member through multicast alone: `count` fragments of [`BODY`] payload bytes,
/// `window` unacknowledged at most (one at a time when paced).
fn multicast_run(b: &mut Bench, count: usize, window: usize, pace: Option<Duration>) -> Arrivals {
    let (mut origin, mut member) = b.multicast_group();
    let base = Instant::now();
    let rx = thread::spawn(move || {
        let mut got = Vec::with_capacity(count);
        while got.len() < count {
            if let mc::Event::Message(f) = member.next_event(Some(LONG)).unwrap() {
                got.push((stamp_of(&f.payload), since(base)));
            }
        }
        let _ = member.send(&mc::part());
        got
    });
    let fragmenter = mc::Fragmenter::default();
    let mut in_flight = 0;
    for i in 0..count {
        while in_flight >= window || (pace.is_some() && in_flight > 0) {
            if let mc::Event::FragmentAck = origin.next_event(Some(LONG)).unwrap() {
                in_flight -= 1;
            }
        }
        for f in fragmenter.message(i as u64, 0, &stamped(BODY, base)) {
            origin.send(&f).unwrap();
            in_flight += 1;
        }
        if let Some(p) = pace {
            thread::sleep(p);
        }
    }
    let got = rx.join().unwrap();
    let _ = origin.send(&mc::part());
    got
}

/// One throughput run.
#[derive(Debug, Clone, Copy)]
struct Run {
    msgs_s: f64,
    stalls: usize,
}

impl Run {
    /// From the first arrival to the last (channel set-up excluded).
    fn of(arrivals: &Arrivals) -> Self {
        let mut at: Vec<u64> = arrivals.iter().map(|a| a.1).collect();
        at.sort_unstable();
        let span = match (at.first(), at.last()) {
            (Some(first), Some(last)) => (last - first) as f64 / 1e9,
            _ => 0.0,
        };
        Run {
            msgs_s: at.len().saturating_sub(1) as f64 / span.max(1e-9),
            stalls: at.windows(2).filter(|w| w[1] - w[0] >= STALL_NS).count(),
        }
    }
}

/// Median msgs/s of `runs` (the upper one of an even count).
fn median(runs: &[Run]) -> f64 {
    let mut v: Vec<f64> = runs.iter().map(|r| r.msgs_s).collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The `q` quantile of `samples` (nanoseconds), in milliseconds.
fn quantile_ms(samples: &mut [u64], q: f64) -> f64 {
    samples.sort_unstable();
    let i = ((samples.len().saturating_sub(1)) as f64 * q) as usize;
    samples.get(i).copied().unwrap_or(0) as f64 / 1e6
}

fn latency_ms(arrivals: &Arrivals) -> (f64, f64) {
    let mut d: Vec<u64> = arrivals.iter().map(|(s, a)| a.saturating_sub(*s)).collect();
    (quantile_ms(&mut d, 0.5), quantile_ms(&mut d, 0.99))
}

/// CPU seconds (user + system) so far of every service process of both peers, by peer and
/// program name.
fn cpu_seconds(net: &Testnet) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for k in 0..2 {
        for pid in net.peer(k).service_pids() {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The program name from the command line: the kernel's `comm` is cut at 15 bytes.
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let exe = cmdline.split(|b| *b == 0).next().unwrap_or_default();
            let exe = String::from_utf8_lossy(exe);
            let name = exe.rsplit('/').next().unwrap_or("?");
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            // After the command name: state is field 0, utime 11, stime 12 (in USER_HZ, 100).
            let ticks = |i: usize| {
                fields
                    .get(i)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            *out.entry(format!("p{}:{name}", k + 1)).or_insert(0.0) +=
                (ticks(11) + ticks(12)) / 100.0;
        }
    }
    out
}

fn cpu_delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> String {
    let mut d: Vec<(&String, f64)> = after
        .iter()
        .map(|(k, v)| (k, v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v >= 0.05)
        .collect();
    d.sort_by(|a, b| b.1.total_cmp(&a.1));
    d.iter()
        .map(|(k, v)| format!("{k} {v:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The throughput rounds; prints medians, ratios and stalls.
fn throughput(b: &mut Bench, count: usize, rounds: usize) {
    const KINDS: [&str; 4] = ["multicast w8", "multicast w1", "psyc client", "psyc raw w8"];
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); KINDS.len()];
    for round in 0..rounds {
        for i in 0..KINDS.len() {
            // Rotate the order: loopback speed drifts during a run.
            let kind = (i + round) % KINDS.len();
            let before = cpu_seconds(&b.net);
            let t0 = Instant::now();
            let arrivals = match kind {
                0 => multicast_run(b, count, WINDOW, None),
                1 => multicast_run(b, count, 1, None),
                2 => psyc_client_run(b, count, None),
                _ => psyc_raw_run(b, count),
            };
            let run = Run::of(&arrivals);
            if verbose() {
                eprintln!(
                    "  {:<13} {:7.0} msgs/s, {:.2} s with set-up; cpu s: {}",
                    KINDS[kind],
                    run.msgs_s,
                    t0.elapsed().as_secs_f64(),
                    cpu_delta(&before, &cpu_seconds(&b.net))
                );
            }
            runs[kind].push(run);
        }
    }
    let med: Vec<f64> = runs.iter().map(|r| median(r)).collect();
    println!("throughput, {count} msgs of {BODY} B body/payload per run, {rounds} runs each (median msgs/s):");
    for (kind, name) in KINDS.iter().enumerate() {
        println!(
            "  {name:<13} {:8.0} msgs/s {:6.2} MiB/s   runs {:?}   stalls >= 1 s: {}",
            med[kind],
            med[kind] * BODY as f64 / 1048576.0,
            runs[kind]
                .iter()
                .map(|r| r.msgs_s.round())
                .collect::<Vec<_>>(),
            runs[kind].iter().map(|r| r.stalls).sum::<usize>()
        );
    }
    println!(
        "  ratio psyc client / multicast w8: {:.2} (target >= 0.90); psyc raw w8 / multicast \
         w8: {:.2}; psyc client / multicast w1: {:.2}",
        med[2] / med[0],
        med[3] / med[0],
        med[2] / med[1]
    );
}

/// PSYC_MESSAGE containers the master's service took per message of [`psyc_client_run`]
/// (one is the aim: METHOD, DATA and END together), from psyc's statistics on peer 1.
fn containers_per_message(b: &mut Bench) {
    const STAT: &str = "# message containers from clients";
    const MESSAGES: u64 = 100;
    let peer = b.net.peer(0);
    let before = peer.statistic("psyc", STAT).unwrap_or(0);
    psyc_client_run(b, MESSAGES as usize, None);
    // Services send their statistics with a delay: wait for the least possible count, then
    // give any rest time to arrive.
    let peer = b.net.peer(0);
    let _ = peer.wait_statistic("psyc", STAT, before + MESSAGES, Duration::from_secs(10));
    thread::sleep(Duration::from_secs(1));
    let after = peer.statistic("psyc", STAT).unwrap_or(0);
    println!(
        "psyc client: {:.2} containers per {BODY} B message",
        after.saturating_sub(before) as f64 / MESSAGES as f64
    );
}

/// One-way latency of paced single messages, psyc and multicast.
fn latency(b: &mut Bench) {
    let (p50, p99) = latency_ms(&psyc_client_run(b, LATENCY_SAMPLES, Some(LATENCY_PACE)));
    let (m50, m99) = latency_ms(&multicast_run(b, LATENCY_SAMPLES, 1, Some(LATENCY_PACE)));
    println!(
        "one-way latency, {BODY} B every {} ms: psyc p50 {p50:.2} ms p99 {p99:.2} ms; \
         multicast p50 {m50:.2} ms p99 {m99:.2} ms",
        LATENCY_PACE.as_millis()
    );
}

fn state_name(i: usize) -> String {
    format!("_bench_var{i}")
}

/// STATE_GET round trips on `client` for `gets` names in turn; (found, p50, p99).
fn time_state_gets(client: &mut Client, gets: usize) -> (usize, f64, f64) {
    let mut found = 0;
    let mut samples = Vec::with_capacity(gets);
    for i in 0..gets {
        let name = state_name(i % STATE_VARS);
        let t0 = Instant::now();
        let vars = client.state_get(&name).unwrap();
        samples.push(t0.elapsed().as_nanos() as u64);
        if vars.result == 1 && vars.vars.iter().any(|(n, _)| *n == name) {
            found += 1;
        }
    }
    let p50 = quantile_ms(&mut samples, 0.5);
    (found, p50, quantile_ms(&mut samples, 0.99))
}

/// A stateful message sets [`STATE_VARS`] variables; then STATE_GETs on the slave's peer
/// (and on the master's if the slave does not find them).
fn state_get(b: &mut Bench, gets: usize) {
    let (mut master, mut slave, _) = b.psyc_channel();
    let mut env = Environment::new();
    for i in 0..STATE_VARS {
        env.add(Operator::Assign, &state_name(i), vec![b'v'; 32])
            .unwrap();
    }
    master.transmit(METHOD, 0, env, b"state".to_vec()).unwrap();
    while !matches!(slave.next_event(None).unwrap(), Event::Message(_)) {}
    let (found, p50, p99) = time_state_gets(&mut slave, gets);
    println!(
        "state get on the slave's peer, {gets} gets over {STATE_VARS} vars: p50 {p50:.3} ms \
         p99 {p99:.3} ms ({found} found)"
    );
    if found < gets {
        drain(&mut master);
        let (found, p50, p99) = time_state_gets(&mut master, gets);
        println!("state get on the master's peer: p50 {p50:.3} ms p99 {p99:.3} ms ({found} found)");
    }
    let _ = slave.part();
    let _ = master.part();
}

/// A channel with `stored` messages; a slave joins late and fetches the latest `latest` by
/// history replay with the REMOTE flag.
fn catch_up(b: &mut Bench, stored: usize, latest: usize) {
    let key = b.channel_key();
    let (mut master, _) = Client::master_start(&b.socket(0), key.clone(), policy::PRIVATE).unwrap();
    master.set_timeout(LONG);
    let t0 = Instant::now();
    for i in 0..stored {
        let body = format!("history {i}").into_bytes();
        master
            .transmit(METHOD, 0, Environment::new(), body)
            .unwrap();
        drain(&mut master);
    }
    let fill = t0.elapsed().as_secs_f64();
    let (mut slave, slave_pub) = b.join_slave(key.public_key(), || admit_next(&mut master));
    // Member from the start, so the master's replay answers pass psycstore's membership test.
    let stored_result = master
        .membership_store(slave_pub, true, stored as u64, 0)
        .unwrap();
    // A live message gives the slave its place in the channel.
    master
        .transmit(METHOD, 0, Environment::new(), b"live".to_vec())
        .unwrap();
    while !matches!(slave.next_event(None).unwrap(), Event::Message(_)) {}
    let t1 = Instant::now();
    let local = master.history_latest(latest as u64, "", 0).unwrap();
    let local_s = t1.elapsed().as_secs_f64();
    let cpu_before = cpu_seconds(&b.net);
    let t2 = Instant::now();
    let remote = slave
        .history_latest(latest as u64, "", history_replay_flags::REMOTE)
        .unwrap();
    let remote_s = t2.elapsed().as_secs_f64();
    if verbose() {
        eprintln!(
            "  catch-up cpu s: {}",
            cpu_delta(&cpu_before, &cpu_seconds(&b.net))
        );
    }
    println!(
        "history: {stored} messages stored in {fill:.1} s ({:.0} msgs/s, psyc client); master's \
         local replay of the latest {latest}: {} msgs in {:.3} s ({:.0} msgs/s)",
        stored as f64 / fill,
        local.messages.len(),
        local_s,
        local.messages.len() as f64 / local_s
    );
    if remote.messages.len() <= 1 {
        println!(
            "catch-up of a late slave, latest {latest} with REMOTE: n/a (REMOTE history not \
             available: {} msgs, result {}, membership store {stored_result})",
            remote.messages.len(),
            remote.result
        );
    } else {
        println!(
            "catch-up of a late slave, latest {latest} with REMOTE: {} msgs ({} invalid) in \
             {remote_s:.3} s = {:.0} msgs/s (result {})",
            remote.messages.len(),
            remote.invalid.len(),
            remote.messages.len() as f64 / remote_s,
            remote.result
        );
    }
    let _ = slave.part();
    let _ = master.part();
}

fn main() {
    let count = knob("PSYC_BENCH_MSGS", 2000).max(2);
    let rounds = knob("PSYC_BENCH_ROUNDS", 3).max(1);
    let conf = |name: &str| ServiceConf::workspace(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let net = Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .service_conf(conf("psyc"))
        .service_conf(conf("multicast"))
        .service_conf(conf("psycstore"))
        .start()
        .expect("two connected peers");
    let mut b = Bench { net, next_key: 0 };
    println!("master/origin on peer 1 -> slave/member on peer 2, loopback");
    let started = Instant::now();
    containers_per_message(&mut b);
    throughput(&mut b, count, rounds);
    latency(&mut b);
    state_get(&mut b, knob("PSYC_BENCH_STATE_GETS", 1000).max(1));
    catch_up(
        &mut b,
        knob("PSYC_BENCH_HISTORY", 10_000).max(1),
        knob("PSYC_BENCH_CATCHUP", 1000).max(1),
    );
    println!("total {:.1} s", started.elapsed().as_secs_f64());
}
