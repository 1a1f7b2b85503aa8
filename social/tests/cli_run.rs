//! The `gnunet-social` driver against a scripted service on a real UNIX socket: what each
//! operation writes to the service, what it prints, and how it ends. (The same runs against
//! `gnunet-service-social` are for the service's tests.)

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use gnunet_service::client::{BlockingClient, ClientError};
use gnunet_service::config::Config;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use psyc::format::container::DELIVERY_HISTORIC;
use psyc::format::env::Operator;
use psyc::format::message::PsycMessage;
use psyc::format::receive::{Assembler, Completed, MessageMeta};
use social::cli::args::{parse, Args, Command};
use social::cli::output::Output;
use social::cli::run::{run_at, CliError};
use social::msg::{
    AppEgo, AppEgoEnd, AppPlace, AppPlaceEnd, ClientMessage, DeliveryHeader, GuestEnterAck,
    HistoryResult, HostEnterAck, JoinDecision, JoinRequest, MessageAck, PlaceLeaveAck, Request,
    ResultCode, StateResult,
};

const EGO: ecdsa::PublicKey = ecdsa::PublicKey([1; 32]);
const PLACE: eddsa::PublicKey = eddsa::PublicKey([2; 32]);
const NYM: ecdsa::PublicKey = ecdsa::PublicKey([9; 32]);
const WAIT: Option<Duration> = Some(Duration::from_secs(10));

type Script = Box<dyn FnOnce(&mut BlockingClient) -> Result<(), ClientError> + Send>;

fn socket_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("social-cli-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn recv(conn: &mut BlockingClient) -> Result<Request, ClientError> {
    let raw = conn.recv(WAIT)?;
    Ok(Request::decode(raw.bytes()).expect("a valid request"))
}

/// A service that lists ego "host one" and the places `places` (is_host), then runs
/// `place` on the next connection, if any.
fn serve(name: &str, places: &[bool], place: Option<Script>) -> (PathBuf, JoinHandle<()>) {
    let path = socket_path(name);
    let listener = UnixListener::bind(&path).unwrap();
    let places = places.to_vec();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut app = BlockingClient::from_stream(stream);
        assert!(matches!(recv(&mut app).unwrap(), Request::AppConnect(c) if c.app_id == b"cli"));
        app.send(&AppEgo {
            ego_pub_key: EGO,
            name: b"host one".to_vec(),
        })
        .unwrap();
        app.send(&AppEgoEnd).unwrap();
        for is_host in places {
            app.send(&AppPlace {
                ego_pub_key: EGO,
                place_pub_key: PLACE,
                is_host: u8::from(is_host),
                place_state: 1,
            })
            .unwrap();
        }
        app.send(&AppPlaceEnd).unwrap();
        if let Some(script) = place {
            let (stream, _) = listener.accept().unwrap();
            let mut conn = BlockingClient::from_stream(stream);
            script(&mut conn).unwrap();
        }
    });
    (path, handle)
}

fn args(argv: &[&str]) -> Args {
    match parse(argv.iter().copied()) {
        Ok(Command::Run(a)) => *a,
        other => panic!("{other:?}"),
    }
}

/// Runs the tool; returns its result, stdout and stderr.
fn run(path: &Path, argv: &[&str]) -> (Result<(), CliError>, String, String) {
    let a = args(argv);
    let mut out = Output::new(Vec::new(), Vec::new(), a.json);
    let result = run_at(&a, &Config::default(), path, &mut out);
    let (o, e) = out.into_inner();
    (
        result,
        String::from_utf8(o).unwrap(),
        String::from_utf8(e).unwrap(),
    )
}

/// Reads containers, acknowledging each, until a message is complete.
fn receive_message(conn: &mut BlockingClient) -> Result<PsycMessage, ClientError> {
    let mut a = Assembler::default();
    loop {
        let Request::Message(ClientMessage { parts }) = recv(conn)? else {
            panic!("not a message container")
        };
        conn.send(&MessageAck)?;
        if let Some(Completed::Message { message, .. }) =
            a.push_parts(MessageMeta::default(), &parts).unwrap()
        {
            return Ok(message);
        }
    }
}

fn entered_guest(conn: &mut BlockingClient, decision: Option<i32>) -> Result<(), ClientError> {
    assert!(matches!(recv(conn)?, Request::GuestEnter(g) if g.place_pub_key == PLACE));
    conn.send(&GuestEnterAck {
        result_code: 1,
        max_message_id: 3,
    })?;
    if let Some(d) = decision {
        conn.send(&JoinDecision::new(d, EGO))?;
    }
    Ok(())
}

fn entered_host(conn: &mut BlockingClient) -> Result<(), ClientError> {
    assert!(matches!(recv(conn)?, Request::HostEnter(h) if h.place_pub_key == PLACE));
    conn.send(&HostEnterAck {
        result_code: 1,
        max_message_id: 3,
        place_pub_key: PLACE,
    })
}

#[test]
fn status_lists_egos_and_places() {
    let (path, service) = serve("status", &[true, false], None);
    let (result, out, err) = run(&path, &[]);
    result.unwrap();
    assert_eq!(
        out,
        format!("Ego\t{EGO}\thost one\nHost\t{PLACE}\nGuest\t{PLACE}\n.\n")
    );
    assert_eq!(err, "");
    service.join().unwrap();
}

#[test]
fn host_enter_by_ego_name_creates_a_place() {
    let script: Script = Box::new(|conn| {
        let Request::HostEnter(h) = recv(conn)? else {
            panic!("not HOST_ENTER")
        };
        assert_eq!((h.policy, h.ego_pub_key), (3, EGO));
        assert_eq!(h.place_pub_key.0, [0; 32]);
        conn.send(&HostEnterAck {
            result_code: 0,
            max_message_id: 0,
            place_pub_key: PLACE,
        })
    });
    let (path, service) = serve("host-enter", &[], Some(script));
    let (result, out, err) = run(&path, &["--host-enter", "--ego", "Host One"]);
    result.unwrap();
    assert_eq!(out, format!("Ego\t{EGO}\thost one\n.\n"));
    assert_eq!(err, format!("* Host entered: {PLACE}, max_message_id: 0\n"));
    service.join().unwrap();
}

#[test]
fn guest_enter_sends_the_entry_request_and_waits_for_the_decision() {
    let peer = PeerIdentity([6; 32]);
    for (decision, admitted) in [(1, true), (0, false)] {
        let script: Script = Box::new(move |conn| {
            let Request::GuestEnter(g) = recv(conn)? else {
                panic!("not GUEST_ENTER")
            };
            assert_eq!(
                (g.ego_pub_key, g.place_pub_key, g.origin),
                (EGO, PLACE, peer)
            );
            let join = ClientMessage::from_message(g.join_msg.as_ref().unwrap()).unwrap();
            let mut a = Assembler::default();
            let Some(Completed::Message { message, .. }) =
                a.push_parts(MessageMeta::default(), &join.parts).unwrap()
            else {
                panic!("no entry request")
            };
            assert_eq!(message.method, "_request_enter");
            assert_eq!(message.data, b"let me in\0");
            let foo = message.env.head().unwrap();
            assert_eq!((foo.oper, foo.name.as_str()), (Operator::Set, "_foo"));
            assert_eq!(foo.value, b"bar\0");
            conn.send(&GuestEnterAck {
                result_code: 1,
                max_message_id: 0,
            })?;
            thread::sleep(Duration::from_millis(50));
            conn.send(&JoinDecision::new(decision, EGO))
        });
        let (path, service) = serve("guest-enter", &[], Some(script));
        let key = EGO.to_string();
        let (result, _, err) = run(
            &path,
            &[
                "-E",
                "-e",
                &key,
                "-p",
                &PLACE.to_string(),
                "-i",
                &peer.to_string(),
            ],
        );
        assert!(
            err.contains("* Waiting for the host's decision…\n"),
            "{err}"
        );
        assert!(err.contains(&format!("* Guest received entry decision {decision}\n")));
        assert_eq!(result.is_ok(), admitted);
        if !admitted {
            assert!(matches!(result, Err(CliError::Refused(0))));
        }
        service.join().unwrap();
    }
}

#[test]
fn host_announce_reenters_and_sends_the_message() {
    let script: Script = Box::new(|conn| {
        entered_host(conn)?;
        let m = receive_message(conn)?;
        assert_eq!(
            (m.method.as_str(), m.data.as_slice()),
            ("_converse", &b"hello"[..])
        );
        let foo = m.env.head().unwrap();
        assert_eq!(
            (foo.name.as_str(), foo.value.as_slice()),
            ("_foo", &b"bar baz\0"[..])
        );
        Ok(())
    });
    let (path, service) = serve("announce", &[true], Some(script));
    let place = PLACE.to_string();
    let (result, out, err) = run(
        &path,
        &[
            "-P",
            "-p",
            &place,
            "-m",
            "_converse",
            "-d",
            "hello",
            "--json",
        ],
    );
    result.unwrap();
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        last,
        serde_json::json!({"event": "transmitted", "method": "_converse", "cancelled": false})
    );
    assert!(err.contains("* Host reconnected"));
    service.join().unwrap();
}

#[test]
fn host_assign_sets_a_state_variable() {
    let script: Script = Box::new(|conn| {
        entered_host(conn)?;
        let m = receive_message(conn)?;
        assert_eq!(m.method, "_assign");
        let v = m.env.head().unwrap();
        assert_eq!((v.oper, v.name.as_str()), (Operator::Assign, "_topic"));
        assert_eq!(v.value, b"news\0");
        assert!(m.data.is_empty());
        Ok(())
    });
    let (path, service) = serve("assign", &[true], Some(script));
    let place = PLACE.to_string();
    let (result, _, _) = run(&path, &["-A", "-p", &place, "-k", "_topic", "-d", "news"]);
    result.unwrap();
    service.join().unwrap();
}

#[test]
fn replay_prints_the_history_with_an_empty_default_prefix() {
    let script: Script = Box::new(|conn| {
        entered_guest(conn, None)?;
        let Request::HistoryReplay(h) = recv(conn)? else {
            panic!("not HISTORY_REPLAY")
        };
        assert_eq!(
            (h.start_message_id, h.end_message_id, h.message_limit),
            (1, 3, 0)
        );
        assert_eq!(h.method_prefix_c(), b"");
        let mut m = PsycMessage::new("_converse_host");
        m.env
            .add(Operator::Assign, "_foo", b"bar baz\0".to_vec())
            .unwrap();
        m.data = b"aaa".to_vec();
        let header = DeliveryHeader {
            flags: DELIVERY_HISTORIC,
            message_id: 2,
            ..DeliveryHeader::default()
        };
        conn.send(&HistoryResult::new(h.op_id, m.to_delivery(header).unwrap()))?;
        conn.send(&ResultCode::new(h.op_id, 3))
    });
    let (path, service) = serve("replay", &[false], Some(script));
    let place = PLACE.to_string();
    let (result, out, err) = run(&path, &["-X", "-p", &place, "-s", "1", "-u", "3"]);
    result.unwrap();
    assert_eq!(
        out,
        format!(
            "Ego\t{EGO}\thost one\nGuest\t{PLACE}\n.\n\n=_foo\tbar baz\n_converse_host\naaa\n.\n"
        )
    );
    assert!(err.contains("* Fetching history…\n"));
    assert!(err.contains("* Received method for message ID 2:\n_converse_host (flags: 0)\n"));
    service.join().unwrap();
}

#[test]
fn look_at_prints_the_variable() {
    let script: Script = Box::new(|conn| {
        entered_host(conn)?;
        let Request::StateGet(g) = recv(conn)? else {
            panic!("not STATE_GET")
        };
        assert_eq!(g.name_c(), b"_foo_bar");
        let mut part = Vec::new();
        psyc::format::parts::Part::Modifier(psyc::format::parts::ModifierPart {
            value_size: 7,
            oper: b'=',
            name: b"_foo_bar".as_slice().into(),
            value: b"foo bar".as_slice().into(),
        })
        .emit(&mut part);
        conn.send(&StateResult::new(g.op_id, part))?;
        conn.send(&ResultCode::new(g.op_id, 1))
    });
    let (path, service) = serve("look-at", &[true, false], Some(script));
    let place = PLACE.to_string();
    let (result, _, err) = run(&path, &["-S", "-p", &place, "-k", "_foo_bar"]);
    result.unwrap();
    assert!(
        err.ends_with("* Looking up state…\n* Received var: _foo_bar\nfoo bar\n"),
        "{err}"
    );
    service.join().unwrap();
}

#[test]
fn guest_leave_says_goodbye_and_exits_0() {
    let script: Script = Box::new(|conn| {
        entered_guest(conn, Some(1))?;
        let m = receive_message(conn)?;
        assert_eq!(m.method, "_notice_place_leave");
        let v = m.env.head().unwrap();
        assert_eq!(
            (v.name.as_str(), v.value.as_slice()),
            ("_message", &b"Leaving.\0"[..])
        );
        assert!(matches!(recv(conn)?, Request::PlaceLeave(_)));
        conn.send(&PlaceLeaveAck)
    });
    let (path, service) = serve("guest-leave", &[false], Some(script));
    let place = PLACE.to_string();
    let (result, _, err) = run(&path, &["-B", "-p", &place]);
    result.unwrap();
    assert!(err.ends_with("* Guest has left the place.\n"), "{err}");
    service.join().unwrap();
}

#[test]
fn a_place_the_app_does_not_have_is_an_error_at_once() {
    let (path, service) = serve("unlisted", &[false], None);
    let place = PLACE.to_string();
    let (result, _, _) = run(&path, &["-D", "-p", &place]);
    assert!(matches!(result, Err(CliError::Usage(m)) if m.contains("hosts")));
    service.join().unwrap();
}

#[test]
fn following_host_welcomes_entry_requests() {
    let script: Script = Box::new(|conn| {
        entered_host(conn)?;
        let mut request = PsycMessage::new("_request_enter");
        request
            .env
            .add(Operator::Set, "_foo", b"bar\0".to_vec())
            .unwrap();
        conn.send(&JoinRequest {
            slave_pub_key: NYM,
            join_msg: Some(request.to_client_message().unwrap().to_message()),
        })?;
        let Request::JoinDecision(d) = recv(conn)? else {
            panic!("not JOIN_DECISION")
        };
        assert_eq!((d.is_admitted, d.slave_pub_key), (1, NYM));
        let response = ClientMessage::from_message(d.response.as_ref().unwrap()).unwrap();
        let mut a = Assembler::default();
        let Some(Completed::Message { message, .. }) = a
            .push_parts(MessageMeta::default(), &response.parts)
            .unwrap()
        else {
            panic!("no response")
        };
        assert_eq!(message.method, "_notice_place_admit");
        assert_eq!(message.env, request.env);
        assert_eq!(message.data, b"Welcome, nym!\0");
        // The service goes away: following ends.
        Ok(())
    });
    let (path, service) = serve("follow", &[true], Some(script));
    let place = PLACE.to_string();
    let (result, _, err) = run(&path, &["-N", "-f", "-w", "-p", &place]);
    assert!(matches!(result, Err(CliError::Social(_))), "{result:?}");
    assert!(err.contains(&format!("* Entry request: {NYM}\n")));
    service.join().unwrap();
}

#[test]
fn following_ends_when_the_place_is_left() {
    let script: Script = Box::new(|conn| {
        entered_guest(conn, Some(1))?;
        // Another client of the place left it: every client gets PLACE_LEAVE_ACK.
        conn.send(&PlaceLeaveAck)?;
        // The connection stays open: the tool must end by itself.
        let _ = conn.recv(WAIT);
        Ok(())
    });
    let (path, service) = serve("follow-left", &[false], Some(script));
    let place = PLACE.to_string();
    let (result, out, _) = run(&path, &["-R", "-f", "--json", "-p", &place]);
    assert!(result.is_ok(), "{result:?}");
    assert!(
        out.lines()
            .last()
            .is_some_and(|l| l.contains("\"event\":\"left\"")),
        "{out}"
    );
    service.join().unwrap();
}
