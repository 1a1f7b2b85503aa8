//! What the service does with each request, without any IO (`psycstore.md` §5).
//!
//! [`plan`] sorts a decoded [`Request`] into a [`Job`]:
//! - [`Job::Write`]: goes into the current write batch; [`commit`] runs the batch in one
//!   transaction and returns each write's RESULT_CODE, to be sent only then.
//! - [`Job::Read`]: a [`ReplyStream`] that yields the answer in bounded batches
//!   (RESULT_FRAGMENT / RESULT_STATE messages, then the RESULT_CODE; or one RESULT_COUNTERS),
//!   so the service can stop when the client's queue is full and continue later.
//! - [`Job::Reply`]: answered without touching the store (a bad name: result −1).
//!
//! Replies to one client must leave in request order, and a read must see the client's earlier
//! writes. The simplest loop that guarantees both: collect consecutive writes into a batch and
//! [`commit`] it (sending its replies) before starting any other job; commit at the end of
//! every poll round too. [`handle_now`] does exactly that for one request.
//!
//! Results and reply sequences are the C service's, except for the fixes listed in the crate
//! docs (STATE_HASH_UPDATE updates signed values; store errors in the middle of a stream end it
//! with −1).

use gnunet_service::wire::Message;
use tracing::warn;

use crate::cursor::{FragmentCursor, FragmentQuery, StatePrefixCursor};
use crate::keys::{ChannelKey, SlaveKey};
use crate::msg::{
    status, CountersResult, FragmentResult, Request, ResultCode, StateResult, STATE_OP_FIRST,
    STATE_OP_LAST,
};
use crate::store::{StateVar, Store, StoreError, StoredFragment, WriteOp, WriteResult};

/// A write waiting for its batch to commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingWrite {
    /// The request's operation id, for the RESULT_CODE.
    pub op_id: u64,
    /// The write.
    pub op: WriteOp,
}

/// How to go on with one request.
#[derive(Debug)]
pub enum Job {
    /// Add to the write batch; the reply comes from [`commit`].
    Write(PendingWrite),
    /// Drain with [`ReplyStream::next_batch`].
    Read(ReplyStream),
    /// Send these replies; nothing else to do.
    Reply(Vec<Vec<u8>>),
}

fn result_code(op_id: u64, result: i64) -> Vec<u8> {
    ResultCode::new(op_id, result).to_message()
}

/// A RESULT_CODE −1 carrying `error` as its text (the C library hands it to the caller);
/// without the text if that is too long for one message (it may quote request input).
fn failure(op_id: u64, error: &dyn std::fmt::Display) -> Vec<u8> {
    let with_text = ResultCode {
        op_id,
        result_code: status::SYSERR,
        error: Some(error.to_string().into_bytes()),
    };
    with_text.try_to_message().unwrap_or_else(|e| {
        warn!("error text dropped from a RESULT_CODE: {e}");
        ResultCode {
            error: None,
            ..with_text
        }
        .to_message()
    })
}

fn write_reply(op_id: u64, result: &WriteResult) -> Vec<u8> {
    match result {
        Ok(true) => result_code(op_id, status::OK),
        Ok(false) => result_code(op_id, status::NO),
        Err(e) => failure(op_id, e),
    }
}

/// Sorts a request into the job that answers it.
pub fn plan(request: Request) -> Job {
    let write = |op_id, op| Job::Write(PendingWrite { op_id, op });
    match request {
        Request::MembershipStore(r) => write(
            r.head.op_id,
            WriteOp::MembershipStore {
                channel: r.head.channel_key,
                slave: r.slave_key,
                did_join: r.did_join,
                announced_at: r.announced_at,
                effective_since: r.effective_since,
                group_generation: r.group_generation,
            },
        ),
        Request::FragmentStore(r) => write(
            r.op_id,
            WriteOp::FragmentStore {
                channel: r.channel_key,
                fragment: r.fragment,
                psycstore_flags: r.psycstore_flags,
            },
        ),
        Request::StateModify(r) => write(
            r.op_id,
            WriteOp::StateModify {
                channel: r.channel_key,
                message_id: r.message_id,
                state_delta: r.state_delta,
            },
        ),
        Request::StateSync(r) => match r.name_and_value() {
            None => {
                warn!("STATE_SYNC with an invalid variable name");
                Job::Reply(vec![result_code(r.op_id, status::SYSERR)])
            }
            Some((name, value)) => write(
                r.op_id,
                WriteOp::StateSync {
                    channel: r.channel_key,
                    first: r.flags & STATE_OP_FIRST != 0,
                    last: r.flags & STATE_OP_LAST != 0,
                    name: name.to_vec(),
                    value: value.to_vec(),
                    max_state_message_id: r.max_state_message_id,
                    state_hash_message_id: r.state_hash_message_id,
                },
            ),
        },
        Request::StateReset(r) => write(
            r.head.op_id,
            WriteOp::StateReset {
                channel: r.head.channel_key,
            },
        ),
        // The C service deletes the state here (gap S1); the intended meaning is to record
        // the current values as the signed ones.
        Request::StateHashUpdate(r) => write(
            r.head.op_id,
            WriteOp::StateUpdateSigned {
                channel: r.head.channel_key,
            },
        ),
        Request::MembershipTest(r) => Job::Read(ReplyStream::new(
            r.head.op_id,
            Pending::MembershipTest {
                channel: r.head.channel_key,
                slave: r.slave_key,
                message_id: r.message_id,
            },
        )),
        Request::FragmentGet(r) => {
            let query = if r.fragment_limit == 0 {
                FragmentQuery::FragmentRange {
                    first: r.first_fragment_id,
                    last: r.last_fragment_id,
                }
            } else {
                FragmentQuery::LatestFragments {
                    n: r.fragment_limit,
                }
            };
            Job::Read(ReplyStream::fragments(
                r.head.op_id,
                r.head.channel_key,
                query,
                Gate::new(r.do_membership_test, r.slave_key),
                FailedTest::Reported,
            ))
        }
        Request::MessageGet(r) => {
            // The method prefix is not used for filtering (gap S7: there is no method column).
            let query = if r.message_limit == 0 {
                FragmentQuery::MessageRange {
                    first: r.first_message_id,
                    last: r.last_message_id,
                    fragment_limit: r.fragment_limit,
                }
            } else {
                FragmentQuery::LatestMessages { n: r.message_limit }
            };
            Job::Read(ReplyStream::fragments(
                r.head.op_id,
                r.head.channel_key,
                query,
                Gate::new(r.do_membership_test, r.slave_key),
                FailedTest::Counted,
            ))
        }
        Request::MessageGetFragment(r) => Job::Read(ReplyStream::new(
            r.head.op_id,
            Pending::SingleFragment {
                channel: r.head.channel_key,
                message_id: r.message_id,
                fragment_offset: r.fragment_offset,
                gate: Gate::new(r.do_membership_test, r.slave_key),
            },
        )),
        Request::CountersGet(r) => Job::Read(ReplyStream::new(
            r.head.op_id,
            Pending::Counters {
                channel: r.head.channel_key,
            },
        )),
        Request::StateGet(r) => match r.name() {
            None => {
                warn!("STATE_GET with an invalid variable name");
                Job::Reply(vec![result_code(r.head.op_id, status::SYSERR)])
            }
            Some(name) => Job::Read(ReplyStream::new(
                r.head.op_id,
                Pending::StateGet {
                    channel: r.head.channel_key,
                    name: name.to_vec(),
                },
            )),
        },
        Request::StateGetPrefix(r) => match r.name() {
            None => {
                warn!("STATE_GET_PREFIX with an invalid prefix");
                Job::Reply(vec![result_code(r.head.op_id, status::SYSERR)])
            }
            Some(prefix) => Job::Read(ReplyStream::new(
                r.head.op_id,
                Pending::StatePrefix {
                    cursor: StatePrefixCursor::new(r.head.channel_key, prefix),
                    found: false,
                },
            )),
        },
    }
}

/// Runs a batch of writes in one transaction and returns their RESULT_CODE messages, in the
/// order of `writes`. Send them only after this returns: that is when the batch committed.
/// A failed write is answered −1 with the store's error as the RESULT_CODE's text.
pub fn commit<S: Store + ?Sized>(store: &mut S, writes: &[PendingWrite]) -> Vec<Vec<u8>> {
    let ops: Vec<WriteOp> = writes.iter().map(|w| w.op.clone()).collect();
    let results = store.apply(&ops);
    writes
        .iter()
        .zip(results.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(w, result)| match result {
            Some(result) => write_reply(w.op_id, result),
            None => failure(w.op_id, &"the store returned no result for this write"),
        })
        .collect()
}

/// Answers one request completely: a write is committed on its own, a read drained.
/// For tests and simple tools; a service batches writes and paces reads instead.
pub fn handle_now<S: Store + ?Sized>(store: &mut S, request: Request) -> Vec<Vec<u8>> {
    match plan(request) {
        Job::Write(w) => commit(store, &[w]),
        Job::Reply(replies) => replies,
        Job::Read(mut stream) => {
            let mut out = Vec::new();
            while !stream.is_finished() {
                out.extend(stream.next_batch(store, 64));
            }
            out
        }
    }
}

/// The optional membership check of fragment reads: done once, on the first fragment.
#[derive(Clone, Copy, Debug)]
struct Gate {
    slave: Option<SlaveKey>,
    outcome: Option<Result<bool, ()>>,
}

impl Gate {
    /// The C service tests only when the flag is exactly 1.
    fn new(do_membership_test: u8, slave: SlaveKey) -> Self {
        Self {
            slave: (do_membership_test == 1).then_some(slave),
            outcome: None,
        }
    }

    /// Whether `fragment` may be sent; tests membership on first use.
    fn admits<S: Store + ?Sized>(
        &mut self,
        store: &mut S,
        channel: &ChannelKey,
        fragment: &StoredFragment,
    ) -> bool {
        let Some(slave) = self.slave else {
            return true;
        };
        let outcome = *self.outcome.get_or_insert_with(|| {
            store
                .membership_test(channel, &slave, fragment.fragment.message_id)
                .map_err(|e| warn!("membership test failed: {e}"))
        });
        outcome == Ok(true)
    }
}

/// How a failed membership test shows in the final result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FailedTest {
    /// FRAGMENT_GET: −2 (test said no) or −1 (test failed).
    Reported,
    /// MESSAGE_GET: the count of visited fragments, as in the C service (gap S5).
    Counted,
}

#[derive(Debug)]
enum Pending {
    MembershipTest {
        channel: ChannelKey,
        slave: SlaveKey,
        message_id: u64,
    },
    Fragments {
        channel: ChannelKey,
        cursor: FragmentCursor,
        gate: Gate,
        failed_test: FailedTest,
        visited: u64,
    },
    SingleFragment {
        channel: ChannelKey,
        message_id: u64,
        fragment_offset: u64,
        gate: Gate,
    },
    Counters {
        channel: ChannelKey,
    },
    StateGet {
        channel: ChannelKey,
        name: Vec<u8>,
    },
    StatePrefix {
        cursor: StatePrefixCursor,
        found: bool,
    },
}

/// The answer to a read request, produced in bounded batches.
#[derive(Debug)]
pub struct ReplyStream {
    op_id: u64,
    pending: Pending,
    finished: bool,
}

impl ReplyStream {
    fn new(op_id: u64, pending: Pending) -> Self {
        Self {
            op_id,
            pending,
            finished: false,
        }
    }

    fn fragments(
        op_id: u64,
        channel: ChannelKey,
        query: FragmentQuery,
        gate: Gate,
        failed_test: FailedTest,
    ) -> Self {
        Self::new(
            op_id,
            Pending::Fragments {
                channel,
                cursor: FragmentCursor::new(channel, query),
                gate,
                failed_test,
                visited: 0,
            },
        )
    }

    /// The operation id this stream answers.
    pub fn op_id(&self) -> u64 {
        self.op_id
    }

    /// Whether the final message (RESULT_CODE or RESULT_COUNTERS) has been produced.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next at most `max_messages` (at least one) reply messages; the last batch ends with
    /// the final message. Empty once finished.
    pub fn next_batch<S: Store + ?Sized>(
        &mut self,
        store: &mut S,
        max_messages: usize,
    ) -> Vec<Vec<u8>> {
        if self.finished {
            return Vec::new();
        }
        let max = max_messages.max(1);
        let op_id = self.op_id;
        let mut out = Vec::new();
        // text for the final RESULT_CODE when the store failed
        let mut error: Option<String> = None;
        let final_code = match &mut self.pending {
            Pending::MembershipTest {
                channel,
                slave,
                message_id,
            } => Some(match store.membership_test(channel, slave, *message_id) {
                Ok(true) => status::OK,
                Ok(false) => status::NO,
                Err(e) => {
                    warn!("membership test failed: {e}");
                    error = Some(e.to_string());
                    status::SYSERR
                }
            }),
            Pending::Counters { channel } => {
                let counters = counters_result(store, op_id, channel);
                self.finished = true;
                return vec![counters.to_message()];
            }
            Pending::SingleFragment {
                channel,
                message_id,
                fragment_offset,
                gate,
            } => Some(
                match store.message_fragment(channel, *message_id, *fragment_offset) {
                    Err(e) => {
                        warn!("message fragment lookup failed: {e}");
                        error = Some(e.to_string());
                        status::SYSERR
                    }
                    Ok(None) => status::NO,
                    // a failed membership test reports 0, like "not found" (gap S5)
                    Ok(Some(f)) if !gate.admits(store, channel, &f) => status::NO,
                    Ok(Some(f)) => {
                        out.push(fragment_reply(op_id, f));
                        status::OK
                    }
                },
            ),
            Pending::StateGet { channel, name } => {
                Some(match store.state_get_best(channel, name) {
                    Err(e) => {
                        warn!("state lookup failed: {e}");
                        error = Some(e.to_string());
                        status::SYSERR
                    }
                    Ok(None) => status::NO,
                    Ok(Some(var)) => match state_reply(op_id, var) {
                        Some(reply) => {
                            out.push(reply);
                            status::OK
                        }
                        None => {
                            error = Some("state value too large for one message".into());
                            status::SYSERR
                        }
                    },
                })
            }
            Pending::StatePrefix { cursor, found } => {
                match cursor.next_chunk(store, max) {
                    Err(e) => {
                        warn!("state prefix lookup failed: {e}");
                        error = Some(e.to_string());
                        Some(status::SYSERR)
                    }
                    Ok(vars) => {
                        *found |= !vars.is_empty();
                        out.extend(vars.into_iter().filter_map(|v| state_reply(op_id, v)));
                        // the final code rides along if there is room
                        (cursor.is_done() && out.len() < max).then_some(if *found {
                            status::OK
                        } else {
                            status::NO
                        })
                    }
                }
            }
            Pending::Fragments {
                channel,
                cursor,
                gate,
                failed_test,
                visited,
            } => match cursor.next_chunk(store, max) {
                Err(e) => {
                    warn!("fragment lookup failed: {e}");
                    error = Some(e.to_string());
                    Some(status::SYSERR)
                }
                Ok(chunk) => {
                    let mut refused = None;
                    for f in chunk {
                        *visited += 1;
                        if !gate.admits(store, channel, &f) {
                            refused = gate.outcome;
                            break;
                        }
                        out.push(fragment_reply(op_id, f));
                    }
                    match (refused, *failed_test) {
                        (Some(Ok(_)), FailedTest::Reported) => Some(status::MEMBERSHIP_TEST_FAILED),
                        (Some(Err(())), FailedTest::Reported) => Some(status::SYSERR),
                        (Some(_), FailedTest::Counted) => Some(*visited as i64),
                        (None, _) => (cursor.is_done() && out.len() < max)
                            .then_some(i64::try_from(*visited).unwrap_or(i64::MAX)),
                    }
                }
            },
        };
        if let Some(code) = final_code {
            out.push(match error {
                Some(text) => failure(op_id, &text),
                None => result_code(op_id, code),
            });
            self.finished = true;
        }
        out
    }
}

fn fragment_reply(op_id: u64, stored: StoredFragment) -> Vec<u8> {
    FragmentResult {
        psycstore_flags: stored.psycstore_flags,
        op_id,
        fragment: stored.fragment,
    }
    .to_message()
}

/// A RESULT_STATE for `var`, or `None` (logged) if it cannot fit into one message (gap S9:
/// values are never split).
fn state_reply(op_id: u64, var: StateVar) -> Option<Vec<u8>> {
    if !StateResult::fits(&var.name, &var.value) {
        warn!(
            "state variable of {} bytes is too large for a RESULT_STATE; skipped",
            var.value.len()
        );
        return None;
    }
    Some(
        StateResult {
            op_id,
            name: var.name,
            value: var.value,
        }
        .to_message(),
    )
}

/// COUNTERS_GET: the counters of the newest fragment, then the last applied state message,
/// whose lookup result becomes the result (so fragments without applied state give 0, as in
/// the C service).
fn counters_result<S: Store + ?Sized>(
    store: &mut S,
    op_id: u64,
    channel: &ChannelKey,
) -> CountersResult {
    let mut result = CountersResult {
        result_code: status::NO as i32,
        op_id,
        max_fragment_id: 0,
        max_message_id: 0,
        max_group_generation: 0,
        max_state_message_id: 0,
    };
    let failed = |e: StoreError| {
        warn!("reading counters failed: {e}");
        status::SYSERR as i32
    };
    match store.message_counters(channel) {
        Err(e) => result.result_code = failed(e),
        Ok(None) => {}
        Ok(Some(c)) => {
            result.max_fragment_id = c.max_fragment_id;
            result.max_message_id = c.max_message_id;
            result.max_group_generation = c.max_group_generation;
            result.result_code = match store.max_state_message_id(channel) {
                Err(e) => failed(e),
                Ok(None) => status::NO as i32,
                Ok(Some(id)) => {
                    result.max_state_message_id = id;
                    status::OK as i32
                }
            };
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_text_too_long_for_a_result_code_is_dropped_not_a_panic() {
        let short = ResultCode::from_message(&failure(7, &"no such channel")).unwrap();
        assert_eq!(short.error.as_deref(), Some(&b"no such channel"[..]));
        let long = "x".repeat(70_000);
        let r = ResultCode::from_message(&failure(7, &long)).unwrap();
        assert_eq!((r.op_id, r.result_code, r.error), (7, status::SYSERR, None));
    }
}
