//! The demo end to end, so CI keeps it working: `secushare-demo` starts three real peers with
//! this build's services, tells its story with the real `gnunet-social`, and stops them —
//! within a time bound, with every step's mark in its output.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The whole demo, peers included, normally takes 5–30 s; this bounds a hang.
const LIMIT: Duration = Duration::from_secs(300);

/// Builds the service binaries and `gnunet-social` next to the demo binary (same profile),
/// unless `SECUSHARE_BIN_DIR` names the binaries to use.
fn build_binaries() {
    if std::env::var_os("SECUSHARE_BIN_DIR").is_some() {
        return;
    }
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "build",
        "-p",
        "social",
        "-p",
        "psyc",
        "-p",
        "multicast",
        "-p",
        "psycstore",
        "--bins",
    ]);
    if !cfg!(debug_assertions) {
        cargo.arg("--release");
    }
    let status = cargo.status().expect("run cargo build");
    assert!(status.success(), "building the service binaries failed");
}

fn read_all(mut f: &File) -> String {
    let mut text = String::new();
    f.seek(SeekFrom::Start(0)).expect("seek");
    f.read_to_string(&mut text).expect("read output");
    text
}

#[test]
fn the_demo_tells_the_whole_story_and_stops_its_peers() {
    build_binaries();
    // Files, not pipes: the ARM daemons the demo starts must not hold our pipe open.
    let out = tempfile::tempfile().expect("temp file");
    let err = tempfile::tempfile().expect("temp file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_secushare-demo"))
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup"))
        .stderr(err.try_clone().expect("dup"))
        .spawn()
        .expect("start secushare-demo");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > LIMIT {
            // SIGTERM: the demo stops its peers before it exits.
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let (stdout, stderr) = (read_all(&out), read_all(&err));
    let shown = format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    let status = status.unwrap_or_else(|| panic!("no end within {LIMIT:?}\n{shown}"));
    assert!(status.success(), "{status}\n{shown}");
    eprintln!(
        "secushare-demo ran in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for mark in [
        // alice hosts and publishes the place.
        "$ gnunet-social -c p1.conf --host-enter --ego alice",
        "* Host entered: ",
        "App::zone_add_place(ego: alice, name: \"demo\"",
        // bob is refused, then admitted; carol enters by name.
        "gnunet-social ERROR entry refused by the host (decision 0)",
        "bob@p2| * Guest received entry decision 1",
        "$ gnunet-social -c p3.conf --guest-enter --gns demo.alice --ego carol --follow &",
        "carol@p3| * Guest received entry decision 1",
        // Announcements reach both guests, talk reaches the host.
        "bob@p2| Welcome, everyone!",
        "carol@p3| Welcome, everyone!",
        "carol@p3| =_topic\ta demo on loopback",
        "alice@p1| Hi alice, bob here.",
        "alice@p1| Hello from carol!",
        // dave's history and state.
        "$ gnunet-social -c p3.conf --replay-latest --limit 10 --ego dave",
        "* Received var: _topic\na demo on loopback",
        // Everyone leaves.
        "* Guest has left the place.",
        "* The host has left the place.",
        "The story took ",
    ] {
        assert!(stdout.contains(mark), "missing {mark:?}\n{shown}");
    }
    // dave's replay printed the three announcements, in order.
    let replay = stdout
        .split("--replay-latest")
        .nth(1)
        .and_then(|rest| rest.split("$ gnunet-social").next())
        .unwrap_or_default();
    let at = |text: &str| replay.find(text);
    assert!(
        at("Welcome, everyone!") < at("=_topic\ta demo on loopback")
            && at("=_topic\ta demo on loopback") < at("Hi bob, hi carol!")
            && at("Welcome, everyone!").is_some(),
        "dave's replay: {replay}"
    );
    assert!(
        !stderr.contains("leftover pids"),
        "peers did not stop cleanly\n{shown}"
    );
}
