//! Running GNUnet tools with a time limit, and finding a peer's processes in /proc.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::TestnetError;

/// What a finished tool printed.
#[derive(Debug)]
pub(crate) struct ToolOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl ToolOutput {
    /// Fails with the printed output unless the tool exited 0.
    pub fn check(self, command: &str) -> Result<ToolOutput, TestnetError> {
        if self.status.success() {
            Ok(self)
        } else {
            Err(TestnetError::Command {
                command: command.to_owned(),
                status: self.status.to_string(),
                output: format!("{}{}", self.stdout, self.stderr),
            })
        }
    }
}

/// Renders a command for messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` to completion, killing it after `limit`.
///
/// Output goes to unnamed temporary files, not pipes: `gnunet-arm -s` leaves a daemon behind
/// that may inherit the descriptors, and a pipe would then never reach EOF.
pub(crate) fn run_bounded(mut cmd: Command, limit: Duration) -> Result<ToolOutput, TestnetError> {
    let text = describe(&cmd);
    let io = |what: &str, e| TestnetError::io(format!("{what} for `{text}`"), e);
    let mut out = tempfile::tempfile().map_err(|e| io("temp file", e))?;
    let mut err = tempfile::tempfile().map_err(|e| io("temp file", e))?;
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| io("dup", e))?)
        .stderr(err.try_clone().map_err(|e| io("dup", e))?);
    let mut child = cmd.spawn().map_err(|e| io("spawn", e))?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| io("wait", e))? {
            break status;
        }
        if started.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TestnetError::CommandTimeout {
                command: text,
                after: limit,
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    Ok(ToolOutput {
        status,
        stdout: read_back(&mut out).map_err(|e| io("read stdout", e))?,
        stderr: read_back(&mut err).map_err(|e| io("read stderr", e))?,
    })
}

fn read_back(f: &mut File) -> std::io::Result<String> {
    f.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Every process (other than this one) whose command line has `config` as one argument,
/// which is how ARM starts each service of a peer (`-c <config>`).
pub fn pids_naming(config: &Path) -> Vec<u32> {
    let own = std::process::id();
    let wanted = config.as_os_str().as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|cmdline| cmdline.split(|&b| b == 0).any(|arg| arg == wanted))
                .unwrap_or(false)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Sends `signal` to each pid, ignoring processes that are already gone.
pub(crate) fn signal_all(pids: &[u32], signal: Signal) {
    for &pid in pids {
        if let Ok(raw) = i32::try_from(pid) {
            let _ = kill(Pid::from_raw(raw), signal);
        }
    }
}

/// Waits until no process names `config` any more, or `limit` passes; returns the leftovers.
pub(crate) fn wait_gone(config: &Path, limit: Duration) -> Vec<u32> {
    let started = Instant::now();
    loop {
        let left = pids_naming(config);
        if left.is_empty() || started.elapsed() >= limit {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Last `lines` lines of a log file, or a note that it is missing.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}
