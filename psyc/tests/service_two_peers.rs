//! `gnunet-service-psyc` on two real GNUnet peers (multicast across CADET), driven with the
//! Rust client API, after the C `test_psyc_api_join` (`psyc.md` §13.2) and beyond it: the
//! master on peer 0 admits a slave of peer 1 with a response and files its membership;
//! requests go up, 20 messages (stateful ones, a deletion, a STATE_RESET) come down in order;
//! the slave's peer then holds the same history and state as the master's. A second slave on
//! peer 1 joining after those 20 receives what follows, in order, and nothing before.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use gnunet_service::crypto::ecdsa;
use psyc::client::{Client, Event, ReceivedMessage};
use psyc::format::container::{DELIVERY_HISTORIC, DELIVERY_REQUEST};
use psyc::format::env::{Environment, Operator};
use psyc::format::message::PsycMessage;
use psyc::format::parts::{METHOD_STATE_MODIFY, METHOD_STATE_RESET};
use psyc::msg::{policy, slave_join_flags, status};
use testnet::Topology;

/// Messages the master sends before the second slave joins.
const FIRST: u64 = 20;
/// Messages after it.
const MORE: u64 = 5;

#[test]
fn master_and_slaves_on_two_peers() {
    let net = start_net(2, Topology::Line);
    let channel = channel_key(1);
    let (mut master, started) =
        Client::master_start(&psyc_socket(&net, 0), channel.clone(), policy::PRIVATE)
            .expect("master start");
    assert_eq!((started.result, started.max_message_id), (status::NO, 0));

    // The slave on peer 1 joins through the master's peer; the master's application admits
    // it with a response and files its membership from the next message on.
    let join_slave = |key: &ecdsa::PrivateKey| {
        let join = PsycMessage {
            method: "_request_join".into(),
            env: assign_env(&[("_foo", b"bar baz"), ("_foo_bar", b"foo bar baz")]),
            data: b"some data".to_vec(),
            ..PsycMessage::default()
        };
        let (slave, started) = Client::slave_join(
            &psyc_socket(&net, 1),
            channel.public_key(),
            key.clone(),
            peer_id(&net, 0),
            Vec::new(),
            slave_join_flags::NONE,
            Some(&join),
        )
        .expect("slave join");
        assert!(started.result == status::OK || started.result == status::NO);
        (slave, join)
    };
    let key1 = slave_key(2);
    let (mut slave1, join1) = join_slave(&key1);
    admit(&mut master, &mut slave1, &key1, &join1, 1);

    // Requests go up, 20 messages come down in order; the master's copy of each is what the
    // slave must see.
    let mut model = StateModel::default();
    let mut sent: Vec<ReceivedMessage> = Vec::new();
    for id in 1..=FIRST {
        if id.is_multiple_of(5) {
            request(&mut slave1, &mut master, &key1, id);
        }
        let own = transmit(&mut master, id, &mut model);
        let got = next_message(&mut slave1, "slave 1");
        assert_eq!(got, own, "slave 1: message {id}");
        sent.push(own);
    }

    // The slave's peer holds the same history and state as the master's.
    let history = slave1.history_replay(1, FIRST, "", 0).expect("history");
    assert!(history.invalid.is_empty(), "{:?}", history.invalid);
    assert_eq!(history.messages.len(), sent.len());
    for (replayed, own) in history.messages.iter().zip(&sent) {
        assert_eq!(replayed.flags, DELIVERY_HISTORIC);
        assert_eq!(
            (replayed.message_id, &replayed.message),
            (own.message_id, &own.message)
        );
    }
    let latest = slave1.history_latest(3, "", 0).expect("history latest");
    let ids: Vec<u64> = latest.messages.iter().map(|m| m.message_id).collect();
    assert_eq!(ids, [FIRST - 2, FIRST - 1, FIRST]);
    let expected = model.vars();
    assert_eq!(all_state(&mut master, "master"), expected);
    assert_eq!(all_state(&mut slave1, "slave 1"), expected);

    // A second slave on peer 1 joins now and gets the messages after its join, in order.
    let key2 = slave_key(3);
    let (mut slave2, join2) = join_slave(&key2);
    admit(&mut master, &mut slave2, &key2, &join2, FIRST + 1);
    for id in FIRST + 1..=FIRST + MORE {
        let own = transmit(&mut master, id, &mut model);
        for (slave, who) in [(&mut slave1, "slave 1"), (&mut slave2, "slave 2")] {
            assert_eq!(next_message(slave, who), own, "{who}: message {id}");
        }
    }
    request(&mut slave2, &mut master, &key2, FIRST + MORE + 1);
    let expected = model.vars();
    for (client, who) in [
        (&mut master, "master"),
        (&mut slave1, "slave 1"),
        (&mut slave2, "slave 2"),
    ] {
        assert_eq!(all_state(client, who), expected, "{who}");
        expect_no_event(client, who, Duration::from_millis(300));
    }

    for (client, who) in [(slave2, "slave 2"), (slave1, "slave 1"), (master, "master")] {
        let mut client = client;
        client.part().unwrap_or_else(|e| panic!("{who} part: {e}"));
    }
}

/// The master gets `key`'s join request with `join`, admits it with a response and files the
/// membership from message `since`; the slave learns it is admitted and gets the response.
fn admit(
    master: &mut Client,
    slave: &mut Client,
    key: &ecdsa::PrivateKey,
    join: &PsycMessage,
    since: u64,
) {
    let slave_pub = key.public_key();
    match master.wait_event(|e| matches!(e, Event::JoinRequest { .. })) {
        Ok(Event::JoinRequest {
            slave_pub_key,
            message,
        }) => {
            assert_eq!(slave_pub_key, slave_pub);
            assert_eq!(message.as_ref(), Some(join));
        }
        other => panic!("master: expected a join request: {other:?}"),
    }
    let welcome = PsycMessage {
        method: "_notice_welcome".into(),
        data: format!("welcome from message {since}").into_bytes(),
        ..PsycMessage::default()
    };
    master
        .join_decision(slave_pub, true, Some(&welcome), &[])
        .expect("admit");
    let stored = master
        .membership_store(slave_pub, true, since, since)
        .expect("membership store");
    assert_eq!(stored, i64::from(status::OK));
    match slave.wait_event(|e| matches!(e, Event::JoinDecision { .. })) {
        Ok(Event::JoinDecision {
            is_admitted,
            response,
        }) => {
            assert_eq!(is_admitted, status::OK);
            assert_eq!(response, Some(welcome));
        }
        other => panic!("slave: expected a join decision: {other:?}"),
    }
}

/// The slave of `key` sends request `n`; the master gets it, flagged REQUEST, with the
/// slave's key.
fn request(slave: &mut Client, master: &mut Client, key: &ecdsa::PrivateKey, n: u64) {
    let body = format!("request {n}").into_bytes();
    let env = env_of(Operator::Set, &[("_request_no", n.to_string().as_bytes())]);
    let cancelled = slave
        .transmit("_request_test", 0, env.clone(), body.clone())
        .expect("slave transmit");
    assert!(!cancelled);
    let got = match master
        .wait_event(|e| matches!(e, Event::Message(m) if m.flags & DELIVERY_REQUEST != 0))
    {
        Ok(Event::Message(m)) => m,
        other => panic!("master: expected request {n}: {other:?}"),
    };
    assert_eq!(got.flags, DELIVERY_REQUEST);
    assert_eq!(got.slave_pub_key, key.public_key());
    assert_eq!(
        (
            got.message.method.as_str(),
            &got.message.env,
            &got.message.data
        ),
        ("_request_test", &env, &body)
    );
}

/// The master sends message `id` (see [`content`]) and receives it back; returns its copy.
fn transmit(master: &mut Client, id: u64, model: &mut StateModel) -> ReceivedMessage {
    let (flags, env) = content(id);
    let body = format!("message {id}").into_bytes();
    let cancelled = master
        .transmit("_notice_count", flags, env.clone(), body.clone())
        .expect("master transmit");
    assert!(!cancelled);
    let own = match master
        .wait_event(|e| matches!(e, Event::Message(m) if m.flags & DELIVERY_REQUEST == 0))
    {
        Ok(Event::Message(m)) => m,
        other => panic!("master: expected its message {id}: {other:?}"),
    };
    assert_eq!((own.message_id, own.flags), (id, 0));
    let stateful = env.is_stateful();
    let expected_flags = if stateful {
        flags | METHOD_STATE_MODIFY
    } else {
        flags
    };
    assert_eq!(own.message.flags, expected_flags, "message {id}");
    assert_eq!(own.message.env, env, "message {id}");
    assert_eq!(own.message.data, body, "message {id}");
    model.apply(flags, &env);
    own
}

/// Message `id`'s METHOD flags and modifiers: a variable set at 2 and deleted at 10, a
/// counter every 4th message, a STATE_RESET at 15, a transient modifier otherwise.
fn content(id: u64) -> (u32, Environment) {
    let count = id.to_string();
    match id {
        2 => (0, assign_env(&[("_note", b"two")])),
        10 => (0, assign_env(&[("_note", b"")])),
        15 => (
            METHOD_STATE_RESET,
            assign_env(&[("_reset", b"at 15"), ("_count", count.as_bytes())]),
        ),
        _ if id.is_multiple_of(4) => (0, assign_env(&[("_count", count.as_bytes())])),
        _ => (0, env_of(Operator::Set, &[("_seq", count.as_bytes())])),
    }
}

/// The channel state the master's messages should leave behind.
#[derive(Default)]
struct StateModel(BTreeMap<String, Vec<u8>>);

impl StateModel {
    fn apply(&mut self, flags: u32, env: &Environment) {
        if flags & METHOD_STATE_RESET != 0 {
            self.0.clear();
        }
        for m in env.iter().filter(|m| m.oper == Operator::Assign) {
            if m.value.is_empty() {
                self.0.remove(&m.name);
            } else {
                self.0.insert(m.name.clone(), m.value.clone());
            }
        }
    }

    fn vars(&self) -> Vec<(String, Vec<u8>)> {
        self.0.iter().map(|(n, v)| (n.clone(), v.clone())).collect()
    }
}
