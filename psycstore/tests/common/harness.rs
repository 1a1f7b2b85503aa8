//! Running the service for a test: in this process on a runtime thread (to look inside), or
//! the real `gnunet-service-psycstore` binary started by hand with a config file of its own.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gnunet_service::server::{
    bind_unix, ConnId, Ctx, DisconnectReason, Handler, Limits, Runtime, StopHandle, UnixListenSpec,
    Verdict,
};
use gnunet_service::wire::RawMessage;
use psycstore::service::{Service, Timer};
use psycstore::store::{SqliteOptions, SqliteStore};
use psycstore::Client;

pub const PATIENCE: Duration = Duration::from_secs(20);

/// Wraps the service: records the largest send queue seen after any callback and counts
/// dropped clients.
struct Probe {
    service: Service<SqliteStore>,
    max_queued: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl Probe {
    fn watch(&self, ctx: &Ctx<Timer>, conn: ConnId) {
        self.max_queued
            .fetch_max(ctx.queued(conn), Ordering::Relaxed);
    }
}

impl Handler for Probe {
    type Timer = Timer;

    fn connected(&mut self, ctx: &mut Ctx<Timer>, conn: ConnId) {
        self.service.connected(ctx, conn);
    }

    fn message(&mut self, ctx: &mut Ctx<Timer>, conn: ConnId, msg: RawMessage) -> Verdict {
        let verdict = self.service.message(ctx, conn, msg);
        self.watch(ctx, conn);
        verdict
    }

    fn disconnected(&mut self, ctx: &mut Ctx<Timer>, conn: ConnId, reason: &DisconnectReason) {
        if matches!(reason, DisconnectReason::Dropped(_)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.service.disconnected(ctx, conn, reason);
    }

    fn timer(&mut self, ctx: &mut Ctx<Timer>, token: Timer) {
        self.service.timer(ctx, token);
    }

    fn drained(&mut self, ctx: &mut Ctx<Timer>, conn: ConnId) {
        self.service.drained(ctx, conn);
        self.watch(ctx, conn);
    }

    fn shutdown(&mut self, ctx: &mut Ctx<Timer>) {
        self.service.shutdown(ctx);
    }
}

/// The service on a runtime thread of this test process.
pub struct InProcess {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub limits: Limits,
    stop: StopHandle,
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
        let max_queued = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let probe = Probe {
            service,
            max_queued: max_queued.clone(),
            dropped: dropped.clone(),
        };
        let mut rt = Runtime::new(vec![listener], probe, limits).unwrap();
        let stop = rt.stop_handle();
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
        self.stop.stop();
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
