//! The story the demo tells, step by step, with the real `gnunet-social` on three peers:
//! alice (p1) hosts a place and publishes it in GNS; bob (p2) asks to enter by its key and is
//! refused, then admitted; carol (p3) enters by name; they announce and talk; dave (p3) comes
//! late, replays the history and reads the state; everyone leaves.

use std::time::{Duration, Instant};

use gnunet_service::crypto::eddsa;
use testnet::Testnet;

use crate::api::PeerApp;
use crate::diagnose::{DemoError, Suspects};
use crate::shell::{Background, Cmd, Ran, Shell};

/// `gnunet-social`'s own limit for a run without `--follow`.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(30);
/// A foreground command still running after this is killed (the CLI should have ended).
const RUN_LIMIT: Duration = Duration::from_secs(40);
/// How long a background command may take to show a reaction.
const REACT: Duration = Duration::from_secs(30);
/// How long the host's follower is watched for a guest's farewell.
const FAREWELL_WAIT: Duration = Duration::from_secs(10);
/// How long entering by GNS name is retried while the name is not yet found in the DHT.
const GNS_PATIENCE: Duration = Duration::from_secs(120);
/// Pause between two tries of entering by name.
const GNS_RETRY: Duration = Duration::from_secs(5);

/// The label alice publishes her place under, and the name carol gives alice in her zone.
const PLACE_LABEL: &str = "demo";
const HOST_NYM_LABEL: &str = "alice";

/// Peers, 0-based.
const P1: usize = 0;
const P2: usize = 1;
const P3: usize = 2;

/// A step's heading.
fn step(n: u32, text: &str) {
    println!("\n── {n}. {text}");
}

/// The place being shown, and the peers.
struct Demo<'a> {
    net: &'a Testnet,
    sh: &'a Shell,
    /// The place's key as the CLI prints it.
    place: String,
}

impl Demo<'_> {
    /// The services a `gnunet-social` step on `peer` depends on: social there first, then the
    /// layers below it there and on the host's peer.
    fn social(&self, peer: usize) -> Suspects {
        let s = Suspects::new(self.net, "social", peer)
            .and(self.net, "psyc", peer)
            .and(self.net, "multicast", peer);
        if peer == P1 {
            s.and(self.net, "psycstore", P1)
        } else {
            s.and(self.net, "social", P1)
                .and(self.net, "psyc", P1)
                .and(self.net, "multicast", P1)
                .and(self.net, "cadet", peer)
        }
    }

    fn run(&self, peer: usize, args: &[&str]) -> Result<Ran, DemoError> {
        self.sh
            .ok(&Cmd::social(peer, args), RUN_LIMIT, self.social(peer))
    }

    fn spawn(&self, peer: usize, who: &str, args: &[&str]) -> Result<Background, DemoError> {
        self.sh.spawn(&Cmd::social(peer, args), who)
    }

    /// `gnunet-social` on `peer` with `args` and `--place <the place>`.
    fn on_place(&self, peer: usize, args: &[&str]) -> Result<Ran, DemoError> {
        let mut all = args.to_vec();
        all.extend(["--place", &self.place]);
        self.run(peer, &all)
    }

    /// Waits for `text` in the output of `bg`, run by `gnunet-social` on `peer`.
    fn expect(&self, bg: &mut Background, peer: usize, text: &str) -> Result<(), DemoError> {
        bg.expect(text, REACT, self.social(peer)).map(drop)
    }

    /// Waits for the host's follower to print the farewell of the guest `name`, who has just
    /// left with the command that printed `left` (and the guest's key in its ego list). The
    /// farewell is a talk request
    /// sent right before the guest's channel closes and is sometimes lost on the way (a bug of
    /// the services, not of the demo), so a missing one is said, not fatal.
    fn farewell(&self, host: &mut Background, name: &str, left: &Ran) -> Result<(), DemoError> {
        let key = left
            .lines
            .iter()
            .find_map(|l| l.strip_prefix("Ego\t")?.strip_suffix(&format!("\t{name}")))
            .ok_or_else(|| {
                self.social(P1)
                    .unexpected(&format!("--guest-leave listed no ego {name}"))
            })?;
        match host.expect(&format!("Farewell: {key}"), FAREWELL_WAIT, self.social(P1)) {
            Ok(_) => Ok(()),
            Err(_) if host.exited().is_none() => {
                println!(
                    "(alice saw no farewell from {name} within {} s: it was sent just before {name}'s \
                     channel closed and got lost on the way — a known bug of the services)",
                    FAREWELL_WAIT.as_secs()
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Checks that `ran` printed `text`.
    fn check(&self, ran: &Ran, peer: usize, text: &str) -> Result<(), DemoError> {
        if ran.has(text) {
            Ok(())
        } else {
            Err(self
                .social(peer)
                .unexpected(&format!("the output above lacks {text:?}")))
        }
    }
}

/// Runs the whole story on `net` (three peers).
pub fn run(net: &Testnet, sh: &Shell) -> Result<(), DemoError> {
    let p1_id = net.peer(P1).identity().to_owned();
    step(
        1,
        "Everyone makes an identity (an ego) on their own peer; social lists them",
    );
    for (peer, name) in [(P1, "alice"), (P2, "bob"), (P3, "carol"), (P3, "dave")] {
        sh.ok(
            &Cmd::identity(peer, &["-C", name]),
            RUN_LIMIT,
            Suspects::new(net, "identity", peer),
        )?;
    }
    let mut demo = Demo {
        net,
        sh,
        place: String::new(),
    };
    demo.run(P3, &["--status"])?;

    step(
        2,
        "alice creates a place on p1 (its name is a new EdDSA key)",
    );
    let ran = demo.run(P1, &["--host-enter", "--ego", "alice"])?;
    let key = ran
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("* Host entered: "))
        .and_then(|rest| rest.split(',').next())
        .and_then(|k| k.parse::<eddsa::PublicKey>().ok())
        .ok_or_else(|| {
            demo.social(P1)
                .unexpected("--host-enter printed no \"Host entered: <key>\"")
        })?;
    demo.place = key.to_string();

    step(
        3,
        "alice publishes the place as \"demo\" in her GNS zone (gnunet-social has no option for this: an API call)",
    );
    let mut alice_app = PeerApp::connect(net, P1)?;
    alice_app.zone_add_place("alice", PLACE_LABEL, key)?;
    let alice_key = alice_app.ego("alice")?;
    drop(alice_app);

    step(
        4,
        "alice stays in her place to answer entry requests: for now she refuses everyone",
    );
    let mut host = demo.spawn(
        P1,
        "alice@p1",
        &[
            "--host-reconnect",
            "--place",
            &demo.place,
            "--follow",
            "--deny",
        ],
    )?;
    demo.expect(&mut host, P1, "Host reconnected")?;

    step(
        5,
        "bob (p2) asks to enter by the place's key and alice's peer; he is refused (exit 1)",
    );
    let place = demo.place.clone();
    let bob_enter = [
        "--guest-enter",
        "--place",
        &place,
        "--peer",
        &p1_id,
        "--ego",
        "bob",
    ];
    let ran = sh.run(&Cmd::social(P2, &bob_enter), RUN_LIMIT, demo.social(P2))?;
    if ran.status.success() || !ran.has("entry refused") {
        return Err(demo
            .social(P2)
            .unexpected("bob's entry should have been refused"));
    }
    demo.expect(&mut host, P1, "Entry request")?;

    step(6, "alice changes her mind (Ctrl-C) and now admits everyone");
    host.interrupt();
    let mut host = demo.spawn(
        P1,
        "alice@p1",
        &[
            "--host-reconnect",
            "--place",
            &demo.place,
            "--follow",
            "--welcome",
        ],
    )?;
    demo.expect(&mut host, P1, "Host reconnected")?;

    step(7, "bob asks again and stays to follow the place");
    let mut bob_follow = bob_enter.to_vec();
    bob_follow.push("--follow");
    let mut bob = demo.spawn(P2, "bob@p2", &bob_follow)?;
    demo.expect(&mut bob, P2, "entry decision 1")?;

    step(
        8,
        "carol (p3) names alice's zone \"alice\" in her own zone (an API call) and enters by the name demo.alice",
    );
    let mut carol_app = PeerApp::connect(net, P3)?;
    carol_app.zone_add_nym("carol", HOST_NYM_LABEL, alice_key)?;
    drop(carol_app);
    let mut carol = enter_by_name(&demo)?;

    step(9, "alice announces; both guests receive it");
    demo.on_place(
        P1,
        &[
            "--host-announce",
            "--method",
            "_message",
            "--data",
            "Welcome, everyone!",
        ],
    )?;
    demo.expect(&mut bob, P2, "Welcome, everyone!")?;
    demo.expect(&mut carol, P3, "Welcome, everyone!")?;

    step(10, "alice sets the place's state variable _topic");
    demo.on_place(
        P1,
        &[
            "--host-assign",
            "--name",
            "_topic",
            "--data",
            "a demo on loopback",
        ],
    )?;
    demo.expect(&mut bob, P2, "a demo on loopback")?;
    demo.expect(&mut carol, P3, "a demo on loopback")?;

    step(11, "the guests talk: their messages go to the host");
    demo.on_place(
        P2,
        &[
            "--guest-talk",
            "--ego",
            "bob",
            "--method",
            "_converse",
            "--data",
            "Hi alice, bob here.",
        ],
    )?;
    demo.expect(&mut host, P1, "bob here.")?;
    demo.on_place(
        P3,
        &[
            "--guest-talk",
            "--ego",
            "carol",
            "--method",
            "_converse",
            "--data",
            "Hello from carol!",
        ],
    )?;
    demo.expect(&mut host, P1, "Hello from carol!")?;
    demo.on_place(
        P1,
        &[
            "--host-announce",
            "--method",
            "_message",
            "--data",
            "Hi bob, hi carol!",
        ],
    )?;
    demo.expect(&mut bob, P2, "Hi bob, hi carol!")?;
    demo.expect(&mut carol, P3, "Hi bob, hi carol!")?;

    step(
        12,
        "carol says good-bye and leaves (her follower sees it too)",
    );
    let ran = demo.on_place(P3, &["--guest-leave", "--ego", "carol"])?;
    demo.farewell(&mut host, "carol", &ran)?;
    demo.expect(&mut carol, P3, "Guest has left the place.")?;
    carol.interrupt();

    step(
        13,
        "dave (p3) comes late: he enters, replays the history and reads the state",
    );
    demo.run(
        P3,
        &[
            "--guest-enter",
            "--place",
            &place,
            "--peer",
            &p1_id,
            "--ego",
            "dave",
        ],
    )?;
    let ran = demo.on_place(P3, &["--replay-latest", "--limit", "10", "--ego", "dave"])?;
    demo.check(&ran, P3, "Welcome, everyone!")?;
    demo.check(&ran, P3, "Hi bob, hi carol!")?;
    let ran = demo.on_place(P3, &["--look-at", "--name", "_topic", "--ego", "dave"])?;
    demo.check(&ran, P3, "a demo on loopback")?;

    step(14, "the others leave too, then alice closes the place");
    for (peer, name) in [(P2, "bob"), (P3, "dave")] {
        let ran = demo.on_place(peer, &["--guest-leave", "--ego", name])?;
        demo.farewell(&mut host, name, &ran)?;
    }
    bob.interrupt();
    demo.on_place(P1, &["--host-leave"])?;
    host.interrupt();
    Ok(())
}

/// carol enters by GNS name and follows the place. The name resolves once alice's zonemaster
/// has put the record into the DHT and p3 finds it there; until then the service finds no
/// record and the CLI ends with an error, and carol tries again.
fn enter_by_name(demo: &Demo) -> Result<Background, DemoError> {
    let name = format!("{PLACE_LABEL}.{HOST_NYM_LABEL}");
    let args = [
        "--guest-enter",
        "--gns",
        &name,
        "--ego",
        "carol",
        "--follow",
    ];
    let suspects = || {
        demo.social(P3)
            .and(demo.net, "gns", P3)
            .and(demo.net, "zonemaster", P1)
            .and(demo.net, "dht", P3)
    };
    let give_up = Instant::now() + GNS_PATIENCE;
    loop {
        let mut carol = demo.spawn(P3, "carol@p3", &args)?;
        match carol.expect("entry decision 1", REACT, suspects()) {
            Ok(_) => return Ok(carol),
            Err(e) if carol.exited().is_some() && Instant::now() < give_up => {
                println!(
                    "(the name is not found yet: p1's zonemaster publishes it to the DHT; trying again in {} s)",
                    GNS_RETRY.as_secs()
                );
                drop(e);
                std::thread::sleep(GNS_RETRY);
            }
            Err(e) => return Err(e),
        }
    }
}
