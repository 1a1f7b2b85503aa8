//! One line of a GNUnet configuration file, classified the way libgnunetutil 0.19.3's
//! `GNUNET_CONFIGURATION_deserialize` classifies it. No I/O and no state: the loader keeps the
//! current section and carries out directives.
//!
//! Facts carried over from the C parser (all checked against `gnunet-config`):
//! - lines end at `\n` only; tabs and `\r` count as blanks; a line of blanks is skipped;
//! - leading and trailing white space is removed, then `#` or `%` starts a comment line
//!   (comments are whole lines only: `key = v # x` keeps `# x` in the value);
//! - `[name]` opens a section only when the line had no leading and no trailing white space
//!   (so `[name] ` and CRLF files fail with a syntax error, as in GNUnet);
//! - `key = value`: split at the first `=`, blanks around both trimmed, one pair of enclosing
//!   double quotes removed (no escapes; inner quotes stay);
//! - `@INLINE@ path`, `@INLINE-MATCHING@ glob`, `@INLINE-SECRET@ SECTION path`, directive names
//!   case-insensitive;
//! - anything else is a syntax error.

use super::error::SyntaxError;

/// What one line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// Empty line or comment.
    Blank,
    /// `[name]`: the name exactly as between the brackets (not trimmed).
    Section(&'a str),
    /// `key = value` with the value unquoted.
    Entry {
        /// Option name (may be empty, as GNUnet allows `= v`).
        key: &'a str,
        /// Value after trimming and unquoting.
        value: &'a str,
    },
    /// A directive.
    Directive(Directive<'a>),
}

/// The three directives GNUnet 0.19.3 knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Directive<'a> {
    /// `@INLINE@ path`
    Inline(&'a str),
    /// `@INLINE-MATCHING@ glob`
    InlineMatching(&'a str),
    /// `@INLINE-SECRET@ SECTION path`
    InlineSecret {
        /// Only this section is taken from the file.
        section: &'a str,
        /// The file.
        path: &'a str,
    },
}

/// White space as C's `isspace` in the C locale.
pub(crate) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Splits text into lines the way the C reader does: at `\n` only, numbered from 1. A final
/// newline does not start another line. Each line ends at a NUL byte, as a C string would.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let empty = text.is_empty();
    body.split('\n')
        .filter(move |_| !empty)
        .enumerate()
        .map(|(i, l)| {
            let nr = u32::try_from(i + 1).unwrap_or(u32::MAX);
            (nr, l.split('\0').next().unwrap_or(""))
        })
}

/// Classifies one line (without its `\n`).
pub(crate) fn classify(raw: &str) -> Result<Line<'_>, SyntaxError> {
    // Tabs and CRs are blanks; a line of blanks is skipped before anything else.
    if raw.chars().all(|c| matches!(c, ' ' | '\t' | '\r')) {
        return Ok(Line::Blank);
    }
    // Trailing white space goes, except the first character (which the leading trim takes).
    let mut first_len = raw.chars().next().map_or(0, char::len_utf8);
    if first_len > raw.len() {
        first_len = raw.len();
    }
    let tail = raw[first_len..].trim_end_matches(is_c_space);
    let trailing_trimmed = tail.len() != raw.len() - first_len;
    let right = &raw[..first_len + tail.len()];
    let line = right.trim_start_matches(is_c_space);
    let leading_trimmed = line.len() != right.len();

    if line.starts_with('#') || line.starts_with('%') {
        return Ok(Line::Blank);
    }
    if let Some(rest) = line.strip_prefix('@') {
        return directive(rest).map(Line::Directive);
    }
    // The C code tests the last byte of the *untrimmed* line length against the trimmed
    // start, so any trimmed blank on either side makes a section header fail.
    if !leading_trimmed
        && !trailing_trimmed
        && line.len() >= 2
        && line.starts_with('[')
        && line.ends_with(']')
    {
        return Ok(Line::Section(&line[1..line.len() - 1]));
    }
    if let Some((key, value)) = line.split_once('=') {
        let key = key.trim_end_matches(is_c_space);
        let value = value.trim_matches(is_c_space);
        let value = if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
            &value[1..value.len() - 1]
        } else if value == "\"" {
            ""
        } else {
            value
        };
        return Ok(Line::Entry { key, value });
    }
    Err(SyntaxError::Unrecognised)
}

/// Parses what follows the leading `@` of a directive line.
fn directive(rest: &str) -> Result<Directive<'_>, SyntaxError> {
    let (name, args) = rest.split_once('@').ok_or(SyntaxError::BadDirective)?;
    let args = args.trim_start_matches(is_c_space);
    if name.eq_ignore_ascii_case("INLINE") {
        Ok(Directive::Inline(args))
    } else if name.eq_ignore_ascii_case("INLINE-MATCHING") {
        Ok(Directive::InlineMatching(args))
    } else if name.eq_ignore_ascii_case("INLINE-SECRET") {
        // The section name ends at the first space (tabs are spaces by now in C).
        let mut split = args.splitn(2, [' ', '\t', '\r']);
        let section = split.next().unwrap_or("");
        let path = split.next().ok_or(SyntaxError::BadInlineSecret)?;
        Ok(Directive::InlineSecret {
            section,
            path: path.trim_start_matches(is_c_space),
        })
    } else {
        Err(SyntaxError::UnknownDirective(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_need_exact_brackets() {
        assert_eq!(classify("[arm]"), Ok(Line::Section("arm")));
        assert_eq!(classify("[ a b ]"), Ok(Line::Section(" a b ")));
        assert_eq!(classify("[]"), Ok(Line::Section("")));
        assert_eq!(classify("[arm] "), Err(SyntaxError::Unrecognised));
        assert_eq!(classify("[arm]\r"), Err(SyntaxError::Unrecognised));
        assert_eq!(classify(" [arm]"), Err(SyntaxError::Unrecognised));
        assert_eq!(classify("["), Err(SyntaxError::Unrecognised));
        // With a `=` a malformed header becomes an option named "[a]".
        assert_eq!(
            classify("[a] = b"),
            Ok(Line::Entry {
                key: "[a]",
                value: "b"
            })
        );
    }

    #[test]
    fn entries_trim_and_unquote_once() {
        assert_eq!(
            classify("  KEY \t=  \"a b\"  "),
            Ok(Line::Entry {
                key: "KEY",
                value: "a b"
            })
        );
        assert_eq!(
            classify("k = \"a\" \"b\""),
            Ok(Line::Entry {
                key: "k",
                value: "a\" \"b"
            })
        );
        assert_eq!(
            classify("k = \""),
            Ok(Line::Entry {
                key: "k",
                value: ""
            })
        );
        assert_eq!(
            classify("k ="),
            Ok(Line::Entry {
                key: "k",
                value: ""
            })
        );
        assert_eq!(
            classify("=v"),
            Ok(Line::Entry {
                key: "",
                value: "v"
            })
        );
        assert_eq!(
            classify("k = a = b # not a comment"),
            Ok(Line::Entry {
                key: "k",
                value: "a = b # not a comment"
            })
        );
    }

    #[test]
    fn comments_blank_and_garbage() {
        assert_eq!(classify(""), Ok(Line::Blank));
        assert_eq!(classify(" \t\r "), Ok(Line::Blank));
        assert_eq!(classify("  # x"), Ok(Line::Blank));
        assert_eq!(classify("%x"), Ok(Line::Blank));
        assert_eq!(classify("\x0b"), Err(SyntaxError::Unrecognised));
        assert_eq!(classify("word"), Err(SyntaxError::Unrecognised));
    }

    #[test]
    fn directives() {
        assert_eq!(
            classify("@inline@   a.conf"),
            Ok(Line::Directive(Directive::Inline("a.conf")))
        );
        assert_eq!(
            classify("@INLINE-MATCHING@ d/*.conf"),
            Ok(Line::Directive(Directive::InlineMatching("d/*.conf")))
        );
        assert_eq!(
            classify("@INLINE-SECRET@ sec   /x/y.conf"),
            Ok(Line::Directive(Directive::InlineSecret {
                section: "sec",
                path: "/x/y.conf"
            }))
        );
        assert_eq!(
            classify("@INLINE-SECRET@ sec"),
            Err(SyntaxError::BadInlineSecret)
        );
        assert_eq!(classify("@INLINE"), Err(SyntaxError::BadDirective));
        assert_eq!(
            classify("@FOO@ x"),
            Err(SyntaxError::UnknownDirective("FOO".into()))
        );
    }

    #[test]
    fn line_splitting() {
        let v: Vec<_> = lines("a\nb\n").collect();
        assert_eq!(v, vec![(1, "a"), (2, "b")]);
        let v: Vec<_> = lines("a\n\nb").collect();
        assert_eq!(v, vec![(1, "a"), (2, ""), (3, "b")]);
        assert_eq!(lines("").count(), 0);
        let v: Vec<_> = lines("a\0b\n").collect();
        assert_eq!(v, vec![(1, "a")]);
    }
}
