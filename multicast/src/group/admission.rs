//! Joins on their way up and decisions on their way down: the join requests this peer passed
//! on and waits for decisions on, and the [`Node`] steps that check, redirect and route them.

use std::collections::HashMap;
use std::time::Instant;

use gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
use gnunet_service::crypto::{ecdsa, HashCode};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{Codec, Message, HEADER_SIZE};
use rand_core::RngCore;
use tracing::{debug, warn};

use super::action::{stat, ChannelId};
use super::delay::Held;
use super::node::{Node, Side};
use super::tree::ChildStatus;
use crate::crypto::GroupCrypto;
use crate::msg::{Decision, JoinDecision, JoinRequest, ADMITTED, REDIRECT, UNDECIDED};

/// A join request passed on towards the origin, waiting for its decision.
#[derive(Debug, Clone)]
struct PendingJoin {
    /// The child channel it came in on.
    channel: ChannelId,
    /// False for joins we announce again after re-attaching: their decision stays here.
    forward_decision: bool,
    /// The request as it came.
    join: Vec<u8>,
}

/// The join requests of one group waiting for their decisions, by joiner (peer, member key),
/// as the C service matched decisions to requests.
#[derive(Debug, Default)]
pub(super) struct PendingJoins {
    joins: HashMap<(PeerIdentity, ecdsa::PublicKey), PendingJoin>,
}

/// Where a decision goes, from [`PendingJoins::take`].
#[derive(Debug)]
pub(super) struct DecisionRoute {
    /// The channel the join came in on.
    pub(super) channel: ChannelId,
    /// Whether the decision goes down that channel (else it only updates our records).
    pub(super) forward: bool,
    /// The join request it answers.
    pub(super) join: Vec<u8>,
}

impl PendingJoins {
    /// Remembers the join of `member` on `peer` that came in on `channel`, replacing an
    /// older one of the same joiner.
    pub(super) fn insert(
        &mut self,
        peer: PeerIdentity,
        member: ecdsa::PublicKey,
        channel: ChannelId,
        forward_decision: bool,
        join: Vec<u8>,
    ) {
        self.joins.insert(
            (peer, member),
            PendingJoin {
                channel,
                forward_decision,
                join,
            },
        );
    }

    /// Whether a join of `member` on `peer` waits.
    pub(super) fn contains(&self, peer: &PeerIdentity, member: &ecdsa::PublicKey) -> bool {
        self.joins.contains_key(&(*peer, *member))
    }

    /// The decision for `member` on `peer` arrived: where it goes.
    pub(super) fn take(
        &mut self,
        peer: PeerIdentity,
        member: ecdsa::PublicKey,
    ) -> Option<DecisionRoute> {
        self.joins.remove(&(peer, member)).map(|p| DecisionRoute {
            channel: p.channel,
            forward: p.forward_decision,
            join: p.join,
        })
    }

    /// The joins of children that wait to go up (they came while we had no parent).
    pub(super) fn waiting_to_go_up(&self) -> Vec<Vec<u8>> {
        self.joins
            .values()
            .filter(|p| p.forward_decision)
            .map(|p| p.join.clone())
            .collect()
    }

    /// Forgets the joins that came in on `channel` (it is gone).
    pub(super) fn forget_channel(&mut self, channel: ChannelId) {
        self.joins.retain(|_, p| p.channel != channel);
    }
}

/// Encodes decision `d` for a child channel: with the admission point for a tree-capable
/// child (`with_mark`) if that fits a CADET message, else without it, as a C service sends it
/// (the joiner then takes the point from its own history); `None` if not even that fits.
fn for_channel(d: &JoinDecision, with_mark: bool) -> Option<Vec<u8>> {
    if with_mark && wire_size(d) <= MAX_CADET_MESSAGE_SIZE {
        return Some(d.to_message());
    }
    let plain = d.without_mark();
    (wire_size(&plain) <= MAX_CADET_MESSAGE_SIZE).then(|| plain.to_message())
}

/// The size of `d` encoded, header included.
fn wire_size(d: &JoinDecision) -> usize {
    HEADER_SIZE + d.encoded_len()
}

impl<C: GroupCrypto, R: RngCore> Node<C, R> {
    /// A join request on a child channel: checked, then redirected, or passed up towards the
    /// decision.
    pub(super) fn child_join(&mut self, now: Instant, ch: ChannelId, j: JoinRequest, raw: &[u8]) {
        let Some(link) = self.links.get(&ch) else {
            return;
        };
        let (gid, chan_peer) = (link.group, link.peer);
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        let Some(child) = g.tree.get(ch) else {
            return;
        };
        let (status, child_tree) = (child.status, child.tree_capable);
        // Gap G14: the request must name the group of the port it came in on.
        if j.group_pub_key != g.pub_key {
            self.bad_channel_input(ch, "join request for another group", String::new());
            return;
        }
        if !self.crypto.verify_join(&j) {
            self.out.stat(stat::INVALID_SIGNATURES, 1);
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
                    .any(|up| self.links.get(&up).is_some_and(|l| l.peer == chan_peer));
                if j.tree_capable()
                    && (is_parent || g.tree.should_redirect(ch, self.cfg.max_children))
                {
                    self.redirect(gid, ch, &j);
                    return;
                }
                if let Some(child) = self.groups.get_mut(&gid).and_then(|g| g.tree.get_mut(ch)) {
                    child.asked(j.member_pub_key, j.tree_capable());
                }
                self.route_join_up(now, gid, ch, &j, raw.to_vec(), true);
            }
            ChildStatus::Waiting | ChildStatus::Admitted if child_tree => {
                // A join from the child's subtree, passing through it.
                self.route_join_up(now, gid, ch, &j, raw.to_vec(), true);
            }
            _ => {
                // As in the C original a second join request on a channel ends it.
                self.bad_channel_input(ch, "second join request on a channel", String::new());
            }
        }
    }

    /// Sends a tree-capable joiner on to some of our children.
    fn redirect(&mut self, gid: HashCode, ch: ChannelId, j: &JoinRequest) {
        let max = self.cfg.max_redirect_relays;
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let relays = g.tree.redirect(ch, &j.peer, max);
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
        self.out.send_channel(ch, d.to_message());
        self.out.stat(stat::JOINS_REDIRECTED, 1);
    }

    /// Takes a join request towards the decision: the origin's stored decision, the origin
    /// clients, or our parent.
    pub(super) fn route_join_up(
        &mut self,
        now: Instant,
        gid: HashCode,
        ch: ChannelId,
        j: &JoinRequest,
        bytes: Vec<u8>,
        forward_decision: bool,
    ) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        g.joins.insert(
            j.peer,
            j.member_pub_key,
            ch,
            forward_decision,
            bytes.clone(),
        );
        if let Some(o) = g.origin.as_ref() {
            if self.privacy.deniable && !j.tree_capable() {
                self.refuse_for_deniability(gid, j);
            } else if let Some(again) = o.admitted.readmission(j.peer, &j.member_pub_key) {
                // A member we admitted before, re-attaching: no need to ask again. The answer
                // is our own, so it waits for the response delay.
                self.out.stat(stat::JOINS_READMITTED, 1);
                let held = Held::Readmission {
                    gid,
                    decision: Box::new(again),
                };
                self.respond_later(now, held);
            } else {
                self.deliver_join_to_origin(gid, &bytes);
            }
            return;
        }
        if let Some(up) = g.primary_uplink() {
            self.out.send_channel(up, bytes);
            self.out.stat(stat::JOINS_FORWARDED, 1);
        }
        // Without an uplink the join waits in `joins` until we attach.
    }

    /// Hands a join request to the origin clients of the group.
    pub(super) fn deliver_join_to_origin(&mut self, gid: HashCode, join: &[u8]) {
        // Clients get the request as C peers sent it: without our tree flag.
        let mut for_clients = join.to_vec();
        if for_clients.len() >= 8 {
            for_clients[4..8].copy_from_slice(&[0; 4]);
        }
        self.deliver_to_origin_clients(gid, &for_clients);
        self.out.stat(stat::JOIN_REQUESTS, 1);
    }

    /// An origin client decided on a join.
    pub(super) fn client_join_decision(&mut self, gid: HashCode, mut d: JoinDecision) {
        d.admitted_after = None;
        if d.decision.is_admitted == ADMITTED {
            if let Some(o) = self.groups.get_mut(&gid).and_then(|g| g.origin.as_mut()) {
                d.admitted_after = Some(o.admit(d.member_pub_key, d.decision.clone()));
            }
        }
        self.route_decision(gid, d);
    }

    /// Sends a decision where its join request came from: a local member, or the channel
    /// that carried the request (directly or forwarded). Only tree-capable children get the
    /// admission point with it; everyone on the way records it.
    pub(super) fn route_decision(&mut self, gid: HashCode, mut d: JoinDecision) {
        let admitted = d.decision.is_admitted == ADMITTED;
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if admitted && d.admitted_after.is_none() {
            // From a C origin, which knows nothing of admission points: from now on.
            d.admitted_after = Some(g.head());
        }
        if d.peer == self.me && g.members.contains_key(&d.member_pub_key) {
            self.local_member_decided(gid, &d);
            return;
        }
        let Some(route) = g.joins.take(d.peer, d.member_pub_key) else {
            debug!("join decision without a pending join request");
            return;
        };
        let Some(child) = g.tree.get_mut(route.channel) else {
            return;
        };
        let (d, bytes) = match for_channel(&d, child.tree_capable) {
            Some(bytes) => (d, bytes),
            None => {
                // Gap G2 for decisions: CADET cannot carry it (a C service loses it silently
                // and the joiner waits forever). The joiner learns that the origin could not
                // answer; nothing it did not get is recorded.
                warn!(
                    size = wire_size(&d.without_mark()),
                    max = MAX_CADET_MESSAGE_SIZE,
                    "join decision too large for CADET; the joiner is told the origin could not answer"
                );
                self.out.stat(stat::DECISIONS_TOO_LARGE, 1);
                let undecided = JoinDecision {
                    decision: Decision {
                        is_admitted: UNDECIDED,
                        relays: vec![],
                        response: None,
                    },
                    admitted_after: None,
                    ..d
                };
                let bytes = undecided.to_message();
                (undecided, bytes)
            }
        };
        let admitted = d.decision.is_admitted == ADMITTED;
        let own = child.is_own(&d.peer, &d.member_pub_key);
        if let (true, Some(after)) = (admitted, d.admitted_after) {
            child.admit(d.member_pub_key, d.peer, route.join, after);
        }
        if own {
            child.settle(admitted);
        }
        if route.forward {
            self.out.send_channel(route.channel, bytes);
        }
        if own && !admitted {
            self.close_channel(route.channel, "join refused");
        }
    }

    /// A decision for a member of this peer: its clients get it (the first admission, or a
    /// refusal), without the admission point.
    pub(super) fn local_member_decided(&mut self, gid: HashCode, d: &JoinDecision) {
        let Some(m) = self.member_mut(&gid, &d.member_pub_key) else {
            return;
        };
        if let Some(bytes) = m.decided(d) {
            let clients = m.clients.iter().copied().collect();
            self.out.send_clients(clients, bytes);
        }
    }

    /// A decision from our parent: on our own join (admitted, refused or redirected), or on
    /// one we passed on.
    pub(super) fn parent_decision(&mut self, now: Instant, ch: ChannelId, mut d: JoinDecision) {
        let Some(link) = self.links.get(&ch) else {
            return;
        };
        let gid = link.group;
        let Side::Up(own_key) = link.side else {
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
            d.admitted_after = Some(self.groups.get(&gid).map_or(0, |g| g.head()));
        }
        let me = self.me;
        let Some(m) = self.member_mut(&gid, &own_key) else {
            return;
        };
        match d.decision.is_admitted {
            REDIRECT if !m.attached => {
                m.follow_redirect(&d.decision.relays, me);
                self.out.stat(stat::REDIRECTS_FOLLOWED, 1);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::tests::{key, peer};

    #[test]
    fn a_decision_finds_its_join_once_by_peer_and_member() {
        let mut p = PendingJoins::default();
        p.insert(peer(1), key(1), ChannelId(5), true, vec![1]);
        p.insert(peer(2), key(1), ChannelId(6), false, vec![2]);
        assert!(p.contains(&peer(1), &key(1)));
        assert!(p.take(peer(1), key(2)).is_none());
        let r = p.take(peer(1), key(1)).unwrap();
        assert_eq!(
            (r.channel, r.forward, r.join),
            (ChannelId(5), true, vec![1])
        );
        assert!(p.take(peer(1), key(1)).is_none());
        assert!(p.contains(&peer(2), &key(1)));
    }

    #[test]
    fn only_forwarded_joins_wait_to_go_up_and_channels_take_theirs_along() {
        let mut p = PendingJoins::default();
        p.insert(peer(1), key(1), ChannelId(5), true, vec![1]);
        p.insert(peer(2), key(2), ChannelId(5), false, vec![2]);
        p.insert(peer(3), key(3), ChannelId(6), true, vec![3]);
        let mut up = p.waiting_to_go_up();
        up.sort();
        assert_eq!(up, vec![vec![1], vec![3]]);
        p.forget_channel(ChannelId(5));
        assert_eq!(p.waiting_to_go_up(), vec![vec![3]]);
        assert!(!p.contains(&peer(2), &key(2)));
        // A later join of the same joiner replaces the earlier one.
        p.insert(peer(3), key(3), ChannelId(7), true, vec![4]);
        assert_eq!(p.take(peer(3), key(3)).unwrap().channel, ChannelId(7));
    }
}
