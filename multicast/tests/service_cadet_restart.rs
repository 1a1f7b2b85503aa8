//! `gnunet-service-multicast` when the peer's C cadet service dies under it: the runtime's
//! link reconnects (ARM starts cadet again on the connect) and re-opens the group's port first
//! thing, so a join request arriving over a new channel reaches the origin. (The join comes
//! over a loopback channel of peer 0: how fast the other peer's cadet rebuilds its tunnel to a
//! restarted cadet is the C service's business, not ours.)

mod common;

use std::time::{Duration, Instant};

use common::*;
use gnunet_service::cadet::CadetClient;
use gnunet_service::wire::Message;
use multicast::crypto::{GnunetCrypto, GroupCrypto};
use multicast::msg::JoinRequest;
use multicast::port::port_of_group;
use testnet::{Testnet, Topology};

/// Pids of peer `k`'s processes whose command line names `program`.
fn pids_of(net: &Testnet, k: usize, program: &str) -> Vec<u32> {
    net.peer(k)
        .service_pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(program))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn a_group_outlives_a_restart_of_cadet() {
    let net = start_net(2, Topology::Line, &[]);
    let gkey = group_key();
    let group = gkey.public_key();
    let mut origin = origin(&net, 0, &gkey);
    let mut first = join(
        &net,
        1,
        group,
        peer_id(&net, 0),
        &member_key(),
        vec![],
        None,
    );
    admit(&mut origin, &mut first, vec![]);

    let cadet = pids_of(&net, 0, "gnunet-service-cadet");
    assert_eq!(cadet.len(), 1, "one cadet on peer 0: {cadet:?}");
    let killed = std::process::Command::new("kill")
        .args(["-9", &cadet[0].to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_log(&net, 0, "link lost; reconnecting");
    let deadline = Instant::now() + T;
    while pids_of(&net, 0, "gnunet-service-cadet") == cadet {
        assert!(
            Instant::now() < deadline,
            "cadet on peer 0 was not restarted"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The origin's port is open at the new cadet: a join over a new channel reaches it.
    let mut raw = CadetClient::connect_path(&net.peer(0).service_socket("cadet")).unwrap();
    let ccn = raw
        .create_channel(peer_id(&net, 0), port_of_group(&group))
        .unwrap();
    raw.wait_ready(ccn, T).unwrap();
    let newcomer = member_key();
    let mut j = JoinRequest::unsigned(group, newcomer.public_key(), peer_id(&net, 0), None);
    GnunetCrypto.sign_join(&newcomer, &mut j);
    raw.send(ccn, &j.to_message(), T).unwrap();
    let got = next_join_request(&mut origin);
    assert_eq!(got.member_pub_key, newcomer.public_key());
    assert_eq!(
        pids_of(&net, 0, "gnunet-service-multicast").len(),
        1,
        "the multicast service itself kept running"
    );
}
