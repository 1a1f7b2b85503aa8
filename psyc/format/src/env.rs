//! Environments: ordered lists of modifiers, and what they do to channel state.
//!
//! A modifier is (operator, variable name, value). Values are opaque byte strings: the C
//! original declares typed values (number, list, dict) but never implements them, so neither
//! do we. How an environment changes persistent channel state ([`ChannelState::apply`]) follows
//! PSYCstore, the component that keeps that state: `=` assigns (an empty value deletes), `:`
//! is transient and never stored, and `+`, `-`, `@` are not implemented there and are
//! reported as skipped rather than guessed at.
//!
//! Differences from the C `psyc_env.c` (gap U5): [`Environment::remove`] really removes and
//! shrinks the count, and iteration can stop early (it is a Rust iterator).

use std::collections::BTreeMap;

use super::names::{validate_variable, NameError};

/// A modifier's operator (`enum GNUNET_PSYC_Operator`). The byte is the ASCII character.
///
/// There is no `?` (query) operator in this code base: the wider PSYC specification has one,
/// the C enum does not, so a `?` byte is rejected like any other unknown operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// `:` set a transient variable, valid for this message only.
    Set,
    /// `=` assign a channel state variable; an empty value deletes it.
    Assign,
    /// `+` augment: append to a string, add to a number, add a list or dict item.
    Augment,
    /// `-` diminish: subtract from a number, remove a list or dict item.
    Diminish,
    /// `@` update one item of a list or dict.
    Update,
}

impl Operator {
    /// All operators, in enum order.
    pub const ALL: [Operator; 5] = [
        Operator::Set,
        Operator::Assign,
        Operator::Augment,
        Operator::Diminish,
        Operator::Update,
    ];

    /// The wire byte.
    pub fn byte(self) -> u8 {
        match self {
            Operator::Set => b':',
            Operator::Assign => b'=',
            Operator::Augment => b'+',
            Operator::Diminish => b'-',
            Operator::Update => b'@',
        }
    }

    /// The operator for a wire byte, if it is one of the five.
    pub fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.byte() == b)
    }

    /// Whether a modifier with this operator changes persistent state (everything but `:`).
    pub fn is_persistent(self) -> bool {
        self != Operator::Set
    }
}

/// One modifier: operator, variable name and its whole value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Modifier {
    /// The operator.
    pub oper: Operator,
    /// The variable name, a valid keyword (see [`super::names`]).
    pub name: String,
    /// The value; opaque bytes.
    pub value: Vec<u8>,
}

impl Modifier {
    /// A modifier whose name is checked against the naming rules.
    pub fn new(oper: Operator, name: &str, value: impl Into<Vec<u8>>) -> Result<Self, NameError> {
        validate_variable(name.as_bytes())?;
        Ok(Self {
            oper,
            name: name.to_owned(),
            value: value.into(),
        })
    }
}

/// An ordered list of modifiers (`struct GNUNET_PSYC_Environment`). Order is significant: it
/// is the order on the wire and the order of application.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Environment {
    mods: Vec<Modifier>,
}

impl Environment {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a modifier at the tail (`env_add`). The name is checked.
    pub fn add(
        &mut self,
        oper: Operator,
        name: &str,
        value: impl Into<Vec<u8>>,
    ) -> Result<(), NameError> {
        self.mods.push(Modifier::new(oper, name, value)?);
        Ok(())
    }

    /// Appends an already built modifier.
    pub fn push(&mut self, m: Modifier) {
        self.mods.push(m);
    }

    /// The first modifier (`env_head`).
    pub fn head(&self) -> Option<&Modifier> {
        self.mods.first()
    }

    /// The last modifier (`env_tail`).
    pub fn tail(&self) -> Option<&Modifier> {
        self.mods.last()
    }

    /// Removes and returns the modifier at `index`; the count goes down (unlike C's `remove`).
    pub fn remove(&mut self, index: usize) -> Option<Modifier> {
        (index < self.mods.len()).then(|| self.mods.remove(index))
    }

    /// Pops the first modifier (`env_shift`); `None` when empty.
    pub fn shift(&mut self) -> Option<Modifier> {
        self.remove(0)
    }

    /// The modifiers in order (`env_iterate`, which can stop early here).
    pub fn iter(&self) -> std::slice::Iter<'_, Modifier> {
        self.mods.iter()
    }

    /// Number of modifiers (`env_get_count`).
    pub fn len(&self) -> usize {
        self.mods.len()
    }

    /// Whether there are no modifiers.
    pub fn is_empty(&self) -> bool {
        self.mods.is_empty()
    }

    /// Whether any modifier is persistent, which makes a message stateful (the transmitter then
    /// sets the STATE_MODIFY flag).
    pub fn is_stateful(&self) -> bool {
        self.mods.iter().any(|m| m.oper.is_persistent())
    }

    /// The variables as seen by this one message: `state` with every `:` and `=` of the
    /// environment laid over it in order (an empty value hides the variable). `state` is not
    /// changed.
    pub fn effective(&self, state: &ChannelState) -> ChannelState {
        let mut view = state.clone();
        for m in &self.mods {
            if matches!(m.oper, Operator::Set | Operator::Assign) {
                view.put(&m.name, &m.value);
            }
        }
        view
    }
}

impl<'a> IntoIterator for &'a Environment {
    type Item = &'a Modifier;
    type IntoIter = std::slice::Iter<'a, Modifier>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<Modifier> for Environment {
    fn from_iter<I: IntoIterator<Item = Modifier>>(iter: I) -> Self {
        Self {
            mods: iter.into_iter().collect(),
        }
    }
}

/// Persistent channel state: variable name → current value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelState {
    vars: BTreeMap<String, Vec<u8>>,
}

/// What [`ChannelState::apply`] did, modifier by modifier.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplyReport {
    /// Names assigned a non-empty value.
    pub assigned: Vec<String>,
    /// Names deleted (assigned an empty value and absent afterwards).
    pub deleted: Vec<String>,
    /// Names of transient (`:`) modifiers, which do not touch state.
    pub transient: Vec<String>,
    /// Modifiers whose operator PSYCstore does not implement (`+`, `-`, `@`), left out.
    pub skipped: Vec<(Operator, String)>,
}

impl ChannelState {
    /// Empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of a variable.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.vars.get(name).map(Vec::as_slice)
    }

    /// The value of the most specific variable of `name`'s family that is set (PSYCstore's
    /// best-match lookup): `_foo_bar_baz`, then `_foo_bar`, `_foo`, `_`.
    pub fn get_best(&self, name: &str) -> Option<(&str, &[u8])> {
        super::names::family(name)
            .find_map(|n| self.vars.get_key_value(n))
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Variables whose name starts with the byte prefix `prefix`, in name order (PSYCstore's
    /// prefix lookup: `_foo` also matches `_foobar`).
    pub fn with_prefix<'s>(&'s self, prefix: &'s str) -> impl Iterator<Item = (&'s str, &'s [u8])> {
        self.vars
            .range(prefix.to_owned()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether no variable is set.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Assigns `value` to `name`; an empty value deletes it.
    fn put(&mut self, name: &str, value: &[u8]) {
        if value.is_empty() {
            self.vars.remove(name);
        } else {
            self.vars.insert(name.to_owned(), value.to_vec());
        }
    }

    /// Applies the persistent modifiers of `env` in order, as PSYCstore's STATE_MODIFY does:
    /// `=` assigns, an empty `=` deletes (deletions take effect at the end, which gives the same
    /// result as deleting in order), `:` is ignored, `+ - @` are skipped. Returns what happened.
    pub fn apply(&mut self, env: &Environment) -> ApplyReport {
        let mut report = ApplyReport::default();
        for m in env {
            match m.oper {
                Operator::Set => report.transient.push(m.name.clone()),
                Operator::Assign => {
                    if m.value.is_empty() {
                        report.deleted.push(m.name.clone());
                    } else {
                        report.assigned.push(m.name.clone());
                    }
                    self.put(&m.name, &m.value);
                }
                Operator::Augment | Operator::Diminish | Operator::Update => {
                    report.skipped.push((m.oper, m.name.clone()))
                }
            }
        }
        report.deleted.retain(|n| !self.vars.contains_key(n));
        report.deleted.dedup();
        report
    }

    /// Replaces the whole state (state reset or a full state sync).
    pub fn reset(&mut self, vars: impl IntoIterator<Item = (String, Vec<u8>)>) {
        self.vars = vars.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scenario of the C `test_psyc_env.c`.
    #[test]
    fn c_test_psyc_env() {
        let mods = [
            (Operator::Set, "_foo", &b"foo"[..]),
            (Operator::Assign, "_foo_bar", b"foo bar"),
            (Operator::Augment, "_foo_bar_baz", b"foo bar baz"),
        ];
        let mut env = Environment::new();
        for (o, n, v) in mods {
            env.add(o, n, v).unwrap();
        }
        let seen: Vec<_> = env.iter().collect();
        assert_eq!(seen.len(), 3);
        for (m, (o, n, v)) in seen.iter().zip(mods) {
            assert_eq!(m.oper, o);
            assert_eq!(m.name, n);
            assert_eq!(m.value, v);
            assert_eq!(m.value.len(), v.len());
        }
        assert_eq!(env.head().unwrap().name, "_foo");
        assert_eq!(env.tail().unwrap().name, "_foo_bar_baz");
        for (expect_count, (o, n, v)) in [2, 1, 0].into_iter().zip(mods) {
            let m = env.shift().unwrap();
            assert_eq!((m.oper, m.name.as_str(), m.value.as_slice()), (o, n, v));
            assert_eq!(env.len(), expect_count);
        }
        assert!(env.shift().is_none());
    }

    #[test]
    fn remove_really_removes() {
        let mut env = Environment::new();
        env.add(Operator::Set, "_a", "1").unwrap();
        env.add(Operator::Set, "_b", "2").unwrap();
        assert_eq!(env.remove(0).unwrap().name, "_a");
        assert_eq!(env.len(), 1);
        assert!(env.remove(5).is_none());
        assert!(env.add(Operator::Set, "bad name", "x").is_err());
    }

    #[test]
    fn operator_bytes() {
        for (o, c) in Operator::ALL.into_iter().zip(*b":=+-@") {
            assert_eq!(o.byte(), c);
            assert_eq!(Operator::from_byte(c), Some(o));
        }
        assert_eq!(Operator::from_byte(b'?'), None);
        assert_eq!(Operator::from_byte(0), None);
    }

    fn env(mods: &[(Operator, &str, &str)]) -> Environment {
        mods.iter()
            .map(|(o, n, v)| Modifier::new(*o, n, v.as_bytes()).unwrap())
            .collect()
    }

    #[test]
    fn assign_sets_and_empty_assign_deletes() {
        let mut s = ChannelState::new();
        let r = s.apply(&env(&[
            (Operator::Assign, "_a", "1"),
            (Operator::Assign, "_b", "2"),
        ]));
        assert_eq!(r.assigned, ["_a", "_b"]);
        assert_eq!(s.get("_a"), Some(&b"1"[..]));
        let r = s.apply(&env(&[
            (Operator::Assign, "_a", ""),
            (Operator::Assign, "_b", "3"),
        ]));
        assert_eq!(r.deleted, ["_a"]);
        assert_eq!(s.get("_a"), None);
        assert_eq!(s.get("_b"), Some(&b"3"[..]));
        // Delete then re-assign in one message: the variable survives.
        let r = s.apply(&env(&[
            (Operator::Assign, "_b", ""),
            (Operator::Assign, "_b", "4"),
        ]));
        assert!(r.deleted.is_empty());
        assert_eq!(s.get("_b"), Some(&b"4"[..]));
    }

    #[test]
    fn set_is_transient() {
        let mut s = ChannelState::new();
        s.apply(&env(&[(Operator::Assign, "_a", "1")]));
        let e = env(&[(Operator::Set, "_a", "tmp"), (Operator::Set, "_t", "x")]);
        let view = e.effective(&s);
        assert_eq!(view.get("_a"), Some(&b"tmp"[..]));
        assert_eq!(view.get("_t"), Some(&b"x"[..]));
        let r = s.apply(&e);
        assert_eq!(r.transient, ["_a", "_t"]);
        assert_eq!(s.get("_a"), Some(&b"1"[..]));
        assert_eq!(s.get("_t"), None);
        assert!(!e.is_stateful());
    }

    #[test]
    fn augment_diminish_update_are_skipped() {
        for o in [Operator::Augment, Operator::Diminish, Operator::Update] {
            let mut s = ChannelState::new();
            s.apply(&env(&[(Operator::Assign, "_a", "1")]));
            let before = s.clone();
            let e = env(&[(o, "_a", "2")]);
            assert!(e.is_stateful());
            let r = s.apply(&e);
            assert_eq!(r.skipped, [(o, "_a".to_owned())]);
            assert_eq!(s, before);
        }
    }

    #[test]
    fn best_match_and_prefix_lookups() {
        let mut s = ChannelState::new();
        s.apply(&env(&[
            (Operator::Assign, "_foo", "1"),
            (Operator::Assign, "_foo_bar", "2"),
            (Operator::Assign, "_foobar", "3"),
            (Operator::Assign, "_g", "4"),
        ]));
        assert_eq!(s.get_best("_foo_bar_baz"), Some(("_foo_bar", &b"2"[..])));
        assert_eq!(s.get_best("_foo_qux"), Some(("_foo", &b"1"[..])));
        assert_eq!(s.get_best("_h"), None);
        let p: Vec<_> = s.with_prefix("_foo").map(|(k, _)| k).collect();
        assert_eq!(p, ["_foo", "_foo_bar", "_foobar"]);
        s.reset([
            ("_x".to_owned(), b"1".to_vec()),
            ("_y".to_owned(), Vec::new()),
        ]);
        assert_eq!(s.len(), 1);
    }
}
