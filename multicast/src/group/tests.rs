//! Behaviour of the group logic with real GNUnet crypto, on a tiny zero-latency network.

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
                    self.nodes[n].handle_client_message(now, c, &m);
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
                    self.nodes[n].handle_channel_message(now, ch, &m);
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

fn send_fragment(net: &mut Net, payload: &[u8]) {
    net.client(
        0,
        1,
        Fragment::unsigned(1, 0, 1, 0, payload.to_vec()).to_message(),
    );
}

fn fragments(msgs: &[Vec<u8>]) -> Vec<Fragment> {
    of_type(msgs, msg::TYPE_MESSAGE)
        .iter()
        .map(|m| Fragment::from_message(m).unwrap())
        .collect()
}

#[test]
fn local_join_refused_then_admitted_and_messages_reach_both() {
    let mut net = Net::new(1, Config::default());
    start_origin(&mut net, 0, 1);
    join(&mut net, 0, 2, 1, 0);
    assert_eq!(decide_all(&mut net, false), 1);
    let d = of_type(&net.take(0, 2), msg::TYPE_JOIN_DECISION);
    assert_eq!(d.len(), 1);
    assert_eq!(
        JoinDecision::from_message(&d[0])
            .unwrap()
            .decision
            .is_admitted,
        REFUSED
    );
    net.client(0, 2, PartRequest.to_message());
    assert_eq!(of_type(&net.take(0, 2), msg::TYPE_PART_ACK).len(), 1);
    assert!(
        net.take(0, 1).is_empty(),
        "PART_ACK goes only to the client that parted"
    );

    join(&mut net, 0, 3, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(of_type(&net.take(0, 3), msg::TYPE_JOIN_DECISION).len(), 1);

    send_fragment(&mut net, b"ABC DEF");
    let to_origin = net.take(0, 1);
    let to_member = fragments(&net.take(0, 3));
    assert_eq!(fragments(&to_origin).len(), 1);
    assert_eq!(of_type(&to_origin, msg::TYPE_FRAGMENT_ACK).len(), 1);
    assert_eq!(to_member.len(), 1);
    assert_eq!(to_member[0].fragment_id, 1);
    assert!(GnunetCrypto.verify_fragment(&group_pub().prepare().ok(), &to_member[0]));

    // A later client of the admitted member gets the whole stored decision (gap G9).
    join(&mut net, 0, 4, 2, 0);
    let d = of_type(&net.take(0, 4), msg::TYPE_JOIN_DECISION);
    assert_eq!(d.len(), 1);
    assert!(JoinDecision::from_message(&d[0]).is_ok());
    assert!(net.take(0, 1).is_empty(), "no second join request");
}

#[test]
fn remote_member_gets_messages_and_sends_requests_and_replays() {
    let mut net = Net::new(2, Config::default());
    start_origin(&mut net, 0, 1);
    join(&mut net, 1, 1, 1, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(of_type(&net.take(1, 1), msg::TYPE_JOIN_DECISION).len(), 1);

    send_fragment(&mut net, b"pong");
    let got = fragments(&net.take(1, 1));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, b"pong");
    assert_eq!(got[0].hop_counter, 1);
    net.take(0, 1);

    net.client(
        1,
        1,
        Request::unsigned(9, 0, 0, b"ping".to_vec()).to_message(),
    );
    let reqs = of_type(&net.take(0, 1), msg::TYPE_REQUEST);
    assert_eq!(reqs.len(), 1);
    let q = Request::from_message(&reqs[0]).unwrap();
    assert_eq!(q.member_pub_key, member_key(1).public_key());
    assert!(GnunetCrypto.verify_request(&q));
    assert_eq!(of_type(&net.take(1, 1), msg::TYPE_FRAGMENT_ACK).len(), 1);

    // Replay of fragment 1: the member's own cache answers.
    let by_id = |id| ReplayRequest {
        member_pub_key: ecdsa::PublicKey([0; 32]),
        ids: ReplayIds {
            fragment_id: id,
            flags: 2049,
            ..Default::default()
        },
        uid: 0,
    };
    net.client(1, 1, by_id(1).to_message());
    assert_eq!(fragments(&net.take(1, 1))[0].fragment_id, 1);

    // Past the head: the origin's service knows and answers with an error.
    net.client(1, 1, by_id(1234).to_message());
    let err = of_type(&net.take(1, 1), msg::TYPE_REPLAY_RESPONSE);
    assert_eq!(err.len(), 1);
    assert_eq!(
        ReplayResponse::from_message(&err[0]).unwrap().error_code,
        msg::ReplayError::PastHead
    );

    // By message id, not cached anywhere: the origin's client answers, named the member.
    let by_msg = ReplayRequest {
        member_pub_key: ecdsa::PublicKey([0; 32]),
        ids: ReplayIds {
            message_id: 77,
            fragment_offset: 0,
            ..Default::default()
        },
        uid: 0,
    };
    net.client(1, 1, by_msg.to_message());
    let asked = of_type(&net.take(0, 1), msg::TYPE_REPLAY_REQUEST);
    assert_eq!(asked.len(), 1);
    let asked = ReplayRequest::from_message(&asked[0]).unwrap();
    assert_eq!(asked.member_pub_key, member_key(1).public_key());
    let mut old = Fragment::unsigned(77, 0, 1, 0, vec![1; 300]);
    old.fragment_id = 1;
    GnunetCrypto.sign_fragment(&eddsa::SigningKey::new(&GROUP), &mut old);
    net.client(
        0,
        1,
        ReplayResponse {
            ids: asked.ids,
            error_code: msg::ReplayError::Ok,
            fragment: Some(old.to_message()),
        }
        .to_message(),
    );
    net.client(
        0,
        1,
        ReplayResponseEnd {
            ids: asked.ids,
            error_code: 0,
        }
        .to_message(),
    );
    let replayed = fragments(&net.take(1, 1));
    assert_eq!(replayed.len(), 1);
    assert_eq!(
        replayed[0].payload.len(),
        300,
        "no 8-bit truncation (gap G5)"
    );
}

#[test]
fn bad_input_is_dropped_and_counted() {
    let mut net = Net::new(2, Config::default());
    start_origin(&mut net, 0, 1);
    join(&mut net, 1, 1, 1, 0);
    decide_all(&mut net, true);
    net.take(1, 1);

    // A forged fragment from the parent: dropped, counted, the group goes on.
    let up = net.peer_end.keys().find(|k| k.0 == 0).copied().unwrap();
    let mut forged = Fragment::unsigned(1, 0, 1, 0, b"evil".to_vec());
    forged.fragment_id = 5;
    GnunetCrypto.sign_fragment(
        &eddsa::SigningKey::new(&eddsa::PrivateKey([9; 32])),
        &mut forged,
    );
    net.act(
        0,
        Action::SendChannel {
            channel: up.1,
            msg: forged.to_message(),
        },
    );
    net.run();
    assert!(fragments(&net.take(1, 1)).is_empty());
    assert_eq!(net.stat(stat::INVALID_SIGNATURES), 1);
    send_fragment(&mut net, b"fine");
    assert_eq!(fragments(&net.take(1, 1)).len(), 1);

    // A request signed by a key that was never admitted: dropped at the origin.
    let (mchan, _) = (net.peer_end[&up], ());
    let mut q = Request::unsigned(1, 0, 0, b"sneak".to_vec());
    q.fragment_id = 1;
    GnunetCrypto.sign_request(&member_key(7), &mut q);
    net.act(
        1,
        Action::SendChannel {
            channel: mchan.1,
            msg: q.to_message(),
        },
    );
    net.run();
    assert!(of_type(&net.take(0, 1), msg::TYPE_REQUEST).is_empty());
    assert_eq!(net.stat(stat::UNADMITTED_TRAFFIC), 1);

    // Garbage on a channel closes it.
    net.act(
        1,
        Action::SendChannel {
            channel: mchan.1,
            msg: vec![0, 6, 0x02, 0xf5, 1, 2],
        },
    );
    net.run();
    assert_eq!(net.stat(stat::CHANNELS_CLOSED_BAD_INPUT), 1);

    // An oversize fragment from the origin client drops that client.
    net.client(
        0,
        1,
        Fragment::unsigned(1, 0, 0, 0, vec![0; 64512 - 115]).to_message(),
    );
    assert_eq!(net.dropped.len(), 1);
    assert!(net.dropped[0].2.contains("exceeds"));

    // A member client may not send MESSAGEs (the C service aborted, gap G8).
    join(&mut net, 1, 2, 2, 0);
    net.client(1, 2, Fragment::unsigned(1, 0, 0, 0, vec![]).to_message());
    assert_eq!(net.dropped.len(), 2);
}

#[test]
fn full_origin_redirects_tree_capable_joiners_and_relays_forward() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(3, cfg);
    join(&mut net, 2, 1, 2, 0);
    // Redirected to peer 1, which passes the join up; the origin client decides.
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(net.stat(stat::JOINS_REDIRECTED), 1);
    assert_eq!(net.stat(stat::JOINS_FORWARDED), 1);
    assert_eq!(net.nodes[0].child_count(&group_pub()), 1);
    assert_eq!(net.nodes[1].child_count(&group_pub()), 1);
    assert_eq!(of_type(&net.take(2, 1), msg::TYPE_JOIN_DECISION).len(), 1);

    send_fragment(&mut net, b"down the tree");
    assert_eq!(fragments(&net.take(1, 1))[0].hop_counter, 1);
    let deep = fragments(&net.take(2, 1));
    assert_eq!(deep.len(), 1);
    assert_eq!(deep[0].hop_counter, 2);
    assert!(GnunetCrypto.verify_fragment(&group_pub().prepare().ok(), &deep[0]));

    // A request from the grandchild climbs through the relay.
    net.take(0, 1);
    net.client(
        2,
        1,
        Request::unsigned(1, 0, 0, b"up".to_vec()).to_message(),
    );
    let reqs = of_type(&net.take(0, 1), msg::TYPE_REQUEST);
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        Request::from_message(&reqs[0]).unwrap().member_pub_key,
        member_key(2).public_key()
    );
}

#[test]
fn c_joiners_are_never_redirected() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(3, cfg);
    // Peer 2 speaks like a C member: a join request without the tree flag, straight to the
    // origin's port.
    let mut j = JoinRequest::unsigned(group_pub(), member_key(3).public_key(), pid(2), None);
    GnunetCrypto.sign_join(&member_key(3), &mut j);
    let ch = ChannelId(999);
    net.queue.push_back(Ev::Open(
        0,
        crate::port::port_of_group(&group_pub()),
        (2, ch),
    ));
    net.run();
    net.act(
        2,
        Action::SendChannel {
            channel: ch,
            msg: j.to_message(),
        },
    );
    net.run();
    assert_eq!(net.stat(stat::JOINS_REDIRECTED), 0);
    assert_eq!(decide_all(&mut net, true), 1);
    assert_eq!(net.nodes[0].child_count(&group_pub()), 2);
}

#[test]
fn orphans_reattach_and_pull_the_gap() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(3, cfg.clone());
    join(&mut net, 2, 1, 2, 0);
    decide_all(&mut net, true);
    send_fragment(&mut net, b"one");
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);

    net.kill(1);
    assert_eq!(net.stat(stat::PARENTS_LOST), 1);
    // While peer 2 is detached the origin goes on.
    send_fragment(&mut net, b"two");
    send_fragment(&mut net, b"three");
    assert!(fragments(&net.take(2, 1)).is_empty());

    // After the jitter peer 2 joins the origin again; the origin re-admits it from the
    // stored decision without asking its client, and peer 2 pulls 2 and 3 by replay.
    net.advance(cfg.reattach_jitter);
    assert_eq!(decide_all(&mut net, true), 0);
    assert_eq!(net.stat(stat::JOINS_READMITTED), 1);
    let got: Vec<u64> = fragments(&net.take(2, 1))
        .iter()
        .map(|f| f.fragment_id)
        .collect();
    assert_eq!(got, vec![2, 3]);
    assert!(
        of_type(&net.take(2, 1), msg::TYPE_JOIN_DECISION).is_empty(),
        "the client is not told about re-admission"
    );
    send_fragment(&mut net, b"four");
    assert_eq!(fragments(&net.take(2, 1))[0].fragment_id, 4);
}

#[test]
fn origin_stop_ends_the_group_below() {
    let mut net = Net::new(2, Config::default());
    start_origin(&mut net, 0, 1);
    join(&mut net, 1, 1, 1, 0);
    decide_all(&mut net, true);
    net.client(0, 1, PartRequest.to_message());
    assert!(net.ports.iter().all(|p| p.0 != 0), "origin port closed");
    assert_eq!(net.nodes[0].child_count(&group_pub()), 0);
    assert!(!net.nodes[1].is_attached(&group_pub()));
    assert!(matches!(
        Any::decode(&PartRequest.to_message()),
        Ok(Any::PartRequest(_))
    ));
}

/// Replays in a chain origin ← relay ← member: with caches, the relay answers and the origin's
/// application never hears of it; with the caches off (`replay_cache_bytes = 0`, the strict
/// setting) every replay reaches the origin's application, which may check membership, as in
/// the C original.
#[test]
fn replays_come_from_caches_or_with_caches_off_from_the_origin_application() {
    let by_id = |id| ReplayRequest {
        member_pub_key: ecdsa::PublicKey([0; 32]),
        ids: ReplayIds {
            fragment_id: id,
            flags: 0,
            ..Default::default()
        },
        uid: 0,
    };
    for cache_bytes in [Config::default().replay_cache_bytes, 0] {
        let cfg = Config {
            max_children: 1,
            replay_cache_bytes: cache_bytes,
            ..Config::default()
        };
        let mut net = Net::new(3, cfg);
        start_origin(&mut net, 0, 1);
        join(&mut net, 1, 1, 1, 0);
        assert_eq!(decide_all(&mut net, true), 1);
        join(&mut net, 2, 1, 2, 0);
        assert_eq!(decide_all(&mut net, true), 1);
        assert_eq!(
            net.nodes[1].child_count(&group_pub()),
            1,
            "node 2 hangs under node 1"
        );
        send_fragment(&mut net, b"one");
        send_fragment(&mut net, b"two");
        assert_eq!(fragments(&net.take(2, 1)).len(), 2);
        net.take(0, 1);

        net.client(2, 1, by_id(1).to_message());
        let asked = of_type(&net.take(0, 1), msg::TYPE_REPLAY_REQUEST);
        if cache_bytes > 0 {
            assert!(asked.is_empty(), "a cache on the way answers");
            let got = fragments(&net.take(2, 1));
            assert_eq!((got.len(), got[0].payload.as_slice()), (1, &b"one"[..]));
            continue;
        }
        assert_eq!(asked.len(), 1, "the origin's application is asked");
        let asked = ReplayRequest::from_message(&asked[0]).unwrap();
        assert_eq!(asked.member_pub_key, member_key(2).public_key());
        assert!(fragments(&net.take(2, 1)).is_empty());
        // The application refuses (say, the member was not admitted back then).
        net.client(
            0,
            1,
            ReplayResponse {
                ids: asked.ids,
                error_code: msg::ReplayError::Other(-1),
                fragment: None,
            }
            .to_message(),
        );
        let answer = net.take(2, 1);
        assert!(fragments(&answer).is_empty());
        let refused = of_type(&answer, msg::TYPE_REPLAY_RESPONSE);
        assert_eq!(refused.len(), 1);
        assert_ne!(
            ReplayResponse::from_message(&refused[0])
                .unwrap()
                .error_code,
            msg::ReplayError::Ok
        );
    }
}

fn replay_of(id: u64) -> Vec<u8> {
    ReplayRequest {
        member_pub_key: ecdsa::PublicKey([0; 32]),
        ids: ReplayIds {
            fragment_id: id,
            ..Default::default()
        },
        uid: 0,
    }
    .to_message()
}

/// Replay requests the origin's application (node 0, client 1) was asked, by member key.
fn asked_origin(net: &mut Net) -> Vec<ReplayRequest> {
    of_type(&net.take(0, 1), msg::TYPE_REPLAY_REQUEST)
        .iter()
        .map(|m| ReplayRequest::from_message(m).unwrap())
        .collect()
}

fn answer_replay(net: &mut Net, ids: ReplayIds, fragment: Option<Vec<u8>>) {
    let ok = fragment.is_some();
    let error_code = match fragment {
        Some(_) => msg::ReplayError::Ok,
        None => msg::ReplayError::Other(-1),
    };
    net.client(
        0,
        1,
        ReplayResponse {
            ids,
            error_code,
            fragment,
        }
        .to_message(),
    );
    if ok {
        net.client(0, 1, ReplayResponseEnd { ids, error_code: 0 }.to_message());
    }
}

fn replay_errors(msgs: &[Vec<u8>]) -> usize {
    of_type(msgs, msg::TYPE_REPLAY_RESPONSE)
        .iter()
        .filter(|m| ReplayResponse::from_message(m).unwrap().error_code != msg::ReplayError::Ok)
        .count()
}

/// The origin's application was asked once, for member `key` of peer `node` (client 1), and
/// refuses: that client gets the error and no fragment.
fn origin_refuses(net: &mut Net, key: u8, node: usize) {
    let asked = asked_origin(net);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].member_pub_key, member_key(key).public_key());
    answer_replay(net, asked[0].ids, None);
    let answer = net.take(node, 1);
    assert!(fragments(&answer).is_empty());
    assert_eq!(replay_errors(&answer), 1);
}

#[test]
fn caches_serve_no_history_from_before_a_members_admission() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(3, cfg);
    send_fragment(&mut net, b"one");
    send_fragment(&mut net, b"two");
    let origin_copies = fragments(&net.take(0, 1));
    let one = origin_copies[0].to_message();

    // Peer 2 joins late, under peer 1 (which cached 1 and 2).
    join(&mut net, 2, 1, 2, 0);
    decide_all(&mut net, true);
    assert_eq!(net.nodes[1].child_count(&group_pub()), 1);
    let decisions = of_type(&net.take(2, 1), msg::TYPE_JOIN_DECISION);
    assert_eq!(decisions.len(), 1);
    assert_eq!(
        decisions[0].len(),
        68 + 12 + 5,
        "clients get the decision without the admission point"
    );
    send_fragment(&mut net, b"three");
    let live: Vec<u64> = fragments(&net.take(2, 1))
        .iter()
        .map(|f| f.fragment_id)
        .collect();
    assert_eq!(live, vec![3]);
    net.take(0, 1);
    assert_eq!(fragments(&net.take(1, 1)).len(), 3);

    // Fragment 3 came after the admission: the relay's cache answers.
    net.client(2, 1, replay_of(3));
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 1);
    assert!(asked_origin(&mut net).is_empty());

    // Fragment 1 came before: no cache answers it; the origin's application decides.
    net.client(2, 1, replay_of(1));
    assert!(fragments(&net.take(2, 1)).is_empty());
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 1);
    assert_eq!(
        net.stat(stat::REPLAYS_BEFORE_ADMISSION),
        2,
        "peer 1 and the origin"
    );
    origin_refuses(&mut net, 2, 2);

    // If the application lets it have the old fragment, it gets it.
    net.client(2, 1, replay_of(1));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    answer_replay(&mut net, asked[0].ids, Some(one));
    let got = fragments(&net.take(2, 1));
    assert_eq!((got.len(), got[0].payload.as_slice()), (1, &b"one"[..]));
    // Peer 1 had fragment 1 already: passing the answer on, it delivers nothing again.
    assert!(fragments(&net.take(1, 1)).is_empty());
}

/// Caches off (every replay climbs to the origin's application), one child each: member 1
/// on peer 1 admitted before fragment 1, member 2 on peer 2 (under peer 1) after it. Returns
/// the net and fragment 1 as the origin sent it.
fn early_and_late_member_without_caches() -> (Net, Vec<u8>) {
    let cfg = Config {
        max_children: 1,
        replay_cache_bytes: 0,
        ..Config::default()
    };
    let mut net = origin_and_first_member(3, cfg);
    send_fragment(&mut net, b"one");
    let one = fragments(&net.take(0, 1))[0].to_message();
    join(&mut net, 2, 1, 2, 0);
    decide_all(&mut net, true);
    net.take(1, 1);
    net.take(2, 1);
    (net, one)
}

#[test]
fn a_replay_answer_is_shared_only_by_members_admitted_before_it() {
    let (mut net, one) = early_and_late_member_without_caches();

    // Peer 1's member (admitted before 1) asks first; peer 2's (admitted after) asks too
    // while that round is open at peer 1. It must not ride on the answer.
    net.client(1, 1, replay_of(1));
    net.client(2, 1, replay_of(1));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1, "peer 2's request waits for its own round");
    assert_eq!(asked[0].member_pub_key, member_key(1).public_key());
    answer_replay(&mut net, asked[0].ids, Some(one));
    assert_eq!(fragments(&net.take(1, 1)).len(), 1);
    assert!(fragments(&net.take(2, 1)).is_empty());

    // Its own round starts when the first ends; the application refuses it.
    origin_refuses(&mut net, 2, 2);
    assert!(fragments(&net.take(1, 1)).is_empty());
}

#[test]
fn a_member_joining_again_keeps_its_first_admission_point_on_a_new_path() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(4, cfg);
    // Peer 2 joins (under peer 1), gets fragment 1, and leaves.
    join(&mut net, 2, 1, 2, 0);
    decide_all(&mut net, true);
    send_fragment(&mut net, b"one");
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);
    net.client(2, 1, PartRequest.to_message());
    assert_eq!(net.nodes[1].child_count(&group_pub()), 0);
    // Peer 3 joins after fragment 1 and takes the free place under peer 1.
    join(&mut net, 3, 1, 3, 0);
    decide_all(&mut net, true);
    send_fragment(&mut net, b"two");
    // Peer 2's member comes back and lands under peer 3; the origin re-admits it with
    // its first admission point.
    join(&mut net, 2, 2, 2, 0);
    assert_eq!(decide_all(&mut net, true), 0);
    assert_eq!(net.stat(stat::JOINS_READMITTED), 1);
    assert_eq!(net.nodes[3].child_count(&group_pub()), 1);
    net.take(0, 1);
    net.take(3, 1);

    // Fragment 1 predates peer 3's member but not peer 2's: peer 1's cache serves it to
    // peer 2 through peer 3, and peer 3's own client does not get it.
    net.client(2, 2, replay_of(1));
    let got = fragments(&net.take(2, 2));
    assert_eq!((got.len(), got[0].payload.as_slice()), (1, &b"one"[..]));
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 1);
    assert!(fragments(&net.take(3, 1)).is_empty());
    assert!(asked_origin(&mut net).is_empty());

    // Peer 3's member asks for it itself: only the origin's application may decide.
    net.client(3, 1, replay_of(1));
    assert!(fragments(&net.take(3, 1)).is_empty());
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].member_pub_key, member_key(3).public_key());
}

#[test]
fn a_late_answer_is_not_taken_for_the_next_round() {
    let timeout = Config::default().replay_timeout;
    let (mut net, one) = early_and_late_member_without_caches();

    net.client(1, 1, replay_of(1));
    net.client(2, 1, replay_of(1));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    // The application takes longer than the replay timeout to answer peer 1's member: both
    // requesters are told their replays failed.
    net.advance(timeout);
    assert_eq!(replay_errors(&net.take(1, 1)), 1);
    assert_eq!(replay_errors(&net.take(2, 1)), 1);
    assert!(
        asked_origin(&mut net).is_empty(),
        "peer 2's request waits at the origin while a late answer may come"
    );
    answer_replay(&mut net, asked[0].ids, Some(one));
    assert!(
        fragments(&net.take(1, 1)).is_empty(),
        "too late for its round"
    );
    assert!(
        fragments(&net.take(2, 1)).is_empty(),
        "and not for peer 2's"
    );
    // Only then does peer 2's member get a round of its own.
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].member_pub_key, member_key(2).public_key());
}

#[test]
fn an_unsigned_replay_answer_is_refused_to_peers() {
    let (mut net, _) = early_and_late_member_without_caches();
    // Peer 2's member asks for fragment 1 (from before its admission): the application
    // answers with a bare fragment, as C's test_multicast does.
    net.client(2, 1, replay_of(1));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    let mut bare = Fragment::unsigned(1, 0, 1, 0, b"one".to_vec());
    bare.fragment_id = 1;
    answer_replay(&mut net, asked[0].ids, Some(bare.to_message()));
    let answer = net.take(2, 1);
    assert!(
        fragments(&answer).is_empty(),
        "an unsigned fragment never crosses"
    );
    assert_eq!(replay_errors(&answer), 1);
    assert_eq!(net.stat(stat::INVALID_SIGNATURES), 1);
}
