//! First light of `gnunet-service-social` on one real peer, driven by `gnunet-social`.

mod common;

use common::*;
use testnet::Topology;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn status_and_host_enter_through_the_cli() {
    let net = start_net(1, Topology::Line, &[]);
    let p = net.peer(0);
    create_ego(p, "alice");
    let out = cli(p, &["--status"]);
    assert!(
        out.status.success(),
        "status: {}\n{}\nlog:\n{}",
        text(&out.stdout),
        text(&out.stderr),
        social_log(p)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\talice"), "{stdout}");
    let out = cli(p, &["--host-enter", "--ego", "alice"]);
    assert!(
        out.status.success(),
        "host enter: {}\n{}\nlog:\n{}",
        text(&out.stdout),
        text(&out.stderr),
        social_log(p)
    );
    let out = cli(p, &["--status"]);
    assert!(
        text(&out.stdout).contains("Host\t"),
        "{}",
        text(&out.stdout)
    );
}
