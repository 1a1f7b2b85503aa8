//! The command line every GNUnet program takes: `-c FILE`, `-L LEVEL`, `-l LOGFILE`, `-h`, `-v`,
//! and `-d` (accepted and ignored: ARM already runs us in the background).

use std::ffi::OsString;
use std::path::PathBuf;

/// Parsed GNUnet options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommonOptions {
    /// `-c FILE`: the configuration file on top of the defaults.
    pub config: Option<PathBuf>,
    /// `-L LEVEL`: ERROR, WARNING, INFO or DEBUG.
    pub log_level: Option<LogLevel>,
    /// `-l FILE`: where to log (strftime `%Y %m %d` allowed); stderr otherwise.
    pub log_file: Option<String>,
    /// Arguments that are not options, in order.
    pub positional: Vec<String>,
}

/// GNUnet's log levels (`-L`, `GNUNET_FORCE_LOG`), from "nothing" to "everything": a line is
/// written when its level is at most the level asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `NONE`: nothing at all.
    Off,
    /// Only errors.
    Error,
    /// Errors and warnings.
    Warning,
    /// GNUnet's `MESSAGE`, between warnings and information: what GNUnet writes when no level
    /// is given. Our code logs no line at this level, so it writes what [`LogLevel::Warning`]
    /// does.
    Message,
    /// Also informational messages.
    Info,
    /// Everything.
    Debug,
}

impl std::str::FromStr for LogLevel {
    type Err = OptionsError;
    /// The names GNUnet's `-L` takes, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "NONE" => Ok(Self::Off),
            "ERROR" => Ok(Self::Error),
            "WARNING" => Ok(Self::Warning),
            "MESSAGE" => Ok(Self::Message),
            "INFO" => Ok(Self::Info),
            "DEBUG" => Ok(Self::Debug),
            _ => Err(OptionsError::BadLevel(s.to_string())),
        }
    }
}

impl LogLevel {
    /// The name GNUnet writes in a log line (and takes in `-L`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Off => "NONE",
            Self::Error => "ERROR",
            Self::Warning => "WARNING",
            Self::Message => "MESSAGE",
            Self::Info => "INFO",
            Self::Debug => "DEBUG",
        }
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Run with these options.
    Run(CommonOptions),
    /// `-h`: print help and exit 0.
    Help,
    /// `-v`: print the version and exit 0.
    Version,
}

/// A command line that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// Not a log level GNUnet knows.
    #[error("unknown log level {0:?} (use ERROR, WARNING, MESSAGE, INFO, DEBUG or NONE)")]
    BadLevel(String),
    /// Anything lexopt rejects: unknown options, missing values, bad UTF-8.
    #[error("{0}")]
    Syntax(String),
}

impl From<lexopt::Error> for OptionsError {
    fn from(e: lexopt::Error) -> Self {
        Self::Syntax(e.to_string())
    }
}

/// Parses the arguments after the program name.
pub fn parse_args<I>(args: I) -> Result<Invocation, OptionsError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut o = CommonOptions::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('c') | Long("config") => o.config = Some(p.value()?.into()),
            Short('L') | Long("log") => o.log_level = Some(p.value()?.string()?.parse()?),
            Short('l') | Long("logfile") => o.log_file = Some(p.value()?.string()?),
            Short('d') | Long("daemonize") => {}
            Short('h') | Long("help") => return Ok(Invocation::Help),
            Short('v') | Long("version") => return Ok(Invocation::Version),
            Value(v) => o.positional.push(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(Invocation::Run(o))
}

/// The help text for a program with the common options, laid out as GNUnet's programs do.
pub fn help_text(program: &str, about: &str) -> String {
    format!(
        "{program} [OPTIONS]\n{about}\nArguments mandatory for long options are also mandatory for short options.\n  \
         -c, --config=FILENAME      use configuration file FILENAME\n  \
         -d, --daemonize            accepted for compatibility; ARM already detaches us\n  \
         -h, --help                 print this help\n  \
         -L, --log=LOGLEVEL         configure logging to use LOGLEVEL\n  \
         -l, --logfile=FILENAME     configure logging to write logs to FILENAME\n  \
         -v, --version              print the version number\n\n\
         {SEE_MAN}{program}(1).\n"
    )
}

/// The closing line of every help text (GNUnet's name the bug address; we name the manual).
const SEE_MAN: &str = "Options, configuration and log settings are described in ";

/// What `-v` prints, as GNUnet's `PROGRAM vVERSION` with the implementation named.
pub fn version_text(program: &str) -> String {
    format!("{program} v{} (secushare-rs)", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_style_command_line() {
        let inv = parse_args([
            "-c",
            "/p/p1.conf",
            "-L",
            "DEBUG",
            "-l",
            "/p/log/x.log",
            "-d",
        ])
        .unwrap();
        assert_eq!(
            inv,
            Invocation::Run(CommonOptions {
                config: Some("/p/p1.conf".into()),
                log_level: Some(LogLevel::Debug),
                log_file: Some("/p/log/x.log".into()),
                positional: vec![],
            })
        );
    }

    #[test]
    fn long_forms_help_version_and_errors() {
        let inv = parse_args(["--config=/a", "--log=warning"]).unwrap();
        let Invocation::Run(o) = inv else {
            panic!("not run")
        };
        assert_eq!(o.config, Some("/a".into()));
        assert_eq!(o.log_level, Some(LogLevel::Warning));
        assert_eq!(parse_args(["-h"]).unwrap(), Invocation::Help);
        assert_eq!(parse_args(["-v"]).unwrap(), Invocation::Version);
        for (name, level) in [("none", LogLevel::Off), ("MESSAGE", LogLevel::Message)] {
            let Invocation::Run(o) = parse_args(["-L", name]).unwrap() else {
                panic!("not run")
            };
            assert_eq!(o.log_level, Some(level));
            assert_eq!(level.name().parse::<LogLevel>().unwrap(), level);
        }
        assert!(LogLevel::Off < LogLevel::Error && LogLevel::Warning < LogLevel::Message);
        assert!(LogLevel::Message < LogLevel::Info && LogLevel::Info < LogLevel::Debug);
        assert!(matches!(
            parse_args(["-L", "BULK"]),
            Err(OptionsError::BadLevel(_))
        ));
        assert!(matches!(
            parse_args(["-L", "LOUD"]),
            Err(OptionsError::BadLevel(_))
        ));
        assert!(matches!(parse_args(["-x"]), Err(OptionsError::Syntax(_))));
        assert!(matches!(parse_args(["-c"]), Err(OptionsError::Syntax(_))));
    }
}
