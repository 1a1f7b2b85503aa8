//! The shipped ARM sections in conf/ parse with GNUnet's own reader and name our binaries.

use std::process::Command;

use testnet::repo_conf_file;

fn gnunet_config(file: &std::path::Path, section: &str, key: &str, expand: bool) -> String {
    let mut cmd = Command::new("gnunet-config");
    cmd.arg("-c").arg(file).args(["-s", section, "-o", key]);
    if expand {
        cmd.arg("-f");
    }
    let out = cmd.output().expect("gnunet-config runs");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn each_conf_names_its_binary_and_socket() {
    for (name, runtime_var) in [
        ("multicast", "GNUNET_RUNTIME_DIR"),
        ("psyc", "GNUNET_RUNTIME_DIR"),
        ("psycstore", "GNUNET_RUNTIME_DIR"),
        ("social", "GNUNET_USER_RUNTIME_DIR"),
    ] {
        let file = repo_conf_file(name);
        assert!(file.is_file(), "{}", file.display());
        assert_eq!(
            gnunet_config(&file, name, "BINARY", false),
            format!("gnunet-service-{name}")
        );
        assert_eq!(
            gnunet_config(&file, name, "UNIXPATH", false),
            format!("${runtime_var}/gnunet-service-{name}.sock")
        );
        assert_eq!(gnunet_config(&file, name, "START_ON_DEMAND", false), "YES");
        // No TCP IPC on Linux (the C build comments PORT out there).
        let port = Command::new("gnunet-config")
            .arg("-c")
            .arg(&file)
            .args(["-s", name, "-o", "PORT"])
            .output()
            .expect("gnunet-config runs");
        assert!(
            String::from_utf8_lossy(&port.stdout).trim().is_empty(),
            "{name} has a PORT"
        );
    }
}

#[test]
fn service_specific_keys() {
    let social = repo_conf_file("social");
    assert_eq!(
        gnunet_config(&social, "social", "RUN_PER_USER", false),
        "YES"
    );
    assert_eq!(
        gnunet_config(&social, "social", "DATA_HOME", false),
        "$GNUNET_DATA_HOME/social"
    );
    let psycstore = repo_conf_file("psycstore");
    assert_eq!(
        gnunet_config(&psycstore, "psycstore", "DATABASE", false),
        "sqlite"
    );
    assert_eq!(
        gnunet_config(&psycstore, "psycstore-sqlite", "FILENAME", false),
        "$GNUNET_DATA_HOME/psycstore/sqlite.db"
    );
}
