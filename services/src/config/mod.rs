//! GNUnet configuration, read the way libgnunetutil 0.19.3 reads it.
//!
//! A [`Config`] is what `GNUNET_CONFIGURATION_load` builds: the installation's `[PATHS]`
//! entries, every `*.conf` of the base config directory, then the `-c` file with its
//! `@INLINE@`s. Getters return what `gnunet-config -s S -o O` (raw) and
//! `gnunet-config -f -s S -o O` (`$`-expanded filename) print, and read YES/NO, numbers,
//! times and sizes with GNUnet's exact rules. `tests/config_oracle.rs` checks all of this
//! against the installed `gnunet-config` and libgnunetutil.
//!
//! - `parse`: one line, classified;
//! - `load`: files, directives, base dir, default file;
//! - `expand`: `$`-expansion and `~`;
//! - `values`: YES/NO, number, time, size;
//! - `install`: the installation directories;
//! - `section`: a service's own options read at start-up, and why it may refuse to start.
//!
//! Section and option names compare ASCII-case-insensitively (`strcasecmp`); the spelling
//! first used is kept. Listings come newest-first, as GNUnet's linked lists give them.

mod error;
mod expand;
mod install;
mod load;
mod parse;
mod section;
mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::{ConfigError, InlineError, SyntaxError};
pub use expand::{MAX_LEN as MAX_EXPANDED_LEN, MAX_NEST as MAX_EXPANSION_NEST};
pub use load::MAX_INLINE_DEPTH;
pub use section::{required_socket, ServiceSection, StartError};

/// A GNUnet configuration: sections of `option = value` entries.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// In creation order (GNUnet lists them the other way round).
    sections: Vec<Section>,
}

#[derive(Clone, Debug)]
struct Section {
    name: String,
    /// `(option, raw value)` in creation order.
    entries: Vec<(String, String)>,
    /// Set when an `@INLINE-SECRET@` file for this section could not be read: GNUnet then
    /// answers no lookup in the section.
    inaccessible: bool,
}

impl Config {
    /// GNUnet's defaults (every `*.conf` in `$GNUNET_BASE_CONFIG`, else
    /// `/usr/share/gnunet/config.d`, in the order GNUnet loads them), then `file` on top if
    /// given (like `-c FILE`; it must be an existing regular file). With no file, what GNUnet
    /// does: `$XDG_CONFIG_HOME/gnunet.conf` or `~/.config/gnunet.conf`, else
    /// `/etc/gnunet.conf`, else `/etc/gnunet/gnunet.conf`, if readable. Also sets
    /// `[PATHS] DEFAULTCONFIG` to the file name unless the files set it.
    ///
    /// (`gnunet-config` and other `GNUNET_PROGRAM_run` tools also set `[arm] CONFIG`;
    /// services — `GNUNET_SERVICE_run` — do not, and neither does this.)
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut cfg = Config::with_install_paths();
        let base = match std::env::var_os("GNUNET_BASE_CONFIG") {
            Some(b) => b.to_string_lossy().into_owned(),
            None => {
                let g = install::gnunet_path().ok_or_else(|| ConfigError::Io {
                    path: PathBuf::from("config.d"),
                    source: std::io::Error::other(
                        "cannot find the GNUnet installation (set GNUNET_PREFIX)",
                    ),
                })?;
                format!("{}config.d", install::dir(&g, install::Dir::Data))
            }
        };
        if let Some(dir) = expand::filename(&base, load::home(), expand::current_dir) {
            if dir.is_dir() {
                load::load_base_dir(&mut cfg, &dir.to_string_lossy())?;
            }
        }
        let main = match file {
            Some(f) => {
                let name = f.to_string_lossy().into_owned();
                if !load::regular_file(&name) {
                    return Err(ConfigError::NotAFile { path: f.to_owned() });
                }
                Some(name)
            }
            None => load::default_filename(),
        };
        if let Some(name) = main {
            load::Loader::new(&mut cfg).parse_file(&name)?;
            if cfg.get_raw("PATHS", "DEFAULTCONFIG").is_none() {
                cfg.set("PATHS", "DEFAULTCONFIG", &name);
            }
        }
        Ok(cfg)
    }

    /// Only the given file (with its `@INLINE@`s), no defaults and no installation paths.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        load::Loader::new(&mut cfg).parse_file(&path.to_string_lossy())?;
        Ok(cfg)
    }

    /// An otherwise empty configuration with the `[PATHS]` entries GNUnet creates for every
    /// handle (DATADIR, LIBDIR, BINDIR, PREFIX, LOCALEDIR, ICONDIR, DOCDIR, LIBEXECDIR), from
    /// `$GNUNET_PREFIX` or the installed libgnunetutil. Empty if no installation is found.
    pub fn with_install_paths() -> Config {
        let mut cfg = Config::default();
        if let Some(g) = install::gnunet_path() {
            for (option, dir) in install::PATHS_ENTRIES {
                cfg.set("PATHS", option, &install::dir(&g, *dir));
            }
        }
        cfg
    }

    /// Parses text on top of this configuration (for tests and embedded defaults). `origin`
    /// names it in errors and stands for the file it came from: relative `@INLINE@` paths
    /// resolve against `origin`'s directory (GNUnet resolves them against the including file).
    /// On error, the lines before the bad one have been applied, as in GNUnet.
    pub fn parse_str(&mut self, text: &str, origin: &str) -> Result<(), ConfigError> {
        load::Loader::new(self).parse_text(text, origin, Some(origin))
    }

    /// Sets (or replaces) a value; names are case-insensitive, a new section or option keeps
    /// the spelling given here.
    pub fn set(&mut self, section: &str, option: &str, value: &str) {
        let sec = self.section_mut(section);
        match sec
            .entries
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(option))
        {
            Some((_, v)) => *v = value.to_owned(),
            None => sec.entries.push((option.to_owned(), value.to_owned())),
        }
    }

    /// Whether the section exists (even an inaccessible `@INLINE-SECRET@` one).
    pub fn has_section(&self, section: &str) -> bool {
        self.find_section(section).is_some()
    }

    /// Section names, most recently created first (the order `gnunet-config -S` prints).
    pub fn sections(&self) -> Vec<String> {
        self.sections.iter().rev().map(|s| s.name.clone()).collect()
    }

    /// Option names of a section, most recently created first (the order
    /// `gnunet-config -s S` prints); empty for a missing or inaccessible section.
    pub fn options(&self, section: &str) -> Vec<String> {
        match self.find_section(section) {
            Some(s) if !s.inaccessible => s.entries.iter().rev().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// Raw value as written (no expansion).
    pub fn get_raw(&self, section: &str, option: &str) -> Option<&str> {
        let sec = self.find_section(section).filter(|s| !s.inaccessible)?;
        sec.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(option))
            .map(|(_, v)| v.as_str())
    }

    /// Value as `gnunet-config -s S -o O` prints it. That is the raw value: GNUnet's
    /// `GNUNET_CONFIGURATION_get_value_string` does no `$`-expansion (use [`Self::expand`] or
    /// [`Self::get_filename`] for that).
    pub fn get_string(&self, section: &str, option: &str) -> Option<String> {
        self.get_raw(section, option).map(str::to_owned)
    }

    /// Value as `gnunet-config -f -s S -o O` prints it: `$`-expanded (`[PATHS]` first, then
    /// the environment, `${VAR:-default}` recursively), then `~` → `$HOME` and relative names
    /// joined to the working directory. `None` if missing, or if it needs HOME and HOME is
    /// unset (GNUnet fails there too).
    pub fn get_filename(&self, section: &str, option: &str) -> Option<PathBuf> {
        let raw = self.get_raw(section, option)?;
        expand::filename(&self.expand(raw), load::home(), expand::current_dir)
    }

    /// The UNIX socket of `service` (`[service] UNIXPATH`, expanded); `None` when unset or
    /// empty. Services use it to find the services they are clients of.
    pub fn unix_path(&self, service: &str) -> Option<PathBuf> {
        self.get_filename(service, "UNIXPATH")
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// `YES`/`NO` in any case; anything else is an error.
    pub fn get_yesno(&self, section: &str, option: &str) -> Result<Option<bool>, ConfigError> {
        self.typed(section, option, "YES/NO", values::yesno)
    }

    /// A decimal number as C's `sscanf("%llu")` reads it (blanks around it allowed).
    pub fn get_number(&self, section: &str, option: &str) -> Result<Option<u64>, ConfigError> {
        self.typed(section, option, "number", values::number)
    }

    /// A relative time ("5 s", "1 m 30 s", "250 ms", "forever", …) as
    /// `GNUNET_STRINGS_fancy_time_to_relative` reads it. `forever` is `u64::MAX` µs, which is
    /// GNUnet's `GNUNET_TIME_UNIT_FOREVER_REL`.
    pub fn get_time(&self, section: &str, option: &str) -> Result<Option<Duration>, ConfigError> {
        self.typed(section, option, "relative time", |v| {
            values::time_us(v).map(Duration::from_micros)
        })
    }

    /// A size ("1 MiB", "5 kb", "1 GB 512 MB", …) in bytes, as
    /// `GNUNET_STRINGS_fancy_size_to_bytes` reads it.
    pub fn get_size(&self, section: &str, option: &str) -> Result<Option<u64>, ConfigError> {
        self.typed(section, option, "size", values::size_bytes)
    }

    /// `$`-expansion of an arbitrary string, as `GNUNET_CONFIGURATION_expand_dollar`.
    pub fn expand(&self, value: &str) -> String {
        expand::Expander::new(
            |name: &str| self.get_raw("PATHS", name).map(str::to_owned),
            expand::process_env,
        )
        .expand(value)
    }

    fn typed<T>(
        &self,
        section: &str,
        option: &str,
        expected: &'static str,
        read: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(raw) = self.get_raw(section, option) else {
            return Ok(None);
        };
        read(raw)
            .map(Some)
            .ok_or_else(|| ConfigError::InvalidValue {
                section: section.to_owned(),
                option: option.to_owned(),
                value: raw.to_owned(),
                expected,
            })
    }

    fn find_section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The section, created (empty) if missing.
    fn section_mut(&mut self, name: &str) -> &mut Section {
        let idx = match self
            .sections
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(name))
        {
            Some(i) => i,
            None => {
                self.sections.push(Section {
                    name: name.to_owned(),
                    entries: Vec::new(),
                    inaccessible: false,
                });
                self.sections.len() - 1
            }
        };
        &mut self.sections[idx]
    }
}

#[cfg(test)]
mod tests;
