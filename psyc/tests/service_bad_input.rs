//! `gnunet-service-psyc` under a real GNUnet 0.19.3 peer, started on demand by ARM with this
//! workspace's multicast and psycstore: clients that break the protocol are dropped, each on
//! its own connection, with a log line that names why and a statistic, while a master and an
//! admitted slave of a channel on the same peer go on exchanging messages.

mod common;

use common::*;
use gnunet_service::crypto::{ecdsa, eddsa};
use psyc::format::parts::{Part, FRAGMENT_MAX_PAYLOAD};
use psyc::msg::{JoinDecision, MasterStart, Request, MASTER_START_SIZE};
use psyc::service::STAT_CLIENTS_DROPPED;
use testnet::{Testnet, Topology};

/// Largest GNUnet message.
const MAX_MESSAGE_SIZE: usize = 65_535;

#[test]
fn bad_clients_are_dropped_and_the_channel_goes_on() {
    let net = start_net(1, Topology::Line);
    let mut scene = Scene::new(&net);
    scene.exchange("the channel is up");
    let dropped_before = stat(&net, 0, STAT_CLIENTS_DROPPED).unwrap_or(0);

    // (a) Garbage: a type the service does not know, and a MASTER_START one byte short.
    let mark = log_mark(&net, 0);
    let mut c = PsycClient::connect(&net, 0, "unknown type");
    c.send_raw(&[0, 4, 0x27, 0x0f]); // size 4, type 9999
    scene.check_dropped(mark, c, "malformed message type 9999 size 4");

    let mark = log_mark(&net, 0);
    let mut c = PsycClient::connect(&net, 0, "short MASTER_START");
    let mut short = scene.master_start().to_message();
    short.truncate(MASTER_START_SIZE - 1);
    short[..2].copy_from_slice(&((MASTER_START_SIZE - 1) as u16).to_be_bytes());
    c.send_raw(&short);
    scene.check_dropped(mark, c, "malformed message type 681 size 39");

    // (b) A PSYC_MESSAGE from a client bound to no channel.
    let mark = log_mark(&net, 0);
    let mut c = PsycClient::connect(&net, 0, "unbound sender");
    c.send(&psyc_message(whole_message(b"from nowhere")));
    scene.check_dropped(mark, c, "request before MASTER_START/SLAVE_JOIN");

    // (c) Parts in the wrong order from a master client: DATA with no message open, then a
    // METHOD while its own message is open (the half-sent message is cancelled for the slave).
    let mark = log_mark(&net, 0);
    let mut c = scene.second_master("DATA first");
    c.send(&psyc_message(parts(&[data(b"no method"), Part::End])));
    scene.check_dropped(mark, c, "PSYC_MESSAGE continues no message");

    let mark = log_mark(&net, 0);
    let mut c = scene.second_master("METHOD inside a message");
    c.send(&psyc_message(parts(&[method("_open"), data(b"left open")])));
    c.send(&psyc_message(whole_message(b"nested")));
    let opened = expect_delivery(&mut scene.slave, b"left open");
    expect_cancel(&mut scene.slave, opened.header.message_id);
    scene.check_dropped(mark, c, "PSYC_MESSAGE starts a message inside another");

    // (d) Parts beyond the fragment payload limit, in a valid GNUnet message.
    let big = parts(&[
        method("_big"),
        data(&[b'x'; 32_000]),
        data(&[b'y'; 32_500]),
        Part::End,
    ]);
    assert!(big.len() > FRAGMENT_MAX_PAYLOAD && 4 + big.len() <= MAX_MESSAGE_SIZE);
    let mark = log_mark(&net, 0);
    let mut c = scene.second_master("oversize");
    c.send(&psyc_message(big.clone()));
    let needle = format!("PSYC_MESSAGE of {} bytes of parts", big.len());
    scene.check_dropped(mark, c, &needle);

    // (e) A second MASTER_START on a connection that is a master already.
    let mark = log_mark(&net, 0);
    let mut c = scene.second_master("MASTER_START twice");
    c.send(&scene.master_start());
    scene.check_dropped(mark, c, "second MASTER_START/SLAVE_JOIN");

    // (f) A JOIN_DECISION from a client of the slave.
    let mark = log_mark(&net, 0);
    let (mut c, _) = join_slave(
        &net,
        0,
        scene.channel.public_key(),
        &scene.slave_key,
        peer_id(&net, 0),
        "deciding slave",
    );
    c.send(&Request::JoinDecision(JoinDecision::new(
        psyc::msg::status::OK,
        scene.slave_key.public_key(),
    )));
    scene.check_dropped(mark, c, "JOIN_DECISION from a slave client");

    let dropped = wait_stat(&net, 0, STAT_CLIENTS_DROPPED, dropped_before + scene.bad);
    assert!(dropped >= dropped_before + scene.bad);
}

/// METHOD, DATA `body`, END.
fn whole_message(body: &[u8]) -> Vec<u8> {
    parts(&[method("_test"), data(body), Part::End])
}

/// The well-behaved side: a master and an admitted slave of one channel on peer 0.
struct Scene<'a> {
    net: &'a Testnet,
    channel: eddsa::PrivateKey,
    slave_key: ecdsa::PrivateKey,
    master: PsycClient,
    slave: PsycClient,
    /// Messages the master has sent.
    rounds: u32,
    /// Bad clients dropped so far.
    bad: u64,
}

impl<'a> Scene<'a> {
    /// Starts the channel and admits the slave.
    fn new(net: &'a Testnet) -> Self {
        let channel = channel_key(1);
        let slave_key = slave_key(2);
        let (mut master, _) = start_master(net, 0, &channel, "master");
        let (mut slave, _) = join_slave(
            net,
            0,
            channel.public_key(),
            &slave_key,
            peer_id(net, 0),
            "slave",
        );
        admit(&mut master, &mut slave, &slave_key);
        Self {
            net,
            channel,
            slave_key,
            master,
            slave,
            rounds: 0,
            bad: 0,
        }
    }

    /// MASTER_START for the channel.
    fn master_start(&self) -> Request {
        Request::MasterStart(MasterStart {
            policy: psyc::msg::policy::PRIVATE,
            channel_key: self.channel.clone(),
        })
    }

    /// Another master client of the channel, started.
    fn second_master(&self, name: &str) -> PsycClient {
        start_master(self.net, 0, &self.channel, name).0
    }

    /// The master sends a message and the slave receives it.
    fn exchange(&mut self, after: &str) {
        self.rounds += 1;
        let body = format!("message {} ({after})", self.rounds);
        send_message(&mut self.master, body.as_bytes());
        expect_delivery(&mut self.slave, body.as_bytes());
    }

    /// `client` (which misbehaved after `mark`) is dropped with a log line containing
    /// `reason`, and the channel still works.
    fn check_dropped(&mut self, mark: LogMark, mut client: PsycClient, reason: &str) {
        client.expect_dropped();
        wait_log(self.net, mark, reason);
        self.bad += 1;
        self.exchange(&format!("dropped: {reason}"));
    }
}
