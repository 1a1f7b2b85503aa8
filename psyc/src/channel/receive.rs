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

use std::collections::BTreeMap;
use std::time::Instant;

use multicast::msg::{Any, Fragment, ReplayIds, ReplayRequest};
use psycstore::msg::{message_flags, FragmentStore, Request as StoreRequest, StateModify};
use tracing::{debug, warn};

use super::action::{Action, Timer};
use super::record::{Ctx, Op, Record};
use crate::format::container::{check_parts, Delivery, DeliveryHeader, DELIVERY_REQUEST};
use crate::format::parts::{Part, PartKind, STATE_DELTA_NOT_MODIFIED};
use crate::msg::Reply;

/// A fragment held for delivery.
#[derive(Debug)]
struct Held {
    fragment: Fragment,
    /// Its last part is END or CANCEL.
    ends: bool,
}

/// One message being received.
#[derive(Debug, Default)]
struct Incoming {
    fragments: BTreeMap<u64, Held>,
    /// Offset of the first fragment not yet received in order from offset 0.
    contiguous: u64,
    /// Offset up to which fragments were delivered.
    delivered: u64,
    /// The contiguous prefix holds the END or CANCEL.
    ended: bool,
    /// The METHOD's `state_delta`, once the first fragment is here.
    state_delta: Option<u64>,
    /// psycstore answered the STATE_MODIFY for this message.
    applied: bool,
    /// Given up: skip it when it is due.
    skipped: bool,
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
}

impl Receive {
    /// Sets where delivery starts: after `max_message_id`, or (`None`) at the first message
    /// that arrives.
    pub(super) fn start_after(&mut self, max_message_id: Option<u64>, max_state: u64) {
        self.next = max_message_id.map(|m| m.saturating_add(1));
        self.max_state_message_id = max_state;
    }

    /// The last message id delivered in order (0 before any).
    pub(super) fn max_message_id(&self) -> u64 {
        self.next.map_or(0, |n| n.saturating_sub(1))
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

impl Record {
    /// A multicast MESSAGE fragment (live or replayed) for this record.
    pub(super) fn receive_fragment(&mut self, now: Instant, f: Fragment, ctx: &mut Ctx<'_>) {
        let Ok(summary) = check_parts(&f.payload) else {
            debug!(
                message_id = f.message_id,
                "dropping a fragment with invalid parts"
            );
            return;
        };
        let first_is_method = summary.first == Some(PartKind::Method);
        if (f.fragment_offset == 0) != first_is_method {
            debug!(
                message_id = f.message_id,
                "dropping a fragment with METHOD in the wrong place"
            );
            return;
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
        let channel_key = self.store_channel();
        let m = self.rx.messages.entry(f.message_id).or_default();
        if m.skipped || m.fragments.contains_key(&f.fragment_offset) {
            return;
        }
        let mut psycstore_flags = 0;
        if first_is_method {
            if let Ok((Part::Method(method), _)) = Part::parse(&f.payload) {
                m.state_delta = Some(method.state_delta);
                if method.state_delta != STATE_DELTA_NOT_MODIFIED {
                    psycstore_flags = message_flags::STATE;
                }
            }
        }
        let op_id = ctx.ops.start(Op::FragmentStore(self.key));
        // psycstore stores multicast's own fragment type: no conversion.
        ctx.out.store(StoreRequest::FragmentStore(FragmentStore {
            psycstore_flags,
            channel_key,
            op_id,
            fragment: f.clone(),
        }));
        let ends = matches!(summary.last, Some(PartKind::End | PartKind::Cancel));
        let message_id = f.message_id;
        let before = m.contiguous;
        m.fragments
            .insert(f.fragment_offset, Held { fragment: f, ends });
        m.advance();
        if m.contiguous != before {
            // Progress on this message: its outstanding replay (if any) is answered.
            self.rx.replays.remove(&message_id);
        }
        self.deliver_due(ctx);
        self.request_missing(now, ctx);
    }

    /// A multicast REQUEST fragment from a slave (master records only): straight to the
    /// clients, unordered and unstored, as in C (gap P5 stays).
    pub(super) fn receive_request(&mut self, q: multicast::msg::Request, ctx: &mut Ctx<'_>) {
        if !self.is_master() || check_parts(&q.payload).is_err() {
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

    /// Delivers every message that is due, in id order, as far as it is here.
    fn deliver_due(&mut self, ctx: &mut Ctx<'_>) {
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
                    let op_id = ctx.ops.start(Op::StateModify {
                        record: self.key,
                        message_id: next,
                    });
                    ctx.out.store(StoreRequest::StateModify(StateModify {
                        op_id,
                        message_id: next,
                        state_delta: m.state_delta.unwrap_or(STATE_DELTA_NOT_MODIFIED),
                        channel_key: self.store_channel(),
                    }));
                    self.rx.applying = Some(next);
                }
                return;
            }
            let due: Vec<u64> = m
                .fragments
                .range(m.delivered..m.contiguous)
                .map(|(&o, _)| o)
                .collect();
            for offset in due {
                if let Some(h) = m.fragments.get(&offset) {
                    let reply = delivery(0, next, offset, [0; 32], h.fragment.payload.clone());
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
        self.rx.messages.remove(&id);
        self.rx.replays.remove(&id);
        self.rx.next = Some(id + 1);
    }

    /// Asks multicast for missing fragments: of every message up to the newest one held
    /// that is incomplete while later data is here, within the bound on outstanding requests.
    fn request_missing(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if !self.mc_up {
            return; // asked once the connection is back
        }
        let (Some(next), Some(&newest)) = (self.rx.next, self.rx.messages.keys().next_back())
        else {
            return;
        };
        for id in next..=newest {
            if self.rx.replays.len() >= ctx.cfg.max_replays {
                return;
            }
            if self.rx.replays.contains_key(&id) {
                continue;
            }
            let offset = match self.rx.messages.get(&id) {
                None => Some(0),
                Some(m) if m.skipped || m.ended => None,
                Some(m) => (id < newest || m.has_holes()).then_some(m.contiguous),
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
        ctx.out.multicast(
            self.key,
            Any::ReplayRequest(ReplayRequest {
                member_pub_key: gnunet_service::crypto::ecdsa::PublicKey([0; 32]),
                ids: ReplayIds {
                    fragment_id: 0,
                    message_id,
                    fragment_offset: offset,
                    flags: 0,
                },
                uid: 0,
            }),
        );
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
            self.skip(message_id, ctx);
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
            self.skip(ids.message_id, ctx);
            self.request_missing(now, ctx);
        }
    }

    fn skip(&mut self, message_id: u64, ctx: &mut Ctx<'_>) {
        warn!(message_id, "skipping a message that could not be replayed");
        self.rx.replays.remove(&message_id);
        self.rx.messages.entry(message_id).or_default().skipped = true;
        self.deliver_due(ctx);
    }
}
