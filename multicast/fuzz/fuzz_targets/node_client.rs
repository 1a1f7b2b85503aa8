//! Arbitrary client messages from three clients, decoded as the service's driver decodes
//! them and fed to the group logic when they decode: neither panics.
#![no_main]

use std::time::Instant;

use gnunet_service::peer::PeerIdentity;
use libfuzzer_sys::fuzz_target;
use multicast::crypto::GnunetCrypto;
use multicast::group::{ClientId, ClientMessage, Config, Node};
use rand_core::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut node = Node::new(
        PeerIdentity([1; 32]),
        Config::default(),
        GnunetCrypto,
        rand_chacha::ChaCha8Rng::seed_from_u64(0),
    );
    let mut rest = data;
    while rest.len() >= 5 {
        let client = ClientId(u64::from(rest[0] % 3));
        rest = &rest[1..];
        let size = (u16::from_be_bytes([rest[0], rest[1]]) as usize).clamp(4, rest.len());
        let (m, r) = rest.split_at(size);
        // The driver drops a client whose message does not decode; the fuzzer's clients go on.
        if let Ok(m) = ClientMessage::decode(m) {
            node.handle_client_message(now, client, m);
        }
        node.drain_actions();
        rest = r;
    }
});
