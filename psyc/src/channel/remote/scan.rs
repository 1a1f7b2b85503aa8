//! The local part of a history replay: psycstore's answer filtered by whole messages of the
//! method, and what the remote part needs of it (which ids it held back, which are settled).

use std::collections::BTreeMap;

use multicast::msg::Fragment;

use crate::format::container::check_parts;
use crate::format::parts::{Part, PartKind};
use crate::msg::{history_replay_flags, HistoryReplay};

/// What one fragment says about its message.
pub(super) struct Look {
    /// The fragment starts with a METHOD whose name starts with the prefix.
    pub(super) matches: bool,
    /// The psycstore flags to store it with: STATE on a METHOD fragment of a message that
    /// changes state.
    pub(super) store_flags: u32,
    /// Its last part is END or CANCEL.
    pub(super) ends: bool,
}

/// Looks at a fragment's parts; `None` if they are malformed.
pub(super) fn look(f: &Fragment, prefix: &[u8]) -> Option<Look> {
    let summary = check_parts(super::super::pad::unpadded(&f.payload)?).ok()?;
    let method = match Part::parse(&f.payload) {
        Ok((Part::Method(m), _)) => Some(m),
        _ => None,
    };
    Some(Look {
        matches: method.as_ref().is_some_and(|m| m.name.starts_with(prefix)),
        store_flags: super::super::fetch::store_flags(f),
        ends: matches!(summary.last, Some(PartKind::End | PartKind::Cancel)),
    })
}

/// What a stream of fragments held of one message.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    /// Offset after the fragments received in order from offset 0.
    next_offset: u64,
    /// Those end the message (END or CANCEL).
    ended: bool,
    /// Whether the METHOD matches the prefix; `None` until offset 0 was seen.
    matches: Option<bool>,
    /// Part of it went to the client.
    passed: bool,
}

/// A message the [`Filter`] moved past.
#[derive(Debug, Clone, Copy)]
pub(super) struct Closed {
    pub(super) id: u64,
    /// It needs no fetching: it was whole, or of another method.
    pub(super) settled: bool,
    /// It went to the client in part only: the offset of the CANCEL it gets.
    pub(super) cancel: Option<u64>,
}

/// The method filter over psycstore's fragments, which come message by message in order of
/// offset: a fragment passes while its message is received in order from offset 0 and its
/// METHOD matches the prefix; a message that passed in part only is [`Closed::cancel`]led.
#[derive(Debug, Clone, Default)]
pub(super) struct Filter {
    current: Option<(u64, Seen)>,
}

impl Filter {
    /// The message the latest fragment belonged to.
    pub(super) fn current(&self) -> Option<u64> {
        self.current.map(|(id, _)| id)
    }

    /// The stream reached message `id`: the one before it, if any, is closed.
    pub(super) fn enter(&mut self, id: u64) -> Option<Closed> {
        if self.current() == Some(id) {
            return None;
        }
        let closed = self.close();
        self.current = Some((id, Seen::default()));
        closed
    }

    /// Fragment `f` of the current message: whether it goes to the client; never if
    /// `may_pass` is false (the message is held back).
    pub(super) fn take(&mut self, f: &Fragment, prefix: &[u8], may_pass: bool) -> bool {
        let Some((_, s)) = self.current.as_mut().filter(|(id, _)| *id == f.message_id) else {
            return false;
        };
        if s.ended || f.fragment_offset != s.next_offset {
            return false;
        }
        let Some(l) = look(f, prefix) else {
            return false;
        };
        if f.fragment_offset == 0 {
            s.matches = Some(l.matches);
        }
        s.next_offset += f.wire_size() as u64;
        s.ended = l.ends;
        let pass = may_pass && s.matches == Some(true);
        s.passed |= pass;
        pass
    }

    /// The stream ended (or moved on): the current message is closed.
    pub(super) fn close(&mut self) -> Option<Closed> {
        let (id, s) = self.current.take()?;
        Some(Closed {
            id,
            settled: s.ended || s.matches == Some(false),
            cancel: (s.passed && !s.ended).then_some(s.next_offset),
        })
    }
}

/// A set of ids kept as runs of consecutive ids (first → last), added in increasing order.
#[derive(Debug, Clone, Default)]
pub(super) struct Runs(BTreeMap<u64, u64>);

impl Runs {
    /// Adds `id`; one not above every id held is ignored.
    fn push(&mut self, id: u64) {
        if let Some((_, last)) = self.0.iter_mut().next_back() {
            if id <= *last {
                return;
            }
            if id - 1 == *last {
                *last = id;
                return;
            }
        }
        self.0.insert(id, id);
    }

    /// The last id of the run holding `id`, if one does.
    pub(super) fn run_end(&self, id: u64) -> Option<u64> {
        let (_, &last) = self.0.range(..=id).next_back()?;
        (last >= id).then_some(last)
    }

    /// Forgets the ids below `id`.
    pub(super) fn forget_below(&mut self, id: u64) {
        while let Some(run) = self.0.first_entry() {
            if *run.get() >= id {
                return;
            }
            run.remove();
        }
    }

    /// The number of runs (what the set costs).
    #[cfg(test)]
    pub(super) fn runs(&self) -> usize {
        self.0.len()
    }
}

/// The psycstore query a HISTORY_REPLAY becomes: a range, or the latest `limit` messages.
pub(in crate::channel) struct LocalQuery {
    pub(in crate::channel) first: u64,
    pub(in crate::channel) last: u64,
    pub(in crate::channel) limit: u64,
}

/// What the remote part of a replay works from ([`Scan::into_plan`]).
pub(super) struct Planned {
    /// The lowest id not passed on whole by the local part.
    pub(super) next: u64,
    /// The ids to fetch from the channel (but those in `settled`), if fetching is on.
    pub(super) window: Option<(u64, u64)>,
    /// Held-back ids of the window the local answer held whole (or of another method).
    pub(super) settled: Runs,
    /// The local answer was held back from `next` on: its ids up to this one that are not
    /// fetched are read again from psycstore.
    pub(super) reread_end: Option<u64>,
    pub(super) prefix: Vec<u8>,
}

/// The local part of a client's HISTORY_REPLAY, kept with its psycstore operation: the method
/// filter, and what the local answer held, for the remote part.
///
/// The local answer (in id order) passes to the client until it shows a message the remote
/// part is to fetch (a missing id or a message held in part only, up to the newest message
/// the record delivered); from the next message on it is held back: not kept, only which of
/// its ids are settled, as runs, within the ids the remote part may fetch.
#[derive(Debug, Clone)]
pub(in crate::channel) struct Scan {
    prefix: Vec<u8>,
    /// With REMOTE: the ids to cover (before clamping and capping). `None`: from the lowest
    /// to the highest id of the local answer.
    asked: Option<(u64, u64)>,
    /// The newest id the record could fetch up to when the request came; `None`: it could
    /// not fetch, and nothing is held back.
    newest: Option<u64>,
    /// The span cap (at least 1).
    cap: u64,
    filter: Filter,
    lowest: Option<u64>,
    highest: Option<u64>,
    /// Every fetchable id below it went to the client whole or is of another method; `None`
    /// until the first message (without REMOTE, the span starts there).
    unsettled: Option<u64>,
    /// The local answer is held back from this message id on.
    held_from: Option<u64>,
    /// The held-back ids of the window that are settled.
    settled: Runs,
}

impl Scan {
    /// The scan of HISTORY_REPLAY `h` and the psycstore query to run. `newest` is the newest
    /// message id the record could fetch up to (see [`super::Record::fetch_newest`]); `cap`
    /// the span cap.
    pub(in crate::channel) fn new(
        h: &HistoryReplay,
        newest: Option<u64>,
        cap: u64,
    ) -> (Box<Self>, LocalQuery) {
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
        let mut scan = Self {
            prefix: h.method_prefix_c().to_vec(),
            asked,
            newest,
            cap: cap.max(1),
            filter: Filter::default(),
            lowest: None,
            highest: None,
            unsettled: None,
            held_from: None,
            settled: Runs::default(),
        };
        if asked.is_some() {
            scan.unsettled = scan.window().map(|(first, _)| first);
        }
        (Box::new(scan), query)
    }

    /// The ids the remote part fetches as far as known: with REMOTE the asked ones, else
    /// those from the lowest to the highest of the local answer so far; up to the newest
    /// message, of which the newest `cap` ids only. Without REMOTE its start only rises as
    /// the answer goes on.
    fn window(&self) -> Option<(u64, u64)> {
        let newest = self.newest?;
        let (lo, hi) = match self.asked {
            Some(span) => span,
            None => (self.lowest?, self.highest?),
        };
        let last = hi.min(newest);
        let first = lo.max(1).max(last.saturating_sub(self.cap - 1));
        Some((first, last))
    }

    /// One fragment of the local answer: whether it goes to the client, and first the
    /// (message id, offset) of a CANCEL for the message before it, if that one stopped short
    /// after part of it went.
    pub(in crate::channel) fn local(&mut self, f: &Fragment) -> (Option<(u64, u64)>, bool) {
        let id = f.message_id;
        let mut cancel = None;
        if self.filter.current() != Some(id) {
            if let Some(closed) = self.filter.enter(id) {
                cancel = self.closed(closed);
            }
            self.lowest = Some(self.lowest.map_or(id, |l| l.min(id)));
            self.highest = Some(self.highest.map_or(id, |h| h.max(id)));
            if let Some(newest) = self.newest {
                let unsettled = *self.unsettled.get_or_insert(id);
                if self.held_from.is_none() && id > unsettled && unsettled <= newest {
                    self.held_from = Some(id);
                }
            }
        }
        let pass = self.filter.take(f, &self.prefix, self.held_from.is_none());
        (cancel, pass)
    }

    /// Notes a message the local answer moved past; the (message id, offset) of its CANCEL
    /// if it went to the client in part only (it is then fetched again from offset 0).
    fn closed(&mut self, c: Closed) -> Option<(u64, u64)> {
        if self.held_from.is_some() {
            let window = self.window();
            if let Some((first, last)) = window {
                // Runs below the window's start are not needed: it only rises.
                self.settled.forget_below(first);
                if c.settled && c.id >= first && c.id <= last {
                    self.settled.push(c.id);
                }
            }
        } else if c.settled && self.unsettled == Some(c.id) {
            self.unsettled = c.id.checked_add(1);
        }
        c.cancel.map(|offset| (c.id, offset))
    }

    /// The local answer ended: the CANCEL of its last message, as in [`Scan::local`].
    pub(in crate::channel) fn end(&mut self) -> Option<(u64, u64)> {
        let closed = self.filter.close()?;
        self.closed(closed)
    }

    /// What the remote part has to do, fetching from the channel if `fetch`; `None` if
    /// there is nothing left to do (nothing to fetch, nothing held back).
    pub(super) fn into_plan(self, fetch: bool) -> Option<Planned> {
        let window = self.window().filter(|(first, last)| fetch && first <= last);
        let reread_end = self.held_from.and(self.highest);
        if window.is_none() && reread_end.is_none() {
            return None;
        }
        let next = self
            .unsettled
            .or(window.map(|(first, _)| first))
            .unwrap_or(u64::MAX);
        Some(Planned {
            next,
            window,
            settled: self.settled,
            reread_end,
            prefix: self.prefix,
        })
    }

    /// The runs of settled held-back ids kept (what the scan costs beyond its fixed part).
    #[cfg(test)]
    pub(in crate::channel) fn held_runs(&self) -> usize {
        self.settled.runs()
    }
}
