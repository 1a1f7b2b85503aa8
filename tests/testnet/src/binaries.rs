//! Finding the workspace's service binaries from inside a test executable.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use crate::TestnetError;

/// Environment variable naming a directory searched first for service binaries.
pub const BIN_DIR_ENV: &str = "SECUSHARE_BIN_DIR";

/// Directories searched, in order: `$SECUSHARE_BIN_DIR`, then the test executable's directory
/// and its two parents (`target/debug/deps/x` → `target/debug/deps`, `target/debug`, `target`).
///
/// A relative `$SECUSHARE_BIN_DIR` is taken from the current directory and made absolute here:
/// the path ends up as `BINARY` in an ARM section, and ARM, which runs elsewhere, cannot start
/// a binary named by a relative path.
pub fn binary_search_dirs() -> Vec<PathBuf> {
    search_dirs(std::env::var_os(BIN_DIR_ENV))
}

fn search_dirs(bin_dir: Option<std::ffi::OsString>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = bin_dir {
        let dir = PathBuf::from(dir);
        dirs.push(std::path::absolute(&dir).unwrap_or(dir));
    }
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(PathBuf::from);
        for _ in 0..3 {
            let Some(d) = dir else { break };
            dir = d.parent().map(PathBuf::from);
            dirs.push(d);
        }
    }
    dirs
}

/// Absolute path of the workspace binary `name` (e.g. `gnunet-service-psycstore`).
pub fn try_service_binary(name: &str) -> Result<PathBuf, TestnetError> {
    let searched = binary_search_dirs();
    searched
        .iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| TestnetError::MissingBinary {
            name: name.to_owned(),
            searched,
        })
}

/// Like [`try_service_binary`], but panics with the search list: meant for test set-up, where
/// a missing binary means the test cannot run at all.
pub fn service_binary(name: &str) -> PathBuf {
    match try_service_binary(name) {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}

/// Brings the service binaries of workspace `packages` up to date (`cargo build -p … --bins`,
/// the test's own profile), once per package and test process, unless `$SECUSHARE_BIN_DIR`
/// names the binaries to use as they are.
///
/// Cargo builds only the tested crate's binaries for its tests; a test that also starts
/// another crate's service would otherwise run a stale binary from an earlier build and pass
/// or fail for the wrong code.
pub fn build_workspace_bins(packages: &[&str]) {
    static BUILT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    if std::env::var_os(BIN_DIR_ENV).is_some() {
        return;
    }
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !built.contains(*p))
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(env!("CARGO_MANIFEST_DIR")).arg("build");
    for p in &missing {
        cargo.args(["-p", p]);
    }
    cargo.arg("--bins");
    if !cfg!(debug_assertions) {
        cargo.arg("--release");
    }
    let status = cargo.status();
    assert!(
        status.as_ref().is_ok_and(|s| s.success()),
        "building the service binaries of {missing:?} failed: {status:?}"
    );
    built.extend(missing.iter().map(|p| p.to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_running_test_executable_and_reports_missing_ones() {
        let exe = std::env::current_exe().expect("current exe");
        let name = exe
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name");
        assert_eq!(try_service_binary(name).expect("found"), exe);
        match try_service_binary("gnunet-service-does-not-exist") {
            Err(TestnetError::MissingBinary { searched, .. }) => assert!(!searched.is_empty()),
            other => panic!("expected MissingBinary, got {other:?}"),
        }
    }

    #[test]
    fn a_relative_bin_dir_is_made_absolute() {
        let dirs = search_dirs(Some("target/release".into()));
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(dirs.first(), Some(&cwd.join("target/release")));
        assert!(dirs.iter().all(|d| d.is_absolute()));
    }
}
