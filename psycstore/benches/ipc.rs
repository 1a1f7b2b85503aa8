//! Throughput and latency through the real service (no criterion: one timed run each).
//!
//! Starts `gnunet-service-psycstore` by hand on a temporary config (or uses the socket in
//! `PSYCSTORE_SOCKET`), then measures:
//! - FRAGMENT_STORE throughput with 1 and with 16 concurrent clients, each pipelining (a
//!   writer thread sends, a reader thread counts the RESULT_CODEs);
//! - STATE_GET latency, one request at a time: p50 and p99;
//! - the same inserts made straight into rusqlite (one transaction, prepared statement), as the
//!   baseline the IPC figure is compared with.
//!
//! `cargo bench -p psycstore --bench ipc [-- FRAGMENTS]` (default 200000 fragments per run).

mod common;
use common::{fragment, PAYLOAD};
use gnunet_service::wire::Codec;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gnunet_service::client::BlockingClient;
use psycstore::client as codec;
use psycstore::keys::ChannelKey;
use psycstore::msg::Reply;
use psycstore::store::schema;
use psycstore::Client;

const SEND_CHUNK: usize = 256;

struct Service {
    child: Option<Child>,
    socket: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Service {
    fn start() -> Self {
        if let Some(socket) = std::env::var_os("PSYCSTORE_SOCKET") {
            return Self {
                child: None,
                socket: socket.into(),
                _dir: None,
            };
        }
        let dir = tempfile::tempdir().expect("temporary directory");
        let root = dir.path();
        let config = root.join("bench.conf");
        std::fs::write(
            &config,
            format!(
                "[PATHS]\nGNUNET_RUNTIME_DIR = {r}/run\nGNUNET_DATA_HOME = {r}/data\n\
                 [psycstore]\nUNIXPATH = $GNUNET_RUNTIME_DIR/psycstore.sock\nDATABASE = sqlite\n\
                 [psycstore-sqlite]\nFILENAME = $GNUNET_DATA_HOME/psycstore/sqlite.db\n",
                r = root.display()
            ),
        )
        .expect("config");
        let child = Command::new(env!("CARGO_BIN_EXE_gnunet-service-psycstore"))
            .arg("-c")
            .arg(&config)
            .arg("-L")
            .arg("WARNING")
            .stdin(Stdio::null())
            .spawn()
            .expect("service binary");
        let socket = root.join("run/psycstore.sock");
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "service did not come up");
            std::thread::sleep(Duration::from_millis(10));
        }
        Self {
            child: Some(child),
            socket,
            _dir: Some(dir),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One client stores `n` fragments on `channel`, pipelined; returns when all are answered.
fn pipelined_stores(socket: &Path, channel: ChannelKey, n: u64) {
    let stream = UnixStream::connect(socket).expect("connect");
    let mut writer = stream.try_clone().expect("clone");
    let sender = std::thread::spawn(move || {
        let mut buf = Vec::with_capacity(SEND_CHUNK * 256);
        for id in 1..=n {
            let msg = codec::fragment_store(id, &channel, &fragment(id), 0).expect("request");
            buf.extend_from_slice(&msg);
            if id % SEND_CHUNK as u64 == 0 || id == n {
                writer.write_all(&buf).expect("send");
                buf.clear();
            }
        }
    });
    let mut reader = BlockingClient::from_stream(stream);
    for id in 1..=n {
        let raw = reader.recv(Some(Duration::from_secs(60))).expect("reply");
        match codec::parse_reply(raw.bytes()).expect("valid reply") {
            Reply::ResultCode(r) if r.op_id == id && r.result_code == 1 => {}
            other => panic!("store {id}: {other:?}"),
        }
    }
    sender.join().expect("sender");
}

fn store_throughput(socket: &Path, clients: u64, total: u64, run: u8) -> f64 {
    let per_client = total / clients;
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let socket = socket.to_path_buf();
            let channel = ChannelKey([run.wrapping_mul(31).wrapping_add(c as u8); 32]);
            std::thread::spawn(move || pipelined_stores(&socket, channel, per_client))
        })
        .collect();
    for t in threads {
        t.join().expect("client");
    }
    (per_client * clients) as f64 / start.elapsed().as_secs_f64()
}

fn state_get_latency(socket: &Path, samples: usize) -> (Duration, Duration) {
    let mut c = Client::connect_path(socket, Duration::from_secs(20)).expect("connect");
    let channel = ChannelKey([0xee; 32]);
    let vars: Vec<(Vec<u8>, Vec<u8>)> = (0..100)
        .map(|i| (format!("_bench_var{i:03}").into_bytes(), vec![b'v'; 64]))
        .collect();
    let refs: Vec<(&[u8], &[u8])> = vars
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    assert_eq!(c.state_sync(&channel, 1, 1, &refs).expect("sync").result, 1);
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let name = &vars[i % vars.len()].0;
        let t = Instant::now();
        let got = c.state_get(&channel, name).expect("state get");
        times.push(t.elapsed());
        assert_eq!((got.items.len(), got.outcome.result), (1, 1));
    }
    times.sort();
    (times[samples / 2], times[samples * 99 / 100])
}

/// The same inserts straight into rusqlite: schema of the C plugin, one transaction, cached
/// statement, WAL + synchronous=FULL like the service.
fn rusqlite_baseline(total: u64) -> f64 {
    let dir = tempfile::tempdir().expect("temporary directory");
    let conn = rusqlite::Connection::open(dir.path().join("baseline.db")).expect("open");
    conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
        .expect("wal");
    conn.execute_batch("PRAGMA synchronous=FULL").expect("sync");
    for s in schema::CREATE_STATEMENTS {
        conn.execute_batch(s).expect("schema");
    }
    let key = [7u8; 32];
    conn.execute("INSERT INTO channels (pub_key) VALUES (?1)", [&key[..]])
        .expect("channel");
    let start = Instant::now();
    conn.execute_batch("BEGIN").expect("begin");
    {
        let mut insert = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO messages (channel_id, hop_counter, signature, purpose, \
                 fragment_id, fragment_offset, message_id, group_generation, multicast_flags, \
                 psycstore_flags, data) VALUES ((SELECT id FROM channels WHERE pub_key = ?1), \
                 ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .expect("prepare");
        for id in 1..=total {
            let f = fragment(id);
            insert
                .execute(rusqlite::params![
                    &key[..],
                    f.hop_counter,
                    &f.signature.0[..],
                    f.purpose.to_vec(),
                    id as i64,
                    0i64,
                    id as i64,
                    1i64,
                    f.flags,
                    0i64,
                    &f.payload[..]
                ])
                .expect("insert");
        }
    }
    conn.execute_batch("COMMIT").expect("commit");
    total as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let total: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let service = Service::start();
    println!("psycstore IPC bench: {total} FRAGMENT_STORE requests per run, payload {PAYLOAD} B");
    let one = store_throughput(&service.socket, 1, total, 1);
    println!("fragment store, 1 client:    {one:>10.0} msgs/s");
    let sixteen = store_throughput(&service.socket, 16, total, 2);
    println!("fragment store, 16 clients:  {sixteen:>10.0} msgs/s");
    let (p50, p99) = state_get_latency(&service.socket, 5000);
    println!("state get latency:           p50 {p50:?}  p99 {p99:?}");
    let baseline = rusqlite_baseline(total);
    println!("rusqlite direct inserts:     {baseline:>10.0} rows/s (one transaction)");
    println!(
        "IPC / direct:                1 client {:.2}, 16 clients {:.2}",
        one / baseline,
        sixteen / baseline
    );
}
