//! Running the service for a test: in this process on a runtime thread (to look inside), or
//! the real `gnunet-service-psycstore` binary started by hand with a config file of its own.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gnunet_service::server::{
    bind_unix, ConnId, Ctx, DisconnectReason, Handler, Limits, Origin, Runtime, UnixListenSpec,
    Verdict,
};
use gnunet_service::wire::RawMessage;
use psycstore::service::Service;
use psycstore::store::{SqliteOptions, SqliteStore};
use psycstore::Client;

pub const PATIENCE: Duration = Duration::from_secs(20);

/// Timer token of the probe's stop check (the service uses small tokens).
const PROBE_TIMER: u64 = u64::MAX;

/// Wraps the service: records the largest send queue seen after any callback, counts
/// dropped clients, and stops the loop when asked.
struct Probe {
    service: Service<SqliteStore>,
    stop: Arc<AtomicBool>,
    max_queued: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl Probe {
    fn watch(&self, ctx: &Ctx, conn: ConnId) {
        self.max_queued
            .fetch_max(ctx.queued(conn), Ordering::Relaxed);
    }
}

impl Handler for Probe {
    fn connected(&mut self, ctx: &mut Ctx, conn: ConnId, origin: &Origin) {
        self.service.connected(ctx, conn, origin);
    }

    fn message(&mut self, ctx: &mut Ctx, conn: ConnId, msg: RawMessage) -> Verdict {
        let verdict = self.service.message(ctx, conn, msg);
        self.watch(ctx, conn);
        verdict
    }

    fn disconnected(&mut self, ctx: &mut Ctx, conn: ConnId, reason: &DisconnectReason) {
        if matches!(reason, DisconnectReason::Dropped(_)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.service.disconnected(ctx, conn, reason);
    }

    fn timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token == PROBE_TIMER {
            if self.stop.load(Ordering::Relaxed) {
                self.service.shutdown(ctx);
                ctx.stop();
            } else {
                ctx.set_timer(Duration::from_millis(20), PROBE_TIMER);
            }
            return;
        }
        self.service.timer(ctx, token);
    }

    fn drained(&mut self, ctx: &mut Ctx, conn: ConnId) {
        self.service.drained(ctx, conn);
        self.watch(ctx, conn);
    }

    fn shutdown(&mut self, ctx: &mut Ctx) {
        self.service.shutdown(ctx);
    }
}

/// The service on a runtime thread of this test process.
pub struct InProcess {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub limits: Limits,
    stop: Arc<AtomicBool>,
    max_queued: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl InProcess {
    /// A fresh database in a temporary directory, default limits.
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// As [`InProcess::start`], letting `tune` adjust the service first.
    pub fn start_with(tune: impl FnOnce(&mut Service<SqliteStore>)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run/psycstore.sock");
        let listener = bind_unix(&UnixListenSpec {
            path: socket.clone(),
            match_uid: true,
            match_gid: false,
        })
        .unwrap();
        let options = SqliteOptions {
            exclusive: false,
            ..SqliteOptions::default()
        };
        let store =
            SqliteStore::open(&dir.path().join("data/psycstore/sqlite.db"), &options).unwrap();
        let limits = Limits::default();
        let mut service = Service::with_limits(store, &limits);
        tune(&mut service);
        let stop = Arc::new(AtomicBool::new(false));
        let max_queued = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let probe = Probe {
            service,
            stop: stop.clone(),
            max_queued: max_queued.clone(),
            dropped: dropped.clone(),
        };
        let mut rt = Runtime::new(vec![listener], probe, limits).unwrap();
        rt.with_ctx(|_, ctx| {
            ctx.set_timer(Duration::from_millis(20), PROBE_TIMER);
        });
        let thread = std::thread::spawn(move || {
            rt.run().unwrap();
        });
        Self {
            dir,
            socket,
            limits,
            stop,
            max_queued,
            dropped,
            thread: Some(thread),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("data/psycstore/sqlite.db")
    }

    pub fn client(&self) -> Client {
        Client::connect_path(&self.socket, PATIENCE).unwrap()
    }

    pub fn raw(&self) -> UnixStream {
        UnixStream::connect(&self.socket).unwrap()
    }

    /// Largest send queue of any client seen so far, in bytes.
    pub fn max_queued(&self) -> usize {
        self.max_queued.load(Ordering::Relaxed)
    }

    /// Clients dropped by the service so far.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops the loop and waits for it.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.halt();
        }
    }
}

/// The service binary of this crate.
pub fn service_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gnunet-service-psycstore"))
}

/// The real binary, started by hand (no ARM) with a config of its own in a temporary
/// directory; killed on drop.
pub struct Spawned {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub socket: PathBuf,
    child: Child,
}

impl Spawned {
    /// Writes the config and starts the binary; waits until it accepts.
    pub fn start(extra_config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let config = root.join("psycstore.conf");
        std::fs::write(
            &config,
            format!(
                "[PATHS]\nGNUNET_HOME = {root}/home\nGNUNET_RUNTIME_DIR = {root}/run\n\
                 GNUNET_DATA_HOME = {root}/data\n\
                 [psycstore]\nUNIXPATH = $GNUNET_RUNTIME_DIR/psycstore.sock\n\
                 UNIX_MATCH_UID = YES\nDATABASE = sqlite\n\
                 [psycstore-sqlite]\nFILENAME = $GNUNET_DATA_HOME/psycstore/sqlite.db\n\
                 {extra_config}\n",
                root = root.display()
            ),
        )
        .unwrap();
        let socket = root.join("run/psycstore.sock");
        let child = spawn(&config, &root.join("service.log"));
        let me = Self {
            dir,
            config,
            socket,
            child,
        };
        me.wait_ready();
        me
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + PATIENCE;
        while UnixStream::connect(&self.socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "service did not come up: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("data/psycstore/sqlite.db")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("service.log")).unwrap_or_default()
    }

    pub fn client(&self) -> Client {
        Client::connect_path(&self.socket, PATIENCE).unwrap()
    }

    /// SIGKILL, then a new instance on the same config and database.
    pub fn kill9_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn(&self.config, &self.dir.path().join("service.log"));
        self.wait_ready();
    }

    /// SIGTERM and the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        self.child.wait().unwrap()
    }
}

fn spawn(config: &Path, log: &Path) -> Child {
    Command::new(service_binary())
        .arg("-c")
        .arg(config)
        .arg("-L")
        .arg("INFO")
        .arg("-l")
        .arg(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap()
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
