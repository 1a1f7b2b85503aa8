use std::path::Path;

use gnunet_service::crypto::eddsa;

use super::*;

/// The shipped `conf/NAME.conf`.
fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../conf")
        .join(format!("{name}.conf"))
}

/// A peer config in `dir` as an install would have it: GNUnet's defaults, the shipped
/// `social.conf` and `psyc.conf`, a host key, plus `extra`. Returns the file.
fn peer_config(dir: &Path, extra: &str) -> PathBuf {
    let key = dir.join("private_key.ecc");
    std::fs::write(&key, [7u8; 32]).unwrap();
    let d = dir.display();
    let text = format!(
        "@INLINE@ {}\n@INLINE@ {}\n\
         [PATHS]\nGNUNET_DATA_HOME = {d}/data/\nGNUNET_RUNTIME_DIR = {d}/run/\n\
         GNUNET_USER_RUNTIME_DIR = {d}/urun/\n\
         [PEER]\nPRIVATE_KEY = {}\n{extra}",
        shipped("social").display(),
        shipped("psyc").display(),
        key.display()
    );
    let file = dir.join("peer.conf");
    std::fs::write(&file, text).unwrap();
    file
}

fn read(dir: &Path, extra: &str) -> Result<ServiceConfig, ServiceError> {
    let cfg = Config::load(Some(&peer_config(dir, extra))).unwrap();
    ServiceConfig::from_config(&cfg)
}

/// `gnunet-config -f -s SECTION -o OPTION` on `file`: how GNUnet itself reads the value.
fn gnunet_config(file: &Path, section: &str, option: &str) -> PathBuf {
    let out = std::process::Command::new("gnunet-config")
        .arg("-c")
        .arg(file)
        .args(["-f", "-s", section, "-o", option])
        .output()
        .expect("gnunet-config runs");
    assert!(out.status.success(), "{out:?}");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim_end())
}

#[test]
fn the_shipped_conf_gives_data_home_sockets_and_this_peer() {
    let dir = tempfile::tempdir().unwrap();
    let c = read(dir.path(), "").unwrap();
    let file = dir.path().join("peer.conf");
    let data_home = c.data_home.clone().unwrap();
    assert_eq!(data_home, dir.path().join("data/social"));
    assert_eq!(data_home, gnunet_config(&file, "social", "DATA_HOME"));
    assert_eq!(
        gnunet_config(&file, "social", "UNIXPATH"),
        dir.path().join("urun/gnunet-service-social.sock")
    );
    assert_eq!(c.psyc_socket, gnunet_config(&file, "psyc", "UNIXPATH"));
    assert_eq!(
        c.identity_socket,
        gnunet_config(&file, "identity", "UNIXPATH")
    );
    assert_eq!(c.gns_socket, gnunet_config(&file, "gns", "UNIXPATH"));
    assert_eq!(
        c.namestore_socket,
        gnunet_config(&file, "namestore", "UNIXPATH")
    );
    assert_eq!(
        c.statistics_socket,
        Some(gnunet_config(&file, "statistics", "UNIXPATH"))
    );
    assert_eq!(
        c.me,
        PeerIdentity::from_private_key(&eddsa::PrivateKey::from_bytes([7; 32]))
    );
    assert_eq!(
        c.knobs,
        LogicKnobs::default(),
        "the shipped knobs are commented out"
    );
}

#[test]
fn knobs_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let c = read(
        dir.path(),
        "[social]\nRELAY = NO\nMAX_PLACES = 10\nMAX_CLIENTS_PER_PLACE = 2\n\
         MAX_PENDING_ENTRIES = 3\nTRANSMIT_QUEUE = 4\nTRANSMIT_QUEUE_SIZE = 1 MiB\n",
    )
    .unwrap();
    assert_eq!(
        c.knobs,
        LogicKnobs {
            relay: Some(false),
            max_places: Some(10),
            max_clients_per_place: Some(2),
            max_pending_entries: Some(3),
            max_transmit_entries: Some(4),
            max_transmit_bytes: Some(1 << 20),
        }
    );
    for bad in [
        "RELAY = maybe",
        "MAX_PLACES = 0",
        "MAX_PENDING_ENTRIES = many",
        "TRANSMIT_QUEUE = 0",
        "TRANSMIT_QUEUE_SIZE = 0 b",
        "TRANSMIT_QUEUE_SIZE = lots",
    ] {
        let err = read(dir.path(), &format!("[social]\n{bad}\n")).unwrap_err();
        assert!(matches!(err, ServiceError::BadValue { .. }), "{bad}: {err}");
    }
}

/// Only `text` and a host key: no GNUnet defaults.
fn bare(dir: &Path, text: &str) -> Config {
    let key = dir.join("k");
    std::fs::write(&key, [1u8; 32]).unwrap();
    let mut cfg = Config::with_install_paths();
    cfg.parse_str(
        &format!("[PEER]\nPRIVATE_KEY = {}\n{text}", key.display()),
        "t.conf",
    )
    .unwrap();
    cfg
}

const SOCKETS: [&str; 4] = ["psyc", "identity", "gns", "namestore"];

fn sockets_but(missing: &str) -> String {
    SOCKETS
        .iter()
        .filter(|s| **s != missing)
        .map(|s| format!("[{s}]\nUNIXPATH = /{s}.sock\n"))
        .collect()
}

#[test]
fn without_data_home_the_service_runs_without_persistence() {
    let dir = tempfile::tempdir().unwrap();
    let c = ServiceConfig::from_config(&bare(dir.path(), &sockets_but(""))).unwrap();
    assert_eq!(c.data_home, None);
    assert_eq!(c.statistics_socket, None);
    assert_eq!(c.gns_socket, PathBuf::from("/gns.sock"));
    // Empty would be the working directory for GNUnet; here it turns persistence off.
    let c = read(dir.path(), "[social]\nDATA_HOME =\n").unwrap();
    assert_eq!(c.data_home, None);
}

#[test]
fn a_missing_socket_refuses_start() {
    let dir = tempfile::tempdir().unwrap();
    for service in SOCKETS {
        let cfg = bare(dir.path(), &sockets_but(service));
        let err = ServiceConfig::from_config(&cfg).unwrap_err();
        assert!(
            matches!(err, ServiceError::NoSocket(s) if s == service),
            "{service}: {err}"
        );
    }
}
