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
//! After psycstore's final answer, the record fetches from the channel, in increasing id
//! order, every message of a span that the local answer did not hold whole (nor showed to
//! be of another method):
//!
//! - with the REMOTE flag: the asked range; in latest-N mode the N ids ending at the newest
//!   message this record delivered (psycstore is then asked for that range too, so both
//!   parts cover the same ids);
//! - without it: the holes of the local answer, i.e. the ids between the lowest and the
//!   highest message id it held.
//!
//! The span ends at the newest message the record delivered in order (or skipped): newer ones
//! are still being received and reach the clients live. Of a larger span only the newest
//! [`Config::max_history_span`] ids are fetched. A master record has the whole history and a
//! slave that is not admitted (or delivered nothing yet) has no channel to ask: both answer
//! locally only; so does a record already running [`Config::max_history_ops`] remote
//! replays.
//!
//! Each message is asked for by REPLAY_REQUEST (message id, fragment offset 0); the master
//! answers from its psycstore after testing the slave's membership at that message, and
//! multicast hands the fragment to the record as a MESSAGE, like a live one
//! ([`receive`](super::receive) routes fragments of messages it delivered already here). A
//! fragment that does not end its message is followed by a request for the next offset. At
//! most [`Config::max_history_fetches`] messages are in progress per record (all its
//! replays together). Results go to the client message by message in id order: the oldest
//! message in progress streams, later ones fetch their first fragment and wait with it (so
//! a single-fragment message needs no further request). Fetched fragments are stored in
//! psycstore (flags as in [`receive`](super::receive)), so later local replays have them.
//!
//! A request without answer after [`Config::replay_timeout`] is asked again, up to
//! [`Config::replay_attempts`] times; then, or when the replay fails (REPLAY_RESPONSE with an
//! error, *including* access denied: membership is tested per message, so a slave may see
//! the messages since its admission but not the earlier ones), the message is skipped (with
//! a CANCEL if part of it was passed on). While the record's multicast connection is down
//! nothing is sent and the timers wait without using up attempts; a request that could not
//! be sent goes at the first timer after the connection is back.
//!
//! The local results come first (in psycstore's order), then the fetched ones. Finally one
//! RESULT_CODE goes to the client with the number of HISTORY_RESULTs it got (local and
//! remote, CANCELs included), as C's count of fragments (gap P20); a psycstore error ends the
//! replay with that error instead. A client that goes away takes its replays
//! with it; a record that goes away, the replays of its clients.
//!
//! [`Config::max_history_span`]: super::Config::max_history_span
//! [`Config::max_history_ops`]: super::Config::max_history_ops
//! [`Config::max_history_fetches`]: super::Config::max_history_fetches
//! [`Config::replay_timeout`]: super::Config::replay_timeout
//! [`Config::replay_attempts`]: super::Config::replay_attempts

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use multicast::msg::{Any, Fragment, ReplayIds, ReplayRequest};
use psycstore::msg::{message_flags, FragmentStore, Request as StoreRequest};
use tracing::debug;

use super::action::{Action, ClientId, RecordKey, Timer};
use super::query::{cancel_result, history_result};
use super::record::{Ctx, Op, Record, Role, SlaveNet};
use super::Channels;
use crate::format::container::check_parts;
use crate::format::parts::{Part, PartKind, STATE_DELTA_NOT_MODIFIED};
use crate::msg::{history_replay_flags, HistoryReplay, Reply, ResultCode};

/// What one fragment says about its message.
struct Look {
    /// The fragment starts with a METHOD whose name starts with the prefix.
    matches: bool,
    /// The psycstore flags to store it with: STATE on a METHOD fragment of a message that
    /// changes state.
    store_flags: u32,
    /// Its last part is END or CANCEL.
    ends: bool,
}

/// Looks at a fragment's parts; `None` if they are malformed.
fn look(f: &Fragment, prefix: &[u8]) -> Option<Look> {
    let summary = check_parts(&f.payload).ok()?;
    let method = match Part::parse(&f.payload) {
        Ok((Part::Method(m), _)) => Some(m),
        _ => None,
    };
    Some(Look {
        matches: method.as_ref().is_some_and(|m| m.name.starts_with(prefix)),
        store_flags: match method {
            Some(m) if m.state_delta != STATE_DELTA_NOT_MODIFIED => message_flags::STATE,
            _ => 0,
        },
        ends: matches!(summary.last, Some(PartKind::End | PartKind::Cancel)),
    })
}

/// What the local answer held of one message.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    /// Offset after the fragments received in order from offset 0.
    next_offset: u64,
    /// Those end the message (END or CANCEL).
    ended: bool,
    /// Whether the METHOD matches the prefix; `None` until offset 0 was seen.
    matches: Option<bool>,
}

/// The psycstore query a HISTORY_REPLAY becomes: a range, or the latest `limit` messages.
pub(super) struct LocalQuery {
    pub(super) first: u64,
    pub(super) last: u64,
    pub(super) limit: u64,
}

/// The local part of a client's HISTORY_REPLAY, kept with its psycstore operation: the method
/// filter, and what the local answer held, for the remote part.
#[derive(Debug, Clone)]
pub(super) struct Scan {
    prefix: Vec<u8>,
    /// With REMOTE: the ids to cover (before clamping and capping). `None`: the holes of the
    /// local answer.
    asked: Option<(u64, u64)>,
    /// The newest messages of the local answer (at most the span cap of them).
    seen: BTreeMap<u64, Seen>,
    cap: usize,
    lowest: Option<u64>,
    highest: Option<u64>,
    /// The message of the latest fragment looked at.
    current: Option<u64>,
}

impl Scan {
    /// The scan of HISTORY_REPLAY `h` and the psycstore query to run. `newest` is the newest
    /// message id the record could fetch up to (see [`Record::fetch_newest`]); `cap` the span
    /// cap.
    pub(super) fn new(h: &HistoryReplay, newest: Option<u64>, cap: u64) -> (Box<Self>, LocalQuery) {
        let remote = h.flags & history_replay_flags::REMOTE != 0;
        let range = |first, last| LocalQuery {
            first,
            last,
            limit: 0,
        };
        let (query, asked) = match (h.message_limit, newest.filter(|_| remote)) {
            (0, Some(_)) => (
                range(h.start_message_id, h.end_message_id),
                Some((h.start_message_id, h.end_message_id)),
            ),
            (0, None) => (range(h.start_message_id, h.end_message_id), None),
            (n, Some(newest)) => {
                let first = newest.saturating_sub(n - 1).max(1);
                (range(first, newest), Some((first, newest)))
            }
            (n, None) => (
                LocalQuery {
                    first: 0,
                    last: 0,
                    limit: n,
                },
                None,
            ),
        };
        let scan = Self {
            prefix: h.method_prefix_c().to_vec(),
            asked,
            seen: BTreeMap::new(),
            cap: usize::try_from(cap).unwrap_or(usize::MAX).max(1),
            lowest: None,
            highest: None,
            current: None,
        };
        (Box::new(scan), query)
    }

    /// One fragment of the local answer: whether it goes to the client, and first the
    /// (message id, offset) of a CANCEL for the message before it, if that one stopped short
    /// after part of it went.
    pub(super) fn local(&mut self, f: &Fragment) -> (Option<(u64, u64)>, bool) {
        let id = f.message_id;
        let cancel = if self.current == Some(id) {
            None
        } else {
            let cancel = self.close();
            self.current = Some(id);
            cancel
        };
        self.lowest = Some(self.lowest.map_or(id, |l| l.min(id)));
        self.highest = Some(self.highest.map_or(id, |h| h.max(id)));
        let s = self.seen.entry(id).or_default();
        let mut pass = false;
        if !s.ended && f.fragment_offset == s.next_offset {
            if let Some(l) = look(f, &self.prefix) {
                if f.fragment_offset == 0 {
                    s.matches = Some(l.matches);
                }
                s.next_offset += f.wire_size() as u64;
                s.ended = l.ends;
                pass = s.matches == Some(true);
            }
        }
        if self.seen.len() > self.cap {
            self.seen.pop_first();
        }
        (cancel, pass)
    }

    /// The local answer moved past the current message (or ended): if that message went to
    /// the client in part only, the (message id, offset) of its CANCEL; it is then fetched
    /// again from offset 0 by the remote part.
    pub(super) fn close(&mut self) -> Option<(u64, u64)> {
        let id = self.current.take()?;
        let s = self.seen.get_mut(&id)?;
        if s.ended || s.matches != Some(true) {
            return None;
        }
        let offset = s.next_offset;
        *s = Seen::default();
        Some((id, offset))
    }

    /// The remote part for `client`'s operation `client_op`, fetching up to `newest`, which
    /// already passed on `sent` results; `None` if there is no span to fetch.
    fn into_fetch(self, newest: u64, client: ClientId, client_op: u64, sent: i64) -> Option<Fetch> {
        let (lo, hi) = match self.asked {
            Some(span) => span,
            None => (self.lowest?, self.highest?),
        };
        let last = hi.min(newest);
        let cap = u64::try_from(self.cap).unwrap_or(u64::MAX);
        let next = lo.max(1).max(last.saturating_sub(cap - 1));
        if next > last {
            return None;
        }
        // Whole messages and messages of another method need no fetching.
        let skip = self
            .seen
            .iter()
            .filter(|(_, s)| s.ended || s.matches == Some(false))
            .map(|(&id, _)| id)
            .collect();
        Some(Fetch {
            client,
            client_op,
            prefix: self.prefix,
            next,
            last,
            skip,
            messages: BTreeMap::new(),
            sent,
        })
    }
}

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
    /// A fragment that arrived while an earlier message was in progress, with its store
    /// flags.
    held: Option<(Fragment, u32)>,
    /// The outstanding request, if any.
    ask: Option<Ask>,
    end: Option<End>,
}

/// The remote part of one client's HISTORY_REPLAY.
#[derive(Debug)]
struct Fetch {
    client: ClientId,
    client_op: u64,
    prefix: Vec<u8>,
    /// The next id to start; done when past `last`.
    next: u64,
    last: u64,
    /// Ids the local answer settled.
    skip: BTreeSet<u64>,
    /// Messages in progress, by id; the first streams to the client.
    messages: BTreeMap<u64, Msg>,
    /// HISTORY_RESULTs sent so far.
    sent: i64,
}

/// A record's remote history replays.
#[derive(Debug, Default)]
pub(super) struct History {
    fetches: Vec<Fetch>,
    /// Serial number of the latest request.
    serial: u64,
}

/// What asking and answering needs besides the replays.
struct Net<'a, 'c> {
    key: RecordKey,
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
            self.ctx.out.multicast(
                self.key,
                Any::ReplayRequest(ReplayRequest {
                    member_pub_key: gnunet_service::crypto::ecdsa::PublicKey([0; 32]),
                    ids: ReplayIds {
                        fragment_id: 0,
                        message_id: id,
                        fragment_offset: offset,
                        flags: 0,
                    },
                    uid: 0,
                }),
            );
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
    /// Passes on what the oldest messages in progress have, drops the ones that ended, and
    /// asks for the next fragment of the one left streaming.
    fn flush(&mut self, net: &mut Net<'_, '_>) {
        while let Some(mut entry) = self.messages.first_entry() {
            let id = *entry.key();
            let m = entry.get_mut();
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

    /// Starts the next message to fetch, if any is left; whether one was started.
    fn start_next(&mut self, net: &mut Net<'_, '_>) -> bool {
        while self.next <= self.last {
            let id = self.next;
            self.next = self.next.saturating_add(1);
            if self.next == id {
                self.last = id.saturating_sub(1); // u64::MAX was the last id
            }
            if self.skip.remove(&id) {
                continue;
            }
            let ask = net.ask(id, 0, 1);
            self.messages.insert(
                id,
                Msg {
                    ask: Some(ask),
                    ..Msg::default()
                },
            );
            return true;
        }
        false
    }

    fn done(&self) -> bool {
        self.messages.is_empty() && self.next > self.last
    }

    /// A fragment from the channel: whether this replay wanted it (then it has taken it).
    fn take(&mut self, f: &Fragment, look: &Look, net: &mut Net<'_, '_>) -> bool {
        let head = self.messages.keys().next().copied();
        let Some(m) = self.messages.get_mut(&f.message_id) else {
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
        match self.messages.get_mut(&id) {
            Some(m) if m.ask.is_some() && m.offset == offset && m.end.is_none() => {
                m.ask = None;
                m.end = Some(End::Failed);
                true
            }
            _ => false,
        }
    }
}

/// After any change to a record's replays: streams what is due, starts messages while there
/// is room (one per replay in turn), and finishes the replays that are done.
fn step(fetches: &mut Vec<Fetch>, net: &mut Net<'_, '_>) {
    for fetch in fetches.iter_mut() {
        fetch.flush(net);
    }
    let in_progress: usize = fetches.iter().map(|f| f.messages.len()).sum();
    let mut room = net.ctx.cfg.max_history_fetches.saturating_sub(in_progress);
    // The replay with the fewest messages in progress goes first.
    while room > 0 {
        let Some(fetch) = fetches
            .iter_mut()
            .filter(|f| f.next <= f.last)
            .min_by_key(|f| f.messages.len())
        else {
            break;
        };
        if fetch.start_next(net) {
            room -= 1;
        }
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
        let History { fetches, serial } = &mut self.history;
        let mut net = Net {
            key: self.key,
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
        let mut store_flags = 0;
        self.with_history(now, ctx, |fetches, net| {
            for fetch in fetches {
                let Some(l) = look(f, &fetch.prefix) else {
                    return;
                };
                store_flags = l.store_flags;
                taken |= fetch.take(f, &l, net);
            }
        });
        if taken {
            let op_id = ctx.ops.start(Op::FragmentStore(self.key));
            ctx.out.store(StoreRequest::FragmentStore(FragmentStore {
                psycstore_flags: store_flags,
                channel_key: self.store_channel(),
                op_id,
                fragment: f.clone(),
            }));
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
                for (&id, m) in &mut fetch.messages {
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
        mut scan: Box<Scan>,
    ) {
        let Some((record, mut ctx)) = self.record_ctx(key) else {
            return;
        };
        if let Some((id, offset)) = scan.close() {
            sent += 1;
            ctx.out.send(client, cancel_result(client_op, id, offset));
        }
        let room = record.history.fetches.len() < ctx.cfg.max_history_ops;
        let fetch = record
            .fetch_newest()
            .filter(|_| room)
            .and_then(|newest| scan.into_fetch(newest, client, client_op, sent));
        let Some(fetch) = fetch else {
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
        record.with_history(now, &mut ctx, |fetches, _| fetches.push(fetch));
    }
}
