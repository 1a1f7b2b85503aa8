//! Starting, connecting and tearing down N peers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use gnunet_service::privacy::{Level, SECTION};
use nix::sys::signal::Signal;

use crate::peer::TOOL_TIMEOUT;
use crate::peer_config::{self, PEER_SUBDIRS};
use crate::peer_id::decode_peer_id;
use crate::ports::{lease_ports, PortLease};
use crate::procs::{self, run_bounded, ToolOutput};
use crate::sections::{ConfigSection, ServiceConf, ServiceSection};
use crate::{Peer, TestnetError};

/// Largest supported number of peers (the recipe was measured up to 5 on 2 cores).
pub const MAX_PEERS: usize = 5;
/// Default bound for the HELLO exchange and link set-up.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Set to `1` to keep the peers' directory after teardown (its path is printed).
pub const KEEP_ENV: &str = "SECUSHARE_KEEP_TESTNET";

/// Time limit for `gnunet-arm -e` per peer.
const ARM_STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often `gnunet-peerinfo -g` / `gnunet-core` are polled.
const POLL: Duration = Duration::from_millis(100);
/// Lines of ARM log quoted in errors.
const LOG_TAIL_LINES: usize = 30;

/// Which peers get each other's HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Topology {
    /// p1 – p2 – … – pN: peer k links to k−1 and k+1.
    #[default]
    Line,
    /// Every pair of peers is linked.
    Mesh,
}

impl Topology {
    /// Whether peers `a` and `b` (0-based) are direct neighbours.
    pub fn linked(self, a: usize, b: usize) -> bool {
        a != b && (self == Topology::Mesh || a.abs_diff(b) == 1)
    }
}

/// Collects the settings of a [`Testnet`]; [`TestnetBuilder::start`] brings it up.
#[derive(Debug, Clone)]
pub struct TestnetBuilder {
    peers: usize,
    topology: Topology,
    connect_timeout: Duration,
    lean: bool,
    sections: Vec<String>,
    extra: Vec<String>,
    privacy: Option<Level>,
}

impl Default for TestnetBuilder {
    fn default() -> Self {
        TestnetBuilder {
            peers: 2,
            topology: Topology::Line,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            lean: true,
            sections: Vec::new(),
            extra: Vec::new(),
            privacy: Some(Level::Convenient),
        }
    }
}

impl TestnetBuilder {
    /// Number of peers, 1..=[`MAX_PEERS`] (default 2).
    pub fn peers(mut self, n: usize) -> Self {
        self.peers = n;
        self
    }

    /// Topology (default [`Topology::Line`]).
    pub fn topology(mut self, topology: Topology) -> Self {
        self.topology = topology;
        self
    }

    /// Bound for getting HELLOs and waiting for links (default 60 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Lean mode (default on): gns, zonemaster and revocation do not start with ARM but stay
    /// available on demand, saving six processes per peer.
    pub fn lean(mut self, lean: bool) -> Self {
        self.lean = lean;
        self
    }

    /// The privacy level written into every peer's config (`[secushare] PRIVACY`). The default
    /// is [`Level::Convenient`]: the scenario tests check function, and the deliberate delays
    /// of the other levels would only make them slower; the privacy tests choose their level.
    /// `None` writes nothing, so the peers run at the services' own default (balanced).
    pub fn privacy(mut self, level: Option<Level>) -> Self {
        self.privacy = level;
        self
    }

    /// Registers an ARM service section in every peer's config.
    pub fn service(mut self, section: ServiceSection) -> Self {
        self.sections.push(section.to_config_text());
        self
    }

    /// Registers a service read from a conf file, with its companion sections.
    pub fn service_conf(mut self, conf: ServiceConf) -> Self {
        self.sections.push(conf.to_config_text());
        self
    }

    /// Adds a plain section to every peer's config.
    pub fn section(mut self, section: ConfigSection) -> Self {
        self.sections.push(section.to_config_text());
        self
    }

    /// Appends raw config text to every peer's config, after everything else (so it wins);
    /// `@PEERDIR@` is replaced by the peer's directory.
    pub fn extra_config(mut self, text: impl Into<String>) -> Self {
        self.extra.push(text.into());
        self
    }

    /// Creates the peers, starts ARM on each, exchanges HELLOs and waits for the links.
    pub fn start(self) -> Result<Testnet, TestnetError> {
        if !(1..=MAX_PEERS).contains(&self.peers) {
            return Err(TestnetError::PeerCount {
                requested: self.peers,
                max: MAX_PEERS,
            });
        }
        let t0 = Instant::now();
        let ports = lease_ports(self.peers)?;
        // Short base path: UNIX socket paths must stay well under 108 bytes.
        let root = tempfile::Builder::new()
            .prefix("sn")
            .tempdir_in("/tmp")
            .map_err(|e| TestnetError::io("create /tmp/snXXXXXX", e))?
            .keep();
        let mut net = Testnet {
            root,
            peers: Vec::with_capacity(self.peers),
            topology: self.topology,
            _ports: Vec::new(),
            stopped: false,
        };
        for (index, lease) in ports.iter().enumerate() {
            net.peers.push(self.create_peer(&net.root, index, lease)?);
        }
        net._ports = ports;
        net.start_arms()?;
        let t_arm = t0.elapsed();
        let hellos = net.collect_hellos(self.connect_timeout)?;
        let t_hello = t0.elapsed();
        net.exchange_hellos(&hellos)?;
        net.wait_for_links(self.connect_timeout)?;
        eprintln!(
            "[testnet] {} peer(s) {:?} in {}: ARM {:?}, HELLOs {:?}, links {:?}",
            self.peers,
            self.topology,
            net.root.display(),
            t_arm,
            t_hello,
            t0.elapsed()
        );
        Ok(net)
    }

    fn create_peer(
        &self,
        root: &Path,
        index: usize,
        lease: &PortLease,
    ) -> Result<Peer, TestnetError> {
        let dir = root.join(format!("p{}", index + 1));
        for sub in PEER_SUBDIRS {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path)
                .map_err(|e| TestnetError::io(format!("create {}", path.display()), e))?;
        }
        let mut text = peer_config::render(&dir, lease.port(), self.lean);
        if let Some(level) = self.privacy {
            text.push_str(&format!("\n[{SECTION}]\nPRIVACY = {level}\n"));
        }
        let dir_text = dir.display().to_string();
        for part in self.sections.iter().chain(&self.extra) {
            text.push('\n');
            text.push_str(&part.replace("@PEERDIR@", &dir_text));
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
        let config = root.join(format!("p{}.conf", index + 1));
        std::fs::write(&config, text)
            .map_err(|e| TestnetError::io(format!("write {}", config.display()), e))?;
        Ok(Peer {
            index,
            dir,
            config,
            port: lease.port(),
            identity: String::new(),
            identity_bytes: [0; 32],
        })
    }
}

/// `gnunet-arm -s` exits 0 even when ARM could not be started; it says so on its output.
fn arm_start_reported(what: &str, out: ToolOutput) -> Result<ToolOutput, TestnetError> {
    if out.stdout.contains("Failed") || out.stderr.contains("Failed") {
        return Err(TestnetError::Command {
            command: what.to_owned(),
            status: out.status.to_string(),
            output: format!("{}{}", out.stdout, out.stderr),
        });
    }
    Ok(out)
}

/// N GNUnet peers on loopback under one temp dir; dropping it stops them all.
#[derive(Debug)]
pub struct Testnet {
    root: PathBuf,
    peers: Vec<Peer>,
    topology: Topology,
    _ports: Vec<PortLease>,
    stopped: bool,
}

impl Testnet {
    /// Starts configuring a test network.
    pub fn builder() -> TestnetBuilder {
        TestnetBuilder::default()
    }

    /// All peers, in order p1…pN.
    pub fn peers(&self) -> &[Peer] {
        &self.peers
    }

    /// Peer `k` (0-based). Panics if out of range, like slice indexing.
    pub fn peer(&self, k: usize) -> &Peer {
        &self.peers[k]
    }

    /// The directory holding all peers (`/tmp/snXXXXXX`).
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// The topology the peers were connected in.
    pub fn topology(&self) -> Topology {
        self.topology
    }

    /// Stops every peer and removes the directory (same as dropping).
    pub fn stop(mut self) {
        self.teardown();
    }

    fn start_failure(&self, index: usize, reason: String) -> TestnetError {
        let peer = &self.peers[index];
        TestnetError::PeerStart {
            peer: index + 1,
            reason,
            arm_log: peer.log_path("arm"),
            arm_log_tail: peer.arm_log_tail(LOG_TAIL_LINES),
        }
    }

    /// `gnunet-arm -s` on all peers at once, then each peer's identity.
    fn start_arms(&mut self) -> Result<(), TestnetError> {
        let handles: Vec<_> = self
            .peers
            .iter()
            .map(|p| {
                let mut cmd = p.command("gnunet-arm");
                cmd.arg("-s");
                std::thread::spawn(move || {
                    let what = procs::describe(&cmd);
                    run_bounded(cmd, TOOL_TIMEOUT)
                        .and_then(|o| o.check(&what))
                        .and_then(|o| arm_start_reported(&what, o))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        for (index, result) in results.into_iter().enumerate() {
            match result {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(self.start_failure(index, e.to_string())),
                Err(_) => return Err(self.start_failure(index, "starter thread panicked".into())),
            }
        }
        for index in 0..self.peers.len() {
            let mut cmd = self.peers[index].command("gnunet-peerinfo");
            cmd.args(["-s", "-q"]);
            let what = procs::describe(&cmd);
            let id = run_bounded(cmd, TOOL_TIMEOUT)
                .and_then(|o| o.check(&what))
                .map(|o| o.stdout.lines().next().unwrap_or("").trim().to_owned())
                .and_then(|id| decode_peer_id(&id).map(|bytes| (id, bytes)));
            match id {
                Ok((text, bytes)) => {
                    self.peers[index].identity = text;
                    self.peers[index].identity_bytes = bytes;
                }
                Err(e) => return Err(self.start_failure(index, format!("identity: {e}"))),
            }
        }
        Ok(())
    }

    /// Each peer's HELLO URI, polled until it carries a tcp address.
    fn collect_hellos(&self, limit: Duration) -> Result<Vec<String>, TestnetError> {
        let deadline = Instant::now() + limit;
        let mut hellos = Vec::with_capacity(self.peers.len());
        for (index, peer) in self.peers.iter().enumerate() {
            loop {
                let mut cmd = peer.command("gnunet-peerinfo");
                cmd.arg("-g");
                let uri = run_bounded(cmd, TOOL_TIMEOUT).ok().and_then(|o| {
                    o.stdout
                        .split_whitespace()
                        .find(|w| w.starts_with("gnunet://hello/"))
                        .map(str::to_owned)
                });
                if let Some(uri) = uri.filter(|u| u.contains("tcp")) {
                    hellos.push(uri);
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(self.start_failure(
                        index,
                        format!("no HELLO with a tcp address within {limit:?}"),
                    ));
                }
                std::thread::sleep(POLL);
            }
        }
        Ok(hellos)
    }

    /// Gives each pair of neighbours the other's HELLO (`gnunet-peerinfo -p`).
    fn exchange_hellos(&self, hellos: &[String]) -> Result<(), TestnetError> {
        for (a, peer) in self.peers.iter().enumerate() {
            for (b, hello) in hellos.iter().enumerate() {
                if self.topology.linked(a, b) {
                    let mut cmd = peer.command("gnunet-peerinfo");
                    cmd.args(["-p", hello]);
                    let what = procs::describe(&cmd);
                    run_bounded(cmd, TOOL_TIMEOUT)?.check(&what)?;
                }
            }
        }
        Ok(())
    }

    /// Short ids each peer should see in `gnunet-core`.
    fn expected_neighbours(&self, a: usize) -> Vec<&str> {
        (0..self.peers.len())
            .filter(|&b| self.topology.linked(a, b))
            .map(|b| &self.peers[b].identity[..4])
            .collect()
    }

    /// Polls `gnunet-core` until every peer shows all its expected neighbours.
    fn wait_for_links(&self, limit: Duration) -> Result<(), TestnetError> {
        let started = Instant::now();
        let mut done = vec![false; self.peers.len()];
        loop {
            for (index, peer) in self.peers.iter().enumerate() {
                if done[index] {
                    continue;
                }
                let expected = self.expected_neighbours(index);
                if expected.is_empty() {
                    done[index] = true;
                    continue;
                }
                if let Ok(seen) = peer.core_neighbours() {
                    done[index] = expected.iter().all(|e| seen.iter().any(|s| s == e));
                }
            }
            if done.iter().all(|&d| d) {
                return Ok(());
            }
            if started.elapsed() >= limit {
                return Err(TestnetError::LinksTimeout {
                    after: limit,
                    report: self.link_report(),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    fn link_report(&self) -> String {
        let mut report = String::new();
        for (index, peer) in self.peers.iter().enumerate() {
            let seen = peer
                .core_neighbours()
                .map(|s| format!("{s:?}"))
                .unwrap_or_else(|e| e.to_string());
            report.push_str(&format!(
                "--- p{} {} expects {:?}, gnunet-core shows {seen}\n--- tail of {}:\n{}\n",
                index + 1,
                peer.identity,
                self.expected_neighbours(index),
                peer.log_path("arm").display(),
                peer.arm_log_tail(LOG_TAIL_LINES),
            ));
        }
        report
    }

    /// `gnunet-arm -e` on every peer in parallel, then kill leftovers by pid, then remove
    /// the directory unless [`KEEP_ENV`] is `1`.
    fn teardown(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let t0 = Instant::now();
        let stoppers: Vec<_> = self
            .peers
            .iter()
            .filter(|p| p.config.exists())
            .map(|p| {
                let mut cmd = Command::new("gnunet-arm");
                cmd.arg("-c").arg(&p.config).args(["-e", "-q"]);
                std::thread::spawn(move || run_bounded(cmd, ARM_STOP_TIMEOUT))
            })
            .collect();
        for stopper in stoppers {
            if let Ok(Err(e)) = stopper.join() {
                eprintln!("[testnet] stopping ARM: {e}");
            }
        }
        for peer in &self.peers {
            let left = procs::wait_gone(&peer.config, Duration::from_millis(500));
            if left.is_empty() {
                continue;
            }
            eprintln!(
                "[testnet] p{}: terminating leftover pids {left:?}",
                peer.index + 1
            );
            procs::signal_all(&left, Signal::SIGTERM);
            let left = procs::wait_gone(&peer.config, Duration::from_secs(2));
            if !left.is_empty() {
                eprintln!("[testnet] p{}: killing pids {left:?}", peer.index + 1);
                procs::signal_all(&left, Signal::SIGKILL);
                procs::wait_gone(&peer.config, Duration::from_secs(2));
            }
        }
        if std::env::var(KEEP_ENV).as_deref() == Ok("1") {
            eprintln!("[testnet] kept {} ({KEEP_ENV}=1)", self.root.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.root) {
            eprintln!("[testnet] removing {}: {e}", self.root.display());
        }
        tracing::debug!(elapsed = ?t0.elapsed(), "testnet stopped");
        eprintln!("[testnet] stopped in {:?}", t0.elapsed());
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        self.teardown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topology_links() {
        assert!(Topology::Line.linked(0, 1) && Topology::Line.linked(2, 1));
        assert!(!Topology::Line.linked(0, 2) && !Topology::Line.linked(1, 1));
        assert!(Topology::Mesh.linked(0, 4) && !Topology::Mesh.linked(3, 3));
    }

    #[test]
    fn peer_count_is_checked_before_anything_starts() {
        for n in [0, MAX_PEERS + 1] {
            match Testnet::builder().peers(n).start() {
                Err(TestnetError::PeerCount { requested, .. }) => assert_eq!(requested, n),
                other => panic!("expected PeerCount for {n}, got {other:?}"),
            }
        }
    }
}
