//! Shared by the real-peer tests of `gnunet-service-psyc`: peers with this workspace's psyc,
//! multicast and psycstore services registered (ARM starts them on demand), raw clients that
//! speak [`psyc::msg`] over the psyc socket, PSYC message parts built with the format library,
//! statistics and log lines.
#![allow(dead_code)]

use std::borrow::Cow;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use gnunet_service::client::{BlockingClient, ClientError};
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use psyc::format::container::Delivery;
use psyc::format::parts::{MethodPart, ModifierPart, Part, Parts};
use psyc::msg::{
    slave_join_flags, status, JoinDecision, JoinRequest, MasterStart, MasterStartAck, Reply,
    Request, SlaveJoin, SlaveJoinAck,
};
use testnet::{build_workspace_bins, repo_conf_file, ServiceConf, Testnet, Topology};

/// Patience for anything that crosses the services (and CADET).
pub const T: Duration = Duration::from_secs(30);

/// `n` peers with this build's psyc, multicast and psycstore services registered.
pub fn start_net(n: usize, topology: Topology) -> Testnet {
    let psyc = ServiceConf::from_file(
        &repo_conf_file("psyc"),
        env!("CARGO_BIN_EXE_gnunet-service-psyc"),
    )
    .expect("conf/psyc.conf");
    Testnet::builder()
        .peers(n)
        .topology(topology)
        .service_conf(psyc)
        .service_conf(workspace_service("multicast"))
        .service_conf(workspace_service("psycstore"))
        .start()
        .expect("peers up")
}

/// `conf/NAME.conf` pointing at the workspace binary of service `name`, brought up to date
/// first ([`build_workspace_bins`]).
fn workspace_service(name: &str) -> ServiceConf {
    build_workspace_bins(&["multicast", "psycstore"]);
    ServiceConf::workspace(name).unwrap_or_else(|e| panic!("conf/{name}.conf: {e}"))
}

/// The identity of peer `k`.
pub fn peer_id(net: &Testnet, k: usize) -> PeerIdentity {
    PeerIdentity(net.peer(k).identity_bytes())
}

/// A channel key, one per `seed` (each test net starts with empty stores, so fixed keys do
/// not meet old state).
pub fn channel_key(seed: u8) -> eddsa::PrivateKey {
    eddsa::PrivateKey([seed; 32])
}

/// A slave key, one per `seed`.
pub fn slave_key(seed: u8) -> ecdsa::PrivateKey {
    ecdsa::PrivateKey::clamped([seed; 32])
}

/// A raw client of one peer's psyc service: requests out, replies in, nothing interpreted.
pub struct PsycClient {
    conn: BlockingClient,
    /// Named in panics, to tell the clients of a test apart.
    name: String,
}

impl PsycClient {
    /// Connects to the psyc socket of peer `k` (ARM starts the service on the first connect).
    pub fn connect(net: &Testnet, k: usize, name: &str) -> Self {
        let path: PathBuf = net.peer(k).service_socket("psyc");
        let conn = BlockingClient::connect_path(&path, T)
            .unwrap_or_else(|e| panic!("{name}: connect to {}: {e}", path.display()));
        Self {
            conn,
            name: name.to_owned(),
        }
    }

    /// Sends one request.
    pub fn send(&mut self, request: &Request) {
        self.send_raw(&request.to_message());
    }

    /// Sends bytes as they are (they need not be a valid message).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        if let Err(e) = self.conn.send_raw(bytes) {
            panic!("{}: send: {e}", self.name);
        }
    }

    /// The next reply, decoded; waits at most `timeout`.
    pub fn next_reply(&mut self, timeout: Duration) -> Result<Reply, ClientError> {
        let raw = self.conn.recv(Some(timeout))?;
        match Reply::decode(raw.bytes()) {
            Ok(reply) => Ok(reply),
            Err(e) => panic!("{}: undecodable reply {raw:?}: {e}", self.name),
        }
    }

    /// Reads replies until `pick` returns something (other replies are skipped), or panics
    /// after [`T`] naming `what`.
    pub fn wait_for<R>(&mut self, what: &str, mut pick: impl FnMut(Reply) -> Option<R>) -> R {
        let deadline = Instant::now() + T;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_reply(left) {
                Ok(reply) => {
                    if let Some(r) = pick(reply) {
                        return r;
                    }
                }
                Err(e) => panic!("{}: waiting for {what}: {e}", self.name),
            }
        }
    }

    /// Reads until the service closes the connection; panics if it is still open after [`T`].
    pub fn expect_dropped(&mut self) {
        let deadline = Instant::now() + T;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.conn.recv(Some(left)) {
                Ok(_) => continue,
                Err(ClientError::Closed) => return,
                Err(ClientError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return
                }
                Err(e) => panic!("{}: expected the service to drop it: {e}", self.name),
            }
        }
    }
}

/// A master client of `key` on peer `k` whose MASTER_START was acknowledged.
pub fn start_master(
    net: &Testnet,
    k: usize,
    key: &eddsa::PrivateKey,
    name: &str,
) -> (PsycClient, MasterStartAck) {
    let mut c = PsycClient::connect(net, k, name);
    c.send(&Request::MasterStart(MasterStart {
        policy: psyc::msg::policy::PRIVATE,
        channel_key: key.clone(),
    }));
    let ack = c.wait_for("MASTER_START_ACK", |r| match r {
        Reply::MasterStartAck(a) => Some(a),
        _ => None,
    });
    assert!(
        ack.result_code == status::OK || ack.result_code == status::NO,
        "{name}: MASTER_START_ACK {ack:?}"
    );
    (c, ack)
}

/// A slave client on peer `k` joining `channel` of the master at `origin`, whose SLAVE_JOIN
/// was acknowledged (the join decision comes later).
pub fn join_slave(
    net: &Testnet,
    k: usize,
    channel: eddsa::PublicKey,
    key: &ecdsa::PrivateKey,
    origin: PeerIdentity,
    name: &str,
) -> (PsycClient, SlaveJoinAck) {
    let mut c = PsycClient::connect(net, k, name);
    c.send(&Request::SlaveJoin(SlaveJoin {
        channel_pub_key: channel,
        slave_key: key.clone(),
        origin,
        flags: slave_join_flags::NONE,
        relays: Vec::new(),
        join_msg: None,
    }));
    let ack = c.wait_for("SLAVE_JOIN_ACK", |r| match r {
        Reply::SlaveJoinAck(a) => Some(a),
        _ => None,
    });
    assert!(
        ack.result_code == status::OK || ack.result_code == status::NO,
        "{name}: SLAVE_JOIN_ACK {ack:?}"
    );
    (c, ack)
}

/// The master gets the slave's JOIN_REQUEST and admits it; the slave gets the admission.
pub fn admit(master: &mut PsycClient, slave: &mut PsycClient, slave_key: &ecdsa::PrivateKey) {
    let request: JoinRequest = master.wait_for("JOIN_REQUEST", |r| match r {
        Reply::JoinRequest(j) => Some(j),
        _ => None,
    });
    assert_eq!(request.slave_pub_key, slave_key.public_key());
    master.send(&Request::JoinDecision(JoinDecision::new(
        status::OK,
        request.slave_pub_key,
    )));
    let decision = slave.wait_for("JOIN_DECISION", |r| match r {
        Reply::JoinDecision(d) => Some(d),
        _ => None,
    });
    assert_eq!(decision.is_admitted, status::OK);
}

/// A METHOD part named `name` without transmit flags.
pub fn method(name: &str) -> Part<'static> {
    Part::Method(MethodPart {
        flags: 0,
        state_delta: 0,
        name: Cow::Owned(name.as_bytes().to_vec()),
    })
}

/// An assigning (`:`) MODIFIER part with the whole value.
pub fn modifier(name: &str, value: &[u8]) -> Part<'static> {
    Part::Modifier(ModifierPart {
        value_size: value.len() as u32,
        oper: b':',
        name: Cow::Owned(name.as_bytes().to_vec()),
        value: Cow::Owned(value.to_vec()),
    })
}

/// A DATA part.
pub fn data(body: &[u8]) -> Part<'static> {
    Part::Data(Cow::Owned(body.to_vec()))
}

/// The concatenated wire form of `parts`, a PSYC_MESSAGE container's payload.
pub fn parts(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        p.emit(&mut out);
    }
    out
}

/// A client PSYC_MESSAGE carrying `parts`.
pub fn psyc_message(parts: Vec<u8>) -> Request {
    Request::Message(psyc::msg::ClientMessage { parts })
}

/// The bodies of the DATA parts of a delivery.
pub fn data_of(delivery: &Delivery) -> Vec<Vec<u8>> {
    Parts::new(&delivery.parts)
        .filter_map(|p| match p {
            Ok(Part::Data(d)) => Some(d.into_owned()),
            _ => None,
        })
        .collect()
}

/// The master sends a whole message (METHOD, DATA `body`, END) in one container and waits for
/// its MESSAGE_ACK.
pub fn send_message(master: &mut PsycClient, body: &[u8]) {
    master.send(&psyc_message(parts(&[
        method("_test"),
        data(body),
        Part::End,
    ])));
    master.wait_for("MESSAGE_ACK", |r| {
        matches!(r, Reply::MessageAck(_)).then_some(())
    });
}

/// Waits for the delivery whose DATA is `body` (other replies and deliveries are skipped).
pub fn expect_delivery(client: &mut PsycClient, body: &[u8]) -> Delivery {
    let what = format!("the delivery of {:?}", String::from_utf8_lossy(body));
    client.wait_for(&what, |r| match r {
        Reply::Message(d) if data_of(&d).iter().any(|b| b == body) => Some(d),
        _ => None,
    })
}

/// Waits for the CANCEL that closes message `message_id` (other replies are skipped).
pub fn expect_cancel(client: &mut PsycClient, message_id: u64) -> Delivery {
    let what = format!("the CANCEL of message {message_id}");
    client.wait_for(&what, |r| match r {
        Reply::Message(d)
            if d.header.message_id == message_id
                && Parts::new(&d.parts).any(|p| matches!(p, Ok(Part::Cancel))) =>
        {
            Some(d)
        }
        _ => None,
    })
}

/// Value of statistic `name` of subsystem psyc on peer `k`, if set.
pub fn stat(net: &Testnet, k: usize, name: &str) -> Option<u64> {
    net.peer(k).statistic("psyc", name)
}

/// Waits until statistic `name` of psyc on peer `k` is at least `min`; returns it.
pub fn wait_stat(net: &Testnet, k: usize, name: &str, min: u64) -> u64 {
    net.peer(k)
        .wait_statistic("psyc", name, min, T)
        .unwrap_or_else(|v| {
            panic!("statistic {name:?} on peer {k} stayed at {v}, expected at least {min}")
        })
}

/// A position in the psyc log of one peer: what is logged after it is new.
#[derive(Debug, Clone, Copy)]
pub struct LogMark {
    peer: usize,
    offset: usize,
}

/// The current end of the psyc log of peer `k`.
pub fn log_mark(net: &Testnet, k: usize) -> LogMark {
    let len = std::fs::metadata(net.peer(k).log_path("psyc")).map_or(0, |m| m.len());
    LogMark {
        peer: k,
        offset: usize::try_from(len).unwrap_or(usize::MAX),
    }
}

/// Waits until the psyc log, after `mark`, has a line containing `needle`; returns the line.
pub fn wait_log(net: &Testnet, mark: LogMark, needle: &str) -> String {
    let path = net.peer(mark.peer).log_path("psyc");
    let deadline = Instant::now() + T;
    loop {
        let text = std::fs::read(&path).unwrap_or_default();
        let new = String::from_utf8_lossy(text.get(mark.offset..).unwrap_or_default());
        if let Some(line) = new.lines().find(|l| l.contains(needle)) {
            return line.to_owned();
        }
        if Instant::now() > deadline {
            let tail: Vec<&str> = new.lines().rev().take(20).collect();
            panic!(
                "no {needle:?} in {} after byte {}; last lines (newest first):\n{}",
                path.display(),
                mark.offset,
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Like [`start_net`], with `[multicast]` options (e.g. `MAX_CHILDREN`) for every peer.
pub fn start_net_with(n: usize, topology: Topology, multicast: &[(&str, &str)]) -> Testnet {
    let psyc = ServiceConf::from_file(
        &repo_conf_file("psyc"),
        env!("CARGO_BIN_EXE_gnunet-service-psyc"),
    )
    .expect("conf/psyc.conf");
    let mut mc = workspace_service("multicast");
    for (k, v) in multicast {
        mc.service.options.push((k.to_string(), v.to_string()));
    }
    Testnet::builder()
        .peers(n)
        .topology(topology)
        .service_conf(psyc)
        .service_conf(mc)
        .service_conf(workspace_service("psycstore"))
        .start()
        .expect("peers up")
}

/// The psyc socket of peer `k`, for [`psyc::client::Client`].
pub fn psyc_socket(net: &Testnet, k: usize) -> PathBuf {
    net.peer(k).service_socket("psyc")
}

/// Pids of peer `k`'s processes whose program (first argument, file name) is `program`
/// exactly (`gnunet-service-psyc` is a prefix of `gnunet-service-psycstore`).
pub fn pids_of(net: &Testnet, k: usize, program: &str) -> Vec<u32> {
    net.peer(k)
        .service_pids()
        .into_iter()
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
            let name = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
            name == program.as_bytes()
        })
        .collect()
}

/// `kill -9` of the one process of peer `k` running `program`; returns its pid.
pub fn kill9(net: &Testnet, k: usize, program: &str) -> u32 {
    let pids = pids_of(net, k, program);
    assert_eq!(pids.len(), 1, "one {program} on peer {k}: {pids:?}");
    let status = Command::new("kill")
        .args(["-9", &pids[0].to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -9 {}", pids[0]);
    pids[0]
}

/// Waits until peer `k` runs `program` again under a pid other than `old`; returns it.
pub fn wait_restarted(net: &Testnet, k: usize, program: &str, old: u32) -> u32 {
    let deadline = Instant::now() + T;
    loop {
        if let Some(&pid) = pids_of(net, k, program).iter().find(|&&p| p != old) {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "{program} on peer {k} was not started again after pid {old} died"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Master `master` waits for the join request of `member` and admits it.
pub fn admit_join_request(master: &mut psyc::client::Client, member: ecdsa::PublicKey) {
    use psyc::client::Event;
    master
        .wait_event(
            |e| matches!(e, Event::JoinRequest { slave_pub_key, .. } if *slave_pub_key == member),
        )
        .expect("the join request reaches the master");
    master
        .join_decision(member, true, None, &[])
        .expect("JOIN_DECISION");
}

/// Master `master` (a [`psyc::client::Client`]) gets the join request of `slave_key`, admits
/// it and stores its membership from message `effective_since` (so the master also answers
/// the slave's replays of history since then); `slave` then gets the admission.
pub fn admit_member(
    master: &mut psyc::client::Client,
    slave: &mut psyc::client::Client,
    slave_key: &ecdsa::PrivateKey,
    effective_since: u64,
) {
    use psyc::client::Event;
    let wanted = slave_key.public_key();
    admit_join_request(master, wanted);
    let stored = master
        .membership_store(wanted, true, effective_since, effective_since)
        .expect("membership store");
    assert_eq!(stored, 1, "membership stored");
    match slave
        .wait_event(|e| matches!(e, Event::JoinDecision { .. }))
        .expect("the decision reaches the slave")
    {
        Event::JoinDecision { is_admitted, .. } => assert_eq!(is_admitted, 1, "admitted"),
        other => panic!("not a decision: {other:?}"),
    }
}

/// The channel messages a [`psyc::client::Client`] received so far (other events are kept
/// in its queue), waiting until `want` says enough arrived or [`T`] passed since the last
/// message; returns (message id, body) in arrival order.
pub fn collect_messages(
    client: &mut psyc::client::Client,
    name: &str,
    mut want: impl FnMut(&[(u64, Vec<u8>)]) -> bool,
) -> Vec<(u64, Vec<u8>)> {
    use psyc::client::Event;
    let mut got = Vec::new();
    while !want(&got) {
        match client.wait_event(|e| matches!(e, Event::Message(_))) {
            Ok(Event::Message(m)) => got.push((m.message_id, m.message.data)),
            Ok(_) => {}
            Err(e) => panic!(
                "{name}: waiting for messages: {e}; got {:?}",
                got.iter()
                    .map(|(id, d)| (*id, String::from_utf8_lossy(d).into_owned()))
                    .collect::<Vec<_>>()
            ),
        }
    }
    got
}

/// `client` receives exactly `bodies` as the next channel messages: in order, once each, with
/// consecutive ids, and nothing more (a duplicate of the last) within half a second. Returns
/// the id of the first.
pub fn expect_messages(client: &mut psyc::client::Client, name: &str, bodies: &[Vec<u8>]) -> u64 {
    use psyc::client::Event;
    let last = bodies.last().cloned().expect("some message expected");
    let got = collect_messages(client, name, |got| {
        got.last().is_some_and(|(_, body)| *body == last)
    });
    if let Ok(Event::Message(m)) = client.next_event(Some(Duration::from_millis(500))) {
        panic!(
            "{name}: got {:?} (id {}) after the last message",
            String::from_utf8_lossy(&m.message.data),
            m.message_id
        );
    }
    let text = |b: &Vec<u8>| String::from_utf8_lossy(b).into_owned();
    assert_eq!(
        got.iter().map(|(_, b)| text(b)).collect::<Vec<_>>(),
        bodies.iter().map(text).collect::<Vec<_>>(),
        "{name}: every message, in order, once"
    );
    let first = got[0].0;
    for (n, (id, _)) in got.iter().enumerate() {
        assert_eq!(*id, first + n as u64, "{name}: consecutive message ids");
    }
    first
}

/// A history replay of messages `first..` with `flags` gives exactly `bodies`, in order.
pub fn expect_history(
    client: &mut psyc::client::Client,
    name: &str,
    first: u64,
    bodies: &[Vec<u8>],
    flags: u32,
) {
    let last = first + bodies.len() as u64 - 1;
    let history = client
        .history_replay(first, last, "", flags)
        .unwrap_or_else(|e| panic!("{name}: history replay: {e}"));
    assert!(history.invalid.is_empty(), "{name}: {:?}", history.invalid);
    // In id order as they came, a remote replay's local and fetched messages interleaved
    // (`psyc::channel::remote`).
    let got: Vec<(u64, String)> = history
        .messages
        .iter()
        .map(|m| {
            let body = String::from_utf8_lossy(&m.message.data).into_owned();
            (m.message_id, body)
        })
        .collect();
    let want: Vec<(u64, String)> = bodies
        .iter()
        .enumerate()
        .map(|(n, b)| (first + n as u64, String::from_utf8_lossy(b).into_owned()))
        .collect();
    assert_eq!(got, want, "{name}: history of messages {first}..={last}");
}

/// Every state variable of the channel as the client's peer has it (psycstore, like C,
/// refuses the empty prefix; every variable name starts with `_`).
pub fn channel_state(client: &mut psyc::client::Client, name: &str) -> Vec<(String, Vec<u8>)> {
    let vars = client
        .state_get_prefix("_")
        .unwrap_or_else(|e| panic!("{name}: state get: {e}"));
    assert!(vars.result >= 0, "{name}: state result {}", vars.result);
    vars.vars
}

// ------------------------------------------------------------ psyc::client helpers

/// The psyc socket of peer `k`, for [`psyc::client::Client`].
/// An environment of `=` (assigning) modifiers.
pub fn assign_env(mods: &[(&str, &[u8])]) -> psyc::format::env::Environment {
    env_of(psyc::format::env::Operator::Assign, mods)
}

/// An environment of modifiers that all have operator `oper`.
pub fn env_of(
    oper: psyc::format::env::Operator,
    mods: &[(&str, &[u8])],
) -> psyc::format::env::Environment {
    let mut env = psyc::format::env::Environment::new();
    for (name, value) in mods {
        env.add(oper, name, value.to_vec())
            .unwrap_or_else(|e| panic!("modifier {name:?}: {e}"));
    }
    env
}

/// Waits on `client` (named `who` in panics) for the next whole message (requests included)
/// and returns it; the other events stay queued.
pub fn next_message(client: &mut psyc::client::Client, who: &str) -> psyc::client::ReceivedMessage {
    match client.wait_event(|e| matches!(e, psyc::client::Event::Message(_))) {
        Ok(psyc::client::Event::Message(m)) => m,
        Ok(other) => panic!("{who}: expected a message, got {other:?}"),
        Err(e) => panic!("{who}: waiting for a message: {e}"),
    }
}

/// Reads `client`'s events for `quiet` and panics if any arrives: nothing is due.
pub fn expect_no_event(client: &mut psyc::client::Client, who: &str, quiet: Duration) {
    match client.next_event(Some(quiet)) {
        Err(psyc::client::Error::Service(ClientError::Timeout(_))) => {}
        Ok(event) => panic!("{who}: unexpected event {event:?}"),
        Err(e) => panic!("{who}: waiting for quiet: {e}"),
    }
}

/// Every state variable of the channel as `client` reads it, sorted by name: prefix `_`,
/// which every variable name starts with (psycstore refuses the empty prefix, as in C).
pub fn all_state(client: &mut psyc::client::Client, who: &str) -> Vec<(String, Vec<u8>)> {
    let state = client
        .state_get_prefix("_")
        .unwrap_or_else(|e| panic!("{who}: state_get_prefix(\"_\"): {e}"));
    let found = i64::from(!state.vars.is_empty());
    assert_eq!(state.result, found, "{who}: state_get_prefix(\"_\") result");
    let mut vars = state.vars;
    vars.sort();
    vars
}

/// `(name, value)` pairs, owned and sorted by name, to compare with [`all_state`].
pub fn sorted_vars(vars: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = vars
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.to_vec()))
        .collect();
    out.sort();
    out
}
