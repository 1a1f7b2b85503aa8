//! The origin role of a group on this peer: its clients, its fragment counter, and the
//! members it admitted.

use std::collections::{BTreeSet, HashMap};

use gnunet_service::crypto::ecdsa;
use gnunet_service::peer::PeerIdentity;

use super::action::ClientId;
use crate::msg::{Decision, JoinDecision};

/// The origin role of a group on this peer; `S` is the prepared group signing key.
#[derive(Debug)]
pub(super) struct OriginRole<S> {
    /// The group key, ready to sign fragments.
    pub(super) key: S,
    /// The origin clients of the group on this peer.
    pub(super) clients: BTreeSet<ClientId>,
    last_fragment_id: u64,
    /// The members admitted so far.
    pub(super) admitted: Admissions,
}

impl<S> OriginRole<S> {
    /// An origin whose last used fragment id is `max_fragment_id` (0 for a new group).
    pub(super) fn new(key: S, max_fragment_id: u64) -> Self {
        Self {
            key,
            clients: BTreeSet::new(),
            last_fragment_id: max_fragment_id,
            admitted: Admissions::default(),
        }
    }

    /// The newest fragment id handed out.
    pub(super) fn last_fragment_id(&self) -> u64 {
        self.last_fragment_id
    }

    /// Takes the next fragment id; `None` once they are used up.
    pub(super) fn next_fragment_id(&mut self) -> Option<u64> {
        let next = self.last_fragment_id.checked_add(1)?;
        self.last_fragment_id = next;
        Some(next)
    }

    /// The client that answers replay requests: one of this group's (gap G6 picked a client
    /// of any group).
    pub(super) fn replay_answerer(&self) -> Option<ClientId> {
        self.clients.iter().next().copied()
    }

    /// Records that a client admitted `member` with `decision`; returns its admission point
    /// (the first one, for a member admitted before).
    pub(super) fn admit(&mut self, member: ecdsa::PublicKey, decision: Decision) -> u64 {
        self.admitted.admit(member, decision, self.last_fragment_id)
    }
}

/// The origin's record of a member it admitted.
#[derive(Debug, Clone)]
struct Admission {
    decision: Decision,
    /// The origin's newest fragment id when it first admitted the member.
    after: u64,
}

/// The members an origin admitted, to re-admit them with the same decision and admission
/// point when they re-attach, without asking the origin's clients again.
#[derive(Debug, Default)]
pub(super) struct Admissions {
    admitted: HashMap<ecdsa::PublicKey, Admission>,
}

impl Admissions {
    /// Records `decision` for `member`, admitted when the newest fragment was `head`. A
    /// member admitted again keeps its first admission point, which is returned.
    pub(super) fn admit(&mut self, member: ecdsa::PublicKey, decision: Decision, head: u64) -> u64 {
        let after = self.admitted.get(&member).map_or(head, |a| a.after);
        self.admitted.insert(member, Admission { decision, after });
        after
    }

    /// The stored decision for `member` joining from `peer`, with its admission point, if it
    /// was admitted before.
    pub(super) fn readmission(
        &self,
        peer: PeerIdentity,
        member: &ecdsa::PublicKey,
    ) -> Option<JoinDecision> {
        let a = self.admitted.get(member)?;
        Some(JoinDecision {
            peer,
            member_pub_key: *member,
            decision: a.decision.clone(),
            admitted_after: Some(a.after),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::ADMITTED;

    fn decision(response: u8) -> Decision {
        Decision {
            is_admitted: ADMITTED,
            relays: vec![],
            response: Some(vec![0, 5, 0, 1, response]),
        }
    }

    #[test]
    fn fragment_ids_count_up_from_the_start_value_and_run_out() {
        let mut o = OriginRole::new((), 41);
        assert_eq!(o.next_fragment_id(), Some(42));
        assert_eq!(o.last_fragment_id(), 42);
        let mut o = OriginRole::new((), u64::MAX - 1);
        assert_eq!(o.next_fragment_id(), Some(u64::MAX));
        assert_eq!(o.next_fragment_id(), None);
        assert_eq!(o.last_fragment_id(), u64::MAX);
    }

    #[test]
    fn a_member_admitted_again_keeps_its_first_admission_point_and_newest_decision() {
        let mut o = OriginRole::new((), 0);
        let key = ecdsa::PublicKey([1; 32]);
        o.next_fragment_id();
        assert_eq!(o.admit(key, decision(1)), 1);
        o.next_fragment_id();
        o.next_fragment_id();
        assert_eq!(o.admit(key, decision(2)), 1);
        let again = o.admitted.readmission(PeerIdentity([9; 32]), &key).unwrap();
        assert_eq!(again.admitted_after, Some(1));
        assert_eq!(again.peer, PeerIdentity([9; 32]));
        assert_eq!(again.decision, decision(2));
        assert!(o
            .admitted
            .readmission(PeerIdentity([9; 32]), &ecdsa::PublicKey([2; 32]))
            .is_none());
    }

    #[test]
    fn replays_go_to_the_first_origin_client_of_the_group() {
        let mut o = OriginRole::new((), 0);
        assert_eq!(o.replay_answerer(), None);
        o.clients.insert(ClientId(7));
        o.clients.insert(ClientId(3));
        assert_eq!(o.replay_answerer(), Some(ClientId(3)));
    }
}
