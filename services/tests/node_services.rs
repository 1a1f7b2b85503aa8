//! Our runtime against the C services of one real GNUnet 0.19.3 peer: own identity (host key and
//! CORE) equals `gnunet-peerinfo -s`, egos of both key types through IDENTITY, and values through
//! STATISTICS, each cross-checked with GNUnet's own command-line tools.

use std::time::Duration;

use gnunet_service::config::Config;
use gnunet_service::core;
use gnunet_service::crypto::identity_key::KeyType;
use gnunet_service::identity::IdentityClient;
use gnunet_service::peer::PeerIdentity;
use gnunet_service::statistics::StatisticsClient;
use testnet::{Peer, Testnet, Topology};

fn tool_output(peer: &Peer, program: &str, args: &[&str]) -> String {
    let out = peer
        .command(program)
        .args(args)
        .output()
        .expect("tool runs");
    assert!(out.status.success(), "{program} {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn runtime_against_the_c_services_of_one_peer() {
    let net = Testnet::builder()
        .peers(1)
        .topology(Topology::Line)
        .start()
        .expect("one peer");
    let peer = net.peer(0);
    let config = Config::load(Some(peer.config_path())).expect("peer config loads");

    own_identity_matches_gnunet(peer, &config);
    egos_of_both_key_types(peer, &config);
    statistics_set_and_update(peer, &config);
}

fn own_identity_matches_gnunet(peer: &Peer, config: &Config) {
    let printed = tool_output(peer, "gnunet-peerinfo", &["-s", "-q"]);
    let printed = printed.trim();
    let key_file = config
        .get_filename("PEER", "PRIVATE_KEY")
        .expect("[PEER] PRIVATE_KEY");
    let from_file = PeerIdentity::from_private_key_file(&key_file).expect("host key readable");
    assert_eq!(from_file.to_string(), printed);
    let from_core = core::own_identity(config, Duration::from_secs(20)).expect("CORE answers");
    assert_eq!(from_core, from_file);
    assert_eq!(printed.parse::<PeerIdentity>().unwrap(), from_file);
}

fn egos_of_both_key_types(peer: &Peer, config: &Config) {
    let mut c = IdentityClient::connect(config).expect("identity");
    let alice = c.create("Alice", KeyType::Ecdsa).expect("create ECDSA ego");
    let bob = c.create("bob", KeyType::Eddsa).expect("create EdDSA ego");
    assert_eq!(alice.name, "alice");
    // An ego made by GNUnet's own tool is visible to us.
    tool_output(peer, "gnunet-identity", &["-C", "carol"]);
    let listed = tool_output(peer, "gnunet-identity", &["-d"]);
    for ego in [&alice, &bob] {
        let line = listed
            .lines()
            .find(|l| l.starts_with(&format!("{} ", ego.name)))
            .unwrap_or_else(|| panic!("gnunet-identity -d lacks {}: {listed}", ego.name));
        let key = ego.key.public_key().to_string();
        assert!(line.contains(&key), "{line:?} should show {key}");
    }
    let found = c.lookup("ALICE").unwrap().expect("alice by name");
    assert_eq!(found.key.public_key(), alice.key.public_key());
    assert!(c.lookup("nobody").unwrap().is_none());
    let all = IdentityClient::connect(config).unwrap().list().unwrap();
    let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
    for n in ["alice", "bob", "carol"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let carol = all.iter().find(|e| e.name == "carol").unwrap();
    assert_eq!(carol.key.key_type(), KeyType::Ecdsa);
    assert_eq!(bob.key.key_type(), KeyType::Eddsa);
}

fn statistics_set_and_update(peer: &Peer, config: &Config) {
    let mut s = StatisticsClient::connect(config).expect("statistics");
    s.set("secushare-test", "# absolute", 40).unwrap();
    s.update("secushare-test", "# absolute", 2).unwrap();
    s.update("secushare-test", "# absolute", -5).unwrap();
    s.update("secushare-test", "# floor", -5).unwrap();
    let values = s.get("secushare-test", "").unwrap();
    let value = |n: &str| values.iter().find(|v| v.name == n).map(|v| v.value);
    assert_eq!(value("# absolute"), Some(37));
    assert_eq!(value("# floor"), Some(0));
    let shown = tool_output(peer, "gnunet-statistics", &["-s", "secushare-test"]);
    let line = shown
        .lines()
        .find(|l| l.contains("# absolute"))
        .unwrap_or_else(|| panic!("gnunet-statistics lacks the value: {shown}"));
    assert!(line.trim_end().ends_with("37"), "{line:?}");
}
