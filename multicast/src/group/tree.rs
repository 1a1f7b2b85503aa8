//! The forwarding tree below this peer: the children of a group (incoming channels), who is
//! admitted behind each, which children a fragment goes to, and where a full peer redirects
//! joiners; and the [`Node`] steps that move fragments down the tree and requests up.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
use gnunet_service::crypto::{ecdsa, HashCode};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use rand_core::RngCore;
use tracing::{debug, warn};

use super::action::{stat, ChannelId, ClientId};
use super::history::Seen;
use super::member::MemberStatus;
use super::node::{Node, Side};
use super::rounds::Requester;
use crate::crypto::GroupCrypto;
use crate::msg::{Fragment, FragmentAck, Request, FRAGMENT_MAX_SIZE, JOIN_DECISION_HEADER_SIZE};

/// Most relays one redirect can name and still fit a CADET message.
const MAX_REDIRECT_RELAYS: usize = (MAX_CADET_MESSAGE_SIZE - JOIN_DECISION_HEADER_SIZE) / 32;

/// Join status of a child channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChildStatus {
    /// No join request on it yet.
    NotAsked,
    /// Its join request went up; no decision yet.
    Waiting,
    Admitted,
    Refused,
    /// Sent on to other relays.
    Redirected,
}

/// An incoming channel: a child (or would-be child).
#[derive(Debug)]
pub(super) struct Child {
    pub(super) status: ChildStatus,
    /// The member key of the child's own join request.
    pub(super) member_key: ecdsa::PublicKey,
    /// The peer at the other end.
    pub(super) peer: PeerIdentity,
    /// Whether it follows redirects and relays (it set the tree flag).
    pub(super) tree_capable: bool,
    /// Admitted members reachable through this channel.
    subtree: HashMap<ecdsa::PublicKey, SubtreeMember>,
    /// The smallest `admitted_after` in `subtree`: fragments up to it go down this channel
    /// only as answers to replays.
    earliest_admission: u64,
}

/// An admitted member reachable through a child channel.
#[derive(Debug, Clone)]
pub(super) struct SubtreeMember {
    /// Its peer.
    pub(super) peer: PeerIdentity,
    /// Its join request, to announce it again when we re-attach.
    pub(super) join: Vec<u8>,
    /// Its admission point (see [`JoinDecision::admitted_after`](crate::msg::JoinDecision)).
    admitted_after: u64,
}

impl Child {
    fn new(peer: PeerIdentity) -> Self {
        Self {
            status: ChildStatus::NotAsked,
            member_key: ecdsa::PublicKey([0; 32]),
            peer,
            tree_capable: false,
            subtree: HashMap::new(),
            earliest_admission: u64::MAX,
        }
    }

    /// Whether fragment `id` goes down this channel: the child is admitted, and a member
    /// below was admitted before the fragment.
    pub(super) fn wants_fragment(&self, id: u64) -> bool {
        self.status == ChildStatus::Admitted && self.earliest_admission < id
    }

    /// Whether the child is admitted and `member` is admitted behind it: only then may
    /// requests of that member come up this channel.
    pub(super) fn carries(&self, member: &ecdsa::PublicKey) -> bool {
        self.status == ChildStatus::Admitted && self.subtree.contains_key(member)
    }

    /// Whether `member`, behind this child, was admitted before fragment `id`.
    pub(super) fn admitted_before(&self, member: &ecdsa::PublicKey, id: u64) -> bool {
        self.subtree
            .get(member)
            .is_some_and(|m| m.admitted_after < id)
    }

    /// The member a replay request that names `member` is made for: the origin's
    /// application checks membership by it. A tree-capable child speaks for the members
    /// behind it; otherwise it is the child's own member (as the C original did).
    pub(super) fn replay_member(&self, member: ecdsa::PublicKey) -> ecdsa::PublicKey {
        if self.tree_capable && self.subtree.contains_key(&member) {
            member
        } else {
            self.member_key
        }
    }

    /// The child's own join request (for `member`) went up; its decision is awaited.
    pub(super) fn asked(&mut self, member: ecdsa::PublicKey, tree_capable: bool) {
        self.status = ChildStatus::Waiting;
        self.member_key = member;
        self.tree_capable = tree_capable;
    }

    /// Whether a decision for `member` of `peer` is the one on the child's own join.
    pub(super) fn is_own(&self, peer: &PeerIdentity, member: &ecdsa::PublicKey) -> bool {
        self.member_key == *member && self.peer == *peer
    }

    /// Records `member` of `peer` (which joined with `join`) as admitted behind this child
    /// since `after`.
    pub(super) fn admit(
        &mut self,
        member: ecdsa::PublicKey,
        peer: PeerIdentity,
        join: Vec<u8>,
        after: u64,
    ) {
        self.subtree.insert(
            member,
            SubtreeMember {
                peer,
                join,
                admitted_after: after,
            },
        );
        self.earliest_admission = self.earliest_admission.min(after);
    }

    /// The decision on the child's own join arrived.
    pub(super) fn settle(&mut self, admitted: bool) {
        self.status = if admitted {
            ChildStatus::Admitted
        } else {
            ChildStatus::Refused
        };
    }

    /// Whether it holds one of our places: joined or joining.
    fn holds_place(&self) -> bool {
        matches!(self.status, ChildStatus::Waiting | ChildStatus::Admitted)
    }
}

/// The children of one group on this peer, and our place in the tree.
#[derive(Debug)]
pub(super) struct Tree {
    children: BTreeMap<ChannelId, Child>,
    /// Our distance from the origin (0 at the origin).
    depth: u32,
    /// Rotates the relays named in redirects.
    redirect_rr: usize,
}

impl Tree {
    /// No children yet, one hop below an origin until fragments tell otherwise.
    pub(super) fn new() -> Self {
        Self {
            children: BTreeMap::new(),
            depth: 1,
            redirect_rr: 0,
        }
    }

    /// A channel came in on the group's port from `peer`.
    pub(super) fn accept(&mut self, channel: ChannelId, peer: PeerIdentity) {
        self.children.insert(channel, Child::new(peer));
    }

    /// Forgets a child channel; whether it was one.
    pub(super) fn remove(&mut self, channel: ChannelId) -> bool {
        self.children.remove(&channel).is_some()
    }

    pub(super) fn get(&self, channel: ChannelId) -> Option<&Child> {
        self.children.get(&channel)
    }

    pub(super) fn get_mut(&mut self, channel: ChannelId) -> Option<&mut Child> {
        self.children.get_mut(&channel)
    }

    /// Number of children.
    pub(super) fn len(&self) -> usize {
        self.children.len()
    }

    /// Every child channel, in order.
    pub(super) fn channels(&self) -> Vec<ChannelId> {
        self.children.keys().copied().collect()
    }

    /// Whether `channel` is a child that follows redirects (and understands GROUP_END).
    pub(super) fn is_tree_capable(&self, channel: ChannelId) -> bool {
        self.children.get(&channel).is_some_and(|c| c.tree_capable)
    }

    /// Sets our distance from the origin (0: we are the origin).
    pub(super) fn set_depth(&mut self, depth: u32) {
        self.depth = depth;
    }

    /// The hop counter of what we send down: our children's depth.
    pub(super) fn hop(&self) -> u32 {
        self.depth.saturating_add(1)
    }

    /// The children fragment `id` goes to, in order, except those `skip` names.
    pub(super) fn fragment_receivers(
        &self,
        id: u64,
        skip: impl Fn(ChannelId) -> bool,
    ) -> Vec<ChannelId> {
        self.children
            .iter()
            .filter(|(ch, child)| !skip(**ch) && child.wants_fragment(id))
            .map(|(ch, _)| *ch)
            .collect()
    }

    /// Whether we are full (`max_children` places taken by others than `joining`) and have a
    /// child to send a tree-capable joiner to.
    pub(super) fn should_redirect(&self, joining: ChannelId, max_children: usize) -> bool {
        let taken = self
            .children
            .iter()
            .filter(|(ch, child)| **ch != joining && child.holds_place())
            .count();
        taken >= max_children && !self.relay_candidates().is_empty()
    }

    /// Children a joiner may be sent to: tree-capable ones that joined or are joining.
    fn relay_candidates(&self) -> Vec<PeerIdentity> {
        self.children
            .values()
            .filter(|c| c.tree_capable && c.holds_place())
            .map(|c| c.peer)
            .collect()
    }

    /// Redirects the joiner `joiner` on `channel`: returns at most `max` relays to name,
    /// rotated round-robin so that joiners spread, and marks the channel redirected.
    pub(super) fn redirect(
        &mut self,
        channel: ChannelId,
        joiner: &PeerIdentity,
        max: usize,
    ) -> Vec<PeerIdentity> {
        let mut relays = self.relay_candidates();
        relays.retain(|p| p != joiner);
        if !relays.is_empty() {
            let n = relays.len();
            relays.rotate_left(self.redirect_rr % n);
            self.redirect_rr = self.redirect_rr.wrapping_add(1);
        }
        relays.truncate(max.min(MAX_REDIRECT_RELAYS));
        if let Some(child) = self.children.get_mut(&channel) {
            child.status = ChildStatus::Redirected;
            child.tree_capable = true;
        }
        relays
    }

    /// The members admitted behind admitted children, with the channel they sit behind: what
    /// we announce again after re-attaching.
    pub(super) fn admitted_members(
        &self,
    ) -> impl Iterator<Item = (ChannelId, &ecdsa::PublicKey, &SubtreeMember)> {
        self.children
            .iter()
            .filter(|(_, child)| child.status == ChildStatus::Admitted)
            .flat_map(|(ch, child)| child.subtree.iter().map(move |(k, m)| (*ch, k, m)))
    }
}

/// What travels along the tree: fragments down (from an origin client or a parent), requests
/// up (from a child).
impl<C: GroupCrypto, R: RngCore> Node<C, R> {
    pub(super) fn client_fragment(
        &mut self,
        now: Instant,
        client: ClientId,
        gid: HashCode,
        mut f: Fragment,
    ) {
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
        let Some(next_id) = o.next_fragment_id() else {
            self.drop_client(client, "fragment ids exhausted".into());
            return;
        };
        f.fragment_id = next_id;
        f.hop_counter = 0;
        let Some(bytes) = self.sign_origin_fragment(gid, &mut f) else {
            return;
        };
        self.out.stat(stat::FRAGMENTS_ORIGINATED, 1);
        let f = Arc::new(f);
        if let Some(g) = self.groups.get_mut(&gid) {
            g.history.record(f.fragment_id, 0);
        }
        self.disseminate(now, gid, f, bytes, &[]);
        self.out.send_client(client, FragmentAck.to_message());
    }

    /// Delivers a new fragment to local clients, caches it and sends it to every admitted
    /// child, except to those in `skip` (they got it as a replay answer already). Only members
    /// admitted before the fragment get it, here and below. A relay (not the origin) sends
    /// it to its children after their hop delays ([`Self::send_down`]); only with the replay
    /// cache on is it kept for replays.
    fn disseminate(
        &mut self,
        now: Instant,
        gid: HashCode,
        f: Arc<Fragment>,
        bytes: Vec<u8>,
        skip: &[Requester],
    ) {
        let keep = self.privacy.replay_cache;
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let mut clients = g.message_receivers(f.fragment_id);
        clients.retain(|c| !skip.contains(&Requester::Client(*c)));
        if keep {
            g.history.cache(f.clone());
        }
        let relay = g.origin.is_none();
        let children = g
            .tree
            .fragment_receivers(f.fragment_id, |c| skip.contains(&Requester::Channel(c)));
        let hop = g.tree.hop();
        let fits = f.wire_size() <= MAX_CADET_MESSAGE_SIZE;
        if !children.is_empty() && !fits {
            // Gap G2: CADET cannot carry it; C peers lose it silently, we count it.
            self.out.stat(stat::FRAGMENTS_TOO_LARGE, 1);
        }
        // One encoding for clients and one for children (the hop counter differs), each
        // cloned for all but its last receiver.
        let (for_clients, for_children) = match (clients.is_empty(), !children.is_empty() && fits) {
            (_, false) => (bytes, None),
            (true, true) => (Vec::new(), Some(bytes)),
            (false, true) => (bytes.clone(), Some(bytes)),
        };
        let for_clients = match clients.is_empty() {
            true => for_clients,
            false => self.client_copy(&f, &for_clients),
        };
        self.out.send_clients(clients, for_clients);
        if let Some(mut out) = for_children {
            Fragment::set_hop_counter(&mut out, hop);
            let sent = children.len();
            if relay {
                self.send_down(now, children, out);
            } else {
                self.out.send_channels(children, out);
            }
            self.out.stat(stat::FRAGMENTS_FORWARDED, sent as i64);
        }
    }

    /// Sends towards the origin on the primary uplink; counts `what` or a drop.
    pub(super) fn send_up(&mut self, gid: HashCode, bytes: Vec<u8>, what: &'static str) -> bool {
        self.send_up_on(gid, None, bytes, what)
    }

    /// [`Self::send_up`] on `preferred` if given (a local member's own uplink: the parent
    /// admitted that member on that channel and checks requests per channel), else on the
    /// group's primary uplink.
    pub(super) fn send_up_on(
        &mut self,
        gid: HashCode,
        preferred: Option<ChannelId>,
        bytes: Vec<u8>,
        what: &'static str,
    ) -> bool {
        let up = preferred.or_else(|| self.groups.get(&gid).and_then(|g| g.primary_uplink()));
        match up {
            Some(up) if bytes.len() <= MAX_CADET_MESSAGE_SIZE => {
                self.out.send_channel(up, bytes);
                self.out.stat(what, 1);
                true
            }
            _ => {
                self.out.stat(stat::REQUESTS_DROPPED, 1);
                false
            }
        }
    }

    /// A request from a child, `bytes` as it came: passed on towards the origin unchanged.
    pub(super) fn child_request(&mut self, ch: ChannelId, q: Request, bytes: &[u8]) {
        let Some(gid) = self.links.get(&ch).map(|l| l.group) else {
            return;
        };
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        let Some(child) = g.tree.get(ch) else {
            return;
        };
        // Admission at every hop: only admitted members reachable through this channel.
        if !child.carries(&q.member_pub_key) {
            warn!(
                channel = ch.0,
                "request from a member not admitted on this channel"
            );
            self.out.stat(stat::UNADMITTED_TRAFFIC, 1);
            return;
        }
        if !self.crypto.verify_request(&q) {
            warn!(channel = ch.0, "request with a bad signature dropped");
            self.out.stat(stat::INVALID_SIGNATURES, 1);
            return;
        }
        if g.origin.is_some() {
            self.deliver_to_origin_clients(gid, bytes);
        } else {
            self.send_up(gid, bytes.to_vec(), stat::REQUESTS_UP);
        }
    }

    /// A fragment from a parent; `bytes` is the message it was decoded from.
    pub(super) fn parent_fragment(
        &mut self,
        now: Instant,
        ch: ChannelId,
        f: Fragment,
        bytes: &[u8],
    ) {
        let Some(link) = self.links.get(&ch) else {
            return;
        };
        let gid = link.group;
        let Side::Up(own_key) = link.side else {
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
            self.out.stat(stat::UNADMITTED_TRAFFIC, 1);
            return;
        }
        if !self.fragment_signed(gid, &f, bytes) {
            warn!(
                channel = ch.0,
                "fragment with a bad group signature dropped"
            );
            self.out.stat(stat::INVALID_SIGNATURES, 1);
            return;
        }
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if g.origin.is_none() {
            g.tree.set_depth(f.hop_counter.max(1));
        }
        if let Some(m) = g.members.get_mut(&own_key) {
            m.parent_is_ours = f.hop_counter > 0;
        }
        self.accept_fragment(now, gid, Arc::new(f), bytes.to_vec());
    }

    /// A verified fragment from a parent, with `bytes` as it arrived: answer waiting replays,
    /// then (if new) deliver, cache, pass on and look for gaps.
    fn accept_fragment(&mut self, now: Instant, gid: HashCode, f: Arc<Fragment>, bytes: Vec<u8>) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let answered = g.replays.answered_by(&f);
        let seen = g.history.record(f.fragment_id, self.cfg.max_gap_request);
        if !answered.requesters.is_empty() {
            debug!(
                fragment_id = f.fragment_id,
                message_id = f.message_id,
                requesters = answered.requesters.len(),
                "fragment answers replays"
            );
        }
        // A probe of ours got its answer: probe further, unless others are still out.
        let probe_on = answered.was_mine && g.repair.is_probing() && !g.replays.awaits_mine();
        self.answer_requesters(gid, &answered.requesters, &f, &bytes);
        match seen {
            Seen::Duplicate => self.out.stat(stat::DUPLICATE_FRAGMENTS, 1),
            Seen::New { missing } => {
                self.out.stat(stat::FRAGMENTS_RECEIVED, 1);
                self.disseminate(now, gid, f, bytes, &answered.requesters);
                self.pull_gap(now, gid, missing);
            }
        }
        self.next_rounds(now, gid, answered.queued);
        if probe_on {
            self.probe_next(now, gid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::tests::{key, peer};

    /// A tree with children on channels 1..=n from peers 1..=n, each asked by member key =
    /// its number, tree-capable.
    fn tree_of(n: u64) -> Tree {
        let mut t = Tree::new();
        for i in 1..=n {
            t.accept(ChannelId(i), peer(i as u8));
            t.get_mut(ChannelId(i)).unwrap().asked(key(i as u8), true);
        }
        t
    }

    #[test]
    fn fragments_go_to_admitted_children_with_members_admitted_before_them() {
        let mut t = tree_of(3);
        for (ch, after) in [(1, 0), (2, 5)] {
            let c = t.get_mut(ChannelId(ch)).unwrap();
            c.admit(key(ch as u8), peer(ch as u8), vec![], after);
            c.settle(true);
        }
        // Channel 3 still waits for its decision.
        assert_eq!(
            t.fragment_receivers(5, |_| false),
            vec![ChannelId(1)],
            "channel 2's member came after fragment 5"
        );
        assert_eq!(
            t.fragment_receivers(6, |_| false),
            vec![ChannelId(1), ChannelId(2)]
        );
        assert_eq!(
            t.fragment_receivers(6, |c| c == ChannelId(1)),
            vec![ChannelId(2)]
        );
        let c = t.get(ChannelId(2)).unwrap();
        assert!(c.carries(&key(2)) && !c.carries(&key(1)));
        assert!(c.admitted_before(&key(2), 6) && !c.admitted_before(&key(2), 5));
    }

    #[test]
    fn a_full_peer_redirects_round_robin_to_tree_capable_children() {
        let mut t = tree_of(3);
        assert!(!t.should_redirect(ChannelId(4), 4));
        assert!(t.should_redirect(ChannelId(4), 3));
        assert!(
            !t.should_redirect(ChannelId(3), 3),
            "the joining channel does not count"
        );
        t.accept(ChannelId(4), peer(4));
        assert_eq!(
            t.redirect(ChannelId(4), &peer(4), 8),
            vec![peer(1), peer(2), peer(3)]
        );
        assert_eq!(t.get(ChannelId(4)).unwrap().status, ChildStatus::Redirected);
        assert_eq!(
            t.redirect(ChannelId(4), &peer(4), 2),
            vec![peer(2), peer(3)]
        );
        assert_eq!(
            t.redirect(ChannelId(4), &peer(1), 8),
            vec![peer(2), peer(3)],
            "never to the joiner itself"
        );
    }

    #[test]
    fn a_redirect_names_no_more_relays_than_a_cadet_message_holds() {
        let mut t = Tree::new();
        for i in 1..=2100u64 {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&i.to_le_bytes());
            t.accept(ChannelId(i), PeerIdentity(id));
            t.get_mut(ChannelId(i)).unwrap().asked(key(1), true);
        }
        let relays = t.redirect(ChannelId(1), &peer(0), usize::MAX);
        assert_eq!(relays.len(), MAX_REDIRECT_RELAYS);
        let d = crate::msg::JoinDecision {
            peer: peer(0),
            member_pub_key: key(0),
            decision: crate::msg::Decision {
                is_admitted: crate::msg::REDIRECT,
                relays,
                response: None,
            },
            admitted_after: None,
        };
        assert!(d.to_message().len() <= MAX_CADET_MESSAGE_SIZE);
    }

    #[test]
    fn children_of_c_peers_are_no_relays() {
        let mut t = Tree::new();
        t.accept(ChannelId(1), peer(1));
        t.get_mut(ChannelId(1)).unwrap().asked(key(1), false);
        assert!(
            !t.should_redirect(ChannelId(2), 1),
            "nobody to send a joiner to"
        );
        assert!(!t.is_tree_capable(ChannelId(1)));
        // A C child is asked for the replays of its own member, whatever key is named.
        assert_eq!(t.get(ChannelId(1)).unwrap().replay_member(key(9)), key(1));
    }

    #[test]
    fn re_announced_members_are_those_behind_admitted_children() {
        let mut t = tree_of(2);
        let c = t.get_mut(ChannelId(1)).unwrap();
        c.admit(key(7), peer(7), vec![1, 2], 0);
        c.settle(true);
        let c = t.get_mut(ChannelId(2)).unwrap();
        c.admit(key(8), peer(8), vec![3], 0);
        c.settle(false);
        let listed: Vec<_> = t
            .admitted_members()
            .map(|(ch, k, m)| (ch, *k, m.peer, m.join.clone()))
            .collect();
        assert_eq!(listed, vec![(ChannelId(1), key(7), peer(7), vec![1, 2])]);
        assert_eq!(t.get(ChannelId(1)).unwrap().replay_member(key(7)), key(7));
        assert_eq!(t.hop(), 2);
        t.set_depth(0);
        assert_eq!(t.hop(), 1);
        assert!(t.remove(ChannelId(1)) && !t.remove(ChannelId(1)));
        assert_eq!(t.len(), 1);
    }
}
