//! Which log lines are written: `-L`, plus the per-call definitions of GNUnet's
//! `GNUNET_FORCE_LOG` and `GNUNET_LOG` environment variables, decided as GNUnet's
//! `GNUNET_get_log_call_status` does.
//!
//! A definition is `component;file;function;from_line-to_line;level`, several separated by
//! `/`. Empty fields (and `*`) match anything; a single line number matches that line only.
//! `component` is matched against the process's component (e.g. `social`), `file` against the
//! source file of the log statement, `function` against its module path (Rust has no
//! function name in a log statement's metadata), each as an unanchored regular expression.
//! With `-L`, only forced definitions (`GNUNET_FORCE_LOG`) apply; without it, the first
//! matching definition of either kind decides, and GNUnet's default (`MESSAGE`: errors and
//! warnings here) applies to the rest.

use regex::Regex;
use tracing::{Level, Metadata};
use tracing_subscriber::filter::LevelFilter;

use crate::options::LogLevel;

/// One parsed definition.
#[derive(Debug, Clone)]
pub struct LogDefinition {
    component: Regex,
    file: Regex,
    function: Regex,
    from_line: u32,
    to_line: u32,
    level: LogLevel,
    /// From `GNUNET_FORCE_LOG`: applies even when `-L` was given.
    force: bool,
}

/// A definition that cannot be used; GNUnet stops reading the variable at the first one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// Not five `;`-separated fields.
    #[error("log definition {0:?}: expected component;file;function;lines;level")]
    Fields(String),
    /// The line range is not `N` or `N-M`.
    #[error("log definition {0:?}: bad line range")]
    Lines(String),
    /// The level is not one of GNUnet's.
    #[error("log definition {0:?}: bad level")]
    Level(String),
    /// A field is not a valid regular expression.
    #[error("log definition {0:?}: bad regular expression")]
    Regex(String),
}

impl LogDefinition {
    /// Parses one definition (without `/`).
    pub fn parse(text: &str, force: bool) -> Result<Self, DefinitionError> {
        let fields: Vec<&str> = text.split(';').collect();
        let [component, file, function, lines, level] = fields[..] else {
            return Err(DefinitionError::Fields(text.to_string()));
        };
        let pattern = |field: &str| {
            let field = if field.is_empty() || field == "*" {
                ".*"
            } else {
                field
            };
            Regex::new(field).map_err(|_| DefinitionError::Regex(text.to_string()))
        };
        let (from_line, to_line) =
            parse_lines(lines).ok_or_else(|| DefinitionError::Lines(text.to_string()))?;
        let level = level
            .parse()
            .map_err(|_| DefinitionError::Level(text.to_string()))?;
        Ok(Self {
            component: pattern(component)?,
            file: pattern(file)?,
            function: pattern(function)?,
            from_line,
            to_line,
            level,
            force,
        })
    }

    /// Parses a whole variable's value: definitions separated by `/`, up to the first bad one
    /// (which is returned as the error next to the good ones, as GNUnet reports and stops).
    pub fn parse_all(value: &str, force: bool) -> (Vec<Self>, Option<DefinitionError>) {
        let mut out = Vec::new();
        for text in value.split('/').filter(|t| !t.is_empty()) {
            match Self::parse(text, force) {
                Ok(d) => out.push(d),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    fn matches(&self, component: &str, meta: &Metadata<'_>) -> bool {
        let line = meta.line().unwrap_or(0);
        (self.from_line..=self.to_line).contains(&line)
            && self.component.is_match(component)
            && self.file.is_match(meta.file().unwrap_or(""))
            && self.function.is_match(meta.module_path().unwrap_or(""))
    }
}

/// `""` → every line; `N` → line N; `N-M` → lines N to M.
fn parse_lines(text: &str) -> Option<(u32, u32)> {
    if text.is_empty() {
        return Some((0, u32::MAX));
    }
    match text.split_once('-') {
        None => text.parse().ok().map(|n| (n, n)),
        Some((from, to)) => Some((from.parse().ok()?, to.parse().ok()?)),
    }
}

/// GNUnet's level of a log statement.
pub fn level_of(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warning,
        Level::INFO => LogLevel::Info,
        Level::DEBUG | Level::TRACE => LogLevel::Debug,
    }
}

/// The decision for every log statement of one process.
#[derive(Debug, Clone)]
pub struct Selection {
    component: String,
    /// `-L`.
    min_level: Option<LogLevel>,
    definitions: Vec<LogDefinition>,
}

impl Selection {
    /// `-L` and the definitions (forced first, as GNUnet reads `GNUNET_FORCE_LOG` first).
    pub fn new(
        component: &str,
        min_level: Option<LogLevel>,
        definitions: Vec<LogDefinition>,
    ) -> Self {
        let mut definitions = definitions;
        definitions.sort_by_key(|d| !d.force);
        Self {
            component: component.to_string(),
            min_level,
            definitions,
        }
    }

    /// Whether a statement with this metadata writes its lines. It depends on the metadata
    /// only, so it is decided once per statement.
    pub fn enabled(&self, meta: &Metadata<'_>) -> bool {
        let level = level_of(meta.level());
        let force_only = self.min_level.is_some();
        self.definitions
            .iter()
            .filter(|d| d.force || !force_only)
            .find(|d| d.matches(&self.component, meta))
            .map_or_else(
                || level <= self.min_level.unwrap_or(LogLevel::Message),
                |d| level <= d.level,
            )
    }

    /// The most verbose level any statement may be written at.
    pub fn max_level(&self) -> LevelFilter {
        let force_only = self.min_level.is_some();
        let most = self
            .definitions
            .iter()
            .filter(|d| d.force || !force_only)
            .map(|d| d.level)
            .chain(std::iter::once(self.min_level.unwrap_or(LogLevel::Message)))
            .max()
            .unwrap_or(LogLevel::Message);
        match most {
            LogLevel::Off => LevelFilter::OFF,
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warning | LogLevel::Message => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::TRACE,
        }
    }
}

impl<S> tracing_subscriber::layer::Filter<S> for Selection {
    fn enabled(
        &self,
        meta: &Metadata<'_>,
        _cx: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        Selection::enabled(self, meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if Selection::enabled(self, meta) {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max_level())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::callsite::{Callsite, Identifier};
    use tracing::field::FieldSet;
    use tracing::metadata::Kind;

    struct Site;
    impl Callsite for Site {
        fn set_interest(&self, _: tracing::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            unreachable!("not registered")
        }
    }
    static SITE: Site = Site;

    /// Metadata of a statement at `level` in `file:line` of module `module`.
    fn meta(
        level: Level,
        file: &'static str,
        line: u32,
        module: &'static str,
    ) -> Metadata<'static> {
        Metadata::new(
            "event",
            module,
            level,
            Some(file),
            Some(line),
            Some(module),
            FieldSet::new(&[], Identifier(&SITE)),
            Kind::EVENT,
        )
    }

    fn defs(value: &str, force: bool) -> Vec<LogDefinition> {
        let (d, err) = LogDefinition::parse_all(value, force);
        assert_eq!(err, None);
        d
    }

    #[test]
    fn without_definitions_the_level_or_gnunets_default_decides() {
        let debug = meta(
            Level::DEBUG,
            "social/src/place/host.rs",
            10,
            "social::place::host",
        );
        let warn = meta(
            Level::WARN,
            "social/src/place/host.rs",
            10,
            "social::place::host",
        );
        let info = meta(
            Level::INFO,
            "social/src/place/host.rs",
            10,
            "social::place::host",
        );
        let default = Selection::new("social", None, vec![]);
        assert!(default.enabled(&warn) && !default.enabled(&info) && !default.enabled(&debug));
        assert_eq!(default.max_level(), LevelFilter::WARN);
        let debug_level = Selection::new("social", Some(LogLevel::Debug), vec![]);
        assert!(debug_level.enabled(&debug));
        let none = Selection::new("social", Some(LogLevel::Off), vec![]);
        assert!(!none.enabled(&meta(Level::ERROR, "a.rs", 1, "a")));
        assert_eq!(none.max_level(), LevelFilter::OFF);
    }

    #[test]
    fn forced_definitions_override_the_command_line_and_plain_ones_do_not() {
        let host = meta(
            Level::DEBUG,
            "social/src/place/host.rs",
            42,
            "social::place::host",
        );
        let guest = meta(
            Level::DEBUG,
            "social/src/place/guest.rs",
            42,
            "social::place::guest",
        );
        // GNUNET_FORCE_LOG="social;host.rs;;;DEBUG" with -L ERROR: host's debug lines only.
        let s = Selection::new(
            "social",
            Some(LogLevel::Error),
            defs("social;host.rs;;;DEBUG", true),
        );
        assert!(s.enabled(&host) && !s.enabled(&guest));
        assert_eq!(s.max_level(), LevelFilter::TRACE);
        // Another component's definition does not apply.
        let s = Selection::new("psyc", Some(LogLevel::Error), defs("social;;;;DEBUG", true));
        assert!(!s.enabled(&host));
        // GNUNET_LOG applies without -L, not with it.
        let plain = defs(";;place::guest;;DEBUG", false);
        assert!(Selection::new("social", None, plain.clone()).enabled(&guest));
        assert!(!Selection::new("social", None, plain.clone()).enabled(&host));
        assert!(!Selection::new("social", Some(LogLevel::Warning), plain).enabled(&guest));
        // The first matching definition decides: forced ones come first.
        let mut both = defs(";;;;ERROR", false);
        both.extend(defs(";;;40-50;DEBUG", true));
        let s = Selection::new("social", None, both);
        assert!(s.enabled(&host));
        assert!(!s.enabled(&meta(Level::DEBUG, "x.rs", 51, "x")));
    }

    #[test]
    fn definitions_parse_as_gnunet_reads_them() {
        let (d, err) = LogDefinition::parse_all("a;;;;DEBUG/b;f.rs;;7;info/", true);
        assert_eq!((d.len(), err), (2, None));
        assert_eq!(
            (d[1].from_line, d[1].to_line, d[1].level),
            (7, 7, LogLevel::Info)
        );
        assert_eq!((d[0].from_line, d[0].to_line), (0, u32::MAX));
        // GNUnet stops at the first bad definition and keeps what came before.
        let (d, err) = LogDefinition::parse_all("a;;;;DEBUG/b;;;;LOUD/c;;;;ERROR", false);
        assert_eq!(d.len(), 1);
        assert!(matches!(err, Some(DefinitionError::Level(_))));
        assert!(matches!(
            LogDefinition::parse("a;b;DEBUG", true),
            Err(DefinitionError::Fields(_))
        ));
        assert!(matches!(
            LogDefinition::parse(";;;x-3;DEBUG", true),
            Err(DefinitionError::Lines(_))
        ));
        assert!(matches!(
            LogDefinition::parse("(;;;;DEBUG", true),
            Err(DefinitionError::Regex(_))
        ));
    }
}
