//! Shared by the real-peer tests of `gnunet-service-social`: peers with this workspace's
//! social, psyc, multicast and psycstore services registered (ARM starts them on demand) and
//! GNUnet's own gns, namestore and zonemaster running, egos made with IDENTITY, and the
//! `gnunet-social` binary run against a peer.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use gnunet_service::config::Config;
use gnunet_service::crypto::identity_key::KeyType;
use gnunet_service::identity::IdentityClient;
use testnet::{
    build_workspace_bins, repo_conf_file, Peer, ServiceConf, Testnet, TestnetBuilder, Topology,
};

/// Patience for anything that crosses the services (and CADET).
pub const T: Duration = Duration::from_secs(30);

/// `n` peers with this build's social, psyc, multicast and psycstore services registered,
/// and gns and zonemaster started with the peer (enter-by-name needs them).
pub fn start_net(n: usize, topology: Topology, extra: &[(&str, &str)]) -> Testnet {
    start_net_with(n, topology, extra, |b| b)
}

/// [`start_net`] with more settings of the builder (`configure`), e.g. the privacy level.
pub fn start_net_with(
    n: usize,
    topology: Topology,
    extra: &[(&str, &str)],
    configure: impl FnOnce(TestnetBuilder) -> TestnetBuilder,
) -> Testnet {
    let mut social = ServiceConf::from_file(
        &repo_conf_file("social"),
        env!("CARGO_BIN_EXE_gnunet-service-social"),
    )
    .expect("conf/social.conf");
    for (k, v) in extra {
        social.service = social.service.option(*k, *v);
    }
    let builder = Testnet::builder()
        .peers(n)
        .topology(topology)
        .lean(false)
        .service_conf(social)
        .service_conf(workspace_service("psyc"))
        .service_conf(workspace_service("multicast"))
        .service_conf(workspace_service("psycstore"));
    configure(builder).start().expect("peers up")
}

/// `conf/NAME.conf` pointing at the workspace binary of service `name`, brought up to date
/// first ([`build_workspace_bins`]).
fn workspace_service(name: &str) -> ServiceConf {
    build_workspace_bins(&["psyc", "multicast", "psycstore"]);
    ServiceConf::workspace(name).unwrap_or_else(|e| panic!("conf/{name}.conf: {e}"))
}

/// The peer's configuration, as clients read it.
pub fn config(peer: &Peer) -> Config {
    Config::load(Some(peer.config_path())).expect("peer config")
}

/// Creates an ECDSA ego `name` on `peer`.
pub fn create_ego(peer: &Peer, name: &str) -> gnunet_service::identity::Ego {
    let mut id = IdentityClient::connect(&config(peer)).expect("identity");
    id.create(name, KeyType::Ecdsa).expect("create ego")
}

/// The `gnunet-social` binary of this build.
pub fn cli_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gnunet-social"))
}

/// Runs `gnunet-social -c <peer config> ARGS` (the tool ends itself: 30 s timeout).
pub fn cli(peer: &Peer, args: &[&str]) -> Output {
    let mut cmd = Command::new(cli_path());
    cmd.arg("-c").arg(peer.config_path()).args(args);
    cmd.output().expect("run gnunet-social")
}

/// The tail of the social service's log on `peer`, for failure messages.
pub fn social_log(peer: &Peer) -> String {
    std::fs::read_to_string(peer.log_path("social"))
        .map(|t| {
            t.lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}
