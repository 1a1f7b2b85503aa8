//! Client links of the runtime on real unix sockets: a "service" here is a plain listener in a
//! test thread that accepts, reads, writes and closes as each test needs. Registrations are
//! re-sent first on every reconnect, messages reach the link they came from, reconnects back
//! off, and a stopping runtime does not reconnect.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use gnunet_service::client::BlockingClient;
use gnunet_service::server::{
    bind_unix, ConnId, Ctx, DisconnectReason, Handler, Limits, LinkId, Runtime, UnixListenSpec,
    Verdict,
};
use gnunet_service::wire::{Framer, RawMessage};

/// Client → runtime: stop.
const STOP: u16 = 65100;
/// Client → runtime: send the body on link `body[0]`.
const SEND_ON: u16 = 65101;
/// Client → runtime: unregister key `body[1..]` of link `body[0]`.
const UNREGISTER: u16 = 65102;
/// Client → runtime: queue a lot for this client (which does not read), then stop.
const FLOOD_AND_STOP: u16 = 65103;
/// Runtime → service: sent from `link_up`, body = how many times that link came up.
const HELLO: u16 = 65110;
/// A registration; body = its key.
const REG: u16 = 65111;
/// Service → runtime.
const DATA: u16 = 65112;

const T: Duration = Duration::from_secs(10);

fn msg(t: u16, body: &[u8]) -> Vec<u8> {
    let mut m = ((4 + body.len()) as u16).to_be_bytes().to_vec();
    m.extend_from_slice(&t.to_be_bytes());
    m.extend_from_slice(body);
    m
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Up(LinkId),
    Message(LinkId, Vec<u8>),
    Down(LinkId, DisconnectReason),
}

#[derive(Default)]
struct Recorder {
    links: Vec<LinkId>,
    ups: Vec<u8>,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Handler for Recorder {
    type Timer = ();

    fn message(&mut self, ctx: &mut Ctx<()>, conn: ConnId, m: RawMessage) -> Verdict {
        let body = m.body();
        let link = |i: Option<&u8>| LinkId(usize::from(*i.unwrap_or(&0)));
        match m.msg_type() {
            STOP => ctx.stop(),
            SEND_ON => {
                ctx.link_send(link(body.first()), msg(DATA, &body[1..]))
                    .unwrap();
            }
            UNREGISTER => assert!(ctx.unregister(link(body.first()), &body[1..])),
            FLOOD_AND_STOP => {
                for _ in 0..40 {
                    ctx.send(conn, msg(DATA, &[7; 60_000])).unwrap();
                }
                ctx.stop();
            }
            _ => return Verdict::unknown(&m),
        }
        Verdict::Continue
    }

    fn link_up(&mut self, ctx: &mut Ctx<()>, link: LinkId) {
        self.events.lock().unwrap().push(Event::Up(link));
        let ups = &mut self.ups[link.0];
        *ups += 1;
        ctx.link_send(link, msg(HELLO, &[*ups])).unwrap();
    }

    fn link_message(&mut self, _ctx: &mut Ctx<()>, link: LinkId, m: RawMessage) -> Verdict {
        self.events
            .lock()
            .unwrap()
            .push(Event::Message(link, m.body().to_vec()));
        Verdict::Continue
    }

    fn link_down(&mut self, _ctx: &mut Ctx<()>, link: LinkId, reason: &DisconnectReason) {
        self.events
            .lock()
            .unwrap()
            .push(Event::Down(link, reason.clone()));
    }
}

struct Running {
    socket: PathBuf,
    events: Arc<Mutex<Vec<Event>>>,
    thread: thread::JoinHandle<()>,
}

impl Running {
    fn control(&self) -> BlockingClient {
        BlockingClient::connect_path(&self.socket, T).unwrap()
    }

    fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    /// Waits until `pred` holds for the events so far.
    fn wait_for(&self, what: &str, pred: impl Fn(&[Event]) -> bool) {
        let deadline = Instant::now() + T;
        while !pred(&self.events()) {
            assert!(
                Instant::now() < deadline,
                "{what}: events {:?}",
                self.events()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn stop(self) {
        self.control().send_raw(&msg(STOP, b"")).unwrap();
        self.thread.join().unwrap();
    }
}

/// A runtime with links to `services` (each with the registrations given), in a thread.
fn start(dir: &Path, services: &[(&Path, &[&[u8]])], limits: Limits) -> Running {
    let socket = dir.join("runtime.sock");
    let listener = bind_unix(&UnixListenSpec {
        path: socket.clone(),
        match_uid: true,
        match_gid: false,
    })
    .unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let handler = Recorder {
        events: events.clone(),
        ..Recorder::default()
    };
    let mut rt = Runtime::new(vec![listener], handler, limits).unwrap();
    rt.with_ctx(|h, ctx| {
        for (path, keys) in services {
            let link = ctx.open_link(path, "test");
            for key in *keys {
                ctx.register(link, key, msg(REG, key)).unwrap();
            }
            h.links.push(link);
            h.ups.push(0);
        }
    });
    let thread = thread::spawn(move || rt.run().unwrap());
    Running {
        socket,
        events,
        thread,
    }
}

/// The next `n` messages from a service-side stream.
fn read_messages(s: &mut UnixStream, n: usize) -> Vec<(u16, Vec<u8>)> {
    s.set_read_timeout(Some(T)).unwrap();
    let mut framer = Framer::new();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < n {
        if let Some(m) = framer.next_message().unwrap() {
            out.push((m.msg_type(), m.body().to_vec()));
            continue;
        }
        let got = s.read(&mut buf).unwrap();
        assert!(got > 0, "closed after {out:?}");
        framer.push(&buf[..got]);
    }
    assert!(framer.next_message().unwrap().is_none(), "more than {n}");
    out
}

fn accept(l: &UnixListener) -> UnixStream {
    l.accept().unwrap().0
}

#[test]
fn registrations_are_resent_first_on_every_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("service.sock");
    let listener = UnixListener::bind(&service).unwrap();
    let rt = start(dir.path(), &[(&service, &[b"a", b"b"])], Limits::default());
    let link = LinkId(0);
    let reg = |k: &[u8]| (REG, k.to_vec());

    let mut first = accept(&listener);
    assert_eq!(
        read_messages(&mut first, 3),
        [reg(b"a"), reg(b"b"), (HELLO, vec![1])]
    );
    first.write_all(&msg(DATA, b"from the first")).unwrap();
    rt.wait_for("message delivered", |e| e.len() >= 2);
    drop(first);

    // The service went away and came back: registrations before anything else.
    let mut second = accept(&listener);
    assert_eq!(
        read_messages(&mut second, 3),
        [reg(b"a"), reg(b"b"), (HELLO, vec![2])]
    );
    // Unregistered: not sent on the next connection.
    let mut control = rt.control();
    control.send_raw(&msg(UNREGISTER, &[0, b'a'])).unwrap();
    control.send_raw(&msg(SEND_ON, &[0, 42])).unwrap();
    assert_eq!(read_messages(&mut second, 1), [(DATA, vec![42])]);
    drop(second);
    let mut third = accept(&listener);
    assert_eq!(read_messages(&mut third, 2), [reg(b"b"), (HELLO, vec![3])]);

    rt.wait_for("third up", |e| e.len() >= 6);
    let events = rt.events();
    assert_eq!(
        events[..6],
        [
            Event::Up(link),
            Event::Message(link, b"from the first".to_vec()),
            Event::Down(link, DisconnectReason::Closed),
            Event::Up(link),
            Event::Down(link, DisconnectReason::Closed),
            Event::Up(link),
        ]
    );
    rt.stop();
}

#[test]
fn messages_go_to_and_come_from_their_own_link() {
    let dir = tempfile::tempdir().unwrap();
    let path_a = dir.path().join("a.sock");
    let path_b = dir.path().join("b.sock");
    let listener_a = UnixListener::bind(&path_a).unwrap();
    // B is not there yet: its link retries until it is.
    let rt = start(
        dir.path(),
        &[(&path_a, &[]), (&path_b, &[])],
        Limits::default(),
    );
    let mut a = accept(&listener_a);
    assert_eq!(read_messages(&mut a, 1), [(HELLO, vec![1])]);
    thread::sleep(Duration::from_millis(200));
    let listener_b = UnixListener::bind(&path_b).unwrap();
    let mut b = accept(&listener_b);
    assert_eq!(read_messages(&mut b, 1), [(HELLO, vec![1])]);

    let mut control = rt.control();
    control.send_raw(&msg(SEND_ON, &[1, b'B'])).unwrap();
    control.send_raw(&msg(SEND_ON, &[0, b'A'])).unwrap();
    assert_eq!(read_messages(&mut b, 1), [(DATA, b"B".to_vec())]);
    assert_eq!(read_messages(&mut a, 1), [(DATA, b"A".to_vec())]);
    b.write_all(&msg(DATA, b"from b")).unwrap();
    a.write_all(&msg(DATA, b"from a")).unwrap();
    rt.wait_for("both delivered", |e| {
        e.iter().filter(|e| matches!(e, Event::Message(..))).count() == 2
    });
    let mut got: Vec<Event> = rt
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Message(..)))
        .collect();
    got.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        got,
        [
            Event::Message(LinkId(0), b"from a".to_vec()),
            Event::Message(LinkId(1), b"from b".to_vec()),
        ]
    );
    rt.stop();
}

#[test]
fn a_service_that_closes_at_once_is_retried_with_growing_delays() {
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("service.sock");
    let listener = UnixListener::bind(&service).unwrap();
    listener.set_nonblocking(true).unwrap();
    let rt = start(dir.path(), &[(&service, &[b"r"])], Limits::default());
    let mut accepted = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        match listener.accept() {
            Ok((s, _)) => {
                accepted.push(Instant::now());
                drop(s);
            }
            Err(_) => thread::sleep(Duration::from_millis(1)),
        }
    }
    // Doubling from 1 ms: about 11 attempts in 1.5 s, where no back-off would make thousands.
    assert!(
        (5..=14).contains(&accepted.len()),
        "{} attempts",
        accepted.len()
    );
    let gaps: Vec<Duration> = accepted.windows(2).map(|w| w[1] - w[0]).collect();
    let last = *gaps.last().unwrap();
    assert!(last >= Duration::from_millis(100), "gaps {gaps:?}");
    rt.stop();
}

#[test]
fn a_stopping_runtime_does_not_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("service.sock");
    let listener = UnixListener::bind(&service).unwrap();
    let rt = start(dir.path(), &[(&service, &[])], Limits::default());
    let mut conn = accept(&listener);
    assert_eq!(read_messages(&mut conn, 1), [(HELLO, vec![1])]);
    // A client that does not read keeps the stopping runtime in its flush grace period; the
    // service closes the link meanwhile.
    let mut sluggard = UnixStream::connect(&rt.socket).unwrap();
    sluggard.write_all(&msg(FLOOD_AND_STOP, b"")).unwrap();
    thread::sleep(Duration::from_millis(300));
    drop(conn);
    listener.set_nonblocking(true).unwrap();
    let until = Instant::now() + Duration::from_millis(700);
    while Instant::now() < until {
        if let Ok((_, _)) = listener.accept() {
            panic!("reconnected while stopping");
        }
        thread::sleep(Duration::from_millis(5));
    }
    rt.thread.join().unwrap();
    let events = rt.events.lock().unwrap().clone();
    assert_eq!(
        events,
        [
            Event::Up(LinkId(0)),
            Event::Down(LinkId(0), DisconnectReason::Closed)
        ]
    );
    drop(sluggard);
}

/// Opens its one link in `started`, before any client came, and greets on it.
struct Starter {
    service: PathBuf,
}

impl Handler for Starter {
    type Timer = ();

    fn started(&mut self, ctx: &mut Ctx<()>) {
        ctx.open_link(&self.service, "test");
    }

    fn message(&mut self, ctx: &mut Ctx<()>, _conn: ConnId, m: RawMessage) -> Verdict {
        if m.msg_type() == STOP {
            ctx.stop();
        }
        Verdict::Continue
    }

    fn link_up(&mut self, ctx: &mut Ctx<()>, link: LinkId) {
        ctx.link_send(link, msg(HELLO, &[1])).unwrap();
    }
}

#[test]
fn a_handler_acts_at_start_without_a_client() {
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("service.sock");
    let l = UnixListener::bind(&service).unwrap();
    let socket = dir.path().join("runtime.sock");
    let listener = bind_unix(&UnixListenSpec {
        path: socket.clone(),
        match_uid: true,
        match_gid: false,
    })
    .unwrap();
    let handler = Starter {
        service: service.clone(),
    };
    let mut rt = Runtime::new(vec![listener], handler, Limits::default()).unwrap();
    let thread = thread::spawn(move || rt.run().unwrap());
    let mut s = accept(&l);
    assert_eq!(read_messages(&mut s, 1), vec![(HELLO, vec![1])]);
    BlockingClient::connect_path(&socket, T)
        .unwrap()
        .send_raw(&msg(STOP, b""))
        .unwrap();
    thread.join().unwrap();
}
