//! The command line: every option of the C tool with its short and long name, the defaults,
//! and the checks with the C tool's messages and exit codes.

use gnunet_service::crypto::identity_key;
use gnunet_service::crypto::{ecdsa, eddsa};

use super::*;

const PLACE: eddsa::PublicKey = eddsa::PublicKey([2; 32]);

fn run(args: &[&str]) -> Args {
    match parse(args.iter().copied()) {
        Ok(Command::Run(a)) => *a,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn error(args: &[&str]) -> ArgError {
    match parse(args.iter().copied()) {
        Err(e) => e,
        other => panic!("{args:?}: {other:?}"),
    }
}

#[test]
fn no_operation_is_status_with_the_c_defaults() {
    let a = run(&[]);
    assert_eq!((a.op, a.default_op), (Op::Status, true));
    assert_eq!(a.app, "cli");
    assert_eq!((a.data.as_str(), a.name.as_str()), ("", ""));
    assert_eq!(a.method(), "message");
    // Replays take every method unless told (C: `message`, gap G16).
    assert_eq!(a.method_prefix(), "");
    assert!(!a.follow && !a.json && !a.welcome && !a.deny);
    let a = run(&["-U"]);
    assert_eq!((a.op, a.default_op), (Op::Status, false));
}

#[test]
fn every_operation_by_short_and_long_name() {
    let place = PLACE.to_string();
    for (op, short, long) in Op::ALL {
        let mut args = vec![format!("-{short}"), "-p".into(), place.clone()];
        if matches!(op, Op::HostEnter | Op::GuestEnter) {
            args.extend(["-e".into(), "me".into()]);
        }
        if op == Op::ReplayLatest {
            args.extend(["-n".into(), "3".into()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(run(&refs).op, op);
        args[0] = format!("--{long}");
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(run(&refs).op, op);
        assert_eq!(op.long(), long);
    }
}

#[test]
fn every_parameter_by_short_and_long_name() {
    let place = PLACE.to_string();
    let peer = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAG".to_string();
    let short = [
        "-E",
        "-a",
        "app",
        "-d",
        "body",
        "-e",
        "me",
        "-f",
        "-i",
        &peer,
        "-k",
        "_k",
        "-m",
        "_m",
        "-n",
        "4",
        "-p",
        &place,
        "-s",
        "1",
        "-u",
        "9",
        "-w",
        "-y",
        "-c",
        "/etc/x.conf",
        "-L",
        "DEBUG",
        "-l",
        "/tmp/log",
        "--json",
    ];
    let long = [
        "--guest-enter",
        "--app=app",
        "--data=body",
        "--ego=me",
        "--follow",
        "--peer",
        &peer,
        "--name=_k",
        "--method=_m",
        "--limit=4",
        "--place",
        &place,
        "--start=1",
        "--until=9",
        "--welcome",
        "--deny",
        "--config=/etc/x.conf",
        "--log=debug",
        "--logfile=/tmp/log",
        "--json",
    ];
    for args in [&short[..], &long[..]] {
        let a = run(args);
        assert_eq!(a.op, Op::GuestEnter);
        assert_eq!(
            (a.app.as_str(), a.data.as_str(), a.name.as_str()),
            ("app", "body", "_k")
        );
        assert_eq!(a.ego, Some(super::EgoArg::Name("me".into())));
        assert_eq!(a.method(), "_m");
        assert_eq!(a.method_prefix(), "_m");
        assert_eq!((a.limit, a.start, a.until), (4, 1, 9));
        assert_eq!(a.place, Some(PLACE));
        assert_eq!(a.peer.map(|p| p.to_string()), Some(peer.clone()));
        assert!(a.follow && a.welcome && a.deny && a.json);
        assert_eq!(a.config, Some("/etc/x.conf".into()));
        assert_eq!(a.log_level, Some(LogLevel::Debug));
        assert_eq!(a.log_file.as_deref(), Some("/tmp/log"));
    }
    // Flags combine as GNU getopt allows.
    let a = run(&["-Cfwe", "host one"]);
    assert_eq!(a.op, Op::HostEnter);
    assert!(a.follow && a.welcome);
    assert_eq!(a.ego, Some(super::EgoArg::Name("host one".into())));
}

#[test]
fn place_is_checked_with_the_c_message() {
    for op in [
        "-N", "-D", "-P", "-A", "-R", "-B", "-T", "-X", "-H", "-S", "-F",
    ] {
        let e = error(&[op, "-n", "1"]);
        assert_eq!(
            (e.message.as_str(), e.exit_code),
            ("--place missing or invalid.", 1)
        );
        let e = error(&[op, "-n", "1", "-p", "not-a-key"]);
        assert_eq!(e.message, "--place missing or invalid.");
    }
    let e = error(&["-E", "-e", "me"]);
    assert_eq!(e.message, "--place missing or invalid.");
    // Entering by name needs no place; status and host-enter ignore one.
    assert_eq!(run(&["-E", "-e", "me", "-g", "home.host.gnu"]).place, None);
    assert_eq!(run(&["-U", "-p", "junk"]).place, None);
    // The typed 58-character form of the place's key works too.
    let typed = identity_key::PublicKey::Eddsa(PLACE).to_string();
    assert_eq!(run(&["-S", "-p", &typed]).place, Some(PLACE));
}

#[test]
fn ego_forms_and_the_ecdsa_rule() {
    let key = ecdsa::PublicKey([5; 32]);
    let a = run(&["-C", "-e", &key.to_string()]);
    assert!(matches!(a.ego, Some(super::EgoArg::Key { key: k, .. }) if k == key));
    let typed = identity_key::PublicKey::Ecdsa(key).to_string();
    assert!(matches!(
        run(&["-C", "-e", &typed]).ego,
        Some(super::EgoArg::Key { .. })
    ));
    let eddsa_ego = identity_key::PublicKey::Eddsa(eddsa::PublicKey([5; 32])).to_string();
    let e = error(&["-C", "-e", &eddsa_ego]);
    assert_eq!(e.exit_code, 1);
    assert!(
        e.message.contains("social needs ECDSA egos"),
        "{}",
        e.message
    );
    let e = error(&["-C"]);
    assert_eq!(
        (e.message.as_str(), e.exit_code),
        ("--ego missing or invalid", 1)
    );
}

#[test]
fn other_checks_and_exit_codes() {
    let place = PLACE.to_string();
    assert_eq!(
        error(&["-E", "-e", "me", "-p", &place, "-i", "junk"]).message,
        "--peer invalid"
    );
    assert!(error(&["-H", "-p", &place]).message.contains("--limit"));
    assert!(error(&["-X", "-p", &place, "-s", "5", "-u", "2"])
        .message
        .contains("--start"));
    assert!(error(&["-X", "-p", &place, "-s", "x"])
        .message
        .contains("not a number"));
    assert!(error(&["-U", "-C"]).message.contains("one operation"));
    // The same operation twice is one.
    assert_eq!(run(&["-U", "--status"]).op, Op::Status);
    assert_eq!(error(&["--bogus"]).exit_code, 1);
    assert_eq!(error(&["stray"]).exit_code, 1);
    assert_eq!(error(&["-L", "LOUD"]).exit_code, 1);
    assert_eq!(error(&["-p"]).exit_code, 1);
    assert_eq!(parse(["-h"]), Ok(Command::Help));
    assert_eq!(parse(["--version"]), Ok(Command::Version));
}

#[test]
fn arguments_that_are_not_utf8_exit_2() {
    use std::os::unix::ffi::OsStringExt;
    let bad = std::ffi::OsString::from_vec(vec![b'-', b'd', 0xff]);
    let e = parse([bad]).unwrap_err();
    assert_eq!(e.exit_code, 2);
}

#[test]
fn help_names_every_option() {
    let help = help_text();
    for (_, short, long) in Op::ALL {
        assert!(help.contains(&format!("-{short}, --{long}")), "{long}");
    }
    for o in [
        "-a, --app",
        "-d, --data",
        "-e, --ego",
        "-f, --follow",
        "-g, --gns",
        "-i, --peer",
        "-k, --name",
        "-m, --method",
        "-n, --limit",
        "-p, --place",
        "-s, --start",
        "-u, --until",
        "-w, --welcome",
        "-y, --deny",
        "-c, --config",
        "-L, --log",
        "-l, --logfile",
        "-h, --help",
        "-v, --version",
        "--json",
    ] {
        assert!(help.contains(o), "{o}");
    }
}

#[test]
fn privacy_is_an_operation_of_its_own() {
    let a = run(&["--privacy", "-c", "x.conf"]);
    assert_eq!((a.op, a.default_op), (Op::Privacy, false));
    assert_eq!(a.op.long(), "privacy");
    assert!(parse(["--privacy", "--status"]).is_err());
    let a = run(&["--status", "--gns", "home.alice.gnu", "-e", "me"]);
    assert_eq!(
        (a.op, a.gns.as_deref()),
        (Op::Status, Some("home.alice.gnu"))
    );
    assert!(help_text().contains("--privacy"));
}
