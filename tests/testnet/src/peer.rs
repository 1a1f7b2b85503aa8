//! One running peer: its paths, identity and the GNUnet tools pointed at its config.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::procs::{self, run_bounded};
use crate::TestnetError;

/// Time limit for one GNUnet tool call (gnunet-arm -i/-k, gnunet-config, …).
pub(crate) const TOOL_TIMEOUT: Duration = Duration::from_secs(30);
/// How often [`Peer::wait_statistic`] asks.
const STATISTIC_POLL: Duration = Duration::from_millis(200);

/// A peer of a [`crate::Testnet`], living in `<testnet dir>/pK` (K = index + 1).
#[derive(Debug)]
pub struct Peer {
    pub(crate) index: usize,
    pub(crate) dir: PathBuf,
    pub(crate) config: PathBuf,
    pub(crate) port: u16,
    pub(crate) identity: String,
    pub(crate) identity_bytes: [u8; 32],
}

impl Peer {
    /// 0-based position in the test network.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The peer's config file; every GNUnet tool needs `-c` with it.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The peer's directory; everything it writes stays below.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The loopback TCP port of its transport.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Peer identity as printed by `gnunet-peerinfo -s -q` (52 characters of base32).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Peer identity as 32 bytes (the Ed25519 public key).
    pub fn identity_bytes(&self) -> [u8; 32] {
        self.identity_bytes
    }

    /// `$GNUNET_RUNTIME_DIR`: where system services' sockets live.
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// `$GNUNET_USER_RUNTIME_DIR`: where per-user services' sockets live (social, identity…).
    pub fn user_runtime_dir(&self) -> PathBuf {
        self.dir.join("urun")
    }

    /// `$GNUNET_DATA_HOME`: databases and the peer's private key.
    pub fn data_home(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// UNIX socket of `service`, as GNUnet itself resolves `[service] UNIXPATH`.
    ///
    /// Panics with the tool's message if the section has no UNIXPATH: asking for the socket of
    /// a service that has none is a mistake in the test itself.
    pub fn service_socket(&self, service: &str) -> PathBuf {
        match self.try_service_socket(service) {
            Ok(path) => path,
            Err(e) => panic!("p{}: no UNIXPATH for [{service}]: {e}", self.index + 1),
        }
    }

    /// Like [`Peer::service_socket`] but returns the error.
    pub fn try_service_socket(&self, service: &str) -> Result<PathBuf, TestnetError> {
        let value = self.config_value(service, "UNIXPATH", true)?;
        Ok(PathBuf::from(value))
    }

    /// A config value as the peer sees it (`gnunet-config -s section -o key`, `-f` expands
    /// `$VARIABLES` for file names).
    pub fn config_value(
        &self,
        section: &str,
        key: &str,
        filename: bool,
    ) -> Result<String, TestnetError> {
        let mut cmd = self.command("gnunet-config");
        cmd.args(["-s", section, "-o", key]);
        if filename {
            cmd.arg("-f");
        }
        let what = procs::describe(&cmd);
        let out = run_bounded(cmd, TOOL_TIMEOUT)?.check(&what)?;
        let value = out.stdout.trim().to_owned();
        if value.is_empty() {
            return Err(TestnetError::Command {
                command: what,
                status: "empty value".into(),
                output: out.stderr,
            });
        }
        Ok(value)
    }

    /// Log file of `service` (from `GLOBAL_POSTFIX -l`); `arm` gives ARM's own log.
    pub fn log_path(&self, service: &str) -> PathBuf {
        self.dir.join("log").join(format!("{service}.log"))
    }

    /// `program -c <peer config>`, ready for more arguments.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.arg("-c").arg(&self.config);
        cmd
    }

    /// Value of statistic `name` of `subsystem` (`gnunet-statistics -s SUBSYSTEM -n NAME -q`);
    /// `None` if the statistics service has no such value (or could not be asked).
    pub fn statistic(&self, subsystem: &str, name: &str) -> Option<u64> {
        let mut cmd = self.command("gnunet-statistics");
        cmd.args(["-s", subsystem, "-n", name, "-q"]);
        let out = run_bounded(cmd, TOOL_TIMEOUT).ok()?;
        out.stdout.split_whitespace().last()?.parse().ok()
    }

    /// Polls [`Peer::statistic`] until it is at least `min` (services send their statistics
    /// with some delay): `Ok` with the value, or `Err` with the last value seen (0 for none)
    /// once `timeout` has passed.
    pub fn wait_statistic(
        &self,
        subsystem: &str,
        name: &str,
        min: u64,
        timeout: Duration,
    ) -> Result<u64, u64> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.statistic(subsystem, name).unwrap_or(0);
            if value >= min {
                return Ok(value);
            }
            if Instant::now() >= deadline {
                return Err(value);
            }
            std::thread::sleep(STATISTIC_POLL);
        }
    }

    /// Starts `name` through ARM (`gnunet-arm -i`): it then runs until stopped.
    pub fn arm_start_service(&self, name: &str) -> Result<(), TestnetError> {
        self.arm(&["-i", name])
    }

    /// Stops `name` through ARM (`gnunet-arm -k`, SIGTERM to the service).
    pub fn arm_stop_service(&self, name: &str) -> Result<(), TestnetError> {
        self.arm(&["-k", name])
    }

    fn arm(&self, args: &[&str]) -> Result<(), TestnetError> {
        let mut cmd = self.command("gnunet-arm");
        cmd.args(args);
        let what = procs::describe(&cmd);
        run_bounded(cmd, TOOL_TIMEOUT)?.check(&what).map(drop)
    }

    /// Pids of every process whose command line names this peer's config (ARM and the
    /// services it started).
    pub fn service_pids(&self) -> Vec<u32> {
        procs::pids_naming(&self.config)
    }

    /// Short identities (first 4 characters) of the peers `gnunet-core` reports as connected.
    pub fn core_neighbours(&self) -> Result<Vec<String>, TestnetError> {
        let cmd = self.command("gnunet-core");
        let what = procs::describe(&cmd);
        let out = run_bounded(cmd, TOOL_TIMEOUT)?.check(&what)?;
        Ok(parse_core_view(&out.stdout))
    }

    /// Last `lines` lines of ARM's log, for error messages.
    pub fn arm_log_tail(&self, lines: usize) -> String {
        procs::log_tail(&self.log_path("arm"), lines)
    }
}

/// Extracts the short peer ids from `gnunet-core` output lines such as
/// `Tue Nov 24 16:25:42 2026: connection established         ZZ20 (timeout in  299 s)`.
pub(crate) fn parse_core_view(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.split_once("connection established"))
        .filter_map(|(_, rest)| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_view_lists_established_peers_only() {
        let text = "Tue Nov 24 16:25:42 2026: connection established         ZZ20 (timeout in  299 s)\n\
                    Tue Nov 24 16:25:43 2026: connection established         VQ85 (timeout in  300 s)\n\
                    something else\n";
        assert_eq!(parse_core_view(text), vec!["ZZ20", "VQ85"]);
        assert!(parse_core_view("").is_empty());
    }
}
