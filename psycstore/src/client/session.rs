//! [`Session`]: the sans-IO client side of one connection — which requests are open, which
//! reply belongs to which of them, and what to send again after a reconnect.
//!
//! A caller starts a request with [`Session::start`] (the session picks the operation id and
//! the caller's builder from [`crate::client`] writes the message), sends the bytes however it
//! likes, and hands every message from the service to [`Session::handle`], which returns what
//! it means: a data item of an open read ([`Event::Fragment`], [`Event::State`]) or the end of
//! an operation ([`Event::Done`], [`Event::Counters`]). Replies of several open operations may
//! interleave; each is matched by its op id, and checked against what its request can get.
//!
//! **After a reconnect** ([`Session::reconnected`]) a request is sent again only if doing it a
//! second time cannot change its effect or its answer, and none of its answer was handed out
//! yet: every read (MEMBERSHIP_TEST, FRAGMENT_GET, MESSAGE_GET, MESSAGE_GET_FRAGMENT,
//! COUNTERS_GET, STATE_GET, STATE_GET_PREFIX) that has not delivered data, FRAGMENT_STORE
//! (stored with "insert or ignore", answered 1 either way), STATE_RESET and STATE_HASH_UPDATE.
//! The others are reported lost, because the service may have applied them before the
//! connection broke: MEMBERSHIP_STORE (a second join or part record), STATE_MODIFY (a second
//! run with a state delta answers 0, "already applied"), STATE_SYNC (a snapshot spans several
//! messages; one of them alone could install an incomplete snapshot). The C library resends
//! nothing: it drops every open operation without calling back.
//!
//! Any [`SessionError`] means the service broke the protocol; the caller should drop the
//! connection, and may reconnect.

use std::collections::BTreeMap;

use super::{parse_reply, ClientError, OpIds};
use crate::msg::{self, CountersResult, Reply, Request, ResultCode};
use crate::store::{StateVar, StoredFragment};

/// How many operations a session keeps open unless told otherwise.
pub const DEFAULT_MAX_PENDING: usize = 1024;

/// The final RESULT_CODE of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// 1/0/−1/−2 or a count (`psycstore.md` §5).
    pub result: i64,
    /// Error text the service sent with a failure.
    pub error: Option<String>,
}

impl Outcome {
    fn from_code(code: ResultCode) -> Self {
        Self {
            result: code.result_code,
            error: code
                .error
                .map(|text| String::from_utf8_lossy(&text).into_owned()),
        }
    }
}

/// What one message from the service meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A stored fragment for an open FRAGMENT_GET, MESSAGE_GET or MESSAGE_GET_FRAGMENT.
    Fragment {
        /// The operation.
        op_id: u64,
        /// The fragment and its flags.
        fragment: StoredFragment,
    },
    /// A state variable for an open STATE_GET or STATE_GET_PREFIX.
    State {
        /// The operation.
        op_id: u64,
        /// The variable.
        var: StateVar,
    },
    /// The final RESULT_CODE: the operation is finished.
    Done {
        /// The operation.
        op_id: u64,
        /// Its result.
        outcome: Outcome,
    },
    /// The answer to a COUNTERS_GET, which finishes it.
    Counters {
        /// The operation.
        op_id: u64,
        /// The counters.
        counters: CountersResult,
    },
}

impl Event {
    /// The operation the event belongs to.
    pub fn op_id(&self) -> u64 {
        match self {
            Self::Fragment { op_id, .. }
            | Self::State { op_id, .. }
            | Self::Done { op_id, .. }
            | Self::Counters { op_id, .. } => *op_id,
        }
    }

    /// Whether the event finishes its operation.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Done { .. } | Self::Counters { .. })
    }
}

/// What the service sent that the session could not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The message is malformed or fails the C library's checks.
    #[error(transparent)]
    BadReply(#[from] ClientError),
    /// A reply for an operation that is not open.
    #[error("{got} for operation {op_id}, which is not open")]
    UnknownOperation {
        /// The op id in the reply.
        op_id: u64,
        /// The reply's kind.
        got: &'static str,
    },
    /// A reply the open operation's request does not get (the operation is closed).
    #[error("unexpected {got} in answer to {request} (operation {op_id})")]
    Unexpected {
        /// The operation.
        op_id: u64,
        /// Its request.
        request: &'static str,
        /// The reply's kind.
        got: &'static str,
    },
}

/// What to do after the connection was re-established.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconnect {
    /// Requests to send again, in the order they were first sent, with their op ids (which
    /// stay the same).
    pub resend: Vec<(u64, Vec<u8>)>,
    /// Operations given up: their requests may or may not have been carried out. Report them
    /// failed to whoever started them.
    pub lost: Vec<u64>,
}

/// Which replies finish a request, and which carry data for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// RESULT_CODE only.
    Code,
    /// RESULT_FRAGMENTs, then RESULT_CODE.
    Fragments,
    /// RESULT_STATEs, then RESULT_CODE.
    States,
    /// One RESULT_COUNTERS.
    Counters,
}

/// What the session knows of a request from its type: its name, its answer, and whether it
/// may be sent again after a reconnect (see the module docs).
fn classify(msg_type: u16) -> Option<(&'static str, Answer, bool)> {
    Some(match msg_type {
        msg::TYPE_MEMBERSHIP_STORE => ("MEMBERSHIP_STORE", Answer::Code, false),
        msg::TYPE_MEMBERSHIP_TEST => ("MEMBERSHIP_TEST", Answer::Code, true),
        msg::TYPE_FRAGMENT_STORE => ("FRAGMENT_STORE", Answer::Code, true),
        msg::TYPE_FRAGMENT_GET => ("FRAGMENT_GET", Answer::Fragments, true),
        msg::TYPE_MESSAGE_GET => ("MESSAGE_GET", Answer::Fragments, true),
        msg::TYPE_MESSAGE_GET_FRAGMENT => ("MESSAGE_GET_FRAGMENT", Answer::Fragments, true),
        msg::TYPE_COUNTERS_GET => ("COUNTERS_GET", Answer::Counters, true),
        msg::TYPE_STATE_MODIFY => ("STATE_MODIFY", Answer::Code, false),
        msg::TYPE_STATE_SYNC => ("STATE_SYNC", Answer::Code, false),
        msg::TYPE_STATE_RESET => ("STATE_RESET", Answer::Code, true),
        msg::TYPE_STATE_HASH_UPDATE => ("STATE_HASH_UPDATE", Answer::Code, true),
        msg::TYPE_STATE_GET => ("STATE_GET", Answer::States, true),
        msg::TYPE_STATE_GET_PREFIX => ("STATE_GET_PREFIX", Answer::States, true),
        _ => return None,
    })
}

/// The name of a reply's kind, for errors.
fn reply_name(reply: &Reply) -> &'static str {
    match reply {
        Reply::ResultCode(_) => "RESULT_CODE",
        Reply::Fragment(_) => "RESULT_FRAGMENT",
        Reply::Counters(_) => "RESULT_COUNTERS",
        Reply::State(_) => "RESULT_STATE",
    }
}

/// An open operation.
#[derive(Debug)]
struct Open {
    request: &'static str,
    answer: Answer,
    /// The request, kept while it may be sent again after a reconnect.
    resend: Option<Vec<u8>>,
}

/// The client side of one connection to the service, without IO (see the module docs).
#[derive(Debug)]
pub struct Session {
    ids: OpIds,
    open: BTreeMap<u64, Open>,
    max_pending: usize,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session with no open operations and room for [`DEFAULT_MAX_PENDING`].
    pub fn new() -> Self {
        Self::with_max_pending(DEFAULT_MAX_PENDING)
    }

    /// A session that keeps at most `max_pending` operations open (at least one): a bound on
    /// what it holds, requests kept for resending included.
    pub fn with_max_pending(max_pending: usize) -> Self {
        Self {
            ids: OpIds::new(),
            open: BTreeMap::new(),
            max_pending: max_pending.max(1),
        }
    }

    /// How many operations are open.
    pub fn pending(&self) -> usize {
        self.open.len()
    }

    /// Whether operation `op_id` is open.
    pub fn is_open(&self, op_id: u64) -> bool {
        self.open.contains_key(&op_id)
    }

    /// Opens an operation: `build` writes its request (one of the builders of
    /// [`crate::client`]) with the op id given. Returns the op id and the bytes to send.
    pub fn start(
        &mut self,
        build: impl FnOnce(u64) -> Result<Vec<u8>, ClientError>,
    ) -> Result<(u64, Vec<u8>), ClientError> {
        self.room_for(1)?;
        let op_id = self.ids.next();
        let message = build(op_id)?;
        self.register(op_id, &message)?;
        Ok((op_id, message))
    }

    /// Opens several operations at once: `build` takes their op ids from the session's
    /// sequence (as [`super::state_sync`] does). Returns each op id with its bytes, in order.
    pub fn start_all(
        &mut self,
        build: impl FnOnce(&mut OpIds) -> Result<Vec<(u64, Vec<u8>)>, ClientError>,
    ) -> Result<Vec<(u64, Vec<u8>)>, ClientError> {
        let requests = build(&mut self.ids)?;
        self.room_for(requests.len())?;
        for (i, (op_id, message)) in requests.iter().enumerate() {
            if let Err(e) = self.register(*op_id, message) {
                for (registered, _) in &requests[..i] {
                    self.open.remove(registered);
                }
                return Err(e);
            }
        }
        Ok(requests)
    }

    /// Closes operation `op_id` without an answer, e.g. a request that was never sent. A
    /// later reply for it is a [`SessionError::UnknownOperation`]. False if it was not open.
    pub fn forget(&mut self, op_id: u64) -> bool {
        self.open.remove(&op_id).is_some()
    }

    fn room_for(&self, n: usize) -> Result<(), ClientError> {
        if self.open.len() + n > self.max_pending {
            return Err(ClientError::TooManyPending(self.max_pending));
        }
        Ok(())
    }

    /// Opens `op_id` for `message`, which must be a request carrying that op id.
    fn register(&mut self, op_id: u64, message: &[u8]) -> Result<(), ClientError> {
        let msg_type = match message {
            [_, _, t0, t1, ..] => Some(u16::from_be_bytes([*t0, *t1])),
            _ => None,
        };
        let not_a_request = ClientError::NotARequest(msg_type);
        let (request, answer, resendable) = msg_type.and_then(classify).ok_or(not_a_request)?;
        match Request::decode(message) {
            Ok(decoded) if decoded.op_id() == op_id && !self.open.contains_key(&op_id) => {}
            _ => return Err(ClientError::NotARequest(msg_type)),
        }
        self.open.insert(
            op_id,
            Open {
                request,
                answer,
                resend: resendable.then(|| message.to_vec()),
            },
        );
        Ok(())
    }

    /// Takes one message from the service and says what it means. A final event closes its
    /// operation; an error closes the operation it names, if it was open.
    pub fn handle(&mut self, bytes: &[u8]) -> Result<Event, SessionError> {
        let reply = parse_reply(bytes)?;
        let op_id = reply.op_id();
        let got = reply_name(&reply);
        let open = self
            .open
            .get_mut(&op_id)
            .ok_or(SessionError::UnknownOperation { op_id, got })?;
        let event = match (open.answer, reply) {
            (Answer::Code | Answer::Fragments | Answer::States, Reply::ResultCode(code)) => {
                Event::Done {
                    op_id,
                    outcome: Outcome::from_code(code),
                }
            }
            (Answer::Counters, Reply::Counters(counters)) => Event::Counters { op_id, counters },
            (Answer::Fragments, Reply::Fragment(f)) => Event::Fragment {
                op_id,
                fragment: StoredFragment {
                    fragment: f.fragment,
                    psycstore_flags: f.psycstore_flags,
                },
            },
            (Answer::States, Reply::State(s)) => Event::State {
                op_id,
                var: StateVar {
                    name: s.name,
                    value: s.value,
                },
            },
            _ => {
                let request = open.request;
                self.open.remove(&op_id);
                return Err(SessionError::Unexpected {
                    op_id,
                    request,
                    got,
                });
            }
        };
        if event.is_final() {
            self.open.remove(&op_id);
        } else {
            // data was handed out: sending the request again would hand it out twice
            open.resend = None;
        }
        Ok(event)
    }

    /// The connection broke and is up again: what to send again, and which operations are
    /// lost (and now closed). See the module docs for which requests are sent again.
    pub fn reconnected(&mut self) -> Reconnect {
        let mut plan = Reconnect::default();
        let open = std::mem::take(&mut self.open);
        for (op_id, op) in open {
            match &op.resend {
                Some(message) => {
                    plan.resend.push((op_id, message.clone()));
                    self.open.insert(op_id, op);
                }
                None => plan.lost.push(op_id),
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{
        counters_get, fragment_get, fragment_store, membership_store, state_get_prefix,
        state_modify, state_reset, state_sync,
    };
    use crate::fragment::tests::sample;
    use crate::keys::{ChannelKey, SlaveKey};
    use crate::msg::{FragmentResult, StateResult};
    use gnunet_service::wire::Message;

    const K: ChannelKey = ChannelKey([1; 32]);

    fn code(op_id: u64, result: i64) -> Vec<u8> {
        ResultCode::new(op_id, result).to_message()
    }

    fn fragment_reply(op_id: u64) -> Vec<u8> {
        FragmentResult {
            psycstore_flags: 2,
            op_id,
            fragment: sample(4),
        }
        .to_message()
    }

    fn state_reply(op_id: u64, name: &[u8]) -> Vec<u8> {
        StateResult {
            op_id,
            name: name.to_vec(),
            value: b"v".to_vec(),
        }
        .to_message()
    }

    fn counters(op_id: u64) -> Vec<u8> {
        CountersResult {
            result_code: 1,
            op_id,
            max_fragment_id: 3,
            max_message_id: 2,
            max_group_generation: 0,
            max_state_message_id: 1,
        }
        .to_message()
    }

    #[test]
    fn interleaved_replies_reach_their_operations() {
        let mut s = Session::new();
        let (get, _) = s.start(|op| Ok(fragment_get(op, &K, None, 1, 9))).unwrap();
        let (store, _) = s.start(|op| fragment_store(op, &K, &sample(4), 0)).unwrap();
        let (prefix, _) = s.start(|op| state_get_prefix(op, &K, b"_a")).unwrap();
        let (count, _) = s.start(|op| Ok(counters_get(op, &K))).unwrap();
        assert_eq!((get, store, prefix, count), (1, 2, 3, 4));
        assert_eq!(s.pending(), 4);

        let e = s.handle(&fragment_reply(get)).unwrap();
        assert!(
            matches!(&e, Event::Fragment { op_id: 1, fragment } if fragment.psycstore_flags == 2)
        );
        assert_eq!(
            s.handle(&code(store, 1)).unwrap(),
            Event::Done {
                op_id: store,
                outcome: Outcome {
                    result: 1,
                    error: None
                }
            }
        );
        let e = s.handle(&state_reply(prefix, b"_a_b")).unwrap();
        assert!(matches!(&e, Event::State { op_id: 3, var } if var.name == b"_a_b"));
        assert!(s.handle(&fragment_reply(get)).is_ok());
        let e = s.handle(&counters(count)).unwrap();
        assert!(
            matches!(e, Event::Counters { op_id: 4, ref counters } if counters.max_fragment_id == 3)
        );
        assert!(s.handle(&code(get, 2)).unwrap().is_final());
        assert!(s.handle(&code(prefix, 1)).unwrap().is_final());
        assert_eq!(s.pending(), 0);
        // a second final answer finds nothing open
        assert_eq!(
            s.handle(&code(get, 1)),
            Err(SessionError::UnknownOperation {
                op_id: get,
                got: "RESULT_CODE"
            })
        );
    }

    #[test]
    fn replies_a_request_cannot_get_are_refused_and_close_it() {
        let mut s = Session::new();
        let (store, _) = s.start(|op| fragment_store(op, &K, &sample(1), 0)).unwrap();
        assert_eq!(
            s.handle(&fragment_reply(store)),
            Err(SessionError::Unexpected {
                op_id: store,
                request: "FRAGMENT_STORE",
                got: "RESULT_FRAGMENT"
            })
        );
        assert!(!s.is_open(store));
        let (count, _) = s.start(|op| Ok(counters_get(op, &K))).unwrap();
        assert!(matches!(
            s.handle(&code(count, 1)),
            Err(SessionError::Unexpected { .. })
        ));
        let (prefix, _) = s.start(|op| state_get_prefix(op, &K, b"_a")).unwrap();
        assert!(s.handle(&fragment_reply(prefix)).is_err());
        // the C library's checks apply: a one-character state name is refused
        let (prefix, _) = s.start(|op| state_get_prefix(op, &K, b"_a")).unwrap();
        assert_eq!(
            s.handle(&state_reply(prefix, b"_")),
            Err(SessionError::BadReply(ClientError::ShortStateName))
        );
        assert!(matches!(s.handle(&[0, 3]), Err(SessionError::BadReply(_))));
    }

    #[test]
    fn only_repeatable_requests_without_delivered_data_are_sent_again() {
        let mut s = Session::new();
        let (store, store_bytes) = s.start(|op| fragment_store(op, &K, &sample(2), 0)).unwrap();
        let (join, _) = s
            .start(|op| Ok(membership_store(op, &K, &SlaveKey([2; 32]), true, 1, 1, 0)))
            .unwrap();
        let (modify, _) = s.start(|op| Ok(state_modify(op, &K, 5, 1))).unwrap();
        let (fresh_read, read_bytes) = s.start(|op| Ok(fragment_get(op, &K, None, 1, 9))).unwrap();
        let (started_read, _) = s.start(|op| Ok(fragment_get(op, &K, None, 1, 9))).unwrap();
        let (reset, reset_bytes) = s.start(|op| Ok(state_reset(op, &K))).unwrap();
        let sync = s
            .start_all(|ids| state_sync(ids, &K, 1, 2, &[(b"_a", b"1"), (b"_b", b"2")]))
            .unwrap();
        assert!(s.handle(&fragment_reply(started_read)).is_ok());

        let plan = s.reconnected();
        assert_eq!(
            plan.resend,
            vec![
                (store, store_bytes),
                (fresh_read, read_bytes),
                (reset, reset_bytes)
            ]
        );
        assert_eq!(
            plan.lost,
            vec![join, modify, started_read, sync[0].0, sync[1].0]
        );
        // the re-sent ones stay open under their ids, the lost ones are closed
        assert_eq!(s.pending(), 3);
        assert!(s.handle(&code(store, 1)).is_ok());
        assert!(s.handle(&code(join, 1)).is_err());
    }

    #[test]
    fn open_operations_are_bounded_and_ids_stay_unique() {
        let mut s = Session::with_max_pending(2);
        s.start(|op| Ok(state_reset(op, &K))).unwrap();
        s.start(|op| Ok(state_reset(op, &K))).unwrap();
        assert_eq!(
            s.start(|op| Ok(state_reset(op, &K))),
            Err(ClientError::TooManyPending(2))
        );
        assert_eq!(
            s.start_all(|ids| state_sync(ids, &K, 1, 2, &[(b"_a", b"1")])),
            Err(ClientError::TooManyPending(2))
        );
        assert!(s.forget(1));
        assert!(!s.forget(1));
        // a builder error opens nothing; a reply is not a request
        assert_eq!(
            s.start(|op| state_get_prefix(op, &K, b"")),
            Err(ClientError::InvalidName)
        );
        assert_eq!(
            s.start(|op| Ok(code(op, 1))),
            Err(ClientError::NotARequest(Some(674)))
        );
        // the request must carry the op id it was given
        assert_eq!(
            s.start(|op| Ok(state_reset(op + 1, &K))),
            Err(ClientError::NotARequest(Some(670)))
        );
        assert_eq!(s.pending(), 1);
        let (op, _) = s.start(|op| Ok(state_reset(op, &K))).unwrap();
        assert!(op > 2, "ids are never reused within a session");
    }
}
