//! Channel state: stateful messages applied through a real psycstore (its request handler on an
//! in-memory sqlite store), state reset (gap P2), operators, STATE_MODIFY answers (gap P22).

use std::collections::VecDeque;

use super::*;
use crate::format::parts::{ModifierPart, METHOD_STATE_MODIFY, METHOD_STATE_RESET};
use crate::msg::StateGetPrefix;
use psycstore::handler::handle_now;
use psycstore::store::SqliteStore;

/// A master record whose psycstore requests are answered by a real psycstore, and whose
/// multicast hands every fragment back delivered and acknowledged, as the origin's service
/// does.
pub(super) struct WithStore {
    pub(super) h: Harness,
    store: SqliteStore,
    last_fragment_id: u64,
    /// Every fragment the master sent, as multicast numbered it.
    pub(super) sent: Vec<Fragment>,
}

impl WithStore {
    /// A started master (client 1) on a fresh channel.
    pub(super) fn master() -> Self {
        let mut s = Self {
            h: Harness::new(),
            store: SqliteStore::open_in_memory().expect("an in-memory store"),
            last_fragment_id: 0,
            sent: Vec::new(),
        };
        let a = s.h.client(
            1,
            Request::MasterStart(MasterStart {
                policy: 0,
                channel_key: channel_key(),
            }),
        );
        s.run(a);
        s
    }

    /// Carries out `actions` and everything they cause in psycstore and multicast; returns
    /// the rest (client messages, timers).
    pub(super) fn run(&mut self, actions: Vec<Action>) -> Vec<Action> {
        let mut todo: VecDeque<Action> = actions.into();
        let mut rest = Vec::new();
        while let Some(action) = todo.pop_front() {
            match action {
                Action::Store { request } => {
                    todo.extend(store_answers(&mut self.store, &mut self.h, request))
                }
                Action::Multicast {
                    record,
                    msg: Any::Fragment(mut f),
                } => {
                    self.last_fragment_id += 1;
                    f.fragment_id = self.last_fragment_id;
                    self.sent.push(f.clone());
                    todo.extend(self.h.mcast(record, Event::Message(f)));
                    todo.extend(self.h.mcast(record, Event::FragmentAck));
                }
                other => rest.push(other),
            }
        }
        rest
    }

    /// Client 1 sends a whole message (METHOD with `flags`, the modifiers, END).
    pub(super) fn send(&mut self, flags: u32, modifiers: &[(u8, &str, &str)]) -> Vec<Action> {
        let mut parts = method(flags, "_notice_state", true);
        for (oper, name, value) in modifiers {
            Part::Modifier(ModifierPart {
                value_size: value.len() as u32,
                oper: *oper,
                name: Cow::Borrowed(name.as_bytes()),
                value: Cow::Borrowed(value.as_bytes()),
            })
            .emit(&mut parts);
        }
        Part::End.emit(&mut parts);
        let a = self.h.send(1, parts);
        self.run(a)
    }

    /// The channel state as client 1 reads it (STATE_GET_PREFIX `_`).
    pub(super) fn state(&mut self) -> Vec<(String, String)> {
        let a = self.h.client(1, state_get_all());
        let a = self.run(a);
        state_results(&a, 1)
    }
}

/// Carries out `request` in `store` and hands the replies to `h`; returns what they cause.
pub(super) fn store_answers(
    store: &mut SqliteStore,
    h: &mut Harness,
    request: StoreRequest,
) -> Vec<Action> {
    let mut out = Vec::new();
    for bytes in handle_now(store, request) {
        let reply = StoreReply::decode(&bytes).expect("a psycstore reply");
        out.extend(h.store(reply));
    }
    out
}

/// STATE_GET_PREFIX `_`: every variable of the channel.
pub(super) fn state_get_all() -> Request {
    Request::StateGetPrefix(StateGetPrefix {
        op_id: 5,
        name: b"_".to_vec(),
    })
}

/// The variables client `c` got in STATE_RESULTs among `actions`.
pub(super) fn state_results(actions: &[Action], c: u64) -> Vec<(String, String)> {
    replies_to(actions, c)
        .into_iter()
        .filter_map(|r| match r {
            Reply::StateResult(s) => match Part::parse(&s.part) {
                Ok((Part::Modifier(m), _)) => Some((
                    String::from_utf8_lossy(&m.name).into_owned(),
                    String::from_utf8_lossy(&m.value).into_owned(),
                )),
                other => panic!("a state result is a MODIFIER, got {other:?}"),
            },
            _ => None,
        })
        .collect()
}

pub(super) fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_state_reset_clears_the_channel_state_then_sets_the_messages_assignments() {
    let mut s = WithStore::master();
    let a = s.send(METHOD_STATE_MODIFY, &[(b'=', "_a", "1"), (b'=', "_b", "2")]);
    assert_eq!(deliveries(&a, 1), vec![(1, 0)]);
    assert_eq!(s.state(), vars(&[("_a", "1"), ("_b", "2")]));

    let a = s.send(
        METHOD_STATE_RESET | METHOD_STATE_MODIFY,
        &[(b'=', "_c", "3")],
    );
    assert_eq!(
        deliveries(&a, 1),
        vec![(2, 0)],
        "the reset message is delivered"
    );
    assert_eq!(s.state(), vars(&[("_c", "3")]), "_a and _b are gone");

    // The receiver is not wedged: the next stateful message (delta 1 from the reset) applies.
    let a = s.send(METHOD_STATE_MODIFY, &[(b'=', "_d", "4")]);
    assert_eq!(deliveries(&a, 1), vec![(3, 0)]);
    assert_eq!(s.state(), vars(&[("_c", "3"), ("_d", "4")]));

    // So does a stateless one.
    let a = s.send(0, &[]);
    assert_eq!(deliveries(&a, 1), vec![(4, 0)]);
}

#[test]
fn a_state_reset_without_assignments_leaves_no_state() {
    let mut s = WithStore::master();
    s.send(METHOD_STATE_MODIFY, &[(b'=', "_a", "1")]);
    let a = s.send(METHOD_STATE_RESET, &[]);
    assert_eq!(deliveries(&a, 1), vec![(2, 0)]);
    assert_eq!(s.state(), vec![]);
    s.send(METHOD_STATE_MODIFY, &[(b'=', "_b", "2")]);
    assert_eq!(s.state(), vars(&[("_b", "2")]));
}

#[test]
fn a_reset_goes_to_psycstore_before_the_messages_state_modify() {
    let mut h = Harness::started_master(0);
    let parts = {
        let mut p = Vec::new();
        Part::Method(MethodPart {
            flags: METHOD_STATE_RESET,
            state_delta: 0,
            name: Cow::Borrowed(b"_notice"),
        })
        .emit(&mut p);
        Part::End.emit(&mut p);
        p
    };
    let a = h.mcast(master(), Event::Message(fragment(1, 0, parts)));
    match store_ops(&a).as_slice() {
        [StoreRequest::FragmentStore(_), StoreRequest::StateReset(r), StoreRequest::StateModify(m)] =>
        {
            assert_eq!(r.head.channel_key.0, channel_key().public_key().0);
            assert_eq!((m.message_id, m.state_delta), (1, 0));
            let a = h.store(StoreReply::ResultCode(ResultCode::new(r.head.op_id, 1)));
            assert!(
                deliveries(&a, 1).is_empty(),
                "the reset alone releases nothing"
            );
            let a = h.store(StoreReply::ResultCode(ResultCode::new(m.op_id, 1)));
            assert_eq!(deliveries(&a, 1), vec![(1, 0)]);
        }
        other => panic!("expected FRAGMENT_STORE, STATE_RESET, STATE_MODIFY; got {other:?}"),
    }
}

#[test]
fn augment_and_diminish_are_skipped_and_the_assignments_still_apply() {
    let mut s = WithStore::master();
    s.send(
        METHOD_STATE_MODIFY,
        &[(b'=', "_list", "|a"), (b'=', "_n", "5")],
    );
    let a = s.send(
        METHOD_STATE_MODIFY,
        &[(b'+', "_list", "|b"), (b'-', "_n", "1"), (b'=', "_x", "y")],
    );
    assert_eq!(deliveries(&a, 1), vec![(2, 0)]);
    assert_eq!(
        s.state(),
        vars(&[("_list", "|a"), ("_n", "5"), ("_x", "y")]),
        "values are opaque: + and - change nothing"
    );
    // The state counter advanced past message 2: message 3 (delta 1) applies.
    s.send(METHOD_STATE_MODIFY, &[(b'=', "_n", "6")]);
    assert_eq!(
        s.state(),
        vars(&[("_list", "|a"), ("_n", "6"), ("_x", "y")])
    );
}

#[test]
fn a_state_modify_answered_no_releases_the_message() {
    // psycstore answers 0 both for "already applied" and "earlier state missing" (gap P22):
    // delivery goes on either way.
    let mut h = Harness::started_master(0);
    let mut p = Vec::new();
    Part::Method(MethodPart {
        flags: 0,
        state_delta: 1,
        name: Cow::Borrowed(b"_notice"),
    })
    .emit(&mut p);
    Part::End.emit(&mut p);
    let a = h.mcast(master(), Event::Message(fragment(1, 0, p)));
    let op_id = store_ops(&a)
        .into_iter()
        .find_map(|r| match r {
            StoreRequest::StateModify(m) => Some(m.op_id),
            _ => None,
        })
        .expect("a STATE_MODIFY");
    let a = h.store(StoreReply::ResultCode(ResultCode::new(op_id, 0)));
    assert_eq!(deliveries(&a, 1), vec![(1, 0)]);
}
