//! Padding on the wire (issue 13, point 2): an outside observer captures the TCP traffic
//! between two loopback peers while a scripted psyc conversation runs — a slave joins with a
//! join message, the master's application admits it with a response, announcements and
//! requests of 20 lengths from 10 B to 40 KiB go both ways, and the slave fetches earlier
//! messages from the channel (replay answers). The same script runs at each privacy level,
//! changed on the running peers by rewriting their config files (no restart), in the order
//! strict → balanced → convenient, so padding is switched to another scheme and then off:
//!
//! - `strict` (buckets 512/4096/32768/max): every data-carrying message on the wire is a
//!   bucket plus the constant per-message overhead of CADET, CORE and the transport, whatever
//!   its kind;
//! - `balanced` (Padmé): every data-carrying message is a Padmé class plus that overhead;
//! - `convenient` (none): the sizes are many, follow the lengths and tell the kinds apart —
//!   the same assertions fail there, which the test checks too.
//!
//! What the observer measures are the messages on each TCP stream: the transport frames
//! CORE's encrypted messages, whose 4-byte GNUnet header (with the size) is in clear, so the
//! stream splits into messages however TCP cut it into segments (a 64 KB message leaves as
//! one or two segments depending on the socket buffer). "Data-carrying" is a principled cut:
//! at least the smallest bucket plus the overhead. Everything below is link control (CADET
//! and CORE keepalives and ACKs) or a message below the smallest bucket (unpadded at
//! `convenient`, in a small Padmé class at `balanced`). The overhead is measured once, from
//! the join request at `strict`: the largest message of that step (a padded join request is
//! 512 bytes; the others are CADET setting up the tunnel and channel).
//!
//! Needs `CAP_NET_RAW` (a raw `AF_PACKET` socket on `lo`); skips with a message without it.

#[path = "padding_wire/capture.rs"]
mod capture;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Instant;

use capture::{stream_messages, Capture};
use common::*;
use gnunet_service::privacy::{padme, DEFAULT_BUCKETS};
use psyc::client::{Client, Event};
use psyc::format::container::DELIVERY_REQUEST;
use psyc::format::env::Environment;
use psyc::format::message::PsycMessage;
use psyc::msg::{history_replay_flags, policy, slave_join_flags};
use testnet::{build_workspace_bins, repo_conf_file, ServiceConf, Testnet, Topology};

/// Body lengths of the announcements, 10 B to 40 KiB, spread geometrically.
fn lengths() -> Vec<usize> {
    (0..20)
        .map(|i| (10.0 * 4096f64.powf(f64::from(i) / 19.0)).round() as usize)
        .collect()
}

/// The message kinds the script sends, each in its own step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Join,
    Decision,
    Announcement,
    Request,
    Replay,
}

/// The messages on the wire of each step of one run, by kind, and all bytes captured.
struct Run {
    level: &'static str,
    by_kind: BTreeMap<Kind, Vec<usize>>,
    total_bytes: usize,
}

fn start_net() -> Testnet {
    let psyc = ServiceConf::from_file(
        &repo_conf_file("psyc"),
        env!("CARGO_BIN_EXE_gnunet-service-psyc"),
    )
    .expect("conf/psyc.conf");
    build_workspace_bins(&["multicast", "psycstore"]);
    let conf = |name| ServiceConf::workspace(name).expect("conf");
    Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .service_conf(psyc)
        .service_conf(conf("multicast"))
        .service_conf(conf("psycstore"))
        // Sizes are the subject here, not timing: no deliberate delays at any level.
        .extra_config("[secushare]\nRESPONSE_DELAY = 0 ms\nHOP_DELAY = 0 ms\n")
        .start()
        .expect("peers up")
}

/// Sets `[secushare] PRIVACY` in peer `k`'s config file, as a user would.
fn set_level(net: &Testnet, k: usize, level: &str) {
    let status = Command::new("gnunet-config")
        .arg("-c")
        .arg(net.peer(k).config_path())
        .args(["-s", "secushare", "-o", "PRIVACY", "-V", level])
        .status()
        .expect("gnunet-config");
    assert!(status.success());
}

fn body(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| seed.wrapping_add(i as u8) | 0x20)
        .collect()
}

/// One run of the script on a fresh channel; returns the messages of each step.
fn converse(net: &Testnet, cap: &Capture, level: &'static str, seed: u8) -> Run {
    let lens = lengths();
    let mut steps: Vec<(Kind, usize, usize)> = Vec::new();
    let begin = cap.mark();
    let channel = channel_key(seed);
    let (mut master, _) =
        Client::master_start(&psyc_socket(net, 0), channel.clone(), policy::PRIVATE)
            .expect("master start");
    // Three messages before the slave is there: it fetches them later (replay answers).
    let early = [lens[3], lens[9], lens[15]];
    for (i, len) in early.iter().enumerate() {
        master
            .transmit(
                "_notice_early",
                0,
                Environment::default(),
                body(*len, i as u8),
            )
            .expect("early");
        master
            .wait_event(|e| matches!(e, Event::Message(_)))
            .expect("own early");
    }

    let from = cap.mark();
    let key = slave_key(seed);
    let join = PsycMessage {
        method: "_request_join".into(),
        data: body(200, 7),
        ..PsycMessage::default()
    };
    let (mut slave, _) = Client::slave_join(
        &psyc_socket(net, 1),
        channel.public_key(),
        key.clone(),
        peer_id(net, 0),
        Vec::new(),
        slave_join_flags::NONE,
        Some(&join),
    )
    .expect("slave join");
    match master.wait_event(|e| matches!(e, Event::JoinRequest { .. })) {
        Ok(Event::JoinRequest { message, .. }) => {
            assert_eq!(
                message,
                Some(join),
                "{level}: the join message arrives unpadded"
            )
        }
        other => panic!("{level}: join request: {other:?}"),
    }
    steps.push((Kind::Join, from, cap.mark()));

    let from = cap.mark();
    let welcome = PsycMessage {
        method: "_notice_welcome".into(),
        data: body(1500, 9),
        ..PsycMessage::default()
    };
    master
        .join_decision(key.public_key(), true, Some(&welcome), &[])
        .expect("decision");
    match slave.wait_event(|e| matches!(e, Event::JoinDecision { .. })) {
        Ok(Event::JoinDecision {
            is_admitted,
            response,
        }) => {
            assert_eq!(is_admitted, 1);
            assert_eq!(
                response,
                Some(welcome),
                "{level}: the response arrives unpadded"
            );
        }
        other => panic!("{level}: decision: {other:?}"),
    }
    steps.push((Kind::Decision, from, cap.mark()));
    assert_eq!(
        master
            .membership_store(key.public_key(), true, 1, 1)
            .expect("membership"),
        1
    );

    for (i, len) in lens.iter().enumerate() {
        let from = cap.mark();
        let data = body(*len, i as u8);
        master
            .transmit("_notice_talk", 0, Environment::default(), data.clone())
            .expect("announce");
        let got = match slave.wait_event(|e| matches!(e, Event::Message(_))) {
            Ok(Event::Message(m)) => m,
            other => {
                for k in 0..2 {
                    let out = net.peer(k).command("gnunet-statistics").output().unwrap();
                    eprintln!("peer {k} stats:\n{}", String::from_utf8_lossy(&out.stdout));
                }
                panic!("{level}: announcement {i} of {len} bytes: {other:?}")
            }
        };
        assert_eq!(
            got.message.data, data,
            "{level}: announcement of {len} bytes"
        );
        steps.push((Kind::Announcement, from, cap.mark()));
    }
    for (i, len) in lens.iter().enumerate().step_by(2) {
        let from = cap.mark();
        let data = body(*len, i as u8 + 1);
        slave
            .transmit("_request_talk", 0, Environment::default(), data.clone())
            .expect("request");
        let got = match master
            .wait_event(|e| matches!(e, Event::Message(m) if m.flags & DELIVERY_REQUEST != 0))
        {
            Ok(Event::Message(m)) => m,
            other => panic!("{level}: request: {other:?}"),
        };
        assert_eq!(got.message.data, data, "{level}: request of {len} bytes");
        steps.push((Kind::Request, from, cap.mark()));
    }

    let from = cap.mark();
    let history = slave
        .history_replay(1, 3, "", history_replay_flags::REMOTE)
        .expect("history from the channel");
    let bodies: Vec<usize> = history
        .messages
        .iter()
        .map(|m| m.message.data.len())
        .collect();
    assert_eq!(bodies, early, "{level}: replayed from the master, unpadded");
    steps.push((Kind::Replay, from, cap.mark()));

    slave.part().expect("slave part");
    master.part().expect("master part");
    let end = cap.mark();

    let segments = cap.between(begin, end);
    let total_bytes = segments.iter().map(|s| s.len).sum();
    let read = stream_messages(&segments).unwrap_or_else(|e| panic!("{level}: {e}"));
    let mut by_kind: BTreeMap<Kind, Vec<usize>> = BTreeMap::new();
    for (kind, from, to) in steps {
        let (from, to) = (from - begin, to - begin);
        by_kind.entry(kind).or_default().extend(
            read.iter()
                .filter(|m| (from..to).contains(&m.done_at))
                .map(|m| m.size),
        );
    }
    Run {
        level,
        by_kind,
        total_bytes,
    }
}

/// The data messages (at least `floor` bytes) of every kind.
fn data_sizes(run: &Run, floor: usize) -> BTreeMap<Kind, BTreeSet<usize>> {
    run.by_kind
        .iter()
        .map(|(k, v)| (*k, v.iter().copied().filter(|&s| s >= floor).collect()))
        .collect()
}

/// Sizes (less the overhead) that are not classes of the scheme `is_class`.
fn off_class(
    sizes: &BTreeMap<Kind, BTreeSet<usize>>,
    overhead: usize,
    is_class: impl Fn(usize) -> bool,
) -> Vec<(Kind, usize)> {
    sizes
        .iter()
        .flat_map(|(k, s)| s.iter().map(move |&n| (*k, n)))
        .filter(|&(_, n)| !is_class(n - overhead))
        .collect()
}

/// (data messages on a class of `is_class` after the overhead, all data messages) of a run.
fn on_class(
    run: &Run,
    floor: usize,
    overhead: usize,
    is_class: fn(usize) -> bool,
) -> (usize, usize) {
    let data: Vec<usize> = run
        .by_kind
        .values()
        .flatten()
        .copied()
        .filter(|&n| n >= floor)
        .collect();
    let on = data.iter().filter(|&&n| is_class(n - overhead)).count();
    (on, data.len())
}

/// The most a small control message adds when CORE bundles it with a data message.
const MAX_BUNDLED: usize = 200;

fn is_bucket(n: usize) -> bool {
    DEFAULT_BUCKETS.contains(&n) || n == psyc::channel::pad::MAX_WIRE
}

fn is_padme(n: usize) -> bool {
    padme(n) == n
}

#[test]
fn padding_hides_sizes_and_kinds_on_the_wire() {
    let net = start_net();
    let ports = vec![net.peer(0).port(), net.peer(1).port()];
    let cap = match Capture::start(ports) {
        Ok(c) => c,
        Err(why) => {
            eprintln!("SKIPPED padding_wire: cannot capture on lo: {why}");
            return;
        }
    };
    let started = Instant::now();
    let mut runs = Vec::new();
    for (seed, level) in [(41, "strict"), (42, "balanced"), (43, "convenient")] {
        set_level(&net, 0, level);
        set_level(&net, 1, level);
        runs.push(converse(&net, &cap, level, seed));
    }
    let [strict, balanced, convenient] = &runs[..] else {
        unreachable!()
    };

    // The overhead: the constant that puts the most messages of the strict run on buckets
    // (each padded message is a bucket plus it; CADET/CORE/transport add the same to each).
    let strict_all: Vec<usize> = strict.by_kind.values().flatten().copied().collect();
    let overhead = (1..1000)
        .max_by_key(|&o| {
            strict_all
                .iter()
                .filter(|&&n| n > o && is_bucket(n - o))
                .count()
        })
        .unwrap_or(0);
    assert!((100..400).contains(&overhead), "overhead {overhead}");
    let floor = DEFAULT_BUCKETS[0] + overhead;

    for run in &runs {
        let sizes = data_sizes(run, floor);
        let all: BTreeSet<usize> = sizes.values().flatten().copied().collect();
        eprintln!(
            "padding_wire {}: {} bytes on the wire; {} distinct data message sizes (overhead {overhead}): {:?}",
            run.level,
            run.total_bytes,
            all.len(),
            sizes
        );
    }

    // strict: buckets, the same few sizes for every kind. CORE may bundle a small control
    // message with a data message into one (seen as a bucket plus at most ~200 bytes); such
    // bundles are allowed, but few.
    let bundled =
        |n: usize| (1..=MAX_BUNDLED).any(|c| n >= overhead + c && is_bucket(n - overhead - c));
    let (on, total) = on_class(strict, floor, overhead, is_bucket);
    assert!(
        on * 10 >= total * 9,
        "strict: only {on} of {total} on buckets"
    );
    let sizes = data_sizes(strict, floor);
    let unexplained: Vec<(Kind, usize)> = off_class(&sizes, overhead, is_bucket)
        .into_iter()
        .filter(|&(_, n)| !bundled(n))
        .collect();
    assert_eq!(unexplained, vec![], "strict");
    let exact: BTreeMap<Kind, BTreeSet<usize>> = sizes
        .iter()
        .map(|(k, v)| {
            (
                *k,
                v.iter()
                    .copied()
                    .filter(|&n| is_bucket(n - overhead))
                    .collect(),
            )
        })
        .collect();
    let all: BTreeSet<usize> = exact.values().flatten().copied().collect();
    assert!(all.len() <= 4, "strict: {all:?}");
    // Requests and replay answers of the lengths of announcements look like announcements;
    // so do the join request and the decision (their classes are among them).
    for kind in [Kind::Join, Kind::Decision, Kind::Request, Kind::Replay] {
        assert!(
            exact[&kind].is_subset(&exact[&Kind::Announcement]),
            "strict: {kind:?} {:?} vs announcements {:?}",
            exact[&kind],
            exact[&Kind::Announcement]
        );
    }

    // balanced: Padmé classes.
    let (on, total) = on_class(balanced, floor, overhead, is_padme);
    assert!(
        on * 10 >= total * 9,
        "balanced: only {on} of {total} on Padmé classes"
    );

    // convenient: the same checks fail — sizes follow the lengths and kinds differ.
    for (scheme, is_class) in [
        ("bucket", is_bucket as fn(usize) -> bool),
        ("Padmé", is_padme),
    ] {
        let (on, total) = on_class(convenient, floor, overhead, is_class);
        assert!(
            on * 2 < total,
            "convenient: {on} of {total} on {scheme} classes; the leak must show"
        );
    }
    let sizes = data_sizes(convenient, floor);
    let all: BTreeSet<usize> = sizes.values().flatten().copied().collect();
    assert!(all.len() >= 10, "convenient: {all:?}");
    // The same body lengths as requests and as announcements differ by the header sizes.
    assert!(
        !sizes[&Kind::Request].is_empty()
            && sizes[&Kind::Request].is_disjoint(&sizes[&Kind::Announcement]),
        "convenient: requests and announcements must be told apart: {sizes:?}"
    );

    // The cost: all TCP payload of the run (link control included), and the data messages
    // of the scripted steps alone.
    let data = |r: &Run| -> usize { r.by_kind.values().flatten().filter(|&&s| s >= floor).sum() };
    for (what, of) in [
        (
            "all TCP payload",
            &(|r: &Run| r.total_bytes) as &dyn Fn(&Run) -> usize,
        ),
        ("data messages", &data),
    ] {
        let (none, pm, bk) = (
            of(convenient) as f64,
            of(balanced) as f64,
            of(strict) as f64,
        );
        eprintln!(
            "padding_wire cost ({what}): none {none} B, padme {pm} B ({:+.1} %), buckets {bk} B ({:+.1} %)",
            100.0 * (pm / none - 1.0),
            100.0 * (bk / none - 1.0),
        );
    }
    eprintln!("padding_wire: three runs in {:?}", started.elapsed());
}
