//! Reception: multicast fragments become S→C PSYC_MESSAGEs, in message-id order
//! (`psyc.md` §6).
//!
//! Every record runs the same pipeline, the master included (multicast hands the origin its
//! own fragments back). For each fragment:
//!
//! 1. **Check** the parts structurally (`format::container::check_parts`); a message's first
//!    fragment (offset 0) must start with METHOD. Invalid fragments are dropped and *not*
//!    stored (the C service stored them first, gap P12). Fragments of messages already
//!    delivered (replays, duplicates) are dropped too.
//! 2. **Store** the fragment (psycstore FRAGMENT_STORE), with the psycstore flag STATE on a
//!    METHOD fragment whose `state_delta` says the message changes state (C stored flags 0).
//! 3. **Reassemble** by fragment offset (offsets count whole fragments, headers included, as
//!    the C multicast library numbers them).
//! 4. **Deliver in order**: the fragments of the next message id go to the record's clients
//!    as soon as they are contiguous from offset 0; after its END or CANCEL the next message
//!    id is due. A stateful message is delivered once it is complete and psycstore applied it
//!    (STATE_MODIFY; sent after the message's FRAGMENT_STOREs on the same connection, so
//!    psycstore has them). Any STATE_MODIFY answer releases the message (the C service stayed
//!    stuck on an error, gap P22); only success advances the state counter.
//!
//! # State reset (gap P2)
//!
//! A message the master sent with the METHOD flag STATE_RESET carries `state_delta` 0. The C
//! receivers waited for `id − 0 == max_state_message_id`, i.e. forever, and C psycstore's
//! STATE_MODIFY treats delta 0 only as "no ordering check". Here such a message is applied as
//! psycstore STATE_RESET (all variables of the channel deleted) followed by STATE_MODIFY with
//! delta 0 (the message's `=` modifiers set, `max_state_message_id` := its id). Both go on the
//! same psycstore connection in that order, which psycstore keeps (ours usually commits the two
//! in one write batch, i.e. one transaction). psycstore keeps its C meaning
//! of delta 0 (its own C test `test_psycstore` relies on a delta-0 STATE_MODIFY *not* clearing
//! state). When two records of one channel share a peer's psycstore (a master and a slave on
//! one peer), each applies the reset; the second one re-applies the same message and the
//! state catches up with the next stateful message.
//!
//! Operators other than `=` and `:` (`+`, `-`, `@`) are skipped by psycstore (`psycstore.md`
//! §8.4; the C original declares but never implements typed values, so there is nothing to
//! append to or subtract from); a message carrying them still applies its `=` modifiers.
//!
//! # Memory (besides the id window)
//!
//! The fragments a record holds are bounded in bytes as well, by
//! [`Config::max_buffered_bytes`](super::Config::max_buffered_bytes) (whole fragments, headers
//! included). Fragments are released as soon as they are delivered. When a new fragment takes
//! the total over the bound, held fragments are evicted starting from the one furthest ahead
//! (highest message id, highest offset), never the delivered-in-order prefix of the message
//! due next; evicted fragments are fetched again by replay once there is room (while the
//! buffer is more than half full only the message due next is asked for, so replayed
//! fragments do not chase each other out). A stateful message due next that alone outgrows the bound before it is
//! complete cannot be applied and is skipped.
//!
//! # Gaps never block forever (gap P4)
//!
//! When fragments of a later message are held while the next one (or an earlier part of it)
//! is missing, the record asks multicast for the missing fragment by message id and offset
//! (REPLAY_REQUEST; the master answers from its psycstore). At most
//! [`Config::max_replays`](super::Config::max_replays) requests are outstanding per record;
//! each has [`Config::replay_timeout`](super::Config::replay_timeout) and is asked again up to
//! [`Config::replay_attempts`](super::Config::replay_attempts) times in all. A message that
//! is still missing then, or whose replay failed, is **skipped**: if part of it was delivered
//! already, the clients get a CANCEL part for it (which every PSYC receiver accepts in any
//! state), and delivery goes on with the next id. Fragments more than
//! [`Config::receive_window`](super::Config::receive_window) ids ahead are dropped; replay
//! fetches them when the window reaches them. A record that holds nothing and sees a message
//! beyond its window (a slave whose stored history is far behind) starts at that message.
//!
//! # Where a slave starts
//!
//! A slave whose peer holds history of the channel starts after the stored `max_message_id`
//! (and pulls what it missed by replay). A slave whose peer holds none starts at the first
//! message id multicast delivers to it, i.e. from the master's numbering: the C service
//! started at its own peer's counters (0) and could never deliver the master's next message
//! once the channel had any history (gap P4). A C slave next to a Rust master still has that
//! problem; a Rust slave next to a C master does not.

//!
//! # Slaves that join late (gap P4 family)
//!
//! A stateful message whose predecessor in the state chain is not applied here (a slave that
//! joined an established channel) first fetches the missing chain by replay; see
//! [`catchup`](super::catchup).
//!
//! # Requests (gap P5 stays, deliberately)
//!
//! Slave requests reach the master's clients as they arrive, not reordered and not stored, as
//! in C. Ordering them per slave would need a sequence the master can trust across a slave's
//! restarts: request ids restart at 1 with every new slave record (C and ours alike, they are
//! not persisted), so the master could not tell a restarted slave's request 1 from a
//! duplicate without a new wire field. Multicast carries one member's requests to the origin
//! over one CADET path in order anyway. Request fragments are checked like message fragments
//! (parts, METHOD exactly at offset 0) and dropped when invalid.
//!
//! # Group generation
//!
//! A record remembers the group generation of the last fragment it delivered (from the
//! psycstore counters at start); a slave record files memberships with it (see [`super`]).

use std::collections::BTreeMap;
use std::time::Instant;

use multicast::msg::{Fragment, ReplayIds};
use psycstore::msg::{Request as StoreRequest, RequestHead, StateModify, StateReset};
use tracing::{debug, warn};

use super::action::{Action, Timer};
use super::fetch;
use super::record::{Ctx, Op, Record};
use crate::format::container::{
    check_parts, Delivery, DeliveryHeader, PartsSummary, DELIVERY_REQUEST,
};
use crate::format::parts::{Part, PartKind, STATE_DELTA_NOT_MODIFIED};
use crate::msg::Reply;

/// The `state_delta` of a message sent with the METHOD flag STATE_RESET.
pub(super) const STATE_DELTA_RESET: u64 = 0;

/// A fragment held for delivery.
#[derive(Debug)]
struct Held {
    fragment: Fragment,
    /// Its last part is END or CANCEL.
    ends: bool,
}

impl Held {
    /// What it counts against [`Config::max_buffered_bytes`](super::Config::max_buffered_bytes).
    fn size(&self) -> usize {
        self.fragment.wire_size()
    }
}

/// One message being received. Fragments are held until they are delivered.
#[derive(Debug, Default)]
struct Incoming {
    fragments: BTreeMap<u64, Held>,
    /// Offset of the first fragment not yet received in order from offset 0.
    contiguous: u64,
    /// Offset up to which fragments were delivered (and released).
    delivered: u64,
    /// The contiguous prefix holds the END or CANCEL.
    ended: bool,
    /// The METHOD's `state_delta`, once the first fragment is here.
    state_delta: Option<u64>,
    /// psycstore answered the STATE_MODIFY for this message.
    applied: bool,
    /// Given up: skip it when it is due.
    skipped: bool,
    /// Fragments of it were evicted for the byte bound: they will not come again by
    /// themselves.
    evicted: bool,
}

impl Incoming {
    fn stateful(&self) -> bool {
        self.state_delta
            .is_some_and(|d| d != STATE_DELTA_NOT_MODIFIED)
    }

    /// Advances `contiguous` over fragments that follow on.
    fn advance(&mut self) {
        while !self.ended {
            let Some(h) = self.fragments.get(&self.contiguous) else {
                return;
            };
            self.contiguous += h.fragment.wire_size() as u64;
            self.ended = h.ends;
        }
    }

    /// Fragments held past the contiguous prefix: proof that something is missing.
    fn has_holes(&self) -> bool {
        self.fragments.range(self.contiguous..).next().is_some()
    }

    /// Bytes of the fragments held.
    fn held_bytes(&self) -> usize {
        self.fragments.values().map(Held::size).sum()
    }
}

/// An outstanding replay request.
#[derive(Debug, Clone, Copy)]
struct Pending {
    attempt: u32,
}

/// A record's receive side.
#[derive(Debug, Default)]
pub(super) struct Receive {
    /// Next message id to deliver; `None` until known (a slave without stored history).
    next: Option<u64>,
    messages: BTreeMap<u64, Incoming>,
    replays: BTreeMap<u64, Pending>,
    /// The message whose STATE_MODIFY is with psycstore.
    applying: Option<u64>,
    max_state_message_id: u64,
    /// Bytes of all fragments held in `messages`.
    held_bytes: usize,
    /// The highest message id seen within the window, so that a message evicted whole at the
    /// end is still asked for.
    newest_seen: Option<u64>,
    /// Group generation of the last fragment delivered.
    group_generation: u64,
}

impl Receive {
    /// Sets where delivery starts: after `max_message_id`, or (`None`) at the first message
    /// that arrives.
    pub(super) fn start_after(&mut self, max_message_id: Option<u64>, max_state: u64) {
        self.next = max_message_id.map(|m| m.saturating_add(1));
        self.max_state_message_id = max_state;
    }

    /// The id of the last stateful message whose state is applied here, as far as known.
    pub(super) fn applied_state(&self) -> u64 {
        self.max_state_message_id
    }

    /// psycstore says the state of message `id` is applied (a state catch-up learnt it).
    pub(super) fn raise_applied_state(&mut self, id: u64) {
        self.max_state_message_id = self.max_state_message_id.max(id);
    }

    /// The last message id delivered in order (0 before any).
    pub(super) fn max_message_id(&self) -> u64 {
        self.next.map_or(0, |n| n.saturating_sub(1))
    }

    /// Group generation of the last fragment delivered.
    pub(super) fn group_generation(&self) -> u64 {
        self.group_generation
    }

    /// The generation to assume before the first delivery (psycstore's counters).
    pub(super) fn set_group_generation(&mut self, generation: u64) {
        self.group_generation = generation;
    }

    /// Bytes of fragments held, as counted, and as recounted from what is held (tests).
    #[cfg(test)]
    pub(super) fn held_bytes(&self) -> (usize, usize) {
        let recount = self.messages.values().map(Incoming::held_bytes).sum();
        (self.held_bytes, recount)
    }
}

/// The payload of a fragment as a delivery to clients.
fn delivery(flags: u32, message_id: u64, offset: u64, key: [u8; 32], parts: Vec<u8>) -> Reply {
    Reply::Message(Delivery {
        header: DeliveryHeader {
            flags,
            message_id,
            fragment_offset: offset,
            slave_pub_key: key,
        },
        parts,
    })
}

/// The check every received fragment (message or request) passes: parts well formed, and a
/// METHOD first exactly in the first fragment of a message (offset 0).
fn check_fragment(payload: &[u8], offset: u64, id: u64) -> Option<PartsSummary> {
    let Ok(summary) = check_parts(super::pad::unpadded(payload)?) else {
        debug!(id, "dropping a fragment with invalid parts");
        return None;
    };
    if (offset == 0) != (summary.first == Some(PartKind::Method)) {
        debug!(id, "dropping a fragment with METHOD in the wrong place");
        return None;
    }
    Some(summary)
}

impl Record {
    /// A multicast MESSAGE fragment (live or replayed) for this record.
    pub(super) fn receive_fragment(&mut self, now: Instant, f: Fragment, ctx: &mut Ctx<'_>) {
        let Some(summary) = check_fragment(&f.payload, f.fragment_offset, f.message_id) else {
            return;
        };
        if self.catchup_fragment(now, &f, &summary, ctx) {
            return; // an earlier message of the state chain (see super::catchup)
        }
        let next = *self.rx.next.get_or_insert(f.message_id);
        if f.message_id < next {
            // Delivered already: a replay or duplicate, unless a history replay asked for it.
            self.history_fragment(now, &f, ctx);
            return;
        }
        if f.message_id - next >= ctx.cfg.receive_window {
            if !self.rx.messages.is_empty() {
                debug!(
                    message_id = f.message_id,
                    "fragment beyond the receive window"
                );
                return;
            }
            // Nothing held: this record is far behind the channel (a slave whose stored
            // history is old). Catch up by starting at this message rather than replaying
            // more than a window's worth.
            warn!(
                from = next,
                to = f.message_id,
                "receiver jumps ahead to the channel"
            );
            self.rx.next = Some(f.message_id);
        }
        let m = self.rx.messages.entry(f.message_id).or_default();
        // Below `contiguous` everything was held already or delivered and released.
        if m.skipped
            || f.fragment_offset < m.contiguous
            || m.fragments.contains_key(&f.fragment_offset)
        {
            return;
        }
        if f.fragment_offset == 0 {
            if let Ok((Part::Method(method), _)) = Part::parse(&f.payload) {
                m.state_delta = Some(method.state_delta);
            }
        }
        // psycstore keeps the fragment as signed, padding and all; so does the receive
        // buffer (offsets count whole fragments). Clients get the parts without it.
        fetch::store_fragment(self, f.clone(), fetch::store_flags(&f), ctx);
        let Some(m) = self.rx.messages.get_mut(&f.message_id) else {
            return;
        };
        let ends = matches!(summary.last, Some(PartKind::End | PartKind::Cancel));
        let message_id = f.message_id;
        let before = m.contiguous;
        let held = Held { fragment: f, ends };
        self.rx.held_bytes += held.size();
        m.fragments.insert(held.fragment.fragment_offset, held);
        m.advance();
        if m.contiguous != before {
            // Progress on this message: its outstanding replay (if any) is answered.
            self.rx.replays.remove(&message_id);
        }
        self.rx.newest_seen = self.rx.newest_seen.max(Some(message_id));
        self.deliver_due(ctx);
        self.keep_byte_bound(ctx);
        self.request_missing(now, ctx);
    }

    /// A multicast REQUEST fragment from a slave (master records only): checked, then straight
    /// to the clients, unordered and unstored (gap P5 stays, see the module docs).
    pub(super) fn receive_request(&mut self, mut q: multicast::msg::Request, ctx: &mut Ctx<'_>) {
        if !self.is_master()
            || !super::pad::strip_in_place(&mut q.payload)
            || check_fragment(&q.payload, q.fragment_offset, q.request_id).is_none()
        {
            return;
        }
        let reply = delivery(
            DELIVERY_REQUEST,
            q.request_id,
            q.fragment_offset,
            q.member_pub_key.0,
            q.payload,
        );
        ctx.out.send_all(&self.clients, &reply);
    }

    /// psycstore answered the STATE_MODIFY of `message_id`.
    pub(super) fn state_applied(&mut self, message_id: u64, result: i64, ctx: &mut Ctx<'_>) {
        if self.rx.applying != Some(message_id) {
            return;
        }
        self.rx.applying = None;
        if let Some(m) = self.rx.messages.get_mut(&message_id) {
            m.applied = true;
            if result == psycstore::msg::status::OK {
                self.rx.max_state_message_id = message_id;
            } else {
                warn!(message_id, result, "state of a message not applied");
            }
        }
        self.deliver_due(ctx);
    }

    /// Asks psycstore to apply the state of message `id` (complete, due next): a reset first
    /// if its `state_delta` says so, then its modifiers.
    pub(super) fn apply_state(&mut self, id: u64, state_delta: u64, ctx: &mut Ctx<'_>) {
        let channel_key = self.store_channel();
        if state_delta == STATE_DELTA_RESET {
            let op_id = ctx.ops.start(Op::StateReset(self.key));
            ctx.out.store(StoreRequest::StateReset(StateReset {
                head: RequestHead::new(op_id, channel_key),
            }));
        }
        let op_id = ctx.ops.start(Op::StateModify {
            record: self.key,
            message_id: id,
        });
        ctx.out.store(StoreRequest::StateModify(StateModify {
            op_id,
            message_id: id,
            state_delta,
            channel_key,
        }));
        self.rx.applying = Some(id);
    }

    /// Delivers every message that is due, in id order, as far as it is here.
    pub(super) fn deliver_due(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(next) = self.rx.next {
            let Some(m) = self.rx.messages.get_mut(&next) else {
                return;
            };
            if m.skipped {
                if m.delivered > 0 && !m.ended {
                    let mut parts = Vec::new();
                    Part::Cancel.emit(&mut parts);
                    let reply = delivery(0, next, m.delivered, [0; 32], parts);
                    ctx.out.send_all(&self.clients, &reply);
                }
                self.finish(next);
                continue;
            }
            if m.stateful() && !m.applied {
                if m.ended && self.rx.applying.is_none() {
                    let delta = m.state_delta.unwrap_or(STATE_DELTA_NOT_MODIFIED);
                    // Applied now, or after a state catch-up (see super::catchup).
                    self.state_due(next, delta, ctx);
                }
                return;
            }
            let due: Vec<u64> = m
                .fragments
                .range(m.delivered..m.contiguous)
                .map(|(&o, _)| o)
                .collect();
            for offset in due {
                if let Some(h) = m.fragments.remove(&offset) {
                    self.rx.held_bytes = self.rx.held_bytes.saturating_sub(h.size());
                    self.rx.group_generation = h.fragment.group_generation;
                    let mut parts = h.fragment.payload;
                    super::pad::strip_in_place(&mut parts);
                    let reply = delivery(0, next, offset, [0; 32], parts);
                    ctx.out.send_all(&self.clients, &reply);
                }
            }
            m.delivered = m.contiguous;
            if !m.ended {
                return;
            }
            self.finish(next);
        }
    }

    /// Message `id` is done (delivered or skipped): the next one is due.
    fn finish(&mut self, id: u64) {
        if let Some(m) = self.rx.messages.remove(&id) {
            self.rx.held_bytes = self.rx.held_bytes.saturating_sub(m.held_bytes());
        }
        self.rx.replays.remove(&id);
        self.rx.next = Some(id + 1);
    }

    /// Evicts held fragments, furthest ahead first, until the record holds at most
    /// [`Config::max_buffered_bytes`](super::Config::max_buffered_bytes).
    fn keep_byte_bound(&mut self, ctx: &mut Ctx<'_>) {
        while self.rx.held_bytes > ctx.cfg.max_buffered_bytes {
            let Some(next) = self.rx.next else {
                return;
            };
            // The fragment furthest ahead, except the in-order prefix of the message due next.
            let victim = self.rx.messages.iter().rev().find_map(|(&id, m)| {
                let (&offset, _) = m.fragments.iter().next_back()?;
                (id != next || offset >= m.contiguous).then_some((id, offset))
            });
            match victim {
                Some((id, offset)) => self.evict(id, offset),
                // Delivered once applied (after its state catch-up, if any).
                None if self.rx.applying == Some(next) || self.catching_up(next) => return,
                None => self.skip(next, "a stateful message outgrew the buffer", ctx),
            }
        }
    }

    /// Drops the held fragment (`id`, `offset`), the last one held of that message.
    fn evict(&mut self, id: u64, offset: u64) {
        let Some(m) = self.rx.messages.get_mut(&id) else {
            return;
        };
        if let Some(h) = m.fragments.remove(&offset) {
            self.rx.held_bytes = self.rx.held_bytes.saturating_sub(h.size());
        }
        debug!(
            message_id = id,
            offset, "fragment evicted for the byte bound"
        );
        m.evicted = true;
        if offset < m.contiguous {
            // Nothing lies beyond it: the in-order prefix now ends here.
            m.contiguous = offset;
            m.ended = false;
        }
        if m.fragments.is_empty() && m.delivered == 0 && !m.skipped {
            self.rx.messages.remove(&id);
        }
    }

    /// Asks multicast for missing fragments: of every message up to the newest one seen that
    /// is incomplete while later data is here (or was evicted), within the bound on
    /// outstanding requests. While the buffer is more than half full only the message due
    /// next is asked for.
    fn request_missing(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if !self.mc_up {
            return; // asked once the connection is back
        }
        let Some(next) = self.rx.next else {
            return;
        };
        let newest = self
            .rx
            .newest_seen
            .max(self.rx.messages.keys().next_back().copied());
        let Some(newest) = newest else {
            return;
        };
        // Replies to requests for later messages would only displace each other while the
        // buffer is well filled; the message due next always has room.
        let room = self.rx.held_bytes <= ctx.cfg.max_buffered_bytes / 2;
        let last = if room { newest } else { next.min(newest) };
        for id in next..=last {
            if self.rx.replays.len() >= ctx.cfg.max_replays {
                return;
            }
            if self.rx.replays.contains_key(&id) {
                continue;
            }
            let offset = match self.rx.messages.get(&id) {
                None => Some(0),
                Some(m) if m.skipped || m.ended => None,
                Some(m) => (id < newest || m.has_holes() || m.evicted).then_some(m.contiguous),
            };
            if let Some(offset) = offset {
                self.ask_replay(now, id, offset, 1, ctx);
            }
        }
    }

    fn ask_replay(
        &mut self,
        now: Instant,
        message_id: u64,
        offset: u64,
        attempt: u32,
        ctx: &mut Ctx<'_>,
    ) {
        self.rx.replays.insert(message_id, Pending { attempt });
        ctx.out
            .multicast(self.key, fetch::replay_request(message_id, offset));
        ctx.out.push(Action::SetTimer {
            at: now + ctx.cfg.replay_timeout,
            timer: Timer::Replay {
                record: self.key,
                message_id,
                attempt,
            },
        });
    }

    /// A replay timer fired: ask again, or skip the message after the last attempt.
    pub(super) fn replay_timeout(
        &mut self,
        now: Instant,
        message_id: u64,
        attempt: u32,
        ctx: &mut Ctx<'_>,
    ) {
        match self.rx.replays.get(&message_id) {
            Some(p) if p.attempt == attempt => {}
            _ => return, // answered, or a newer request runs
        }
        if attempt >= ctx.cfg.replay_attempts {
            self.skip(message_id, "no replay in time", ctx);
        } else {
            let offset = self
                .rx
                .messages
                .get(&message_id)
                .map_or(0, |m| m.contiguous);
            self.ask_replay(now, message_id, offset, attempt + 1, ctx);
        }
        self.request_missing(now, ctx);
    }

    /// The multicast connection broke: outstanding replay requests died with it (their
    /// timers are ignored when they fire).
    pub(super) fn receive_suspend(&mut self) {
        self.rx.replays.clear();
    }

    /// The multicast connection is up again: ask for what is missing.
    pub(super) fn receive_resume(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        self.request_missing(now, ctx);
    }

    /// Multicast reported that a replay failed: the message is skipped.
    pub(super) fn replay_failed(&mut self, now: Instant, ids: ReplayIds, ctx: &mut Ctx<'_>) {
        if self.rx.replays.contains_key(&ids.message_id) {
            self.skip(ids.message_id, "replay failed", ctx);
            self.request_missing(now, ctx);
        }
    }

    /// Gives message `message_id` up (a CANCEL closes it for the clients if part of it was
    /// delivered) and goes on with the next.
    fn skip(&mut self, message_id: u64, why: &str, ctx: &mut Ctx<'_>) {
        warn!(message_id, why, "skipping a message");
        self.rx.replays.remove(&message_id);
        self.rx.messages.entry(message_id).or_default().skipped = true;
        self.deliver_due(ctx);
    }
}
