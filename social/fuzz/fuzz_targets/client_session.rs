//! The social client sessions on arbitrary service input: an application connection and a
//! host and a guest place connection — each with operations open, a message going out, and
//! (places) leaving begun — take a sequence of messages cut from the input (types forced into
//! the ranges the social socket carries, op ids steered at the open operations) and never
//! panic; what they write stays valid client messages.
#![no_main]

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use libfuzzer_sys::fuzz_target;
use psyc::format::env::Environment;
use social::client::{AppSession, ChannelSession, PlaceSession};
use social::msg::Request;

const EGO: ecdsa::PublicKey = ecdsa::PublicKey([1; 32]);
const PLACE: eddsa::PublicKey = eddsa::PublicKey([2; 32]);

fn places() -> [PlaceSession; 2] {
    let mut host = PlaceSession::host_enter("fuzz", EGO, 3).expect("a short app id");
    let mut guest =
        PlaceSession::guest_enter("fuzz", EGO, PLACE, PeerIdentity([3; 32]), vec![], None)
            .expect("a bare GUEST_ENTER fits");
    for s in [&mut host, &mut guest] {
        s.connected();
        let _ = s.history_latest(3, "");
        let _ = s.look_for("_");
        let _ = s
            .channel_mut()
            .transmit("_notice", 0, Environment::new(), vec![9; 70_000]);
    }
    [host, guest]
}

fuzz_target!(|data: &[u8]| {
    let mut app = AppSession::new("fuzz").expect("a short app id");
    app.connected();
    let _ = app.detach(EGO, PLACE);
    let mut places = places();
    // Each message: 1 byte type, 1 byte op id, 2 bytes body length, then the body.
    let mut rest = data;
    let mut round = 0u32;
    while let [t, op, l0, l1, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*l0, *l1]))
            .min(tail.len())
            .min(65_000);
        let (body, next) = tail.split_at(len);
        rest = next;
        let msg_type = if t % 2 == 0 {
            680 + u16::from(t / 2 % 26)
        } else {
            840 + u16::from(t / 2 % 20)
        };
        let mut m = ((len + 4) as u16).to_be_bytes().to_vec();
        m.extend_from_slice(&msg_type.to_be_bytes());
        m.extend_from_slice(body);
        if m.len() >= 16 && *op < 8 {
            m[8..16].copy_from_slice(&u64::from(*op).to_be_bytes());
        }
        let _ = app.handle_message(&m);
        while app.poll_event().is_some() {}
        while let Some(out) = app.poll_transmit() {
            assert!(Request::decode(&out).is_ok());
        }
        for s in &mut places {
            let _ = s.handle_message(&m);
            if round == 2 {
                let _ = s.leave(Environment::new());
            }
            while s.poll_event().is_some() {}
            while let Some(out) = s.poll_transmit() {
                assert!(Request::decode(&out).is_ok());
            }
        }
        round += 1;
    }
    app.disconnected();
    app.connected();
    while let Some(out) = app.poll_transmit() {
        assert!(Request::decode(&out).is_ok());
    }
    for s in &mut places {
        s.disconnected();
        s.connected();
        while let Some(out) = s.poll_transmit() {
            assert!(Request::decode(&out).is_ok());
        }
    }
});
