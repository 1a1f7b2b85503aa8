//! Finding the state assignments in a stored PSYC message, for STATE_MODIFY.
//!
//! The fragments of one message are fed in (message_id, fragment_offset) order. Their payloads
//! are PSYC parts (`psycutil.md` §2) checked the way the receive-side validator checks them
//! (§4.2): METHOD, then MODIFIERs with their MOD_CONTs, then DATA, then END or CANCEL. A part
//! that breaks the rules ends the fragment and resets the parser to the start of a message,
//! as the C receiver does. Every complete `=` modifier is reported; `:` (transient) is never
//! stored and `+`, `-`, `@` are not implemented by PSYCstore, so both are skipped.
//!
//! Differences from the C service, all bug fixes (gap S3): the stored PSYCstore flags are not
//! compared across fragments, a MOD_CONT that continues a transient or an already complete
//! modifier is skipped instead of corrupting memory, a zero `name_size` is an error, and a
//! value is accumulated only up to the largest value a RESULT_STATE can carry ([`MAX_VALUE`]);
//! larger ones are dropped (gap S9) — nothing is allocated from a length field.

use gnunet_service::wire::MAX_MESSAGE_SIZE;

use crate::msg::StateResult;

const METHOD: u16 = 693;
const MODIFIER: u16 = 694;
const MOD_CONT: u16 = 695;
const DATA: u16 = 696;
const END: u16 = 697;
const CANCEL: u16 = 698;

/// The assign operator, the only one PSYCstore applies.
pub const OP_ASSIGN: u8 = b'=';

/// Upper bound on a value PSYCstore accepts from a modifier: what fits into a RESULT_STATE
/// (16-byte header, at least a 2-byte name) — the exact limit per name is
/// [`StateResult::fits`].
pub const MAX_VALUE: usize = MAX_MESSAGE_SIZE - 16 - 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Start,
    Method,
    Modifier,
    Data,
}

/// A modifier whose value continues in MOD_CONT parts.
#[derive(Debug)]
struct Pending {
    name: Vec<u8>,
    value: Vec<u8>,
    /// Whether the modifier will be reported once complete (an `=` that fits).
    keep: bool,
}

/// Walks the parts of one message, fragment by fragment.
#[derive(Debug)]
pub struct ModifierParser {
    phase: Phase,
    expected: u64,
    received: u64,
    pending: Option<Pending>,
}

impl Default for ModifierParser {
    fn default() -> Self {
        Self::new()
    }
}

/// The C string at the start of `bytes`.
fn c_string(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

impl ModifierParser {
    /// A parser at the start of a message.
    pub fn new() -> Self {
        Self {
            phase: Phase::Start,
            expected: 0,
            received: 0,
            pending: None,
        }
    }

    fn reset(&mut self) {
        *self = Self::new();
    }

    /// Feeds the payload of the next fragment; `assign(name, value)` is called for every
    /// completed `=` modifier, in order.
    pub fn feed(&mut self, payload: &[u8], assign: &mut dyn FnMut(&[u8], &[u8])) {
        let mut rest = payload;
        while !rest.is_empty() {
            let part = match rest {
                [s0, s1, ..] if rest.len() >= 4 => {
                    let size = u16::from_be_bytes([*s0, *s1]) as usize;
                    if size < 4 || size > rest.len() {
                        self.reset();
                        return;
                    }
                    &rest[..size]
                }
                _ => {
                    self.reset();
                    return;
                }
            };
            rest = &rest[part.len()..];
            if self.part(part, assign).is_none() {
                self.reset();
                return;
            }
        }
    }

    /// One part; `None` means it broke the rules.
    fn part(&mut self, part: &[u8], assign: &mut dyn FnMut(&[u8], &[u8])) -> Option<()> {
        let kind = u16::from_be_bytes([part[2], part[3]]);
        let body = &part[4..];
        match kind {
            METHOD => {
                if part.len() < 16 || self.phase != Phase::Start || part.last() != Some(&0) {
                    return None;
                }
                self.phase = Phase::Method;
            }
            MODIFIER => {
                if part.len() < 11 || !matches!(self.phase, Phase::Method | Phase::Modifier) {
                    return None;
                }
                let value_size = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let name_size = u16::from_be_bytes([body[4], body[5]]) as usize;
                let oper = body[6];
                let name_and_value = &body[7..];
                if name_size == 0
                    || name_size > name_and_value.len()
                    || name_and_value[name_size - 1] != 0
                {
                    return None;
                }
                let chunk = &name_and_value[name_size..];
                if chunk.len() as u64 > u64::from(value_size) {
                    return None;
                }
                self.expected = u64::from(value_size);
                self.received = chunk.len() as u64;
                self.phase = Phase::Modifier;
                let name = c_string(&name_and_value[..name_size]);
                let keep = oper == OP_ASSIGN
                    && !name.is_empty()
                    && (value_size as usize) <= MAX_VALUE
                    && StateResult::fits(name, &[]);
                // an unfinished previous modifier is abandoned
                self.pending = None;
                if self.received == self.expected {
                    if keep && StateResult::fits(name, chunk) {
                        assign(name, chunk);
                    }
                } else {
                    self.pending = Some(Pending {
                        name: name.to_vec(),
                        value: if keep { chunk.to_vec() } else { Vec::new() },
                        keep,
                    });
                }
            }
            MOD_CONT => {
                if self.phase != Phase::Modifier {
                    return None;
                }
                self.received += body.len() as u64;
                if self.received > self.expected {
                    return None;
                }
                if let Some(pending) = self.pending.as_mut() {
                    if pending.keep {
                        pending.value.extend_from_slice(body);
                    }
                }
                if self.received == self.expected {
                    if let Some(done) = self.pending.take() {
                        if done.keep && StateResult::fits(&done.name, &done.value) {
                            assign(&done.name, &done.value);
                        }
                    }
                }
            }
            DATA => {
                if self.phase == Phase::Start || self.received != self.expected {
                    return None;
                }
                self.phase = Phase::Data;
            }
            END | CANCEL => {
                if part.len() != 4 {
                    return None;
                }
                self.reset();
            }
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn method(name: &str) -> Vec<u8> {
        let size = (16 + name.len() + 1) as u16;
        let mut p = size.to_be_bytes().to_vec();
        p.extend_from_slice(&METHOD.to_be_bytes());
        p.extend_from_slice(&[0; 12]);
        p.extend_from_slice(name.as_bytes());
        p.push(0);
        p
    }

    /// A MODIFIER carrying `chunk` of a value of `value_size` bytes.
    pub(crate) fn modifier(oper: u8, name: &str, chunk: &[u8], value_size: u32) -> Vec<u8> {
        let size = (11 + name.len() + 1 + chunk.len()) as u16;
        let mut p = size.to_be_bytes().to_vec();
        p.extend_from_slice(&MODIFIER.to_be_bytes());
        p.extend_from_slice(&value_size.to_be_bytes());
        p.extend_from_slice(&((name.len() + 1) as u16).to_be_bytes());
        p.push(oper);
        p.extend_from_slice(name.as_bytes());
        p.push(0);
        p.extend_from_slice(chunk);
        p
    }

    pub(crate) fn simple(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut p = ((4 + body.len()) as u16).to_be_bytes().to_vec();
        p.extend_from_slice(&kind.to_be_bytes());
        p.extend_from_slice(body);
        p
    }

    pub(crate) fn end() -> Vec<u8> {
        simple(END, &[])
    }

    fn run(fragments: &[Vec<u8>]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut parser = ModifierParser::new();
        let mut out = Vec::new();
        for f in fragments {
            parser.feed(f, &mut |n, v| out.push((n.to_vec(), v.to_vec())));
        }
        out
    }

    #[test]
    fn whole_assignments_are_reported_in_order() {
        let msg = [
            method("_converse"),
            modifier(b'=', "_foo", b"one", 3),
            modifier(b':', "_transient", b"x", 1),
            modifier(b'+', "_list", b"y", 1),
            modifier(b'=', "_bar", b"", 0),
            simple(DATA, b"hello"),
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
        let second = [simple(MOD_CONT, b"de"), simple(MOD_CONT, b"fg"), end()].concat();
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
            simple(MOD_CONT, b"bc"),
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
            simple(DATA, b"d"),
            modifier(b'=', "_b", b"y", 1),
        ]
        .concat();
        assert_eq!(run(&[msg]), vec![]);
        // a modifier without a METHOD before it is refused
        assert_eq!(run(&[modifier(b'=', "_a", b"x", 1)]), vec![]);
        // random bytes (the test_psycstore payload is a public key) change nothing
        assert_eq!(run(&[vec![0xab; 32]]), vec![]);
        // a chunk larger than the announced value
        assert_eq!(
            run(&[[method("_m"), modifier(b'=', "_a", b"xy", 1)].concat()]),
            vec![]
        );
        // name_size 0
        let mut bad = modifier(b'=', "", b"", 0);
        bad[8..10].copy_from_slice(&0u16.to_be_bytes());
        assert_eq!(run(&[[method("_m"), bad].concat()]), vec![]);
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
        let mut parser = ModifierParser::new();
        let mut seen = 0;
        parser.feed(&msg, &mut |_, _| seen += 1);
        parser.feed(&simple(MOD_CONT, &[1; 100]), &mut |_, _| seen += 1);
        assert_eq!(seen, 0);
        assert!(parser.pending.as_ref().is_some_and(|p| p.value.is_empty()));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_payloads_never_panic(
            payloads in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), 0..4)
        ) {
            let mut parser = ModifierParser::new();
            for p in &payloads {
                parser.feed(p, &mut |_, _| {});
            }
        }
    }
}
