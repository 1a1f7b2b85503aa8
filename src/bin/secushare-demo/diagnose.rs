//! What the demo says when a step goes wrong: which service on which peer did not answer (or
//! answered unexpectedly), the log file to look at and its last lines, and the other logs
//! that step depends on — not just "no reply".

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use testnet::Testnet;

use crate::shell::Ran;

/// Lines of the named log quoted in an error.
const TAIL_LINES: usize = 15;
/// Longest log line quoted (longer ones are cut).
const TAIL_LINE_CHARS: usize = 240;

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The peers did not come up.
    #[error("starting the peers failed: {0}")]
    Start(String),
    /// A local operation (pipe, process) failed.
    #[error("{0}")]
    Io(String),
    /// A service did not answer in time, or answered other than the demo expects.
    #[error("{0}")]
    Step(String),
}

/// One service's log on one peer.
#[derive(Debug, Clone)]
struct Log {
    service: &'static str,
    peer: usize,
    path: PathBuf,
}

/// The services a step depends on, the one most likely to blame first.
#[derive(Debug, Clone)]
pub struct Suspects {
    first: Log,
    others: Vec<Log>,
}

impl Suspects {
    /// `service` on peer `peer` (0-based) first.
    pub fn new(net: &Testnet, service: &'static str, peer: usize) -> Self {
        Self {
            first: log(net, service, peer),
            others: Vec::new(),
        }
    }

    /// Adds `service` on `peer` to the logs listed after the first.
    pub fn and(mut self, net: &Testnet, service: &'static str, peer: usize) -> Self {
        self.others.push(log(net, service, peer));
        self
    }

    /// `command` got no answer within `limit`.
    pub fn no_answer(&self, command: &str, limit: Duration) -> DemoError {
        DemoError::Step(format!(
            "`{command}`: {}",
            self.report(&format!("no answer from {}", self.whom()), limit)
        ))
    }

    /// The background `command` printed no line containing `text` within `limit`.
    pub fn no_line(&self, command: &str, text: &str, limit: Duration) -> DemoError {
        DemoError::Step(format!(
            "`{command}` printed no {text:?}: {}",
            self.report(&format!("no answer from {}", self.whom()), limit)
        ))
    }

    /// The background `command` ended before printing `text`.
    pub fn ended(&self, command: &str, text: &str, status: Option<ExitStatus>) -> DemoError {
        let status = status.map_or_else(|| "unknown status".into(), |s| s.to_string());
        DemoError::Step(format!(
            "`{command}` ended ({status}) before printing {text:?}; see {}{}",
            self.first.path.display(),
            self.details()
        ))
    }

    /// `command` ended, but not as the demo expects.
    pub fn failed(&self, command: &str, ran: &Ran) -> DemoError {
        DemoError::Step(format!(
            "`{command}` failed ({}); {} may say why: see {}{}",
            ran.status,
            self.whom(),
            self.first.path.display(),
            self.details()
        ))
    }

    /// A check of the demo's own (`what`) failed after `command`.
    pub fn unexpected(&self, what: &str) -> DemoError {
        DemoError::Step(format!(
            "{what}; see {}{}",
            self.first.path.display(),
            self.details()
        ))
    }

    fn whom(&self) -> String {
        format!("{} on peer {}", self.first.service, self.first.peer + 1)
    }

    fn report(&self, what: &str, limit: Duration) -> String {
        format!(
            "{what} within {} s; see {}{}",
            limit.as_secs(),
            self.first.path.display(),
            self.details()
        )
    }

    /// The tail of the first log and the paths of the others.
    fn details(&self) -> String {
        let mut text = format!("\nlast lines of {}:\n", self.first.path.display());
        text.push_str(&tail(&self.first.path));
        if !self.others.is_empty() {
            text.push_str("other logs of this step:");
            for l in &self.others {
                let _ = write!(
                    text,
                    "\n  {} ({} on peer {})",
                    l.path.display(),
                    l.service,
                    l.peer + 1
                );
            }
        }
        text
    }
}

fn log(net: &Testnet, service: &'static str, peer: usize) -> Log {
    Log {
        service,
        peer,
        path: net.peer(peer).log_path(service),
    }
}

/// The last lines of a log, indented, or a note that it is missing or empty.
fn tail(path: &Path) -> String {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => return format!("  (cannot read it: {e})\n"),
    };
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return "  (empty)\n".into();
    }
    let mut out = String::new();
    for line in &lines[lines.len().saturating_sub(TAIL_LINES)..] {
        let cut: String = line.chars().take(TAIL_LINE_CHARS).collect();
        let _ = writeln!(out, "  {cut}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(service: &'static str, peer: usize, path: &Path) -> Log {
        Log {
            service,
            peer,
            path: path.to_path_buf(),
        }
    }

    #[test]
    fn no_answer_names_the_service_its_log_and_the_logs_last_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let social = dir.path().join("social.log");
        let lines: Vec<String> = (1..=20).map(|i| format!("line {i}")).collect();
        std::fs::write(&social, lines.join("\n")).expect("write log");
        let psyc = dir.path().join("psyc.log");
        let suspects = Suspects {
            first: at("social", 1, &social),
            others: vec![at("psyc", 0, &psyc)],
        };
        let text = suspects
            .no_answer("gnunet-social -c p2.conf --status", Duration::from_secs(30))
            .to_string();
        assert!(
            text.starts_with(&format!(
                "`gnunet-social -c p2.conf --status`: no answer from social on peer 2 within 30 s; see {}\n",
                social.display()
            )),
            "{text}"
        );
        assert!(
            text.contains("\n  line 6\n") && text.contains("\n  line 20\n"),
            "{text}"
        );
        assert!(!text.contains("line 5\n"), "{text}");
        assert!(
            text.ends_with(&format!("\n  {} (psyc on peer 1)", psyc.display())),
            "{text}"
        );
    }

    #[test]
    fn a_missing_or_empty_log_is_said_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let empty = dir.path().join("empty.log");
        std::fs::write(&empty, "").expect("write log");
        assert_eq!(tail(&empty), "  (empty)\n");
        assert!(tail(&dir.path().join("none.log")).starts_with("  (cannot read it: "));
    }
}
