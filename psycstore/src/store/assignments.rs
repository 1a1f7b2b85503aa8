//! The state assignments of a stored PSYC message, which STATE_MODIFY applies to the channel
//! state.
//!
//! The fragments of one message are fed in (message_id, fragment_offset) order. Their payloads
//! are PSYC parts, parsed by `psyc-format`'s part parser and checked one at a time by its
//! receiver ([`Receiver::receive_part`]), as the C service runs its parts through the C
//! receiver's part callback: a part that breaks the rules ends the fragment and resets to the
//! start of a message, and what was assigned before it stays assigned. Every complete `=`
//! modifier is reported; `:` (transient) is never stored and `+`, `-`, `@` are not implemented
//! by PSYCstore, so those are skipped.
//!
//! Differences from the C service (gap S3): the stored PSYCstore flags are not compared across
//! fragments, a MOD_CONT that continues a transient or an already complete modifier is refused
//! instead of corrupting memory, and a value is accumulated only up to the largest value a
//! RESULT_STATE can carry ([`MAX_VALUE`]); larger ones are dropped (gap S9) — nothing is
//! allocated from a length field. The receiver is the strict one of `psyc-format` (gap U3):
//! names must be keywords, operators known, END needs a METHOD before it and a complete value,
//! and a new MODIFIER needs the previous value to be complete. Messages the C psyc service
//! stores pass all of these.

use gnunet_service::wire::MAX_MESSAGE_SIZE;
use psyc_format::parts::{Part, Parts};
use psyc_format::receive::Receiver;

use crate::msg::StateResult;

/// The assign operator, the only one PSYCstore applies.
pub const OP_ASSIGN: u8 = b'=';

/// Upper bound on a value PSYCstore accepts from a modifier: what fits into a RESULT_STATE
/// (16-byte header, at least a 2-byte name) — the exact limit per name is
/// [`StateResult::fits`].
pub const MAX_VALUE: usize = MAX_MESSAGE_SIZE - 16 - 2;

/// A modifier whose value continues in MOD_CONT parts.
#[derive(Debug)]
struct Pending {
    name: Vec<u8>,
    /// The value so far; stays empty unless `keep`.
    value: Vec<u8>,
    /// Value bytes still to come.
    missing: u64,
    /// Whether the modifier will be reported once complete (an `=` that fits).
    keep: bool,
}

/// Walks the parts of one message, fragment by fragment, and reports its `=` assignments.
#[derive(Debug, Default)]
pub struct Assignments {
    receiver: Receiver,
    pending: Option<Pending>,
}

impl Assignments {
    /// A walker at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    fn reset(&mut self) {
        self.receiver.reset();
        self.pending = None;
    }

    /// Feeds the payload of the next fragment; `assign(name, value)` is called for every
    /// completed `=` modifier, in order.
    pub fn feed(&mut self, payload: &[u8], assign: &mut dyn FnMut(&[u8], &[u8])) {
        // A trailing padding part (between psyc services of this implementation, see
        // `psyc_format::padding`) is no part of the message.
        let payload = psyc_format::padding::strip(payload).unwrap_or(payload);
        for part in Parts::new(payload) {
            let Ok(part) = part else {
                self.reset();
                return;
            };
            if self.receiver.receive_part(&part).is_err() {
                self.pending = None;
                return;
            }
            self.take(part, assign);
        }
    }

    /// One part the receiver accepted.
    fn take(&mut self, part: Part<'_>, assign: &mut dyn FnMut(&[u8], &[u8])) {
        match part {
            Part::Modifier(m) => {
                let keep = m.oper == OP_ASSIGN
                    && (m.value_size as usize) <= MAX_VALUE
                    && StateResult::fits(&m.name, &[]);
                // the part parser keeps the chunk within value_size
                let missing = u64::from(m.value_size).saturating_sub(m.value.len() as u64);
                self.pending = None;
                if missing == 0 {
                    if keep && StateResult::fits(&m.name, &m.value) {
                        assign(&m.name, &m.value);
                    }
                } else {
                    self.pending = Some(Pending {
                        name: m.name.into_owned(),
                        value: if keep {
                            m.value.into_owned()
                        } else {
                            Vec::new()
                        },
                        missing,
                        keep,
                    });
                }
            }
            Part::ModCont(chunk) => {
                // the receiver refuses a continuation beyond value_size, so this fits
                let Some(pending) = self.pending.as_mut() else {
                    return;
                };
                pending.missing = pending.missing.saturating_sub(chunk.len() as u64);
                if pending.keep {
                    pending.value.extend_from_slice(&chunk);
                }
                if pending.missing == 0 {
                    if let Some(done) = self.pending.take() {
                        if done.keep && StateResult::fits(&done.name, &done.value) {
                            assign(&done.name, &done.value);
                        }
                    }
                }
            }
            Part::End | Part::Cancel => self.pending = None,
            Part::Method(_) | Part::Data(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use psyc_format::parts::{MethodPart, ModifierPart, TYPE_DATA, TYPE_MOD_CONT};
    use std::borrow::Cow;

    fn emit(part: Part<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        part.emit(&mut out);
        out
    }

    fn method(name: &str) -> Vec<u8> {
        emit(Part::Method(MethodPart {
            flags: 0,
            state_delta: 0,
            name: Cow::Borrowed(name.as_bytes()),
        }))
    }

    /// A MODIFIER carrying `chunk` of a value of `value_size` bytes.
    fn modifier(oper: u8, name: &str, chunk: &[u8], value_size: u32) -> Vec<u8> {
        emit(Part::Modifier(ModifierPart {
            value_size,
            oper,
            name: Cow::Borrowed(name.as_bytes()),
            value: Cow::Borrowed(chunk),
        }))
    }

    /// A part of `kind` with `body` as it is, to build continuations and DATA.
    fn simple(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut p = ((4 + body.len()) as u16).to_be_bytes().to_vec();
        p.extend_from_slice(&kind.to_be_bytes());
        p.extend_from_slice(body);
        p
    }

    fn end() -> Vec<u8> {
        emit(Part::End)
    }

    fn run(fragments: &[Vec<u8>]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut walker = Assignments::new();
        let mut out = Vec::new();
        for f in fragments {
            walker.feed(f, &mut |n, v| out.push((n.to_vec(), v.to_vec())));
        }
        out
    }

    #[test]
    fn trailing_padding_does_not_break_a_value_continued_in_the_next_fragment() {
        let pad = |mut f: Vec<u8>| {
            assert!(psyc_format::padding::append(&mut f, 100));
            f
        };
        let first = pad([method("_m"), modifier(b'=', "_long", b"ab", 4)].concat());
        let second = pad([simple(TYPE_MOD_CONT, b"cd"), end()].concat());
        assert_eq!(
            run(&[first, second]),
            vec![(b"_long".to_vec(), b"abcd".to_vec())]
        );
    }

    #[test]
    fn whole_assignments_are_reported_in_order() {
        let msg = [
            method("_converse"),
            modifier(b'=', "_foo", b"one", 3),
            modifier(b':', "_transient", b"x", 1),
            modifier(b'+', "_list", b"y", 1),
            modifier(b'=', "_bar", b"", 0),
            simple(TYPE_DATA, b"hello"),
            end(),
        ]
        .concat();
        assert_eq!(
            run(&[msg]),
            vec![
                (b"_foo".to_vec(), b"one".to_vec()),
                (b"_bar".to_vec(), vec![])
            ]
        );
    }

    #[test]
    fn continued_values_are_joined_across_fragments() {
        let first = [method("_m"), modifier(b'=', "_big", b"abc", 7)].concat();
        let second = [
            simple(TYPE_MOD_CONT, b"de"),
            simple(TYPE_MOD_CONT, b"fg"),
            end(),
        ]
        .concat();
        assert_eq!(
            run(&[first, second]),
            vec![(b"_big".to_vec(), b"abcdefg".to_vec())]
        );
    }

    #[test]
    fn continuation_of_a_transient_modifier_is_skipped() {
        let msg = [
            method("_m"),
            modifier(b':', "_t", b"a", 3),
            simple(TYPE_MOD_CONT, b"bc"),
            modifier(b'=', "_s", b"v", 1),
            end(),
        ]
        .concat();
        assert_eq!(run(&[msg]), vec![(b"_s".to_vec(), b"v".to_vec())]);
    }

    #[test]
    fn broken_parts_end_the_fragment_and_reset() {
        // DATA before the modifier's value is complete is an error: nothing after it counts
        let msg = [
            method("_m"),
            modifier(b'=', "_a", b"x", 2),
            simple(TYPE_DATA, b"d"),
            modifier(b'=', "_b", b"y", 1),
        ]
        .concat();
        assert_eq!(run(&[msg]), vec![]);
        // a modifier without a METHOD before it is refused
        assert_eq!(run(&[modifier(b'=', "_a", b"x", 1)]), vec![]);
        // random bytes (the test_psycstore payload is a public key) change nothing
        assert_eq!(run(&[vec![0xab; 32]]), vec![]);
        // a chunk larger than the announced value
        let mut too_long = modifier(b'=', "_a", b"xy", 2);
        too_long[4..8].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(run(&[[method("_m"), too_long].concat()]), vec![]);
        // name_size 0
        let mut bad = modifier(b'=', "", b"", 0);
        bad[8..10].copy_from_slice(&0u16.to_be_bytes());
        assert_eq!(run(&[[method("_m"), bad].concat()]), vec![]);
        // what came before a bad part stays assigned, as in the C service
        let msg = [
            method("_m"),
            modifier(b'=', "_a", b"1", 1),
            simple(TYPE_MOD_CONT, b"x"),
        ]
        .concat();
        assert_eq!(run(&[msg]), vec![(b"_a".to_vec(), b"1".to_vec())]);
    }

    #[test]
    fn after_end_a_new_message_may_start() {
        let msg = [
            method("_m"),
            end(),
            method("_n"),
            modifier(b'=', "_x", b"1", 1),
        ]
        .concat();
        assert_eq!(run(&[msg]), vec![(b"_x".to_vec(), b"1".to_vec())]);
    }

    #[test]
    fn oversized_values_are_dropped_without_allocating_them() {
        let msg = [method("_m"), modifier(b'=', "_huge", b"abc", u32::MAX)].concat();
        let mut walker = Assignments::new();
        let mut seen = 0;
        walker.feed(&msg, &mut |_, _| seen += 1);
        walker.feed(&simple(TYPE_MOD_CONT, &[1; 100]), &mut |_, _| seen += 1);
        assert_eq!(seen, 0);
        assert!(walker.pending.as_ref().is_some_and(|p| p.value.is_empty()));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_payloads_never_panic(
            payloads in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), 0..4)
        ) {
            let mut walker = Assignments::new();
            for p in &payloads {
                walker.feed(p, &mut |_, _| {});
            }
        }
    }
}
