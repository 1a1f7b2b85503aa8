//! Bench of `gnunet-service-social` between two loopback peers (host on peer 1, guest on peer
//! 2), with psyc alone measured in the same run as the baseline: host → guest throughput of
//! 1 KiB announcements through social, against a psyc master → slave on the same peers (the
//! layer social adds is the difference), and the one-way latency of single messages. Run by
//! `scripts/bench-social.sh`; knobs: `SOCIAL_BENCH_MSGS` messages per throughput run (default
//! 2000), `SOCIAL_BENCH_ROUNDS` rounds of each kind (default 3, alternating), and
//! `SOCIAL_BENCH_PINGS` latency samples (default 200).
//!
//! With `SOCIAL_BENCH_LEVELS` (e.g. `convenient,balanced,strict`) the host → guest runs are then
//! repeated at each privacy level, switched on the running peers by appending `[secushare]
//! PRIVACY` to their configuration (the services follow it from the next message), rounds
//! alternating between levels, with the latency of each: what each level costs, side by side
//! in one run. The social-against-psyc comparison above runs at convenient.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use gnunet_service::config::Config;
use gnunet_service::crypto::identity_key::{KeyType, PrivateKey};
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::identity::IdentityClient;
use gnunet_service::peer::PeerIdentity;
use psyc::client::{Client as PsycClient, Event};
use psyc::format::env::Environment;
use social::client::App;
use testnet::{build_workspace_bins, ServiceConf, Testnet, Topology};

const BODY: usize = 1024;
const T: Duration = Duration::from_secs(60);

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

type R<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn run() -> R<()> {
    let msgs = knob("SOCIAL_BENCH_MSGS", 2000);
    let rounds = knob("SOCIAL_BENCH_ROUNDS", 3);
    let pings = knob("SOCIAL_BENCH_PINGS", 200);
    build_workspace_bins(&["social", "psyc", "multicast", "psycstore"]);
    let social = ServiceConf::workspace("social").map_err(err)?;
    let net = Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .lean(false)
        .service_conf(social)
        .service_conf(ServiceConf::workspace("psyc").map_err(err)?)
        .service_conf(ServiceConf::workspace("multicast").map_err(err)?)
        .service_conf(ServiceConf::workspace("psycstore").map_err(err)?)
        .start()
        .map_err(err)?;
    let cfg = |k: usize| Config::load(Some(net.peer(k).config_path())).map_err(err);
    let origin = PeerIdentity(net.peer(0).identity_bytes());

    // Social: a host place on peer 1, a guest on peer 2.
    let host_ego = ego(&cfg(0)?, "host")?;
    let guest_ego = ego(&cfg(1)?, "guest")?;
    let host_app = App::connect(&cfg(0)?, "bench").map_err(err)?;
    let (mut host, _) = host_app
        .host_enter(host_ego, psyc::msg::policy::PRIVATE)
        .map_err(err)?;
    let place_key = host.place_pub_key().ok_or("no place key")?;
    let guest_app = App::connect(&cfg(1)?, "bench").map_err(err)?;
    let (mut guest, _) = guest_app
        .guest_enter(guest_ego, place_key, origin, vec![], None)
        .map_err(err)?;
    host.wait_event(|e| matches!(e, Event::JoinRequest { .. }))
        .map_err(err)?;
    let nym = ecdsa::PrivateKey::from_bytes(match guest_ego_private(&cfg(1)?)? {
        PrivateKey::Ecdsa(k) => k.0,
        PrivateKey::Eddsa(_) => return Err("guest ego is not ECDSA".into()),
    })
    .public_key();
    host.entry_decision(nym, true, None).map_err(err)?;
    if !guest.wait_entry_decision().map_err(err)?.admitted() {
        return Err("guest refused".into());
    }

    // psyc alone: a master on peer 1, a slave on peer 2.
    let channel = eddsa::PrivateKey::generate(&mut rand_core::OsRng);
    let channel_pub = channel.public_key();
    let (mut master, _) = PsycClient::master_start(
        &net.peer(0).service_socket("psyc"),
        channel,
        psyc::msg::policy::PRIVATE,
    )
    .map_err(err)?;
    let slave_key = ecdsa::PrivateKey::generate(&mut rand_core::OsRng);
    let slave_pub = slave_key.public_key();
    let (mut slave, _) = PsycClient::slave_join(
        &net.peer(1).service_socket("psyc"),
        channel_pub,
        slave_key,
        origin,
        vec![],
        0,
        None,
    )
    .map_err(err)?;
    master
        .wait_event(|e| matches!(e, Event::JoinRequest { .. }))
        .map_err(err)?;
    master
        .join_decision(slave_pub, true, None, &[])
        .map_err(err)?;
    slave
        .wait_event(|e| matches!(e, Event::JoinDecision { .. }))
        .map_err(err)?;

    println!(
        "{msgs} messages of {BODY} bytes per run, {rounds} rounds each, host/master on peer 1"
    );
    let mut social_rates = Vec::new();
    let mut psyc_rates = Vec::new();
    for round in 0..rounds {
        let order: [bool; 2] = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for via_social in order {
            let rate = if via_social {
                throughput(host.client_mut(), guest.client_mut(), msgs)?
            } else {
                throughput(&mut master, &mut slave, msgs)?
            };
            if via_social {
                social_rates.push(rate);
            } else {
                psyc_rates.push(rate);
            }
        }
    }
    let social_lat = latency(host.client_mut(), guest.client_mut(), pings)?;
    let psyc_lat = latency(&mut master, &mut slave, pings)?;
    report("throughput, msgs/s", &social_rates, &psyc_rates);
    println!(
        "latency, ms           social p50 {:.2} p99 {:.2}   psyc p50 {:.2} p99 {:.2}",
        pct(&social_lat, 50),
        pct(&social_lat, 99),
        pct(&psyc_lat, 50),
        pct(&psyc_lat, 99)
    );
    let levels = std::env::var("SOCIAL_BENCH_LEVELS").unwrap_or_default();
    let levels: Vec<&str> = levels.split(',').filter(|l| !l.is_empty()).collect();
    if !levels.is_empty() {
        let mut rates = vec![Vec::new(); levels.len()];
        for round in 0..rounds {
            for k in 0..levels.len() {
                let i = (k + round) % levels.len();
                set_level(&net, levels[i])?;
                rates[i].push(throughput(host.client_mut(), guest.client_mut(), msgs)?);
            }
        }
        for (i, level) in levels.iter().enumerate() {
            set_level(&net, level)?;
            let lat = latency(host.client_mut(), guest.client_mut(), pings)?;
            println!(
                "level {level:<11} throughput median {:.0} msgs/s [{}]   latency p50 {:.2} p99 {:.2} ms",
                pct(&rates[i], 50),
                rates[i]
                    .iter()
                    .map(|x| format!("{x:.0}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                pct(&lat, 50),
                pct(&lat, 99)
            );
        }
    }
    drop((host, guest));
    Ok(())
}

/// Switches both peers to privacy level `level` while they run.
fn set_level(net: &Testnet, level: &str) -> R<()> {
    use std::io::Write;
    for peer in net.peers() {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(peer.config_path())
            .map_err(err)?;
        write!(f, "\n[secushare]\nPRIVACY = {level}\n").map_err(err)?;
    }
    Ok(())
}

/// Creates ECDSA ego `name` and returns its public key.
fn ego(cfg: &Config, name: &str) -> R<ecdsa::PublicKey> {
    let mut id = IdentityClient::connect(cfg).map_err(err)?;
    match id.create(name, KeyType::Ecdsa).map_err(err)?.key {
        PrivateKey::Ecdsa(k) => Ok(k.public_key()),
        PrivateKey::Eddsa(_) => Err("not ECDSA".into()),
    }
}

fn guest_ego_private(cfg: &Config) -> R<PrivateKey> {
    let mut id = IdentityClient::connect(cfg).map_err(err)?;
    Ok(id.lookup("guest").map_err(err)?.ok_or("no guest ego")?.key)
}

/// Sends `n` messages queued back to back and waits until the receiver has them all.
fn throughput<S, Q>(tx: &mut PsycClient<S>, rx: &mut PsycClient<Q>, n: usize) -> R<f64>
where
    S: psyc::client::ChannelSession,
    Q: psyc::client::ChannelSession,
{
    let start = Instant::now();
    for k in 0..n {
        tx.transmit_queued("_bench", 0, Environment::default(), vec![0x61; BODY])
            .map_err(err)?;
        if k % 256 == 255 {
            drain(tx);
        }
    }
    tx.wait_transmitted().map_err(err)?;
    drain(tx);
    let mut got = 0;
    while got < n {
        if let Event::Message(_) = rx.next_event(Some(T)).map_err(err)? {
            got += 1;
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// One message at a time: sent, received; the time in ms for each.
fn latency<S, Q>(tx: &mut PsycClient<S>, rx: &mut PsycClient<Q>, n: usize) -> R<Vec<f64>>
where
    S: psyc::client::ChannelSession,
    Q: psyc::client::ChannelSession,
{
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        tx.transmit_queued("_ping", 0, Environment::default(), b"ping".to_vec())
            .map_err(err)?;
        loop {
            if let Event::Message(_) = rx.next_event(Some(T)).map_err(err)? {
                break;
            }
        }
        out.push(start.elapsed().as_secs_f64() * 1e3);
        tx.wait_transmitted().map_err(err)?;
        drain(tx);
    }
    Ok(out)
}

/// Reads away what the sender got meanwhile (a social host receives its own announcements).
fn drain<S: psyc::client::ChannelSession>(c: &mut PsycClient<S>) {
    while c.next_event(Some(Duration::from_millis(1))).is_ok() {}
}

fn pct(v: &[f64], p: usize) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let i = (s.len().saturating_sub(1) * p) / 100;
    s.get(i).copied().unwrap_or(f64::NAN)
}

fn report(what: &str, social: &[f64], psyc: &[f64]) {
    let med = |v: &[f64]| pct(v, 50);
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "{what:<21} social median {:.0} [{}]   psyc median {:.0} [{}]   ratio {:.2}",
        med(social),
        fmt(social),
        med(psyc),
        fmt(psyc),
        med(social) / med(psyc)
    );
}
