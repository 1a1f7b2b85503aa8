//! The receive side: a validating receiver and a message assembler.
//!
//! [`Receiver`] takes containers as they arrive — a message may be split over many — and checks
//! the part sequence against the grammar
//!
//! ```text
//! message   := METHOD modifier* DATA* terminator
//! modifier  := MODIFIER MOD_CONT*      (continuations until value_size is reached)
//! terminator:= END | CANCEL
//! ```
//!
//! plus the per-part rules ([`Part::parse`]), valid names and known operators. It keeps O(1)
//! state and hands back the container's parts as zero-copy views. A container is checked in
//! full before any of its parts is handed out, so a caller never sees half of a bad container.
//!
//! [`Assembler`] sits on top and collects parts into a [`PsycMessage`], reassembling modifier
//! values across MOD_CONT parts, within [`Limits`].
//!
//! Differences from the C receiver (gap U3), visible to a C sender only if it breaks the
//! grammar: END and CANCEL are accepted only after a METHOD (END not in the middle of a
//! modifier value); a new MODIFIER, DATA or END needs the previous value to be complete; a
//! MOD_CONT needs an incomplete value; a MODIFIER with `name_size` 0 is an error; parts after
//! END/CANCEL in the same container, and empty containers, are errors. A receiver that starts
//! in the middle of a message (right after connecting) reports
//! [`ReceiveError::Unexpected`] with state [`ReceiveState::Start`] for its tail; the next
//! METHOD starts cleanly.

use super::container::{DeliveryHeader, DeliveryView};
use super::env::{Modifier, Operator};
use super::message::PsycMessage;
use super::names::{check_method, check_variable, NameError};
use super::parts::{Part, PartError, PartKind, Parts};
use gnunet_service::wire::DecodeError;

/// Where in the grammar the receiver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiveState {
    /// Waiting for a METHOD.
    Start,
    /// After the METHOD or a complete modifier: MODIFIER, DATA, END or CANCEL may follow.
    Header,
    /// Inside a modifier value: only MOD_CONT (or CANCEL) may follow.
    Value,
    /// After DATA: more DATA, END or CANCEL may follow.
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    Header,
    Value { expected: u32, received: u32 },
    Data,
}

impl Stage {
    fn public(self) -> ReceiveState {
        match self {
            Stage::Start => ReceiveState::Start,
            Stage::Header => ReceiveState::Header,
            Stage::Value { .. } => ReceiveState::Value,
            Stage::Data => ReceiveState::Data,
        }
    }
}

/// Why the receiver rejected a container. After any error the receiver is back at
/// [`ReceiveState::Start`] and the message in progress is abandoned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The container's own header is malformed.
    #[error("bad container: {0}")]
    Container(DecodeError),
    /// A container without parts.
    #[error("container holds no parts")]
    EmptyContainer,
    /// A part is malformed.
    #[error("part at offset {offset}: {error}")]
    Part {
        /// Offset of the part within the container's parts.
        offset: usize,
        /// What is wrong with it.
        error: PartError,
    },
    /// A part that the grammar does not allow here.
    #[error("{part} not allowed in state {state:?}")]
    Unexpected {
        /// The part that arrived.
        part: PartKind,
        /// The state the receiver was in.
        state: ReceiveState,
    },
    /// Parts follow END or CANCEL in the same container.
    #[error("parts after the end of the message in the same container")]
    PartsAfterEnd,
    /// The method name breaks the naming rules.
    #[error("invalid method name: {0}")]
    MethodName(NameError),
    /// A variable name breaks the naming rules.
    #[error("invalid variable name: {0}")]
    VariableName(NameError),
    /// A modifier operator byte that is none of `: = + - @`.
    #[error("unknown modifier operator {0:#04x}")]
    UnknownOperator(u8),
    /// MOD_CONT parts carried more bytes than the modifier's `value_size`.
    #[error("modifier value overrun: {received} bytes for value_size {expected}")]
    ValueOverrun {
        /// The modifier's `value_size`.
        expected: u32,
        /// Bytes received including this continuation.
        received: u64,
    },
    /// A continuation container carries another message id than the message in progress.
    #[error("message id {got} in the middle of message {expected}")]
    MessageIdChanged {
        /// Id of the message in progress.
        expected: u64,
        /// Id in the container.
        got: u64,
    },
    /// A continuation container carries other flags than the message in progress.
    #[error("flags {got:#x} in the middle of a message with flags {expected:#x}")]
    FlagsChanged {
        /// Flags of the message in progress.
        expected: u32,
        /// Flags in the container.
        got: u32,
    },
    /// The message grows beyond [`Limits::max_message_bytes`].
    #[error("message exceeds {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The message has more than [`Limits::max_modifiers`] modifiers.
    #[error("message has more than {limit} modifiers")]
    TooManyModifiers {
        /// The limit.
        limit: usize,
    },
}

/// The container fields that identify the message a container belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageMeta {
    /// Message id (or request id).
    pub message_id: u64,
    /// Delivery flags (`container::DELIVERY_*`).
    pub flags: u32,
    /// The requesting slave's key, for requests.
    pub slave_pub_key: [u8; 32],
}

impl From<&DeliveryHeader> for MessageMeta {
    fn from(h: &DeliveryHeader) -> Self {
        Self {
            message_id: h.message_id,
            flags: h.flags,
            slave_pub_key: h.slave_pub_key,
        }
    }
}

/// How a container left the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The message continues in later containers.
    More,
    /// The container ended with END: the message is complete.
    Ended,
    /// The container ended with CANCEL: the sender aborted the message.
    Cancelled,
}

/// A validated container: its message and its parts.
#[derive(Debug, Clone, Copy)]
pub struct Accepted<'a> {
    /// The message the container belongs to (taken from its first container).
    pub meta: MessageMeta,
    /// Whether the message ended here.
    pub progress: Progress,
    /// Whether the container began a new message (its first part is METHOD).
    pub starts_message: bool,
    parts: &'a [u8],
}

impl<'a> Accepted<'a> {
    /// The container's parts, in order; all of them passed validation.
    pub fn parts(&self) -> impl Iterator<Item = Part<'a>> + 'a {
        // Every part was parsed successfully during validation, so no error can appear here.
        Parts::new(self.parts).filter_map(Result::ok)
    }
}

/// The validating receiver: O(1) state, zero-copy.
#[derive(Debug, Clone)]
pub struct Receiver {
    stage: Stage,
    meta: MessageMeta,
}

impl Default for Receiver {
    fn default() -> Self {
        Self::new()
    }
}

impl Receiver {
    /// A receiver waiting for a METHOD.
    pub fn new() -> Self {
        Self {
            stage: Stage::Start,
            meta: MessageMeta::default(),
        }
    }

    /// Where in the grammar the receiver is.
    pub fn state(&self) -> ReceiveState {
        self.stage.public()
    }

    /// Abandons any message in progress.
    pub fn reset(&mut self) {
        self.stage = Stage::Start;
        self.meta = MessageMeta::default();
    }

    /// Takes one service → client container (56-byte header, then parts).
    pub fn receive<'a>(&mut self, container: &'a [u8]) -> Result<Accepted<'a>, ReceiveError> {
        let view = match DeliveryView::parse(container) {
            Ok(v) => v,
            Err(e) => {
                self.reset();
                return Err(ReceiveError::Container(e));
            }
        };
        self.receive_parts(MessageMeta::from(&view.header), view.parts)
    }

    /// Takes the parts of one container whose identifying fields are `meta` (a multicast
    /// fragment payload, or a client container's parts with a default `meta`).
    pub fn receive_parts<'a>(
        &mut self,
        meta: MessageMeta,
        parts: &'a [u8],
    ) -> Result<Accepted<'a>, ReceiveError> {
        let result = self.check(meta, parts);
        if result.is_err() {
            self.reset();
        }
        result
    }

    /// Takes one part on its own, with no container around it: the grammar and per-part rules
    /// of [`Receiver::receive_parts`], without the container-level checks (message id, flags,
    /// empty container, parts after END). For a caller that acts on every part as it is
    /// accepted and keeps what it did before a bad part — PSYCstore applying a stored
    /// message's state, as the C service does through its part callback. After an error the
    /// receiver is back at [`ReceiveState::Start`].
    pub fn receive_part(&mut self, part: &Part<'_>) -> Result<Progress, ReceiveError> {
        let mut progress = Progress::More;
        match advance(self.stage, part, &mut progress) {
            Ok(stage) => {
                self.stage = stage;
                if stage == Stage::Start {
                    self.meta = MessageMeta::default();
                }
                Ok(progress)
            }
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    fn check<'a>(
        &mut self,
        meta: MessageMeta,
        parts: &'a [u8],
    ) -> Result<Accepted<'a>, ReceiveError> {
        if parts.is_empty() {
            return Err(ReceiveError::EmptyContainer);
        }
        if self.stage != Stage::Start {
            if meta.message_id != self.meta.message_id {
                return Err(ReceiveError::MessageIdChanged {
                    expected: self.meta.message_id,
                    got: meta.message_id,
                });
            }
            if meta.flags != self.meta.flags {
                return Err(ReceiveError::FlagsChanged {
                    expected: self.meta.flags,
                    got: meta.flags,
                });
            }
        }
        let mut stage = self.stage;
        let mut progress = Progress::More;
        let mut starts_message = false;
        let mut iter = Parts::new(parts);
        loop {
            let offset = iter.offset();
            let part = match iter.next() {
                None => break,
                Some(Ok(p)) => p,
                Some(Err(error)) => return Err(ReceiveError::Part { offset, error }),
            };
            if progress != Progress::More {
                return Err(ReceiveError::PartsAfterEnd);
            }
            if offset == 0 && matches!(part, Part::Method(_)) {
                starts_message = true;
            }
            stage = advance(stage, &part, &mut progress)?;
        }
        let meta = if self.stage == Stage::Start {
            meta
        } else {
            self.meta
        };
        self.stage = stage;
        self.meta = if stage == Stage::Start {
            MessageMeta::default()
        } else {
            meta
        };
        Ok(Accepted {
            meta,
            progress,
            starts_message,
            parts,
        })
    }
}

/// One step of the grammar.
#[inline]
fn advance(stage: Stage, part: &Part<'_>, progress: &mut Progress) -> Result<Stage, ReceiveError> {
    let unexpected = || ReceiveError::Unexpected {
        part: part.kind(),
        state: stage.public(),
    };
    let value_complete = !matches!(stage, Stage::Value { .. });
    Ok(match part {
        Part::Method(m) => {
            if stage != Stage::Start {
                return Err(unexpected());
            }
            check_method(&m.name).map_err(ReceiveError::MethodName)?;
            Stage::Header
        }
        Part::Modifier(m) => {
            if stage != Stage::Header {
                return Err(unexpected());
            }
            check_variable(&m.name).map_err(ReceiveError::VariableName)?;
            Operator::from_byte(m.oper).ok_or(ReceiveError::UnknownOperator(m.oper))?;
            // Part::parse guarantees the chunk is at most value_size.
            let received = m.value.len() as u32;
            if received == m.value_size {
                Stage::Header
            } else {
                Stage::Value {
                    expected: m.value_size,
                    received,
                }
            }
        }
        Part::ModCont(chunk) => match stage {
            Stage::Value { expected, received } => {
                let total = received as u64 + chunk.len() as u64;
                if total > expected as u64 {
                    return Err(ReceiveError::ValueOverrun {
                        expected,
                        received: total,
                    });
                }
                if total == expected as u64 {
                    Stage::Header
                } else {
                    Stage::Value {
                        expected,
                        received: total as u32,
                    }
                }
            }
            _ => return Err(unexpected()),
        },
        Part::Data(_) => {
            if !matches!(stage, Stage::Header | Stage::Data) {
                return Err(unexpected());
            }
            Stage::Data
        }
        Part::End => {
            if stage == Stage::Start || !value_complete {
                return Err(unexpected());
            }
            *progress = Progress::Ended;
            Stage::Start
        }
        Part::Cancel => {
            if stage == Stage::Start {
                return Err(unexpected());
            }
            *progress = Progress::Cancelled;
            Stage::Start
        }
    })
}

/// Memory bounds of the [`Assembler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of method name, variable names, values and body held for one message. A
    /// modifier's declared `value_size` counts in full as soon as its MODIFIER arrives.
    pub max_message_bytes: usize,
    /// Most modifiers in one message.
    pub max_modifiers: usize,
}

impl Default for Limits {
    /// 16 MiB and 65536 modifiers: far above what the C services produce (the largest value in
    /// the C tests is 128766 bytes), small enough to bound a hostile sender.
    fn default() -> Self {
        Self {
            max_message_bytes: 16 << 20,
            max_modifiers: 1 << 16,
        }
    }
}

/// What the assembler yields when a message ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completed {
    /// A whole message.
    Message {
        /// Its container fields.
        meta: MessageMeta,
        /// The message.
        message: PsycMessage,
    },
    /// The sender cancelled the message; what had arrived is dropped.
    Cancelled {
        /// Its container fields.
        meta: MessageMeta,
    },
}

#[derive(Debug)]
struct Partial {
    message: PsycMessage,
    /// The modifier whose value is still arriving, and its full size.
    open: Option<(Modifier, usize)>,
    /// Bytes counted against the limit.
    bytes: usize,
}

/// Collects validated parts into whole messages, within [`Limits`].
#[derive(Debug, Default)]
pub struct Assembler {
    receiver: Receiver,
    limits: Limits,
    partial: Option<Partial>,
}

impl Assembler {
    /// An assembler with the given limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            receiver: Receiver::new(),
            limits,
            partial: None,
        }
    }

    /// Abandons any message in progress.
    pub fn reset(&mut self) {
        self.receiver.reset();
        self.partial = None;
    }

    /// Takes one service → client container; yields the message when it is complete.
    pub fn push(&mut self, container: &[u8]) -> Result<Option<Completed>, ReceiveError> {
        let accepted = self.receiver.receive(container);
        self.absorb(accepted)
    }

    /// Takes the bare parts of one container (see [`Receiver::receive_parts`]).
    pub fn push_parts(
        &mut self,
        meta: MessageMeta,
        parts: &[u8],
    ) -> Result<Option<Completed>, ReceiveError> {
        let accepted = self.receiver.receive_parts(meta, parts);
        self.absorb(accepted)
    }

    fn absorb(
        &mut self,
        accepted: Result<Accepted<'_>, ReceiveError>,
    ) -> Result<Option<Completed>, ReceiveError> {
        let accepted = match accepted {
            Ok(a) => a,
            Err(e) => {
                self.partial = None;
                return Err(e);
            }
        };
        for part in accepted.parts() {
            if let Err(e) = self.take(part) {
                self.reset();
                return Err(e);
            }
        }
        let meta = accepted.meta;
        Ok(match accepted.progress {
            Progress::More => None,
            Progress::Ended => self.partial.take().map(|p| Completed::Message {
                meta,
                message: p.message,
            }),
            Progress::Cancelled => {
                self.partial = None;
                Some(Completed::Cancelled { meta })
            }
        })
    }

    fn charge(&self, partial: &mut Partial, n: usize) -> Result<(), ReceiveError> {
        partial.bytes = partial.bytes.saturating_add(n);
        if partial.bytes > self.limits.max_message_bytes {
            return Err(ReceiveError::TooLarge {
                limit: self.limits.max_message_bytes,
            });
        }
        Ok(())
    }

    fn take(&mut self, part: Part<'_>) -> Result<(), ReceiveError> {
        // The receiver has validated names, operators and the order of parts; a violated
        // expectation below would be a bug, reported as an unexpected part rather than a panic.
        let unexpected = |kind| ReceiveError::Unexpected {
            part: kind,
            state: ReceiveState::Header,
        };
        if let Part::Method(m) = &part {
            let mut partial = Partial {
                message: PsycMessage {
                    method: String::from_utf8_lossy(&m.name).into_owned(),
                    flags: m.flags,
                    state_delta: m.state_delta,
                    ..PsycMessage::default()
                },
                open: None,
                bytes: 0,
            };
            self.charge(&mut partial, m.name.len())?;
            self.partial = Some(partial);
            return Ok(());
        }
        let mut partial = self.partial.take().ok_or(unexpected(part.kind()))?;
        match part {
            Part::Modifier(m) => {
                if partial.message.env.len() >= self.limits.max_modifiers {
                    return Err(ReceiveError::TooManyModifiers {
                        limit: self.limits.max_modifiers,
                    });
                }
                let full = m.value_size as usize;
                self.charge(&mut partial, m.name.len().saturating_add(full))?;
                let oper =
                    Operator::from_byte(m.oper).ok_or(ReceiveError::UnknownOperator(m.oper))?;
                let modifier = Modifier {
                    oper,
                    name: String::from_utf8_lossy(&m.name).into_owned(),
                    value: m.value.into_owned(),
                };
                if modifier.value.len() == full {
                    partial.message.env.push(modifier);
                } else {
                    partial.open = Some((modifier, full));
                }
            }
            Part::ModCont(chunk) => {
                let (mut modifier, full) =
                    partial.open.take().ok_or(unexpected(PartKind::ModCont))?;
                modifier.value.extend_from_slice(&chunk);
                if modifier.value.len() >= full {
                    partial.message.env.push(modifier);
                } else {
                    partial.open = Some((modifier, full));
                }
            }
            Part::Data(chunk) => {
                self.charge(&mut partial, chunk.len())?;
                partial.message.data.extend_from_slice(&chunk);
            }
            Part::Method(_) | Part::End | Part::Cancel => {}
        }
        self.partial = Some(partial);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{Delivery, DeliveryHeader};
    use crate::parts::{MethodPart, ModifierPart};
    use gnunet_service::wire::Message;
    use std::borrow::Cow;

    fn method(name: &[u8]) -> Part<'_> {
        Part::Method(MethodPart {
            flags: 0,
            state_delta: 0,
            name: Cow::Borrowed(name),
        })
    }

    fn modifier<'a>(name: &'a [u8], value: &'a [u8], size: u32) -> Part<'a> {
        Part::Modifier(ModifierPart {
            value_size: size,
            oper: b'=',
            name: Cow::Borrowed(name),
            value: Cow::Borrowed(value),
        })
    }

    fn cont(v: &[u8]) -> Part<'_> {
        Part::ModCont(Cow::Borrowed(v))
    }

    fn data(v: &[u8]) -> Part<'_> {
        Part::Data(Cow::Borrowed(v))
    }

    fn container(id: u64, flags: u32, parts: &[Part<'_>]) -> Vec<u8> {
        let mut p = Vec::new();
        for part in parts {
            part.emit(&mut p);
        }
        Delivery {
            header: DeliveryHeader {
                flags,
                message_id: id,
                ..DeliveryHeader::default()
            },
            parts: p,
        }
        .to_message()
    }

    fn run(containers: &[Vec<u8>]) -> Result<Vec<Completed>, ReceiveError> {
        let mut a = Assembler::default();
        let mut out = Vec::new();
        for c in containers {
            if let Some(done) = a.push(c)? {
                out.push(done);
            }
        }
        Ok(out)
    }

    #[test]
    fn a_message_split_over_containers_is_reassembled() {
        let cs = [
            container(
                5,
                1,
                &[method(b"_notice_test"), modifier(b"_big", b"ab", 7)],
            ),
            container(5, 1, &[cont(b"cde")]),
            container(5, 1, &[cont(b"fg"), modifier(b"_e", b"", 0), data(b"x")]),
            container(5, 1, &[data(b"yz"), Part::End]),
        ];
        let done = run(&cs).unwrap();
        let [Completed::Message { meta, message }] = &done[..] else {
            panic!("expected one message, got {done:?}");
        };
        assert_eq!(meta.message_id, 5);
        assert_eq!(meta.flags, 1);
        assert_eq!(message.method, "_notice_test");
        let env: Vec<_> = message
            .env
            .iter()
            .map(|m| (m.name.as_str(), &m.value[..]))
            .collect();
        assert_eq!(env, [("_big", &b"abcdefg"[..]), ("_e", b"")]);
        assert_eq!(message.data, b"xyz");
    }

    #[test]
    fn single_parts_follow_the_grammar_and_an_error_resets() {
        let mut r = Receiver::new();
        assert_eq!(r.receive_part(&method(b"_m")), Ok(Progress::More));
        assert_eq!(
            r.receive_part(&modifier(b"_v", b"a", 3)),
            Ok(Progress::More)
        );
        assert_eq!(r.state(), ReceiveState::Value);
        assert_eq!(r.receive_part(&cont(b"bc")), Ok(Progress::More));
        assert_eq!(r.state(), ReceiveState::Header);
        assert_eq!(r.receive_part(&Part::End), Ok(Progress::Ended));
        assert_eq!(r.state(), ReceiveState::Start);
        // a new message may follow at once; DATA inside an incomplete value is refused
        assert_eq!(r.receive_part(&method(b"_n")), Ok(Progress::More));
        assert_eq!(r.receive_part(&modifier(b"_w", b"", 2)), Ok(Progress::More));
        assert_eq!(
            r.receive_part(&data(b"x")),
            Err(ReceiveError::Unexpected {
                part: PartKind::Data,
                state: ReceiveState::Value
            })
        );
        assert_eq!(r.state(), ReceiveState::Start);
        assert!(r.receive_part(&Part::Cancel).is_err());
    }

    #[test]
    fn cancel_yields_cancelled_and_the_next_message_starts_clean() {
        let cs = [
            container(1, 0, &[method(b"_m"), modifier(b"_v", b"a", 3)]),
            container(1, 0, &[Part::Cancel]),
            container(2, 0, &[method(b"_n"), Part::End]),
        ];
        let done = run(&cs).unwrap();
        assert!(matches!(done[0], Completed::Cancelled { meta } if meta.message_id == 1));
        assert!(matches!(&done[1], Completed::Message { message, .. } if message.method == "_n"));
    }

    fn err(parts: &[Part<'_>]) -> ReceiveError {
        run(&[container(1, 0, parts)]).unwrap_err()
    }

    #[test]
    fn end_and_cancel_need_a_method() {
        assert_eq!(
            err(&[Part::End]),
            ReceiveError::Unexpected {
                part: PartKind::End,
                state: ReceiveState::Start
            }
        );
        assert_eq!(
            err(&[Part::Cancel]),
            ReceiveError::Unexpected {
                part: PartKind::Cancel,
                state: ReceiveState::Start
            }
        );
    }

    #[test]
    fn grammar_violations_are_rejected() {
        let unexpected = |part, state| ReceiveError::Unexpected { part, state };
        assert_eq!(
            err(&[data(b"x")]),
            unexpected(PartKind::Data, ReceiveState::Start)
        );
        assert_eq!(
            err(&[method(b"_m"), method(b"_m")]),
            unexpected(PartKind::Method, ReceiveState::Header)
        );
        assert_eq!(
            err(&[method(b"_m"), cont(b"x")]),
            unexpected(PartKind::ModCont, ReceiveState::Header)
        );
        assert_eq!(
            err(&[method(b"_m"), data(b"x"), modifier(b"_a", b"", 0)]),
            unexpected(PartKind::Modifier, ReceiveState::Data)
        );
        assert_eq!(
            err(&[method(b"_m"), modifier(b"_a", b"x", 2), data(b"x")]),
            unexpected(PartKind::Data, ReceiveState::Value)
        );
        assert_eq!(
            err(&[method(b"_m"), modifier(b"_a", b"x", 2), Part::End]),
            unexpected(PartKind::End, ReceiveState::Value)
        );
        assert_eq!(
            err(&[
                method(b"_m"),
                modifier(b"_a", b"x", 2),
                modifier(b"_b", b"", 0)
            ]),
            unexpected(PartKind::Modifier, ReceiveState::Value)
        );
        assert_eq!(
            err(&[method(b"_m"), modifier(b"_a", b"x", 2), cont(b"yz")]),
            ReceiveError::ValueOverrun {
                expected: 2,
                received: 3
            }
        );
        assert_eq!(
            err(&[method(b"_m"), modifier(b"_a", b"x", 1), cont(b"")]),
            unexpected(PartKind::ModCont, ReceiveState::Header)
        );
        assert_eq!(
            err(&[method(b"_m"), Part::End, method(b"_n"), Part::End]),
            ReceiveError::PartsAfterEnd
        );
        assert!(matches!(
            err(&[method(b"bad name")]),
            ReceiveError::MethodName(_)
        ));
        assert!(matches!(
            err(&[method(b"_m"), modifier(b"", b"", 0)]),
            ReceiveError::VariableName(NameError::Empty)
        ));
        let mut bad_oper = modifier(b"_a", b"", 0);
        if let Part::Modifier(m) = &mut bad_oper {
            m.oper = b'?';
        }
        assert_eq!(
            err(&[method(b"_m"), bad_oper]),
            ReceiveError::UnknownOperator(b'?')
        );
        assert_eq!(err(&[]), ReceiveError::EmptyContainer);
    }

    #[test]
    fn cancel_is_allowed_inside_a_value() {
        let done = run(&[container(
            1,
            0,
            &[method(b"_m"), modifier(b"_a", b"x", 9), Part::Cancel],
        )])
        .unwrap();
        assert!(matches!(done[..], [Completed::Cancelled { .. }]));
    }

    #[test]
    fn continuation_must_keep_message_id_and_flags() {
        let first = container(1, 0, &[method(b"_m")]);
        assert_eq!(
            run(&[first.clone(), container(2, 0, &[Part::End])]).unwrap_err(),
            ReceiveError::MessageIdChanged {
                expected: 1,
                got: 2
            }
        );
        assert_eq!(
            run(&[first, container(1, 2, &[Part::End])]).unwrap_err(),
            ReceiveError::FlagsChanged {
                expected: 0,
                got: 2
            }
        );
    }

    #[test]
    fn an_error_resets_to_start_and_nothing_of_the_bad_container_is_handed_out() {
        let mut r = Receiver::new();
        r.receive(&container(1, 0, &[method(b"_m")])).unwrap();
        assert_eq!(r.state(), ReceiveState::Header);
        assert!(r
            .receive(&container(1, 0, &[data(b"ok"), Part::Cancel, data(b"x")]))
            .is_err());
        assert_eq!(r.state(), ReceiveState::Start);
        let next = container(9, 0, &[method(b"_n"), Part::End]);
        let ok = r.receive(&next).unwrap();
        assert_eq!(ok.progress, Progress::Ended);
        assert!(ok.starts_message);
        assert_eq!(ok.parts().count(), 2);
    }

    #[test]
    fn malformed_part_and_container_are_reported() {
        let mut c = container(1, 0, &[method(b"_m")]);
        c.extend_from_slice(&[0, 4, 0, 0]);
        let n = c.len() as u16;
        c[..2].copy_from_slice(&n.to_be_bytes());
        assert!(matches!(
            run(&[c]).unwrap_err(),
            ReceiveError::Part {
                offset: 19,
                error: PartError::UnknownType(0)
            }
        ));
        assert!(matches!(
            run(&[vec![0, 4, 2, 0xb3]]).unwrap_err(),
            ReceiveError::Container(_)
        ));
    }

    #[test]
    fn limits_bound_the_assembler() {
        let mut a = Assembler::new(Limits {
            max_message_bytes: 100,
            max_modifiers: 1,
        });
        let big = container(1, 0, &[method(b"_m"), modifier(b"_a", b"", 1000)]);
        assert_eq!(a.push(&big), Err(ReceiveError::TooLarge { limit: 100 }));
        let two = container(
            1,
            0,
            &[
                method(b"_m"),
                modifier(b"_a", b"", 0),
                modifier(b"_b", b"", 0),
            ],
        );
        assert_eq!(
            a.push(&two),
            Err(ReceiveError::TooManyModifiers { limit: 1 })
        );
        let body = vec![0u8; 200];
        let long = container(1, 0, &[method(b"_m"), data(&body), Part::End]);
        assert_eq!(a.push(&long), Err(ReceiveError::TooLarge { limit: 100 }));
        let ok = container(1, 0, &[method(b"_m"), data(b"fine"), Part::End]);
        assert!(matches!(a.push(&ok), Ok(Some(Completed::Message { .. }))));
    }
}
