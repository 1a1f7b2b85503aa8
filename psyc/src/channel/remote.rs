//! History replay with the method filter, and from the channel: what a slave's own psycstore
//! lacks of a HISTORY_REPLAY is fetched through multicast replay (`psyc.md` §8; the C
//! service never implemented the REMOTE flag nor the method filter, gap P11).
//!
//! # Local part (every record)
//!
//! psycstore answers the range (or the latest N messages) as in C; it does not filter by
//! method, so its answer is filtered here by whole messages: a fragment is passed on
//! (HISTORY_RESULT with the HISTORIC flag) only while its message is received in order from
//! offset 0 and the message's METHOD name starts with the prefix (bytes up to its first NUL;
//! the empty prefix matches every message). A message that stops before its END or CANCEL
//! after part of it was passed on gets a CANCEL part (a HISTORY_RESULT too), so the client's
//! receiver sees every message either whole or cancelled; a slave then fetches it whole.
//!
//! # Remote part (admitted slave records)
//!
//! The record fetches from the channel, in increasing id order, every message of a span
//! that the local answer did not hold whole (nor showed to be of another method):
//!
//! - with the REMOTE flag: the asked range; in latest-N mode the N ids ending at the newest
//!   message this record delivered (psycstore is then asked for that range too, so both
//!   parts cover the same ids);
//! - without it: the holes of the local answer, i.e. the ids between the lowest and the
//!   highest message id it held.
//!
//! The span ends at the newest message the record had delivered in order (or skipped) when
//! the request came: newer ones are still being received and reach the clients live. Of a
//! larger span only the newest [`Config::max_history_span`] ids are fetched. A master record
//! has the whole history and a slave that is not admitted (or delivered nothing yet) has no
//! channel to ask: both answer locally only, and exactly as psycstore answers; so does a
//! record already running [`Config::max_history_ops`] remote replays (it still keeps the
//! order below, but fetches nothing).
//!
//! Each message is asked for by REPLAY_REQUEST (message id, fragment offset 0); the master
//! answers from its psycstore after testing the slave's membership at that message, and
//! multicast hands the fragment to the record as a MESSAGE, like a live one
//! ([`receive`](super::receive) routes fragments of messages it delivered already here). A
//! fragment that does not end its message is followed by a request for the next offset. At
//! most [`Config::max_history_fetches`] messages are in progress per record (all its
//! replays together): the oldest streams, later ones fetch their first fragment and wait
//! with it (so a single-fragment message needs no further request). Fetched fragments are
//! stored in psycstore (flags as in [`receive`](super::receive)), so later local replays
//! have them.
//!
//! A request without answer after [`Config::replay_timeout`] is asked again, up to
//! [`Config::replay_attempts`] times; then, or when the replay fails (REPLAY_RESPONSE with an
//! error, *including* access denied: membership is tested per message, so a slave may see
//! the messages since its admission but not the earlier ones), the message is skipped (with
//! a CANCEL if part of it was passed on). While the record's multicast connection is down
//! nothing is sent and the timers wait without using up attempts; a request that could not
//! be sent goes at the first timer after the connection is back.
//!
//! # Order and memory
//!
//! A client gets a replay's HISTORY_RESULTs in message-id order overall, local and fetched
//! messages interleaved (a late joiner whose store holds only the stateful messages its
//! catch-up fetched gets 1, 2, 3, … not 5, 7, 10, … then 1, 2, …). psycstore answers a range
//! in id order; its answer passes to the client until the first message of the span to fetch
//! (a missing id, or one held in part only, which then gets its CANCEL and comes again
//! whole). From the next message on, a record that can fetch holds the local answer back:
//! it keeps no fragment of it, only which ids of the span it held whole (or of another
//! method), as runs of consecutive ids. Then the ids from the first one to fetch on are
//! gone through in order: an id to fetch comes from the channel; a run of held-back ids
//! between two of them (or after the last, up to the highest id of the local answer) is
//! read again from psycstore (one MESSAGE_GET for the run, asked when everything before it
//! went out, so its fragments go straight to the client, filtered as above).
//!
//! What one replay holds is therefore bounded: the runs (at most one per id to fetch, so at
//! most the span cap, and a few in the usual case: one run for a large local answer with one
//! early gap), a read-again run in progress, and its share of the record's
//! [`Config::max_history_fetches`] messages in progress, each with at most one fragment
//! waiting. A local answer of 10,000 messages is never kept in memory.
//!
//! Finally one RESULT_CODE goes to the client with the number of HISTORY_RESULTs it got
//! (local, read again and fetched, CANCELs included), as C's count of fragments (gap P20); a
//! psycstore error of the local answer ends the replay with that error instead (one of a
//! read-again run only skips that run). A client that goes away takes its replays (and their
//! reads in psycstore) with it; a record that goes away, the replays of its clients.
//!
//! [`Config::max_history_span`]: super::Config::max_history_span
//! [`Config::max_history_ops`]: super::Config::max_history_ops
//! [`Config::max_history_fetches`]: super::Config::max_history_fetches
//! [`Config::replay_timeout`]: super::Config::replay_timeout
//! [`Config::replay_attempts`]: super::Config::replay_attempts

mod scan;

use std::collections::BTreeMap;
use std::time::Instant;

use multicast::msg::{Fragment, ReplayIds};
use psycstore::keys::ChannelKey;
use psycstore::msg::FragmentResult;
use tracing::debug;

use super::action::{Action, ClientId, RecordKey, Timer};
use super::query::{cancel_result, history_result, message_get};
use super::record::{Ctx, Op, Record, Role, SlaveNet};
use super::Channels;
use crate::msg::{Reply, ResultCode};
pub(super) use scan::Scan;
use scan::{look, Closed, Filter, Look, Planned, Runs};

/// A request for one fragment.
#[derive(Debug, Clone, Copy)]
struct Ask {
    /// Its serial number, which its timer carries.
    serial: u64,
    /// 1 for the first request of this fragment.
    attempt: u32,
    /// It went to multicast (it is not sent while the connection is down).
    sent: bool,
}

/// How a message in progress ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Its END or CANCEL arrived, or its METHOD does not match.
    Complete,
    /// It could not be fetched.
    Failed,
}

/// A message being fetched.
#[derive(Debug, Default)]
struct Msg {
    /// Offset of the fragment wanted next.
    offset: u64,
    /// Whether its METHOD matches; `None` until offset 0 is here.
    matches: Option<bool>,
    /// Part of it went to the client.
    passed: bool,
    /// A fragment that arrived while an earlier item was in progress, with its store flags.
    held: Option<(Fragment, u32)>,
    /// The outstanding request, if any.
    ask: Option<Ask>,
    end: Option<End>,
}

/// Held-back local messages read again from psycstore: ids from the item's key to `last`.
#[derive(Debug)]
struct Reread {
    last: u64,
    /// The MESSAGE_GET went (only when this is the oldest item: its fragments go straight
    /// to the client).
    asked: bool,
    filter: Filter,
}

/// What a replay has in progress at one id, in id order.
#[derive(Debug)]
enum Item {
    Fetch(Msg),
    Reread(Reread),
}

/// What comes next of a [`Plan`].
enum Next {
    /// Fetch this id from the channel.
    Fetch(u64),
    /// Read these ids (first, last) again from psycstore.
    Reread(u64, u64),
    /// The next is a fetch, and there is no room for it.
    Wait,
    Done,
}

/// The ids a replay has yet to start, in order: each is fetched (in the window and not
/// settled locally), read again from psycstore (held back), or skipped.
#[derive(Debug)]
struct Plan {
    next: u64,
    window: Option<(u64, u64)>,
    settled: Runs,
    reread_end: Option<u64>,
    done: bool,
}

impl Plan {
    /// The lowest id at or after `id` to fetch.
    fn fetchable_from(&self, id: u64) -> Option<u64> {
        let (first, last) = self.window?;
        let mut id = id.max(first);
        while let Some(end) = self.settled.run_end(id) {
            id = end.checked_add(1)?;
        }
        (id <= last).then_some(id)
    }

    /// Moves past `id`.
    fn advance(&mut self, id: u64) {
        match id.checked_add(1) {
            Some(next) => {
                self.next = next;
                self.settled.forget_below(next);
            }
            None => self.done = true,
        }
    }

    /// The next item to start; a fetch only if `may_fetch`.
    fn next(&mut self, may_fetch: bool) -> Next {
        while !self.done {
            let id = self.next;
            let fetch = self.fetchable_from(id);
            if fetch == Some(id) {
                if !may_fetch {
                    return Next::Wait;
                }
                self.advance(id);
                return Next::Fetch(id);
            }
            match (self.reread_end.filter(|&end| end >= id), fetch) {
                (Some(end), fetch) => {
                    let last = fetch.map_or(end, |f| end.min(f - 1));
                    self.advance(last);
                    return Next::Reread(id, last);
                }
                (None, Some(f)) => self.next = f,
                (None, None) => self.done = true,
            }
        }
        Next::Done
    }
}

/// The remote part of one client's HISTORY_REPLAY.
#[derive(Debug)]
struct Fetch {
    /// Names it for the psycstore operations of its rereads.
    serial: u64,
    client: ClientId,
    client_op: u64,
    prefix: Vec<u8>,
    /// It fetches from the channel (and counts towards the record's remote replays).
    remote: bool,
    plan: Plan,
    /// What is in progress, by id; the first streams to the client.
    items: BTreeMap<u64, Item>,
    /// HISTORY_RESULTs sent so far.
    sent: i64,
}

/// A record's remote history replays.
#[derive(Debug, Default)]
pub(super) struct History {
    fetches: Vec<Fetch>,
    /// Serial number of the latest request or replay.
    serial: u64,
}

/// What asking and answering needs besides the replays.
struct Net<'a, 'c> {
    key: RecordKey,
    channel: ChannelKey,
    mc_up: bool,
    now: Instant,
    serial: &'a mut u64,
    ctx: &'a mut Ctx<'c>,
}

impl Net<'_, '_> {
    /// Asks multicast for fragment `offset` of message `id` (if the connection is up) and
    /// sets its timer.
    fn ask(&mut self, id: u64, offset: u64, attempt: u32) -> Ask {
        *self.serial += 1;
        if self.mc_up {
            self.ctx
                .out
                .multicast(self.key, super::fetch::replay_request(id, offset));
        }
        let ask = Ask {
            serial: *self.serial,
            attempt,
            sent: self.mc_up,
        };
        self.arm(ask);
        ask
    }

    fn arm(&mut self, ask: Ask) {
        self.ctx.out.push(Action::SetTimer {
            at: self.now + self.ctx.cfg.replay_timeout,
            timer: Timer::HistoryFetch {
                record: self.key,
                ask: ask.serial,
            },
        });
    }

    fn send(&mut self, fetch: &mut Fetch, reply: Reply) {
        fetch.sent += 1;
        self.ctx.out.send(fetch.client, reply);
    }
}

impl Fetch {
    /// Passes on what the oldest items have, drops the ones that ended, and asks for what
    /// the one left streaming needs next.
    fn flush(&mut self, net: &mut Net<'_, '_>) {
        while let Some(mut entry) = self.items.first_entry() {
            let id = *entry.key();
            let m = match entry.get_mut() {
                Item::Fetch(m) => m,
                Item::Reread(r) => {
                    if !r.asked {
                        r.asked = true;
                        let op_id = net.ctx.ops.start(Op::HistoryReread {
                            record: net.key,
                            client: self.client,
                            fetch: self.serial,
                        });
                        net.ctx.out.store(message_get(
                            op_id,
                            net.channel,
                            (id, r.last, 0),
                            &self.prefix,
                        ));
                    }
                    return;
                }
            };
            if let Some((f, flags)) = m.held.take() {
                m.passed = true;
                let reply = history_result(self.client_op, flags, f);
                net.send(self, reply);
                continue; // `self` was borrowed: look again
            }
            match m.end {
                Some(end) => {
                    let cancel = end == End::Failed && m.passed;
                    let offset = m.offset;
                    entry.remove();
                    if cancel {
                        let reply = cancel_result(self.client_op, id, offset);
                        net.send(self, reply);
                    }
                }
                None => {
                    if m.ask.is_none() {
                        m.ask = Some(net.ask(id, m.offset, 1));
                    }
                    return;
                }
            }
        }
    }

    /// Starts what comes next: rereads up to the next message to fetch, and that message if
    /// `may_fetch`; whether a fetch was started.
    fn start_next(&mut self, may_fetch: bool, net: &mut Net<'_, '_>) -> bool {
        loop {
            match self.plan.next(may_fetch) {
                Next::Reread(first, last) => {
                    let reread = Reread {
                        last,
                        asked: false,
                        filter: Filter::default(),
                    };
                    self.items.insert(first, Item::Reread(reread));
                }
                Next::Fetch(id) => {
                    let ask = net.ask(id, 0, 1);
                    let msg = Msg {
                        ask: Some(ask),
                        ..Msg::default()
                    };
                    self.items.insert(id, Item::Fetch(msg));
                    return true;
                }
                Next::Wait | Next::Done => return false,
            }
        }
    }

    /// Messages being fetched from the channel.
    fn fetching(&self) -> usize {
        self.items
            .values()
            .filter(|i| matches!(i, Item::Fetch(_)))
            .count()
    }

    fn done(&self) -> bool {
        self.items.is_empty() && self.plan.done
    }

    /// A fragment from the channel: whether this replay wanted it (then it has taken it).
    fn take(&mut self, f: &Fragment, look: &Look, net: &mut Net<'_, '_>) -> bool {
        let head = self.items.keys().next().copied();
        let Some(Item::Fetch(m)) = self.items.get_mut(&f.message_id) else {
            return false;
        };
        if m.ask.is_none() || m.end.is_some() || m.offset != f.fragment_offset {
            return false;
        }
        m.ask = None;
        if f.fragment_offset == 0 {
            m.matches = Some(look.matches);
        }
        m.offset += f.wire_size() as u64;
        if look.ends || m.matches == Some(false) {
            m.end = Some(End::Complete);
        }
        if m.matches == Some(true) {
            m.held = Some((f.clone(), look.store_flags));
        }
        if head != Some(f.message_id) {
            return true; // waits with its fragment (or its end) until it is the oldest
        }
        self.flush(net);
        true
    }

    /// The request for fragment `offset` of message `id` failed: the message is skipped.
    fn failed(&mut self, id: u64, offset: u64) -> bool {
        match self.items.get_mut(&id) {
            Some(Item::Fetch(m)) if m.ask.is_some() && m.offset == offset && m.end.is_none() => {
                m.ask = None;
                m.end = Some(End::Failed);
                true
            }
            _ => false,
        }
    }
}

/// The reread in progress among a replay's `items`: the oldest item, with its first id.
fn reread_in(items: &mut BTreeMap<u64, Item>) -> Option<(u64, &mut Reread)> {
    match items.iter_mut().next() {
        Some((&first, Item::Reread(r))) if r.asked => Some((first, r)),
        _ => None,
    }
}

/// After any change to a record's replays: streams what is due, starts rereads and messages
/// to fetch while there is room (one per replay in turn), and finishes the replays that are
/// done.
fn step(fetches: &mut Vec<Fetch>, net: &mut Net<'_, '_>) {
    for fetch in fetches.iter_mut() {
        fetch.flush(net);
        fetch.start_next(false, net);
    }
    let in_progress: usize = fetches.iter().map(Fetch::fetching).sum();
    let mut room = net.ctx.cfg.max_history_fetches.saturating_sub(in_progress);
    // The replay with the fewest messages in progress goes first.
    while room > 0 {
        let Some(fetch) = fetches
            .iter_mut()
            .filter(|f| !f.plan.done)
            .min_by_key(|f| f.fetching())
        else {
            break;
        };
        if fetch.start_next(true, net) {
            room -= 1;
        }
    }
    for fetch in fetches.iter_mut() {
        fetch.flush(net);
    }
    fetches.retain(|fetch| {
        if !fetch.done() {
            return true;
        }
        net.ctx.out.send(
            fetch.client,
            Reply::ResultCode(ResultCode {
                op_id: fetch.client_op,
                result_code: fetch.sent,
                data: Vec::new(),
            }),
        );
        false
    });
}

/// What a record's replays hold, for tests of the memory bound.
#[cfg(test)]
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Footprint {
    /// Items in progress (messages being fetched, rereads).
    pub(super) items: usize,
    /// Fragments waiting for their turn.
    pub(super) fragments: usize,
    /// Runs of settled held-back ids.
    pub(super) runs: usize,
}

#[cfg(test)]
impl History {
    pub(super) fn footprint(&self) -> Footprint {
        let mut fp = Footprint::default();
        for f in &self.fetches {
            fp.items += f.items.len();
            fp.runs += f.plan.settled.runs();
            fp.fragments += f
                .items
                .values()
                .filter(|i| matches!(i, Item::Fetch(Msg { held: Some(_), .. })))
                .count();
        }
        fp
    }
}

impl Record {
    /// The newest message id this record may fetch history up to: the last one it delivered
    /// (or skipped), for an admitted slave that delivered any.
    pub(super) fn fetch_newest(&self) -> Option<u64> {
        match &self.role {
            Role::Slave(s) if s.net == SlaveNet::Admitted => {
                Some(self.rx.max_message_id()).filter(|&n| n > 0)
            }
            _ => None,
        }
    }

    /// Runs `f` on the replays with what asking and answering needs, then [`step`].
    fn with_history(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        f: impl FnOnce(&mut Vec<Fetch>, &mut Net<'_, '_>),
    ) {
        let channel = self.store_channel();
        let History { fetches, serial } = &mut self.history;
        let mut net = Net {
            key: self.key,
            channel,
            mc_up: self.mc_up,
            now,
            serial,
            ctx,
        };
        f(fetches, &mut net);
        step(fetches, &mut net);
    }

    /// A fragment of a message this record delivered already (a replay or a duplicate): to
    /// the history replays that asked for it, and stored once if any did.
    pub(super) fn history_fragment(&mut self, now: Instant, f: &Fragment, ctx: &mut Ctx<'_>) {
        if self.history.fetches.is_empty() {
            return;
        }
        let mut taken = false;
        self.with_history(now, ctx, |fetches, net| {
            for fetch in fetches {
                let Some(l) = look(f, &fetch.prefix) else {
                    return;
                };
                taken |= fetch.take(f, &l, net);
            }
        });
        if taken {
            super::fetch::store_fragment(self, f.clone(), super::fetch::store_flags(f), ctx);
        }
    }

    /// Multicast reported that a replay failed: a history replay that asked for it skips the
    /// message.
    pub(super) fn history_failed(&mut self, now: Instant, ids: ReplayIds, ctx: &mut Ctx<'_>) {
        if self.history.fetches.is_empty() {
            return;
        }
        self.with_history(now, ctx, |fetches, _| {
            for fetch in fetches {
                if fetch.failed(ids.message_id, ids.fragment_offset) {
                    debug!(message_id = ids.message_id, "history message not replayed");
                }
            }
        });
    }

    /// The timer of request `serial` fired: ask again, or skip the message after the last
    /// attempt. While the connection is down the timer just waits again; a request that
    /// could not be sent then goes once it is up, as the same attempt.
    pub(super) fn history_timeout(&mut self, now: Instant, serial: u64, ctx: &mut Ctx<'_>) {
        let attempts = ctx.cfg.replay_attempts;
        self.with_history(now, ctx, |fetches, net| {
            for fetch in fetches {
                for (&id, item) in &mut fetch.items {
                    let Item::Fetch(m) = item else {
                        continue;
                    };
                    let Some(ask) = m.ask.filter(|a| a.serial == serial) else {
                        continue;
                    };
                    if !net.mc_up {
                        net.arm(ask);
                    } else if !ask.sent {
                        m.ask = Some(net.ask(id, m.offset, ask.attempt));
                    } else if ask.attempt < attempts {
                        m.ask = Some(net.ask(id, m.offset, ask.attempt + 1));
                    } else {
                        debug!(message_id = id, "history message not replayed in time");
                        m.ask = None;
                        m.end = Some(End::Failed);
                    }
                    return;
                }
            }
        });
    }

    /// One fragment of replay `fetch`'s reread: to the client as the local answer's are.
    pub(super) fn history_reread_fragment(
        &mut self,
        fetch: u64,
        r: FragmentResult,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(fetch) = self.history.fetches.iter_mut().find(|f| f.serial == fetch) else {
            return;
        };
        let (client, client_op) = (fetch.client, fetch.client_op);
        let Some((first, reread)) = reread_in(&mut fetch.items) else {
            return;
        };
        let f = r.fragment;
        if f.message_id < first || f.message_id > reread.last {
            return;
        }
        let mut replies = Vec::new();
        if let Some(Closed {
            id,
            cancel: Some(offset),
            ..
        }) = reread.filter.enter(f.message_id)
        {
            replies.push(cancel_result(client_op, id, offset));
        }
        if reread.filter.take(&f, &fetch.prefix, true) {
            replies.push(history_result(client_op, r.psycstore_flags, f));
        }
        for reply in replies {
            fetch.sent += 1;
            ctx.out.send(client, reply);
        }
    }

    /// Replay `fetch`'s reread ended (with psycstore's `result`): what follows it goes on.
    pub(super) fn history_reread_done(
        &mut self,
        now: Instant,
        fetch: u64,
        result: i64,
        ctx: &mut Ctx<'_>,
    ) {
        self.with_history(now, ctx, |fetches, net| {
            let Some(fetch) = fetches.iter_mut().find(|f| f.serial == fetch) else {
                return;
            };
            let Some((first, reread)) = reread_in(&mut fetch.items) else {
                return;
            };
            if result < 0 {
                debug!(first, result, "held-back history not read again");
            }
            let closed = reread.filter.close();
            fetch.items.remove(&first);
            if let Some(Closed {
                id,
                cancel: Some(offset),
                ..
            }) = closed
            {
                let reply = cancel_result(fetch.client_op, id, offset);
                net.send(fetch, reply);
            }
        });
    }

    /// `client` went away: its replays are forgotten, others may use their room.
    pub(super) fn history_client_gone(
        &mut self,
        now: Instant,
        client: ClientId,
        ctx: &mut Ctx<'_>,
    ) {
        if self.history.fetches.iter().any(|f| f.client == client) {
            self.with_history(now, ctx, |fetches, _| {
                fetches.retain(|f| f.client != client)
            });
        }
    }
}

impl Channels {
    /// psycstore finished the local part of `client`'s history replay `client_op` with
    /// `sent` results passed on: the remote part follows where there is one, else the final
    /// RESULT_CODE.
    pub(super) fn history_local_done(
        &mut self,
        now: Instant,
        key: RecordKey,
        client: ClientId,
        client_op: u64,
        mut sent: i64,
        mut scan: Scan,
    ) {
        let Some((record, mut ctx)) = self.record_ctx(key) else {
            return;
        };
        if let Some((id, offset)) = scan.end() {
            sent += 1;
            ctx.out.send(client, cancel_result(client_op, id, offset));
        }
        let remote = record.history.fetches.iter().filter(|f| f.remote).count();
        let fetch = record.fetch_newest().is_some() && remote < ctx.cfg.max_history_ops;
        let Some(planned) = scan.into_plan(fetch) else {
            ctx.out.send(
                client,
                Reply::ResultCode(ResultCode {
                    op_id: client_op,
                    result_code: sent,
                    data: Vec::new(),
                }),
            );
            return;
        };
        let Planned {
            next,
            window,
            settled,
            reread_end,
            prefix,
        } = planned;
        record.history.serial += 1;
        let fetch = Fetch {
            serial: record.history.serial,
            client,
            client_op,
            prefix,
            remote: window.is_some(),
            plan: Plan {
                next,
                window,
                settled,
                reread_end,
                done: false,
            },
            items: BTreeMap::new(),
            sent,
        };
        record.with_history(now, &mut ctx, |fetches, _| fetches.push(fetch));
    }
}
