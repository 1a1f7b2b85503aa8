//! Deliberate delays (issue 13, point 4) and the replay-cache knob, in the group logic.
//!
//! An observer who sees a request reach a peer and an answer leave it right after links the
//! two. So what this peer answers on its own is sent after a random delay drawn from the
//! [`Privacy::response_delay`] policy: replay answers from its cache to other peers (a local
//! client's answer crosses no network and goes at once), and the stored
//! decisions that re-admit a member joining again (the origin's clients are not asked). The
//! answer is held as a [`Held`] item and carried out when its [`Timer::Respond`] fires; by
//! then the requester must still be there.
//!
//! A relay also adds [`Privacy::hop_delay`] to each fragment it forwards to a child. The
//! release time of a fragment on a child's channel is never earlier than that of the one
//! before it (`max(previous release, now + draw)`), so the delays never reorder a channel;
//! [`Timer::HopRelease`] sends what is due. The origin adds no hop delay: it forwards nothing.
//!
//! With [`Privacy::replay_cache`] off this peer neither keeps fragments for replays nor
//! answers from what it holds: every request goes on to the origin, whose application
//! answers (from its store, with its own response delay).
//!
//! The delays are drawn from the node's random source (the driver's, seeded in the
//! simulator); without delays no sample is drawn, so a node without privacy knobs behaves,
//! and draws, exactly as before.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use gnunet_service::crypto::{ecdsa, HashCode};
use gnunet_service::privacy::{DelayPolicy, Hold, Knobs, OrderedDelays};
use gnunet_service::wire::Message;
use rand_core::RngCore;

use super::action::{ChannelId, Timer};
use super::node::{Node, Role, Side};
use super::rounds::Requester;
use crate::crypto::GroupCrypto;
use crate::msg::{Fragment, JoinDecision};

/// Most responses held at once; past it a response goes out without delay (a flood of
/// requests cannot make the node hold unbounded state).
const MAX_HELD: usize = 4096;

/// Most fragments waiting for their hop delay per child; past it the oldest goes out early
/// (in order).
const MAX_HOP_QUEUE: usize = 1024;

/// The privacy knobs the group logic obeys (`[secushare]`, see
/// [`gnunet_service::privacy`]): delays here, deniability in `deniable`. The default is none of
/// it, as the C service behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privacy {
    /// Delay of what this peer answers on its own: cached replays, re-admissions.
    pub response_delay: DelayPolicy,
    /// Delay a relay adds to each fragment it forwards to a child.
    pub hop_delay: DelayPolicy,
    /// Whether this peer keeps fragments to answer replays from.
    pub replay_cache: bool,
    /// An origin signs new fragments deniably, with epoch keys it publishes when the next
    /// epoch starts ([`crate::epoch`]).
    pub deniable: bool,
    /// Clients (and so the stores behind them) get fragments with their signature; when
    /// off they get it zeroed and the origin signs replays again.
    pub keep_signatures: bool,
}

impl Default for Privacy {
    fn default() -> Self {
        Privacy {
            response_delay: DelayPolicy::NONE,
            hop_delay: DelayPolicy::NONE,
            replay_cache: true,
            deniable: false,
            keep_signatures: true,
        }
    }
}

impl From<&Knobs> for Privacy {
    fn from(k: &Knobs) -> Self {
        Privacy {
            response_delay: k.response_delay,
            hop_delay: k.hop_delay,
            replay_cache: k.replay_cache,
            deniable: k.deniable,
            keep_signatures: k.keep_signatures,
        }
    }
}

/// A response held for its delay.
#[derive(Debug)]
pub(super) enum Held {
    /// A fragment from our cache, for a replay request of `member` through `who`.
    CachedReplay {
        gid: HashCode,
        who: Requester,
        member: ecdsa::PublicKey,
        fragment: Arc<Fragment>,
    },
    /// The stored decision for a member we admitted before, joining again.
    Readmission {
        gid: HashCode,
        decision: Box<JoinDecision>,
    },
}

/// What is held: responses by number, and fragments per child in release order.
#[derive(Debug)]
pub(super) struct Delays {
    held: BTreeMap<u64, Held>,
    next: u64,
    hops: OrderedDelays<ChannelId, Vec<u8>>,
}

impl Default for Delays {
    fn default() -> Self {
        Delays {
            held: BTreeMap::new(),
            next: 0,
            hops: OrderedDelays::new(MAX_HOP_QUEUE),
        }
    }
}

impl Delays {
    /// Holds `h`; its number for the timer, or `h` back if too much is held already.
    pub(super) fn hold(&mut self, h: Held) -> Result<u64, Held> {
        if self.held.len() >= MAX_HELD {
            return Err(h);
        }
        let seq = self.next;
        self.next += 1;
        self.held.insert(seq, h);
        Ok(seq)
    }

    /// The response held as `seq`, taken out.
    pub(super) fn take(&mut self, seq: u64) -> Option<Held> {
        self.held.remove(&seq)
    }

    /// Forgets what waits for a channel that is gone.
    pub(super) fn forget_channel(&mut self, ch: ChannelId) {
        self.hops.forget(ch);
    }
}

impl<C: GroupCrypto, R: RngCore> Node<C, R> {
    /// The privacy knobs from now on (the driver hands in the current ones before each
    /// input, so a changed configuration applies to the next message).
    pub fn set_privacy(&mut self, privacy: Privacy) {
        self.privacy = privacy;
    }

    /// The privacy knobs in force.
    pub fn privacy(&self) -> Privacy {
        self.privacy
    }

    /// Carries `h` out after the response delay.
    pub(super) fn respond_later(&mut self, now: Instant, h: Held) {
        let delay = self.privacy.response_delay.sample(&mut self.rng);
        if delay.is_zero() {
            self.release(h);
            return;
        }
        match self.delays.hold(h) {
            Ok(seq) => self.out.set_timer(now, delay, Timer::Respond { seq }),
            Err(h) => self.release(h),
        }
    }

    /// A held response's time came.
    pub(super) fn respond_timer(&mut self, seq: u64) {
        if let Some(h) = self.delays.take(seq) {
            self.release(h);
        }
    }

    fn release(&mut self, h: Held) {
        match h {
            Held::CachedReplay {
                gid,
                who,
                member,
                fragment,
            } => {
                if self.still_asks(gid, who, &member) {
                    let bytes = fragment.to_message();
                    self.answer_requesters(gid, &[who], &fragment, &bytes);
                }
            }
            Held::Readmission { gid, decision } => self.route_decision(gid, *decision),
        }
    }

    /// Whether `who` still stands for `member` of `gid` (a client may have gone and its
    /// number been given to another connection; a channel may have closed).
    fn still_asks(&self, gid: HashCode, who: Requester, member: &ecdsa::PublicKey) -> bool {
        match who {
            Requester::Client(c) => self.clients.get(&c) == Some(&Role::Member(gid, *member)),
            Requester::Channel(ch) => self
                .links
                .get(&ch)
                .is_some_and(|l| l.group == gid && l.side == Side::Down),
            Requester::Myself => true,
        }
    }

    /// Sends fragment `msg` to `children`: now, or (relays with a hop delay, or with
    /// fragments still queued for a child) after each child's hop delay, in order.
    pub(super) fn send_down(&mut self, now: Instant, children: Vec<ChannelId>, msg: Vec<u8>) {
        let delaying = !self.privacy.hop_delay.is_none();
        if !delaying && !children.iter().any(|c| self.delays.hops.is_holding(*c)) {
            self.out.send_channels(children, msg);
            return;
        }
        for ch in children {
            let delay = self.privacy.hop_delay.sample(&mut self.rng);
            match self.delays.hops.hold(ch, now, delay, msg.clone()) {
                Hold::Now(m) => self.out.send_channel(ch, m),
                Hold::Held { release, early } => {
                    if let Some(m) = early {
                        self.out.send_channel(ch, m);
                    }
                    self.out.push(super::action::Action::SetTimer {
                        at: release,
                        timer: Timer::HopRelease {
                            channel: ch,
                            at: release,
                        },
                    });
                }
            }
        }
    }

    /// A child's hop timer fired: what is due goes, in order.
    pub(super) fn hop_timer(&mut self, now: Instant, ch: ChannelId) {
        for m in self.delays.hops.due(ch, now) {
            self.out.send_channel(ch, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_responses_are_bounded_and_taken_once() {
        let mut d = Delays::default();
        let readmit = || Held::Readmission {
            gid: HashCode([0; 64]),
            decision: Box::new(JoinDecision {
                peer: gnunet_service::peer::PeerIdentity([1; 32]),
                member_pub_key: ecdsa::PublicKey([2; 32]),
                decision: crate::msg::Decision {
                    is_admitted: crate::msg::ADMITTED,
                    relays: vec![],
                    response: None,
                },
                admitted_after: None,
            }),
        };
        let first = d.hold(readmit()).expect("room");
        for _ in 1..MAX_HELD {
            assert!(d.hold(readmit()).is_ok());
        }
        assert!(d.hold(readmit()).is_err(), "bounded");
        assert!(d.take(first).is_some());
        assert!(d.take(first).is_none());
    }
}
