//! Behaviour of the whole group logic with real GNUnet crypto, on a tiny zero-latency
//! network of [`Node`]s whose harness plays the drivers: it decodes at the edge, drops clients
//! and closes channels that send malformed messages, and records what clients receive.
//!
//! By topic: [`roles`] (client roles, protocol misuse, what clients are told), [`tree`]
//! (joining, forwarding down the tree, redirects, repair) and [`replays`] (caches, rounds,
//! and who may answer).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use gnunet_service::crypto::{ecdsa, eddsa, HashCode};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::*;
use crate::crypto::{GnunetCrypto, GroupCrypto};
use crate::msg::{
    self, Any, Decision, Fragment, JoinDecision, JoinRequest, MemberJoin, OriginStart, PartRequest,
    ReplayIds, ReplayRequest, ReplayResponse, ReplayResponseEnd, Request, ADMITTED, REFUSED,
};

type TestNode = Node<GnunetCrypto, ChaCha8Rng>;

/// The peer identity of 32 bytes `b`, for the unit tests of the group's parts.
pub(super) fn peer(b: u8) -> PeerIdentity {
    PeerIdentity([b; 32])
}

/// The member key of 32 bytes `b`, for the unit tests of the group's parts.
pub(super) fn key(b: u8) -> ecdsa::PublicKey {
    ecdsa::PublicKey([b; 32])
}

enum Ev {
    Client(usize, ClientId, Vec<u8>),
    Open(usize, HashCode, (usize, ChannelId)),
    Data(usize, ChannelId, Vec<u8>),
    Destroyed(usize, ChannelId),
}

/// Peers connected by instant, in-order channels; clients record what they receive.
struct Net {
    nodes: Vec<TestNode>,
    alive: Vec<bool>,
    ports: HashSet<(usize, HashCode)>,
    /// (node, channel) → (node, channel) at the other end.
    peer_end: HashMap<(usize, ChannelId), (usize, ChannelId)>,
    /// Data sent before the far end exists.
    waiting: HashMap<(usize, ChannelId), Vec<Vec<u8>>>,
    queue: VecDeque<Ev>,
    inbox: HashMap<(usize, ClientId), Vec<Vec<u8>>>,
    dropped: Vec<(usize, ClientId, String)>,
    stats: HashMap<&'static str, i64>,
    timers: Vec<(usize, Instant, Timer)>,
    now: Instant,
    /// Everything sent on channels, by sending node, in order.
    wire: Vec<(usize, Vec<u8>)>,
}

fn pid(i: usize) -> PeerIdentity {
    PeerIdentity::from_private_key(&eddsa::PrivateKey([i as u8 + 1; 32]))
}

impl Net {
    fn new(n: usize, cfg: Config) -> Self {
        Self {
            nodes: (0..n)
                .map(|i| {
                    Node::new(
                        pid(i),
                        cfg.clone(),
                        GnunetCrypto,
                        ChaCha8Rng::seed_from_u64(i as u64),
                    )
                })
                .collect(),
            alive: vec![true; n],
            ports: HashSet::new(),
            peer_end: HashMap::new(),
            waiting: HashMap::new(),
            queue: VecDeque::new(),
            inbox: HashMap::new(),
            dropped: Vec::new(),
            stats: HashMap::new(),
            timers: Vec::new(),
            now: Instant::now(),
            wire: Vec::new(),
        }
    }

    fn client(&mut self, node: usize, c: u64, msg: Vec<u8>) {
        self.queue.push_back(Ev::Client(node, ClientId(c), msg));
        self.run();
    }

    fn run(&mut self) {
        while let Some(ev) = self.queue.pop_front() {
            let now = self.now;
            let n = match ev {
                Ev::Client(n, c, m) => {
                    match ClientMessage::decode(&m) {
                        Ok(msg) => self.nodes[n].handle_client_message(now, c, msg),
                        Err(e) => {
                            // As the driver does: a malformed message drops its client.
                            self.dropped.push((n, c, format!("malformed: {e}")));
                            *self.stats.entry(stat::CLIENTS_DROPPED).or_default() += 1;
                        }
                    }
                    n
                }
                Ev::Open(n, port, from) => {
                    if !self.alive[n] || !self.ports.contains(&(n, port)) {
                        continue;
                    }
                    let ch = self.nodes[n].handle_incoming_channel(now, pid(from.0), port);
                    self.peer_end.insert((n, ch), from);
                    self.peer_end.insert(from, (n, ch));
                    for m in self.waiting.remove(&from).unwrap_or_default() {
                        self.queue.push_back(Ev::Data(n, ch, m));
                    }
                    n
                }
                Ev::Data(n, ch, m) => {
                    if !self.alive[n] {
                        continue;
                    }
                    self.channel_data(n, ch, &m);
                    n
                }
                Ev::Destroyed(n, ch) => {
                    if !self.alive[n] {
                        continue;
                    }
                    self.nodes[n].handle_channel_destroyed(now, ch);
                    n
                }
            };
            while let Some(a) = self.nodes[n].poll_action() {
                self.act(n, a);
            }
        }
    }

    /// As the driver does: decodes what came on a channel and feeds it; a malformed message
    /// closes the channel and is counted.
    fn channel_data(&mut self, n: usize, ch: ChannelId, bytes: &[u8]) {
        match PeerMessage::decode(bytes) {
            Ok(msg) => self.nodes[n].handle_channel_message(self.now, ch, msg),
            Err(_) => {
                *self
                    .stats
                    .entry(stat::CHANNELS_CLOSED_BAD_INPUT)
                    .or_default() += 1;
                let close = Action::CloseChannel {
                    channel: ch,
                    reason: "malformed message",
                };
                self.act(n, close);
                self.nodes[n].handle_channel_destroyed(self.now, ch);
            }
        }
    }

    fn act(&mut self, n: usize, a: Action) {
        match a {
            Action::SendClient { client, msg } => {
                self.inbox.entry((n, client)).or_default().push(msg)
            }
            Action::DropClient { client, reason } => self.dropped.push((n, client, reason)),
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
                let to = (0..self.nodes.len()).find(|&i| pid(i) == peer).unwrap();
                self.queue.push_back(Ev::Open(to, port, (n, channel)));
            }
            Action::SendChannel { channel, msg } => {
                assert!(msg.len() <= gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE);
                self.wire.push((n, msg.clone()));
                match self.peer_end.get(&(n, channel)) {
                    Some(&(to, ch)) => self.queue.push_back(Ev::Data(to, ch, msg)),
                    None => self.waiting.entry((n, channel)).or_default().push(msg),
                }
            }
            Action::CloseChannel { channel, .. } => {
                if let Some((to, ch)) = self.peer_end.remove(&(n, channel)) {
                    self.peer_end.remove(&(to, ch));
                    self.queue.push_back(Ev::Destroyed(to, ch));
                }
            }
            Action::SetTimer { at, timer } => self.timers.push((n, at, timer)),
            Action::Statistic { name, delta } => *self.stats.entry(name).or_default() += delta,
        }
    }

    /// Takes a peer off the network; the other ends of its channels learn it.
    fn kill(&mut self, victim: usize) {
        self.alive[victim] = false;
        let ends: Vec<_> = self
            .peer_end
            .iter()
            .filter(|(k, _)| k.0 == victim)
            .map(|(k, v)| (*k, *v))
            .collect();
        for (k, v) in ends {
            self.peer_end.remove(&k);
            self.peer_end.remove(&v);
            self.queue.push_back(Ev::Destroyed(v.0, v.1));
        }
        self.run();
    }

    /// Fires every timer due within `by` from now.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        let now = self.now;
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.timers)
            .into_iter()
            .partition(|t| t.1 <= now);
        self.timers = later;
        for (n, _, t) in due {
            if self.alive[n] {
                self.nodes[n].handle_timeout(now, t);
                while let Some(a) = self.nodes[n].poll_action() {
                    self.act(n, a);
                }
                self.run();
            }
        }
    }

    fn take(&mut self, node: usize, c: u64) -> Vec<Vec<u8>> {
        self.inbox.remove(&(node, ClientId(c))).unwrap_or_default()
    }

    fn stat(&self, name: &str) -> i64 {
        self.stats.get(name).copied().unwrap_or(0)
    }
}

fn of_type(msgs: &[Vec<u8>], t: u16) -> Vec<Vec<u8>> {
    msgs.iter()
        .filter(|m| msg::message_type(m) == Some(t))
        .cloned()
        .collect()
}

const GROUP: eddsa::PrivateKey = eddsa::PrivateKey([0x42; 32]);

fn group_pub() -> eddsa::PublicKey {
    GROUP.public_key()
}

fn member_key(i: u8) -> ecdsa::PrivateKey {
    ecdsa::PrivateKey::clamped([i; 32])
}

fn start_origin(net: &mut Net, node: usize, client: u64) {
    net.client(
        node,
        client,
        OriginStart {
            group_key: GROUP.clone(),
            max_fragment_id: 0,
        }
        .to_message(),
    );
}

fn join(net: &mut Net, node: usize, client: u64, key: u8, origin: usize) {
    net.client(
        node,
        client,
        MemberJoin {
            group_pub_key: group_pub(),
            member_key: member_key(key),
            origin: pid(origin),
            relays: vec![],
            join_msg: Some(vec![0, 8, 0, 123, b'h', b'e', b'y', b'!']),
        }
        .to_message(),
    );
}

/// The origin client (node 0, client 1) answers every pending join request.
fn decide_all(net: &mut Net, admit: bool) -> usize {
    let requests = of_type(&net.take(0, 1), msg::TYPE_JOIN_REQUEST);
    for r in &requests {
        let j = JoinRequest::from_message(r).unwrap();
        assert_eq!(
            j.reserved, 0,
            "clients see the request without our tree flag"
        );
        assert!(GnunetCrypto.verify_join(&j));
        let d = JoinDecision {
            peer: j.peer,
            member_pub_key: j.member_pub_key,
            decision: Decision {
                is_admitted: if admit { ADMITTED } else { REFUSED },
                relays: vec![],
                response: Some(vec![0, 5, 1, 200, b'k']),
            },
            admitted_after: None,
        };
        net.client(0, 1, d.to_message());
    }
    requests.len()
}

/// Every peer takes one child: later joiners form a chain.
fn one_child_each() -> Config {
    Config {
        max_children: 1,
        ..Config::default()
    }
}

/// `n` peers: an origin on peer 0 (client 1) and, admitted as its first child, member key 1
/// on peer 1 (client 1).
fn origin_and_first_member(n: usize, cfg: Config) -> Net {
    let mut net = Net::new(n, cfg);
    start_origin(&mut net, 0, 1);
    join(&mut net, 1, 1, 1, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    net
}

/// Peer `node` speaks like a C member with member key `key`: a join request without the tree
/// flag, straight to the origin's (peer 0's) port, on a channel of its own.
fn join_as_c_peer(net: &mut Net, node: usize, key: u8) {
    let mut j = JoinRequest::unsigned(group_pub(), member_key(key).public_key(), pid(node), None);
    GnunetCrypto.sign_join(&member_key(key), &mut j);
    let ch = ChannelId(999);
    net.queue.push_back(Ev::Open(
        0,
        crate::port::port_of_group(&group_pub()),
        (node, ch),
    ));
    net.run();
    net.act(
        node,
        Action::SendChannel {
            channel: ch,
            msg: j.to_message(),
        },
    );
    net.run();
}

fn send_fragment(net: &mut Net, payload: &[u8]) {
    net.client(
        0,
        1,
        Fragment::unsigned(1, 0, 1, 0, payload.to_vec()).to_message(),
    );
}

/// The one JOIN_DECISION client `c` of `node` got (since last taken), and its size.
fn only_decision(net: &mut Net, node: usize, c: u64) -> (JoinDecision, usize) {
    let d = of_type(&net.take(node, c), msg::TYPE_JOIN_DECISION);
    assert_eq!(d.len(), 1, "exactly one decision");
    (JoinDecision::from_message(&d[0]).unwrap(), d[0].len())
}

fn fragments(msgs: &[Vec<u8>]) -> Vec<Fragment> {
    of_type(msgs, msg::TYPE_MESSAGE)
        .iter()
        .map(|m| Fragment::from_message(m).unwrap())
        .collect()
}

mod deniable;
mod privacy;
mod replays;
mod roles;
mod tree;
