//! Attaching to a parent and repairing: join attempts through the targets in turn, the
//! re-attach of a member whose parent went away, and pulling by replay what it missed.

use std::time::{Duration, Instant};

use gnunet_service::crypto::{ecdsa, HashCode};
use gnunet_service::wire::Message;
use rand_core::RngCore;
use tracing::debug;

use super::action::{stat, Action, Timer};
use super::history::History;
use super::member::MemberStatus;
use super::node::{Link, Node, Side};
use super::rounds::Requester;
use crate::crypto::GroupCrypto;
use crate::msg::{ReplayIds, ReplayRequest};

/// Gap pulling of one group after a re-attach: whether this peer is probing past its newest
/// fragment to learn what it missed while detached.
#[derive(Debug, Default)]
pub(super) struct Repair {
    probing: bool,
}

impl Repair {
    /// Starts (or goes on) probing: the next `batch` fragment ids past the newest one in
    /// `history` that were not asked for yet, now marked as asked for. `None` before the
    /// first fragment (nothing to probe after).
    pub(super) fn probe_batch(&mut self, history: &mut History, batch: usize) -> Option<Vec<u64>> {
        let head = history.head()?;
        self.probing = true;
        let ids: Vec<u64> = (head.saturating_add(1)..=head.saturating_add(batch.max(1) as u64))
            .filter(|id| !history.is_requested(*id))
            .collect();
        for id in &ids {
            history.mark_requested(*id);
        }
        Some(ids)
    }

    /// Whether a probe is under way.
    pub(super) fn is_probing(&self) -> bool {
        self.probing
    }

    /// Ends probing: a probe found nothing (error or timeout), or the parent went away.
    pub(super) fn stop_probing(&mut self) {
        self.probing = false;
    }
}

/// How long an orphan waits before re-attaching: uniform below `jitter`, so that the
/// children of a lost relay do not all knock at once.
fn reattach_delay(rng: &mut impl RngCore, jitter: Duration) -> Duration {
    let jitter_ms = jitter.as_millis() as u64;
    if jitter_ms == 0 {
        Duration::ZERO
    } else {
        Duration::from_millis(rng.next_u64() % jitter_ms)
    }
}

impl<C: GroupCrypto, R: RngCore> Node<C, R> {
    /// Starts (or restarts) attaching a local member: origin first, then the relays its
    /// client named.
    pub(super) fn start_attach(&mut self, now: Instant, gid: HashCode, member: ecdsa::PublicKey) {
        let me = self.me;
        let Some(m) = self.member_mut(&gid, &member) else {
            return;
        };
        m.restart_targets(me);
        self.try_next_target(now, gid, member);
    }

    /// Opens a channel to the next join target and sends our join request on it.
    pub(super) fn try_next_target(
        &mut self,
        now: Instant,
        gid: HashCode,
        member: ecdsa::PublicKey,
    ) {
        let ch = self.new_channel_id();
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let port = g.port;
        let Some(m) = g.members.get_mut(&member) else {
            return;
        };
        let attempt = m.next_attempt();
        if let Some(old) = attempt.old_uplink {
            self.close_channel(old, "trying another parent");
        }
        let Some(peer) = attempt.target else {
            // Everyone failed: start over after a pause.
            self.out.set_timer(
                now,
                self.cfg.retry_delay,
                Timer::Reattach {
                    group: gid,
                    member,
                    attempt: attempt.number,
                },
            );
            return;
        };
        if let Some(m) = self.member_mut(&gid, &member) {
            m.uplink = Some(ch);
        }
        self.links.insert(
            ch,
            Link {
                group: gid,
                peer,
                side: Side::Up(member),
            },
        );
        self.out.push(Action::OpenChannel {
            channel: ch,
            peer,
            port,
        });
        self.out.send_channel(ch, attempt.join);
        self.out.set_timer(
            now,
            self.cfg.join_timeout,
            Timer::JoinTimeout {
                group: gid,
                member,
                attempt: attempt.number,
            },
        );
    }

    /// A join attempt went unanswered for too long: try the next target.
    pub(super) fn join_timer(
        &mut self,
        now: Instant,
        gid: HashCode,
        member: ecdsa::PublicKey,
        attempt: u64,
    ) {
        if self
            .member(&gid, &member)
            .is_some_and(|m| m.is_waiting_on(attempt))
        {
            debug!("join attempt timed out, trying the next target");
            self.try_next_target(now, gid, member);
        }
    }

    /// Time to attach again (after losing the parent, or after every target failed).
    pub(super) fn reattach_timer(
        &mut self,
        now: Instant,
        gid: HashCode,
        member: ecdsa::PublicKey,
        attempt: u64,
    ) {
        if self
            .member(&gid, &member)
            .is_some_and(|m| m.is_waiting_on(attempt) && m.status != MemberStatus::Refused)
        {
            self.start_attach(now, gid, member);
        }
    }

    /// The uplink of local `member` went away; it was attached on it if `was_attached`.
    pub(super) fn uplink_lost(
        &mut self,
        now: Instant,
        gid: HashCode,
        member: ecdsa::PublicKey,
        was_attached: bool,
    ) {
        let Some(m) = self.member_mut(&gid, &member) else {
            return;
        };
        match m.status {
            MemberStatus::Admitted if was_attached => {
                let attempt = m.lost_parent();
                self.out.stat(stat::PARENTS_LOST, 1);
                let delay = reattach_delay(&mut self.rng, self.cfg.reattach_jitter);
                if let Some(g) = self.groups.get_mut(&gid) {
                    g.repair.stop_probing();
                }
                self.out.set_timer(
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

    /// We (re-)attached: pass on joins that waited for us, announce our subtree again after a
    /// re-attach, ask again the replays that went to the old parent and wait for their
    /// answer (it went away with them), and pull what we missed meanwhile.
    pub(super) fn after_attach(&mut self, now: Instant, gid: HashCode, pull_gap: bool) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let Some(up) = g.primary_uplink() else {
            return;
        };
        let mut to_send = g.joins.waiting_to_go_up();
        let reannounce: Vec<_> = g
            .tree
            .admitted_members()
            .filter(|(_, key, m)| !g.joins.contains(&m.peer, key))
            .map(|(ch, key, m)| (ch, *key, m.peer, m.join.clone()))
            .collect();
        for (ch, key, peer, join) in reannounce {
            to_send.push(join.clone());
            g.joins.insert(peer, key, ch, false, join);
        }
        for j in to_send {
            self.out.send_channel(up, j);
            self.out.stat(stat::JOINS_FORWARDED, 1);
        }
        for r in g.replays.open_requests() {
            self.out.send_channel(up, r.to_message());
            self.out.stat(stat::REPLAYS_FORWARDED, 1);
        }
        if pull_gap {
            self.probe_next(now, gid);
        }
    }

    /// Asks the parent for the fragments after our newest one, to find out what we missed
    /// while detached. Ends at the first error (nothing more to fetch).
    pub(super) fn probe_next(&mut self, now: Instant, gid: HashCode) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        let Some(ids) = g.repair.probe_batch(&mut g.history, self.cfg.probe_batch) else {
            return;
        };
        self.request_missing(now, gid, &ids);
    }

    /// Asks our parent for the fragments `ids`, as this peer itself.
    pub(super) fn request_missing(&mut self, now: Instant, gid: HashCode, ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        let Some(up) = self.groups.get(&gid).and_then(|g| g.primary_uplink()) else {
            return;
        };
        let generation = self.next_generation();
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
            if g.replays.add_myself(&rid) {
                continue;
            }
            // Our parent answers as our own member (C parents by the channel's member).
            let nobody = ecdsa::PublicKey([0; 32]);
            g.replays
                .open(rid, Requester::Myself, nobody, true, generation);
            let r = ReplayRequest {
                member_pub_key: nobody,
                ids: rid,
                uid: 0,
            };
            self.out.send_channel(up, r.to_message());
            sent += 1;
            timers.push(rid);
        }
        if sent > 0 {
            self.out.stat(stat::GAP_REQUESTS, sent);
        }
        for ids in timers {
            self.arm_replay_timer(now, gid, ids, generation);
        }
    }

    /// What the fragment with `missing` ids before it means for repair: behind a parent of
    /// ours they are asked for; behind a C parent never (its clients mishandle replays, G5),
    /// so they are given up.
    pub(super) fn pull_gap(&mut self, now: Instant, gid: HashCode, missing: Vec<u64>) {
        let Some(g) = self.groups.get_mut(&gid) else {
            return;
        };
        if g.members.values().any(|m| m.attached && m.parent_is_ours) {
            self.request_missing(now, gid, &missing);
        } else {
            for id in missing {
                g.history.give_up(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn probes_ask_for_the_next_batch_past_the_head_once() {
        let mut h = History::new(8, usize::MAX, 100);
        let mut r = Repair::default();
        assert_eq!(r.probe_batch(&mut h, 4), None, "nothing seen yet");
        assert!(!r.is_probing());
        h.record(5, 8);
        assert_eq!(r.probe_batch(&mut h, 3), Some(vec![6, 7, 8]));
        assert!(r.is_probing());
        assert_eq!(
            r.probe_batch(&mut h, 3),
            Some(vec![]),
            "all asked for already"
        );
        assert_eq!(
            r.probe_batch(&mut h, 0),
            Some(vec![]),
            "a batch is at least one"
        );
        h.record(6, 8);
        assert_eq!(r.probe_batch(&mut h, 4), Some(vec![9, 10]));
        r.stop_probing();
        assert!(!r.is_probing());
    }

    #[test]
    fn reattach_delays_stay_below_the_jitter() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(reattach_delay(&mut rng, Duration::ZERO), Duration::ZERO);
        let jitter = Duration::from_millis(500);
        let delays: Vec<Duration> = (0..50).map(|_| reattach_delay(&mut rng, jitter)).collect();
        assert!(delays.iter().all(|d| *d < jitter));
        assert!(delays.iter().any(|d| *d != delays[0]), "spread, not fixed");
    }
}
