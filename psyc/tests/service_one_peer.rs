//! The C `test_psyc` scenario (`psyc.md` §13.1) with the Rust client API against
//! `gnunet-service-psyc` on one real GNUnet peer (with this workspace's multicast and
//! psycstore): master start, a refused and an admitted join, membership add and remove, a
//! slave request, a master message of 9 fragments with a maximal modifier and a continued one,
//! history latest and by range, and the state assertions the C test left commented out. Then
//! the channel goes on after both parted: more messages both ways, stateful ones, a deletion
//! and a STATE_RESET, with the state checked after each.

mod common;

use std::time::Duration;

use common::*;
use gnunet_service::crypto::{ecdsa, eddsa};
use psyc::client::{Client, Event, ReceivedMessage};
use psyc::format::container::{DELIVERY_HISTORIC, DELIVERY_REQUEST};
use psyc::format::env::{Environment, Operator};
use psyc::format::message::PsycMessage;
use psyc::format::parts::{
    DATA_MAX_PAYLOAD, METHOD_INC_GROUP_GEN, METHOD_STATE_MODIFY, METHOD_STATE_RESET,
    MODIFIER_MAX_PAYLOAD, MOD_CONT_MAX_PAYLOAD, STATE_DELTA_NOT_MODIFIED,
};
use psyc::msg::{policy, slave_join_flags, status};
use testnet::{Testnet, Topology};

/// How long a client must stay quiet to show that nothing more is coming.
const QUIET: Duration = Duration::from_millis(300);

#[test]
fn test_psyc_scenario_with_state() {
    let net = start_net(1, Topology::Line);
    let s = Scene::new(&net);

    // 1. Master start (a fresh channel: no stored history).
    let (mut master, started) =
        Client::master_start(&s.socket, s.channel.clone(), policy::PRIVATE).expect("master start");
    assert!(
        started.result == status::OK || started.result == status::NO,
        "MASTER_START_ACK {started:?}"
    );
    assert_eq!(started.max_message_id, 0);

    // 2. The first join is refused; the master sees the join message as sent.
    let join = join_message();
    let mut slave = s.join_decided(&mut master, &join, false);
    slave.part().expect("refused slave parts");
    // The C library disconnects on PART_ACK.
    drop(slave);

    // 3. The same slave key joins again and is admitted.
    let mut slave = s.join_decided(&mut master, &join, true);

    // 4. Membership add, then remove (psycstore's result: 1 = stored).
    let added = master
        .membership_store(s.slave_pub(), true, 2, 2)
        .expect("membership add");
    assert_eq!(added, i64::from(status::OK));
    let removed = master
        .membership_store(s.slave_pub(), false, 2, 0)
        .expect("membership remove");
    assert_eq!(removed, i64::from(status::OK));

    // 5. A slave request reaches the master (only), flagged REQUEST, with the slave's key.
    let request_env = assign_env(&[("_abc_def", b"abc def ghi")]);
    let cancelled = slave
        .transmit(
            "_request_test",
            0,
            request_env.clone(),
            b"slave test".to_vec(),
        )
        .expect("slave transmit");
    assert!(!cancelled);
    let request = next_message(&mut master, "master");
    assert_eq!(request.flags, DELIVERY_REQUEST);
    assert_eq!(request.slave_pub_key, s.slave_pub());
    assert_eq!(request.message_id, 1, "the slave's first request");
    assert_eq!(request.message.method, "_request_test");
    assert_eq!(request.message.env, request_env);
    assert_eq!(request.message.data, b"slave test");
    // The slave's service does not rewrite the delta of a request.
    assert_eq!(request.message.state_delta, STATE_DELTA_NOT_MODIFIED);
    expect_no_event(&mut slave, "slave", QUIET);

    // 6. The master's big message: a modifier filling a whole part, a continued modifier,
    // four body chunks; master and slave receive the same whole message.
    let (val_max, val_cont) = (test_max_value(), test_cont_value());
    let notice_env = assign_env(&[
        ("_test_max", &val_max),
        ("_foo_bar", b"foo bar baz"),
        ("_test_cont", &val_cont),
    ]);
    let chunks = body_chunks();
    let cancelled = master
        .transmit_chunks(
            "_notice_test",
            METHOD_INC_GROUP_GEN,
            notice_env.clone(),
            chunks.clone(),
        )
        .expect("master transmit");
    assert!(!cancelled);
    let at_master = next_message(&mut master, "master");
    let at_slave = next_message(&mut slave, "slave");
    assert_eq!(at_master, at_slave);
    assert_eq!(at_master.message_id, 1);
    assert_eq!(at_master.flags, 0);
    let notice = &at_master.message;
    assert_eq!(notice.method, "_notice_test");
    // The `=` modifiers make the message stateful: the transmitter adds STATE_MODIFY, and
    // the master's service sets the delta to the first stateful message (1 − 0).
    assert_eq!(notice.flags, METHOD_INC_GROUP_GEN | METHOD_STATE_MODIFY);
    assert_eq!(notice.state_delta, 1);
    assert_eq!(notice.env, notice_env);
    assert_eq!(notice.data, chunks.concat());

    // 7–8. History, latest 1 and range 1..1, on both: the same message, HISTORIC, and the
    // result is the number of fragments (9, as in C).
    for (client, who) in [(&mut master, "master"), (&mut slave, "slave")] {
        let latest = client.history_latest(1, "", 0).expect("history latest");
        let range = client.history_replay(1, 1, "", 0).expect("history range");
        for (history, how) in [(latest, "latest 1"), (range, "range 1..1")] {
            assert_eq!(history.result, 9, "{who} {how}: fragment count");
            assert!(
                history.invalid.is_empty(),
                "{who} {how}: {:?}",
                history.invalid
            );
            assert_eq!(history.messages.len(), 1, "{who} {how}");
            let replayed = &history.messages[0];
            assert_eq!(replayed.flags, DELIVERY_HISTORIC, "{who} {how}");
            assert_eq!(replayed.message_id, at_master.message_id, "{who} {how}");
            assert_eq!(replayed.message, at_master.message, "{who} {how}");
        }
    }

    // 9. State, as the C test meant to check it, on both.
    for (client, who) in [(&mut master, "master"), (&mut slave, "slave")] {
        let foo_bar = client.state_get("_foo_bar").expect("state get");
        assert_eq!(foo_bar.result, 1, "{who}");
        assert_eq!(foo_bar.vars, sorted_vars(&[("_foo_bar", b"foo bar baz")]));
        let max = client.state_get("_test_max").expect("state get");
        assert_eq!(max.vars, sorted_vars(&[("_test_max", &val_max)]), "{who}");
        // The nearest family member stands in for a missing variable.
        let baz = client.state_get("_foo_bar_baz").expect("state get");
        assert_eq!(baz.result, 1, "{who}");
        assert_eq!(
            baz.vars,
            sorted_vars(&[("_foo_bar", b"foo bar baz")]),
            "{who}"
        );
        let prefix = client.state_get_prefix("_foo").expect("state get prefix");
        assert_eq!(prefix.result, 1, "{who}");
        assert_eq!(prefix.vars, sorted_vars(&[("_foo_bar", b"foo bar baz")]));
        // `_test_cont`'s value (over 64 KiB) could never go out in one STATE_RESULT, so
        // psycstore does not store it at all (psycstore gap S9): the lookup falls back to
        // `_test`, which does not exist either.
        let cont = client.state_get("_test_cont").expect("state get");
        assert!(cont.vars.is_empty(), "{who}: {} vars", cont.vars.len());
        assert_eq!(cont.result, 0, "{who}");
        let all = all_state(client, who);
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["_foo_bar", "_test_max"], "{who}");
    }

    // 10. Slave part, master stop; nothing else arrived at either.
    expect_no_event(&mut slave, "slave", QUIET);
    expect_no_event(&mut master, "master", QUIET);
    slave.part().expect("slave part");
    master.part().expect("master stop");
    drop((slave, master));

    // The channel goes on: the master starts again from its stored history; the slave's
    // membership was removed in step 4, so the master decides again.
    let (mut master, started) = Client::master_start(&s.socket, s.channel.clone(), policy::PRIVATE)
        .expect("master restart");
    assert_eq!(started.result, status::OK, "stored history");
    assert_eq!(started.max_message_id, 1);
    let slave = s.join_decided(&mut master, &join, true);
    let mut more = More {
        master,
        slave,
        next_id: 2,
    };

    // A stateful message changes one variable and adds one.
    more.send(
        "_notice_change",
        0,
        assign_env(&[("_foo_bar", b"changed"), ("_new", b"new value")]),
        Some(1),
    );
    more.expect_state(&[
        ("_foo_bar", b"changed"),
        ("_new", b"new value"),
        ("_test_max", &val_max),
    ]);

    // Requests change no state, whatever their modifiers say.
    more.request(assign_env(&[("_foo_bar", b"from the slave")]), b"request 2");
    more.request(Environment::new(), b"request 3");

    // A transient modifier leaves the state alone; the message is stateless.
    more.send(
        "_notice_plain",
        0,
        env_of(Operator::Set, &[("_foo_bar", b"only now")]),
        None,
    );
    more.expect_state(&[
        ("_foo_bar", b"changed"),
        ("_new", b"new value"),
        ("_test_max", &val_max),
    ]);

    // An empty value deletes; the family fallback then finds nothing.
    more.send(
        "_notice_delete",
        0,
        assign_env(&[("_foo_bar", b"")]),
        Some(2),
    );
    more.expect_state(&[("_new", b"new value"), ("_test_max", &val_max)]);
    for (client, who) in more.both() {
        let baz = client.state_get("_foo_bar_baz").expect("state get");
        assert_eq!((baz.result, baz.vars.len()), (0, 0), "{who}: {baz:?}");
    }

    // STATE_RESET: afterwards the state holds exactly the message's `=` modifiers.
    more.send(
        "_notice_reset",
        METHOD_STATE_RESET,
        assign_env(&[("_only", b"one"), ("_two", b"2")]),
        Some(0),
    );
    more.expect_state(&[("_only", b"one"), ("_two", b"2")]);

    // The next stateful message counts from the reset.
    more.request(Environment::new(), b"request 4");
    more.send("_notice_after", 0, assign_env(&[("_three", b"3")]), Some(1));
    more.expect_state(&[("_only", b"one"), ("_three", b"3"), ("_two", b"2")]);

    // All of it is history, in order, on both.
    let last = more.next_id - 1;
    for (client, who) in more.both() {
        let history = client.history_replay(2, last, "", 0).expect("history");
        let ids: Vec<u64> = history.messages.iter().map(|m| m.message_id).collect();
        assert_eq!(ids, (2..=last).collect::<Vec<_>>(), "{who}");
        assert!(history
            .messages
            .iter()
            .all(|m| m.flags == DELIVERY_HISTORIC));
    }

    let More {
        mut master,
        mut slave,
        ..
    } = more;
    expect_no_event(&mut slave, "slave", QUIET);
    slave.part().expect("slave part");
    master.part().expect("master stop");
}

/// The fixed keys and the peer of the scenario.
struct Scene {
    socket: std::path::PathBuf,
    origin: gnunet_service::peer::PeerIdentity,
    channel: eddsa::PrivateKey,
    slave_key: ecdsa::PrivateKey,
}

impl Scene {
    fn new(net: &Testnet) -> Self {
        Self {
            socket: psyc_socket(net, 0),
            origin: peer_id(net, 0),
            channel: channel_key(1),
            slave_key: slave_key(2),
        }
    }

    fn slave_pub(&self) -> ecdsa::PublicKey {
        self.slave_key.public_key()
    }

    /// The slave joins (same peer as the origin, no relays) with `join`.
    fn join(&self, join: &PsycMessage) -> Client {
        let (slave, started) = Client::slave_join(
            &self.socket,
            self.channel.public_key(),
            self.slave_key.clone(),
            self.origin,
            Vec::new(),
            slave_join_flags::NONE,
            Some(join),
        )
        .expect("slave join");
        assert!(
            started.result == status::OK || started.result == status::NO,
            "SLAVE_JOIN_ACK {started:?}"
        );
        slave
    }

    /// The slave joins with `join`, the master gets the request and decides `admit`, the
    /// slave learns the decision.
    fn join_decided(&self, master: &mut Client, join: &PsycMessage, admit: bool) -> Client {
        let mut slave = self.join(join);
        self.join_request(master, join);
        master
            .join_decision(self.slave_pub(), admit, None, &[])
            .expect("join decision");
        let expected = if admit { status::OK } else { status::NO };
        assert_eq!(self.decision(&mut slave), expected);
        slave
    }

    /// The master gets the slave's join request carrying `join`.
    fn join_request(&self, master: &mut Client, join: &PsycMessage) {
        match master.wait_event(|e| matches!(e, Event::JoinRequest { .. })) {
            Ok(Event::JoinRequest {
                slave_pub_key,
                message,
            }) => {
                assert_eq!(slave_pub_key, self.slave_pub());
                assert_eq!(message.as_ref(), Some(join));
            }
            other => panic!("master: expected a join request: {other:?}"),
        }
    }

    /// The slave's join decision (no response message comes with it).
    fn decision(&self, slave: &mut Client) -> i32 {
        match slave.wait_event(|e| matches!(e, Event::JoinDecision { .. })) {
            Ok(Event::JoinDecision {
                is_admitted,
                response,
            }) => {
                assert_eq!(response, None);
                is_admitted
            }
            other => panic!("slave: expected a join decision: {other:?}"),
        }
    }
}

/// The join message of the C test.
fn join_message() -> PsycMessage {
    PsycMessage {
        method: "_request_join".into(),
        env: assign_env(&[("_foo", b"bar baz"), ("_foo_bar", b"foo bar baz")]),
        data: b"some data".to_vec(),
        ..PsycMessage::default()
    }
}

/// `len` bytes of `fill` with a digit every 10000 bytes (its ten-thousands), as the C test
/// fills its values, so a misplaced chunk shows.
fn patterned(len: usize, fill: u8) -> impl Iterator<Item = u8> {
    (0..len).map(move |i| {
        if i.is_multiple_of(10_000) {
            b'0' + (i / 10_000) as u8
        } else {
            fill
        }
    })
}

/// `_test_max`'s value: name, NUL and value fill a maximal MODIFIER part exactly.
fn test_max_value() -> Vec<u8> {
    patterned(MODIFIER_MAX_PAYLOAD - "_test_max".len() - 1, b'.').collect()
}

/// `_test_cont`'s value: what a MODIFIER part has room for after the name, plus a whole
/// MOD_CONT part.
fn test_cont_value() -> Vec<u8> {
    patterned(MODIFIER_MAX_PAYLOAD - "_test_cont".len() - 1, b':')
        .chain(patterned(MOD_CONT_MAX_PAYLOAD, b'!'))
        .collect()
}

/// The body of the C test: "foo", a maximal DATA block, "foo bar", "foo bar baz".
fn body_chunks() -> Vec<Vec<u8>> {
    vec![
        b"foo".to_vec(),
        patterned(DATA_MAX_PAYLOAD, b'_').collect(),
        b"foo bar".to_vec(),
        b"foo bar baz".to_vec(),
    ]
}

/// The restarted channel: the master's messages and the slave's requests after the C part.
struct More {
    master: Client,
    slave: Client,
    /// The id the master's next message gets.
    next_id: u64,
}

impl More {
    fn both(&mut self) -> [(&mut Client, &'static str); 2] {
        [(&mut self.master, "master"), (&mut self.slave, "slave")]
    }

    /// The master sends a message; both receive it whole with the next id and the
    /// `state_delta` the master's service gives it (`None`: not modified).
    fn send(&mut self, method: &str, flags: u32, env: Environment, delta: Option<u64>) {
        let body = format!("message {}", self.next_id).into_bytes();
        let cancelled = self
            .master
            .transmit(method, flags, env.clone(), body.clone())
            .expect("master transmit");
        assert!(!cancelled);
        let stateful = env.is_stateful();
        let expected = PsycMessage {
            method: method.into(),
            flags: if stateful {
                flags | METHOD_STATE_MODIFY
            } else {
                flags
            },
            state_delta: delta.unwrap_or(STATE_DELTA_NOT_MODIFIED),
            env,
            data: body,
        };
        let id = self.next_id;
        for (client, who) in self.both() {
            let m: ReceivedMessage = next_message(client, who);
            assert_eq!((m.message_id, m.flags), (id, 0), "{who}");
            assert_eq!(m.message, expected, "{who}: message {id}");
        }
        self.next_id += 1;
    }

    /// The slave sends a request; the master gets it, the slave does not.
    fn request(&mut self, env: Environment, body: &[u8]) {
        let cancelled = self
            .slave
            .transmit("_request_more", 0, env.clone(), body.to_vec())
            .expect("slave transmit");
        assert!(!cancelled);
        let m = next_message(&mut self.master, "master");
        assert_eq!(m.flags, DELIVERY_REQUEST);
        assert_eq!(m.message.env, env);
        assert_eq!(m.message.data, body);
    }

    /// Master and slave read exactly `vars` as the channel state.
    fn expect_state(&mut self, vars: &[(&str, &[u8])]) {
        let expected = sorted_vars(vars);
        for (client, who) in self.both() {
            assert_eq!(all_state(client, who), expected, "{who}: state");
        }
    }
}
