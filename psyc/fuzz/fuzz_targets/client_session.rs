//! The psyc client session on arbitrary service input: a master and a slave, each with open
//! history and state operations and a transmission under way, take a sequence of messages cut
//! from the input (types forced into the psyc range, op ids steered at the open operations)
//! and never panic; what they write stays valid client messages.
#![no_main]

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use libfuzzer_sys::fuzz_target;
use psyc::client::Session;
use psyc::format::env::Environment;
use psyc::msg::Request;

fn sessions() -> [Session; 2] {
    let mut master = Session::master(eddsa::PrivateKey([1; 32]), 3);
    let mut slave = Session::slave(
        eddsa::PublicKey([2; 32]),
        ecdsa::PrivateKey([3; 32]),
        PeerIdentity([4; 32]),
        vec![],
        0,
        None,
    )
    .expect("a bare SLAVE_JOIN fits");
    for s in [&mut master, &mut slave] {
        s.connected();
        let _ = s.history_latest(3, "", 0);
        let _ = s.state_get_prefix("_");
        let _ = s.transmit("_notice", 0, Environment::new(), vec![9; 70_000]);
    }
    [master, slave]
}

fuzz_target!(|data: &[u8]| {
    let mut sessions = sessions();
    // Each message: 1 byte type offset, 1 byte op id, 2 bytes body length, then the body.
    let mut rest = data;
    while let [t, op, l0, l1, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*l0, *l1])).min(tail.len()).min(65_000);
        let (body, next) = tail.split_at(len);
        rest = next;
        let mut m = ((len + 4) as u16).to_be_bytes().to_vec();
        m.extend_from_slice(&(680 + u16::from(*t % 26)).to_be_bytes());
        m.extend_from_slice(body);
        if m.len() >= 16 && *op < 8 {
            m[8..16].copy_from_slice(&u64::from(*op).to_be_bytes());
        }
        for s in &mut sessions {
            let _ = s.handle_message(&m);
            while s.poll_event().is_some() {}
            while let Some(out) = s.poll_transmit() {
                assert!(Request::decode(&out).is_ok());
            }
        }
    }
    for s in &mut sessions {
        s.disconnected();
        s.connected();
        while let Some(out) = s.poll_transmit() {
            assert!(Request::decode(&out).is_ok());
        }
    }
});
