//! Arbitrary peer-to-peer messages on a child and a parent channel, decoded as the service's
//! driver decodes them and fed to the group logic when they decode: neither panics.
#![no_main]

use std::time::Instant;

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use libfuzzer_sys::fuzz_target;
use multicast::crypto::GnunetCrypto;
use multicast::group::{ClientId, ClientMessage, Config, Node, PeerMessage};
use multicast::msg::{MemberJoin, OriginStart};
use multicast::port::port_of_group;
use rand_core::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut node = Node::new(
        PeerIdentity([1; 32]),
        Config::default(),
        GnunetCrypto,
        rand_chacha::ChaCha8Rng::seed_from_u64(0),
    );
    let group = eddsa::PrivateKey([2; 32]);
    node.handle_client_message(
        now,
        ClientId(1),
        ClientMessage::OriginStart(OriginStart {
            group_key: group.clone(),
            max_fragment_id: 0,
        }),
    );
    let other = eddsa::PrivateKey([3; 32]).public_key();
    node.handle_client_message(
        now,
        ClientId(2),
        ClientMessage::MemberJoin(MemberJoin {
            group_pub_key: other,
            member_key: ecdsa::PrivateKey::clamped([4; 32]),
            origin: PeerIdentity([5; 32]),
            relays: vec![],
            join_msg: None,
        }),
    );
    let child = node.handle_incoming_channel(
        now,
        PeerIdentity([6; 32]),
        port_of_group(&group.public_key()),
    );
    let up = node.drain_actions().into_iter().find_map(|a| match a {
        multicast::group::Action::OpenChannel { channel, .. } => Some(channel),
        _ => None,
    });
    // Split the input into messages by their own size fields.
    let mut rest = data;
    let mut i = 0;
    while rest.len() >= 4 {
        let size = (u16::from_be_bytes([rest[0], rest[1]]) as usize).clamp(4, rest.len());
        let (m, r) = rest.split_at(size);
        let ch = if i % 2 == 0 { Some(child) } else { up };
        if let Some(ch) = ch {
            // The driver closes a channel whose message does not decode; here it stays open.
            if let Ok(m) = PeerMessage::decode(m) {
                node.handle_channel_message(now, ch, m);
            }
        }
        node.drain_actions();
        rest = r;
        i += 1;
    }
});
