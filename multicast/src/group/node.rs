//! One peer's multicast service as a sans-IO state machine.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
use gnunet_service::crypto::{ecdsa, eddsa, HashCode};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use rand_core::RngCore;
use tracing::{debug, warn};

use super::action::{stat, Action, ChannelId, ClientId, Timer};
use super::config::Config;
use super::history::{answers, History, Seen};
use crate::crypto::GroupCrypto;
use crate::msg::{
    self, Any, Decision, Fragment, FragmentAck, GroupEnd, JoinDecision, JoinRequest, MemberJoin,
    OriginStart, PartAck, ReplayError, ReplayIds, ReplayRequest, ReplayResponse, Request, ADMITTED,
    FRAGMENT_MAX_SIZE, REDIRECT, TREE_CAPABLE,
};
use crate::port::{group_id, port_of_group};

/// Which group role a client took with its first message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// Connected, no ORIGIN_START / MEMBER_JOIN yet.
    None,
    /// An origin client of a group.
    Origin(HashCode),
    /// A member client of (group, member key).
    Member(HashCode, ecdsa::PublicKey),
    /// Sent PART_REQUEST; nothing more is accepted.
    Parted,
}

/// The origin role of a group on this peer; `S` is the prepared group signing key.
#[derive(Debug)]
struct OriginRole<S> {
    key: S,
    clients: BTreeSet<ClientId>,
    last_fragment_id: u64,
    /// Admitted members, to re-admit them with the same decision and admission point when
    /// they re-attach.
    admitted: HashMap<ecdsa::PublicKey, Admission>,
}

/// The origin's record of a member it admitted.
#[derive(Debug, Clone)]
struct Admission {
    decision: Decision,
    /// The origin's newest fragment id when it first admitted the member.
    after: u64,
}

/// Where a local member stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberStatus {
    Joining,
    Admitted,
    Refused,
}

/// A local member record (group, member key).
#[derive(Debug)]
struct MemberRole {
    key: ecdsa::PrivateKey,
    origin: PeerIdentity,
    relays: Vec<PeerIdentity>,
    /// Our signed join request (with the tree flag).
    join: Vec<u8>,
    clients: BTreeSet<ClientId>,
    status: MemberStatus,
    /// The complete JOIN_DECISION that admitted us (given to later clients).
    decision: Option<Vec<u8>>,
    /// Channel to our parent, once opened.
    uplink: Option<ChannelId>,
    /// Whether the uplink's parent has admitted us on it.
    attached: bool,
    /// Join targets still to try, in order.
    targets: VecDeque<PeerIdentity>,
    /// Bumped for every join attempt; stale timers carry older numbers.
    attempt: u64,
    /// Whether the parent is of this implementation (it sets hop counters).
    parent_is_ours: bool,
    /// Whether we were admitted before (a re-attach, not a first join).
    was_admitted: bool,
    /// Fragments up to this id were sent before the member's admission: it gets none of them
    /// from this node (see [`JoinDecision::admitted_after`]).
    admitted_after: u64,
    request_counter: u64,
}

/// Join status of a child channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChildStatus {
    NotAsked,
    Waiting,
    Admitted,
    Refused,
    Redirected,
}

/// An incoming channel: a child (or would-be child).
#[derive(Debug)]
struct Child {
    status: ChildStatus,
    member_key: ecdsa::PublicKey,
    peer: PeerIdentity,
    tree_capable: bool,
    /// Admitted members reachable through this channel.
    subtree: HashMap<ecdsa::PublicKey, SubtreeMember>,
    /// The smallest `admitted_after` in `subtree`: fragments up to it go down this channel
    /// only as answers to replays.
    earliest_admission: u64,
}

/// An admitted member reachable through a child channel.
#[derive(Debug, Clone)]
struct SubtreeMember {
    /// Its join request, to announce it again when we re-attach.
    join: Vec<u8>,
    /// Its admission point (see [`JoinDecision::admitted_after`]).
    admitted_after: u64,
}

/// Which side of a channel we are.
#[derive(Debug)]
enum ChannelKind {
    /// We opened it to join: it leads to our parent, for the member record of this key.
    Up(ecdsa::PublicKey),
    /// It came in on our port.
    Down(Child),
}

#[derive(Debug)]
struct Channel {
    group: HashCode,
    peer: PeerIdentity,
    kind: ChannelKind,
}

impl Channel {
    /// Whether fragment `id` goes down this channel: it leads to an admitted child, and a
    /// member below was admitted before the fragment.
    fn wants_fragment(&self, id: u64) -> bool {
        matches!(&self.kind, ChannelKind::Down(c)
            if c.status == ChildStatus::Admitted && c.earliest_admission < id)
    }
}

/// A failed replay's answer: the 48-byte REPLAY_RESPONSE with `e`.
fn replay_error(ids: ReplayIds, e: ReplayError) -> Vec<u8> {
    ReplayResponse {
        ids,
        error_code: e,
        fragment: None,
    }
    .to_message()
}

/// Hands `msg` to every receiver: a clone each, the original to the last.
fn send_to_each<T>(receivers: Vec<T>, msg: Vec<u8>, mut send: impl FnMut(T, Vec<u8>)) {
    let mut receivers = receivers.into_iter().peekable();
    while let Some(r) = receivers.next() {
        if receivers.peek().is_some() {
            send(r, msg.clone());
        } else {
            send(r, msg);
            return;
        }
    }
}

/// Who waits for a replay answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requester {
    Client(ClientId),
    Channel(ChannelId),
    /// This peer itself, pulling a gap.
    Myself,
}

/// A replay request on its way: one round, answered once.
///
/// A successful answer does not say which member it is for, so only requesters that may have
/// it anyway share a round: those admitted before the fragment (when the round was started by
/// one such), or those asking as the same member. Others wait in `queued` for a round of
/// their own, so that no one rides on another member's answer.
///
/// For the same reason a round that timed out stays for one more timeout, `expired`, without
/// requesters: a late answer then ends it instead of being taken for the next round's.
#[derive(Debug)]
struct PendingReplay {
    requesters: Vec<Requester>,
    generation: u64,
    /// The member the request went out for.
    member: ecdsa::PublicKey,
    /// Whether that member was admitted before the fragment, so that others who were may share.
    shared: bool,
    expired: bool,
    queued: VecDeque<(Requester, ReplayRequest)>,
}

impl PendingReplay {
    fn new(who: Requester, member: ecdsa::PublicKey, shared: bool, generation: u64) -> Self {
        Self {
            requesters: vec![who],
            generation,
            member,
            shared,
            expired: false,
            queued: VecDeque::new(),
        }
    }

    /// Whether `member` (`shared`: admitted before the fragment) may take this round's answer.
    fn admits(&self, member: &ecdsa::PublicKey, shared: bool) -> bool {
        !self.expired && ((shared && self.shared) || self.member == *member)
    }

    fn is_queued(&self, who: Requester, member: &ecdsa::PublicKey) -> bool {
        self.queued
            .iter()
            .any(|(q, r)| *q == who && r.member_pub_key == *member)
    }

    fn forget(&mut self, who: Requester) {
        self.requesters.retain(|r| *r != who);
        self.queued.retain(|(r, _)| *r != who);
    }
}

/// Most requesters sharing one replay round, and most waiting for rounds of their own.
const MAX_QUEUED_REPLAYS: usize = 64;

/// A join request passed on towards the origin, waiting for its decision.
#[derive(Debug, Clone)]
struct PendingJoin {
    channel: ChannelId,
    /// False for joins we announce again after re-attaching: their decision stays here.
    forward_decision: bool,
    join: Vec<u8>,
}

#[derive(Debug)]
struct Group<C: GroupCrypto> {
    pub_key: eddsa::PublicKey,
    /// `pub_key` prepared for checking fragment signatures.
    verifier: C::GroupVerifier,
    port: HashCode,
    port_open: bool,
    origin: Option<OriginRole<C::GroupSigner>>,
    members: BTreeMap<ecdsa::PublicKey, MemberRole>,
    children: BTreeSet<ChannelId>,
    history: History,
    pending_replays: HashMap<ReplayIds, PendingReplay>,
    pending_joins: HashMap<(PeerIdentity, ecdsa::PublicKey), PendingJoin>,
    /// Our distance from the origin (0 at the origin).
    depth: u32,
    redirect_rr: usize,
    probing: bool,
}

/// The multicast service of one peer, without IO.
///
/// Feed it with the `handle_*` methods; after each call drain [`Node::poll_action`] and carry
/// the actions out in order. Generic over the signature scheme `C` (real crypto in the
/// service) and the random source `R` (only used to spread re-attach times).
pub struct Node<C: GroupCrypto, R> {
    me: PeerIdentity,
    cfg: Config,
    crypto: C,
    rng: R,
    groups: HashMap<HashCode, Group<C>>,
    ports: HashMap<HashCode, HashCode>,
    clients: HashMap<ClientId, Role>,
    channels: HashMap<ChannelId, Channel>,
    next_channel: u64,
    next_generation: u64,
    actions: VecDeque<Action>,
}

impl<C: GroupCrypto, R: RngCore> Node<C, R> {
    /// A service for peer `me`.
    pub fn new(me: PeerIdentity, cfg: Config, crypto: C, rng: R) -> Self {
        Self {
            me,
            cfg,
            crypto,
            rng,
            groups: HashMap::new(),
            ports: HashMap::new(),
            clients: HashMap::new(),
            channels: HashMap::new(),
            next_channel: 1,
            next_generation: 1,
            actions: VecDeque::new(),
        }
    }

    /// Our peer identity.
    pub fn peer(&self) -> PeerIdentity {
        self.me
    }

    /// The next action to carry out, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Drains every pending action.
    pub fn drain_actions(&mut self) -> Vec<Action> {
        self.actions.drain(..).collect()
    }

    /// Number of children attached in `group` (for tests and the simulator).
    pub fn child_count(&self, group: &eddsa::PublicKey) -> usize {
        self.groups
            .get(&group_id(group))
            .map_or(0, |g| g.children.len())
    }

    /// Whether some local member of `group` is admitted and attached to a parent.
    pub fn is_attached(&self, group: &eddsa::PublicKey) -> bool {
        self.groups
            .get(&group_id(group))
            .is_some_and(|g| g.members.values().any(|m| m.attached))
    }

    // ----------------------------------------------------------------- helpers

    fn push(&mut self, a: Action) {
        self.actions.push_back(a);
    }

    fn stat(&mut self, name: &'static str, delta: i64) {
        self.push(Action::Statistic { name, delta });
    }

    fn send_client(&mut self, client: ClientId, msg: Vec<u8>) {
        self.push(Action::SendClient { client, msg });
    }

    fn send_channel(&mut self, channel: ChannelId, msg: Vec<u8>) {
        self.push(Action::SendChannel { channel, msg });
    }

    fn drop_client(&mut self, client: ClientId, reason: String) {
        warn!(client = client.0, %reason, "dropping multicast client");
        self.stat(stat::CLIENTS_DROPPED, 1);
        self.push(Action::DropClient { client, reason });
        self.forget_client(client);
    }

    /// Closes a channel we no longer want, forgetting it first.
    fn close_channel(&mut self, channel: ChannelId, reason: &'static str) {
        self.forget_channel(channel);
        self.push(Action::CloseChannel { channel, reason });
    }

    fn bad_channel_input(&mut self, channel: ChannelId, reason: &'static str, what: String) {
        warn!(channel = channel.0, %what, reason, "closing multicast channel");
        self.stat(stat::CHANNELS_CLOSED_BAD_INPUT, 1);
        self.close_channel(channel, reason);
    }

    fn new_channel_id(&mut self) -> ChannelId {
        let id = ChannelId(self.next_channel);
        self.next_channel += 1;
        id
    }

    /// The local member record of `key` in group `gid`.
    fn member(&self, gid: &HashCode, key: &ecdsa::PublicKey) -> Option<&MemberRole> {
        self.groups.get(gid)?.members.get(key)
    }

    fn member_mut(&mut self, gid: &HashCode, key: &ecdsa::PublicKey) -> Option<&mut MemberRole> {
        self.groups.get_mut(gid)?.members.get_mut(key)
    }

    fn group_mut(&mut self, gid: &HashCode) -> Option<&mut Group<C>> {
        self.groups.get_mut(gid)
    }

    fn new_group(&self, pub_key: eddsa::PublicKey) -> Group<C> {
        Group {
            pub_key,
            verifier: self.crypto.group_verifier(&pub_key),
            port: port_of_group(&pub_key),
            port_open: false,
            origin: None,
            members: BTreeMap::new(),
            children: BTreeSet::new(),
            history: History::new(
                self.cfg.replay_cache,
                self.cfg.replay_cache_bytes,
                self.cfg.dedup_window,
            ),
            pending_replays: HashMap::new(),
            pending_joins: HashMap::new(),
            depth: 1,
            redirect_rr: 0,
            probing: false,
        }
    }

    fn open_port(&mut self, gid: HashCode) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if g.port_open {
            return;
        }
        g.port_open = true;
        let port = g.port;
        self.ports.insert(port, gid);
        self.push(Action::OpenPort { port });
    }

    /// Clients of `gid` that receive fragment `id`: origin clients, and those of members
    /// admitted before it.
    fn message_receivers(&self, gid: &HashCode, id: u64) -> Vec<ClientId> {
        let Some(g) = self.groups.get(gid) else {
            return Vec::new();
        };
        let mut out: Vec<ClientId> = g
            .origin
            .iter()
            .flat_map(|o| o.clients.iter().copied())
            .collect();
        for m in g.members.values() {
            if m.status == MemberStatus::Admitted && m.admitted_after < id {
                out.extend(m.clients.iter().copied());
            }
        }
        out
    }

    /// The uplink requests and forwarded joins go up: the first attached member's.
    fn primary_uplink(&self, gid: &HashCode) -> Option<ChannelId> {
        let g = self.groups.get(gid)?;
        g.members
            .values()
            .filter(|m| m.attached)
            .find_map(|m| m.uplink)
            .or_else(|| g.members.values().find_map(|m| m.uplink))
    }

    fn set_timer(&mut self, now: Instant, after: Duration, timer: Timer) {
        self.push(Action::SetTimer {
            at: now + after,
            timer,
        });
    }

    // ------------------------------------------------------------ client side

    /// A client connected (optional: unknown clients are created on their first message).
    pub fn handle_client_connected(&mut self, client: ClientId) {
        self.clients.entry(client).or_insert(Role::None);
    }

    /// A complete message (header included) from a client.
    pub fn handle_client_message(&mut self, now: Instant, client: ClientId, bytes: &[u8]) {
        let msg = match Any::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                let t = msg::message_type(bytes).unwrap_or(0);
                self.drop_client(
                    client,
                    format!("malformed message type {t} size {}: {e}", bytes.len()),
                );
                return;
            }
        };
        let role = self.clients.entry(client).or_insert(Role::None).clone();
        let t = msg::message_type(bytes).unwrap_or(0);
        match (role, msg) {
            (Role::None, Any::OriginStart(m)) => self.client_origin_start(client, m),
            (Role::None, Any::MemberJoin(m)) => self.client_member_join(now, client, m),
            (Role::Parted, _) => {
                self.drop_client(client, format!("message type {t} after PART_REQUEST"))
            }
            (Role::None, _) => self.drop_client(
                client,
                format!("message type {t} before ORIGIN_START or MEMBER_JOIN"),
            ),
            (_, Any::PartRequest(_)) => {
                self.send_client(client, PartAck.to_message());
                self.forget_client(client);
                self.clients.insert(client, Role::Parted);
            }
            (Role::Origin(gid), Any::Fragment(f)) => self.client_fragment(client, gid, f),
            (Role::Origin(gid), Any::JoinDecision(d)) => self.client_join_decision(gid, d),
            (Role::Origin(gid) | Role::Member(gid, _), Any::ReplayResponse(r)) => {
                self.client_replay_response(now, client, gid, r, bytes)
            }
            (Role::Origin(gid) | Role::Member(gid, _), Any::ReplayResponseEnd(r)) => {
                if let Some(p) = self
                    .group_mut(&gid)
                    .and_then(|g| g.pending_replays.remove(&r.ids))
                {
                    self.next_rounds(now, gid, p.queued);
                }
            }
            (Role::Member(gid, key), Any::Request(q)) => self.client_request(client, gid, key, q),
            (Role::Member(gid, key), Any::ReplayRequest(r)) => {
                self.client_replay_request(now, client, gid, key, r)
            }
            (_, _) => self.drop_client(
                client,
                format!(
                    "message type {t} size {} not allowed for this client's role",
                    bytes.len()
                ),
            ),
        }
    }

    /// A client connection ended.
    pub fn handle_client_disconnected(&mut self, _now: Instant, client: ClientId) {
        self.forget_client(client);
        self.clients.remove(&client);
    }

    fn forget_client(&mut self, client: ClientId) {
        let role = self.clients.insert(client, Role::Parted);
        let gid = match &role {
            Some(Role::Origin(gid)) | Some(Role::Member(gid, _)) => *gid,
            _ => return,
        };
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        for p in g.pending_replays.values_mut() {
            p.forget(Requester::Client(client));
        }
        match role {
            Some(Role::Origin(_)) => {
                let empty = g.origin.as_mut().is_some_and(|o| {
                    o.clients.remove(&client);
                    o.clients.is_empty()
                });
                if empty {
                    g.origin = None;
                    self.origin_stopped(gid);
                }
            }
            Some(Role::Member(_, key)) => {
                let empty = g.members.get_mut(&key).is_some_and(|m| {
                    m.clients.remove(&client);
                    m.clients.is_empty()
                });
                if empty {
                    if let Some(m) = g.members.remove(&key) {
                        if let Some(up) = m.uplink {
                            self.close_channel(up, "member parted");
                        }
                    }
                    self.maybe_drop_group(gid);
                }
            }
            _ => {}
        }
    }

    /// The last origin client left: the group ends for everyone below us.
    fn origin_stopped(&mut self, gid: HashCode) {
        let children: Vec<ChannelId> = self
            .groups
            .get(&gid)
            .map(|g| g.children.iter().copied().collect())
            .unwrap_or_default();
        for ch in children {
            if self.is_tree_capable_child(ch) {
                self.send_channel(ch, GroupEnd.to_message());
            }
            self.close_channel(ch, "group ended");
        }
        self.maybe_drop_group(gid);
    }

    fn is_tree_capable_child(&self, ch: ChannelId) -> bool {
        matches!(
            self.channels.get(&ch).map(|c| &c.kind),
            Some(ChannelKind::Down(child)) if child.tree_capable
        )
    }

    /// Removes a group nobody on this peer plays a role in any more.
    fn maybe_drop_group(&mut self, gid: HashCode) {
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        if g.origin.is_some() || !g.members.is_empty() {
            return;
        }
        let children: Vec<ChannelId> = g.children.iter().copied().collect();
        for ch in children {
            self.close_channel(ch, "no member left on this peer");
        }
        if let Some(g) = self.groups.remove(&gid) {
            if g.port_open {
                self.ports.remove(&g.port);
                self.push(Action::ClosePort { port: g.port });
            }
        }
    }

    fn client_origin_start(&mut self, client: ClientId, m: OriginStart) {
        let signer = self.crypto.group_signer(&m.group_key);
        let pub_key = self.crypto.group_public(&signer);
        let gid = group_id(&pub_key);
        if !self.groups.contains_key(&gid) {
            let g = self.new_group(pub_key);
            self.groups.insert(gid, g);
        }
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if g.origin.is_none() {
            g.origin = Some(OriginRole {
                key: signer,
                clients: BTreeSet::new(),
                last_fragment_id: m.max_fragment_id,
                admitted: HashMap::new(),
            });
            g.depth = 0;
            if g.history.head().is_none() {
                g.history.start_after(m.max_fragment_id);
            }
        }
        if let Some(o) = g.origin.as_mut() {
            o.clients.insert(client);
        }
        self.clients.insert(client, Role::Origin(gid));
        self.open_port(gid);
    }

    fn client_member_join(&mut self, now: Instant, client: ClientId, m: MemberJoin) {
        let member = self.crypto.member_public(&m.member_key);
        let gid = group_id(&m.group_pub_key);
        if !self.groups.contains_key(&gid) {
            let g = self.new_group(m.group_pub_key);
            self.groups.insert(gid, g);
        }
        self.clients.insert(client, Role::Member(gid, member));
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if let Some(rec) = g.members.get_mut(&member) {
            // Another client of an existing member: give it the stored decision (the whole
            // outer+inner message, unlike the C original, gap G9); never ask again (G16).
            rec.clients.insert(client);
            if let Some(d) = rec.decision.clone() {
                self.send_client(client, d);
            }
            return;
        }
        let mut join = JoinRequest {
            reserved: TREE_CAPABLE,
            ..JoinRequest::unsigned(m.group_pub_key, member, self.me, m.join_msg)
        };
        self.crypto.sign_join(&m.member_key, &mut join);
        let join_bytes = join.to_message();
        let local_origin = g.origin.is_some();
        g.members.insert(
            member,
            MemberRole {
                key: m.member_key,
                origin: m.origin,
                relays: m.relays,
                join: join_bytes.clone(),
                clients: BTreeSet::from([client]),
                status: MemberStatus::Joining,
                decision: None,
                uplink: None,
                attached: false,
                targets: VecDeque::new(),
                attempt: 0,
                parent_is_ours: false,
                was_admitted: false,
                admitted_after: 0,
                request_counter: 0,
            },
        );
        if local_origin {
            // Same peer as the origin: no CADET, the origin's clients decide directly.
            self.deliver_join_to_origin(gid, &join_bytes);
        } else {
            // Accept children right away; their joins go up once we are attached.
            self.open_port(gid);
            self.start_attach(now, gid, member);
        }
    }

    fn deliver_join_to_origin(&mut self, gid: HashCode, join: &[u8]) {
        // Clients get the request as C peers sent it: without our tree flag.
        let mut for_clients = join.to_vec();
        if for_clients.len() >= 8 {
            for_clients[4..8].copy_from_slice(&[0; 4]);
        }
        self.deliver_to_origin_clients(gid, &for_clients);
        self.stat(stat::JOIN_REQUESTS, 1);
    }

    fn client_fragment(&mut self, client: ClientId, gid: HashCode, mut f: Fragment) {
        if f.wire_size() > FRAGMENT_MAX_SIZE {
            self.drop_client(
                client,
                format!(
                    "message fragment of {} bytes exceeds {FRAGMENT_MAX_SIZE}",
                    f.wire_size()
                ),
            );
            return;
        }
        let Some(o) = self.groups.get_mut(&gid).and_then(|g| g.origin.as_mut()) else {
            return;
        };
        let Some(next_id) = o.last_fragment_id.checked_add(1) else {
            self.drop_client(client, "fragment ids exhausted".into());
            return;
        };
        o.last_fragment_id = next_id;
        f.fragment_id = next_id;
        f.hop_counter = 0;
        let bytes = self.crypto.sign_fragment_message(&o.key, &mut f);
        self.stat(stat::FRAGMENTS_ORIGINATED, 1);
        let f = Arc::new(f);
        if let Some(g) = self.groups.get_mut(&gid) {
            g.history.record(f.fragment_id, 0);
        }
        self.disseminate(gid, f, bytes, &[]);
        self.send_client(client, FragmentAck.to_message());
    }

    /// Delivers a new fragment to local clients, caches it and sends it to every admitted
    /// child, except to those in `skip` (they got it as a replay answer already). Only members
    /// admitted before the fragment get it, here and below.
    fn disseminate(&mut self, gid: HashCode, f: Arc<Fragment>, bytes: Vec<u8>, skip: &[Requester]) {
        let mut clients = self.message_receivers(&gid, f.fragment_id);
        clients.retain(|c| !skip.contains(&Requester::Client(*c)));
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        g.history.cache(f.clone());
        let children: Vec<ChannelId> = g
            .children
            .iter()
            .copied()
            .filter(|c| !skip.contains(&Requester::Channel(*c)))
            .filter(|c| {
                self.channels
                    .get(c)
                    .is_some_and(|ch| ch.wants_fragment(f.fragment_id))
            })
            .collect();
        let hop = g.depth.saturating_add(1);
        let fits = f.wire_size() <= MAX_CADET_MESSAGE_SIZE;
        if !children.is_empty() && !fits {
            // Gap G2: CADET cannot carry it; C peers lose it silently, we count it.
            self.stat(stat::FRAGMENTS_TOO_LARGE, 1);
        }
        // One encoding for clients and one for children (the hop counter differs), each
        // cloned for all but its last receiver.
        let (for_clients, for_children) = match (clients.is_empty(), !children.is_empty() && fits) {
            (_, false) => (bytes, None),
            (true, true) => (Vec::new(), Some(bytes)),
            (false, true) => (bytes.clone(), Some(bytes)),
        };
        send_to_each(clients, for_clients, |c, m| self.send_client(c, m));
        if let Some(mut out) = for_children {
            Fragment::set_hop_counter(&mut out, hop);
            let sent = children.len();
            send_to_each(children, out, |ch, m| self.send_channel(ch, m));
            self.stat(stat::FRAGMENTS_FORWARDED, sent as i64);
        }
    }

    fn child_status(&self, ch: ChannelId) -> Option<ChildStatus> {
        match &self.channels.get(&ch)?.kind {
            ChannelKind::Down(c) => Some(c.status),
            ChannelKind::Up(_) => None,
        }
    }

    fn client_join_decision(&mut self, gid: HashCode, mut d: JoinDecision) {
        d.admitted_after = None;
        if d.decision.is_admitted == ADMITTED {
            if let Some(o) = self.groups.get_mut(&gid).and_then(|g| g.origin.as_mut()) {
                // A member admitted again keeps its first admission point.
                let after = o
                    .admitted
                    .get(&d.member_pub_key)
                    .map_or(o.last_fragment_id, |a| a.after);
                o.admitted.insert(
                    d.member_pub_key,
                    Admission {
                        decision: d.decision.clone(),
                        after,
                    },
                );
                d.admitted_after = Some(after);
            }
        }
        self.route_decision(gid, d);
    }

    /// Sends a decision where its join request came from: a local member, or the channel
    /// that carried the request (directly or forwarded). Only tree-capable children get the
    /// admission point with it; everyone on the way records it.
    fn route_decision(&mut self, gid: HashCode, mut d: JoinDecision) {
        let admitted = d.decision.is_admitted == ADMITTED;
        if admitted && d.admitted_after.is_none() {
            // From a C origin, which knows nothing of admission points: from now on.
            d.admitted_after = Some(self.local_head(&gid));
        }
        if d.peer == self.me {
            let local = self
                .groups
                .get(&gid)
                .is_some_and(|g| g.members.contains_key(&d.member_pub_key));
            if local {
                self.local_member_decided(gid, &d);
                return;
            }
        }
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let Some(p) = g.pending_joins.remove(&(d.peer, d.member_pub_key)) else {
            debug!("join decision without a pending join request");
            return;
        };
        let Some(chan) = self.channels.get_mut(&p.channel) else {
            return;
        };
        let ChannelKind::Down(child) = &mut chan.kind else {
            return;
        };
        let own = child.member_key == d.member_pub_key && child.peer == d.peer;
        if let (true, Some(after)) = (admitted, d.admitted_after) {
            child.subtree.insert(
                d.member_pub_key,
                SubtreeMember {
                    join: p.join.clone(),
                    admitted_after: after,
                },
            );
            child.earliest_admission = child.earliest_admission.min(after);
        }
        if own {
            child.status = if admitted {
                ChildStatus::Admitted
            } else {
                ChildStatus::Refused
            };
        }
        let with_mark = child.tree_capable;
        if p.forward_decision {
            let bytes = if with_mark {
                d.to_message()
            } else {
                d.without_mark().to_message()
            };
            self.send_channel(p.channel, bytes);
        }
        if own && !admitted {
            self.close_channel(p.channel, "join refused");
        }
    }

    /// The newest fragment id this node has seen of a group (0 before the first).
    fn local_head(&self, gid: &HashCode) -> u64 {
        self.groups
            .get(gid)
            .and_then(|g| g.history.head())
            .unwrap_or(0)
    }

    /// A decision for a member of this peer: its clients get it (the first admission, or a
    /// refusal), without the admission point.
    fn local_member_decided(&mut self, gid: HashCode, d: &JoinDecision) {
        let admitted = d.decision.is_admitted == ADMITTED;
        let Some(m) = self.member_mut(&gid, &d.member_pub_key) else {
            return;
        };
        let first = !m.was_admitted;
        let bytes = d.without_mark().to_message();
        if admitted {
            m.status = MemberStatus::Admitted;
            m.decision = Some(bytes.clone());
            if first {
                m.admitted_after = d.admitted_after.unwrap_or(0);
            } else if let Some(after) = d.admitted_after {
                // Re-admitted: an origin of ours sends the first admission point again; a
                // local guess made since (behind a C parent) never widens what we had.
                m.admitted_after = m.admitted_after.min(after);
            }
            m.was_admitted = true;
        } else {
            m.status = MemberStatus::Refused;
        }
        let clients: Vec<ClientId> = m.clients.iter().copied().collect();
        if first || !admitted {
            send_to_each(clients, bytes, |c, b| self.send_client(c, b));
        }
    }

    fn client_request(
        &mut self,
        client: ClientId,
        gid: HashCode,
        member: ecdsa::PublicKey,
        mut q: Request,
    ) {
        if q.wire_size() > FRAGMENT_MAX_SIZE {
            self.drop_client(
                client,
                format!("request fragment of {} bytes is too large", q.wire_size()),
            );
            return;
        }
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let local_origin = g.origin.is_some();
        let Some(m) = g.members.get_mut(&member) else {
            return;
        };
        if m.status != MemberStatus::Admitted {
            self.stat(stat::UNADMITTED_TRAFFIC, 1);
            self.send_client(client, FragmentAck.to_message());
            return;
        }
        m.request_counter = m.request_counter.wrapping_add(1);
        q.fragment_id = m.request_counter;
        let key = m.key.clone();
        self.crypto.sign_request(&key, &mut q);
        let bytes = q.to_message();
        if local_origin {
            self.deliver_to_origin_clients(gid, &bytes);
        } else {
            self.send_up(gid, bytes, stat::REQUESTS_UP);
        }
        self.send_client(client, FragmentAck.to_message());
    }

    fn deliver_to_origin_clients(&mut self, gid: HashCode, bytes: &[u8]) {
        let clients: Vec<ClientId> = self
            .groups
            .get(&gid)
            .and_then(|g| g.origin.as_ref())
            .map(|o| o.clients.iter().copied().collect())
            .unwrap_or_default();
        for c in clients {
            self.send_client(c, bytes.to_vec());
        }
    }

    /// Sends towards the origin on the primary uplink; counts `what` or a drop.
    fn send_up(&mut self, gid: HashCode, bytes: Vec<u8>, what: &'static str) -> bool {
        match self.primary_uplink(&gid) {
            Some(up) if bytes.len() <= MAX_CADET_MESSAGE_SIZE => {
                self.send_channel(up, bytes);
                self.stat(what, 1);
                true
            }
            _ => {
                self.stat(stat::REQUESTS_DROPPED, 1);
                false
            }
        }
    }

    fn client_replay_request(
        &mut self,
        now: Instant,
        client: ClientId,
        gid: HashCode,
        member: ecdsa::PublicKey,
        mut r: ReplayRequest,
    ) {
        r.member_pub_key = member;
        self.serve_replay(now, gid, r, Requester::Client(client));
    }

    fn client_replay_response(
        &mut self,
        now: Instant,
        client: ClientId,
        gid: HashCode,
        r: ReplayResponse,
        bytes: &[u8],
    ) {
        if r.error_code == ReplayError::Ok {
            let Some(raw) = r.fragment.as_ref() else {
                self.drop_client(client, "replay response without its fragment".into());
                return;
            };
            let f = match Fragment::from_message(raw) {
                Ok(f) => Arc::new(f),
                Err(e) => {
                    self.drop_client(client, format!("replayed fragment is malformed: {e}"));
                    return;
                }
            };
            let Some(g) = self.groups.get(&gid) else {
                return;
            };
            let signed = self.crypto.verify_fragment_message(&g.verifier, &f, raw);
            let requesters = g
                .pending_replays
                .get(&r.ids)
                .map(|p| p.requesters.clone())
                .unwrap_or_default();
            if signed {
                self.answer_requesters(gid, &requesters, &f, raw);
                if let Some(g) = self.groups.get_mut(&gid) {
                    g.history.cache(f);
                }
                return;
            }
            // Local clients get what their application gave (C's test_multicast answers with a
            // bare, unsigned fragment). Peers would drop it: they are told the replay failed,
            // and nothing unsigned enters the cache.
            warn!(
                client = client.0,
                "replay answer without a valid group signature"
            );
            self.stat(stat::INVALID_SIGNATURES, 1);
            let (local, remote): (Vec<Requester>, Vec<Requester>) = requesters
                .into_iter()
                .partition(|r| matches!(r, Requester::Client(_)));
            self.answer_requesters(gid, &local, &f, raw);
            for who in remote {
                if let Some(p) = self
                    .groups
                    .get_mut(&gid)
                    .and_then(|g| g.pending_replays.get_mut(&r.ids))
                {
                    p.requesters.retain(|q| *q != who);
                }
                self.reply_error(gid, r.ids, who, ReplayError::InternalError);
            }
        } else {
            self.fail_replay(now, gid, r.ids, bytes.to_vec());
        }
    }

    /// Sends fragment `f`, encoded as `bytes`, to replay requesters: as it is to clients, with
    /// our hop counter to channels (one encoding for all of them).
    fn answer_requesters(
        &mut self,
        gid: HashCode,
        requesters: &[Requester],
        f: &Fragment,
        bytes: &[u8],
    ) {
        let hop = self
            .groups
            .get(&gid)
            .map_or(1, |g| g.depth.saturating_add(1));
        let fits = f.wire_size() <= MAX_CADET_MESSAGE_SIZE;
        let mut for_channels: Option<Vec<u8>> = None;
        for r in requesters {
            match *r {
                Requester::Client(c) => self.send_client(c, bytes.to_vec()),
                Requester::Channel(ch) if fits => {
                    let out = for_channels
                        .get_or_insert_with(|| {
                            let mut out = bytes.to_vec();
                            Fragment::set_hop_counter(&mut out, hop);
                            out
                        })
                        .clone();
                    self.send_channel(ch, out);
                }
                Requester::Channel(_) | Requester::Myself => {}
            }
        }
    }

    /// A replay failed: tell the channels and clients that asked, and forget it.
    fn fail_replay(&mut self, now: Instant, gid: HashCode, ids: ReplayIds, response: Vec<u8>) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let Some(p) = g.pending_replays.remove(&ids) else {
            return;
        };
        for who in p.requesters {
            self.tell_failed(gid, ids, who, &response);
        }
        self.stat(stat::REPLAYS_FAILED, 1);
        self.next_rounds(now, gid, p.queued);
    }

    /// A replay round timed out: its requesters are told. It stays without them for one more
    /// timeout (a late answer ends it), then goes, and those queued behind it get rounds of
    /// their own.
    fn expire_replay(&mut self, now: Instant, gid: HashCode, ids: ReplayIds) {
        let generation = self.next_generation;
        self.next_generation += 1;
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let Some(p) = g.pending_replays.get_mut(&ids) else {
            return;
        };
        if p.expired {
            if p.requesters.contains(&Requester::Myself) {
                g.history.give_up(ids.fragment_id);
                g.probing = false;
            }
            if let Some(p) = g.pending_replays.remove(&ids) {
                self.next_rounds(now, gid, p.queued);
            }
            return;
        }
        p.expired = true;
        p.generation = generation;
        let requesters = std::mem::take(&mut p.requesters);
        let failed = replay_error(ids, ReplayError::InternalError);
        for who in requesters {
            self.tell_failed(gid, ids, who, &failed);
        }
        self.stat(stat::REPLAYS_FAILED, 1);
        self.arm_replay_timer(now, gid, ids, generation);
    }

    fn arm_replay_timer(&mut self, now: Instant, gid: HashCode, ids: ReplayIds, generation: u64) {
        self.set_timer(
            now,
            self.cfg.replay_timeout,
            Timer::ReplayExpire {
                group: gid,
                ids,
                generation,
            },
        );
    }

    /// A replay round is over: each requester queued behind it is served now (from the cache,
    /// or in a round of its own).
    fn next_rounds(
        &mut self,
        now: Instant,
        gid: HashCode,
        queued: VecDeque<(Requester, ReplayRequest)>,
    ) {
        for (who, r) in queued {
            self.serve_replay(now, gid, r, who);
        }
    }

    /// Whether member `key`, asking through `who`, was admitted before fragment `id` left the
    /// origin: only then may this node answer it from its cache or let it share another's
    /// answer. Otherwise the origin's application decides, as in the C original. Requests by
    /// message id (fragment id 0) never qualify before their fragment is known.
    fn admitted_before(
        &self,
        gid: &HashCode,
        who: Requester,
        key: &ecdsa::PublicKey,
        id: u64,
    ) -> bool {
        if id == 0 {
            return false;
        }
        match who {
            Requester::Myself => true,
            Requester::Client(_) => self
                .member(gid, key)
                .is_some_and(|m| m.status == MemberStatus::Admitted && m.admitted_after < id),
            Requester::Channel(ch) => match self.channels.get(&ch).map(|c| &c.kind) {
                Some(ChannelKind::Down(child)) => child
                    .subtree
                    .get(key)
                    .is_some_and(|m| m.admitted_after < id),
                _ => false,
            },
        }
    }

    /// Answers a replay request from the cache, or passes it towards the origin (or to an
    /// origin client) and remembers who asked. `r.member_pub_key` names the member asking.
    fn serve_replay(&mut self, now: Instant, gid: HashCode, r: ReplayRequest, who: Requester) {
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        // A member client on the origin's own peer is answered by the origin's application, as
        // in the C original (the application may refuse it, or answer differently).
        let origin_answers_locally = matches!(who, Requester::Client(_))
            && g.origin.as_ref().is_some_and(|o| !o.clients.is_empty());
        if let Some(f) = g.history.lookup(&r.ids).filter(|_| !origin_answers_locally) {
            if self.admitted_before(&gid, who, &r.member_pub_key, f.fragment_id) {
                self.stat(stat::REPLAYS_FROM_CACHE, 1);
                if f.wire_size() > MAX_CADET_MESSAGE_SIZE && matches!(who, Requester::Channel(_)) {
                    self.reply_error(gid, r.ids, who, ReplayError::InternalError);
                } else {
                    let bytes = f.to_message();
                    self.answer_requesters(gid, &[who], &f, &bytes);
                }
                return;
            }
            self.stat(stat::REPLAYS_BEFORE_ADMISSION, 1);
        }
        let shared = self.admitted_before(&gid, who, &r.member_pub_key, r.ids.fragment_id);
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if let Some(p) = g.pending_replays.get_mut(&r.ids) {
            // One channel may carry requests of several members: a requester is known by
            // channel and member.
            let member = r.member_pub_key;
            if p.admits(&member, shared) {
                if p.requesters.contains(&who) {
                    return;
                }
                if p.requesters.len() < MAX_QUEUED_REPLAYS {
                    p.requesters.push(who);
                    return;
                }
            } else {
                if p.is_queued(who, &member) {
                    return;
                }
                if p.queued.len() < MAX_QUEUED_REPLAYS {
                    p.queued.push_back((who, r));
                    return;
                }
            }
            self.reply_error(gid, r.ids, who, ReplayError::InternalError);
            return;
        }
        if g.pending_replays.len() >= self.cfg.max_pending_replays {
            self.reply_error(gid, r.ids, who, ReplayError::InternalError);
            return;
        }
        let origin_target = g.origin.as_ref().map(|o| {
            (
                o.clients.iter().next().copied(),
                r.ids.fragment_id > o.last_fragment_id,
            )
        });
        match origin_target {
            Some((_, true)) if matches!(who, Requester::Channel(_)) => {
                // Past the newest fragment: we know it does not exist. (Local member
                // clients still get their origin's own answer, as C's test_multicast expects.)
                self.reply_error(gid, r.ids, who, ReplayError::PastHead);
                return;
            }
            Some((Some(client), _)) => {
                // One client of this very group answers (gap G6 sent it to any group's).
                self.send_client(client, r.to_message());
            }
            Some((None, _)) => {
                self.reply_error(gid, r.ids, who, ReplayError::NotFound);
                return;
            }
            None => {
                if !self.send_up(gid, r.to_message(), stat::REPLAYS_FORWARDED) {
                    self.reply_error(gid, r.ids, who, ReplayError::NotFound);
                    return;
                }
            }
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        if let Some(g) = self.groups.get_mut(&gid) {
            g.pending_replays.insert(
                r.ids,
                PendingReplay::new(who, r.member_pub_key, shared, generation),
            );
        }
        self.arm_replay_timer(now, gid, r.ids, generation);
    }

    fn reply_error(&mut self, gid: HashCode, ids: ReplayIds, who: Requester, e: ReplayError) {
        self.tell_failed(gid, ids, who, &replay_error(ids, e));
        self.stat(stat::REPLAYS_FAILED, 1);
    }

    /// Tells `who` that its replay of `ids` failed, with `response`; this peer itself stops
    /// waiting for the fragment.
    fn tell_failed(&mut self, gid: HashCode, ids: ReplayIds, who: Requester, response: &[u8]) {
        match who {
            Requester::Client(c) => self.send_client(c, response.to_vec()),
            Requester::Channel(ch) => self.send_channel(ch, response.to_vec()),
            Requester::Myself => {
                if let Some(g) = self.groups.get_mut(&gid) {
                    g.history.give_up(ids.fragment_id);
                    g.probing = false;
                }
            }
        }
    }

    // ----------------------------------------------------------- joining up

    /// Starts (or restarts) attaching a local member: origin first, then the relays its
    /// client named.
    fn start_attach(&mut self, now: Instant, gid: HashCode, member: ecdsa::PublicKey) {
        let me = self.me;
        let Some(m) = self.member_mut(&gid, &member) else {
            return;
        };
        let mut targets: VecDeque<PeerIdentity> = VecDeque::new();
        for p in std::iter::once(m.origin).chain(m.relays.iter().copied()) {
            if p != me && !targets.contains(&p) {
                targets.push_back(p);
            }
        }
        m.targets = targets;
        self.try_next_target(now, gid, member);
    }

    /// Opens a channel to the next join target and sends our join request on it.
    fn try_next_target(&mut self, now: Instant, gid: HashCode, member: ecdsa::PublicKey) {
        let ch = self.new_channel_id();
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let port = g.port;
        let Some(m) = g.members.get_mut(&member) else {
            return;
        };
        let old = m.uplink.take();
        m.attached = false;
        m.attempt += 1;
        let attempt = m.attempt;
        let next = m.targets.pop_front();
        let join = m.join.clone();
        if let Some(old) = old {
            self.close_channel(old, "trying another parent");
        }
        let Some(peer) = next else {
            // Everyone failed: start over after a pause.
            self.set_timer(
                now,
                self.cfg.retry_delay,
                Timer::Reattach {
                    group: gid,
                    member,
                    attempt,
                },
            );
            return;
        };
        if let Some(m) = self.member_mut(&gid, &member) {
            m.uplink = Some(ch);
        }
        self.channels.insert(
            ch,
            Channel {
                group: gid,
                peer,
                kind: ChannelKind::Up(member),
            },
        );
        self.push(Action::OpenChannel {
            channel: ch,
            peer,
            port,
        });
        self.send_channel(ch, join);
        self.set_timer(
            now,
            self.cfg.join_timeout,
            Timer::JoinTimeout {
                group: gid,
                member,
                attempt,
            },
        );
    }

    /// A timer set earlier fired.
    pub fn handle_timeout(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::JoinTimeout {
                group,
                member,
                attempt,
            } => {
                let live = self
                    .member(&group, &member)
                    .is_some_and(|m| m.attempt == attempt && !m.attached);
                if live {
                    debug!("join attempt timed out, trying the next target");
                    self.try_next_target(now, group, member);
                }
            }
            Timer::Reattach {
                group,
                member,
                attempt,
            } => {
                let live = self.member(&group, &member).is_some_and(|m| {
                    m.attempt == attempt && !m.attached && m.status != MemberStatus::Refused
                });
                if live {
                    self.start_attach(now, group, member);
                }
            }
            Timer::ReplayExpire {
                group,
                ids,
                generation,
            } => {
                let expired = self
                    .groups
                    .get(&group)
                    .and_then(|g| g.pending_replays.get(&ids))
                    .is_some_and(|p| p.generation == generation);
                if expired {
                    self.expire_replay(now, group, ids);
                }
            }
        }
    }

    // ----------------------------------------------------------- channels

    /// CADET announced a channel that a peer opened to one of our ports. Returns the handle
    /// the logic will use for it (a `CloseChannel` follows at once if the port is unknown).
    pub fn handle_incoming_channel(
        &mut self,
        _now: Instant,
        peer: PeerIdentity,
        port: HashCode,
    ) -> ChannelId {
        let ch = self.new_channel_id();
        let Some(&gid) = self.ports.get(&port) else {
            self.push(Action::CloseChannel {
                channel: ch,
                reason: "no group on this port",
            });
            return ch;
        };
        self.channels.insert(
            ch,
            Channel {
                group: gid,
                peer,
                kind: ChannelKind::Down(Child {
                    status: ChildStatus::NotAsked,
                    member_key: ecdsa::PublicKey([0; 32]),
                    peer,
                    tree_capable: false,
                    subtree: HashMap::new(),
                    earliest_admission: u64::MAX,
                }),
            },
        );
        if let Some(g) = self.groups.get_mut(&gid) {
            g.children.insert(ch);
        }
        self.stat(stat::CHILDREN, 1);
        ch
    }

    /// The other end (or CADET) destroyed a channel.
    pub fn handle_channel_destroyed(&mut self, now: Instant, channel: ChannelId) {
        let Some(chan) = self.channels.get(&channel) else {
            return;
        };
        let gid = chan.group;
        let up_member = match &chan.kind {
            ChannelKind::Up(k) => Some(*k),
            ChannelKind::Down(_) => None,
        };
        let was_attached = up_member.and_then(|k| {
            let m = self.groups.get(&gid)?.members.get(&k)?;
            (m.uplink == Some(channel)).then_some(m.attached)
        });
        self.forget_channel(channel);
        let (Some(member), Some(was_attached)) = (up_member, was_attached) else {
            return;
        };
        let Some(m) = self.member_mut(&gid, &member) else {
            return;
        };
        match m.status {
            MemberStatus::Admitted if was_attached => {
                m.attempt += 1;
                let attempt = m.attempt;
                self.stat(stat::PARENTS_LOST, 1);
                let jitter_ms = self.cfg.reattach_jitter.as_millis() as u64;
                let delay = if jitter_ms == 0 {
                    Duration::ZERO
                } else {
                    Duration::from_millis(self.rng.next_u64() % jitter_ms)
                };
                if let Some(g) = self.groups.get_mut(&gid) {
                    g.probing = false;
                }
                self.set_timer(
                    now,
                    delay,
                    Timer::Reattach {
                        group: gid,
                        member,
                        attempt,
                    },
                );
            }
            MemberStatus::Refused => {}
            _ => self.try_next_target(now, gid, member),
        }
    }

    /// Drops every trace of a channel (it is gone or about to be closed).
    fn forget_channel(&mut self, channel: ChannelId) {
        let Some(chan) = self.channels.remove(&channel) else {
            return;
        };
        let Some(g) = self.groups.get_mut(&chan.group) else {
            return;
        };
        if let ChannelKind::Down(_) = chan.kind {
            g.children.remove(&channel);
            g.pending_joins.retain(|_, p| p.channel != channel);
            self.push(Action::Statistic {
                name: stat::CHILDREN,
                delta: -1,
            });
        }
        if let Some(g) = self.groups.get_mut(&chan.group) {
            for p in g.pending_replays.values_mut() {
                p.forget(Requester::Channel(channel));
            }
            for m in g.members.values_mut() {
                if m.uplink == Some(channel) {
                    m.uplink = None;
                    m.attached = false;
                }
            }
        }
    }

    /// A complete message (header included) arrived on a channel.
    pub fn handle_channel_message(&mut self, now: Instant, channel: ChannelId, bytes: &[u8]) {
        let Some(chan) = self.channels.get(&channel) else {
            return;
        };
        let up = matches!(chan.kind, ChannelKind::Up(_));
        let t = msg::message_type(bytes).unwrap_or(0);
        let msg = match Any::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.bad_channel_input(
                    channel,
                    "malformed message",
                    format!("type {t} size {}: {e}", bytes.len()),
                );
                return;
            }
        };
        match (up, msg) {
            (false, Any::JoinRequest(j)) => self.child_join(now, channel, j, bytes),
            (false, Any::Request(q)) => self.child_request(channel, q, bytes),
            (false, Any::ReplayRequest(r)) => self.child_replay_request(now, channel, r),
            // C origins accept these on their side of a channel; nothing to do with them.
            (false, Any::ReplayResponse(_)) => {}
            (true, Any::JoinDecision(d)) => self.parent_decision(now, channel, d),
            (true, Any::Fragment(f)) => self.parent_fragment(now, channel, f, bytes),
            (true, Any::ReplayResponse(r)) => {
                if let Some(gid) = self.channels.get(&channel).map(|c| c.group) {
                    if r.error_code != ReplayError::Ok {
                        self.fail_replay(now, gid, r.ids, bytes.to_vec());
                    }
                }
            }
            (true, Any::ReplayRequest(_)) => {}
            (true, Any::GroupEnd(_)) => self.parent_group_end(channel),
            (_, _) => self.bad_channel_input(
                channel,
                "unexpected message type",
                format!("type {t} size {}", bytes.len()),
            ),
        }
    }

    fn child_join(&mut self, _now: Instant, ch: ChannelId, j: JoinRequest, bytes: &[u8]) {
        let Some(chan) = self.channels.get(&ch) else {
            return;
        };
        let gid = chan.group;
        let chan_peer = chan.peer;
        let ChannelKind::Down(child) = &chan.kind else {
            return;
        };
        let status = child.status;
        let child_tree = child.tree_capable;
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        // Gap G14: the request must name the group of the port it came in on.
        if j.group_pub_key != g.pub_key {
            self.bad_channel_input(ch, "join request for another group", String::new());
            return;
        }
        if !self.crypto.verify_join(&j) {
            self.stat(stat::INVALID_SIGNATURES, 1);
            self.bad_channel_input(ch, "join request with a bad signature", String::new());
            return;
        }
        match status {
            ChildStatus::NotAsked => {
                if j.peer != chan_peer {
                    // Gap G14: the joiner must be the peer at the other end.
                    self.bad_channel_input(ch, "join request names another peer", String::new());
                    return;
                }
                let is_parent = g
                    .members
                    .values()
                    .filter_map(|m| m.uplink)
                    .any(|up| self.channels.get(&up).is_some_and(|c| c.peer == chan_peer));
                if j.tree_capable() && (is_parent || self.should_redirect(gid, ch)) {
                    self.redirect(gid, ch, &j);
                    return;
                }
                if let Some(ChannelKind::Down(child)) =
                    self.channels.get_mut(&ch).map(|c| &mut c.kind)
                {
                    child.status = ChildStatus::Waiting;
                    child.member_key = j.member_pub_key;
                    child.tree_capable = j.tree_capable();
                }
                self.route_join_up(gid, ch, &j, bytes.to_vec(), true);
            }
            ChildStatus::Waiting | ChildStatus::Admitted if child_tree => {
                // A join from the child's subtree, passing through it.
                self.route_join_up(gid, ch, &j, bytes.to_vec(), true);
            }
            _ => {
                // As in the C original a second join request on a channel ends it.
                self.bad_channel_input(ch, "second join request on a channel", String::new());
            }
        }
    }

    /// Whether this peer is full and has a child to send a tree-capable joiner to.
    fn should_redirect(&self, gid: HashCode, joining: ChannelId) -> bool {
        let Some(g) = self.groups.get(&gid) else {
            return false;
        };
        let taken = g
            .children
            .iter()
            .filter(|&&c| c != joining)
            .filter(|&&c| {
                matches!(
                    self.child_status(c),
                    Some(ChildStatus::Waiting | ChildStatus::Admitted)
                )
            })
            .count();
        taken >= self.cfg.max_children && !self.relay_candidates(gid).is_empty()
    }

    /// Children a joiner may be sent to: tree-capable ones that joined or are joining.
    fn relay_candidates(&self, gid: HashCode) -> Vec<PeerIdentity> {
        let Some(g) = self.groups.get(&gid) else {
            return Vec::new();
        };
        g.children
            .iter()
            .filter_map(|c| self.channels.get(c))
            .filter_map(|c| match &c.kind {
                ChannelKind::Down(child)
                    if child.tree_capable
                        && matches!(child.status, ChildStatus::Waiting | ChildStatus::Admitted) =>
                {
                    Some(child.peer)
                }
                _ => None,
            })
            .collect()
    }

    fn redirect(&mut self, gid: HashCode, ch: ChannelId, j: &JoinRequest) {
        let mut relays = self.relay_candidates(gid);
        relays.retain(|p| *p != j.peer);
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if !relays.is_empty() {
            let n = relays.len();
            relays.rotate_left(g.redirect_rr % n);
            g.redirect_rr = g.redirect_rr.wrapping_add(1);
        }
        relays.truncate(self.cfg.max_redirect_relays);
        if let Some(ChannelKind::Down(child)) = self.channels.get_mut(&ch).map(|c| &mut c.kind) {
            child.status = ChildStatus::Redirected;
            child.tree_capable = true;
        }
        let d = JoinDecision {
            peer: j.peer,
            member_pub_key: j.member_pub_key,
            decision: Decision {
                is_admitted: REDIRECT,
                relays,
                response: None,
            },
            admitted_after: None,
        };
        self.send_channel(ch, d.to_message());
        self.stat(stat::JOINS_REDIRECTED, 1);
    }

    /// Takes a join request towards the decision: the origin's stored decision, the origin
    /// clients, or our parent.
    fn route_join_up(
        &mut self,
        gid: HashCode,
        ch: ChannelId,
        j: &JoinRequest,
        bytes: Vec<u8>,
        forward_decision: bool,
    ) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        g.pending_joins.insert(
            (j.peer, j.member_pub_key),
            PendingJoin {
                channel: ch,
                forward_decision,
                join: bytes.clone(),
            },
        );
        if let Some(o) = g.origin.as_ref() {
            if let Some(a) = o.admitted.get(&j.member_pub_key).cloned() {
                // A member we admitted before, re-attaching: no need to ask again.
                self.stat(stat::JOINS_READMITTED, 1);
                let jd = JoinDecision {
                    peer: j.peer,
                    member_pub_key: j.member_pub_key,
                    decision: a.decision,
                    admitted_after: Some(a.after),
                };
                self.route_decision(gid, jd);
            } else {
                self.deliver_join_to_origin(gid, &bytes);
            }
            return;
        }
        if let Some(up) = self.primary_uplink(&gid) {
            self.send_channel(up, bytes);
            self.stat(stat::JOINS_FORWARDED, 1);
        }
        // Without an uplink the join waits in `pending_joins` until we attach.
    }

    fn child_request(&mut self, ch: ChannelId, q: Request, bytes: &[u8]) {
        let Some(chan) = self.channels.get(&ch) else {
            return;
        };
        let gid = chan.group;
        let ChannelKind::Down(child) = &chan.kind else {
            return;
        };
        // Admission at every hop: only admitted members reachable through this channel.
        if child.status != ChildStatus::Admitted || !child.subtree.contains_key(&q.member_pub_key) {
            warn!(
                channel = ch.0,
                "request from a member not admitted on this channel"
            );
            self.stat(stat::UNADMITTED_TRAFFIC, 1);
            return;
        }
        if !self.crypto.verify_request(&q) {
            warn!(channel = ch.0, "request with a bad signature dropped");
            self.stat(stat::INVALID_SIGNATURES, 1);
            return;
        }
        let local_origin = self.groups.get(&gid).is_some_and(|g| g.origin.is_some());
        if local_origin {
            self.deliver_to_origin_clients(gid, bytes);
        } else {
            self.send_up(gid, bytes.to_vec(), stat::REQUESTS_UP);
        }
    }

    fn child_replay_request(&mut self, now: Instant, ch: ChannelId, mut r: ReplayRequest) {
        let Some(chan) = self.channels.get(&ch) else {
            return;
        };
        let gid = chan.group;
        let ChannelKind::Down(child) = &chan.kind else {
            return;
        };
        if child.status != ChildStatus::Admitted {
            self.stat(stat::UNADMITTED_TRAFFIC, 1);
            return;
        }
        // The origin's application checks membership by this key: keep a subtree member's,
        // otherwise name the child (as the C original did).
        if !(child.tree_capable && child.subtree.contains_key(&r.member_pub_key)) {
            r.member_pub_key = child.member_key;
        }
        self.serve_replay(now, gid, r, Requester::Channel(ch));
    }

    fn parent_decision(&mut self, now: Instant, ch: ChannelId, mut d: JoinDecision) {
        let Some(chan) = self.channels.get(&ch) else {
            return;
        };
        let gid = chan.group;
        let ChannelKind::Up(own_key) = chan.kind else {
            return;
        };
        let own = d.peer == self.me && d.member_pub_key == own_key;
        if !own {
            // For a join we passed on.
            self.route_decision(gid, d);
            return;
        }
        if d.admitted_after.is_none() {
            // From a C parent, which knows nothing of admission points: from now on.
            d.admitted_after = Some(self.local_head(&gid));
        }
        let me = self.me;
        let Some(m) = self.member_mut(&gid, &own_key) else {
            return;
        };
        match d.decision.is_admitted {
            REDIRECT if !m.attached => {
                m.targets = d
                    .decision
                    .relays
                    .iter()
                    .copied()
                    .filter(|p| *p != me)
                    .collect();
                self.stat(stat::REDIRECTS_FOLLOWED, 1);
                self.try_next_target(now, gid, own_key);
            }
            ADMITTED => {
                m.attached = true;
                let reattach = m.was_admitted;
                let old_parent_ours = m.parent_is_ours;
                self.local_member_decided(gid, &d);
                self.after_attach(now, gid, reattach && old_parent_ours);
            }
            REDIRECT => {}
            _ => {
                self.local_member_decided(gid, &d);
                self.close_channel(ch, "join refused");
            }
        }
    }

    /// We (re-)attached: pass on joins that waited for us, announce our subtree again after a
    /// re-attach, and pull what we missed meanwhile.
    fn after_attach(&mut self, now: Instant, gid: HashCode, pull_gap: bool) {
        let Some(up) = self.primary_uplink(&gid) else {
            return;
        };
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        let mut to_send: Vec<Vec<u8>> = g
            .pending_joins
            .values()
            .filter(|p| p.forward_decision)
            .map(|p| p.join.clone())
            .collect();
        let mut reannounce: Vec<((PeerIdentity, ecdsa::PublicKey), PendingJoin)> = Vec::new();
        for &c in &g.children {
            if let Some(Channel {
                kind: ChannelKind::Down(child),
                ..
            }) = self.channels.get(&c)
            {
                if child.status != ChildStatus::Admitted {
                    continue;
                }
                for (key, member) in &child.subtree {
                    let join = &member.join;
                    let Ok(j) = JoinRequest::from_message(join) else {
                        continue;
                    };
                    if g.pending_joins.contains_key(&(j.peer, *key)) {
                        continue;
                    }
                    reannounce.push((
                        (j.peer, *key),
                        PendingJoin {
                            channel: c,
                            forward_decision: false,
                            join: join.clone(),
                        },
                    ));
                }
            }
        }
        to_send.extend(reannounce.iter().map(|(_, p)| p.join.clone()));
        if let Some(g) = self.groups.get_mut(&gid) {
            g.pending_joins.extend(reannounce);
        }
        for j in to_send {
            self.send_channel(up, j);
            self.stat(stat::JOINS_FORWARDED, 1);
        }
        if pull_gap {
            self.probe_next(now, gid);
        }
    }

    /// Asks the parent for the fragments after our newest one, to find out what we missed
    /// while detached. Ends at the first error (nothing more to fetch).
    fn probe_next(&mut self, now: Instant, gid: HashCode) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let Some(head) = g.history.head() else {
            return;
        };
        g.probing = true;
        let ids: Vec<u64> = (head.saturating_add(1)
            ..=head.saturating_add(self.cfg.probe_batch.max(1) as u64))
            .filter(|id| !g.history.is_requested(*id))
            .collect();
        for id in &ids {
            g.history.mark_requested(*id);
        }
        self.request_missing(now, gid, &ids);
    }

    fn request_missing(&mut self, now: Instant, gid: HashCode, ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        let Some(up) = self.primary_uplink(&gid) else {
            return;
        };
        let generation = self.next_generation;
        self.next_generation += 1;
        let mut timers = Vec::new();
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let mut sent = 0;
        for &id in ids {
            let rid = ReplayIds {
                fragment_id: id,
                ..Default::default()
            };
            if let Some(p) = g.pending_replays.get_mut(&rid) {
                if !p.requesters.contains(&Requester::Myself) {
                    p.requesters.push(Requester::Myself);
                }
                continue;
            }
            // Our parent answers as our own member (C parents by the channel's member).
            g.pending_replays.insert(
                rid,
                PendingReplay::new(
                    Requester::Myself,
                    ecdsa::PublicKey([0; 32]),
                    true,
                    generation,
                ),
            );
            let r = ReplayRequest {
                member_pub_key: ecdsa::PublicKey([0; 32]),
                ids: rid,
                uid: 0,
            };
            self.actions.push_back(Action::SendChannel {
                channel: up,
                msg: r.to_message(),
            });
            sent += 1;
            timers.push(rid);
        }
        if sent > 0 {
            self.stat(stat::GAP_REQUESTS, sent);
        }
        for ids in timers {
            self.arm_replay_timer(now, gid, ids, generation);
        }
    }

    /// A fragment from a parent; `bytes` is the message it was decoded from.
    fn parent_fragment(&mut self, now: Instant, ch: ChannelId, f: Fragment, bytes: &[u8]) {
        let Some(chan) = self.channels.get(&ch) else {
            return;
        };
        let gid = chan.group;
        let ChannelKind::Up(own_key) = chan.kind else {
            return;
        };
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        let admitted = g
            .members
            .get(&own_key)
            .is_some_and(|m| m.status == MemberStatus::Admitted);
        if !admitted {
            // Gap G14: C members took fragments before admission.
            self.stat(stat::UNADMITTED_TRAFFIC, 1);
            return;
        }
        if !self.crypto.verify_fragment_message(&g.verifier, &f, bytes) {
            warn!(
                channel = ch.0,
                "fragment with a bad group signature dropped"
            );
            self.stat(stat::INVALID_SIGNATURES, 1);
            return;
        }
        let origin_here = g.origin.is_some();
        if let Some(g) = self.groups.get_mut(&gid) {
            if !origin_here {
                g.depth = f.hop_counter.max(1);
            }
            if let Some(m) = g.members.get_mut(&own_key) {
                m.parent_is_ours = f.hop_counter > 0;
            }
        }
        self.accept_fragment(now, gid, Arc::new(f), bytes.to_vec());
    }

    /// A verified fragment from a parent, with `bytes` as it arrived: answer waiting replays,
    /// then (if new) deliver, cache, pass on and look for gaps.
    fn accept_fragment(&mut self, now: Instant, gid: HashCode, f: Arc<Fragment>, bytes: Vec<u8>) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let matched: Vec<ReplayIds> = g
            .pending_replays
            .keys()
            .filter(|ids| answers(ids, &f))
            .copied()
            .collect();
        let mut requesters = Vec::new();
        let mut queued = VecDeque::new();
        let mut was_probe = false;
        for ids in matched {
            if let Some(p) = g.pending_replays.remove(&ids) {
                was_probe |= p.requesters.contains(&Requester::Myself);
                requesters.extend(p.requesters);
                queued.extend(p.queued);
            }
        }
        let parent_ours = g.members.values().any(|m| m.attached && m.parent_is_ours);
        let seen = g.history.record(f.fragment_id, self.cfg.max_gap_request);
        let probing = g.probing;
        let still_probing = g
            .pending_replays
            .values()
            .any(|p| p.requesters.contains(&Requester::Myself));
        self.answer_requesters(gid, &requesters, &f, &bytes);
        match seen {
            Seen::Duplicate => self.stat(stat::DUPLICATE_FRAGMENTS, 1),
            Seen::New { missing } => {
                self.stat(stat::FRAGMENTS_RECEIVED, 1);
                self.disseminate(gid, f, bytes, &requesters);
                if parent_ours {
                    self.request_missing(now, gid, &missing);
                } else if let Some(g) = self.groups.get_mut(&gid) {
                    // Behind a C parent we never ask: its clients mishandle replays (G5).
                    for id in missing {
                        g.history.give_up(id);
                    }
                }
            }
        }
        self.next_rounds(now, gid, queued);
        if was_probe && probing && !still_probing {
            self.probe_next(now, gid);
        }
    }

    fn parent_group_end(&mut self, ch: ChannelId) {
        let Some(gid) = self.channels.get(&ch).map(|c| c.group) else {
            return;
        };
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        for m in g.members.values_mut() {
            m.status = MemberStatus::Refused;
            m.attached = false;
        }
        let ups: Vec<ChannelId> = g
            .members
            .values_mut()
            .filter_map(|m| m.uplink.take())
            .collect();
        for up in ups {
            self.close_channel(up, "group ended");
        }
        self.origin_stopped(gid);
    }
}
