//! Replay rounds: the replay requests of one group passed on (up the tree or to an origin
//! client) and waiting for their answer, who shares each answer, and who waits for a round of
//! their own.

use std::collections::{HashMap, VecDeque};

use gnunet_service::crypto::ecdsa;

use super::action::{ChannelId, ClientId};
use crate::msg::{Fragment, ReplayIds, ReplayRequest};

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

    /// The requests of the rounds still waiting for their answer, as they went out: after a
    /// re-attach they are asked of the new parent (the old one took them with it).
    pub(super) fn open_requests(&self) -> Vec<ReplayRequest> {
        let mut open: Vec<ReplayRequest> = self
            .rounds
            .iter()
            .filter(|(_, r)| !r.expired && !r.requesters.is_empty())
            .map(|(ids, r)| ReplayRequest {
                member_pub_key: r.member,
                ids: *ids,
                uid: 0,
            })
            .collect();
        open.sort_by_key(|r| (r.ids.fragment_id, r.ids.message_id, r.ids.fragment_offset));
        open
    }

    /// Ends every round `fragment` answers.
    pub(super) fn answered_by(&mut self, fragment: &Fragment) -> Answered {
        let matched: Vec<ReplayIds> = self
            .rounds
            .keys()
            .filter(|ids| ids.answered_by(fragment))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::tests::key;

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
