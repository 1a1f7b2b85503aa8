//! The `gnunet-social` binary as a process: exit codes and messages of bad command lines,
//! help and version, and a status run against a scripted service named by `-c`.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixListener;
use std::process::{Command, Output};
use std::thread;
use std::time::Duration;

use gnunet_service::client::BlockingClient;
use gnunet_service::crypto::ecdsa;
use social::msg::{AppEgo, AppEgoEnd, AppPlaceEnd, Request};

fn tool(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gnunet-social"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn tool_str(args: &[&str]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    tool(&args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn bad_command_lines_exit_1_with_the_c_messages() {
    let o = tool_str(&["--host-announce"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "gnunet-social ERROR --place missing or invalid.\n"
    );
    let o = tool_str(&["--host-enter"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "gnunet-social ERROR --ego missing or invalid\n");
    let o = tool_str(&["--frobnicate"]);
    assert_eq!(o.status.code(), Some(1));
    // --json: the error is also a JSON line on stdout.
    let o = tool_str(&["--json", "-T"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "{\"event\":\"error\",\"message\":\"--place missing or invalid.\"}\n"
    );
}

#[test]
fn an_argument_that_is_not_utf8_exits_2() {
    let o = tool(&[std::ffi::OsStr::from_bytes(b"--data=\xff")]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_and_version_exit_0() {
    let o = tool_str(&["-h"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("gnunet-social --host-enter --ego"));
    let o = tool_str(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("gnunet-social v"));
}

#[test]
fn status_against_the_configured_socket() {
    let dir = std::env::temp_dir().join(format!("social-cli-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("social.sock");
    let _ = std::fs::remove_file(&socket);
    let conf = dir.join("test.conf");
    std::fs::write(
        &conf,
        format!("[social]\nUNIXPATH = {}\n", socket.display()),
    )
    .unwrap();
    let listener = UnixListener::bind(&socket).unwrap();
    let service = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut app = BlockingClient::from_stream(stream);
        let raw = app.recv(Some(Duration::from_secs(10))).unwrap();
        assert!(matches!(
            Request::decode(raw.bytes()),
            Ok(Request::AppConnect(_))
        ));
        app.send(&AppEgo {
            ego_pub_key: ecdsa::PublicKey([1; 32]),
            name: b"me".to_vec(),
        })
        .unwrap();
        app.send(&AppEgoEnd).unwrap();
        app.send(&AppPlaceEnd).unwrap();
    });
    let o = tool_str(&["-c", conf.to_str().unwrap()]);
    service.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("Ego\t{}\tme\n.\n", ecdsa::PublicKey([1; 32]))
    );
    assert!(stderr(&o)
        .starts_with("Caution: This tool does not produce correct binary safe PSYC syntax.\n\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_man_page_documents_every_option() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/doc/gnunet-social.1"))
        .unwrap()
        .replace("\\-", "-");
    let help = String::from_utf8_lossy(&tool_str(&["-h"]).stdout).into_owned();
    let options: Vec<&str> = help
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
        .map(|w| w.split('=').next().unwrap_or(w))
        .collect();
    assert!(options.len() >= 34, "{options:?}");
    for option in options {
        assert!(page.contains(option), "{option} is not in the man page");
    }
    for section in ["EXIT STATUS", "JSON OUTPUT", "EXAMPLES", "OUTPUT"] {
        assert!(page.contains(&format!(".SH {section}")), "{section}");
    }
}
