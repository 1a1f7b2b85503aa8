//! Replay rounds: replay requests passed on (up the tree or to an origin client) and waiting
//! for their answer, and the [`Node`] steps that serve, answer and fail them.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
use gnunet_service::crypto::{ecdsa, HashCode};
use gnunet_service::wire::Message;
use rand_core::RngCore;
use tracing::warn;

use super::action::{stat, ChannelId, ClientId, Timer};
use super::history::answers;
use super::member::MemberStatus;
use super::node::{Node, Side};
use crate::crypto::GroupCrypto;
use crate::msg::{
    Fragment, ReplayError, ReplayIds, ReplayRequest, ReplayResponse, TYPE_REPLAY_RESPONSE,
    TYPE_REPLAY_RESPONSE_END,
};

/// Who waits for a replay answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Requester {
    Client(ClientId),
    Channel(ChannelId),
    /// This peer itself, pulling a gap.
    Myself,
}

/// Most requesters sharing one replay round, and most waiting for rounds of their own.
const MAX_QUEUED_REPLAYS: usize = 64;

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
struct Round {
    requesters: Vec<Requester>,
    generation: u64,
    /// The member the request went out for.
    member: ecdsa::PublicKey,
    /// Whether that member was admitted before the fragment, so that others who were may share.
    shared: bool,
    expired: bool,
    queued: Queue,
}

impl Round {
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

/// Requesters waiting for rounds of their own, with what they asked.
pub(super) type Queue = VecDeque<(Requester, ReplayRequest)>;

/// What became of a request for a fragment a round is open for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Joined {
    /// The requester shares the round's answer.
    Shares,
    /// It waits for a round of its own.
    Queued,
    /// No room: the replay fails for it.
    Full,
}

/// Rounds ended by a fragment that answers them.
#[derive(Debug, Default)]
pub(super) struct Answered {
    /// Who gets the fragment.
    pub(super) requesters: Vec<Requester>,
    /// Who waited for rounds of their own.
    pub(super) queued: Queue,
    /// Whether this peer itself asked (a gap pull or probe).
    pub(super) was_mine: bool,
}

/// A round's timer fired.
#[derive(Debug)]
pub(super) enum Expiry {
    /// First time: these requesters are told the replay failed; the round stays, without
    /// them, until the timer of the new `generation`.
    Expired {
        requesters: Vec<Requester>,
        generation: u64,
    },
    /// Second time: the round is gone; `queued` get rounds of their own.
    Ended {
        queued: Queue,
        /// Whether this peer itself was waiting for it.
        was_mine: bool,
    },
}

/// The open replay rounds of one group, by what they ask for.
#[derive(Debug, Default)]
pub(super) struct ReplayRounds {
    rounds: HashMap<ReplayIds, Round>,
}

impl ReplayRounds {
    /// Number of open rounds.
    pub(super) fn len(&self) -> usize {
        self.rounds.len()
    }

    /// Adds `who`, asking with `r` as `r.member_pub_key` (`shared`: admitted before the
    /// fragment), to the round open for `r.ids`; `None` if there is none. One channel may
    /// carry requests of several members: a requester is known by channel and member.
    pub(super) fn join(
        &mut self,
        who: Requester,
        r: &ReplayRequest,
        shared: bool,
    ) -> Option<Joined> {
        let round = self.rounds.get_mut(&r.ids)?;
        let member = r.member_pub_key;
        Some(if round.admits(&member, shared) {
            if round.requesters.contains(&who) {
                Joined::Shares
            } else if round.requesters.len() < MAX_QUEUED_REPLAYS {
                round.requesters.push(who);
                Joined::Shares
            } else {
                Joined::Full
            }
        } else if round.is_queued(who, &member) {
            Joined::Queued
        } else if round.queued.len() < MAX_QUEUED_REPLAYS {
            round.queued.push_back((who, *r));
            Joined::Queued
        } else {
            Joined::Full
        })
    }

    /// Opens the round for `ids`, started by `who` for `member`.
    pub(super) fn open(
        &mut self,
        ids: ReplayIds,
        who: Requester,
        member: ecdsa::PublicKey,
        shared: bool,
        generation: u64,
    ) {
        self.rounds.insert(
            ids,
            Round {
                requesters: vec![who],
                generation,
                member,
                shared,
                expired: false,
                queued: VecDeque::new(),
            },
        );
    }

    /// Adds this peer itself to the round open for `ids`; false if there is none.
    pub(super) fn add_myself(&mut self, ids: &ReplayIds) -> bool {
        let Some(round) = self.rounds.get_mut(ids) else {
            return false;
        };
        if !round.requesters.contains(&Requester::Myself) {
            round.requesters.push(Requester::Myself);
        }
        true
    }

    /// Who waits in the round for `ids`.
    pub(super) fn requesters(&self, ids: &ReplayIds) -> Vec<Requester> {
        self.rounds
            .get(ids)
            .map(|r| r.requesters.clone())
            .unwrap_or_default()
    }

    /// Takes `who` out of the round for `ids` (it was told otherwise).
    pub(super) fn drop_requester(&mut self, ids: &ReplayIds, who: Requester) {
        if let Some(round) = self.rounds.get_mut(ids) {
            round.requesters.retain(|q| *q != who);
        }
    }

    /// Ends the round for `ids`: returns its requesters and those queued behind it, if it was
    /// open.
    pub(super) fn close(&mut self, ids: &ReplayIds) -> Option<(Vec<Requester>, Queue)> {
        self.rounds.remove(ids).map(|r| (r.requesters, r.queued))
    }

    /// Ends every round `fragment` answers.
    pub(super) fn answered_by(&mut self, fragment: &Fragment) -> Answered {
        let matched: Vec<ReplayIds> = self
            .rounds
            .keys()
            .filter(|ids| answers(ids, fragment))
            .copied()
            .collect();
        let mut out = Answered::default();
        for ids in matched {
            if let Some(r) = self.rounds.remove(&ids) {
                out.was_mine |= r.requesters.contains(&Requester::Myself);
                out.requesters.extend(r.requesters);
                out.queued.extend(r.queued);
            }
        }
        out
    }

    /// Whether this peer itself still waits for some fragment.
    pub(super) fn awaits_mine(&self) -> bool {
        self.rounds
            .values()
            .any(|r| r.requesters.contains(&Requester::Myself))
    }

    /// Forgets a requester that went away.
    pub(super) fn forget(&mut self, who: Requester) {
        for r in self.rounds.values_mut() {
            r.forget(who);
        }
    }

    /// Whether a timer of `generation` belongs to the round for `ids`.
    pub(super) fn is_current(&self, ids: &ReplayIds, generation: u64) -> bool {
        self.rounds
            .get(ids)
            .is_some_and(|r| r.generation == generation)
    }

    /// The timer of the round for `ids` fired; `generation` numbers its next timer.
    pub(super) fn expire(&mut self, ids: &ReplayIds, generation: u64) -> Option<Expiry> {
        let round = self.rounds.get_mut(ids)?;
        if round.expired {
            let was_mine = round.requesters.contains(&Requester::Myself);
            let round = self.rounds.remove(ids)?;
            return Some(Expiry::Ended {
                queued: round.queued,
                was_mine,
            });
        }
        round.expired = true;
        round.generation = generation;
        Some(Expiry::Expired {
            requesters: std::mem::take(&mut round.requesters),
            generation,
        })
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
        let f = Arc::new(f);
        let Some(g) = self.groups.get(&gid) else {
            return;
        };
        let signed = self.crypto.verify_fragment_message(&g.verifier, &f, raw);
        let requesters = g.replays.requesters(&r.ids);
        if signed {
            self.answer_requesters(gid, &requesters, &f, raw);
            if let Some(g) = self.groups.get_mut(&gid) {
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
                Requester::Client(c) => self.out.send_client(c, bytes.to_vec()),
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
        let origin_answers_locally = matches!(who, Requester::Client(_))
            && g.origin.as_ref().is_some_and(|o| !o.clients.is_empty());
        if let Some(f) = g.history.lookup(&r.ids).filter(|_| !origin_answers_locally) {
            if self.admitted_before(&gid, who, &r.member_pub_key, f.fragment_id) {
                self.out.stat(stat::REPLAYS_FROM_CACHE, 1);
                if f.wire_size() > MAX_CADET_MESSAGE_SIZE && matches!(who, Requester::Channel(_)) {
                    self.reply_error(gid, r.ids, who, ReplayError::InternalError);
                } else {
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
        match g.replays.join(who, &r, shared) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> ecdsa::PublicKey {
        ecdsa::PublicKey([b; 32])
    }

    fn by_id(id: u64) -> ReplayIds {
        ReplayIds {
            fragment_id: id,
            ..Default::default()
        }
    }

    fn request(id: u64, member: u8) -> ReplayRequest {
        ReplayRequest {
            member_pub_key: key(member),
            ids: by_id(id),
            uid: 0,
        }
    }

    const A: Requester = Requester::Client(ClientId(1));
    const B: Requester = Requester::Channel(ChannelId(2));

    #[test]
    fn only_members_admitted_before_share_a_round_others_queue() {
        let mut rounds = ReplayRounds::default();
        assert_eq!(rounds.join(A, &request(5, 1), true), None, "no round yet");
        rounds.open(by_id(5), A, key(1), true, 1);
        // Another member admitted before the fragment shares; one admitted after waits.
        assert_eq!(rounds.join(B, &request(5, 2), true), Some(Joined::Shares));
        let late = Requester::Client(ClientId(3));
        assert_eq!(
            rounds.join(late, &request(5, 3), false),
            Some(Joined::Queued)
        );
        assert_eq!(
            rounds.join(late, &request(5, 3), false),
            Some(Joined::Queued)
        );
        assert_eq!(rounds.requesters(&by_id(5)), vec![A, B]);
        let (requesters, queued) = rounds.close(&by_id(5)).unwrap();
        assert_eq!(requesters, vec![A, B]);
        assert_eq!(queued.len(), 1, "queued once");
        assert!(rounds.close(&by_id(5)).is_none());
    }

    #[test]
    fn a_round_for_a_late_member_is_shared_only_by_that_member() {
        let mut rounds = ReplayRounds::default();
        rounds.open(by_id(5), A, key(1), false, 1);
        assert_eq!(rounds.join(B, &request(5, 1), false), Some(Joined::Shares));
        assert_eq!(rounds.join(B, &request(5, 2), true), Some(Joined::Queued));
    }

    #[test]
    fn rounds_are_bounded() {
        let mut rounds = ReplayRounds::default();
        rounds.open(by_id(5), A, key(1), true, 1);
        for c in 0..MAX_QUEUED_REPLAYS as u64 {
            if c > 0 {
                // A started the round: one place fewer.
                let who = Requester::Client(ClientId(100 + c));
                assert_eq!(rounds.join(who, &request(5, 1), true), Some(Joined::Shares));
            }
            let who = Requester::Client(ClientId(1000 + c));
            assert_eq!(
                rounds.join(who, &request(5, 9), false),
                Some(Joined::Queued)
            );
        }
        let who = Requester::Client(ClientId(99));
        assert_eq!(rounds.join(who, &request(5, 1), true), Some(Joined::Full));
        assert_eq!(rounds.join(who, &request(5, 9), false), Some(Joined::Full));
    }

    #[test]
    fn an_expired_round_lingers_for_one_more_timeout_without_requesters() {
        let mut rounds = ReplayRounds::default();
        rounds.open(by_id(5), A, key(1), true, 1);
        rounds.add_myself(&by_id(5));
        assert!(rounds.is_current(&by_id(5), 1));
        match rounds.expire(&by_id(5), 2) {
            Some(Expiry::Expired {
                requesters,
                generation: 2,
            }) => assert_eq!(requesters, vec![A, Requester::Myself]),
            other => panic!("{other:?}"),
        }
        assert!(!rounds.is_current(&by_id(5), 1) && rounds.is_current(&by_id(5), 2));
        // While it lingers nobody joins it: a late answer would end it.
        assert_eq!(rounds.join(B, &request(5, 1), true), Some(Joined::Queued));
        match rounds.expire(&by_id(5), 3) {
            Some(Expiry::Ended { queued, was_mine }) => {
                assert_eq!(queued.len(), 1);
                assert!(!was_mine, "this peer was told at the first expiry");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(rounds.len(), 0);
        assert!(rounds.expire(&by_id(5), 4).is_none());
    }

    #[test]
    fn a_fragment_ends_every_round_it_answers() {
        let mut rounds = ReplayRounds::default();
        let mut f = Fragment::unsigned(7, 0, 1, 0, vec![]);
        f.fragment_id = 5;
        rounds.open(by_id(5), A, key(1), true, 1);
        let by_message = ReplayIds {
            message_id: 7,
            ..Default::default()
        };
        rounds.open(by_message, B, key(2), false, 2);
        assert!(!rounds.add_myself(&by_id(6)), "no round to join");
        rounds.open(by_id(6), Requester::Myself, key(0), true, 3);
        assert!(rounds.awaits_mine());
        let answered = rounds.answered_by(&f);
        let mut who = answered.requesters.clone();
        who.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(who, vec![B, A]);
        assert!(!answered.was_mine);
        assert_eq!(rounds.len(), 1);
        rounds.forget(Requester::Myself);
        assert!(!rounds.awaits_mine());
        rounds.drop_requester(&by_id(6), A);
    }
}
