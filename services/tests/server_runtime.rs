//! The server runtime on a real unix socket, in-process: framing errors drop only the offending
//! client, a client that does not read is backpressured and then dropped as stuck, and others
//! are served throughout.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use gnunet_service::client::BlockingClient;
use gnunet_service::server::{
    bind_unix, AccessPolicy, ConnId, Ctx, DisconnectReason, Handler, Limits, Runtime,
    UnixListenSpec, Verdict,
};
use gnunet_service::wire::RawMessage;

const ECHO: u16 = 65000;
/// Asks for `FLOOD_COUNT` large messages.
const FLOOD: u16 = 65001;
const STOP: u16 = 65002;
const FLOOD_COUNT: usize = 200;
const FLOOD_SIZE: usize = 60_000;
const PAUSE_AT: usize = 256 * 1024;

#[derive(Default)]
struct TestHandler {
    dropped: Vec<(ConnId, DisconnectReason)>,
    /// Flood messages still to send, per connection.
    flood_left: std::collections::HashMap<ConnId, usize>,
}

impl TestHandler {
    /// Sends flood messages until the queue passes the pause mark; `drained` resumes.
    fn pump(&mut self, ctx: &mut Ctx<()>, conn: ConnId) {
        let Some(left) = self.flood_left.get_mut(&conn) else {
            return;
        };
        while *left > 0 && ctx.queued(conn) <= PAUSE_AT {
            let i = FLOOD_COUNT - *left;
            let mut m = vec![(i % 251) as u8; FLOOD_SIZE];
            m[..4].copy_from_slice(&[(FLOOD_SIZE >> 8) as u8, FLOOD_SIZE as u8, 0xfe, 0x01]);
            if ctx.send(conn, m).is_err() {
                return;
            }
            *left -= 1;
        }
    }
}

impl Handler for TestHandler {
    type Timer = ();

    fn message(&mut self, ctx: &mut Ctx<()>, conn: ConnId, msg: RawMessage) -> Verdict {
        match msg.msg_type() {
            ECHO => {
                let _ = ctx.send(conn, msg.into_bytes());
            }
            FLOOD => {
                self.flood_left.insert(conn, FLOOD_COUNT);
                self.pump(ctx, conn);
            }
            STOP => ctx.stop(),
            _ => return Verdict::unknown(&msg),
        }
        Verdict::Continue
    }

    fn drained(&mut self, ctx: &mut Ctx<()>, conn: ConnId) {
        self.pump(ctx, conn);
    }

    fn disconnected(&mut self, _ctx: &mut Ctx<()>, conn: ConnId, reason: &DisconnectReason) {
        self.flood_left.remove(&conn);
        self.dropped.push((conn, reason.clone()));
    }
}

fn start(limits: Limits) -> (PathBuf, tempfile::TempDir, thread::JoinHandle<TestHandler>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("svc.sock");
    let listener = bind_unix(&UnixListenSpec {
        path: path.clone(),
        match_uid: true,
        match_gid: false,
    })
    .unwrap();
    let handle = thread::spawn(move || {
        let mut rt = Runtime::new(vec![listener], TestHandler::default(), limits).unwrap();
        rt.run().unwrap();
        rt.into_handler()
    });
    (path, dir, handle)
}

fn msg(t: u16, body: &[u8]) -> Vec<u8> {
    let mut m = ((4 + body.len()) as u16).to_be_bytes().to_vec();
    m.extend_from_slice(&t.to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn connect(path: &Path) -> BlockingClient {
    BlockingClient::connect_path(path, Duration::from_secs(5)).unwrap()
}

fn echo(c: &mut BlockingClient, body: &[u8]) {
    let m = msg(ECHO, body);
    c.send_raw(&m).unwrap();
    assert_eq!(
        c.recv(Some(Duration::from_secs(5))).unwrap().bytes(),
        &m[..]
    );
}

fn assert_dropped_after(path: &Path, bytes: &[u8]) {
    assert_dropped_after_pause(path, bytes, Duration::ZERO);
}

/// Like [`assert_dropped_after`], waiting `pause` between connecting and sending.
fn assert_dropped_after_pause(path: &Path, bytes: &[u8], pause: Duration) {
    let mut s = UnixStream::connect(path).unwrap();
    thread::sleep(pause);
    s.write_all(bytes).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        s.read(&mut buf).unwrap(),
        0,
        "service kept a client that sent {bytes:?}"
    );
}

/// The end of the stream must be seen even when it arrives together with the last data (one
/// edge for both, after the service took the connection): a client that hangs up inside a
/// message is dropped every time.
#[test]
fn hang_up_inside_a_message_is_always_noticed() {
    let (path, _dir, rt) = start(Limits::default());
    for _ in 0..300 {
        assert_dropped_after_pause(&path, &[0, 200, 0xfd, 0xe8, 1, 2], Duration::from_millis(2));
    }
    connect(&path).send_raw(&msg(STOP, b"")).unwrap();
    let h = rt.join().unwrap();
    let cut_short = h
        .dropped
        .iter()
        .filter(|(_, r)| format!("{r:?}").contains("stream ended inside a message"))
        .count();
    assert_eq!(cut_short, 300);
}

#[test]
fn bad_clients_are_dropped_and_others_served() {
    let (path, _dir, rt) = start(Limits::default());
    let mut good = connect(&path);
    echo(&mut good, b"first");
    assert_dropped_after(&path, &[0, 3, 0xfd, 0xe8]);
    assert_dropped_after(&path, &msg(4660, b"what"));
    assert_dropped_after(&path, &[0, 200, 0xfd, 0xe8, 1, 2]);
    echo(&mut good, &[1u8; 65_000]);
    good.send_raw(&msg(STOP, b"")).unwrap();
    let h = rt.join().unwrap();
    let reasons: Vec<String> = h.dropped.iter().map(|(_, r)| format!("{r:?}")).collect();
    let joined = reasons.join("\n");
    assert!(joined.contains("below the 4-byte header"), "{joined}");
    assert!(joined.contains("unknown message type 4660"), "{joined}");
    assert!(joined.contains("stream ended inside a message"), "{joined}");
}

#[test]
fn reader_gets_everything_while_a_stuck_client_is_dropped() {
    let limits = Limits {
        pause_reading_at: PAUSE_AT,
        max_queue: 2 * 1024 * 1024,
        stuck_after: Duration::from_secs(1),
        read_budget: 64 * 1024,
        ..Limits::default()
    };
    let (path, _dir, rt) = start(limits);
    // Never reads: its queue stops growing at the pause mark, makes no progress, and after
    // `stuck_after` the client is dropped.
    let mut stuck = UnixStream::connect(&path).unwrap();
    stuck.write_all(&msg(FLOOD, b"")).unwrap();
    // Reads everything: 200 × 60 kB = 12 MB, far more than the queue limit, arrives in order
    // because the producer follows backpressure.
    let mut reader = connect(&path);
    let reader_thread = thread::spawn(move || {
        reader.send_raw(&msg(FLOOD, b"")).unwrap();
        for i in 0..FLOOD_COUNT {
            let m = reader.recv(Some(Duration::from_secs(20))).unwrap();
            assert_eq!(m.len(), FLOOD_SIZE);
            assert_eq!(m.bytes()[10], (i % 251) as u8);
        }
        reader
    });
    let mut reader = reader_thread.join().unwrap();
    echo(&mut reader, b"still here");
    thread::sleep(Duration::from_millis(2500));
    reader.send_raw(&msg(STOP, b"")).unwrap();
    let h = rt.join().unwrap();
    assert!(
        h.dropped
            .iter()
            .any(|(_, r)| matches!(r, DisconnectReason::Stuck(_))),
        "{:?}",
        h.dropped
    );
    // The stuck client sees its connection closed once it reads.
    stuck
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut sink = Vec::new();
    let _ = stuck.read_to_end(&mut sink);
    assert!(sink.len() < FLOOD_COUNT * FLOOD_SIZE);
}

#[test]
fn unix_match_uid_refuses_other_users_even_on_an_open_socket() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("svc.sock");
    let listener = bind_unix(&UnixListenSpec {
        path: path.clone(),
        match_uid: true,
        match_gid: false,
    })
    .unwrap();
    // A mode too open for the policy: only the credential check stands in the way.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let rt = thread::spawn(move || {
        let mut rt = Runtime::new(vec![listener], TestHandler::default(), Limits::default())
            .unwrap()
            .with_access(AccessPolicy {
                match_uid: true,
                match_gid: false,
            });
        rt.run().unwrap();
    });
    // A refused client sees its connection closed (or reset, as it had sent unread bytes).
    let probe = "import socket,sys\n\
                 s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n\
                 s.settimeout(5)\n\
                 try:\n    s.sendall(bytes([0,6,0xfd,0xe8,1,2]))\n    got = s.recv(16)\n\
                 except (BrokenPipeError, ConnectionResetError):\n    got = b''\n\
                 print('reply' if got else 'closed')\n";
    let run_as = |uid: u32| {
        let out = std::process::Command::new("python3")
            .args(["-c", probe])
            .arg(&path)
            .uid(uid)
            .gid(uid)
            .output()
            .unwrap();
        assert!(out.status.success(), "probe failed: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let me = nix::unistd::geteuid().as_raw();
    if me == 0 {
        assert_eq!(run_as(65534), "closed", "nobody must be refused");
    }
    assert_eq!(run_as(me), "reply");
    let mut c = connect(&path);
    c.send_raw(&msg(STOP, b"")).unwrap();
    rt.join().unwrap();
}
