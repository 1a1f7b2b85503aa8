//! A local member of a group: its clients, where its join stands, and its way up to a
//! parent.

use std::collections::{BTreeSet, VecDeque};

use gnunet_service::crypto::ecdsa;
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;

use super::action::{ChannelId, ClientId};
use crate::msg::{JoinDecision, ADMITTED};

/// Whether `key` is a member private key as GNUnet 0.19 makes them: clamped like
/// `GNUNET_CRYPTO_ecdsa_key_create` clamps (lowest three bits clear, top bit clear, bit 254
/// set). libgnunetutil derives the public key ignoring the top bit but signs with the whole
/// scalar, so a key with the top bit set makes signatures no peer accepts (its joins would
/// fail at the origin, again and again), and the zero key aborts libgcrypt. Every key
/// libgnunetutil creates, the anonymous one included, is clamped.
pub(super) fn is_valid_member_key(key: &ecdsa::PrivateKey) -> bool {
    ecdsa::PrivateKey::clamped(key.0).0 == key.0
}

/// Where a local member stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MemberStatus {
    Joining,
    Admitted,
    Refused,
}

/// One attempt to attach to a parent, as [`MemberRole::next_attempt`] starts it.
#[derive(Debug)]
pub(super) struct Attempt {
    /// Its number (timers carry it).
    pub(super) number: u64,
    /// The peer to try, or `None` when every target failed.
    pub(super) target: Option<PeerIdentity>,
    /// The channel of the previous attempt, to close.
    pub(super) old_uplink: Option<ChannelId>,
    /// Our join request, to send on the new channel.
    pub(super) join: Vec<u8>,
}

/// A local member record (group, member key).
#[derive(Debug)]
pub(super) struct MemberRole {
    /// The member's private key (the client hands it to the service, as in C).
    pub(super) key: ecdsa::PrivateKey,
    origin: PeerIdentity,
    relays: Vec<PeerIdentity>,
    /// Our signed join request (with the tree flag).
    pub(super) join: Vec<u8>,
    pub(super) clients: BTreeSet<ClientId>,
    pub(super) status: MemberStatus,
    /// The complete JOIN_DECISION that admitted us (given to later clients).
    pub(super) decision: Option<Vec<u8>>,
    /// Channel to our parent, once opened.
    pub(super) uplink: Option<ChannelId>,
    /// Whether the uplink's parent has admitted us on it.
    pub(super) attached: bool,
    /// Join targets still to try, in order.
    targets: VecDeque<PeerIdentity>,
    /// Bumped for every join attempt; stale timers carry older numbers.
    pub(super) attempt: u64,
    /// Whether the parent is of this implementation (it sets hop counters).
    pub(super) parent_is_ours: bool,
    /// Whether we were admitted before (a re-attach, not a first join).
    pub(super) was_admitted: bool,
    /// Fragments up to this id were sent before the member's admission: it gets none of them
    /// from this node (see [`JoinDecision::admitted_after`]).
    pub(super) admitted_after: u64,
    request_counter: u64,
}

impl MemberRole {
    /// A member of `client` that is about to join with the signed request `join`, at `origin`
    /// or through `relays`.
    pub(super) fn new(
        key: ecdsa::PrivateKey,
        origin: PeerIdentity,
        relays: Vec<PeerIdentity>,
        join: Vec<u8>,
        client: ClientId,
    ) -> Self {
        Self {
            key,
            origin,
            relays,
            join,
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
        }
    }

    /// Whether the member's clients get fragment `id`: admitted, and before the fragment.
    pub(super) fn receives(&self, id: u64) -> bool {
        self.status == MemberStatus::Admitted && self.admitted_after < id
    }

    /// Records the decision on our join. Returns the JOIN_DECISION (without admission point)
    /// for the member's clients if they are to be told: of the first admission, or of a
    /// refusal, never of a re-admission after a re-attach.
    pub(super) fn decided(&mut self, d: &JoinDecision) -> Option<Vec<u8>> {
        let admitted = d.decision.is_admitted == ADMITTED;
        let first = !self.was_admitted;
        let bytes = d.without_mark().to_message();
        if admitted {
            self.status = MemberStatus::Admitted;
            self.decision = Some(bytes.clone());
            if first {
                self.admitted_after = d.admitted_after.unwrap_or(0);
            } else if let Some(after) = d.admitted_after {
                // Re-admitted: an origin of ours sends the first admission point again; a
                // local guess made since (behind a C parent) never widens what we had.
                self.admitted_after = self.admitted_after.min(after);
            }
            self.was_admitted = true;
        } else {
            self.status = MemberStatus::Refused;
        }
        (first || !admitted).then_some(bytes)
    }

    /// The fragment id of the member's next request.
    pub(super) fn next_request_id(&mut self) -> u64 {
        self.request_counter = self.request_counter.wrapping_add(1);
        self.request_counter
    }

    /// Starts over with the join targets: the origin, then the relays its client named,
    /// never ourselves (`me`).
    pub(super) fn restart_targets(&mut self, me: PeerIdentity) {
        let mut targets: VecDeque<PeerIdentity> = VecDeque::new();
        for p in std::iter::once(self.origin).chain(self.relays.iter().copied()) {
            if p != me && !targets.contains(&p) {
                targets.push_back(p);
            }
        }
        self.targets = targets;
    }

    /// Takes the relays of a redirect as the next join targets.
    pub(super) fn follow_redirect(&mut self, relays: &[PeerIdentity], me: PeerIdentity) {
        self.targets = relays.iter().copied().filter(|p| *p != me).collect();
    }

    /// Gives up the current uplink and starts the next join attempt.
    pub(super) fn next_attempt(&mut self) -> Attempt {
        let old_uplink = self.uplink.take();
        self.attached = false;
        self.attempt += 1;
        Attempt {
            number: self.attempt,
            target: self.targets.pop_front(),
            old_uplink,
            join: self.join.clone(),
        }
    }

    /// Our admitted member lost its parent: stale timers are void; returns the number of
    /// the re-attach attempt.
    pub(super) fn lost_parent(&mut self) -> u64 {
        self.attempt += 1;
        self.attempt
    }

    /// Whether a join timeout of `attempt` still matters: no newer attempt, not attached.
    pub(super) fn is_waiting_on(&self, attempt: u64) -> bool {
        self.attempt == attempt && !self.attached
    }

    /// Forgets `channel` if it is our uplink.
    pub(super) fn lose_uplink(&mut self, channel: ChannelId) {
        if self.uplink == Some(channel) {
            self.uplink = None;
            self.attached = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::tests::peer;
    use crate::msg::{Decision, REFUSED};

    fn member() -> MemberRole {
        MemberRole::new(
            ecdsa::PrivateKey::clamped([1; 32]),
            peer(1),
            vec![peer(2), peer(1), peer(9), peer(3)],
            vec![0, 4, 2, 240],
            ClientId(1),
        )
    }

    fn decision(is_admitted: i32, after: Option<u64>) -> JoinDecision {
        JoinDecision {
            peer: peer(9),
            member_pub_key: ecdsa::PublicKey([1; 32]),
            decision: Decision {
                is_admitted,
                relays: vec![],
                response: None,
            },
            admitted_after: after,
        }
    }

    #[test]
    fn only_clamped_keys_are_valid_member_keys() {
        assert!(is_valid_member_key(&ecdsa::PrivateKey::clamped([0xff; 32])));
        assert!(is_valid_member_key(&ecdsa::PrivateKey::clamped([0; 32])));
        let mut top_bit = ecdsa::PrivateKey::clamped([5; 32]);
        top_bit.0[31] |= 0x80;
        assert!(!is_valid_member_key(&top_bit));
        assert!(!is_valid_member_key(&ecdsa::PrivateKey([0; 32])));
        assert!(!is_valid_member_key(&ecdsa::PrivateKey([7; 32])));
    }

    #[test]
    fn targets_are_origin_then_relays_without_us_or_repeats() {
        let mut m = member();
        m.restart_targets(peer(9));
        let tried: Vec<_> = std::iter::from_fn(|| m.next_attempt().target).collect();
        assert_eq!(tried, vec![peer(1), peer(2), peer(3)]);
        assert_eq!(m.attempt, 4, "the last attempt found no target");
        m.follow_redirect(&[peer(9), peer(5)], peer(9));
        assert_eq!(m.next_attempt().target, Some(peer(5)));
    }

    #[test]
    fn a_new_attempt_gives_up_the_old_uplink() {
        let mut m = member();
        m.restart_targets(peer(9));
        m.uplink = Some(ChannelId(4));
        m.attached = true;
        let a = m.next_attempt();
        assert_eq!((a.old_uplink, a.number), (Some(ChannelId(4)), 1));
        assert_eq!(a.join, m.join);
        assert!(!m.attached && m.uplink.is_none());
        assert!(m.is_waiting_on(1));
        assert!(!m.is_waiting_on(0));
        assert_eq!(m.lost_parent(), 2);
    }

    #[test]
    fn clients_hear_of_the_first_admission_and_of_refusals_only() {
        let mut m = member();
        let told = m.decided(&decision(ADMITTED, Some(7))).unwrap();
        assert_eq!(
            JoinDecision::from_message(&told).unwrap().admitted_after,
            None,
            "clients never see the admission point"
        );
        assert_eq!((m.status, m.admitted_after), (MemberStatus::Admitted, 7));
        assert!(m.receives(8) && !m.receives(7));
        // Re-admitted with a later guess (behind a C parent): the point never widens.
        assert_eq!(m.decided(&decision(ADMITTED, Some(9))), None);
        assert_eq!(m.admitted_after, 7);
        assert_eq!(m.decided(&decision(ADMITTED, Some(3))), None);
        assert_eq!(m.admitted_after, 3);
        assert!(m.decided(&decision(REFUSED, None)).is_some());
        assert_eq!(m.status, MemberStatus::Refused);
        assert!(!m.receives(100));
    }

    #[test]
    fn request_ids_count_from_one_and_uplinks_are_forgotten_by_channel() {
        let mut m = member();
        assert_eq!((m.next_request_id(), m.next_request_id()), (1, 2));
        m.uplink = Some(ChannelId(3));
        m.attached = true;
        m.lose_uplink(ChannelId(4));
        assert!(m.attached);
        m.lose_uplink(ChannelId(3));
        assert!(!m.attached && m.uplink.is_none());
    }
}
