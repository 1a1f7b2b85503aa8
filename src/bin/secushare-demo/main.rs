//! The social demo: three GNUnet 0.19 peers on loopback with the secushare-rs services
//! (social, psyc, multicast, psycstore) registered in ARM, and a short story told with the
//! real `gnunet-social` against the peers' configs — a place hosted, published in GNS,
//! entered by key and by name, refused and admitted, announcements and talk, a late guest's
//! history and state, and everyone leaving ([`scenario`]). Every command is printed as typed
//! and followed by its output.
//!
//! `--wait` keeps the peers up at the end, until Ctrl-C, and prints how to use
//! `gnunet-social -c <peer config>` by hand. When a step gets no answer in time, the demo
//! names the service, the peer and its log (with the log's last lines) and keeps the peers'
//! directory.

mod api;
mod diagnose;
mod interrupt;
mod scenario;
mod shell;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use diagnose::DemoError;
use interrupt::Interrupt;
use shell::Shell;
use testnet::{ServiceConf, Testnet, Topology, KEEP_ENV};

const USAGE: &str = "usage: secushare-demo [--wait]
  --wait          keep the peers up at the end (until Ctrl-C) to try gnunet-social by hand
  -h, --help      print this help
  -v, --version   print the version number
The peers log in GNUnet's format to their directory (GNUNET_FORCE_LOG applies to our services).";

/// Three peers in a line p1 – p2 – p3 with our services and GNUnet's gns and zonemaster.
fn start_peers() -> Result<Testnet, DemoError> {
    let conf =
        |name: &str| ServiceConf::workspace(name).map_err(|e| DemoError::Start(e.to_string()));
    Testnet::builder()
        .peers(3)
        .topology(Topology::Line)
        .lean(false)
        .service_conf(conf("social")?)
        .service_conf(conf("psyc")?)
        .service_conf(conf("multicast")?)
        .service_conf(conf("psycstore")?)
        .start()
        .map_err(|e| DemoError::Start(e.to_string()))
}

fn run(wait: bool, interrupt: &Interrupt) -> Result<(), DemoError> {
    let social = testnet::try_service_binary("gnunet-social").map_err(|e| {
        DemoError::Start(format!(
            "{e}\nbuild first: cargo build --workspace (or set SECUSHARE_BIN_DIR)"
        ))
    })?;
    let started = Instant::now();
    println!("Starting three GNUnet peers on loopback (p1 – p2 – p3, each with ARM, GNUnet's C services and ours)…");
    let net = start_peers()?;
    interrupt.peers(
        net.peers()
            .iter()
            .map(|p| p.config_path().to_path_buf())
            .collect(),
    );
    println!(
        "peers up and linked in {:.1} s; their configs are {}/pN.conf and every command below runs in that directory:",
        started.elapsed().as_secs_f64(),
        net.dir().display()
    );
    for (k, p) in net.peers().iter().enumerate() {
        println!("  p{}: peer {}", k + 1, p.identity());
    }
    let sh = Shell::new(net.dir(), &social);
    let story = Instant::now();
    let result = scenario::run(&net, &sh);
    match &result {
        Ok(()) => println!(
            "\nThe story took {:.1} s (whole demo so far {:.1} s).",
            story.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        ),
        Err(_) => {
            // The error names logs under the network's directory: keep it.
            std::env::set_var(KEEP_ENV, "1");
        }
    }
    if result.is_ok() && wait {
        print_by_hand(&net, sh.social_binary());
        interrupt.wait();
    }
    println!("stopping the peers");
    net.stop();
    result
}

/// How to go on by hand while the peers stay up.
fn print_by_hand(net: &Testnet, social: &Path) {
    let bin = social.parent().unwrap_or(Path::new("."));
    println!(
        "\nThe peers stay up until Ctrl-C. In another shell:

    cd {dir}
    export PATH={bin}:$PATH
    gnunet-social -c p1.conf --status                       # alice's egos and places
    gnunet-social -c p1.conf --host-enter --ego alice       # a new place (key on stderr)
    gnunet-social -c p1.conf --host-reconnect --place KEY --follow --welcome
    gnunet-social -c p2.conf --guest-enter --place KEY --peer {p1} --ego bob --follow
    gnunet-social -c p1.conf --host-announce --place KEY --method _message --data hello
    gnunet-social --help; man {man}

Egos: alice on p1, bob on p2, carol and dave on p3 (gnunet-identity -c pN.conf -C NAME makes more).
Logs: {dir}/pN/log/SERVICE.log.",
        dir = net.dir().display(),
        bin = bin.display(),
        p1 = net.peer(0).identity(),
        man = concat!(env!("CARGO_MANIFEST_DIR"), "/social/doc/gnunet-social.1"),
    );
}

fn main() -> ExitCode {
    let mut wait = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--wait" => wait = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "-v" | "--version" => {
                println!(
                    "{}",
                    gnunet_service::options::version_text("secushare-demo")
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("secushare-demo: unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let interrupt = match Interrupt::install() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("secushare-demo: cannot catch Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(wait, &interrupt) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nsecushare-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
