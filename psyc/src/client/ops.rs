//! The operations of a [`Session`](super::Session) answered by RESULT_CODE: membership store,
//! history replay, state get. Op ids count from 1 per session; answers are matched by op id,
//! and each answer is checked against what its request can get.
//!
//! Resend rule after a reconnect (module docs of [`client`](super)): an operation whose
//! request was written on the lost connection is sent again if it only reads (history, state)
//! and nothing of its answer arrived; otherwise it is reported lost. One never written is
//! simply written on the next connection.

use std::collections::{BTreeMap, VecDeque};

use gnunet_service::wire::{Message, TooLarge};

use super::{Event, ReceivedMessage, SessionError};
use crate::format::container::check_parts;
use crate::format::parts::Part;
use crate::format::receive::{self, Assembler, Completed, MessageMeta};
use crate::msg::{HistoryResult, ResultCode, StateResult};

/// A state variable whose value continues in MOD_CONT results.
#[derive(Debug)]
pub(super) struct OpenVar {
    name: String,
    value: Vec<u8>,
    full: usize,
}

/// What an operation is waiting for.
#[derive(Debug)]
pub(super) enum Kind {
    /// RESULT_CODE only; not safe to repeat.
    Membership,
    /// HISTORY_RESULTs, validated by the operation's own receiver, then RESULT_CODE.
    History(Box<Assembler>),
    /// STATE_RESULTs, then RESULT_CODE.
    State(Option<OpenVar>),
}

impl Kind {
    /// A history operation with a fresh receiver.
    pub(super) fn history(limits: receive::Limits) -> Self {
        Kind::History(Box::new(Assembler::new(limits)))
    }

    /// A state operation.
    pub(super) fn state() -> Self {
        Kind::State(None)
    }

    fn name(&self) -> &'static str {
        match self {
            Kind::Membership => "CHANNEL_MEMBERSHIP_STORE",
            Kind::History(_) => "HISTORY_REPLAY",
            Kind::State(_) => "STATE_GET",
        }
    }
}

#[derive(Debug)]
struct Op {
    kind: Kind,
    request: Vec<u8>,
    /// Written (queued for writing) on the current connection.
    sent: bool,
    /// Some of its answer arrived.
    answered: bool,
}

/// The open operations of a session.
#[derive(Debug)]
pub(super) struct Ops {
    next_id: u64,
    open: BTreeMap<u64, Op>,
    max_open: usize,
    /// Bounds of one state value being reassembled.
    limits: receive::Limits,
}

impl Ops {
    pub(super) fn new(max_open: usize, limits: receive::Limits) -> Self {
        Self {
            next_id: 1,
            open: BTreeMap::new(),
            max_open: max_open.max(1),
            limits,
        }
    }

    /// Opens an operation whose request `build` makes for the op id given. Returns the op id
    /// and the request; `sent` says whether the caller writes it now.
    pub(super) fn start<M: Message>(
        &mut self,
        kind: Kind,
        sent: bool,
        build: impl FnOnce(u64) -> M,
    ) -> Result<(u64, Vec<u8>), SessionError> {
        if self.open.len() >= self.max_open {
            return Err(SessionError::QueueFull("pending operations"));
        }
        let op_id = self.next_id;
        let request = build(op_id)
            .try_to_message()
            .map_err(|e: TooLarge| SessionError::TooLarge(e))?;
        self.next_id += 1;
        self.open.insert(
            op_id,
            Op {
                kind,
                request: request.clone(),
                sent,
                answered: false,
            },
        );
        Ok((op_id, request))
    }

    /// How many operations are open.
    pub(super) fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether `op_id` is open.
    pub(super) fn is_open(&self, op_id: u64) -> bool {
        self.open.contains_key(&op_id)
    }

    /// A new connection: the requests to write on it, in op id order.
    pub(super) fn connected(&mut self) -> Vec<Vec<u8>> {
        self.open
            .values_mut()
            .map(|op| {
                op.sent = true;
                op.request.clone()
            })
            .collect()
    }

    /// The connection is gone: the operations that cannot be sent again are closed and their
    /// ids returned.
    pub(super) fn disconnected(&mut self) -> Vec<u64> {
        let lost: Vec<u64> = self
            .open
            .iter()
            .filter(|(_, op)| op.sent && (op.answered || matches!(op.kind, Kind::Membership)))
            .map(|(id, _)| *id)
            .collect();
        for id in &lost {
            self.open.remove(id);
        }
        for op in self.open.values_mut() {
            op.sent = false;
        }
        lost
    }

    /// Closes every operation (the session parted), returning their ids.
    pub(super) fn clear(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.open).into_keys().collect()
    }

    /// RESULT_CODE: closes its operation.
    pub(super) fn result_code(&mut self, code: ResultCode, events: &mut VecDeque<Event>) {
        let Some(op) = self.open.remove(&code.op_id) else {
            tracing::debug!(op_id = code.op_id, "RESULT_CODE for no open operation");
            return;
        };
        if let Kind::State(Some(var)) = op.kind {
            tracing::warn!(name = %var.name, "state value incomplete at the end of its operation");
        }
        let text = code.data.strip_suffix(&[0]).unwrap_or(&code.data);
        events.push_back(Event::OperationDone {
            op_id: code.op_id,
            result: code.result_code,
            error: (!text.is_empty()).then(|| String::from_utf8_lossy(text).into_owned()),
        });
    }

    /// HISTORY_RESULT: one replayed fragment, through the operation's own receiver.
    pub(super) fn history_result(
        &mut self,
        h: HistoryResult,
        events: &mut VecDeque<Event>,
    ) -> Result<(), SessionError> {
        let op_id = h.op_id;
        let Some(op) = self.open.get_mut(&op_id) else {
            // The C service sent history results to every client of the channel (gap P11).
            tracing::debug!(op_id, "HISTORY_RESULT for no open operation");
            return Ok(());
        };
        let Kind::History(assembler) = &mut op.kind else {
            return Err(SessionError::Unexpected {
                got: "HISTORY_RESULT",
                request: op.kind.name(),
            });
        };
        op.answered = true;
        let meta = MessageMeta::from(&h.message.header);
        match assembler.push_parts(meta, &h.message.parts) {
            Ok(Some(Completed::Message { meta, message })) => {
                events.push_back(Event::HistoryMessage {
                    op_id,
                    message: ReceivedMessage::new(meta, message),
                });
            }
            Ok(Some(Completed::Cancelled { meta })) => {
                tracing::debug!(
                    op_id,
                    message_id = meta.message_id,
                    "cancelled message in history"
                );
            }
            Ok(None) => {}
            Err(error) => events.push_back(Event::HistoryInvalid { op_id, error }),
        }
        Ok(())
    }

    /// STATE_RESULT: one variable (MODIFIER), or the continuation of its value (MOD_CONT).
    ///
    /// The MODIFIER is decoded as written, not as the C library read it (gap P10): the value
    /// is the bytes after the name, the full size the 32-bit `value_size`, and the operator
    /// byte (which the C service wrote as 0 on little-endian hosts) is ignored.
    pub(super) fn state_result(
        &mut self,
        s: StateResult,
        events: &mut VecDeque<Event>,
    ) -> Result<(), SessionError> {
        let op_id = s.op_id;
        let Some(op) = self.open.get_mut(&op_id) else {
            tracing::debug!(op_id, "STATE_RESULT for no open operation");
            return Ok(());
        };
        let Kind::State(open_var) = &mut op.kind else {
            return Err(SessionError::Unexpected {
                got: "STATE_RESULT",
                request: op.kind.name(),
            });
        };
        op.answered = true;
        let bad = |reason| SessionError::BadStateResult { op_id, reason };
        // One part filling the result exactly.
        match check_parts(&s.part) {
            Ok(summary) if summary.count == 1 => {}
            _ => return Err(bad("not exactly one well-formed part")),
        }
        let (part, _) = Part::parse(&s.part).map_err(|_| bad("malformed part"))?;
        let var = match part {
            Part::Modifier(m) => {
                if open_var.is_some() {
                    return Err(bad("a new variable before the last value was complete"));
                }
                let full = m.value_size as usize;
                if full > self.limits.max_message_bytes {
                    return Err(bad("value larger than the receive limit"));
                }
                OpenVar {
                    name: String::from_utf8_lossy(&m.name).into_owned(),
                    value: m.value.into_owned(),
                    full,
                }
            }
            Part::ModCont(chunk) => {
                let mut var = open_var
                    .take()
                    .ok_or(bad("MOD_CONT without an incomplete value"))?;
                if var.value.len() + chunk.len() > var.full {
                    return Err(bad("MOD_CONT beyond the value size"));
                }
                var.value.extend_from_slice(&chunk);
                var
            }
            _ => return Err(bad("neither MODIFIER nor MOD_CONT")),
        };
        if var.value.len() == var.full {
            events.push_back(Event::StateVar {
                op_id,
                name: var.name,
                value: var.value,
            });
        } else {
            *open_var = Some(var);
        }
        Ok(())
    }
}
