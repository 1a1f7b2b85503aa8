//! Re-reading the knobs when the configuration file changes, so that a new level (for example
//! `gnunet-config -s secushare -o PRIVACY -V strict`) takes effect for the next message
//! without a restart.
//!
//! This is driver-side I/O: a service's driver asks [`KnobsWatch::current`] before it hands a
//! message to its logic, which costs one `stat` of the `-c` file; only a changed file (time,
//! size or inode) is read again. The defaults in `config.d` are read at each reload but not
//! watched: an installation changes them, a user does not.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tracing::{info, warn};

use super::Knobs;
use crate::config::Config;

/// What identifies one version of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode: meta.ino(),
    })
}

/// The effective knobs of a service, kept up to date with its configuration file.
#[derive(Debug, Clone)]
pub struct KnobsWatch {
    file: Option<PathBuf>,
    stamp: Option<Stamp>,
    knobs: Knobs,
}

impl KnobsWatch {
    /// Watches `file` (the service's `-c` file; `None`: nothing to watch), starting from the
    /// `knobs` (what the service read from that file at start-up).
    pub fn new(file: Option<PathBuf>, knobs: Knobs) -> Self {
        let stamp = file.as_deref().and_then(stamp);
        KnobsWatch { file, stamp, knobs }
    }

    /// Knobs that never change (tests, tools).
    pub fn fixed(knobs: Knobs) -> Self {
        KnobsWatch::new(None, knobs)
    }

    /// The knobs now: re-read if the file changed since the last call. A file that cannot be
    /// read or holds a bad value keeps the knobs as they were, with a warning.
    pub fn current(&mut self) -> &Knobs {
        let Some(file) = self.file.as_deref() else {
            return &self.knobs;
        };
        let now = stamp(file);
        if now != self.stamp {
            self.stamp = now;
            match Config::load(Some(file))
                .map_err(|e| e.to_string())
                .and_then(|cfg| Knobs::from_config(&cfg).map_err(|e| e.to_string()))
            {
                Ok(knobs) => {
                    if knobs != self.knobs {
                        info!(level = %knobs.level, "privacy knobs changed");
                    }
                    self.knobs = knobs;
                }
                Err(error) => {
                    warn!(file = %file.display(), %error, "privacy knobs not reloaded; keeping the previous ones")
                }
            }
        }
        &self.knobs
    }
}

#[cfg(test)]
mod tests {
    use super::super::Level;
    use super::*;

    #[test]
    fn a_changed_file_changes_the_knobs_and_a_bad_one_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("peer.conf");
        let write = |level: &str| {
            std::fs::write(&file, format!("[secushare]\nPRIVACY = {level}\n")).unwrap();
        };
        write("convenient");
        let cfg = Config::load(Some(&file)).unwrap();
        let mut watch = KnobsWatch::new(Some(file.clone()), Knobs::from_config(&cfg).unwrap());
        assert_eq!(watch.current().level, Level::Convenient);
        write("strict"); // a different length: a new stamp even on coarse clocks
        assert_eq!(watch.current().level, Level::Strict);
        write("nonsense!");
        assert_eq!(watch.current().level, Level::Strict);
        let mut fixed = KnobsWatch::fixed(Knobs::for_level(Level::Balanced));
        assert_eq!(fixed.current().level, Level::Balanced);
    }
}
