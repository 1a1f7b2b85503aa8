//! The blocking client's session against the real service: an origin whose connection ends
//! comes back with its fragment count, so the ids its members see go on instead of repeating.

mod common;

use std::time::Duration;

use common::*;
use gnunet_service::config::Config;
use testnet::Topology;

#[test]
fn origin_reconnects_with_its_fragment_count() {
    let net = start_net(1, Topology::Line, &[]);
    let me = peer_id(&net, 0);
    let gkey = group_key();
    let mut o = origin(&net, 0, &gkey);
    let mk = member_key();
    let mut m = join(&net, 0, gkey.public_key(), me, &mk, vec![], None);
    admit(&mut o, &mut m, vec![]);
    for (id, body) in [(1, b"one"), (2, b"two")] {
        o.transmit(id, 0, body, T).unwrap();
        let f = next_fragment(&mut m, T);
        assert_eq!((f.fragment_id, &f.payload[..]), (id, &body[..]));
    }
    assert_eq!(o.session().max_fragment_id(), Some(2));

    // The origin's only connection ends: the service forgets the origin (the group stays, for
    // its member). The new connection's ORIGIN_START carries the count.
    o.disconnect();
    std::thread::sleep(Duration::from_secs(1));
    let cfg = Config::load(Some(net.peer(0).config_path())).unwrap();
    o.reconnect(&cfg, T).unwrap();
    let echo = fragments(o.transmit(3, 0, b"three", T).unwrap());
    assert_eq!(echo.iter().map(|f| f.fragment_id).collect::<Vec<_>>(), [3]);
    let f = next_fragment(&mut m, T);
    assert_eq!((f.fragment_id, &f.payload[..]), (3, &b"three"[..]));
    part(m);
    part(o);
}
