//! The per-peer configuration file (the recipe of `multipeer.sh`, spec §7.1).

use std::path::Path;

/// Sub-directories created in every peer directory.
pub(crate) const PEER_SUBDIRS: [&str; 7] = ["run", "urun", "data", "config", "cache", "tmp", "log"];

/// Services the harness keeps from starting at ARM start in lean mode. They (and what they
/// pull in: namestore, namecache, setu) still start on demand; this cuts a peer from 17 to 11
/// processes without slowing link set-up.
pub(crate) const LEAN_NOT_IMMEDIATE: [&str; 3] = ["gns", "zonemaster", "revocation"];

/// ATS network scopes whose bandwidth quotas the harness lifts.
pub(crate) const ATS_SCOPES: [&str; 6] =
    ["WAN", "LAN", "LOOPBACK", "UNSPECIFIED", "WLAN", "BLUETOOTH"];

/// Renders the config of the peer living in `dir` with its transport on `port`.
///
/// Everything a peer writes stays under `dir`; only 127.0.0.1 is used; the package's included
/// HELLOs, hostlist, fs and rest are off.
pub(crate) fn render(dir: &Path, port: u16, lean: bool) -> String {
    let d = dir.display();
    let mut text = format!(
        "\
[PATHS]
GNUNET_HOME = {d}
GNUNET_RUNTIME_DIR = {d}/run/
GNUNET_USER_RUNTIME_DIR = {d}/urun/
GNUNET_DATA_HOME = {d}/data/
GNUNET_CONFIG_HOME = {d}/config/
GNUNET_CACHE_HOME = {d}/cache/
GNUNET_TMP = {d}/tmp/

[arm]
OPTIONS = -l {d}/log/arm.log
GLOBAL_POSTFIX = -l {d}/log/{{}}.log

[transport]
PLUGINS = tcp

[transport-tcp]
PORT = {port}
ADVERTISED_PORT = {port}
BINDTO = 127.0.0.1

[nat]
BEHIND_NAT = NO
ENABLE_UPNP = NO
USE_LOCALADDR = YES
RETURN_LOCAL_ADDRESSES = YES
DISABLEV6 = YES
INTERNAL_ADDRESS = 127.0.0.1
EXTERNAL_ADDRESS = 127.0.0.1

[peerinfo]
USE_INCLUDED_HELLOS = NO
"
    );
    // GNUnet's default quotas hold a loopback link at ~1 MiB/s with a 5 s stall after every
    // ~5.5 MB burst; lifted, the same link carries ~9 MiB/s (measured with multipeer.sh).
    text.push_str("\n[ats]\n");
    for scope in ATS_SCOPES {
        text.push_str(&format!(
            "{scope}_QUOTA_IN = unlimited\n{scope}_QUOTA_OUT = unlimited\n"
        ));
    }
    // NSE searches its proof of work (WORKBITS 15) for hours, taking a whole core all the
    // while: on a 2-core machine that starves everything else. The harness's peers only talk
    // to each other, so they all agree on a proof that the first hash satisfies.
    text.push_str("\n[nse]\nWORKBITS = 0\n");
    for off in ["hostlist", "fs", "rest"] {
        text.push_str(&format!(
            "\n[{off}]\nIMMEDIATE_START = NO\nSTART_ON_DEMAND = NO\n"
        ));
    }
    if lean {
        for lazy in LEAN_NOT_IMMEDIATE {
            text.push_str(&format!("\n[{lazy}]\nIMMEDIATE_START = NO\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_the_peer_dir_and_port() {
        let text = render(Path::new("/tmp/snAB/p2"), 23456, true);
        assert!(text.contains("GNUNET_RUNTIME_DIR = /tmp/snAB/p2/run/\n"));
        assert!(text.contains("GLOBAL_POSTFIX = -l /tmp/snAB/p2/log/{}.log\n"));
        assert!(text.contains("PORT = 23456\nADVERTISED_PORT = 23456\n"));
        assert!(text.contains("[gns]\nIMMEDIATE_START = NO\n"));
        assert!(!render(Path::new("/x"), 1, false).contains("[gns]"));
        assert!(text.contains("LOOPBACK_QUOTA_IN = unlimited\n"));
        assert!(text.contains("[nse]\nWORKBITS = 0\n"));
    }
}
