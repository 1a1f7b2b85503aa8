//! The local demo network: two GNUnet 0.19 peers on loopback with the secushare-rs services
//! registered in ARM. It shows ARM starting our services on demand, psycstore storing and
//! returning a message, a multicast group spanning both peers, and raw CADET between them; with
//! `--wait` it keeps the peers up until Ctrl-C so you can poke at them with GNUnet's tools.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use gnunet_service::cadet::msg::TYPE_CADET_CLI;
use gnunet_service::cadet::{port_of_name, CadetClient, CadetEvent};
use gnunet_service::client::BlockingClient;
use gnunet_service::config::Config;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use multicast::client::{self as mc, Event};
use multicast::msg::ADMITTED;
use psycstore::fragment::{Fragment, FLAG_FIRST_FRAGMENT, FLAG_LAST_FRAGMENT};
use psycstore::keys::ChannelKey;
use testnet::{ServiceConf, ServiceSection, Testnet, Topology};

const TYPE_ECHO: u16 = 65000;
const T: Duration = Duration::from_secs(30);

fn example_binary(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no executable directory")?;
    let bin = dir.join("examples").join(name);
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} missing: build with `cargo build --workspace --all-targets` first",
            bin.display()
        ))
    }
}

fn run(wait: bool) -> Result<(), String> {
    let echo = example_binary("gnunet-service-echo")?;
    let started = Instant::now();
    let net = Testnet::builder()
        .peers(2)
        .topology(Topology::Line)
        .service(ServiceSection {
            name: "echo".into(),
            binary: echo,
            options: vec![
                ("START_ON_DEMAND".into(), "YES".into()),
                (
                    "UNIXPATH".into(),
                    "$GNUNET_RUNTIME_DIR/gnunet-service-echo.sock".into(),
                ),
                ("UNIX_MATCH_GID".into(), "YES".into()),
            ],
        })
        .service_conf(ServiceConf::workspace("psycstore").map_err(|e| e.to_string())?)
        .service_conf(ServiceConf::workspace("multicast").map_err(|e| e.to_string())?)
        .start()
        .map_err(|e| e.to_string())?;
    println!(
        "two peers connected in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    for (k, p) in net.peers().iter().enumerate() {
        println!(
            "  p{}: {}  config {}",
            k + 1,
            p.identity(),
            p.config_path().display()
        );
    }

    for (k, p) in net.peers().iter().enumerate() {
        let t0 = Instant::now();
        let mut c = BlockingClient::connect_path(&p.service_socket("echo"), T)
            .map_err(|e| e.to_string())?;
        let m = message(TYPE_ECHO, format!("hello p{}", k + 1).as_bytes());
        c.send_raw(&m).map_err(|e| e.to_string())?;
        let reply = c.recv(Some(T)).map_err(|e| e.to_string())?;
        if reply.bytes() != m {
            return Err("echo answered other bytes".into());
        }
        println!(
            "  p{}: ARM started the Rust echo service on demand; answered in {:.1} ms",
            k + 1,
            t0.elapsed().as_secs_f64() * 1e3
        );
    }

    psycstore_round_trip(&net)?;
    multicast_group(&net)?;

    let port = port_of_name("secushare-demo");
    let mut rx = CadetClient::connect_path(&net.peer(0).service_socket("cadet"))
        .map_err(|e| e.to_string())?;
    rx.open_port(port).map_err(|e| e.to_string())?;
    let mut tx = CadetClient::connect_path(&net.peer(1).service_socket("cadet"))
        .map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let ccn = tx
        .create_channel(PeerIdentity(net.peer(0).identity_bytes()), port)
        .map_err(|e| e.to_string())?;
    tx.wait_ready(ccn, T).map_err(|e| e.to_string())?;
    let m = message(TYPE_CADET_CLI, b"hello over CADET from p2");
    tx.send(ccn, &m, T).map_err(|e| e.to_string())?;
    loop {
        match rx.next_event(T).map_err(|e| e.to_string())? {
            CadetEvent::Data { payload, ccn } => {
                rx.receive_done(ccn).map_err(|e| e.to_string())?;
                println!(
                    "  p1 received {:?} over CADET, {:.1} ms after the channel was requested",
                    String::from_utf8_lossy(&payload[4..]),
                    t0.elapsed().as_secs_f64() * 1e3
                );
                break;
            }
            CadetEvent::Destroyed { .. } => return Err("channel destroyed".into()),
            CadetEvent::Incoming { .. } => {}
        }
    }

    if wait {
        println!("peers stay up; press Ctrl-C to stop them");
        wait_for_ctrl_c();
    }
    println!("stopping peers");
    net.stop();
    Ok(())
}

/// Stores a three-fragment message in p1's psycstore (started on demand by ARM) and reads it
/// back.
fn psycstore_round_trip(net: &Testnet) -> Result<(), String> {
    let t0 = Instant::now();
    let socket = net.peer(0).service_socket("psycstore");
    let mut store = psycstore::Client::connect_path(&socket, T).map_err(|e| e.to_string())?;
    let channel = ChannelKey([7; 32]);
    for i in 0..3u64 {
        let flags = match i {
            0 => FLAG_FIRST_FRAGMENT,
            2 => FLAG_LAST_FRAGMENT,
            _ => 0,
        };
        let mut fragment = Fragment::unsigned(
            1,
            i,
            0,
            flags,
            format!("part {i} of a demo message").into_bytes(),
        );
        fragment.fragment_id = i + 1;
        let outcome = store
            .fragment_store(&channel, &fragment, 0)
            .map_err(|e| e.to_string())?;
        if outcome.result != 0 && outcome.result != 1 {
            return Err(format!("fragment store failed: {outcome:?}"));
        }
    }
    let got = store
        .fragment_get(&channel, None, 1, 3)
        .map_err(|e| e.to_string())?;
    let counters = store.counters_get(&channel).map_err(|e| e.to_string())?;
    println!(
        "  p1: Rust psycstore stored 3 fragments and returned {} (max fragment id {}, max message id {}) in {:.1} ms",
        got.items.len(),
        counters.max_fragment_id,
        counters.max_message_id,
        t0.elapsed().as_secs_f64() * 1e3
    );
    if got.items.len() != 3 {
        return Err("psycstore returned another number of fragments".into());
    }
    Ok(())
}

/// A multicast group over CADET: origin on p1, a member on p2 joins and is admitted, a message
/// goes down and a request comes back up, all through the Rust multicast services.
fn multicast_group(net: &Testnet) -> Result<(), String> {
    let err = |e: mc::Error| e.to_string();
    let t0 = Instant::now();
    let client = |k: usize| -> Result<mc::Client, String> {
        let cfg = Config::load(Some(net.peer(k).config_path())).map_err(|e| e.to_string())?;
        mc::Client::connect(&cfg, T).map_err(err)
    };
    let group_key = eddsa::PrivateKey::generate(&mut rand_core::OsRng);
    let member_key = ecdsa::PrivateKey::generate(&mut rand_core::OsRng);
    let mut origin = client(0)?;
    origin.start_origin(group_key.clone(), 0).map_err(err)?;
    let mut member = client(1)?;
    member
        .send(
            &mc::member_join(
                group_key.public_key(),
                member_key,
                PeerIdentity(net.peer(0).identity_bytes()),
                vec![],
                None,
            )
            .map_err(|e| e.to_string())?,
        )
        .map_err(err)?;
    let join = wait_event(&mut origin, "a join request", |e| match e {
        Event::JoinRequest(j) => Some(j),
        _ => None,
    })?;
    origin
        .send(&mc::decide(&join, ADMITTED, vec![], None).map_err(|e| e.to_string())?)
        .map_err(err)?;
    wait_event(&mut member, "the join decision", |e| match e {
        Event::JoinDecision(d) if d.decision.is_admitted == ADMITTED => Some(()),
        _ => None,
    })?;
    origin.transmit(1, 0, b"hello, group", T).map_err(err)?;
    let down = wait_event(&mut member, "the group message", |e| match e {
        Event::Message(f) => Some(f.payload),
        _ => None,
    })?;
    member.request(1, b"hello, origin", T).map_err(err)?;
    let up = wait_event(&mut origin, "the member's request", |e| match e {
        Event::Request(q) => Some(q.payload),
        _ => None,
    })?;
    println!(
        "  multicast: p2 joined p1's group; p2 got {:?}, p1 got {:?} ({:.1} ms, signatures checked at each end)",
        String::from_utf8_lossy(&down),
        String::from_utf8_lossy(&up),
        t0.elapsed().as_secs_f64() * 1e3
    );
    for c in [&mut member, &mut origin] {
        c.send(&mc::part()).map_err(err)?;
        wait_event(c, "PART_ACK", |e| matches!(e, Event::PartAck).then_some(()))?;
    }
    Ok(())
}

/// The first event `pick` accepts; other events are skipped.
fn wait_event<R>(
    c: &mut multicast::client::Client,
    what: &str,
    mut pick: impl FnMut(Event) -> Option<R>,
) -> Result<R, String> {
    let deadline = Instant::now() + T;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("timed out waiting for {what}"));
        }
        let e = c
            .next_event(Some(left))
            .map_err(|e| format!("waiting for {what}: {e}"))?;
        if let Some(r) = pick(e) {
            return Ok(r);
        }
    }
}

/// A complete GNUnet message of `msg_type` carrying a short `body`.
fn message(msg_type: u16, body: &[u8]) -> Vec<u8> {
    let mut m = ((4 + body.len()) as u16).to_be_bytes().to_vec();
    m.extend_from_slice(&msg_type.to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// Waits for SIGINT or SIGTERM (blocked first, so neither kills us before the peers stop).
fn wait_for_ctrl_c() {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    if set.thread_block().is_ok() {
        let _ = set.wait();
    }
}

fn main() -> ExitCode {
    let wait = std::env::args().any(|a| a == "--wait");
    match run(wait) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("secushare-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
