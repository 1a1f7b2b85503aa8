//! State catch-up: a slave that joined an established channel late fetches the chain of
//! earlier stateful messages by replay, so that it holds the same channel state as the
//! master (a fix in the gap P4 family; the C service never had it).
//!
//! # The problem
//!
//! [`receive`](super::receive) applies a stateful message `M` (METHOD `state_delta` `d`,
//! not NOT_MODIFIED) through psycstore STATE_MODIFY before delivering it. psycstore takes
//! the change only if the state it holds was last changed by message `M − d` (`d` is the
//! distance to the channel's previous stateful message; `d = 0` is a STATE_RESET). A slave
//! whose peer holds no state of the channel (it joined late, and its history starts with the
//! first message multicast hands it) therefore could never apply a state change until the
//! next reset: it never had the channel's state.
//!
//! # The fix: follow the state chain backwards
//!
//! When a stateful message `M` with `d ≠ 0` is due and complete at a slave record, and its
//! predecessor `prev = M − d` is newer than the state the record knows applied, the record
//! first
//!
//! 1. asks its psycstore how far the state really is applied (COUNTERS_GET: two records of
//!    one channel on one peer share the state, so the other one may have applied it);
//! 2. fetches message `prev` from the channel by multicast replay (REPLAY_REQUEST by message
//!    id with fragment offset 0, then the next offsets, `offset + fragment size`, until the
//!    fragment whose last part is END or CANCEL), stores each fragment in psycstore (the
//!    first one with the STATE flag, as reception does) and reads the METHOD's `state_delta`
//!    `d'`;
//! 3. goes on with `prev − d'` until the predecessor is at or before the applied state, or
//!    the message is a reset (`d' = 0`), or it is the channel's first stateful message
//!    (predecessor 0);
//! 4. applies the fetched messages in increasing id order (STATE_MODIFY; STATE_RESET first
//!    for a reset), then applies `M` and delivers it as usual. All of it goes to psycstore on
//!    one connection in that order, after the fragments were stored, which psycstore keeps.
//!
//! The fetched messages are **not** delivered to the record's clients: they predate where
//! the slave's delivery starts (clients can read them with HISTORY_REPLAY once stored).
//! Delivery of `M` and everything after it waits for the catch-up.
//!
//! # Bounds: delivery never waits for ever
//!
//! - One catch-up per record at a time, one replay request outstanding in it.
//! - At most [`Config::max_state_chain`](super::Config::max_state_chain) messages and
//!   [`Config::max_state_chain_fragments`](super::Config::max_state_chain_fragments)
//!   fragments are fetched; a longer chain is given up.
//! - Each request has [`Config::replay_timeout`](super::Config::replay_timeout) and is asked
//!   up to [`Config::replay_attempts`](super::Config::replay_attempts) times; while the
//!   multicast connection is down nothing is asked, and the request goes again when it is
//!   up.
//! - A failed replay (REPLAY_RESPONSE with an error), a timed-out one, a chain that leads to
//!   a message without state, or any bound reached gives the catch-up up: `M` is applied as
//!   without catch-up (psycstore refuses it, and the state stays behind until the next
//!   stateful message tries again or a reset) and delivered.
//!
//! # What the channel must allow
//!
//! The master answers replay requests from its psycstore with a membership test of the
//! asking slave's key (see [`super`]): the chain is only served if the master's application
//! stored the slave's membership (CHANNEL_MEMBERSHIP_STORE) with `effective_since` at or
//! before the oldest message of the chain (e.g. 1 for the whole history). A slave refused
//! that way gets the replay failure, and the catch-up is given up as above. Multicast may
//! also answer from its own replay cache.
//!
//! Only slave records catch up: a master applies its own messages in the order it numbered
//! them from its own psycstore.

use std::time::Instant;

use multicast::msg::{Fragment, ReplayIds};
use psycstore::msg::{
    message_flags, status, CountersGet, CountersResult, Request as StoreRequest, RequestHead,
    StateModify, StateReset,
};
use tracing::{debug, warn};

use super::action::{Action, Timer};
use super::receive::STATE_DELTA_RESET;
use super::record::{Ctx, Op, Record, Role};
use crate::format::container::PartsSummary;
use crate::format::parts::{Part, PartKind, STATE_DELTA_NOT_MODIFIED};

/// A record's state catch-up: at most one run at a time.
#[derive(Debug, Default)]
pub(super) struct CatchUp {
    run: Option<Run>,
    /// Replay requests sent by this record's catch-ups, to tell a request's timer from the
    /// timers of earlier ones.
    requests: u64,
}

/// One catch-up, for the stateful message `target`.
#[derive(Debug)]
struct Run {
    /// The message waiting (due next, complete) until the chain before it is applied.
    target: u64,
    /// The next message of the chain to fetch, going backwards.
    wanted: u64,
    /// psycstore's `max_state_message_id`; `None` while it is being asked.
    base: Option<u64>,
    /// The messages fetched and stored, newest first.
    chain: Vec<Link>,
    /// The message being fetched.
    fetch: Option<Fetch>,
    /// Fragments fetched so far.
    fragments: u64,
    /// Done (chain applied, or given up): the target may be applied.
    finished: bool,
}

/// A fetched stateful message.
#[derive(Debug, Clone, Copy)]
struct Link {
    message_id: u64,
    state_delta: u64,
}

/// The message being fetched, one fragment at a time.
#[derive(Debug)]
struct Fetch {
    message_id: u64,
    /// Offset of the fragment asked for.
    offset: u64,
    /// From the METHOD, once the first fragment is here.
    state_delta: Option<u64>,
    /// Which request for this fragment is outstanding.
    attempt: u32,
    /// The number of the outstanding request (its timer's); `None` while nothing is asked
    /// (multicast is down).
    request: Option<u64>,
}

/// What to do after a fetched message was complete.
enum Step {
    Fetch(u64),
    Apply,
    GiveUp(&'static str),
}

impl Record {
    /// Stateful message `id` is due and complete: apply its state now, or after catching up
    /// with the chain before it.
    pub(super) fn state_due(&mut self, id: u64, state_delta: u64, ctx: &mut Ctx<'_>) {
        if let Some(run) = &self.catchup.run {
            if run.target == id {
                if run.finished {
                    self.catchup.run = None;
                    self.apply_state(id, state_delta, ctx);
                }
                return; // still catching up
            }
            // A run for a message that is no longer due (skipped): gone with it.
            self.catchup.run = None;
        }
        // The predecessor in the state chain, if its changes are missing here.
        let missing = id
            .checked_sub(state_delta)
            .filter(|_| state_delta != STATE_DELTA_RESET && state_delta != STATE_DELTA_NOT_MODIFIED)
            .filter(|&prev| prev > self.rx.applied_state());
        let slave = matches!(self.role, Role::Slave(_));
        let Some(prev) = missing.filter(|_| slave && ctx.cfg.max_state_chain > 0) else {
            self.apply_state(id, state_delta, ctx);
            return;
        };
        debug!(
            message_id = id,
            prev, "state behind the channel: catching up"
        );
        let op_id = ctx.ops.start(Op::CatchUpBase {
            record: self.key,
            target: id,
        });
        ctx.out.store(StoreRequest::CountersGet(CountersGet {
            head: RequestHead::new(op_id, self.store_channel()),
        }));
        self.catchup.run = Some(Run {
            target: id,
            wanted: prev,
            base: None,
            chain: Vec::new(),
            fetch: None,
            fragments: 0,
            finished: false,
        });
    }

    /// Whether message `id` waits for its state catch-up.
    pub(super) fn catching_up(&self, id: u64) -> bool {
        self.catchup
            .run
            .as_ref()
            .is_some_and(|r| r.target == id && !r.finished)
    }

    /// psycstore answered the counters lookup of the catch-up for `target`.
    pub(super) fn catchup_base(
        &mut self,
        now: Instant,
        target: u64,
        c: &CountersResult,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(run) = self.catchup.run.as_mut() else {
            return;
        };
        if run.target != target || run.base.is_some() || run.finished {
            return;
        }
        if c.result_code < 0 {
            self.catchup_abort(target, "psycstore counters unreadable", ctx);
            return;
        }
        let base = c.max_state_message_id;
        run.base = Some(base);
        let wanted = run.wanted;
        self.rx.raise_applied_state(base);
        if wanted <= base {
            self.apply_chain(ctx); // applied here already (by another record of the peer)
        } else {
            self.fetch_chain_message(now, wanted, ctx);
        }
    }

    /// Starts fetching message `id` of the chain, from its first fragment.
    fn fetch_chain_message(&mut self, now: Instant, id: u64, ctx: &mut Ctx<'_>) {
        let Some(run) = self.catchup.run.as_mut() else {
            return;
        };
        run.fetch = Some(Fetch {
            message_id: id,
            offset: 0,
            state_delta: None,
            attempt: 1,
            request: None,
        });
        self.ask_chain(now, ctx);
    }

    /// Sends the replay request of the fetch in progress (unless multicast is down, or the
    /// fragment bound is reached).
    fn ask_chain(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some(run) = self.catchup.run.as_mut() else {
            return;
        };
        let target = run.target;
        if run.fragments >= ctx.cfg.max_state_chain_fragments {
            self.catchup_abort(target, "more fragments than the bound", ctx);
            return;
        }
        let Some(fetch) = run.fetch.as_mut() else {
            return;
        };
        if !self.mc_up {
            fetch.request = None; // asked once the connection is back
            return;
        }
        self.catchup.requests += 1;
        let request = self.catchup.requests;
        fetch.request = Some(request);
        ctx.out.multicast(
            self.key,
            super::fetch::replay_request(fetch.message_id, fetch.offset),
        );
        ctx.out.push(Action::SetTimer {
            at: now + ctx.cfg.replay_timeout,
            timer: Timer::StateChain {
                record: self.key,
                request,
            },
        });
    }

    /// A received fragment: if it is the one the catch-up asked for, it is stored and the
    /// fetch goes on. Returns whether the fragment belongs to the catch-up (then reception
    /// has nothing to do with it: it is older than anything the record delivers).
    pub(super) fn catchup_fragment(
        &mut self,
        now: Instant,
        f: &Fragment,
        summary: &PartsSummary,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let channel_key = self.store_channel();
        let Some(run) = self.catchup.run.as_mut() else {
            return false;
        };
        let target = run.target;
        let Some(fetch) = run.fetch.as_mut().filter(|x| x.message_id == f.message_id) else {
            return false;
        };
        if f.fragment_offset != fetch.offset {
            return true; // a duplicate, or not asked for
        }
        let mut psycstore_flags = 0;
        if fetch.offset == 0 {
            match Part::parse(&f.payload) {
                Ok((Part::Method(m), _)) if m.state_delta != STATE_DELTA_NOT_MODIFIED => {
                    fetch.state_delta = Some(m.state_delta);
                    psycstore_flags = message_flags::STATE;
                }
                _ => {
                    self.catchup_abort(target, "the chain leads to a message without state", ctx);
                    return true;
                }
            }
        }
        run.fragments += 1;
        super::fetch::store(self.key, channel_key, f.clone(), psycstore_flags, ctx);
        if !matches!(summary.last, Some(PartKind::End | PartKind::Cancel)) {
            fetch.offset = fetch.offset.saturating_add(f.wire_size() as u64);
            fetch.attempt = 1;
            self.ask_chain(now, ctx);
            return true;
        }
        let link = Link {
            message_id: f.message_id,
            state_delta: fetch.state_delta.unwrap_or(STATE_DELTA_RESET),
        };
        run.fetch = None;
        run.chain.push(link);
        let base = run.base.unwrap_or(0);
        let step = match link.message_id.checked_sub(link.state_delta) {
            _ if link.state_delta == STATE_DELTA_RESET => Step::Apply,
            Some(prev) if prev <= base => Step::Apply,
            Some(_) if run.chain.len() as u64 >= ctx.cfg.max_state_chain => {
                Step::GiveUp("the state chain is longer than the bound")
            }
            Some(prev) => Step::Fetch(prev),
            None => Step::GiveUp("a state_delta beyond its message id"),
        };
        match step {
            Step::Fetch(prev) => self.fetch_chain_message(now, prev, ctx),
            Step::Apply => self.apply_chain(ctx),
            Step::GiveUp(why) => self.catchup_abort(target, why, ctx),
        }
        true
    }

    /// The chain is fetched and stored: its state changes go to psycstore oldest first, then
    /// the target is applied and delivered.
    fn apply_chain(&mut self, ctx: &mut Ctx<'_>) {
        let channel_key = self.store_channel();
        let Some(run) = self.catchup.run.as_mut() else {
            return;
        };
        for link in run.chain.iter().rev() {
            if link.state_delta == STATE_DELTA_RESET {
                let op_id = ctx.ops.start(Op::StateReset(self.key));
                ctx.out.store(StoreRequest::StateReset(StateReset {
                    head: RequestHead::new(op_id, channel_key),
                }));
            }
            let op_id = ctx.ops.start(Op::CatchUpModify {
                record: self.key,
                message_id: link.message_id,
            });
            ctx.out.store(StoreRequest::StateModify(StateModify {
                op_id,
                message_id: link.message_id,
                state_delta: link.state_delta,
                channel_key,
            }));
        }
        debug!(
            message_id = run.target,
            messages = run.chain.len(),
            "state chain fetched"
        );
        run.finished = true;
        run.fetch = None;
        self.deliver_due(ctx);
    }

    /// Gives the catch-up for `target` up: the target is applied as without it, and
    /// delivered.
    pub(super) fn catchup_abort(&mut self, target: u64, why: &str, ctx: &mut Ctx<'_>) {
        let Some(run) = self.catchup.run.as_mut().filter(|r| r.target == target) else {
            return;
        };
        if run.finished {
            return;
        }
        warn!(
            message_id = target,
            why, "state catch-up given up; the state stays behind"
        );
        run.finished = true;
        run.fetch = None;
        self.deliver_due(ctx);
    }

    /// psycstore answered the STATE_MODIFY of a fetched message.
    pub(super) fn catchup_modified(&mut self, message_id: u64, result: i64) {
        if result == status::OK {
            self.rx.raise_applied_state(message_id);
        } else {
            warn!(message_id, result, "state of a fetched message not applied");
        }
    }

    /// Multicast reported a failed replay; returns whether it was the catch-up's (which is
    /// then given up).
    pub(super) fn catchup_replay_failed(&mut self, ids: ReplayIds, ctx: &mut Ctx<'_>) -> bool {
        let Some(run) = self.catchup.run.as_ref() else {
            return false;
        };
        let ours = run
            .fetch
            .as_ref()
            .is_some_and(|x| x.message_id == ids.message_id && x.offset == ids.fragment_offset);
        if ours {
            let target = run.target;
            self.catchup_abort(target, "replay failed", ctx);
        }
        ours
    }

    /// A catch-up replay timer fired: ask again, or give up after the last attempt.
    pub(super) fn catchup_timeout(&mut self, now: Instant, request: u64, ctx: &mut Ctx<'_>) {
        let Some(run) = self.catchup.run.as_mut() else {
            return;
        };
        let target = run.target;
        let Some(fetch) = run.fetch.as_mut().filter(|x| x.request == Some(request)) else {
            return; // answered, or a newer request runs
        };
        if fetch.attempt >= ctx.cfg.replay_attempts {
            self.catchup_abort(target, "no replay in time", ctx);
        } else {
            fetch.attempt += 1;
            self.ask_chain(now, ctx);
        }
    }

    /// The multicast connection broke: the outstanding request died with it.
    pub(super) fn catchup_suspend(&mut self) {
        if let Some(fetch) = self.catchup.run.as_mut().and_then(|r| r.fetch.as_mut()) {
            fetch.request = None;
        }
    }

    /// The multicast connection is up again: ask for the fragment being fetched.
    pub(super) fn catchup_resume(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let waiting = self
            .catchup
            .run
            .as_ref()
            .and_then(|r| r.fetch.as_ref())
            .is_some_and(|x| x.request.is_none());
        if waiting {
            self.ask_chain(now, ctx);
        }
    }
}
