//! Errors of the configuration reader, each naming the file, line, section or option it is about.

use std::path::PathBuf;

/// Why a configuration could not be read or a value could not be interpreted.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file (or the base config directory) could not be read.
    #[error("cannot read configuration `{}`: {source}", path.display())]
    Io {
        /// The file or directory we tried to read.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file given with `-c` is not an existing regular file (GNUnet refuses it too).
    #[error("configuration file `{}` does not exist or is not a regular file", path.display())]
    NotAFile {
        /// The path as given.
        path: PathBuf,
    },
    /// A line that libgnunetutil rejects as well.
    #[error("{origin}:{line}: {kind}")]
    Syntax {
        /// The file (or the origin name given to [`super::Config::parse_str`]).
        origin: String,
        /// 1-based line number.
        line: u32,
        /// What is wrong with the line.
        kind: SyntaxError,
    },
    /// An `@INLINE@`-style directive could not be carried out.
    #[error("{origin}:{line}: cannot inline `{target}`: {reason}")]
    Inline {
        /// The file holding the directive.
        origin: String,
        /// 1-based line number of the directive.
        line: u32,
        /// The path or glob as resolved (absolute when it could be resolved).
        target: String,
        /// Why it failed.
        reason: InlineError,
    },
    /// A value exists but does not have the form the getter expects.
    #[error("[{section}] {option} = `{value}` is not a valid {expected}")]
    InvalidValue {
        /// The section asked for.
        section: String,
        /// The option asked for.
        option: String,
        /// The raw value found.
        value: String,
        /// What kind of value was expected ("YES/NO", "number", "relative time", "size").
        expected: &'static str,
    },
}

/// The kinds of malformed lines (the cases where libgnunetutil's parser gives up).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    /// `key = value` before any `[section]`.
    #[error("option without section")]
    OptionWithoutSection,
    /// Neither comment, directive, `[section]` nor `key = value` (this includes `[section]`
    /// with trailing or leading blanks, which GNUnet 0.19.3 rejects).
    #[error("syntax error (not a section header, option or directive)")]
    Unrecognised,
    /// A line starting with `@` without a closing `@`.
    #[error("bad directive (no closing `@`)")]
    BadDirective,
    /// `@SOMETHING@` that is not INLINE, INLINE-MATCHING or INLINE-SECRET.
    #[error("unknown directive `@{0}@`")]
    UnknownDirective(String),
    /// `@INLINE-SECRET@` without a path after the section name.
    #[error("bad @INLINE-SECRET@ directive (expected `SECTION path`)")]
    BadInlineSecret,
    /// A directive inside a file read through `@INLINE-SECRET@` (GNUnet forbids nesting there).
    #[error("directive not allowed in a file read with @INLINE-SECRET@ (section {0})")]
    DirectiveInSecret(String),
}

/// Why an inline directive failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum InlineError {
    /// Text given to `parse_str` whose origin is not a file: relative inlines cannot be resolved.
    #[error("relative inline path, but the including text has no file to be relative to")]
    NoSourceFile,
    /// The file is already being read further up the inline chain.
    #[error("cyclic configuration import")]
    Cycle,
    /// The inline chain is deeper than [`super::MAX_INLINE_DEPTH`].
    #[error("inline nesting deeper than {0}")]
    TooDeep(usize),
    /// A glob GNUnet does not support (`+`, `[`, `~`, or `*` outside the last component).
    #[error("unsupported glob pattern")]
    UnsupportedGlob,
    /// The inlined file itself failed.
    #[error("{0}")]
    Nested(Box<ConfigError>),
}
