//! The driver of `gnunet-social` (`social.md` §14.2 with the fixes of G16): connect the
//! application, print its egos and places, carry out the operation on a place connection,
//! print what arrives, and say how it ended.
//!
//! Without `--follow` the whole run has 30 s; with it there is no time limit and, after the
//! operation, the tool prints the place's messages (and answers entry requests with
//! `--welcome` / `--deny`) until the connection ends or the place is left. Where it differs
//! from C:
//! - `--guest-enter` waits for the host's decision (C exited right after the local enter):
//!   success if admitted, failure if refused; with `--follow` it goes on after an admission.
//! - `--guest-talk` and `--guest-leave` wait for the decision the service repeats on
//!   re-entry before sending (the service drops a guest's messages before admission).
//! - `--guest-leave`, `--host-reconnect` and `--guest-reconnect` exit 0 when done (C ran
//!   into the timeout, exit 1).
//! - A place not listed for the application is an error at once (C waited for the timeout).
//! - The tool exits when done (C waited one more second).
//! - `--welcome` and `--deny` answer each entry request after a random delay drawn from the
//!   `[secushare] RESPONSE_DELAY` knob of the `-c` configuration (issue 13, point 4: an
//!   observer should not link a request to its automatic answer by their timing). Each
//!   request waits on its own clock, so several pending answers never hold each other up;
//!   the knobs are read again when the file changes. Answers still pending when a run
//!   without `--follow` ends are given before it exits.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use gnunet_service::client::service_socket;
use gnunet_service::config::{Config, ConfigError};
use gnunet_service::crypto::ecdsa;
use gnunet_service::peer::{HostKeyError, PeerIdentity};
use gnunet_service::privacy::{DelayQueue, Knobs, KnobsWatch};
use psyc::format::env::{Environment, Operator};
use psyc::format::message::PsycMessage;
use psyc::msg::policy;
use rand_core::OsRng;

use super::args::{Args, Op, Side};
use super::output::Output;
use crate::client::{self, App, AppEvent, ChannelSession, Event, Farewell, Place, PlaceInfo};

/// How long a run may take without `--follow` (C's `TIMEOUT`).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How long one wait lasts with `--follow` (it is simply repeated).
const FOLLOW_WAIT: Duration = Duration::from_secs(24 * 3600);

/// Why a run failed (exit code 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The configuration cannot be read.
    #[error("cannot read the configuration: {0}")]
    Config(#[from] ConfigError),
    /// Talking to the social service failed.
    #[error(transparent)]
    Social(client::Error),
    /// The run took longer than 30 s (C: `timeout()`).
    #[error("timeout: no answer from the social service in time")]
    Timeout,
    /// The arguments do not fit what the service listed (an unknown ego or place).
    #[error("{0}")]
    Usage(String),
    /// The host did not admit us.
    #[error("entry refused by the host (decision {0})")]
    Refused(i32),
    /// An operation's result is an error.
    #[error("--{op} failed with result {result}{}", error.as_deref().map(|e| format!(": {e}")).unwrap_or_default())]
    Failed {
        /// The operation.
        op: &'static str,
        /// Its result.
        result: i64,
        /// The service's error text.
        error: Option<String>,
    },
    /// Our own peer identity is needed (`--guest-enter` without `--peer`) and unreadable.
    #[error("cannot read this peer's identity (give --peer): {0}")]
    OwnPeer(#[from] HostKeyError),
    /// `--status --gns NAME` found no place, or GNS failed.
    #[error("look-up of {0}")]
    LookUp(String),
    /// The privacy knobs of the configuration are invalid.
    #[error("{0}")]
    Privacy(#[from] gnunet_service::config::StartError),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl From<client::Error> for CliError {
    fn from(e: client::Error) -> Self {
        if e.is_timeout() {
            CliError::Timeout
        } else {
            CliError::Social(e)
        }
    }
}

impl From<client::SessionError> for CliError {
    fn from(e: client::SessionError) -> Self {
        CliError::Social(e.into())
    }
}

/// The end of the run (none with `--follow`).
struct Deadline(Option<Instant>);

impl Deadline {
    /// What is left of the run, for the next wait.
    fn left(&self) -> Result<Duration, CliError> {
        match self.0 {
            None => Ok(FOLLOW_WAIT),
            Some(end) => {
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(CliError::Timeout)
                } else {
                    Ok(left)
                }
            }
        }
    }
}

/// Runs `args` against the social service the config names.
pub fn run<O: Write, E: Write>(args: &Args, out: &mut Output<O, E>) -> Result<(), CliError> {
    let config = Config::load(args.config.as_deref())?;
    if args.op == Op::Privacy {
        // The knobs the services read from the same configuration; no service is asked.
        return Ok(out.privacy(&gnunet_service::privacy::Knobs::from_config(&config)?)?);
    }
    if args.default_op {
        out.caution()?;
    }
    let socket = service_socket(&config, "social").map_err(client::Error::from)?;
    run_at(args, &config, &socket, out)
}

/// Runs `args` against the service at `socket` (`config`: for our own peer identity).
pub fn run_at<O: Write, E: Write>(
    args: &Args,
    config: &Config,
    socket: &Path,
    out: &mut Output<O, E>,
) -> Result<(), CliError> {
    let deadline = Deadline((!args.follow).then(|| Instant::now() + TIMEOUT));
    let mut app = App::connect_path(socket, &args.app, deadline.left()?.min(TIMEOUT))?;
    app.set_timeout(deadline.left()?);
    loop {
        match app.next_event(None)? {
            AppEvent::Ego(ego) => out.ego(&ego)?,
            AppEvent::Place(place) => out.place(&place)?,
            AppEvent::Connected => break,
            _ => {}
        }
    }
    out.listed()?;
    let (place, is_host, reconnect, entered) = match args.op {
        Op::Status => {
            if let Some(name) = &args.gns {
                let ego = ego(&app, args)?;
                let found = super::look_up::look_up(config, ego, name, deadline.left()?)?;
                out.looked_up(name, &found.place, found.level)?;
            }
            return Ok(());
        }
        Op::Privacy => return Ok(()),
        Op::HostEnter => {
            let ego = ego(&app, args)?;
            let (place, entered) = app.host_enter(ego, policy::PRIVATE)?;
            (place, true, false, entered)
        }
        Op::GuestEnter => {
            let ego = ego(&app, args)?;
            let join = entry_request();
            let (place, entered) = match (&args.gns, args.place) {
                (Some(name), _) => app.guest_enter_by_name(ego, name, "", Some(&join))?,
                (None, Some(key)) => {
                    let origin = match args.peer {
                        Some(peer) => peer,
                        None => own_peer(config)?,
                    };
                    app.guest_enter(ego, key, origin, Vec::new(), Some(&join))?
                }
                (None, None) => return Err(CliError::Usage("--place missing or invalid.".into())),
            };
            (place, false, false, entered)
        }
        op => {
            let info = find_place(&app, args, op.side())?;
            let (place, entered) = if info.is_host {
                app.host_reconnect(&info)?
            } else {
                app.guest_reconnect(&info, 0)?
            };
            (place, info.is_host, true, entered)
        }
    };
    out.entered(is_host, reconnect, &entered)?;
    if entered.result < 0 {
        return Err(CliError::Failed {
            op: args.op.long(),
            result: entered.result.into(),
            error: None,
        });
    }
    let answers = (is_host && (args.welcome || args.deny))
        .then(|| answer_knobs(args, config))
        .transpose()?;
    let mut driver = Driver {
        args,
        out,
        place,
        is_host,
        deadline,
        answers,
        pending: DelayQueue::new(),
    };
    driver.operation()?;
    if args.follow && !matches!(args.op, Op::HostLeave | Op::GuestLeave) {
        driver.follow()
    } else {
        driver.drain()
    }
}

/// The ego of `--ego`, among the listed ones.
fn ego(app: &App, args: &Args) -> Result<ecdsa::PublicKey, CliError> {
    args.ego
        .as_ref()
        .and_then(|e| e.find(app.egos()))
        .map(|e| e.pub_key)
        .ok_or_else(|| CliError::Usage("--ego missing or invalid".into()))
}

/// The listed place of `--place` on `side`: the one entered with `--ego` if given, a hosted
/// one before an entered one.
fn find_place(app: &App, args: &Args, side: Side) -> Result<PlaceInfo, CliError> {
    let key = args
        .place
        .ok_or_else(|| CliError::Usage("--place missing or invalid.".into()))?;
    let fits = |p: &&PlaceInfo| {
        p.place_pub_key == key
            && match side {
                Side::Host => p.is_host,
                Side::Guest => !p.is_host,
                Side::Any => true,
                Side::None => false,
            }
    };
    let ego = args.ego.as_ref().and_then(|e| e.find(app.egos()));
    let mut candidates: Vec<&PlaceInfo> = app.places().iter().filter(fits).collect();
    candidates.sort_by_key(|p| (ego.is_some_and(|e| e.pub_key != p.ego_pub_key), !p.is_host));
    candidates.first().map(|p| **p).ok_or_else(|| {
        let how = match side {
            Side::Host => "hosts",
            Side::Guest => "entered as guest",
            _ => "entered",
        };
        CliError::Usage(format!(
            "{key} is not a place this application ({}) {how} (see --status)",
            args.app
        ))
    })
}

/// The privacy knobs of the `-c` file, watched for changes: their response delay spaces out
/// the automatic entry answers.
fn answer_knobs(args: &Args, config: &Config) -> Result<KnobsWatch, CliError> {
    let knobs = Knobs::from_config(config)
        .map_err(|e| CliError::Usage(format!("bad [secushare] option: {e}")))?;
    Ok(KnobsWatch::new(args.config.clone(), knobs))
}

/// This peer's identity, from its host key (`[PEER] PRIVATE_KEY`).
fn own_peer(config: &Config) -> Result<PeerIdentity, CliError> {
    let path = config
        .get_filename("PEER", "PRIVATE_KEY")
        .ok_or_else(|| CliError::Usage("no [PEER] PRIVATE_KEY configured (give --peer)".into()))?;
    Ok(PeerIdentity::from_private_key_file(&path)?)
}

/// The CLI's entry request (C's `guest_enter_msg_create`).
pub fn entry_request() -> PsycMessage {
    let mut m = PsycMessage::new("_request_enter");
    set(&mut m.env, "_foo", b"bar\0");
    m.data = b"let me in\0".to_vec();
    m
}

/// Adds a `:` modifier with a name known to be valid.
fn set(env: &mut Environment, name: &str, value: &[u8]) {
    env.push(psyc::format::env::Modifier {
        oper: Operator::Set,
        name: name.to_owned(),
        value: value.to_vec(),
    });
}

/// The host's answer to an entry request with `--welcome` (the request's modifiers echoed)
/// or `--deny`, as C builds them.
pub fn entry_answer(welcome: bool, request: Option<&PsycMessage>) -> PsycMessage {
    if welcome {
        let mut m = PsycMessage::new("_notice_place_admit");
        m.env = request.map(|r| r.env.clone()).unwrap_or_default();
        m.data = b"Welcome, nym!\0".to_vec();
        m
    } else {
        let mut m = PsycMessage::new("_notice_place_refuse");
        m.data = b"Go away!\0".to_vec();
        m
    }
}

/// An automatic entry answer waiting for its delay.
struct PendingAnswer {
    guest: ecdsa::PublicKey,
    admit: bool,
    answer: PsycMessage,
}

/// A place connection at work.
struct Driver<'a, O, E> {
    args: &'a Args,
    out: &'a mut Output<O, E>,
    place: Place,
    is_host: bool,
    deadline: Deadline,
    /// The knobs behind the delay of automatic entry answers (`--welcome` / `--deny` only).
    answers: Option<KnobsWatch>,
    /// Entry answers drawn a delay and not yet given.
    pending: DelayQueue<PendingAnswer>,
}

impl<O: Write, E: Write> Driver<'_, O, E> {
    /// Sets the place's timeout to what is left of the run.
    fn clock(&mut self) -> Result<(), CliError> {
        let left = self.deadline.left()?;
        self.place.set_timeout(left);
        Ok(())
    }

    fn operation(&mut self) -> Result<(), CliError> {
        let args = self.args;
        match args.op {
            Op::HostEnter | Op::HostReconnect | Op::GuestReconnect | Op::Status | Op::Privacy => {
                Ok(())
            }
            Op::GuestEnter => self.await_admission(),
            Op::HostAnnounce | Op::GuestTalk => {
                if !self.is_host {
                    self.await_admission()?;
                }
                let mut env = Environment::new();
                set(&mut env, "_foo", b"bar baz\0");
                self.send(args.method(), env, args.data.as_bytes().to_vec())
            }
            Op::HostAssign => {
                let mut env = Environment::new();
                let mut value = args.data.as_bytes().to_vec();
                value.push(0);
                env.add(Operator::Assign, &args.name, value).map_err(|e| {
                    CliError::Usage(format!("--name `{}' is no variable name: {e}", args.name))
                })?;
                self.send("_assign", env, Vec::new())
            }
            Op::HostLeave | Op::GuestLeave => {
                if !self.is_host {
                    match self.await_admission() {
                        Ok(()) | Err(CliError::Refused(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                let mut env = Environment::new();
                if !self.is_host {
                    set(&mut env, "_message", b"Leaving.\0");
                }
                self.out.info("Leaving the place…")?;
                self.clock()?;
                self.place.leave(env)?;
                self.out.left(self.is_host)?;
                Ok(())
            }
            Op::Replay | Op::ReplayLatest => {
                self.out.info("Fetching history…")?;
                self.clock()?;
                let prefix = args.method_prefix();
                let history = if args.op == Op::Replay {
                    self.place.history_replay(args.start, args.until, prefix)?
                } else {
                    self.place.history_latest(args.limit, prefix)?
                };
                for m in &history.messages {
                    self.out.message(m)?;
                }
                for e in &history.invalid {
                    self.out.dropped(0, &e.to_string())?;
                }
                self.finish(history.result, None)
            }
            Op::LookAt | Op::LookFor => {
                self.out.info("Looking up state…")?;
                self.clock()?;
                let vars = if args.op == Op::LookAt {
                    self.place.look_at(&args.name)?
                } else {
                    self.place.look_for(&args.name)?
                };
                for (name, value) in &vars.vars {
                    self.out.var(name, value)?;
                }
                self.finish(vars.result, None)
            }
        }
    }

    /// An operation's result: printed, an error if negative.
    fn finish(&mut self, result: i64, error: Option<String>) -> Result<(), CliError> {
        let op = self.args.op.long();
        self.out.result(op, result, error.as_deref())?;
        if result < 0 {
            return Err(CliError::Failed { op, result, error });
        }
        Ok(())
    }

    /// Announces or talks, and waits for the message to be acknowledged.
    fn send(&mut self, method: &str, env: Environment, data: Vec<u8>) -> Result<(), CliError> {
        self.clock()?;
        let cancelled = if self.is_host {
            self.place.announce(method, env, data)?
        } else {
            self.place.talk(method, env, data)?
        };
        self.out.transmitted(method, cancelled)?;
        Ok(())
    }

    /// Guest: waits for the host's decision unless admitted already; an error unless
    /// admitted.
    fn await_admission(&mut self) -> Result<(), CliError> {
        if self.place.session().channel().is_ready() {
            return Ok(());
        }
        self.out.info("Waiting for the host's decision…")?;
        loop {
            self.clock()?;
            let event = self.place.next_event(None)?;
            let decision = match &event {
                Event::JoinDecision { is_admitted, .. } => Some(*is_admitted),
                _ => None,
            };
            self.show(event)?;
            match decision {
                Some(1) => return Ok(()),
                Some(d) => return Err(CliError::Refused(d)),
                None => {}
            }
        }
    }

    /// Prints an event of the place; answers entry requests as told.
    fn show(&mut self, event: Event) -> Result<(), CliError> {
        match event {
            Event::Message(m) => {
                self.out.message(&m)?;
                if let Some(f) = Farewell::from_message(&m).filter(|_| self.is_host) {
                    self.out.farewell(f.nym, &f.env)?;
                }
            }
            Event::MessageCancelled { message_id, .. } => self.out.cancelled(message_id)?,
            Event::MessageDropped {
                message_id, reason, ..
            } => self.out.dropped(message_id, &format!("{reason:?}"))?,
            Event::JoinRequest {
                slave_pub_key,
                message,
            } => {
                self.out.entry_request(slave_pub_key, message.as_ref())?;
                if let Some(knobs) = self.answers.as_mut().filter(|_| self.is_host) {
                    let admit = self.args.welcome;
                    let delay = knobs.current().response_delay.sample(&mut OsRng);
                    tracing::debug!(?delay, admit, "entry answer delayed");
                    let answer = PendingAnswer {
                        guest: slave_pub_key,
                        admit,
                        answer: entry_answer(admit, message.as_ref()),
                    };
                    self.pending.push(Instant::now(), delay, answer);
                    self.answer_due()?;
                }
            }
            Event::JoinDecision {
                is_admitted,
                response,
            } => self.out.decision(is_admitted, response.as_ref())?,
            Event::Parted => self.out.left(self.is_host)?,
            other => tracing::debug!(?other, "place event"),
        }
        Ok(())
    }

    /// Gives the entry answers whose delay is over.
    fn answer_due(&mut self) -> Result<(), CliError> {
        while let Some(p) = self.pending.pop_due(Instant::now()) {
            self.place
                .entry_decision(p.guest, p.admit, Some(&p.answer))?;
            self.out.entry_answered(p.guest, p.admit)?;
        }
        Ok(())
    }

    /// How long the next wait for an event may be: at most `longest`, and no longer than
    /// until the next pending entry answer is due.
    fn wait_at_most(&self, longest: Duration) -> Duration {
        self.pending.next_release().map_or(longest, |at| {
            at.saturating_duration_since(Instant::now()).min(longest)
        })
    }

    /// Prints what has arrived already (the run is over), and gives the entry answers still
    /// pending when their time comes.
    fn drain(&mut self) -> Result<(), CliError> {
        loop {
            let wait = self.wait_at_most(FOLLOW_WAIT);
            let wait = if self.pending.is_empty() {
                Duration::ZERO
            } else {
                wait
            };
            match self.place.next_event(Some(wait)) {
                Ok(event) => self.show(event)?,
                Err(e) if e.is_timeout() => {
                    self.answer_due()?;
                    if self.pending.is_empty() {
                        return Ok(());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `--follow`: prints the place's events until the connection ends, or until the place
    /// is left (another client of ours left it: the service sends PLACE_LEAVE_ACK to every
    /// client of the place, and nothing more can come) — then the run is done.
    fn follow(&mut self) -> Result<(), CliError> {
        loop {
            let wait = self.wait_at_most(FOLLOW_WAIT);
            match self.place.next_event(Some(wait)) {
                Ok(Event::Parted) => return self.show(Event::Parted),
                Ok(event) => self.show(event)?,
                Err(e) if e.is_timeout() => {}
                Err(e) => return Err(e.into()),
            }
            self.answer_due()?;
        }
    }
}
