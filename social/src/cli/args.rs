//! The command line of `gnunet-social` (`social.md` §14.1): the C tool's options with their
//! short and long names, GNUnet's `-c -L -l -h -v`, and `--json`; checked as the C tool checks
//! them, with its messages, before anything is connected.

use std::ffi::OsString;
use std::path::PathBuf;

use gnunet_service::crypto::eddsa;
use gnunet_service::options::LogLevel;
use gnunet_service::peer::PeerIdentity;

use super::keys::{parse_place, EgoArg};

/// The tool's operations; without one, [`Op::Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `-U --status`: list egos and places.
    Status,
    /// `-C --host-enter`: create a place.
    HostEnter,
    /// `-N --host-reconnect`: enter a hosted place again.
    HostReconnect,
    /// `-D --host-leave`: stop hosting a place.
    HostLeave,
    /// `-P --host-announce`: announce a message.
    HostAnnounce,
    /// `-A --host-assign`: set a state variable.
    HostAssign,
    /// `-E --guest-enter`: enter somebody's place.
    GuestEnter,
    /// `-R --guest-reconnect`: enter an entered place again.
    GuestReconnect,
    /// `-B --guest-leave`: say good-bye and leave.
    GuestLeave,
    /// `-T --guest-talk`: talk to the host.
    GuestTalk,
    /// `-X --replay`: history by message id range.
    Replay,
    /// `-H --replay-latest`: the latest messages.
    ReplayLatest,
    /// `-S --look-at`: a state variable by exact name.
    LookAt,
    /// `-F --look-for`: state variables by prefix.
    LookFor,
    /// `--privacy`: the effective privacy knobs of the configuration (no service needed).
    Privacy,
}

/// Which side of a place an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// No place.
    None,
    /// A place this application hosts.
    Host,
    /// A place this application entered as guest.
    Guest,
    /// Either.
    Any,
}

impl Op {
    /// Every operation with its short and long option.
    const ALL: [(Op, char, &'static str); 14] = [
        (Op::Status, 'U', "status"),
        (Op::HostEnter, 'C', "host-enter"),
        (Op::HostReconnect, 'N', "host-reconnect"),
        (Op::HostLeave, 'D', "host-leave"),
        (Op::HostAnnounce, 'P', "host-announce"),
        (Op::HostAssign, 'A', "host-assign"),
        (Op::GuestEnter, 'E', "guest-enter"),
        (Op::GuestReconnect, 'R', "guest-reconnect"),
        (Op::GuestLeave, 'B', "guest-leave"),
        (Op::GuestTalk, 'T', "guest-talk"),
        (Op::Replay, 'X', "replay"),
        (Op::ReplayLatest, 'H', "replay-latest"),
        (Op::LookAt, 'S', "look-at"),
        (Op::LookFor, 'F', "look-for"),
    ];

    /// Its long option.
    pub fn long(self) -> &'static str {
        if self == Op::Privacy {
            return "privacy";
        }
        Self::ALL
            .iter()
            .find(|(op, _, _)| *op == self)
            .map_or("status", |(_, _, long)| long)
    }

    /// The existing place it works on (host-enter and guest-enter make theirs).
    pub fn side(self) -> Side {
        match self {
            Op::Status | Op::HostEnter | Op::GuestEnter | Op::Privacy => Side::None,
            Op::HostReconnect | Op::HostLeave | Op::HostAnnounce | Op::HostAssign => Side::Host,
            Op::GuestReconnect | Op::GuestLeave | Op::GuestTalk => Side::Guest,
            Op::Replay | Op::ReplayLatest | Op::LookAt | Op::LookFor => Side::Any,
        }
    }

    fn from_short(c: char) -> Option<Op> {
        Self::ALL
            .iter()
            .find(|(_, s, _)| *s == c)
            .map(|(op, _, _)| *op)
    }

    fn from_long(name: &str) -> Option<Op> {
        Self::ALL
            .iter()
            .find(|(_, _, l)| *l == name)
            .map(|(op, _, _)| *op)
    }
}

/// A checked command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// `-c FILE`.
    pub config: Option<PathBuf>,
    /// `-L LEVEL`.
    pub log_level: Option<LogLevel>,
    /// `-l FILE`.
    pub log_file: Option<String>,
    /// The operation.
    pub op: Op,
    /// No operation was given (status by default, with C's caution line).
    pub default_op: bool,
    /// `-a --app` (default `cli`).
    pub app: String,
    /// `-d --data` (default empty).
    pub data: String,
    /// `-e --ego`.
    pub ego: Option<EgoArg>,
    /// `-f --follow`.
    pub follow: bool,
    /// `-g --gns`.
    pub gns: Option<String>,
    /// `-i --peer`.
    pub peer: Option<PeerIdentity>,
    /// `-k --name` (default empty).
    pub name: String,
    /// `-m --method` as given.
    pub method: Option<String>,
    /// `-n --limit`.
    pub limit: u64,
    /// `-p --place`, when the operation needs it.
    pub place: Option<eddsa::PublicKey>,
    /// `-s --start`.
    pub start: u64,
    /// `-u --until`.
    pub until: u64,
    /// `-w --welcome`.
    pub welcome: bool,
    /// `-y --deny`.
    pub deny: bool,
    /// `--json`.
    pub json: bool,
}

impl Args {
    /// The method to announce or talk with: `--method`, else `message` (as C).
    pub fn method(&self) -> &str {
        self.method.as_deref().unwrap_or("message")
    }

    /// The method prefix of a replay: `--method`, else `""`, every message (C defaulted to
    /// `message` here too, gap G16).
    pub fn method_prefix(&self) -> &str {
        self.method.as_deref().unwrap_or("")
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run.
    Run(Box<Args>),
    /// `-h`: print the help and exit 0.
    Help,
    /// `-v`: print the version and exit 0.
    Version,
}

/// A command line that cannot be used: what to say, and the exit code (1; 2 when an argument
/// is not UTF-8, as C's `GNUNET_STRINGS_get_utf8_args` failing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ArgError {
    /// The message.
    pub message: String,
    /// The exit code.
    pub exit_code: u8,
}

impl ArgError {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: 1,
        }
    }
}

impl From<lexopt::Error> for ArgError {
    fn from(e: lexopt::Error) -> Self {
        Self::usage(e.to_string())
    }
}

/// The raw option values, before checking.
#[derive(Default)]
struct Raw {
    ops: Vec<Op>,
    place: Option<String>,
    ego: Option<String>,
    peer: Option<String>,
}

/// Parses and checks the arguments after the program name.
pub fn parse<I>(args: I) -> Result<Command, ArgError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if let Some(bad) = args.iter().find(|a| a.to_str().is_none()) {
        return Err(ArgError {
            message: format!("argument {bad:?} is not valid UTF-8"),
            exit_code: 2,
        });
    }
    let mut p = lexopt::Parser::from_args(args);
    let mut raw = Raw::default();
    let mut a = Args {
        config: None,
        log_level: None,
        log_file: None,
        op: Op::Status,
        default_op: false,
        app: "cli".to_owned(),
        data: String::new(),
        ego: None,
        follow: false,
        gns: None,
        peer: None,
        name: String::new(),
        method: None,
        limit: 0,
        place: None,
        start: 0,
        until: 0,
        welcome: false,
        deny: false,
        json: false,
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('c') | Long("config") => a.config = Some(p.value()?.into()),
            Short('L') | Long("log") => {
                let level = p.value()?.string()?;
                a.log_level = Some(level.parse().map_err(
                    |e: gnunet_service::options::OptionsError| ArgError::usage(e.to_string()),
                )?);
            }
            Short('l') | Long("logfile") => a.log_file = Some(p.value()?.string()?),
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('v') | Long("version") => return Ok(Command::Version),
            Short('a') | Long("app") => a.app = p.value()?.string()?,
            Short('d') | Long("data") => a.data = p.value()?.string()?,
            Short('e') | Long("ego") => raw.ego = Some(p.value()?.string()?),
            Short('f') | Long("follow") => a.follow = true,
            Short('g') | Long("gns") => a.gns = Some(p.value()?.string()?),
            Short('i') | Long("peer") => raw.peer = Some(p.value()?.string()?),
            Short('k') | Long("name") => a.name = p.value()?.string()?,
            Short('m') | Long("method") => a.method = Some(p.value()?.string()?),
            Short('n') | Long("limit") => a.limit = number(&mut p, "--limit")?,
            Short('p') | Long("place") => raw.place = Some(p.value()?.string()?),
            Short('s') | Long("start") => a.start = number(&mut p, "--start")?,
            Short('u') | Long("until") => a.until = number(&mut p, "--until")?,
            Short('w') | Long("welcome") => a.welcome = true,
            Short('y') | Long("deny") => a.deny = true,
            Long("json") => a.json = true,
            Long("privacy") => raw.ops.push(Op::Privacy),
            Short(c) if Op::from_short(c).is_some() => raw.ops.extend(Op::from_short(c)),
            Long(name) if Op::from_long(name).is_some() => raw.ops.extend(Op::from_long(name)),
            Value(v) => {
                return Err(ArgError::usage(format!(
                    "unexpected argument {:?}",
                    v.string()?
                )))
            }
            other => return Err(other.unexpected().into()),
        }
    }
    check(a, raw).map(|a| Command::Run(Box::new(a)))
}

fn number(p: &mut lexopt::Parser, option: &str) -> Result<u64, ArgError> {
    use lexopt::ValueExt;
    let text = p.value()?.string()?;
    text.parse()
        .map_err(|_| ArgError::usage(format!("{option}: `{text}' is not a number")))
}

/// The checks the C tool makes before connecting, with its messages.
fn check(mut a: Args, raw: Raw) -> Result<Args, ArgError> {
    let mut ops: Vec<Op> = Vec::new();
    for op in raw.ops {
        if !ops.contains(&op) {
            ops.push(op);
        }
    }
    match ops[..] {
        [] => {
            a.op = Op::Status;
            a.default_op = true;
        }
        [op] => a.op = op,
        [first, second, ..] => {
            return Err(ArgError::usage(format!(
                "give one operation at a time (--{} and --{} given)",
                first.long(),
                second.long()
            )))
        }
    }
    let needs_place = a.op.side() != Side::None || (a.op == Op::GuestEnter && a.gns.is_none());
    if needs_place {
        a.place = raw.place.as_deref().and_then(parse_place);
        if a.place.is_none() {
            return Err(ArgError::usage("--place missing or invalid."));
        }
    }
    if let Some(ego) = raw.ego {
        a.ego = Some(EgoArg::parse(&ego).map_err(|e| ArgError::usage(e.to_string()))?);
    }
    if matches!(a.op, Op::HostEnter | Op::GuestEnter) && a.ego.is_none() {
        return Err(ArgError::usage("--ego missing or invalid"));
    }
    if a.op == Op::GuestEnter && a.gns.is_none() {
        if let Some(peer) = raw.peer {
            a.peer = Some(
                peer.parse()
                    .map_err(|_| ArgError::usage("--peer invalid"))?,
            );
        }
    }
    if a.op == Op::ReplayLatest && a.limit == 0 {
        return Err(ArgError::usage("--limit must be at least 1"));
    }
    if a.op == Op::Replay && a.start > a.until {
        return Err(ArgError::usage("--start must not be after --until"));
    }
    Ok(a)
}

/// The help text (`-h`).
pub fn help_text() -> String {
    let usage = "\
gnunet-social [--status] [--gns <GNS_NAME> --ego <NAME or PUBKEY>]
gnunet-social --privacy

gnunet-social --host-enter --ego <NAME or PUBKEY> [--follow] [--welcome | --deny]
gnunet-social --host-reconnect --place <PUBKEY> [--follow] [--welcome | --deny]
gnunet-social --host-leave --place <PUBKEY>
gnunet-social --host-assign --place <PUBKEY> --name <NAME> --data <VALUE>
gnunet-social --host-announce --place <PUBKEY> --method <METHOD_NAME> --data <MESSAGE_BODY>

gnunet-social --guest-enter --place <PUBKEY> --peer <PEERID> --ego <NAME or PUBKEY> [--follow]
gnunet-social --guest-enter --gns <GNS_NAME> --ego <NAME or PUBKEY> [--follow]
gnunet-social --guest-reconnect --place <PUBKEY> [--follow]
gnunet-social --guest-leave --place <PUBKEY>
gnunet-social --guest-talk --place <PUBKEY> --method <METHOD_NAME> --data <MESSAGE_BODY>

gnunet-social --replay --place <PUBKEY> --start <MSGID> --until <MSGID>  [--method <METHOD_PREFIX>]
gnunet-social --replay-latest --place <PUBKEY> --limit <MSG_LIMIT> [--method <METHOD_PREFIX>]

gnunet-social --look-at --place <PUBKEY> --name <FULL_NAME>
gnunet-social --look-for --place <PUBKEY> --name <NAME_PREFIX>
";
    let options = "\
gnunet-social - Interact with the social service: enter/leave, send/receive messages, access history and state.
Arguments mandatory for long options are also mandatory for short options.
  -A, --host-assign          assign --name in state to --data
  -a, --app=APPLICATION_ID   application ID to use when connecting (default: cli)
  -B, --guest-leave          say good-bye and leave somebody else's place
  -C, --host-enter           create a place
  -c, --config=FILENAME      use configuration file FILENAME
  -D, --host-leave           destroy a place we were hosting
  -d, --data=DATA            message body or state value
  -E, --guest-enter          enter somebody else's place
  -e, --ego=NAME|PUBKEY      name or public key of ego
  -F, --look-for             find state matching name prefix
  -f, --follow               wait for incoming messages (no timeout)
  -g, --gns=GNS_NAME         GNS name (with --status: look the place up and show its host's privacy level)
  -H, --replay-latest        replay history of messages up to the given --limit
  -h, --help                 print this help
  -i, --peer=PEER_ID         peer ID for --guest-enter
      --json                 print one JSON object per line for every event and result
  -k, --name=VAR_NAME        name (key) to query from state
  -L, --log=LOGLEVEL         configure logging to use LOGLEVEL
  -l, --logfile=FILENAME     configure logging to write logs to FILENAME
  -m, --method=METHOD_NAME   method name (announce/talk: default message; replay prefix: default all)
  -N, --host-reconnect       reconnect to a previously created place
  -n, --limit=LIMIT          number of messages to replay from history
  -P, --host-announce        publish something to a place we are hosting
  -p, --place=PUBKEY         key address of place
      --privacy              show the effective privacy knobs of the configuration
  -R, --guest-reconnect      reconnect to a previously entered place
  -S, --look-at              search for state matching exact name
  -s, --start=MSGID          start message ID for history replay
  -T, --guest-talk           submit something to somebody's place
  -U, --status               list of egos and subscribed places
  -u, --until=MSGID          end message ID for history replay
  -v, --version              print the version number
  -w, --welcome              respond to entry requests by admitting all guests
  -X, --replay               extract and replay history between message IDs --start and --until
  -y, --deny                 respond to entry requests by refusing all guests
";
    format!("{usage}\n{options}")
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
