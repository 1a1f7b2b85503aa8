//! The [`Node`] steps of replays: serving a request from the cache or passing it on in a
//! [round](super::rounds), taking answers from clients and peers, failing and expiring rounds.

use std::sync::Arc;
use std::time::Instant;

use gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
use gnunet_service::crypto::{ecdsa, HashCode};
use gnunet_service::wire::Message;
use rand_core::RngCore;
use tracing::{debug, warn};

use super::action::{stat, ChannelId, ClientId, Timer};
use super::delay::Held;
use super::member::MemberStatus;
use super::node::{Node, Side};
use super::rounds::{Expiry, Joined, Queue, Requester};
use crate::crypto::GroupCrypto;
use crate::msg::{
    Fragment, ReplayError, ReplayIds, ReplayRequest, ReplayResponse, TYPE_REPLAY_RESPONSE,
    TYPE_REPLAY_RESPONSE_END,
};

/// A failed replay's answer: the 48-byte REPLAY_RESPONSE with `e`.
fn replay_error(ids: ReplayIds, e: ReplayError) -> Vec<u8> {
    ReplayResponse {
        ids,
        error_code: e,
        fragment: None,
    }
    .to_message()
}

impl<C: GroupCrypto, R: RngCore> Node<C, R> {
    /// A member client asks for a replay.
    pub(super) fn client_replay_request(
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

    /// A child asks for a replay.
    pub(super) fn child_replay_request(
        &mut self,
        now: Instant,
        ch: ChannelId,
        mut r: ReplayRequest,
    ) {
        let Some(gid) = self.links.get(&ch).map(|l| l.group) else {
            return;
        };
        let Some(child) = self.groups.get(&gid).and_then(|g| g.tree.get(ch)) else {
            return;
        };
        if child.status != super::tree::ChildStatus::Admitted {
            self.out.stat(stat::UNADMITTED_TRAFFIC, 1);
            return;
        }
        r.member_pub_key = child.replay_member(r.member_pub_key);
        self.serve_replay(now, gid, r, Requester::Channel(ch));
    }

    /// Whether `client`, an origin client of group `gid` or (`Some`) a client of that member,
    /// may answer replay requests: origin clients may, and clients of admitted members (the
    /// C service asked those too, gap G6); a member never admitted may not, and is dropped.
    fn may_answer_replays(
        &mut self,
        client: ClientId,
        (gid, member): (HashCode, Option<ecdsa::PublicKey>),
        msg_type: u16,
    ) -> bool {
        let Some(key) = member else {
            return true;
        };
        if self
            .member(&gid, &key)
            .is_some_and(|m| m.status == MemberStatus::Admitted)
        {
            return true;
        }
        self.drop_client(
            client,
            format!("replay answer (message type {msg_type}) from a member that is not admitted"),
        );
        false
    }

    /// A client answers a replay request: an origin client (whose answers local requesters
    /// get even unsigned, as C's test_multicast needs) or (`answerer.1` names the member) the
    /// client of an admitted member, whose answer counts only with a valid group signature.
    /// `fragment` is the nested fragment of a successful answer, decoded.
    pub(super) fn client_replay_response(
        &mut self,
        now: Instant,
        client: ClientId,
        answerer: (HashCode, Option<ecdsa::PublicKey>),
        r: ReplayResponse,
        fragment: Option<Fragment>,
    ) {
        if !self.may_answer_replays(client, answerer, TYPE_REPLAY_RESPONSE) {
            return;
        }
        let (gid, member) = answerer;
        if r.error_code != ReplayError::Ok {
            self.fail_replay(now, gid, r.ids, r.to_message());
            return;
        }
        let (Some(raw), Some(f)) = (r.fragment.as_ref(), fragment) else {
            self.drop_client(client, "replay response without its fragment".into());
            return;
        };
        let mut signed = self.fragment_signed(gid, &f, raw);
        // The origin's store keeps no signature of deniable fragments (or of any, when
        // signatures are not kept): the origin signs them again.
        let mut f = f;
        let signed_again;
        let again = match signed || member.is_some() {
            true => None,
            false => self.sign_again(gid, &f),
        };
        let raw: &[u8] = match again {
            Some((again, bytes)) => {
                (f, signed) = (again, true);
                signed_again = bytes;
                &signed_again
            }
            None => raw,
        };
        let f = Arc::new(f);
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        let requesters = g.replays.requesters(&r.ids);
        debug!(?r.ids, signed, requesters = requesters.len(), "replay answer from a client");
        if signed {
            self.answer_requesters(gid, &requesters, &f, raw);
            let keep = self.privacy.replay_cache;
            if let Some(g) = self.groups.get_mut(&gid).filter(|_| keep) {
                g.history.cache(f);
            }
            return;
        }
        warn!(
            client = client.0,
            "replay answer without a valid group signature"
        );
        self.out.stat(stat::INVALID_SIGNATURES, 1);
        if member.is_some() {
            // A member cannot speak for the origin: its unsigned answer reaches no one, and
            // the round waits for the real one.
            return;
        }
        // Local clients get what the origin's application gave (C's test_multicast answers
        // with a bare, unsigned fragment). Peers would drop it: they are told the replay
        // failed, and nothing unsigned enters the cache.
        let (local, remote): (Vec<Requester>, Vec<Requester>) = requesters
            .into_iter()
            .partition(|r| matches!(r, Requester::Client(_)));
        self.answer_requesters(gid, &local, &f, raw);
        for who in remote {
            if let Some(g) = self.groups.get_mut(&gid) {
                g.replays.drop_requester(&r.ids, who);
            }
            self.reply_error(gid, r.ids, who, ReplayError::InternalError);
        }
    }

    /// A client ended its answers to a replay request.
    pub(super) fn client_replay_end(
        &mut self,
        now: Instant,
        client: ClientId,
        answerer: (HashCode, Option<ecdsa::PublicKey>),
        ids: ReplayIds,
    ) {
        if !self.may_answer_replays(client, answerer, TYPE_REPLAY_RESPONSE_END) {
            return;
        }
        let gid = answerer.0;
        if let Some((_, queued)) = self
            .groups
            .get_mut(&gid)
            .and_then(|g| g.replays.close(&ids))
        {
            self.next_rounds(now, gid, queued);
        }
    }

    /// Sends fragment `f`, encoded as `bytes`, to replay requesters: as it is to clients, with
    /// our hop counter to channels (one encoding for all of them).
    pub(super) fn answer_requesters(
        &mut self,
        gid: HashCode,
        requesters: &[Requester],
        f: &Fragment,
        bytes: &[u8],
    ) {
        let hop = self.groups.get(&gid).map_or(1, |g| g.tree.hop());
        let fits = f.wire_size() <= MAX_CADET_MESSAGE_SIZE;
        let mut for_channels: Option<Vec<u8>> = None;
        for r in requesters {
            match *r {
                Requester::Client(c) => {
                    let copy = self.client_copy(f, bytes);
                    self.out.send_client(c, copy);
                }
                Requester::Channel(ch) if fits => {
                    let out = for_channels
                        .get_or_insert_with(|| {
                            let mut out = bytes.to_vec();
                            Fragment::set_hop_counter(&mut out, hop);
                            out
                        })
                        .clone();
                    self.out.send_channel(ch, out);
                }
                Requester::Channel(_) | Requester::Myself => {}
            }
        }
    }

    /// A replay failed: tell the channels and clients that asked, and forget it.
    pub(super) fn fail_replay(
        &mut self,
        now: Instant,
        gid: HashCode,
        ids: ReplayIds,
        response: Vec<u8>,
    ) {
        let Some((requesters, queued)) = self
            .groups
            .get_mut(&gid)
            .and_then(|g| g.replays.close(&ids))
        else {
            return;
        };
        for who in requesters {
            self.tell_failed(gid, ids, who, &response);
        }
        self.out.stat(stat::REPLAYS_FAILED, 1);
        self.next_rounds(now, gid, queued);
    }

    /// A round's timer fired. The first time its requesters are told; it stays without them
    /// for one more timeout (a late answer ends it), then goes, and those queued behind it
    /// get rounds of their own.
    pub(super) fn replay_timer(
        &mut self,
        now: Instant,
        gid: HashCode,
        ids: ReplayIds,
        generation: u64,
    ) {
        let current = self
            .groups
            .get(&gid)
            .is_some_and(|g| g.replays.is_current(&ids, generation));
        if !current {
            return;
        }
        let next = self.next_generation();
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        match g.replays.expire(&ids, next) {
            None => {}
            Some(Expiry::Ended { queued, was_mine }) => {
                if was_mine {
                    g.history.give_up(ids.fragment_id);
                    g.repair.stop_probing();
                }
                self.next_rounds(now, gid, queued);
            }
            Some(Expiry::Expired {
                requesters,
                generation,
            }) => {
                let failed = replay_error(ids, ReplayError::InternalError);
                for who in requesters {
                    self.tell_failed(gid, ids, who, &failed);
                }
                self.out.stat(stat::REPLAYS_FAILED, 1);
                self.arm_replay_timer(now, gid, ids, generation);
            }
        }
    }

    pub(super) fn arm_replay_timer(
        &mut self,
        now: Instant,
        gid: HashCode,
        ids: ReplayIds,
        generation: u64,
    ) {
        self.out.set_timer(
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
    pub(super) fn next_rounds(&mut self, now: Instant, gid: HashCode, queued: Queue) {
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
        let Some(g) = self.groups.get(gid) else {
            return false;
        };
        match who {
            Requester::Myself => true,
            Requester::Client(_) => g.members.get(key).is_some_and(|m| m.receives(id)),
            Requester::Channel(ch) => {
                matches!(self.links.get(&ch).map(|l| l.side), Some(Side::Down))
                    && g.tree.get(ch).is_some_and(|c| c.admitted_before(key, id))
            }
        }
    }

    /// Answers a replay request from the cache, or passes it towards the origin (or to an
    /// origin client) and remembers who asked. `r.member_pub_key` names the member asking.
    pub(super) fn serve_replay(
        &mut self,
        now: Instant,
        gid: HashCode,
        r: ReplayRequest,
        who: Requester,
    ) {
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        // A member client on the origin's own peer is answered by the origin's application, as
        // in the C original (the application may refuse it, or answer differently).
        // With the replay cache knob off, nothing is answered from what this peer holds: the
        // request goes on to the origin's application.
        let origin_answers_locally = matches!(who, Requester::Client(_))
            && g.origin.as_ref().is_some_and(|o| !o.clients.is_empty());
        let from_cache = self.privacy.replay_cache && !origin_answers_locally;
        if let Some(f) = g.history.lookup(&r.ids).filter(|_| from_cache) {
            if self.admitted_before(&gid, who, &r.member_pub_key, f.fragment_id) {
                self.out.stat(stat::REPLAYS_FROM_CACHE, 1);
                if f.wire_size() > MAX_CADET_MESSAGE_SIZE && matches!(who, Requester::Channel(_)) {
                    self.reply_error(gid, r.ids, who, ReplayError::InternalError);
                } else if matches!(who, Requester::Channel(_)) {
                    // An answer of our own to another peer: after the response delay.
                    let held = Held::CachedReplay {
                        gid,
                        who,
                        member: r.member_pub_key,
                        fragment: f,
                    };
                    self.respond_later(now, held);
                } else {
                    // A local client: nothing crosses the network, nothing to hide.
                    let bytes = f.to_message();
                    self.answer_requesters(gid, &[who], &f, &bytes);
                }
                return;
            }
            self.out.stat(stat::REPLAYS_BEFORE_ADMISSION, 1);
        }
        let shared = self.admitted_before(&gid, who, &r.member_pub_key, r.ids.fragment_id);
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let joined = g.replays.join(who, &r, shared);
        debug!(?r.ids, ?who, shared, ?joined, "replay request");
        match joined {
            Some(Joined::Shares | Joined::Queued) => return,
            Some(Joined::Full) => {
                self.reply_error(gid, r.ids, who, ReplayError::InternalError);
                return;
            }
            None => {}
        }
        if g.replays.len() >= self.cfg.max_pending_replays {
            self.reply_error(gid, r.ids, who, ReplayError::InternalError);
            return;
        }
        let origin_target = g.origin.as_ref().map(|o| {
            (
                o.replay_answerer(),
                r.ids.fragment_id > o.last_fragment_id(),
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
                self.out.send_client(client, r.to_message());
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
        let generation = self.next_generation();
        if let Some(g) = self.groups.get_mut(&gid) {
            g.replays
                .open(r.ids, who, r.member_pub_key, shared, generation);
        }
        self.arm_replay_timer(now, gid, r.ids, generation);
    }

    pub(super) fn reply_error(
        &mut self,
        gid: HashCode,
        ids: ReplayIds,
        who: Requester,
        e: ReplayError,
    ) {
        self.tell_failed(gid, ids, who, &replay_error(ids, e));
        self.out.stat(stat::REPLAYS_FAILED, 1);
    }

    /// Tells `who` that its replay of `ids` failed, with `response`; this peer itself stops
    /// waiting for the fragment.
    fn tell_failed(&mut self, gid: HashCode, ids: ReplayIds, who: Requester, response: &[u8]) {
        match who {
            Requester::Client(c) => self.out.send_client(c, response.to_vec()),
            Requester::Channel(ch) => self.out.send_channel(ch, response.to_vec()),
            Requester::Myself => {
                if let Some(g) = self.groups.get_mut(&gid) {
                    g.history.give_up(ids.fragment_id);
                    g.repair.stop_probing();
                }
            }
        }
    }
}
