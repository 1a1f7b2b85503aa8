//! Driving `gnunet-social` as a user would, for the multi-peer tests: one-shot runs with
//! `--json` parsed into events, and `--follow --json` runs in the background whose events a
//! reader thread collects until the test kills the process (by its pid).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use testnet::Peer;

use crate::common::{cli_path, social_log};

/// Patience for something to show up in a follower's output.
pub const WAIT: Duration = Duration::from_secs(30);

/// One finished run of `gnunet-social --json`.
#[derive(Debug)]
pub struct Run {
    /// How it ended.
    pub status: ExitStatus,
    /// Its JSON events, in order.
    pub events: Vec<Value>,
    /// Its standard error.
    pub stderr: String,
}

impl Run {
    /// The first event of kind `event` for which `pred` holds.
    pub fn find(&self, event: &str, pred: impl Fn(&Value) -> bool) -> Option<&Value> {
        self.events.iter().find(|e| e["event"] == event && pred(e))
    }

    /// Every event of kind `event`.
    pub fn all(&self, event: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == event).collect()
    }
}

/// Parses the JSON lines of `stdout`; a line that is no JSON fails the test.
fn parse_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Runs `gnunet-social -c <peer config> --json ARGS` to its end.
pub fn run(peer: &Peer, args: &[&str]) -> Run {
    let out = Command::new(cli_path())
        .arg("-c")
        .arg(peer.config_path())
        .arg("--json")
        .args(args)
        .output()
        .expect("run gnunet-social");
    Run {
        status: out.status,
        events: parse_lines(&out.stdout),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// As [`run`], and the run must succeed (exit 0).
pub fn run_ok(peer: &Peer, args: &[&str]) -> Run {
    let r = run(peer, args);
    assert!(
        r.status.success(),
        "gnunet-social {args:?} on p{} failed: {:?}\nstdout: {:?}\nstderr: {}\nsocial log:\n{}",
        peer.index() + 1,
        r.status,
        r.events,
        r.stderr,
        social_log(peer)
    );
    r
}

/// A `gnunet-social --follow --json` process in the background.
pub struct Follower {
    what: String,
    child: Child,
    events: Arc<Mutex<Vec<Value>>>,
    reader: Option<JoinHandle<()>>,
}

/// Starts `gnunet-social -c <peer config> --json --follow ARGS` in the background.
pub fn follow(peer: &Peer, args: &[&str]) -> Follower {
    let mut child = Command::new(cli_path())
        .arg("-c")
        .arg(peer.config_path())
        .args(["--json", "--follow"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gnunet-social --follow");
    let events = Arc::new(Mutex::new(Vec::new()));
    let stdout = child.stdout.take().expect("piped stdout");
    let sink = Arc::clone(&events);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            let value = serde_json::from_str(&line)
                .unwrap_or_else(|e| Value::String(format!("not JSON ({e}): {line}")));
            sink.lock().expect("events lock").push(value);
        }
    });
    Follower {
        what: format!("p{} follow {args:?}", peer.index() + 1),
        child,
        events,
        reader: Some(reader),
    }
}

impl Follower {
    /// Everything printed so far.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().expect("events lock").clone()
    }

    /// Waits for the first event of kind `event` for which `pred` holds.
    pub fn wait(&self, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self
                .events()
                .into_iter()
                .find(|e| e["event"] == event && pred(e))
            {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no {event} event as expected within {WAIT:?}; got {:#?}",
                self.what,
                self.events()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for a message event whose body is `data`.
    pub fn wait_message(&self, data: &str) -> Value {
        self.wait("message", |e| e["data"] == data)
    }

    /// Whether the process has ended by itself (and how).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Waits (at most [`WAIT`]) for the process to end by itself, and for the reader to have
    /// taken every line it printed: its last lines may still be in the pipe when it exits, and
    /// the reader ends at end of file.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.exited() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return status;
            }
            assert!(Instant::now() < deadline, "{} did not end", self.what);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the process to end by itself with exit 0, `left` its last event (the place
    /// was left).
    pub fn wait_left(&mut self) {
        let status = self.wait_exit();
        assert_eq!(status.code(), Some(0), "{} after the leave", self.what);
        let last = self.events().last().map(|e| e["event"].clone());
        assert_eq!(
            last,
            Some("left".into()),
            "{}: {:?}",
            self.what,
            self.events()
        );
    }

    /// Kills the process (by its pid) and returns what it printed.
    pub fn stop(mut self) -> Vec<Value> {
        self.kill();
        self.events()
    }

    fn kill(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // It may have ended just now: nothing left to kill then.
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The value of the `entered` event's `place` of a run.
pub fn entered_place(r: &Run) -> String {
    r.find("entered", |_| true)
        .and_then(|e| e["place"].as_str())
        .unwrap_or_else(|| panic!("no entered place in {:?}", r.events))
        .to_owned()
}

/// The 52-character ECDSA key of the ego `name`, as `--status --json` lists it.
pub fn ego_key(peer: &Peer, name: &str) -> String {
    let r = run_ok(peer, &["--status"]);
    r.find("ego", |e| e["name"] == name)
        .and_then(|e| e["key"].as_str())
        .unwrap_or_else(|| panic!("no ego {name} in {:?}", r.events))
        .to_owned()
}

/// Pids of `program` among the processes of `peer` (ARM and what it started).
pub fn pids_of(peer: &Peer, program: &str) -> Vec<u32> {
    peer.service_pids()
        .into_iter()
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
            let name = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
            name == program.as_bytes()
        })
        .collect()
}

/// `kill -9` of the one process of `peer` running `program`; returns its pid.
pub fn kill9(peer: &Peer, program: &str) -> u32 {
    let pids = pids_of(peer, program);
    assert_eq!(
        pids.len(),
        1,
        "one {program} on p{}: {pids:?}",
        peer.index() + 1
    );
    let status = Command::new("kill")
        .args(["-9", &pids[0].to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -9 {}", pids[0]);
    let deadline = Instant::now() + WAIT;
    while pids_of(peer, program).contains(&pids[0]) {
        assert!(Instant::now() < deadline, "pid {} does not die", pids[0]);
        std::thread::sleep(Duration::from_millis(50));
    }
    pids[0]
}

/// `--host-announce` of a `_converse` message with body `text`.
pub fn announce(peer: &Peer, place: &str, text: &str) -> Run {
    run_ok(
        peer,
        &[
            "--host-announce",
            "--place",
            place,
            "--method",
            "_converse",
            "--data",
            text,
        ],
    )
}

/// `--guest-talk` of a `_converse` message with body `text` (as the place's only guest on
/// `peer`).
pub fn talk(peer: &Peer, place: &str, text: &str) -> Run {
    talk_as(peer, place, &[], text)
}

/// `--guest-talk` of a `_converse` message with body `text`, with `ego` (e.g. `["--ego",
/// "g2"]`) choosing among several guests of the place on `peer`.
pub fn talk_as(peer: &Peer, place: &str, ego: &[&str], text: &str) -> Run {
    let mut args = vec!["--guest-talk", "--place", place, "--method", "_converse"];
    args.extend_from_slice(ego);
    args.extend(["--data", text]);
    let r = run_ok(peer, &args);
    assert!(
        r.find("transmitted", |e| e["cancelled"] == false).is_some(),
        "{:?}",
        r.events
    );
    r
}

/// `--host-assign NAME = VALUE`.
pub fn assign(peer: &Peer, place: &str, name: &str, value: &str) -> Run {
    run_ok(
        peer,
        &[
            "--host-assign",
            "--place",
            place,
            "--name",
            name,
            "--data",
            value,
        ],
    )
}

/// `--look-at NAME` on `peer` finds `NAME` with `value`.
pub fn assert_var(peer: &Peer, place: &str, name: &str, value: &str) {
    let r = run_ok(peer, &["--look-at", "--place", place, "--name", name]);
    assert!(
        r.find("var", |v| v["name"] == name && v["value"] == value)
            .is_some(),
        "p{} look-at {name}: {:?}",
        peer.index() + 1,
        r.events
    );
}

/// The bodies `--replay-latest --limit 20` prints on `peer`; no message id may come twice.
pub fn latest(peer: &Peer, place: &str) -> Vec<String> {
    let r = run_ok(
        peer,
        &["--replay-latest", "--place", place, "--limit", "20"],
    );
    let ids: Vec<u64> = r
        .all("message")
        .iter()
        .filter_map(|m| m["id"].as_u64())
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ids.len(),
        "message ids used twice: {:?}",
        r.events
    );
    r.all("message")
        .iter()
        .filter_map(|m| m["data"].as_str().map(str::to_owned))
        .collect()
}

/// Every one of `wanted` is among `texts` (`what` names them in the failure).
pub fn assert_has(texts: &[String], wanted: &[&str], what: &str) {
    for want in wanted {
        assert!(
            texts.iter().any(|t| t == want),
            "{what} lacks {want:?}: {texts:?}"
        );
    }
}

/// `--host-enter --ego EGO` on `peer`: the new place's key.
pub fn host_enter(peer: &Peer, ego: &str) -> String {
    entered_place(&run_ok(peer, &["--host-enter", "--ego", ego]))
}

/// `--host-reconnect --follow` with `decide` (`--welcome` or `--deny`), once entered.
pub fn follow_host(peer: &Peer, place: &str, decide: &str) -> Follower {
    let host = follow(peer, &["--host-reconnect", "--place", place, decide]);
    host.wait("entered", |e| e["reconnect"] == true);
    host
}

/// `--guest-reconnect --follow` (with `extra`, e.g. `["--ego", "g2"]`), once entered.
pub fn follow_guest(peer: &Peer, place: &str, extra: &[&str]) -> Follower {
    let mut args = vec!["--guest-reconnect", "--place", place];
    args.extend_from_slice(extra);
    let guest = follow(peer, &args);
    guest.wait("entered", |e| {
        e["role"] == "guest" && e["reconnect"] == true
    });
    guest
}

/// `--guest-enter --place PLACE --peer <host's peer> --ego EGO` on `peer`, to its end.
pub fn enter_by_key(peer: &Peer, place: &str, host: &Peer, ego: &str) -> Run {
    run(
        peer,
        &[
            "--guest-enter",
            "--place",
            place,
            "--peer",
            host.identity(),
            "--ego",
            ego,
        ],
    )
}

/// The social service's program name.
pub const SERVICE: &str = "gnunet-service-social";

/// `--status` lists `place` with `role` (the service answers: ARM started it if needed).
pub fn assert_listed(peer: &Peer, place: &str, role: &str) {
    let r = run_ok(peer, &["--status"]);
    assert!(
        r.find("place", |e| e["role"] == role && e["key"] == place)
            .is_some(),
        "p{} lists no {role} place {place}: {:?}",
        peer.index() + 1,
        r.events
    );
}

/// Kills the social service of `peer` under a follower, which must then end with an error;
/// `--status` (a client connect: ARM starts the service again) lists `place` as `role`.
pub fn kill_and_come_back(peer: &Peer, mut follower: Follower, place: &str, role: &str) {
    let old = kill9(peer, SERVICE);
    assert_ne!(
        follower.wait_exit().code(),
        Some(0),
        "follower after the kill"
    );
    drop(follower);
    assert_listed(peer, place, role);
    let new = pids_of(peer, SERVICE);
    assert!(
        !new.is_empty() && !new.contains(&old),
        "old {old}, now {new:?}"
    );
}
