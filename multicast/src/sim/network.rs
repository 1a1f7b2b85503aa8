//! The simulated network: peers running [`Node`], CADET-like channels with per-channel
//! latency and in-order delivery, an origin application that admits everyone, member
//! applications that join, and the measurements.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use gnunet_service::crypto::{ecdsa, eddsa, HashCode};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::crypto::InsecureSimCrypto;
use super::scenario::Scenario;
use crate::group::{stat, Action, ChannelId, ClientId, ClientMessage, Node, PeerMessage, Timer};
use crate::msg::{
    self, Decision, Fragment, JoinDecision, JoinRequest, MemberJoin, OriginStart, ADMITTED,
};

/// The one application client on every simulated peer.
const APP: ClientId = ClientId(1);
/// The origin's peer.
const ORIGIN: usize = 0;

type SimNode = Node<InsecureSimCrypto, ChaCha8Rng>;

/// One end of a channel: peer index and that peer's handle for it.
#[derive(Debug, Clone, Copy)]
struct End {
    node: usize,
    chan: Option<ChannelId>,
}

#[derive(Debug)]
struct Link {
    opener: End,
    acceptor: End,
    latency_us: u64,
    /// Each side stops sending once it closed or saw the close.
    open: bool,
}

#[derive(Debug)]
enum Event {
    App(usize, Vec<u8>),
    ChannelOpen(usize, HashCode),
    /// Data travelling on a link to the opener (`true`) or the acceptor side.
    Data(usize, bool, Vec<u8>),
    Destroy(usize, bool),
    Timer(usize, Timer),
}

/// The figures of one phase.
#[derive(Debug, Clone, Default)]
pub struct PhaseReport {
    /// Fragments sent by the origin in this phase.
    pub fragments: u64,
    /// Members expected to receive them.
    pub receivers: usize,
    /// Deliveries made / deliveries expected.
    pub delivery: f64,
    /// Relative message redundancy: MESSAGE transmissions on channels per receiver, minus 1.
    pub rmr: f64,
    /// Last delivery hop: the largest hop count at which a member got a fragment.
    pub ldh: u32,
    /// Mean hop count.
    pub mean_hops: f64,
    /// Time from the phase's first send until the last delivery.
    pub completion: Duration,
}

/// All results of one scenario.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Scenario name.
    pub name: String,
    /// Members.
    pub members: usize,
    /// Members admitted at the end of the join phase.
    pub admitted: usize,
    /// Time until the last member was admitted.
    pub join_time: Duration,
    /// Steady-state dissemination.
    pub steady: PhaseReport,
    /// Relays killed.
    pub killed: usize,
    /// Children the killed relays had.
    pub orphans: usize,
    /// Surviving members that re-attached (`# parents lost`).
    pub parents_lost: i64,
    /// Dissemination of the messages sent right after the kill, among survivors.
    pub after_kill: PhaseReport,
    /// Every fragment of both phases at every survivor / expected.
    pub delivery_all: f64,
    /// From the kill until every survivor had every fragment.
    pub repair_time: Option<Duration>,
    /// Replay requests answered from caches.
    pub replays_from_cache: i64,
    /// Missing fragments requested.
    pub gap_requests: i64,
    /// Duplicate fragments received.
    pub duplicates: i64,
    /// Joins redirected.
    pub redirects: i64,
    /// Clients dropped or channels closed for bad input (should be 0).
    pub errors: i64,
    /// Wall-clock time the simulation took.
    pub wall_time: Duration,
}

impl fmt::Display for PhaseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fragments {} to {} members: delivery {:.4}, RMR {:.4}, LDH {}, mean hops {:.2}, done after {:?}",
            self.fragments,
            self.receivers,
            self.delivery,
            self.rmr,
            self.ldh,
            self.mean_hops,
            self.completion
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "scenario {}: {} members", self.name, self.members)?;
        writeln!(
            f,
            "  join:   {} admitted after {:?} ({} redirects)",
            self.admitted, self.join_time, self.redirects
        )?;
        writeln!(f, "  steady: {}", self.steady)?;
        if self.killed > 0 {
            writeln!(
                f,
                "  kill:   {} relay(s) with {} children; {} parents lost",
                self.killed, self.orphans, self.parents_lost
            )?;
            writeln!(f, "  after:  {}", self.after_kill)?;
            writeln!(
                f,
                "  repair: all fragments at all survivors {:.4}, repaired after {}, {} gap requests, {} replays from cache",
                self.delivery_all,
                self.repair_time
                    .map_or("never".to_string(), |d| format!("{d:?}")),
                self.gap_requests,
                self.replays_from_cache
            )?;
        }
        writeln!(
            f,
            "  other:  {} duplicates, {} protocol errors, wall time {:?}",
            self.duplicates, self.errors, self.wall_time
        )
    }
}

/// A deterministic in-process network of multicast peers.
pub struct Simulator {
    scenario: Scenario,
    nodes: Vec<SimNode>,
    alive: Vec<bool>,
    peers: HashMap<PeerIdentity, usize>,
    ports: HashSet<(usize, HashCode)>,
    links: Vec<Link>,
    ends: HashMap<(usize, ChannelId), usize>,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: HashMap<u64, Event>,
    seq: u64,
    now_us: u64,
    base: Instant,
    rng: ChaCha8Rng,
    group_key: eddsa::PrivateKey,
    group_pub: eddsa::PublicKey,
    /// (fragment id → hop, time) per peer.
    deliveries: Vec<HashMap<u64, (u32, u64)>>,
    admitted_at: Vec<Option<u64>>,
    /// MESSAGE transmissions on channels per fragment id.
    transmissions: HashMap<u64, u64>,
    stats: HashMap<&'static str, i64>,
    errors: i64,
}

fn peer_of(i: usize) -> PeerIdentity {
    let mut id = [0x5au8; 32];
    id[..8].copy_from_slice(&(i as u64).to_le_bytes());
    PeerIdentity(id)
}

impl Simulator {
    /// A network for `scenario`: the origin on peer 0, one member on each other peer.
    pub fn new(scenario: Scenario) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(scenario.seed);
        let cfg = scenario.config.to_config();
        let n = scenario.members + 1;
        let mut nodes = Vec::with_capacity(n);
        let mut peers = HashMap::with_capacity(n);
        for i in 0..n {
            let node_rng = ChaCha8Rng::seed_from_u64(rng.next_u64());
            let mut node = Node::new(peer_of(i), cfg.clone(), InsecureSimCrypto, node_rng);
            node.set_privacy(scenario.config.to_privacy());
            nodes.push(node);
            peers.insert(peer_of(i), i);
        }
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let group_key = eddsa::PrivateKey(seed);
        let group_pub = eddsa::PublicKey(seed);
        Self {
            scenario,
            nodes,
            alive: vec![true; n],
            peers,
            ports: HashSet::new(),
            links: Vec::new(),
            ends: HashMap::new(),
            queue: BinaryHeap::new(),
            events: HashMap::new(),
            seq: 0,
            now_us: 0,
            base: Instant::now(),
            rng,
            group_key,
            group_pub,
            deliveries: vec![HashMap::new(); n],
            admitted_at: vec![None; n],
            transmissions: HashMap::new(),
            stats: HashMap::new(),
            errors: 0,
        }
    }

    fn schedule(&mut self, at_us: u64, ev: Event) {
        self.seq += 1;
        self.queue.push(Reverse((at_us, self.seq)));
        self.events.insert(self.seq, ev);
    }

    fn instant(&self) -> Instant {
        self.base + Duration::from_micros(self.now_us)
    }

    /// Runs events until none is left or the clock passes `until_us`.
    fn run_until(&mut self, until_us: u64) {
        while let Some(&Reverse((at, seq))) = self.queue.peek() {
            if at > until_us {
                break;
            }
            self.queue.pop();
            self.now_us = at;
            if let Some(ev) = self.events.remove(&seq) {
                self.dispatch(ev);
            }
        }
        self.now_us = self.now_us.max(until_us);
    }

    fn dispatch(&mut self, ev: Event) {
        let now = self.instant();
        match ev {
            Event::App(n, bytes) => {
                if self.alive[n] {
                    match ClientMessage::decode(&bytes) {
                        Ok(m) => self.nodes[n].handle_client_message(now, APP, m),
                        Err(e) => {
                            // As the service's driver does: the client is dropped.
                            tracing::warn!(node = n, error = %e, "malformed client message");
                            self.act(
                                n,
                                Action::Statistic {
                                    name: stat::CLIENTS_DROPPED,
                                    delta: 1,
                                },
                            );
                        }
                    }
                    self.carry_out(n);
                }
            }
            Event::ChannelOpen(l, port) => {
                let n = self.links[l].acceptor.node;
                if !self.alive[n] || !self.ports.contains(&(n, port)) || !self.links[l].open {
                    // CADET keeps it loose and never tells the opener; it times out.
                    return;
                }
                let opener = peer_of(self.links[l].opener.node);
                let ch = self.nodes[n].handle_incoming_channel(now, opener, port);
                self.links[l].acceptor.chan = Some(ch);
                self.ends.insert((n, ch), l);
                self.carry_out(n);
            }
            Event::Data(l, to_opener, bytes) => {
                let end = if to_opener {
                    self.links[l].opener
                } else {
                    self.links[l].acceptor
                };
                if let (true, Some(ch)) = (self.alive[end.node], end.chan) {
                    if self.ends.get(&(end.node, ch)) == Some(&l) {
                        self.channel_data(end.node, ch, &bytes);
                        self.carry_out(end.node);
                    }
                }
            }
            Event::Destroy(l, to_opener) => {
                let end = if to_opener {
                    self.links[l].opener
                } else {
                    self.links[l].acceptor
                };
                if let (true, Some(ch)) = (self.alive[end.node], end.chan) {
                    if self.ends.remove(&(end.node, ch)).is_some() {
                        self.nodes[end.node].handle_channel_destroyed(now, ch);
                        self.carry_out(end.node);
                    }
                }
            }
            Event::Timer(n, t) => {
                if self.alive[n] {
                    self.nodes[n].handle_timeout(now, t);
                    self.carry_out(n);
                }
            }
        }
    }

    /// Decodes what arrived on channel `ch` of node `n` and feeds it, as the service's
    /// driver does: a malformed message closes the channel.
    fn channel_data(&mut self, n: usize, ch: ChannelId, bytes: &[u8]) {
        let now = self.instant();
        match PeerMessage::decode(bytes) {
            Ok(m) => self.nodes[n].handle_channel_message(now, ch, m),
            Err(e) => {
                tracing::warn!(node = n, error = %e, "malformed message on a channel");
                let bad = Action::Statistic {
                    name: stat::CHANNELS_CLOSED_BAD_INPUT,
                    delta: 1,
                };
                self.act(n, bad);
                let close = Action::CloseChannel {
                    channel: ch,
                    reason: "malformed message",
                };
                self.act(n, close);
                self.nodes[n].handle_channel_destroyed(now, ch);
            }
        }
    }

    fn carry_out(&mut self, n: usize) {
        while let Some(a) = self.nodes[n].poll_action() {
            self.act(n, a);
        }
    }

    fn latency(&mut self) -> u64 {
        let l = self.scenario.latency_ms;
        let span = l.max.saturating_sub(l.min) * 1000 + 1;
        l.min * 1000 + self.rng.next_u64() % span
    }

    fn act(&mut self, n: usize, a: Action) {
        match a {
            Action::SendClient { msg, .. } => self.app_receives(n, msg),
            Action::DropClient { reason, .. } => {
                self.errors += 1;
                tracing::warn!(node = n, %reason, "simulated client dropped");
            }
            Action::OpenPort { port } => {
                self.ports.insert((n, port));
            }
            Action::ClosePort { port } => {
                self.ports.remove(&(n, port));
            }
            Action::OpenChannel {
                channel,
                peer,
                port,
            } => {
                let Some(&to) = self.peers.get(&peer) else {
                    return;
                };
                let latency_us = self.latency();
                self.links.push(Link {
                    opener: End {
                        node: n,
                        chan: Some(channel),
                    },
                    acceptor: End {
                        node: to,
                        chan: None,
                    },
                    latency_us,
                    open: true,
                });
                let l = self.links.len() - 1;
                self.ends.insert((n, channel), l);
                self.schedule(self.now_us + latency_us, Event::ChannelOpen(l, port));
            }
            Action::SendChannel { channel, msg } => {
                let Some(&l) = self.ends.get(&(n, channel)) else {
                    return;
                };
                if msg::message_type(&msg) == Some(msg::TYPE_MESSAGE) {
                    if let Ok(f) = Fragment::from_message(&msg) {
                        *self.transmissions.entry(f.fragment_id).or_default() += 1;
                    }
                }
                let to_opener = self.links[l].opener.node != n;
                let at = self.now_us + self.links[l].latency_us;
                self.schedule(at, Event::Data(l, to_opener, msg));
            }
            Action::CloseChannel { channel, .. } => {
                let Some(l) = self.ends.remove(&(n, channel)) else {
                    return;
                };
                self.links[l].open = false;
                let to_opener = self.links[l].opener.node != n;
                let at = self.now_us + self.links[l].latency_us;
                self.schedule(at, Event::Destroy(l, to_opener));
            }
            Action::SetTimer { at, timer } => {
                let at_us = at.duration_since(self.base).as_micros() as u64;
                self.schedule(at_us.max(self.now_us), Event::Timer(n, timer));
            }
            Action::Statistic { name, delta } => {
                *self.stats.entry(name).or_default() += delta;
                if name == stat::CHANNELS_CLOSED_BAD_INPUT || name == stat::CLIENTS_DROPPED {
                    self.errors += delta;
                }
            }
        }
    }

    /// What the applications do with what their service hands them.
    fn app_receives(&mut self, n: usize, msg: Vec<u8>) {
        match msg::message_type(&msg) {
            Some(msg::TYPE_MESSAGE) => {
                if let Ok(f) = Fragment::from_message(&msg) {
                    self.deliveries[n]
                        .entry(f.fragment_id)
                        .or_insert((f.hop_counter, self.now_us));
                }
            }
            Some(msg::TYPE_JOIN_REQUEST) if n == ORIGIN => {
                if let Ok(j) = JoinRequest::from_message(&msg) {
                    let d = JoinDecision {
                        peer: j.peer,
                        member_pub_key: j.member_pub_key,
                        decision: Decision {
                            is_admitted: ADMITTED,
                            relays: vec![],
                            response: None,
                        },
                        admitted_after: None,
                    };
                    self.schedule(self.now_us, Event::App(ORIGIN, d.to_message()));
                }
            }
            Some(msg::TYPE_JOIN_DECISION) => {
                if let Ok(d) = JoinDecision::from_message(&msg) {
                    if d.decision.is_admitted == ADMITTED {
                        self.admitted_at[n].get_or_insert(self.now_us);
                    }
                }
            }
            _ => {}
        }
    }

    /// Member `i`'s key: distinct for every member, and clamped as GNUnet makes keys (the
    /// service refuses others).
    fn member_key(i: usize) -> ecdsa::PrivateKey {
        let mut k = [0u8; 32];
        k[1..9].copy_from_slice(&(i as u64).to_le_bytes());
        ecdsa::PrivateKey::clamped(k)
    }

    fn send_fragments(&mut self, start_us: u64, count: u64, first_message_id: u64) {
        let interval = self.scenario.message_interval_ms * 1000;
        for k in 0..count {
            let f = Fragment::unsigned(
                first_message_id + k,
                0,
                1,
                0,
                vec![(k & 0xff) as u8; self.scenario.payload],
            );
            self.schedule(start_us + k * interval, Event::App(ORIGIN, f.to_message()));
        }
    }

    fn phase_report(&self, ids: &[u64], members: &[usize], start_us: u64) -> PhaseReport {
        let mut delivered = 0u64;
        let mut hops = 0u64;
        let mut ldh = 0;
        let mut last = start_us;
        for &m in members {
            for id in ids {
                if let Some(&(hop, at)) = self.deliveries[m].get(id) {
                    delivered += 1;
                    hops += u64::from(hop);
                    ldh = ldh.max(hop);
                    last = last.max(at);
                }
            }
        }
        let expected = (ids.len() * members.len()) as u64;
        let tx: u64 = ids
            .iter()
            .map(|id| self.transmissions.get(id).copied().unwrap_or(0))
            .sum();
        PhaseReport {
            fragments: ids.len() as u64,
            receivers: members.len(),
            delivery: if expected == 0 {
                1.0
            } else {
                delivered as f64 / expected as f64
            },
            rmr: if expected == 0 {
                0.0
            } else {
                tx as f64 / expected as f64 - 1.0
            },
            ldh,
            mean_hops: if delivered == 0 {
                0.0
            } else {
                hops as f64 / delivered as f64
            },
            completion: Duration::from_micros(last - start_us),
        }
    }

    /// Runs the scenario and measures it.
    pub fn run(mut self) -> Report {
        let wall = Instant::now();
        let n = self.nodes.len();
        let members = self.scenario.members;
        let origin_start = OriginStart {
            group_key: self.group_key.clone(),
            max_fragment_id: 0,
        };
        self.schedule(0, Event::App(ORIGIN, origin_start.to_message()));
        let join_interval = self.scenario.join_interval_ms * 1000;
        for i in 1..n {
            let join = MemberJoin {
                group_pub_key: self.group_pub,
                member_key: Self::member_key(i),
                origin: peer_of(ORIGIN),
                relays: vec![],
                join_msg: None,
            };
            self.schedule(
                1000 + i as u64 * join_interval,
                Event::App(i, join.to_message()),
            );
        }
        // Join phase: generous time for redirect chains and timeouts.
        let join_end = 1000 + members as u64 * join_interval + 60_000_000;
        self.run_until(join_end);
        let admitted = self.admitted_at[1..].iter().filter(|a| a.is_some()).count();
        let join_time = Duration::from_micros(
            self.admitted_at[1..]
                .iter()
                .flatten()
                .max()
                .copied()
                .unwrap_or(0),
        );

        // Steady phase.
        let steady_start = self.now_us + 1000;
        let steady_count = self.scenario.messages;
        self.send_fragments(steady_start, steady_count, 1);
        let span = steady_count * self.scenario.message_interval_ms * 1000;
        self.run_until(steady_start + span + 30_000_000);
        let steady_ids: Vec<u64> = (1..=steady_count).collect();
        let all_members: Vec<usize> = (1..n).collect();
        let steady = self.phase_report(&steady_ids, &all_members, steady_start);

        // Kill phase: the relays with the most children, nearest the origin first.
        let mut report = Report {
            name: self.scenario.name.clone(),
            members,
            admitted,
            join_time,
            steady,
            ..Report::default()
        };
        if self.scenario.kill_relays > 0 {
            let mut candidates: Vec<(u32, std::cmp::Reverse<usize>, usize)> = (1..n)
                .filter(|&i| self.nodes[i].child_count(&self.group_pub) > 0)
                .map(|i| {
                    let hop = self.deliveries[i].get(&1).map_or(u32::MAX, |d| d.0);
                    (hop, Reverse(self.nodes[i].child_count(&self.group_pub)), i)
                })
                .collect();
            candidates.sort();
            let kill_at = self.now_us + 1000;
            self.now_us = kill_at;
            for &(_, Reverse(children), victim) in candidates.iter().take(self.scenario.kill_relays)
            {
                report.killed += 1;
                report.orphans += children;
                self.kill(victim);
            }
            let lost_before = self.stats.get(stat::PARENTS_LOST).copied().unwrap_or(0);
            let after_count = self.scenario.messages_after_kill;
            self.send_fragments(kill_at + 1000, after_count, 1 + steady_count);
            let span = after_count * self.scenario.message_interval_ms * 1000;
            self.run_until(kill_at + span + 60_000_000);
            report.parents_lost =
                self.stats.get(stat::PARENTS_LOST).copied().unwrap_or(0) - lost_before;
            let survivors: Vec<usize> = (1..n).filter(|&i| self.alive[i]).collect();
            let after_ids: Vec<u64> = (steady_count + 1..=steady_count + after_count).collect();
            report.after_kill = self.phase_report(&after_ids, &survivors, kill_at);
            let all_ids: Vec<u64> = (1..=steady_count + after_count).collect();
            let all = self.phase_report(&all_ids, &survivors, kill_at);
            report.delivery_all = all.delivery;
            report.repair_time = (all.delivery >= 1.0).then_some(all.completion);
        }
        let s = |k: &str| self.stats.get(k).copied().unwrap_or(0);
        report.replays_from_cache = s(stat::REPLAYS_FROM_CACHE);
        report.gap_requests = s(stat::GAP_REQUESTS);
        report.duplicates = s(stat::DUPLICATE_FRAGMENTS);
        report.redirects = s(stat::JOINS_REDIRECTED);
        report.errors = self.errors;
        report.wall_time = wall.elapsed();
        report
    }

    /// Takes a peer off the network: every channel it had is destroyed for the other end.
    fn kill(&mut self, victim: usize) {
        self.alive[victim] = false;
        for l in 0..self.links.len() {
            let link = &self.links[l];
            if !link.open {
                continue;
            }
            let (other, to_opener) = if link.opener.node == victim {
                (link.acceptor, false)
            } else if link.acceptor.node == victim {
                (link.opener, true)
            } else {
                continue;
            };
            if other.chan.is_some() {
                let at = self.now_us + link.latency_us;
                self.links[l].open = false;
                self.schedule(at, Event::Destroy(l, to_opener));
            }
        }
    }
}
