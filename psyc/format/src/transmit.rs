//! The transmit side: segmenting a message into client → service containers.
//!
//! [`Transmitter`] is a sans-IO state machine with the C transmitter's segmentation and pacing
//! (`GNUNET_PSYC_TransmitHandle`). The application supplies the message through a
//! [`MessageSource`]: the transmitter asks it for modifiers and body chunks as room and ACKs
//! allow. Containers come out of [`Transmitter::poll_transmit`]; each one sent is answered by
//! the service with one MESSAGE_ACK, fed in through [`Transmitter::handle_ack`].
//!
//! Segmentation, exactly as in C:
//! - a part is appended to the open container if the container (4-byte header + parts) stays
//!   within [`FRAGMENT_MAX_PAYLOAD`] bytes; otherwise the open container is sent and the part
//!   starts a new one (so a container holding a single maximal part is 64400 bytes);
//! - the open container is sent at once after a DATA part that more data follows, after END
//!   and after CANCEL, and whenever it could not take even one more 4-byte part;
//! - modifiers are produced back to back without waiting for ACKs; DATA is asked for only when
//!   no ACK is outstanding, and again after each ACK.
//!
//! Fixed C defects (gap U2), invisible on the wire except that the messages are now right:
//! resume after a pause among the modifiers continues with the modifiers (C jumped to the
//! data); a modifier with an empty value is valid (C cancelled the message); the built-in
//! environment source keeps going after a value that needed continuations (C dropped the
//! remaining modifiers); a resume while ACKs are outstanding is remembered rather than lost;
//! an ACK asks for a new data chunk only when no other container is outstanding (C asked on
//! every ACK, letting chunks pile up).

use std::borrow::Cow;
use std::collections::VecDeque;

use super::container::TYPE_CONTAINER;
use super::env::{Environment, Operator};
use super::names::{validate_method, validate_variable, NameError};
use super::parts::{
    MethodPart, ModifierPart, Part, DATA_MAX_PAYLOAD, FRAGMENT_MAX_PAYLOAD, METHOD_STATE_MODIFY,
    MODIFIER_MAX_PAYLOAD, MOD_CONT_MAX_PAYLOAD, PART_HEADER_SIZE,
};

/// What a source answers when asked for the next modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModifierStep {
    /// A modifier: the buffer holds `name`, a NUL and the first `len − name − 1` value bytes.
    Modifier {
        /// Its operator.
        oper: Operator,
        /// The full value size, including bytes that continuation calls will supply.
        value_size: u32,
        /// Bytes written into the buffer.
        len: usize,
    },
    /// Nothing available now; call [`Transmitter::resume`] later.
    Pause,
    /// No more modifiers; continue with the body.
    Done,
    /// Abort: the transmitter sends CANCEL.
    Fail,
}

/// What a source answers when asked for the next chunk of a modifier value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkStep {
    /// `n` bytes written (1 ..= remaining value bytes).
    Chunk(usize),
    /// Nothing available now; call [`Transmitter::resume`] later.
    Pause,
    /// Abort: the transmitter sends CANCEL.
    Fail,
}

/// What a source answers when asked for body data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataStep {
    /// `n` bytes written and more follow; `More(0)` pauses until [`Transmitter::resume`].
    More(usize),
    /// The last `n` bytes (possibly 0) of the body.
    Last(usize),
    /// Abort: the transmitter sends CANCEL.
    Fail,
}

/// Where the content of a message comes from (the C notify callbacks).
pub trait MessageSource {
    /// Writes the next modifier into `buf` (at most [`MODIFIER_MAX_PAYLOAD`] bytes).
    fn next_modifier(&mut self, buf: &mut [u8]) -> ModifierStep;
    /// Writes the next chunk of the current modifier's value into `buf` (at most
    /// [`MOD_CONT_MAX_PAYLOAD`] bytes, and at most `remaining`).
    fn next_value_chunk(&mut self, buf: &mut [u8], remaining: u32) -> ChunkStep;
    /// Writes the next body chunk into `buf` (at most [`DATA_MAX_PAYLOAD`] bytes).
    fn next_data(&mut self, buf: &mut [u8]) -> DataStep;
}

/// Why a transmission could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransmitError {
    /// Another message is still being transmitted.
    #[error("a message is already being transmitted")]
    Busy,
    /// The method name is not valid.
    #[error("invalid method name: {0}")]
    MethodName(#[from] NameError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Modifier,
    ModCont { remaining: u32 },
    Data,
    End,
    Cancel,
}

/// How the last transmission ended, for the caller's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing transmitted yet.
    None,
    /// END was queued.
    Ended,
    /// CANCEL was queued (by [`Transmitter::cancel`] or a failing source).
    Cancelled,
}

/// The transmitter: one message at a time, containers out, ACKs in.
#[derive(Debug)]
pub struct Transmitter {
    phase: Phase,
    paused: bool,
    in_transmit: bool,
    open: Option<Vec<u8>>,
    outbox: VecDeque<Vec<u8>>,
    acks_pending: u32,
    scratch: Vec<u8>,
}

impl Default for Transmitter {
    fn default() -> Self {
        Self::new()
    }
}

impl Transmitter {
    /// An idle transmitter.
    pub fn new() -> Self {
        Self {
            phase: Phase::Idle,
            paused: false,
            in_transmit: false,
            open: None,
            outbox: VecDeque::new(),
            acks_pending: 0,
            scratch: Vec::new(),
        }
    }

    /// Whether a message is being transmitted (false once END or CANCEL is queued, as in C,
    /// even though ACKs may still be outstanding).
    pub fn is_transmitting(&self) -> bool {
        self.in_transmit
    }

    /// Whether the source paused the transmission.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Containers sent and not yet acknowledged.
    pub fn acks_pending(&self) -> u32 {
        self.acks_pending
    }

    /// How the last message ended.
    pub fn outcome(&self) -> Outcome {
        match self.phase {
            Phase::End => Outcome::Ended,
            Phase::Cancel => Outcome::Cancelled,
            _ => Outcome::None,
        }
    }

    /// Starts a message with `method` and master transmit `flags`, its content from `src`.
    pub fn start(
        &mut self,
        method: &str,
        flags: u32,
        src: &mut dyn MessageSource,
    ) -> Result<(), TransmitError> {
        if self.in_transmit {
            return Err(TransmitError::Busy);
        }
        validate_method(method.as_bytes())?;
        self.in_transmit = true;
        self.paused = false;
        self.phase = Phase::Modifier;
        let mut part = Vec::with_capacity(16 + method.len() + 1);
        Part::Method(MethodPart {
            flags,
            state_delta: 0,
            name: Cow::Borrowed(method.as_bytes()),
        })
        .emit(&mut part);
        self.insert(&part, false);
        self.run(src);
        Ok(())
    }

    /// Starts a message whose modifiers are `env`'s and whose body is `data`. The
    /// STATE_MODIFY flag is added when the environment has a persistent modifier, as in C.
    /// Pass the returned source to later [`handle_ack`](Self::handle_ack) calls.
    pub fn start_with_env<'a>(
        &mut self,
        method: &str,
        flags: u32,
        env: &'a Environment,
        data: &'a [u8],
    ) -> Result<EnvSource<'a>, TransmitError> {
        let mut src = EnvSource::new(env, data);
        let flags = if env.is_stateful() {
            flags | METHOD_STATE_MODIFY
        } else {
            flags
        };
        self.start(method, flags, &mut src)?;
        Ok(src)
    }

    /// One MESSAGE_ACK from the service. Returns false for an ACK nobody waited for (ignored).
    pub fn handle_ack(&mut self, src: &mut dyn MessageSource) -> bool {
        if self.acks_pending == 0 {
            tracing::warn!("ignoring extraneous PSYC message ACK");
            return false;
        }
        self.acks_pending -= 1;
        self.run(src);
        true
    }

    /// Continues after the source paused. Modifiers continue at once; data as soon as no ACK
    /// is outstanding.
    pub fn resume(&mut self, src: &mut dyn MessageSource) {
        if !self.in_transmit {
            return;
        }
        self.paused = false;
        self.run(src);
    }

    /// Aborts the message: CANCEL is sent at once.
    pub fn cancel(&mut self) {
        if !self.in_transmit {
            return;
        }
        self.abort();
    }

    /// The next container to send to the service (type 691, at most 64400 bytes).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outbox.pop_front()
    }

    fn abort(&mut self) {
        self.phase = Phase::Cancel;
        self.in_transmit = false;
        self.paused = false;
        let mut part = Vec::with_capacity(PART_HEADER_SIZE);
        Part::Cancel.emit(&mut part);
        self.insert(&part, true);
    }

    fn finish(&mut self) {
        self.phase = Phase::End;
        self.in_transmit = false;
        let mut part = Vec::with_capacity(PART_HEADER_SIZE);
        Part::End.emit(&mut part);
        self.insert(&part, true);
    }

    /// Drives the source until it pauses, waits for an ACK, or the message is done.
    fn run(&mut self, src: &mut dyn MessageSource) {
        while self.in_transmit && !self.paused {
            let keep_going = match self.phase {
                Phase::Modifier => self.step_modifier(src),
                Phase::ModCont { remaining } => self.step_value_chunk(src, remaining),
                Phase::Data => {
                    if self.acks_pending > 0 {
                        return;
                    }
                    self.step_data(src)
                }
                Phase::Idle | Phase::End | Phase::Cancel => false,
            };
            if !keep_going {
                return;
            }
        }
    }

    fn scratch(&mut self, n: usize) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        buf.resize(n, 0);
        buf
    }

    fn step_modifier(&mut self, src: &mut dyn MessageSource) -> bool {
        let mut buf = self.scratch(MODIFIER_MAX_PAYLOAD);
        let step = src.next_modifier(&mut buf);
        let go = match step {
            ModifierStep::Pause => {
                self.paused = true;
                false
            }
            ModifierStep::Done => {
                self.phase = Phase::Data;
                true
            }
            ModifierStep::Fail => {
                tracing::debug!("modifier source failed; cancelling the message");
                self.abort();
                false
            }
            ModifierStep::Modifier {
                oper,
                value_size,
                len,
            } => match modifier_part(&buf, oper, value_size, len) {
                Some((part, remaining)) => {
                    self.insert(&part, false);
                    self.phase = if remaining == 0 {
                        Phase::Modifier
                    } else {
                        Phase::ModCont { remaining }
                    };
                    true
                }
                None => {
                    tracing::debug!("modifier source gave an invalid modifier; cancelling");
                    self.abort();
                    false
                }
            },
        };
        self.scratch = buf;
        go
    }

    fn step_value_chunk(&mut self, src: &mut dyn MessageSource, remaining: u32) -> bool {
        let mut buf = self.scratch(MOD_CONT_MAX_PAYLOAD.min(remaining as usize));
        let step = src.next_value_chunk(&mut buf, remaining);
        let go = match step {
            ChunkStep::Pause | ChunkStep::Chunk(0) => {
                self.paused = true;
                false
            }
            ChunkStep::Chunk(n) if n <= buf.len() => {
                let mut part = Vec::with_capacity(PART_HEADER_SIZE + n);
                Part::ModCont(Cow::Borrowed(&buf[..n])).emit(&mut part);
                self.insert(&part, false);
                // n <= buf.len() <= remaining.
                let left = remaining - n as u32;
                self.phase = if left == 0 {
                    Phase::Modifier
                } else {
                    Phase::ModCont { remaining: left }
                };
                true
            }
            ChunkStep::Chunk(_) | ChunkStep::Fail => {
                self.abort();
                false
            }
        };
        self.scratch = buf;
        go
    }

    fn step_data(&mut self, src: &mut dyn MessageSource) -> bool {
        let mut buf = self.scratch(DATA_MAX_PAYLOAD);
        let step = src.next_data(&mut buf);
        match step {
            DataStep::More(0) => self.paused = true,
            DataStep::More(n) | DataStep::Last(n) if n <= buf.len() => {
                if n > 0 {
                    let mut part = Vec::with_capacity(PART_HEADER_SIZE + n);
                    Part::Data(Cow::Borrowed(&buf[..n])).emit(&mut part);
                    self.insert(&part, matches!(step, DataStep::More(_)));
                }
                if matches!(step, DataStep::Last(_)) {
                    self.finish();
                }
            }
            DataStep::More(_) | DataStep::Last(_) | DataStep::Fail => self.abort(),
        }
        self.scratch = buf;
        // After a DATA part the container went out and an ACK is awaited; after END/CANCEL
        // the loop ends by itself. Either way `run` re-checks its conditions.
        true
    }

    /// The C buffering rule (`transmit_queue_insert`).
    fn insert(&mut self, part: &[u8], flush_now: bool) {
        let mut appended = false;
        if let Some(open) = &mut self.open {
            if open.len() + part.len() > FRAGMENT_MAX_PAYLOAD {
                self.send_open();
            } else {
                open.extend_from_slice(part);
                appended = true;
            }
        }
        if !appended {
            let mut open = Vec::with_capacity(FRAGMENT_MAX_PAYLOAD + PART_HEADER_SIZE);
            open.extend_from_slice(&[0, 0]);
            open.extend_from_slice(&TYPE_CONTAINER.to_be_bytes());
            open.extend_from_slice(part);
            self.open = Some(open);
        }
        let full = self
            .open
            .as_ref()
            .is_some_and(|o| o.len() + PART_HEADER_SIZE > FRAGMENT_MAX_PAYLOAD);
        if flush_now || full {
            self.send_open();
        }
    }

    fn send_open(&mut self) {
        if let Some(mut open) = self.open.take() {
            // Every part is at most FRAGMENT_MAX_PAYLOAD bytes, so a container is at most
            // 64400 bytes and its size fits the 16-bit field.
            let size = open.len() as u16;
            open[..2].copy_from_slice(&size.to_be_bytes());
            self.outbox.push_back(open);
            self.acks_pending += 1;
        }
    }
}

/// Checks a modifier written by a source and builds its part. Returns the part and the value
/// bytes still to come, or `None` if the modifier is invalid.
fn modifier_part(
    buf: &[u8],
    oper: Operator,
    value_size: u32,
    len: usize,
) -> Option<(Vec<u8>, u32)> {
    let written = buf.get(..len)?;
    let nul = written.iter().position(|b| *b == 0)?;
    let (name, rest) = written.split_at(nul);
    validate_variable(name).ok()?;
    let chunk = &rest[1..];
    let remaining = value_size.checked_sub(u32::try_from(chunk.len()).ok()?)?;
    let part = Part::Modifier(ModifierPart {
        value_size,
        oper: oper.byte(),
        name: Cow::Borrowed(name),
        value: Cow::Borrowed(chunk),
    });
    let mut out = Vec::with_capacity(part.wire_len());
    part.emit(&mut out);
    Some((out, remaining))
}

/// The built-in source: modifiers from an [`Environment`] in order, then a body from a byte
/// slice in chunks of at most [`DATA_MAX_PAYLOAD`] bytes.
#[derive(Debug, Clone)]
pub struct EnvSource<'a> {
    env: &'a Environment,
    next_mod: usize,
    /// Value bytes of the current modifier already handed out.
    value_sent: usize,
    data: &'a [u8],
    data_sent: usize,
    data_chunk: usize,
}

impl<'a> EnvSource<'a> {
    /// A source for `env` and `data`.
    pub fn new(env: &'a Environment, data: &'a [u8]) -> Self {
        Self {
            env,
            next_mod: 0,
            value_sent: 0,
            data,
            data_sent: 0,
            data_chunk: DATA_MAX_PAYLOAD,
        }
    }

    /// Hands out the body in chunks of at most `n` bytes (1 ..= [`DATA_MAX_PAYLOAD`]).
    pub fn with_data_chunk(mut self, n: usize) -> Self {
        self.data_chunk = n.clamp(1, DATA_MAX_PAYLOAD);
        self
    }
}

impl MessageSource for EnvSource<'_> {
    fn next_modifier(&mut self, buf: &mut [u8]) -> ModifierStep {
        let Some(m) = self.env.iter().nth(self.next_mod) else {
            return ModifierStep::Done;
        };
        let Ok(value_size) = u32::try_from(m.value.len()) else {
            return ModifierStep::Fail;
        };
        let name_len = m.name.len() + 1;
        if name_len >= buf.len() {
            return ModifierStep::Fail;
        }
        let chunk = m.value.len().min(buf.len() - name_len);
        buf[..m.name.len()].copy_from_slice(m.name.as_bytes());
        buf[m.name.len()] = 0;
        buf[name_len..name_len + chunk].copy_from_slice(&m.value[..chunk]);
        if chunk == m.value.len() {
            self.next_mod += 1;
            self.value_sent = 0;
        } else {
            self.value_sent = chunk;
        }
        ModifierStep::Modifier {
            oper: m.oper,
            value_size,
            len: name_len + chunk,
        }
    }

    fn next_value_chunk(&mut self, buf: &mut [u8], _remaining: u32) -> ChunkStep {
        let Some(m) = self.env.iter().nth(self.next_mod) else {
            return ChunkStep::Fail;
        };
        let rest = &m.value[self.value_sent.min(m.value.len())..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.value_sent += n;
        if self.value_sent >= m.value.len() {
            self.next_mod += 1;
            self.value_sent = 0;
        }
        ChunkStep::Chunk(n)
    }

    fn next_data(&mut self, buf: &mut [u8]) -> DataStep {
        let rest = &self.data[self.data_sent..];
        let n = rest.len().min(buf.len()).min(self.data_chunk);
        buf[..n].copy_from_slice(&rest[..n]);
        self.data_sent += n;
        if self.data_sent == self.data.len() {
            DataStep::Last(n)
        } else {
            DataStep::More(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::ClientMessage;
    use crate::parts::{PartKind, Parts};
    use gnunet_service::wire::Message;

    /// Sends everything, acknowledging each container, and returns the containers.
    fn drain(t: &mut Transmitter, src: &mut dyn MessageSource) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for _ in 0..10_000 {
            match t.poll_transmit() {
                Some(c) => {
                    out.push(c);
                    t.handle_ack(src);
                }
                None => break,
            }
        }
        out
    }

    fn kinds(c: &[u8]) -> Vec<PartKind> {
        let m = ClientMessage::from_message(c).unwrap();
        Parts::new(&m.parts).map(|p| p.unwrap().kind()).collect()
    }

    #[test]
    fn small_message_is_one_container() {
        let mut env = Environment::new();
        env.add(Operator::Set, "_a", "1").unwrap();
        let mut t = Transmitter::new();
        let mut src = t.start_with_env("_m", 0, &env, b"hello").unwrap();
        assert!(!t.is_transmitting());
        let cs = drain(&mut t, &mut src);
        assert_eq!(cs.len(), 1);
        use PartKind::*;
        assert_eq!(kinds(&cs[0]), [Method, Modifier, Data, End]);
        assert_eq!(t.outcome(), Outcome::Ended);
        assert_eq!(t.acks_pending(), 0);
    }

    #[test]
    fn stateful_env_sets_state_modify() {
        let mut env = Environment::new();
        env.add(Operator::Assign, "_a", "1").unwrap();
        let mut t = Transmitter::new();
        let mut src = t.start_with_env("_m", 8, &env, b"").unwrap();
        let cs = drain(&mut t, &mut src);
        // METHOD flags sit at bytes 8..12 of the container.
        assert_eq!(&cs[0][8..12], &(8 | METHOD_STATE_MODIFY).to_be_bytes());
        assert_eq!(
            kinds(&cs[0]),
            [PartKind::Method, PartKind::Modifier, PartKind::End]
        );
    }

    /// The C test_psyc master transmission (`psyc.md` §13.1 step 6): a maximal modifier, a
    /// modifier needing one continuation, and four data chunks of which one is maximal. The C
    /// test sees 9 multicast fragments, one per container.
    #[test]
    fn c_test_psyc_master_message_segments_like_c() {
        let mut env = Environment::new();
        env.add(Operator::Assign, "_foo", "bar baz").unwrap();
        let max_value = vec![b'x'; MODIFIER_MAX_PAYLOAD - "_test_max".len() - 1];
        env.add(Operator::Assign, "_test_max", max_value).unwrap();
        env.add(Operator::Assign, "_foo_bar", "foo bar baz")
            .unwrap();
        let cont_value = vec![b'y'; 64374 + 64392];
        env.add(Operator::Assign, "_test_cont", cont_value).unwrap();
        struct Chunks(Vec<Vec<u8>>, usize, Box<EnvSource<'static>>);
        let env: &'static Environment = Box::leak(Box::new(env));
        impl MessageSource for Chunks {
            fn next_modifier(&mut self, b: &mut [u8]) -> ModifierStep {
                self.2.next_modifier(b)
            }
            fn next_value_chunk(&mut self, b: &mut [u8], r: u32) -> ChunkStep {
                self.2.next_value_chunk(b, r)
            }
            fn next_data(&mut self, b: &mut [u8]) -> DataStep {
                let c = &self.0[self.1];
                b[..c.len()].copy_from_slice(c);
                self.1 += 1;
                if self.1 == self.0.len() {
                    DataStep::Last(c.len())
                } else {
                    DataStep::More(c.len())
                }
            }
        }
        let mut src = Chunks(
            vec![
                b"foo".to_vec(),
                vec![b'z'; DATA_MAX_PAYLOAD],
                b"foo bar".to_vec(),
                b"foo bar baz".to_vec(),
            ],
            0,
            Box::new(EnvSource::new(env, b"")),
        );
        let mut t = Transmitter::new();
        t.start("_notice_test", 8, &mut src).unwrap();
        let cs = drain(&mut t, &mut src);
        use PartKind::*;
        let shape: Vec<_> = cs.iter().map(|c| kinds(c)).collect();
        assert_eq!(
            shape,
            [
                vec![Method, Modifier], // _foo
                vec![Modifier],         // _test_max fills a container alone
                vec![Modifier],         // _foo_bar, then _test_cont does not fit
                vec![Modifier],         // _test_cont first chunk (maximal)
                vec![ModCont],          // the maximal continuation
                vec![Data],             // "foo", flushed: more data follows
                vec![Data],             // 64392 bytes
                vec![Data],             // "foo bar"
                vec![Data, End],        // "foo bar baz" + END
            ]
        );
        assert!(cs.iter().all(|c| c.len() <= FRAGMENT_MAX_PAYLOAD + 4));
        assert_eq!(cs[1].len(), FRAGMENT_MAX_PAYLOAD + 4);
    }

    /// A source that pauses once at a given point.
    struct Pausing<'a> {
        inner: EnvSource<'a>,
        pause_mod_at: Option<usize>,
        pause_data: bool,
        mods: usize,
    }
    impl MessageSource for Pausing<'_> {
        fn next_modifier(&mut self, b: &mut [u8]) -> ModifierStep {
            if self.pause_mod_at == Some(self.mods) {
                self.pause_mod_at = None;
                return ModifierStep::Pause;
            }
            self.mods += 1;
            self.inner.next_modifier(b)
        }
        fn next_value_chunk(&mut self, b: &mut [u8], r: u32) -> ChunkStep {
            self.inner.next_value_chunk(b, r)
        }
        fn next_data(&mut self, b: &mut [u8]) -> DataStep {
            if self.pause_data {
                self.pause_data = false;
                return DataStep::More(0);
            }
            self.inner.next_data(b)
        }
    }

    #[test]
    fn resume_during_modifiers_continues_with_modifiers() {
        let mut env = Environment::new();
        env.add(Operator::Set, "_a", "1").unwrap();
        env.add(Operator::Set, "_b", "2").unwrap();
        let mut src = Pausing {
            inner: EnvSource::new(&env, b"d"),
            pause_mod_at: Some(1),
            pause_data: false,
            mods: 0,
        };
        let mut t = Transmitter::new();
        t.start("_m", 0, &mut src).unwrap();
        assert!(t.is_paused());
        assert!(t.poll_transmit().is_none());
        t.resume(&mut src);
        let cs = drain(&mut t, &mut src);
        use PartKind::*;
        assert_eq!(kinds(&cs[0]), [Method, Modifier, Modifier, Data, End]);
    }

    #[test]
    fn data_pause_and_resume_after_ack() {
        let env = Environment::new();
        let body = vec![7u8; 100];
        let mut src = Pausing {
            inner: EnvSource::new(&env, &body).with_data_chunk(40),
            pause_mod_at: None,
            pause_data: true,
            mods: 0,
        };
        let mut t = Transmitter::new();
        t.start("_m", 0, &mut src).unwrap();
        assert!(t.is_paused());
        t.resume(&mut src);
        let first = t.poll_transmit().unwrap();
        use PartKind::*;
        assert_eq!(kinds(&first), [Method, Data]);
        // No more data until the ACK arrives.
        assert!(t.poll_transmit().is_none());
        assert_eq!(t.acks_pending(), 1);
        assert!(t.handle_ack(&mut src));
        let second = t.poll_transmit().unwrap();
        assert_eq!(kinds(&second), [Data]);
        assert!(t.poll_transmit().is_none());
        assert!(t.handle_ack(&mut src));
        let rest = drain(&mut t, &mut src);
        assert_eq!(kinds(&rest[0]), [Data, End]);
        assert!(!t.handle_ack(&mut src), "extraneous ACK is ignored");
    }

    #[test]
    fn cancel_and_failing_sources_send_cancel() {
        let env = Environment::new();
        let body = vec![1u8; 10];
        let mut src = EnvSource::new(&env, &body).with_data_chunk(5);
        let mut t = Transmitter::new();
        t.start("_m", 0, &mut src).unwrap();
        assert_eq!(t.start("_n", 0, &mut src), Err(TransmitError::Busy));
        t.cancel();
        assert_eq!(t.outcome(), Outcome::Cancelled);
        let cs: Vec<_> = std::iter::from_fn(|| t.poll_transmit()).collect();
        assert_eq!(kinds(cs.last().unwrap()), [PartKind::Cancel]);

        struct Failing;
        impl MessageSource for Failing {
            fn next_modifier(&mut self, b: &mut [u8]) -> ModifierStep {
                b[..3].copy_from_slice(b"_a\0");
                // Claims a chunk larger than the value: invalid.
                ModifierStep::Modifier {
                    oper: Operator::Set,
                    value_size: 0,
                    len: 5,
                }
            }
            fn next_value_chunk(&mut self, _: &mut [u8], _: u32) -> ChunkStep {
                ChunkStep::Fail
            }
            fn next_data(&mut self, _: &mut [u8]) -> DataStep {
                DataStep::Fail
            }
        }
        let mut t = Transmitter::new();
        t.start("_m", 0, &mut Failing).unwrap();
        let c = t.poll_transmit().unwrap();
        assert_eq!(kinds(&c), [PartKind::Method, PartKind::Cancel]);
        assert!(!t.is_transmitting());
    }

    #[test]
    fn empty_values_and_entries_after_a_continued_value_are_kept() {
        let mut env = Environment::new();
        env.add(Operator::Assign, "_long", vec![1u8; 100_000])
            .unwrap();
        env.add(Operator::Assign, "_empty", "").unwrap();
        env.add(Operator::Assign, "_after", "x").unwrap();
        let mut t = Transmitter::new();
        let mut src = t.start_with_env("_m", 0, &env, b"").unwrap();
        let cs = drain(&mut t, &mut src);
        let all: Vec<_> = cs.iter().flat_map(|c| kinds(c)).collect();
        use PartKind::*;
        assert_eq!(all, [Method, Modifier, ModCont, Modifier, Modifier, End]);
    }

    #[test]
    fn invalid_method_is_refused() {
        let env = Environment::new();
        let mut t = Transmitter::new();
        assert!(matches!(
            t.start_with_env("no spaces", 0, &env, b""),
            Err(TransmitError::MethodName(_))
        ));
        assert!(!t.is_transmitting());
    }
}
