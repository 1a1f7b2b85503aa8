//! The channel logic of the psyc service, without IO: master and slave records as state
//! machines (`psyc.md` §3–§10).
//!
//! [`Channels`] takes decoded inputs through `handle_*(now, …)` methods — client requests
//! ([`crate::msg::Request`]), a client going away, multicast events for a record
//! ([`multicast::client::Event`]), psycstore replies ([`psycstore::msg::Reply`]) and timers —
//! and returns [`Action`]s through [`Channels::poll_action`]: messages to clients, messages to
//! the multicast service on a record's own connection, psycstore requests (with op ids the
//! logic assigns and matches the answers by), timers, and clients to drop. It reads no clock
//! and opens no socket; the service driver carries the actions out.
//!
//! # Records
//!
//! - A **master record** per channel (keyed by the channel public key) is created by the
//!   first MASTER_START: psycstore counters → multicast ORIGIN_START with the stored
//!   `max_fragment_id` → MASTER_START_ACK with `max_message_id`. Later MASTER_STARTs for the
//!   same key attach to it. It numbers the channel's messages, answers join requests
//!   (membership test in psycstore first, then its clients decide) and members' replay
//!   requests (from psycstore).
//! - A **slave record** per (channel, slave key) is created by the first SLAVE_JOIN:
//!   psycstore counters → multicast MEMBER_JOIN (with the relays, and the join message) →
//!   SLAVE_JOIN_ACK; the join decision reaches every client of the record and is kept for
//!   clients that attach later. It numbers its requests to the master.
//! - A client binds to one record with its first message (MASTER_START or SLAVE_JOIN);
//!   anything else first, or a second binding message, drops it.
//! - Both send ([`transmit`]) and receive ([`receive`]) the same way; the master receives its
//!   own messages back from multicast.
//!
//! # psycstore and multicast restarting
//!
//! The driver says when the psycstore connection is up ([`Channels::handle_store_up`]) and
//! when a record's multicast connection is up or broke ([`Channels::handle_multicast_up`],
//! [`Channels::handle_multicast_down`]); the logic keeps what it needs to carry on:
//!
//! - Every psycstore request stays with its operation until answered and is sent again each
//!   time psycstore is (back) up, so a restarted psycstore loses no record, no fragment to
//!   store and no state change; reads that had passed part of their answer on end with an
//!   error instead of repeating it.
//! - A record's ORIGIN_START / MEMBER_JOIN goes first on every multicast connection: a
//!   master starts after the highest fragment id of the channel it has seen (so fragment ids
//!   stay unique in every psycstore), a member joins again with the same origin, relays and
//!   join message and keeps its admission (a refusal now reaches its clients). The fragments
//!   that had no FRAGMENT_ACK yet go again (receivers drop a fragment they have);
//!   outstanding replay requests are asked again; a part in progress is done.
//!
//! The C service had no such handling: it lost its records when either service restarted.
//!
//! # What differs from the C service, and who can see it
//!
//! Behaviour fixes only; every wire layout is the C one. Fixes of transmission and reception
//! are listed in [`transmit`] and [`receive`]; a slave that joins late fetches the chain of
//! earlier stateful messages by replay so that it holds the channel state ([`catchup`]).
//! Others:
//!
//! - A client attaching to a record whose counters lookup is still pending gets its
//!   START/JOIN ACK with the looked-up values when they arrive (the C service answered at once
//!   with result 1 and a possibly stale id, gap P17). A failed lookup is reported and the
//!   record is removed (a half-made record stayed, gap P13).
//! - The relays of SLAVE_JOIN are passed to multicast (gap P6).
//! - SLAVE_JOIN with the LOCAL flag does not join the network (gap P8); the joining client
//!   itself gets an admitting decision (C sent a fresh one to the *other* clients).
//! - Join requests reaching a slave record are ignored; only the master answers (gap P7).
//! - A refused slave leaves the multicast group (PART_REQUEST, then its connection is closed,
//!   gap P21); a later SLAVE_JOIN of the record joins again once multicast confirmed the part.
//! - A MASTER_START for a master record that was stopped but is still held by a client (the
//!   stopping client's disconnect not seen yet) starts the channel again, from fresh counters.
//! - When the last client of a record leaves, the record's multicast connection is closed,
//!   which stops the origin or parts the member (gap P13), and its pending operations are
//!   forgotten. PART_ACK goes to the clients that asked.
//! - History and state results go only to the client that asked (gap P11).
//! - Replay requests of members are answered by message id *and* fragment offset (gap P18).
//! - Memberships are stored (CHANNEL_MEMBERSHIP_STORE) and tested (join requests) with the
//!   record's group generation, which the master advances on INC_GROUP_GEN (gap P16; C
//!   always passed 0). psycstore files it but does not use it, as in C.
//! - History replays are filtered by method, and a slave fetches what its psycstore lacks
//!   from the channel (with the REMOTE flag, or for holes in its local history), see
//!   [`remote`] (gap P11).

mod action;
pub mod catchup;
mod delay;
mod fetch;
pub mod pad;
mod query;
pub mod receive;
mod record;
pub mod remote;
mod start;
pub mod transmit;

use std::collections::HashMap;
use std::time::Instant;

use gnunet_service::privacy::Padding;
use multicast::client::Event;
use psycstore::msg::Reply as StoreReply;
use tracing::debug;

use action::Outbox;
pub use action::{Action, ClientId, Config, RecordKey, Timer};
use record::{Ctx, Op, Ops, Record};

use crate::msg::Request;

/// The psyc service's channel records on one peer, without IO.
///
/// After each `handle_*` call drain [`Channels::poll_action`] and carry the actions out in
/// order.
#[derive(Debug)]
pub struct Channels {
    cfg: Config,
    records: HashMap<RecordKey, Record>,
    /// Bound clients and their record; a client not here is unbound.
    clients: HashMap<ClientId, RecordKey>,
    ops: Ops,
    out: Outbox,
    /// Automatic answers held for their privacy delay.
    answers: delay::HeldAnswers,
    /// The padding scheme of what the records send next (see [`pad`]).
    padding: Padding,
    /// Whether a master's multicast signs its fragments deniably, appending an epoch
    /// certificate ([`multicast::epoch`]): the padding leaves room for it.
    deniable: bool,
}

impl Channels {
    /// No records yet.
    pub fn new(cfg: Config) -> Self {
        Self {
            ops: Ops::new(cfg.max_store_ops),
            cfg,
            records: HashMap::new(),
            clients: HashMap::new(),
            out: Outbox::default(),
            answers: delay::HeldAnswers::default(),
            padding: Padding::None,
            deniable: false,
        }
    }

    /// The padding scheme for the messages formed from now on (see [`pad`]); none until set.
    /// The driver sets the current one before each `handle_*` call, so a changed
    /// configuration pads the next message.
    pub fn set_padding(&mut self, padding: &Padding) {
        if self.padding != *padding {
            self.padding = padding.clone();
        }
    }

    /// Whether the multicast service below signs fragments deniably (`[secushare]
    /// DENIABLE`, the same knob it reads): a master's fragments are then padded so that they
    /// reach their class with the epoch certificate multicast appends, and announcements stay
    /// as large as every other kind of message.
    pub fn set_deniable(&mut self, deniable: bool) {
        self.deniable = deniable;
    }

    /// The next action to carry out, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        let action = self.out.pop()?;
        if let Action::Store { request } = &action {
            self.ops.sent(request);
        }
        Some(action)
    }

    /// Drains every pending action.
    pub fn drain_actions(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.poll_action()).collect()
    }

    /// The record a client is bound to.
    pub fn record_of(&self, client: ClientId) -> Option<RecordKey> {
        self.clients.get(&client).copied()
    }

    /// Splits `self` into the record of `key` and the context its methods work in.
    fn record_ctx(&mut self, key: RecordKey) -> Option<(&mut Record, Ctx<'_>)> {
        let record = self.records.get_mut(&key)?;
        Some((
            record,
            Ctx {
                out: &mut self.out,
                ops: &mut self.ops,
                cfg: &self.cfg,
                padding: &self.padding,
                deniable: self.deniable,
            },
        ))
    }

    /// A message from a client.
    pub fn handle_client(&mut self, now: Instant, client: ClientId, request: Request) {
        let bound = self.clients.get(&client).copied();
        match (request, bound) {
            (Request::MasterStart(m), None) => self.master_start(client, m),
            (Request::SlaveJoin(j), None) => self.slave_join(client, j),
            (Request::MasterStart(_) | Request::SlaveJoin(_), Some(_)) => {
                self.drop_client(now, client, "second MASTER_START/SLAVE_JOIN")
            }
            (_, None) => self.drop_client(now, client, "request before MASTER_START/SLAVE_JOIN"),
            (Request::Message(m), Some(key)) => {
                let Some((record, mut ctx)) = self.record_ctx(key) else {
                    return;
                };
                if let Err(reason) = record.accept_message(client, m.parts, &mut ctx) {
                    self.drop_client(now, client, &reason);
                }
            }
            (Request::PartRequest(_), Some(key)) => self.part(client, key),
            (Request::JoinDecision(d), Some(key)) => {
                if let Err(reason) = self.join_decision(key, d) {
                    self.drop_client(now, client, reason);
                }
            }
            (Request::MembershipStore(m), Some(key)) => self.membership_store(client, key, m),
            (Request::HistoryReplay(h), Some(key)) => self.history_replay(client, key, h),
            (Request::StateGet(g), Some(key)) => {
                self.state_get(client, key, g.op_id, g.name_c(), false)
            }
            (Request::StateGetPrefix(g), Some(key)) => {
                self.state_get(client, key, g.op_id, g.name_c(), true)
            }
        }
    }

    /// Drops a client for breaking the protocol: the action, then the same cleanup as when it
    /// goes away.
    fn drop_client(&mut self, now: Instant, client: ClientId, reason: &str) {
        self.out.drop_client(client, reason);
        self.handle_client_gone(now, client);
    }

    /// A client disconnected (or was dropped). The last client of a record takes the record
    /// with it.
    pub fn handle_client_gone(&mut self, now: Instant, client: ClientId) {
        self.ops.forget_client(client);
        let Some(key) = self.clients.remove(&client) else {
            return;
        };
        let Some((record, mut ctx)) = self.record_ctx(key) else {
            return;
        };
        record.clients.retain(|&c| c != client);
        record.parting.retain(|&c| c != client);
        record.transmit_client_gone(client, &mut ctx);
        record.history_client_gone(now, client, &mut ctx);
        if record.clients.is_empty() {
            let linked = record.linked;
            self.records.remove(&key);
            self.ops.forget_record(key);
            if linked {
                self.out.push(Action::CloseMulticast { record: key });
            }
        }
    }

    /// An event from the multicast service on the connection of record `key`.
    pub fn handle_multicast(&mut self, now: Instant, key: RecordKey, event: Event) {
        if !self.records.contains_key(&key) {
            debug!(?key, "multicast event for a record that is gone");
            return;
        }
        match event {
            Event::JoinRequest(j) => self.join_request(key, j),
            Event::JoinDecision(d) => self.slave_decision(key, d),
            Event::PartAck => self.part_acked(key),
            Event::Message(f) => {
                if let Some((record, mut ctx)) = self.record_ctx(key) {
                    record.saw_fragment_id(f.fragment_id);
                    record.receive_fragment(now, f, &mut ctx);
                }
            }
            Event::Request(q) => {
                if let Some((record, mut ctx)) = self.record_ctx(key) {
                    record.receive_request(q, &mut ctx);
                }
            }
            Event::FragmentAck => {
                if let Some((record, mut ctx)) = self.record_ctx(key) {
                    record.fragment_acked(&mut ctx);
                }
            }
            Event::ReplayRequest(r) => self.replay_request(key, r),
            Event::ReplayResponse(r) => {
                if let Some((record, mut ctx)) = self.record_ctx(key) {
                    if !record.catchup_replay_failed(r.ids, &mut ctx) {
                        record.replay_failed(now, r.ids, &mut ctx);
                        record.history_failed(now, r.ids, &mut ctx);
                    }
                }
            }
        }
    }

    /// The connection to psycstore is up: the first time, or again after psycstore
    /// restarted. Every unanswered request is sent (again), in the order first sent; what
    /// psycstore did already before it went away is harmless to do twice (fragments are
    /// stored once, a state change already applied is answered "already applied", reads are
    /// read again), except for reads that passed part of their answer on: they end with
    /// an error for their client (a member's replay with what was sent).
    pub fn handle_store_up(&mut self, now: Instant) {
        let (requests, lost) = self.ops.resend();
        for op in lost {
            self.store_result_code(
                now,
                op,
                psycstore::msg::ResultCode {
                    op_id: 0,
                    result_code: psycstore::msg::status::SYSERR,
                    error: None,
                },
            );
        }
        for request in requests {
            self.out.store(request);
        }
    }

    /// The connection of record `key` to multicast is up (first time, or after multicast
    /// restarted): the origin starts again after the highest fragment id seen, the member
    /// joins again (an admitted one keeps its decision), and the fragment that was with the
    /// old connection goes again (receivers drop what they have already).
    pub fn handle_multicast_up(&mut self, now: Instant, key: RecordKey) {
        let Some((record, mut ctx)) = self.record_ctx(key) else {
            return;
        };
        if !record.linked || record.mc_up {
            return;
        }
        record.mc_up = true;
        let start = record.multicast_start(ctx.padding);
        ctx.out.multicast(key, start);
        record.transmit_resume(&mut ctx);
        record.receive_resume(now, &mut ctx);
        record.catchup_resume(now, &mut ctx);
    }

    /// The connection of record `key` to multicast broke: nothing goes to multicast until it
    /// is up again. Parts in progress are done (multicast forgot the origin or member);
    /// outstanding replays are asked again once it is back.
    pub fn handle_multicast_down(&mut self, _now: Instant, key: RecordKey) {
        let Some(record) = self.records.get_mut(&key) else {
            return;
        };
        if !record.mc_up {
            return;
        }
        record.mc_up = false;
        record.receive_suspend();
        record.catchup_suspend();
        if !record.parting.is_empty() || record.is_leaving() {
            self.part_acked(key);
        }
    }

    /// A reply from psycstore. Replies to operations of records or clients that are gone are
    /// ignored.
    pub fn handle_store(&mut self, now: Instant, reply: StoreReply) {
        let op_id = reply.op_id();
        // Multi-part answers (fragments, state variables) keep the operation open.
        match reply {
            StoreReply::Fragment(f) => self.store_fragment_result(now, op_id, f),
            StoreReply::State(s) => self.store_state_result(op_id, s),
            StoreReply::Counters(c) => match self.ops.finish(op_id) {
                Some(Op::Counters(key)) => self.counters_result(key, c),
                Some(Op::CatchUpBase { record, target }) => {
                    if let Some((rec, mut ctx)) = self.record_ctx(record) {
                        rec.catchup_base(now, target, &c, &mut ctx);
                    }
                }
                _ => {}
            },
            StoreReply::ResultCode(r) => {
                if let Some(op) = self.ops.finish(op_id) {
                    self.store_result_code(now, op, r);
                }
            }
        }
    }

    /// The final RESULT_CODE of operation `op`.
    fn store_result_code(&mut self, now: Instant, op: Op, r: psycstore::msg::ResultCode) {
        match op {
            Op::FragmentStore(_) => {
                if r.result_code < 0 {
                    debug!(result = r.result_code, "fragment not stored");
                }
            }
            Op::StateReset(_) => {
                if r.result_code < 0 {
                    tracing::warn!(result = r.result_code, "channel state not reset");
                }
            }
            Op::MembershipTest { record, join } => self.membership_tested(now, record, *join, r),
            Op::StateModify { record, message_id } => {
                if let Some((rec, mut ctx)) = self.record_ctx(record) {
                    rec.state_applied(message_id, r.result_code, &mut ctx);
                }
            }
            Op::CatchUpModify { record, message_id } => {
                if let Some((rec, _)) = self.record_ctx(record) {
                    rec.catchup_modified(message_id, r.result_code);
                }
            }
            Op::CatchUpBase { record, target } => {
                // Answered by RESULT_COUNTERS only; should anything else end it, the
                // catch-up must not wait for ever.
                if let Some((rec, mut ctx)) = self.record_ctx(record) {
                    rec.catchup_abort(target, "no counters from psycstore", &mut ctx);
                }
            }
            Op::Counters(_) => {} // answered by RESULT_COUNTERS only
            op @ (Op::MembershipStore { .. }
            | Op::History { .. }
            | Op::HistoryReread { .. }
            | Op::StateGet { .. }
            | Op::Replay { .. }) => self.query_done(now, op, r),
        }
    }

    /// A timer asked for in an [`Action::SetTimer`] fired.
    pub fn handle_timeout(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::Replay {
                record,
                message_id,
                attempt,
            } => {
                if let Some((rec, mut ctx)) = self.record_ctx(record) {
                    rec.replay_timeout(now, message_id, attempt, &mut ctx);
                }
            }
            Timer::StateChain { record, request } => {
                if let Some((rec, mut ctx)) = self.record_ctx(record) {
                    rec.catchup_timeout(now, request, &mut ctx);
                }
            }
            Timer::HistoryFetch { record, ask } => {
                if let Some((rec, mut ctx)) = self.record_ctx(record) {
                    rec.history_timeout(now, ask, &mut ctx);
                }
            }
            Timer::Answer { record, at } => self.answer_timer(now.max(at), record),
        }
    }
}

#[cfg(test)]
mod tests;
