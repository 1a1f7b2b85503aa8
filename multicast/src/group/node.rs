//! [`Node`]: one peer's multicast service as a sans-IO state machine.
//!
//! The node keeps the clients' roles, the table of CADET channels and one [`Group`] per group,
//! and hands each input to the part that owns it. A group is composed of sub-states, each in
//! its own file with its own tests:
//!
//! - [`OriginRole`] (with its [`Admissions`](super::origin::Admissions)) and the
//!   [`MemberRole`]s: the local roles;
//! - [`PendingJoins`] and the join routing of [`admission`](super::admission);
//! - [`Tree`]: the children and what goes down to them;
//! - [`ReplayRounds`] (in [`rounds`](super::rounds)) and the replay steps of
//!   [`replay`](super::replay);
//! - [`Repair`] and the attach, re-attach and gap pulling of [`repair`](super::repair);
//! - [`History`]: seen fragment ids and the replay cache.
//!
//! This file holds what ties them together: the inputs, the client roles, and the life cycles
//! of clients, channels and groups. Fragments and requests travel in [`tree`](super::tree).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
use gnunet_service::crypto::{ecdsa, eddsa, HashCode};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use rand_core::RngCore;
use tracing::warn;

use super::action::{stat, Action, ChannelId, ClientId, Outbox, Timer};
use super::admission::PendingJoins;
use super::config::Config;
use super::delay::{Delays, Privacy};
use super::deniable::Epochs;
use super::history::History;
use super::input::{ClientMessage, PeerMessage};
use super::member::{is_valid_member_key, MemberRole, MemberStatus};
use super::origin::OriginRole;
use super::repair::Repair;
use super::rounds::{ReplayRounds, Requester};
use super::tree::Tree;
use crate::crypto::GroupCrypto;
use crate::msg::{
    Decision, FragmentAck, GroupEnd, JoinDecision, JoinRequest, MemberJoin, OriginStart, PartAck,
    ReplayError, Request, FRAGMENT_MAX_SIZE, TREE_CAPABLE, UNDECIDED,
};
use crate::port::{group_id, port_of_group};

/// Which group role a client took with its first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Role {
    /// Connected, no ORIGIN_START / MEMBER_JOIN yet.
    None,
    /// An origin client of a group.
    Origin(HashCode),
    /// A member client of (group, member key).
    Member(HashCode, ecdsa::PublicKey),
    /// Sent a MEMBER_JOIN this service refused at once (an invalid member key) and was told
    /// so; it may only part.
    Refused,
    /// Sent PART_REQUEST; nothing more is accepted.
    Parted,
}

/// Which side of a channel we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// We opened it to join: it leads to our parent, for the member record of this key.
    Up(ecdsa::PublicKey),
    /// It came in on our port: a child (or would-be child), kept in the group's [`Tree`].
    Down,
}

/// A channel of ours.
#[derive(Debug)]
pub(super) struct Link {
    pub(super) group: HashCode,
    /// The peer at the other end.
    pub(super) peer: PeerIdentity,
    pub(super) side: Side,
}

/// One group's state on this peer.
#[derive(Debug)]
pub(super) struct Group<C: GroupCrypto> {
    pub(super) pub_key: eddsa::PublicKey,
    /// `pub_key` prepared for checking fragment signatures.
    pub(super) verifier: C::GroupVerifier,
    pub(super) port: HashCode,
    port_open: bool,
    pub(super) origin: Option<OriginRole<C::GroupSigner>>,
    pub(super) members: BTreeMap<ecdsa::PublicKey, MemberRole>,
    pub(super) tree: Tree,
    pub(super) history: History,
    pub(super) replays: ReplayRounds,
    pub(super) joins: PendingJoins,
    pub(super) repair: Repair,
    /// Epoch keys of deniable fragments.
    pub(super) epochs: Epochs<C>,
}

impl<C: GroupCrypto> Group<C> {
    fn new(pub_key: eddsa::PublicKey, verifier: C::GroupVerifier, cfg: &Config) -> Self {
        Self {
            pub_key,
            verifier,
            port: port_of_group(&pub_key),
            port_open: false,
            origin: None,
            members: BTreeMap::new(),
            tree: Tree::new(),
            history: History::new(cfg.replay_cache, cfg.replay_cache_bytes, cfg.dedup_window),
            replays: ReplayRounds::default(),
            joins: PendingJoins::default(),
            repair: Repair::default(),
            epochs: Epochs::default(),
        }
    }

    /// Clients that receive fragment `id`: origin clients, and those of members admitted
    /// before it.
    pub(super) fn message_receivers(&self, id: u64) -> Vec<ClientId> {
        let mut out: Vec<ClientId> = self.origin_clients();
        for m in self.members.values().filter(|m| m.receives(id)) {
            out.extend(m.clients.iter().copied());
        }
        out
    }

    /// The origin clients of the group on this peer.
    pub(super) fn origin_clients(&self) -> Vec<ClientId> {
        self.origin
            .iter()
            .flat_map(|o| o.clients.iter().copied())
            .collect()
    }

    /// The uplink requests and forwarded joins go up: the first attached member's.
    pub(super) fn primary_uplink(&self) -> Option<ChannelId> {
        self.members
            .values()
            .filter(|m| m.attached)
            .find_map(|m| m.uplink)
            .or_else(|| self.members.values().find_map(|m| m.uplink))
    }

    /// The newest fragment id this node has seen of the group (0 before the first).
    pub(super) fn head(&self) -> u64 {
        self.history.head().unwrap_or(0)
    }
}

/// The multicast service of one peer, without IO.
///
/// Feed it with the `handle_*` methods (messages decoded by the driver, see
/// [`ClientMessage`] and [`PeerMessage`]); after each call drain [`Node::poll_action`] and
/// carry the actions out in order. Generic over the signature scheme `C` (real crypto in the
/// service) and the random source `R` (only used to spread re-attach times).
pub struct Node<C: GroupCrypto, R> {
    pub(super) me: PeerIdentity,
    pub(super) cfg: Config,
    pub(super) crypto: C,
    pub(super) rng: R,
    pub(super) groups: HashMap<HashCode, Group<C>>,
    /// Open ports → their group.
    ports: HashMap<HashCode, HashCode>,
    pub(super) clients: HashMap<ClientId, Role>,
    pub(super) links: HashMap<ChannelId, Link>,
    next_channel: u64,
    next_generation: u64,
    pub(super) out: Outbox,
    /// The privacy knobs in force (see [`Node::set_privacy`]).
    pub(super) privacy: Privacy,
    /// Responses and forwards held for their delays.
    pub(super) delays: Delays,
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
            links: HashMap::new(),
            next_channel: 1,
            next_generation: 1,
            out: Outbox::default(),
            privacy: Privacy::default(),
            delays: Delays::default(),
        }
    }

    /// Our peer identity.
    pub fn peer(&self) -> PeerIdentity {
        self.me
    }

    /// The next action to carry out, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.out.pop()
    }

    /// Drains every pending action.
    pub fn drain_actions(&mut self) -> Vec<Action> {
        self.out.drain()
    }

    /// Number of children attached in `group` (for tests and the simulator).
    pub fn child_count(&self, group: &eddsa::PublicKey) -> usize {
        self.groups
            .get(&group_id(group))
            .map_or(0, |g| g.tree.len())
    }

    /// Whether some local member of `group` is admitted and attached to a parent.
    pub fn is_attached(&self, group: &eddsa::PublicKey) -> bool {
        self.groups
            .get(&group_id(group))
            .is_some_and(|g| g.members.values().any(|m| m.attached))
    }

    // ----------------------------------------------------------------- helpers

    pub(super) fn drop_client(&mut self, client: ClientId, reason: String) {
        warn!(client = client.0, %reason, "dropping multicast client");
        self.out.stat(stat::CLIENTS_DROPPED, 1);
        self.out.push(Action::DropClient { client, reason });
        self.forget_client(client);
    }

    /// Closes a channel we no longer want, forgetting it first.
    pub(super) fn close_channel(&mut self, channel: ChannelId, reason: &'static str) {
        self.forget_channel(channel);
        self.out.push(Action::CloseChannel { channel, reason });
    }

    pub(super) fn bad_channel_input(
        &mut self,
        channel: ChannelId,
        reason: &'static str,
        what: String,
    ) {
        warn!(channel = channel.0, %what, reason, "closing multicast channel");
        self.out.stat(stat::CHANNELS_CLOSED_BAD_INPUT, 1);
        self.close_channel(channel, reason);
    }

    pub(super) fn new_channel_id(&mut self) -> ChannelId {
        let id = ChannelId(self.next_channel);
        self.next_channel += 1;
        id
    }

    /// A fresh number for a replay round's timer.
    pub(super) fn next_generation(&mut self) -> u64 {
        let g = self.next_generation;
        self.next_generation += 1;
        g
    }

    /// The local member record of `key` in group `gid`.
    pub(super) fn member(&self, gid: &HashCode, key: &ecdsa::PublicKey) -> Option<&MemberRole> {
        self.groups.get(gid)?.members.get(key)
    }

    pub(super) fn member_mut(
        &mut self,
        gid: &HashCode,
        key: &ecdsa::PublicKey,
    ) -> Option<&mut MemberRole> {
        self.groups.get_mut(gid)?.members.get_mut(key)
    }

    /// The id of the group of `pub_key`, created if new.
    fn ensure_group(&mut self, pub_key: eddsa::PublicKey) -> HashCode {
        let gid = group_id(&pub_key);
        if !self.groups.contains_key(&gid) {
            let g = Group::new(pub_key, self.crypto.group_verifier(&pub_key), &self.cfg);
            self.groups.insert(gid, g);
        }
        gid
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
        self.out.push(Action::OpenPort { port });
    }

    // ------------------------------------------------------------ client side

    /// A client connected (optional: unknown clients are created on their first message).
    pub fn handle_client_connected(&mut self, client: ClientId) {
        self.clients.entry(client).or_insert(Role::None);
    }

    /// A message from a client, decoded by the driver.
    pub fn handle_client_message(&mut self, now: Instant, client: ClientId, msg: ClientMessage) {
        let role = self.clients.entry(client).or_insert(Role::None).clone();
        let t = msg.msg_type();
        match (role, msg) {
            (Role::None, ClientMessage::OriginStart(m)) => self.client_origin_start(client, m),
            (Role::None, ClientMessage::MemberJoin(m)) => self.client_member_join(now, client, m),
            (Role::Parted, _) => {
                self.drop_client(client, format!("message type {t} after PART_REQUEST"))
            }
            (Role::None, _) => self.drop_client(
                client,
                format!("message type {t} before ORIGIN_START or MEMBER_JOIN"),
            ),
            (_, ClientMessage::PartRequest) => {
                self.out.send_client(client, PartAck.to_message());
                self.forget_client(client);
                self.clients.insert(client, Role::Parted);
            }
            (Role::Origin(gid), ClientMessage::Fragment(f)) => {
                self.client_fragment(now, client, gid, f)
            }
            (Role::Origin(gid), ClientMessage::JoinDecision(d)) => {
                self.client_join_decision(gid, d)
            }
            (Role::Origin(gid), ClientMessage::ReplayResponse { response, fragment }) => {
                self.client_replay_response(now, client, (gid, None), response, fragment)
            }
            (Role::Member(gid, key), ClientMessage::ReplayResponse { response, fragment }) => {
                self.client_replay_response(now, client, (gid, Some(key)), response, fragment)
            }
            (Role::Origin(gid), ClientMessage::ReplayResponseEnd(r)) => {
                self.client_replay_end(now, client, (gid, None), r.ids)
            }
            (Role::Member(gid, key), ClientMessage::ReplayResponseEnd(r)) => {
                self.client_replay_end(now, client, (gid, Some(key)), r.ids)
            }
            (Role::Member(gid, key), ClientMessage::Request(q)) => {
                self.client_request(client, gid, key, q)
            }
            (Role::Member(gid, key), ClientMessage::ReplayRequest(r)) => {
                self.client_replay_request(now, client, gid, key, r)
            }
            (_, msg) => self.drop_client(
                client,
                format!(
                    "message type {t} size {} not allowed for this client's role",
                    msg.wire_size()
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
        g.replays.forget(Requester::Client(client));
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
                    if let Some(up) = g.members.remove(&key).and_then(|m| m.uplink) {
                        self.close_channel(up, "member parted");
                    }
                    self.maybe_drop_group(gid);
                }
            }
            _ => {}
        }
    }

    /// The last origin client left: the group ends for everyone below us.
    fn origin_stopped(&mut self, gid: HashCode) {
        let children = self
            .groups
            .get(&gid)
            .map(|g| g.tree.channels())
            .unwrap_or_default();
        for ch in children {
            let tree_capable = self
                .groups
                .get(&gid)
                .is_some_and(|g| g.tree.is_tree_capable(ch));
            if tree_capable {
                self.out.send_channel(ch, GroupEnd.to_message());
            }
            self.close_channel(ch, "group ended");
        }
        self.maybe_drop_group(gid);
    }

    /// Removes a group nobody on this peer plays a role in any more.
    fn maybe_drop_group(&mut self, gid: HashCode) {
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        if g.origin.is_some() || !g.members.is_empty() {
            return;
        }
        for ch in g.tree.channels() {
            self.close_channel(ch, "no member left on this peer");
        }
        if let Some(g) = self.groups.remove(&gid) {
            if g.port_open {
                self.ports.remove(&g.port);
                self.out.push(Action::ClosePort { port: g.port });
            }
        }
    }

    fn client_origin_start(&mut self, client: ClientId, m: OriginStart) {
        let signer = self.crypto.group_signer(&m.group_key);
        let pub_key = self.crypto.group_public(&signer);
        let gid = self.ensure_group(pub_key);
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if g.origin.is_none() {
            g.origin = Some(OriginRole::new(signer, m.max_fragment_id));
            g.epochs.set_secret(m.group_key.clone());
            g.tree.set_depth(0);
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
        let me = self.me;
        if !is_valid_member_key(&m.member_key) {
            let why = "MEMBER_JOIN with a member key that is not a valid (clamped) key refused";
            self.refuse_join(client, member, why, stat::INVALID_MEMBER_KEYS);
            return;
        }
        let gid = self.ensure_group(m.group_pub_key);
        self.clients.insert(client, Role::Member(gid, member));
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if let Some(rec) = g.members.get_mut(&member) {
            // Another client of an existing member: give it the stored decision (the whole
            // outer+inner message, unlike the C original, gap G9); never ask again (G16).
            rec.clients.insert(client);
            if let Some(d) = rec.decision.clone() {
                self.out.send_client(client, d);
            }
            return;
        }
        let mut join = JoinRequest {
            reserved: TREE_CAPABLE,
            ..JoinRequest::unsigned(m.group_pub_key, member, me, m.join_msg)
        };
        let local_origin = g.origin.is_some();
        if !local_origin && join.wire_size() > MAX_CADET_MESSAGE_SIZE {
            // Its join request could never reach the origin (C lost it in CADET silently).
            let why = "MEMBER_JOIN with a join message too large for CADET refused";
            self.refuse_join(client, member, why, stat::JOINS_TOO_LARGE);
            self.maybe_drop_group(gid);
            return;
        }
        self.crypto.sign_join(&m.member_key, &mut join);
        // The JOIN_REQUEST is 72 bytes larger than the MEMBER_JOIN's fixed part: a join
        // message that fit the client's MEMBER_JOIN may not fit it, even for a local origin.
        let Ok(join_bytes) = join.try_to_message() else {
            let why = "MEMBER_JOIN with a join message too large for a JOIN_REQUEST refused";
            self.refuse_join(client, member, why, stat::JOINS_TOO_LARGE_FOR_REQUEST);
            self.maybe_drop_group(gid);
            return;
        };
        g.members.insert(
            member,
            MemberRole::new(m.member_key, m.origin, m.relays, join_bytes.clone(), client),
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
            self.out.stat(stat::UNADMITTED_TRAFFIC, 1);
            self.out.send_client(client, FragmentAck.to_message());
            return;
        }
        q.fragment_id = m.next_request_id();
        self.crypto.sign_request(&m.key, &mut q);
        let own_uplink = m.uplink.filter(|_| m.attached);
        let bytes = q.to_message();
        if local_origin {
            self.deliver_to_origin_clients(gid, &bytes);
        } else {
            // On the member's own uplink: the parent admitted it on that channel.
            self.send_up_on(gid, own_uplink, bytes, stat::REQUESTS_UP);
        }
        self.out.send_client(client, FragmentAck.to_message());
    }

    /// A MEMBER_JOIN that can never succeed: its member key is one libgnunetutil would never
    /// make, so no peer accepts its signatures (see [`is_valid_member_key`]), or its join
    /// request cannot cross CADET. Rather than retry in vain, the client is told at once
    /// with the decision the C client library reports as "could not answer"
    /// (`GNUNET_SYSERR`, no relays, no response): it handles that without reconnecting, where
    /// a dropped client would reconnect and send the same MEMBER_JOIN again. Afterwards the
    /// client may only part. `why` is logged, `statistic` counted.
    fn refuse_join(
        &mut self,
        client: ClientId,
        member: ecdsa::PublicKey,
        why: &'static str,
        statistic: &'static str,
    ) {
        warn!(client = client.0, "{why}");
        self.out.stat(statistic, 1);
        let refusal = JoinDecision {
            peer: self.me,
            member_pub_key: member,
            decision: Decision {
                is_admitted: UNDECIDED,
                relays: vec![],
                response: None,
            },
            admitted_after: None,
        };
        self.out.send_client(client, refusal.to_message());
        self.clients.insert(client, Role::Refused);
    }

    pub(super) fn deliver_to_origin_clients(&mut self, gid: HashCode, bytes: &[u8]) {
        let clients = self
            .groups
            .get(&gid)
            .map(|g| g.origin_clients())
            .unwrap_or_default();
        for c in clients {
            self.out.send_client(c, bytes.to_vec());
        }
    }

    /// A timer set earlier fired.
    pub fn handle_timeout(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::JoinTimeout {
                group,
                member,
                attempt,
            } => self.join_timer(now, group, member, attempt),
            Timer::Reattach {
                group,
                member,
                attempt,
            } => self.reattach_timer(now, group, member, attempt),
            Timer::ReplayExpire {
                group,
                ids,
                generation,
            } => self.replay_timer(now, group, ids, generation),
            Timer::Respond { seq } => self.respond_timer(seq),
            Timer::HopRelease { channel, at } => self.hop_timer(now.max(at), channel),
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
            self.out.push(Action::CloseChannel {
                channel: ch,
                reason: "no group on this port",
            });
            return ch;
        };
        self.links.insert(
            ch,
            Link {
                group: gid,
                peer,
                side: Side::Down,
            },
        );
        if let Some(g) = self.groups.get_mut(&gid) {
            g.tree.accept(ch, peer);
        }
        self.out.stat(stat::CHILDREN, 1);
        ch
    }

    /// The other end (or CADET) destroyed a channel.
    pub fn handle_channel_destroyed(&mut self, now: Instant, channel: ChannelId) {
        let Some(link) = self.links.get(&channel) else {
            return;
        };
        let gid = link.group;
        let up_member = match link.side {
            Side::Up(k) => Some(k),
            Side::Down => None,
        };
        let was_attached = up_member.and_then(|k| {
            let m = self.member(&gid, &k)?;
            (m.uplink == Some(channel)).then_some(m.attached)
        });
        self.forget_channel(channel);
        if let (Some(member), Some(was_attached)) = (up_member, was_attached) {
            self.uplink_lost(now, gid, member, was_attached);
        }
    }

    /// Drops every trace of a channel (it is gone or about to be closed).
    fn forget_channel(&mut self, channel: ChannelId) {
        self.delays.forget_channel(channel);
        let Some(link) = self.links.remove(&channel) else {
            return;
        };
        let Some(g) = self.groups.get_mut(&link.group) else {
            return;
        };
        if link.side == Side::Down {
            g.tree.remove(channel);
            g.joins.forget_channel(channel);
            self.out.stat(stat::CHILDREN, -1);
        }
        g.replays.forget(Requester::Channel(channel));
        for m in g.members.values_mut() {
            m.lose_uplink(channel);
        }
    }

    /// A message that arrived on a channel, decoded by the driver.
    pub fn handle_channel_message(
        &mut self,
        now: Instant,
        channel: ChannelId,
        msg: PeerMessage<'_>,
    ) {
        let Some(link) = self.links.get(&channel) else {
            return;
        };
        let (gid, up) = (link.group, matches!(link.side, Side::Up(_)));
        match (up, msg) {
            (false, PeerMessage::JoinRequest { join, raw }) => {
                self.child_join(now, channel, join, raw)
            }
            (false, PeerMessage::Request { request, raw }) => {
                self.child_request(channel, request, raw)
            }
            (false, PeerMessage::ReplayRequest(r)) => self.child_replay_request(now, channel, r),
            // C origins accept these on their side of a channel; nothing to do with them.
            (false, PeerMessage::ReplayResponse { .. }) => {}
            (true, PeerMessage::JoinDecision(d)) => self.parent_decision(now, channel, d),
            (true, PeerMessage::Fragment { fragment, raw }) => {
                self.parent_fragment(now, channel, fragment, raw)
            }
            (true, PeerMessage::ReplayResponse { response, raw }) => {
                if response.error_code != ReplayError::Ok {
                    self.fail_replay(now, gid, response.ids, raw.to_vec());
                }
            }
            (true, PeerMessage::ReplayRequest(_)) => {}
            (true, PeerMessage::GroupEnd) => self.parent_group_end(now, channel),
            (_, msg) => self.bad_channel_input(
                channel,
                "unexpected message type",
                format!("type {} size {}", msg.msg_type(), msg.wire_size()),
            ),
        }
    }

    /// Our parent ended the group: its origin stopped. Our children hear it from us. The
    /// members on this peer are not refused: they attach again after
    /// [`Config::retry_delay`](super::Config::retry_delay), and go on trying with that pause
    /// between rounds while their clients keep them, so a group whose origin comes back (a
    /// host whose service restarted after a crash) goes on. The C service marked them
    /// refused, and they stayed out of the group for good.
    fn parent_group_end(&mut self, now: Instant, ch: ChannelId) {
        let Some(gid) = self.links.get(&ch).map(|l| l.group) else {
            return;
        };
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let mut ups = Vec::new();
        let mut retries = Vec::new();
        for (key, m) in g.members.iter_mut() {
            ups.extend(m.uplink.take());
            m.attached = false;
            if m.status != MemberStatus::Refused {
                retries.push((*key, m.lost_parent()));
            }
        }
        for up in ups {
            self.close_channel(up, "group ended");
        }
        for (member, attempt) in retries {
            self.out.set_timer(
                now,
                self.cfg.retry_delay,
                Timer::Reattach {
                    group: gid,
                    member,
                    attempt,
                },
            );
        }
        self.origin_stopped(gid);
    }
}
