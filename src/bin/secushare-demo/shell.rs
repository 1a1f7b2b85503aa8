//! Running the real command line tools against a peer's config the way a person at a shell
//! would: the command line is printed (`$ gnunet-social -c p2.conf …`), then its output as it
//! comes, stdout and stderr merged in order as a terminal shows them. Commands run in the
//! test network's directory, so `-c pN.conf` is the literal argument, not an abbreviation.
//!
//! A command runs in the foreground ([`Shell::run`], bounded) or in the background
//! ([`Shell::spawn`], `--follow` commands); background output lines are prefixed with who is
//! watching (`alice@p1| `) and can be waited for ([`Background::expect`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::diagnose::{DemoError, Suspects};

/// How long a stopped background command may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// After an awaited line, the rest of what the command prints at once (a message's remaining
/// lines) is let through before the demo goes on: it has settled after this much silence…
const QUIET: Duration = Duration::from_millis(100);
/// …or after this long at most.
const SETTLE_MAX: Duration = Duration::from_secs(2);

/// A tool and where its binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// This build's `gnunet-social`.
    Social,
    /// GNUnet's `gnunet-identity`.
    Identity,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Social => "gnunet-social",
            Tool::Identity => "gnunet-identity",
        }
    }
}

/// A command line: a tool, the peer whose config it uses (0-based) and its arguments.
#[derive(Debug, Clone)]
pub struct Cmd {
    tool: Tool,
    peer: usize,
    args: Vec<String>,
}

impl Cmd {
    /// `gnunet-social -c p<peer+1>.conf ARGS`.
    pub fn social(peer: usize, args: &[&str]) -> Self {
        Self::new(Tool::Social, peer, args)
    }

    /// `gnunet-identity -c p<peer+1>.conf ARGS`.
    pub fn identity(peer: usize, args: &[&str]) -> Self {
        Self::new(Tool::Identity, peer, args)
    }

    fn new(tool: Tool, peer: usize, args: &[&str]) -> Self {
        Self {
            tool,
            peer,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// The config file argument, relative to the network's directory.
    fn config(&self) -> String {
        format!("p{}.conf", self.peer + 1)
    }

    /// The command line as typed at a shell (arguments with spaces or quotes quoted).
    pub fn display(&self) -> String {
        let mut line = format!("{} -c {}", self.tool.name(), self.config());
        for a in &self.args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        line
    }
}

/// `text` as a shell word.
fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// How a foreground command ended.
#[derive(Debug)]
pub struct Ran {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it printed, line by line.
    pub lines: Vec<String>,
}

impl Ran {
    /// Whether a line contains `text`.
    pub fn has(&self, text: &str) -> bool {
        self.lines.iter().any(|l| l.contains(text))
    }
}

/// Where commands run and which binaries they use.
#[derive(Debug)]
pub struct Shell {
    dir: PathBuf,
    social: PathBuf,
}

impl Shell {
    /// Commands run in `dir` (the test network's directory); `social` is the `gnunet-social`
    /// binary.
    pub fn new(dir: &Path, social: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            social: social.to_path_buf(),
        }
    }

    /// The `gnunet-social` binary.
    pub fn social_binary(&self) -> &Path {
        &self.social
    }

    fn start(&self, cmd: &Cmd, prefix: &str) -> Result<(Child, Receiver<String>), DemoError> {
        let program = match cmd.tool {
            Tool::Social => self.social.clone(),
            Tool::Identity => PathBuf::from(cmd.tool.name()),
        };
        let io = |what: &str, e: std::io::Error| DemoError::Io(format!("{what}: {e}"));
        let (read, write) = nix::unistd::pipe().map_err(|e| io("pipe", e.into()))?;
        let write2 = write.try_clone().map_err(|e| io("dup", e))?;
        let mut command = Command::new(program);
        command
            .current_dir(&self.dir)
            .arg("-c")
            .arg(cmd.config())
            .args(&cmd.args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(write))
            .stderr(Stdio::from(write2));
        let child = command
            .spawn()
            .map_err(|e| io(&format!("start {}", cmd.tool.name()), e))?;
        // The parent's copies of the write end must close, or the reader never sees EOF.
        drop(command);
        let (tx, rx) = mpsc::channel();
        let prefix = prefix.to_owned();
        thread::spawn(move || {
            for line in BufReader::new(File::from(read)).lines() {
                let Ok(line) = line else { break };
                println!("{prefix}{line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok((child, rx))
    }

    /// Prints `$ CMD`, runs it and prints its output; kills it after `limit`. Returns how it
    /// ended; a command still running after `limit` is a [`DemoError::Step`] naming
    /// `suspects`.
    pub fn run(&self, cmd: &Cmd, limit: Duration, suspects: Suspects) -> Result<Ran, DemoError> {
        println!("$ {}", cmd.display());
        let (mut child, rx) = self.start(cmd, "")?;
        let deadline = Instant::now() + limit;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(suspects.no_answer(&cmd.display(), limit));
                }
            }
        }
        let status = child
            .wait()
            .map_err(|e| DemoError::Io(format!("wait for {}: {e}", cmd.display())))?;
        let ran = Ran { status, lines };
        if ran.has("timeout: no answer from the social service") {
            return Err(suspects.no_answer(&cmd.display(), crate::scenario::CLI_TIMEOUT));
        }
        Ok(ran)
    }

    /// Like [`run`](Self::run), and the command must exit 0.
    pub fn ok(&self, cmd: &Cmd, limit: Duration, suspects: Suspects) -> Result<Ran, DemoError> {
        let ran = self.run(cmd, limit, suspects.clone())?;
        if ran.status.success() {
            Ok(ran)
        } else {
            Err(suspects.failed(&cmd.display(), &ran))
        }
    }

    /// Prints `$ CMD &` and starts it in the background; its lines are printed prefixed with
    /// `who| `.
    pub fn spawn(&self, cmd: &Cmd, who: &str) -> Result<Background, DemoError> {
        println!("$ {} &", cmd.display());
        let prefix = format!("{who}| ");
        let (child, rx) = self.start(cmd, &prefix)?;
        Ok(Background {
            command: cmd.display(),
            prefix,
            child,
            lines: rx,
            pending: VecDeque::new(),
        })
    }
}

/// A command running in the background (`--follow`).
#[derive(Debug)]
pub struct Background {
    command: String,
    prefix: String,
    child: Child,
    lines: Receiver<String>,
    /// Lines printed while settling, not yet looked at by [`Background::expect`].
    pending: VecDeque<String>,
}

impl Background {
    /// Waits up to `limit` for a line containing `text` (lines before it are skipped: they
    /// were printed already), then lets the rest of that burst of output through. An error
    /// naming `suspects` if no such line comes or the command ends.
    pub fn expect(
        &mut self,
        text: &str,
        limit: Duration,
        suspects: Suspects,
    ) -> Result<String, DemoError> {
        let deadline = Instant::now() + limit;
        loop {
            let next = match self.pending.pop_front() {
                Some(line) => Ok(line),
                None => self
                    .lines
                    .recv_timeout(deadline.saturating_duration_since(Instant::now())),
            };
            match next {
                Ok(line) if line.contains(text) => {
                    self.settle();
                    return Ok(line);
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(suspects.no_line(&self.command, text, limit))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    return Err(suspects.ended(&self.command, text, status));
                }
            }
        }
    }

    /// Waits until the command has been quiet for [`QUIET`] (at most [`SETTLE_MAX`]).
    fn settle(&mut self) {
        let end = Instant::now() + SETTLE_MAX;
        while Instant::now() < end {
            match self.lines.recv_timeout(QUIET) {
                Ok(line) => self.pending.push_back(line),
                Err(_) => return,
            }
        }
    }

    /// Whether it has exited already (and how).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Ctrl-C: SIGINT, then waits for it to exit (SIGKILL after a grace time).
    pub fn interrupt(mut self) {
        println!("{}^C", self.prefix);
        self.stop(Signal::SIGINT);
    }

    fn stop(&mut self, signal: Signal) {
        if self.exited().is_some() {
            return;
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), signal);
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Background {
    /// A background command never outlives the demo.
    fn drop(&mut self) {
        self.stop(Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_quoted_as_a_shell_needs() {
        let cmd = Cmd::social(1, &["--guest-talk", "--data", "hi alice, it's bob"]);
        assert_eq!(
            cmd.display(),
            r"gnunet-social -c p2.conf --guest-talk --data 'hi alice, it'\''s bob'"
        );
        assert_eq!(
            Cmd::identity(0, &["-C", "alice"]).display(),
            "gnunet-identity -c p1.conf -C alice"
        );
        assert_eq!(quote(""), "''");
    }
}
