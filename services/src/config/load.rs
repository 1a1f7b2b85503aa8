//! Reading files into a [`Config`]: lines, sections, the `@INLINE…@` directives, the base
//! config directory and the default user config file, as libgnunetutil 0.19.3 does.
//!
//! Facts carried over (`src/util/configuration.c`, `disk.c`, `service.c`):
//! - a relative inline path is relative to the directory of the including file (after
//!   resolving symlinks of that file); an absolute one is used as is;
//! - a file already being read further up the chain cannot be inlined again (cycle), and
//!   we also stop at [`MAX_INLINE_DEPTH`];
//! - `@INLINE-MATCHING@`: `*` is the only wildcard, only in the last path component, `+`, `[`
//!   and `~` are refused; matches are read in byte order; a trailing `*` in GNUnet's matcher
//!   only matches the empty string (so `a*` matches `a` but not `ab`), which we keep;
//! - `@INLINE-SECRET@ SECTION path`: when the file cannot be read the section becomes
//!   inaccessible (every lookup in it fails) and loading goes on; otherwise only SECTION is
//!   taken from the file, and the file may not hold directives itself;
//! - the base directory (`$GNUNET_BASE_CONFIG`, else DATADIR`config.d`) is read in byte order
//!   of the full paths, and reading stops (successfully) at the first entry that does not end
//!   in `.conf`;
//! - with no `-c` file: `$XDG_CONFIG_HOME/gnunet.conf` (or `~/.config/gnunet.conf` when
//!   XDG_CONFIG_HOME is unset), else `/etc/gnunet.conf`, else `/etc/gnunet/gnunet.conf`, the
//!   first readable one; `[PATHS] DEFAULTCONFIG` is set to the file name unless present.

use std::path::Path;

use super::error::{ConfigError, InlineError, SyntaxError};
use super::expand;
use super::parse::{self, Directive, Line};
use super::Config;

/// Deepest chain of inlined files we follow.
pub const MAX_INLINE_DEPTH: usize = 32;

/// Reads text and files into a configuration.
pub(crate) struct Loader<'c> {
    cfg: &'c mut Config,
    /// Files being read, outermost first (as given, like GNUnet's cycle check compares them).
    chain: Vec<String>,
    /// Set while reading a file for `@INLINE-SECRET@`: directives are refused.
    restrict: Option<String>,
}

impl<'c> Loader<'c> {
    pub(crate) fn new(cfg: &'c mut Config) -> Self {
        Loader {
            cfg,
            chain: Vec::new(),
            restrict: None,
        }
    }

    /// `GNUNET_CONFIGURATION_parse`: reads one file (name as given; `~` and relative names
    /// are expanded).
    pub(crate) fn parse_file(&mut self, filename: &str) -> Result<(), ConfigError> {
        let expanded = expand::filename(filename, home(), expand::current_dir)
            .ok_or_else(|| io_error(filename, "HOME is not set"))?;
        let bytes = std::fs::read(&expanded).map_err(|source| ConfigError::Io {
            path: expanded.clone(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let origin = expanded.to_string_lossy().into_owned();
        self.chain.push(filename.to_owned());
        let result = self.parse_text(&text, &origin, Some(&origin));
        self.chain.pop();
        result
    }

    /// `GNUNET_CONFIGURATION_deserialize`: `source` is the file relative inlines resolve
    /// against (GNUnet refuses inlines without one).
    pub(crate) fn parse_text(
        &mut self,
        text: &str,
        origin: &str,
        source: Option<&str>,
    ) -> Result<(), ConfigError> {
        let mut section: Option<String> = None;
        for (nr, raw) in parse::lines(text) {
            let syntax = |kind| ConfigError::Syntax {
                origin: origin.to_owned(),
                line: nr,
                kind,
            };
            if let Some(r) = &self.restrict {
                if raw.trim_start_matches(parse::is_c_space).starts_with('@') {
                    return Err(syntax(SyntaxError::DirectiveInSecret(r.clone())));
                }
            }
            match parse::classify(raw).map_err(syntax)? {
                Line::Blank => {}
                Line::Section(name) => section = Some(name.to_owned()),
                Line::Entry { key, value } => match &section {
                    Some(s) => self.cfg.set(s, key, value),
                    None => return Err(syntax(SyntaxError::OptionWithoutSection)),
                },
                Line::Directive(d) => self.directive(d, origin, nr, source)?,
            }
        }
        Ok(())
    }

    fn directive(
        &mut self,
        d: Directive<'_>,
        origin: &str,
        line: u32,
        source: Option<&str>,
    ) -> Result<(), ConfigError> {
        let raw_target = match &d {
            Directive::Inline(p) | Directive::InlineMatching(p) => *p,
            Directive::InlineSecret { path, .. } => *path,
        };
        let fail = |target: &str, reason| ConfigError::Inline {
            origin: origin.to_owned(),
            line,
            target: target.to_owned(),
            reason,
        };
        let Some(source) = source else {
            return Err(fail(raw_target, InlineError::NoSourceFile));
        };
        let target = if raw_target.starts_with('/') {
            raw_target.to_owned()
        } else {
            let dir =
                source_dir(source).ok_or_else(|| fail(raw_target, InlineError::NoSourceFile))?;
            format!("{dir}/{raw_target}")
        };
        match d {
            Directive::Inline(_) => self.inline_file(&target).map_err(|r| fail(&target, r)),
            Directive::InlineMatching(_) => {
                let files = glob(&target).map_err(|r| fail(&target, r))?;
                for file in files {
                    self.inline_file(&file).map_err(|r| fail(&file, r))?;
                }
                Ok(())
            }
            Directive::InlineSecret { section, .. } => self
                .inline_secret(section, &target)
                .map_err(|r| fail(&target, r)),
        }
    }

    fn inline_file(&mut self, target: &str) -> Result<(), InlineError> {
        if self.chain.iter().any(|f| f == target) {
            return Err(InlineError::Cycle);
        }
        if self.chain.len() >= MAX_INLINE_DEPTH {
            return Err(InlineError::TooDeep(MAX_INLINE_DEPTH));
        }
        self.parse_file(target)
            .map_err(|e| InlineError::Nested(Box::new(e)))
    }

    fn inline_secret(&mut self, section: &str, target: &str) -> Result<(), InlineError> {
        self.cfg.section_mut(section);
        if !readable_file(target) {
            self.cfg.section_mut(section).inaccessible = true;
            return Ok(());
        }
        let mut secret = Config::default();
        let mut loader = Loader::new(&mut secret);
        loader.restrict = Some(section.to_owned());
        loader
            .parse_file(target)
            .map_err(|e| InlineError::Nested(Box::new(e)))?;
        if let Some(found) = secret.find_section(section) {
            // GNUnet copies its newest-first list; keep that order for identical listings.
            for (k, v) in found.entries.iter().rev() {
                self.cfg.set(section, k, v);
            }
        }
        Ok(())
    }
}

/// Reads the base config directory into `cfg` (`GNUNET_CONFIGURATION_load_from`).
pub(crate) fn load_base_dir(cfg: &mut Config, dir: &str) -> Result<(), ConfigError> {
    let mut dname = dir.to_owned();
    while dname.len() > 1 && dname.ends_with('/') {
        dname.pop();
    }
    let names = list_dir(&dname).map_err(|source| ConfigError::Io {
        path: dname.clone().into(),
        source,
    })?;
    let mut files: Vec<String> = names.into_iter().map(|n| join(&dname, &n)).collect();
    files.sort_unstable();
    let mut loader = Loader::new(cfg);
    for file in files {
        // GNUnet stops at the first name that is not `*.conf` (looking at the last `.` of the
        // whole path) and still reports success.
        let ext = file.rfind('.').map(|i| &file[i..]);
        if ext != Some(".conf") {
            tracing::warn!(file, "skipping non-.conf file in base config directory (and everything after it, as GNUnet does)");
            break;
        }
        loader.parse_file(&file)?;
    }
    Ok(())
}

/// `GNUNET_CONFIGURATION_default_filename`: the first readable candidate, as GNUnet names it.
pub(crate) fn default_filename() -> Option<String> {
    let user = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(x) => format!("{}/gnunet.conf", x.to_string_lossy()),
        None => "~/.config/gnunet.conf".to_owned(),
    };
    [
        user,
        "/etc/gnunet.conf".to_owned(),
        "/etc/gnunet/gnunet.conf".to_owned(),
    ]
    .into_iter()
    .find(|f| readable_file(f))
}

/// `GNUNET_DISK_file_test`: an existing regular file (after `~`/relative expansion).
pub(crate) fn regular_file(name: &str) -> bool {
    expand::filename(name, home(), expand::current_dir).is_some_and(|p| p.is_file())
}

/// `GNUNET_DISK_file_test_read`: a regular file we may open for reading.
fn readable_file(name: &str) -> bool {
    expand::filename(name, home(), expand::current_dir)
        .is_some_and(|p| p.is_file() && std::fs::File::open(p).is_ok())
}

pub(crate) fn home() -> Option<String> {
    std::env::var_os("HOME").map(|h| h.to_string_lossy().into_owned())
}

fn io_error(path: &str, msg: &str) -> ConfigError {
    ConfigError::Io {
        path: path.into(),
        source: std::io::Error::other(msg.to_owned()),
    }
}

/// The directory relative inlines resolve against: that of the including file after
/// resolving symlinks. For text given to `parse_str` whose origin is not an existing file, the
/// origin's parent directory (if it exists) stands in.
fn source_dir(source: &str) -> Option<String> {
    let path = Path::new(source);
    let real = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .or_else(|| path.parent().and_then(|d| std::fs::canonicalize(d).ok()))?;
    Some(real.to_string_lossy().into_owned())
}

fn list_dir(dir: &str) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// `GNUNET_DISK_glob`: the files matching `pattern` (absolute), sorted.
fn glob(pattern: &str) -> Result<Vec<String>, InlineError> {
    if pattern.contains(['+', '[', '~']) {
        return Err(InlineError::UnsupportedGlob);
    }
    let (dir, file_pattern) = pattern
        .rsplit_once('/')
        .ok_or(InlineError::UnsupportedGlob)?;
    if dir.contains('*') {
        return Err(InlineError::UnsupportedGlob);
    }
    // `dir` is "" for `/x*`; GNUnet then expands "" like a relative name (the working dir).
    let mut dname = expand::filename(dir, home(), expand::current_dir)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    while dname.len() > 1 && dname.ends_with('/') {
        dname.pop();
    }
    let names = list_dir(&dname).map_err(|source| {
        InlineError::Nested(Box::new(ConfigError::Io {
            path: dname.clone().into(),
            source,
        }))
    })?;
    let mut files: Vec<String> = names
        .into_iter()
        .filter(|n| glob_match(file_pattern.as_bytes(), n.as_bytes()))
        .map(|n| join(&dname, &n))
        .collect();
    files.sort_unstable();
    Ok(files)
}

/// GNUnet's `*`-only matcher, including its quirk: after a `*` has been retried up to the
/// last character of the name, the match fails (so a trailing `*` matches only "").
pub(crate) fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut p, mut n) = (0usize, 0usize);
    let mut retry: Option<(usize, usize)> = None; // (star position, name position)
    loop {
        let pc = at(pattern, p);
        let nc = at(name, n);
        if pc == b'*' {
            retry = Some((p, n));
            p += 1;
        } else if pc == nc {
            if pc == 0 {
                return true;
            }
            p += 1;
            n += 1;
        } else {
            let Some((star, from)) = retry else {
                return false;
            };
            if from + 1 >= name.len() {
                return false;
            }
            p = star;
            n = from + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matcher_keeps_gnunet_quirks() {
        assert!(glob_match(b"*.conf", b"a.conf"));
        assert!(glob_match(b"*.conf", b".conf"));
        assert!(!glob_match(b"*.conf", b"a.cfg"));
        assert!(glob_match(b"a*", b"a"));
        assert!(!glob_match(b"a*", b"ab"));
        assert!(glob_match(b"a*c", b"abbc"));
        assert!(glob_match(b"*", b""));
        assert!(!glob_match(b"*", b"x"));
        assert!(glob_match(b"x*y*z", b"x1y2z"));
        assert!(!glob_match(b"abc", b"abd"));
    }
}
