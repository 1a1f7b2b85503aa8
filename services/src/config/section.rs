//! A service's own options, read at start-up with errors that name section and option, and
//! the one [`StartError`] of the workspace's services (multicast, psyc, social): why a service
//! refuses to start from its configuration.

use std::path::PathBuf;
use std::time::Duration;

use super::Config;

/// Why a service cannot start from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A value could not be read or is out of range.
    #[error("bad configuration value [{section}] {option}: {reason}")]
    BadValue {
        /// Section.
        section: &'static str,
        /// Option.
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A service we need has no UNIXPATH.
    #[error("[{0}] UNIXPATH is not set")]
    NoSocket(&'static str),
    /// This peer's identity is unknown (no readable host key, and CORE did not answer).
    #[error("cannot learn this peer's identity: {0}")]
    Identity(String),
}

/// One section of a [`Config`], read with GNUnet's rules; every error is a
/// [`StartError::BadValue`] naming the section and option.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSection<'a> {
    cfg: &'a Config,
    name: &'static str,
}

impl<'a> ServiceSection<'a> {
    /// Section `name` of `cfg`.
    pub fn new(cfg: &'a Config, name: &'static str) -> Self {
        Self { cfg, name }
    }

    /// A [`StartError::BadValue`] for `option` of this section.
    pub fn bad(&self, option: &'static str, reason: impl Into<String>) -> StartError {
        StartError::BadValue {
            section: self.name,
            option,
            reason: reason.into(),
        }
    }

    /// A number, if set.
    pub fn number(&self, option: &'static str) -> Result<Option<u64>, StartError> {
        self.cfg
            .get_number(self.name, option)
            .map_err(|e| self.bad(option, e.to_string()))
    }

    /// A number that must be at least 1 when set.
    pub fn positive(&self, option: &'static str) -> Result<Option<u64>, StartError> {
        match self.number(option)? {
            Some(0) => Err(self.bad(option, "must be at least 1")),
            n => Ok(n),
        }
    }

    /// [`ServiceSection::positive`] as a count (saturating at `usize::MAX`).
    pub fn positive_count(&self, option: &'static str) -> Result<Option<usize>, StartError> {
        Ok(self.positive(option)?.map(saturating_usize))
    }

    /// A size ("4 MiB") that must be at least 1 byte when set.
    pub fn positive_size(&self, option: &'static str) -> Result<Option<usize>, StartError> {
        match self
            .cfg
            .get_size(self.name, option)
            .map_err(|e| self.bad(option, e.to_string()))?
        {
            Some(0) => Err(self.bad(option, "must be at least 1")),
            n => Ok(n.map(saturating_usize)),
        }
    }

    /// A time ("5 s") that must be above zero when set.
    pub fn positive_time(&self, option: &'static str) -> Result<Option<Duration>, StartError> {
        match self
            .cfg
            .get_time(self.name, option)
            .map_err(|e| self.bad(option, e.to_string()))?
        {
            Some(t) if t.is_zero() => Err(self.bad(option, "must be above zero")),
            t => Ok(t),
        }
    }

    /// YES or NO, if set.
    pub fn yesno(&self, option: &'static str) -> Result<Option<bool>, StartError> {
        self.cfg
            .get_yesno(self.name, option)
            .map_err(|e| self.bad(option, e.to_string()))
    }
}

/// The socket of `service` (`[service] UNIXPATH`), which a service needs to start.
pub fn required_socket(cfg: &Config, service: &'static str) -> Result<PathBuf, StartError> {
    cfg.unix_path(service).ok_or(StartError::NoSocket(service))
}

fn saturating_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let mut cfg = Config::default();
        cfg.parse_str(text, "test").expect("parse");
        cfg
    }

    #[test]
    fn values_are_read_and_errors_name_section_and_option() {
        let cfg = config(
            "[s]\nN = 3\nZERO = 0\nSIZE = 4 KiB\nT = 5 s\nT0 = 0 s\nYES = YES\nBAD = x\n[other]\nUNIXPATH = /tmp/o.sock\n",
        );
        let s = ServiceSection::new(&cfg, "s");
        assert_eq!(s.number("N"), Ok(Some(3)));
        assert_eq!(s.positive_count("N"), Ok(Some(3)));
        assert_eq!(s.number("MISSING"), Ok(None));
        assert_eq!(s.positive_size("SIZE"), Ok(Some(4096)));
        assert_eq!(s.positive_time("T"), Ok(Some(Duration::from_secs(5))));
        assert_eq!(s.yesno("YES"), Ok(Some(true)));
        for option in ["ZERO", "T0", "BAD"] {
            let err = match option {
                "T0" => s.positive_time(option).unwrap_err(),
                _ => s.positive(option).unwrap_err(),
            };
            match err {
                StartError::BadValue {
                    section: "s",
                    option: o,
                    ..
                } => assert_eq!(o, option),
                other => panic!("{option}: {other}"),
            }
        }
        assert_eq!(
            required_socket(&cfg, "other"),
            Ok(PathBuf::from("/tmp/o.sock"))
        );
        assert_eq!(
            required_socket(&cfg, "none"),
            Err(StartError::NoSocket("none"))
        );
    }
}
