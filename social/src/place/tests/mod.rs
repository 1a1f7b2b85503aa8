//! Tests of the place logic: decoded client requests in, actions out, with the tests
//! answering for psyc, IDENTITY, NAMESTORE and GNS.

mod apps;
mod guest;
mod host;
mod relay_delay;
mod restart;
mod save;
mod scenario;
mod transmit;
mod zone;

use std::borrow::Cow;
use std::time::Instant;

use gnunet_service::crypto::identity_key::PrivateKey as EgoKey;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use psyc::format::parts::{MethodPart, ModifierPart, Part};

use super::*;
use crate::msg::{
    AppConnect, ClientMessage, Delivery, DeliveryHeader, GuestEnter, HostEnter, JoinDecision,
    Reply, Request,
};
use crate::store::StoreOp;

/// This peer.
pub(super) const PEER: PeerIdentity = PeerIdentity([0x50; 32]);
/// The app id of the acceptance test.
pub(super) const APP: &str = "test";

/// An ego's private key, distinct per `n`.
pub(super) fn ego_key(n: u8) -> ecdsa::PrivateKey {
    ecdsa::PrivateKey::clamped([n; 32])
}

/// An ego's public key.
pub(super) fn ego(n: u8) -> ecdsa::PublicKey {
    ego_key(n).public_key()
}

/// The `n`-th place key the test key source hands out (from 1).
pub(super) fn place_key(n: u8) -> eddsa::PrivateKey {
    eddsa::PrivateKey([0xa0 + n; 32])
}

/// The logic with the test key source, egos `host one` (1) and `guest one` (2), the ego
/// list complete.
pub(super) struct T {
    pub s: Social,
    pub now: Instant,
}

impl T {
    pub fn with(cfg: LogicConfig) -> Self {
        let mut n = 0u8;
        let keys: PlaceKeySource = Box::new(move || {
            n = n.wrapping_add(1);
            place_key(n)
        });
        let mut s = Social::new(cfg, keys);
        // The C behaviour (public records), as test networks run by default.
        s.set_privacy(&gnunet_service::privacy::Knobs::for_level(
            gnunet_service::privacy::Level::Convenient,
        ));
        Self {
            s,
            now: Instant::now(),
        }
    }

    /// Answers the NAMESTORE step of an entry by a name in the ego's own zone, if `actions`
    /// is that step, with `records` of the label; what follows (the GNS lookup, or the
    /// entry) is returned. Other actions come back as they are.
    pub fn own_zone(&mut self, actions: Vec<Action>, records: GnsAnswer) -> Vec<Action> {
        match &actions[..] {
            [Action::ZoneLookup { op, .. }] => {
                self.s.handle_zone_lookup(self.now, *op, records);
                self.drain()
            }
            _ => actions,
        }
    }

    /// Relay off, as the acceptance test needs; egos 1 and 2 listed.
    pub fn new() -> Self {
        let mut t = Self::with(LogicConfig {
            relay: false,
            ..LogicConfig::new(PEER)
        });
        t.s.handle_ego(t.now, "host one", EgoKey::Ecdsa(ego_key(1)));
        t.s.handle_ego(t.now, "guest one", EgoKey::Ecdsa(ego_key(2)));
        t.s.handle_egos_listed(t.now);
        t.drain();
        t
    }

    pub fn drain(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.s.poll_action()).collect()
    }

    /// A client request; the actions it caused.
    pub fn client(&mut self, client: u64, request: Request) -> Vec<Action> {
        self.s.handle_client(self.now, ClientId(client), request);
        self.drain()
    }

    pub fn gone(&mut self, client: u64) -> Vec<Action> {
        self.s.handle_client_gone(self.now, ClientId(client));
        self.drain()
    }

    pub fn up(&mut self, place: PlaceId) -> Vec<Action> {
        self.s.handle_psyc_up(self.now, place);
        self.drain()
    }

    pub fn down(&mut self, place: PlaceId) -> Vec<Action> {
        self.s.handle_psyc_down(self.now, place);
        self.drain()
    }

    pub fn psyc(&mut self, place: PlaceId, reply: psyc::msg::Reply) -> Vec<Action> {
        self.s.handle_psyc(self.now, place, reply);
        self.drain()
    }

    /// APP_CONNECT of app `app`.
    pub fn app_connect(&mut self, client: u64, app: &str) -> Vec<Action> {
        self.client(
            client,
            Request::AppConnect(AppConnect {
                app_id: app.as_bytes().to_vec(),
            }),
        )
    }

    /// A new place hosted by ego 1 for app [`APP`], its master started by the fake psyc
    /// with `max_message_id`; the place's id. The client got its ACK.
    pub fn hosted(&mut self, client: u64, max_message_id: u64) -> PlaceId {
        let actions = self.client(
            client,
            Request::HostEnter(host_enter(eddsa::PublicKey([0; 32]))),
        );
        let id = actions
            .iter()
            .find_map(|a| match a {
                Action::OpenPsyc { place } => Some(*place),
                _ => None,
            })
            .expect("OpenPsyc");
        self.up(id);
        let acks = self.psyc(id, master_start_ack(1, max_message_id));
        assert!(replies(&acks, client)
            .iter()
            .any(|r| matches!(r, Reply::HostEnterAck(a) if a.result_code == 1)));
        id
    }

    /// Guest ego 2 enters place `place` (origin [`PEER`]); the slave joins and is admitted
    /// by the fake psyc. The place's id.
    pub fn admitted(&mut self, client: u64, place: eddsa::PublicKey) -> PlaceId {
        let id = PlaceId::Guest(place, ego(2));
        self.client(client, Request::GuestEnter(guest_enter(place, PEER)));
        self.up(id);
        self.psyc(id, slave_join_ack(1, 0));
        let got = self.psyc(id, decision(1));
        assert!(replies(&got, client)
            .iter()
            .any(|r| matches!(r, Reply::JoinDecision(d) if d.is_admitted == 1)));
        id
    }
}

/// HOST_ENTER by ego 1 for app [`APP`] with policy PRIVATE (3).
pub(super) fn host_enter(place: eddsa::PublicKey) -> HostEnter {
    HostEnter {
        policy: psyc::msg::policy::PRIVATE,
        ego_pub_key: ego(1),
        place_pub_key: place,
        place_key: eddsa::PrivateKey([0; 32]),
        app_id: APP.as_bytes().to_vec(),
    }
}

/// GUEST_ENTER by ego 2 for app [`APP`] with the acceptance test's join message.
pub(super) fn guest_enter(place: eddsa::PublicKey, origin: PeerIdentity) -> GuestEnter {
    GuestEnter {
        ego_pub_key: ego(2),
        place_pub_key: place,
        origin,
        flags: 0,
        app_id: APP.as_bytes().to_vec(),
        relays: vec![],
        join_msg: Some(join_msg()),
    }
}

/// The acceptance test's join message: `_request_enter`, two modifiers, "let me in".
pub(super) fn join_msg() -> Vec<u8> {
    let parts = [
        method(0, "_request_enter"),
        modifier(b'=', "_abc", b"abc def"),
        modifier(b'=', "_abc_def", b"abc def ghi"),
        data(b"let me in\0"),
        end(),
    ]
    .concat();
    gnunet_service::wire::Message::to_message(&ClientMessage { parts })
}

pub(super) fn method(flags: u32, name: &str) -> Vec<u8> {
    let mut p = Vec::new();
    Part::Method(MethodPart {
        flags,
        state_delta: 0,
        name: Cow::Borrowed(name.as_bytes()),
    })
    .emit(&mut p);
    p
}

pub(super) fn modifier(oper: u8, name: &str, value: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    Part::Modifier(ModifierPart {
        value_size: value.len() as u32,
        oper,
        name: Cow::Borrowed(name.as_bytes()),
        value: Cow::Borrowed(value),
    })
    .emit(&mut p);
    p
}

pub(super) fn data(d: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    Part::Data(Cow::Borrowed(d)).emit(&mut p);
    p
}

pub(super) fn end() -> Vec<u8> {
    let mut p = Vec::new();
    Part::End.emit(&mut p);
    p
}

pub(super) fn cancel() -> Vec<u8> {
    let mut p = Vec::new();
    Part::Cancel.emit(&mut p);
    p
}

/// A client container.
pub(super) fn msg(parts: Vec<u8>) -> Request {
    Request::Message(ClientMessage { parts })
}

/// A delivery from psyc.
pub(super) fn delivery(flags: u32, message_id: u64, slave: [u8; 32], parts: Vec<u8>) -> Delivery {
    Delivery {
        header: DeliveryHeader {
            flags,
            message_id,
            fragment_offset: 0,
            slave_pub_key: slave,
        },
        parts,
    }
}

pub(super) fn master_start_ack(result_code: i32, max_message_id: u64) -> psyc::msg::Reply {
    psyc::msg::Reply::MasterStartAck(psyc::msg::MasterStartAck {
        result_code,
        max_message_id,
    })
}

pub(super) fn slave_join_ack(result_code: i32, max_message_id: u64) -> psyc::msg::Reply {
    psyc::msg::Reply::SlaveJoinAck(psyc::msg::SlaveJoinAck {
        result_code,
        max_message_id,
    })
}

/// The decision psyc gives a slave (zero slave key), with a response.
pub(super) fn decision(is_admitted: i32) -> psyc::msg::Reply {
    psyc::msg::Reply::JoinDecision(JoinDecision {
        response: Some(gnunet_service::wire::Message::to_message(&ClientMessage {
            parts: [method(0, "_notice_place_admit"), end()].concat(),
        })),
        ..JoinDecision::new(is_admitted, ecdsa::PublicKey([0; 32]))
    })
}

pub(super) fn part_ack() -> psyc::msg::Reply {
    psyc::msg::Reply::PartAck(psyc::msg::PartAck)
}

pub(super) fn message_ack() -> psyc::msg::Reply {
    psyc::msg::Reply::MessageAck(psyc::msg::MessageAck)
}

/// What `client` was sent, in order.
pub(super) fn replies(actions: &[Action], client: u64) -> Vec<Reply> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendClient { client: c, reply } if *c == ClientId(client) => {
                Some(reply.clone())
            }
            _ => None,
        })
        .collect()
}

/// What went to psyc on `place`'s connection, in order.
pub(super) fn to_psyc(actions: &[Action], place: PlaceId) -> Vec<psyc::msg::Request> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Psyc { place: p, msg } if *p == place => Some(msg.clone()),
            _ => None,
        })
        .collect()
}

/// The containers that went to psyc on `place`'s connection.
pub(super) fn containers(actions: &[Action], place: PlaceId) -> Vec<Vec<u8>> {
    to_psyc(actions, place)
        .into_iter()
        .filter_map(|m| match m {
            psyc::msg::Request::Message(m) => Some(m.parts),
            _ => None,
        })
        .collect()
}

/// The store operations, in order.
pub(super) fn stores(actions: &[Action]) -> Vec<StoreOp> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Store(op) => Some(op.clone()),
            _ => None,
        })
        .collect()
}

/// The reason `client` was dropped for, if it was.
pub(super) fn dropped(actions: &[Action], client: u64) -> Option<String> {
    actions.iter().find_map(|a| match a {
        Action::DropClient { client: c, reason } if *c == ClientId(client) => Some(reason.clone()),
        _ => None,
    })
}

/// RESULT_CODEs `client` got: (op id, result, text).
pub(super) fn results(actions: &[Action], client: u64) -> Vec<(u64, i64, String)> {
    replies(actions, client)
        .into_iter()
        .filter_map(|r| match r {
            Reply::ResultCode(r) => Some((
                r.op_id,
                r.result_code,
                String::from_utf8_lossy(&r.data).into_owned(),
            )),
            _ => None,
        })
        .collect()
}
