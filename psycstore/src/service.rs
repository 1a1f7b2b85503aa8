//! The service driver: puts the sans-IO [`crate::handler`] on the runtime's loop.
//!
//! One [`Service`] serves every client of one store:
//! - writes of all clients collect into one batch, committed when the loop turn ends (a
//!   zero-delay timer fires after the turn's reads), when the batch is full, or before any
//!   other job starts; a write's RESULT_CODE is sent only after its batch committed;
//! - a read runs as a [`ReplyStream`] that produces bounded batches while the client's send
//!   queue is below the runtime's pause mark, and resumes from [`Handler::drained`];
//! - requests that arrive while a client's read is still streaming wait in that client's
//!   backlog, so each client gets its replies in request order;
//! - a malformed or unknown message drops its client with a log line naming type and size.
//!
//! The runtime stops reading from a client whose queue passed the pause mark, so a backlog
//! holds at most what was already read (one read buffer).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use gnunet_service::config::Config;
use gnunet_service::server::{ConnId, Ctx, DisconnectReason, Handler, Limits, Verdict};
use gnunet_service::wire::RawMessage;
use tracing::debug;

use crate::handler::{commit, plan, Job, PendingWrite, ReplyStream};
use crate::msg::Request;
use crate::store::{SqliteOptions, SqliteStore, Store, StoreError, Synchronous};

/// Config section of the service.
pub const SECTION: &str = "psycstore";

/// Writes per transaction at most; a full batch commits at once.
pub const MAX_BATCH: usize = 8192;

/// Reply messages a read produces per step before looking at the queue again.
const STREAM_STEP: usize = 64;

/// The service's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The end-of-turn commit of the write batch.
    Commit,
}

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// `[psycstore] DATABASE` is missing.
    #[error("[psycstore] DATABASE is not set")]
    NoDatabase,
    /// `[psycstore] DATABASE` names a backend this service does not have.
    #[error("[psycstore] DATABASE = {0}: only sqlite is supported")]
    UnsupportedDatabase(String),
    /// `[psycstore-sqlite] FILENAME` is missing.
    #[error("[psycstore-sqlite] FILENAME is not set")]
    NoFilename,
    /// A config value could not be read.
    #[error("bad configuration value [{section}] {option}: {reason}")]
    BadValue {
        /// Section.
        section: &'static str,
        /// Option.
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Opening the database failed.
    #[error("cannot open the database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
}

/// Where and how the service keeps its data, from the config.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `[psycstore-sqlite] FILENAME`, expanded.
    pub filename: PathBuf,
    /// sqlite options; `[psycstore-sqlite] SYNCHRONOUS = NORMAL` (default FULL) relaxes fsync.
    pub options: SqliteOptions,
}

impl StoreConfig {
    /// Reads `[psycstore] DATABASE` (must be sqlite, any case) and `[psycstore-sqlite]`.
    pub fn from_config(config: &Config) -> Result<Self, ServiceError> {
        let database = config
            .get_string(SECTION, "DATABASE")
            .ok_or(ServiceError::NoDatabase)?;
        if !database.eq_ignore_ascii_case("sqlite") {
            return Err(ServiceError::UnsupportedDatabase(database));
        }
        let filename = config
            .get_filename("psycstore-sqlite", "FILENAME")
            .filter(|p| !p.as_os_str().is_empty())
            .ok_or(ServiceError::NoFilename)?;
        let mut options = SqliteOptions::default();
        if let Some(sync) = config.get_string("psycstore-sqlite", "SYNCHRONOUS") {
            options.synchronous = match sync.to_ascii_uppercase().as_str() {
                "FULL" => Synchronous::Full,
                "NORMAL" => Synchronous::Normal,
                other => {
                    return Err(ServiceError::BadValue {
                        section: "psycstore-sqlite",
                        option: "SYNCHRONOUS",
                        reason: format!("{other:?} is neither FULL nor NORMAL"),
                    })
                }
            };
        }
        Ok(Self { filename, options })
    }

    /// Opens (creating file and directories as needed) the database.
    pub fn open(&self) -> Result<SqliteStore, ServiceError> {
        SqliteStore::open(&self.filename, &self.options).map_err(|source| ServiceError::Open {
            path: self.filename.clone(),
            source,
        })
    }
}

/// What the service knows about one client.
#[derive(Debug, Default)]
struct Client {
    /// The read being streamed to it.
    streaming: Option<ReplyStream>,
    /// Requests that arrived while a read was streaming, in order.
    backlog: VecDeque<Request>,
}

/// The PSYCstore service on one store: a [`Handler`] for the runtime.
#[derive(Debug)]
pub struct Service<S: Store> {
    store: S,
    clients: HashMap<ConnId, Client>,
    batch: Vec<PendingWrite>,
    /// Who sent each write of `batch` (same index).
    batch_owners: Vec<ConnId>,
    commit_timer_armed: bool,
    /// A client's queue above this stops its read stream until `drained`.
    pause_at: usize,
    max_batch: usize,
}

impl<S: Store> Service<S> {
    /// A service on `store`, for a runtime with the default [`Limits`].
    pub fn new(store: S) -> Self {
        Self::with_limits(store, &Limits::default())
    }

    /// A service on `store`, for a runtime with `limits`.
    pub fn with_limits(store: S, limits: &Limits) -> Self {
        Self {
            store,
            clients: HashMap::new(),
            batch: Vec::new(),
            batch_owners: Vec::new(),
            commit_timer_armed: false,
            pause_at: limits.pause_reading_at,
            max_batch: MAX_BATCH,
        }
    }

    /// Caps the write batch (tests; at least 1).
    pub fn set_max_batch(&mut self, max: usize) {
        self.max_batch = max.max(1);
    }

    /// The store, e.g. for inspection after the loop ended.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Commits the pending writes and sends their replies.
    fn commit_batch(&mut self, ctx: &mut Ctx<Timer>) {
        if self.batch.is_empty() {
            return;
        }
        let replies = commit(&mut self.store, &self.batch);
        debug!(writes = self.batch.len(), "batch committed");
        self.batch.clear();
        for (conn, reply) in self.batch_owners.drain(..).zip(replies) {
            // A client gone since its write was taken just misses the answer.
            let _ = ctx.send(conn, reply);
        }
    }

    /// Starts one request of `conn` (whose previous requests are all done or batched).
    /// Returns whether a read is now streaming to it.
    fn start(
        &mut self,
        ctx: &mut Ctx<Timer>,
        conn: ConnId,
        request: Request,
    ) -> Option<ReplyStream> {
        match plan(request) {
            Job::Write(write) => {
                self.batch.push(write);
                self.batch_owners.push(conn);
                if self.batch.len() >= self.max_batch {
                    self.commit_batch(ctx);
                } else if !self.commit_timer_armed {
                    // fires after this turn's reads: the end-of-turn group commit
                    ctx.set_timer(Duration::ZERO, Timer::Commit);
                    self.commit_timer_armed = true;
                }
                None
            }
            Job::Reply(replies) => {
                self.commit_batch(ctx);
                for reply in replies {
                    let _ = ctx.send(conn, reply);
                }
                None
            }
            Job::Read(stream) => {
                // the read must see this client's earlier writes, and answer after them
                self.commit_batch(ctx);
                Some(stream)
            }
        }
    }

    /// Produces replies for `conn` until its queue passes the pause mark or it has nothing
    /// left to do: the current read, then its backlog.
    fn pump(&mut self, ctx: &mut Ctx<Timer>, conn: ConnId) {
        loop {
            let Some(client) = self.clients.get_mut(&conn) else {
                return;
            };
            if let Some(stream) = client.streaming.as_mut() {
                while !stream.is_finished() {
                    if !ctx.is_open(conn) {
                        return;
                    }
                    if ctx.queued(conn) > self.pause_at {
                        // the runtime calls `drained` once the client caught up
                        return;
                    }
                    for reply in stream.next_batch(&mut self.store, STREAM_STEP) {
                        if ctx.send(conn, reply).is_err() {
                            return;
                        }
                    }
                }
                client.streaming = None;
            }
            let Some(request) = client.backlog.pop_front() else {
                return;
            };
            let stream = self.start(ctx, conn, request);
            if let Some(client) = self.clients.get_mut(&conn) {
                client.streaming = stream;
            }
        }
    }
}

impl<S: Store> Handler for Service<S> {
    type Timer = Timer;

    fn connected(&mut self, _ctx: &mut Ctx<Timer>, conn: ConnId) {
        self.clients.insert(conn, Client::default());
    }

    fn message(&mut self, ctx: &mut Ctx<Timer>, conn: ConnId, msg: RawMessage) -> Verdict {
        let request = match Request::decode(msg.bytes()) {
            Ok(r) => r,
            // the error names type and size
            Err(e) => return Verdict::Drop(e.to_string()),
        };
        let client = self.clients.entry(conn).or_default();
        if client.streaming.is_some() || !client.backlog.is_empty() {
            client.backlog.push_back(request);
            return Verdict::Continue;
        }
        let stream = self.start(ctx, conn, request);
        if stream.is_some() {
            if let Some(client) = self.clients.get_mut(&conn) {
                client.streaming = stream;
            }
            self.pump(ctx, conn);
        }
        Verdict::Continue
    }

    fn disconnected(&mut self, _ctx: &mut Ctx<Timer>, conn: ConnId, reason: &DisconnectReason) {
        if let Some(client) = self.clients.remove(&conn) {
            if !client.backlog.is_empty() {
                // A client may leave before its answers: its business, not a fault.
                debug!(
                    conn = %conn,
                    ?reason,
                    unanswered = client.backlog.len(),
                    "client left with requests not yet started; they are dropped"
                );
            }
        }
        // Its batched writes still commit with the batch: they were accepted.
    }

    fn timer(&mut self, ctx: &mut Ctx<Timer>, token: Timer) {
        match token {
            Timer::Commit => {
                self.commit_timer_armed = false;
                self.commit_batch(ctx);
            }
        }
    }

    fn drained(&mut self, ctx: &mut Ctx<Timer>, conn: ConnId) {
        self.pump(ctx, conn);
    }

    fn shutdown(&mut self, ctx: &mut Ctx<Timer>) {
        self.commit_batch(ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let mut c = Config::default();
        c.parse_str(text, "/tmp/psycstore-test.conf").unwrap();
        c
    }

    #[test]
    fn store_config_reads_database_and_filename() {
        let c = config(
            "[PATHS]\nGNUNET_DATA_HOME = /data/home\n[psycstore]\nDATABASE = SQLite\n\
             [psycstore-sqlite]\nFILENAME = $GNUNET_DATA_HOME/psycstore/sqlite.db\n",
        );
        let s = StoreConfig::from_config(&c).unwrap();
        assert_eq!(s.filename, PathBuf::from("/data/home/psycstore/sqlite.db"));
        assert_eq!(s.options.synchronous, Synchronous::Full);
        let c = config(
            "[psycstore]\nDATABASE = sqlite\n[psycstore-sqlite]\nFILENAME = /x.db\n\
             SYNCHRONOUS = normal\n",
        );
        assert_eq!(
            StoreConfig::from_config(&c).unwrap().options.synchronous,
            Synchronous::Normal
        );
    }

    #[test]
    fn store_config_refuses_what_it_cannot_serve() {
        let err = |text| StoreConfig::from_config(&config(text)).unwrap_err();
        assert!(matches!(
            err("[psycstore-sqlite]\nFILENAME = /x.db\n"),
            ServiceError::NoDatabase
        ));
        assert!(matches!(
            err("[psycstore]\nDATABASE = mysql\n"),
            ServiceError::UnsupportedDatabase(d) if d == "mysql"
        ));
        assert!(matches!(
            err("[psycstore]\nDATABASE = sqlite\n"),
            ServiceError::NoFilename
        ));
        assert!(matches!(
            err("[psycstore]\nDATABASE = sqlite\n[psycstore-sqlite]\nFILENAME = /x\nSYNCHRONOUS = OFF\n"),
            ServiceError::BadValue { .. }
        ));
    }

    #[test]
    fn open_creates_the_directories() {
        let dir = tempfile::tempdir().unwrap();
        let filename = dir.path().join("a/b/psycstore/sqlite.db");
        let s = StoreConfig {
            filename: filename.clone(),
            options: SqliteOptions::default(),
        };
        s.open().unwrap();
        assert!(filename.exists());
    }
}
