//! `$`-expansion and `~`/relative filename expansion, as libgnunetutil 0.19.3 does them
//! (`GNUNET_CONFIGURATION_expand_dollar`, `GNUNET_STRINGS_filename_expand`).
//!
//! The rules, from the C source and checked against `gnunet-config -f`:
//! - every `$` starts a term; the term is replaced, then scanning resumes one byte after the
//!   `$` (so the replacement is looked at again);
//! - `$NAME` ends at `/`, `\`, a space or the end; that ending character is kept;
//! - `${NAME}` ends at the matching `}` (braces nest); `${NAME:-DEFAULT}` (also `:=` or plain
//!   `:`) splits at the first `:`;
//! - NAME is looked up in `[PATHS]` first (case-insensitive), then in the environment, then the
//!   default is used; a default that starts with `$` is expanded once more as a term;
//! - whatever was found is itself expanded completely; a term that cannot be resolved stays as
//!   written (and the rest of the string is still scanned);
//! - a default chain deeper than 128 stops expanding.
//!
//! Where the C code recurses without bound (a `[PATHS]` entry that refers to itself crashes
//! libgnunetutil), we stop: at [`MAX_NEST`] nested values, [`MAX_TERMS`] terms per call or
//! [`MAX_LEN`] bytes of output the rest is left unexpanded.

use std::path::PathBuf;

/// Deepest default chain (`${A:-${B:-…}}`) libgnunetutil follows.
const MAX_DEFAULT_DEPTH: usize = 128;
/// Deepest nesting of values that contain further `$` terms (unbounded in C).
pub const MAX_NEST: usize = 64;
/// Most `$` terms one expansion resolves (guards against exponential blow-up).
pub const MAX_TERMS: usize = 10_000;
/// Longest expansion result we keep expanding.
pub const MAX_LEN: usize = 1 << 16;

/// Expands `$` terms given a `[PATHS]` lookup and an environment lookup.
pub(crate) struct Expander<P, E> {
    paths: P,
    env: E,
    terms_left: usize,
}

impl<P, E> Expander<P, E>
where
    P: Fn(&str) -> Option<String>,
    E: Fn(&str) -> Option<String>,
{
    /// An expander over the given lookups.
    pub(crate) fn new(paths: P, env: E) -> Self {
        Expander {
            paths,
            env,
            terms_left: MAX_TERMS,
        }
    }

    /// Expands every `$` term of `value`.
    pub(crate) fn expand(&mut self, value: &str) -> String {
        self.expand_all(value.to_owned(), 0)
    }

    fn expand_all(&mut self, mut s: String, nest: usize) -> String {
        if nest > MAX_NEST {
            return s;
        }
        let mut i = 0;
        while i < s.len() {
            // `$` is ASCII, so a match is always a char boundary.
            if s.as_bytes()[i] == b'$' {
                if self.terms_left == 0 || s.len() > MAX_LEN {
                    return s;
                }
                self.terms_left -= 1;
                let replaced = self.expand_term(&s[i..], 0, nest);
                s.truncate(i);
                s.push_str(&replaced);
            }
            i += 1;
        }
        s
    }

    /// Expands the single term at the start of `term` (which starts with `$`), returning it
    /// followed by the text after the term.
    fn expand_term(&mut self, term: &str, depth: usize, nest: usize) -> String {
        if depth > MAX_DEFAULT_DEPTH || !term.starts_with('$') {
            return term.to_owned();
        }
        let (name, default, kept, post) = match split_term(term) {
            Some(parts) => parts,
            None => return term.to_owned(), // `${` without its `}`
        };
        let found = (self.paths)(name)
            .or_else(|| (self.env)(name))
            .or_else(|| default.map(|d| self.expand_term(d, depth + 1, nest)));
        let Some(found) = found else {
            return term.to_owned();
        };
        let mut out = self.expand_all(found, nest + 1);
        if out.len() + post.len() >= MAX_LEN {
            return term.to_owned();
        }
        if let Some(c) = kept {
            out.push(c);
        }
        out.push_str(post);
        out
    }
}

/// Splits a term into (name, default, character that ended a bare `$NAME`, rest).
fn split_term(term: &str) -> Option<(&str, Option<&str>, Option<char>, &str)> {
    if let Some(braced) = term.strip_prefix("${") {
        let mut open = 1usize;
        let mut close = None;
        for (i, c) in braced.char_indices() {
            match c {
                '{' => open += 1,
                '}' => {
                    open -= 1;
                    if open == 0 {
                        close = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let close = close?;
        let inner = &braced[..close];
        let post = &braced[close + 1..];
        let (name, default) = match inner.split_once(':') {
            Some((name, d)) => {
                let d = d
                    .strip_prefix('-')
                    .or_else(|| d.strip_prefix('='))
                    .unwrap_or(d);
                (name, Some(d))
            }
            None => (inner, None),
        };
        Some((name, default, None, post))
    } else {
        let bare = &term[1..];
        match bare.find(['/', '\\', ' ']) {
            Some(end) => {
                let kept = bare[end..].chars().next();
                Some((&bare[..end], None, kept, &bare[end + 1..]))
            }
            None => Some((bare, None, None, "")),
        }
    }
}

/// The process environment as GNUnet's `getenv` sees it (empty names and names with `=` or
/// NUL are never set).
pub(crate) fn process_env(name: &str) -> Option<String> {
    if name.is_empty() || name.contains(['=', '\0']) {
        return None;
    }
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// `GNUNET_STRINGS_filename_expand`: absolute paths stay, `~` becomes `$HOME` (one `/` after
/// it is skipped), anything else is made relative to the working directory. `None` when the
/// value starts with `~` and HOME is not set (GNUnet fails there too).
pub(crate) fn filename(
    value: &str,
    home: Option<String>,
    cwd: impl FnOnce() -> String,
) -> Option<PathBuf> {
    if value.starts_with('/') {
        return Some(PathBuf::from(value));
    }
    let (base, rest) = match value.strip_prefix('~') {
        Some(rest) => (home?, rest.strip_prefix('/').unwrap_or(rest)),
        None => (cwd(), value),
    };
    let sep = if base.ends_with('/') { "" } else { "/" };
    Some(PathBuf::from(format!("{base}{sep}{rest}")))
}

/// The working directory as GNUnet finds it: `getcwd`, else `$PWD`, else `./`.
pub(crate) fn current_dir() -> String {
    std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .ok()
        .or_else(|| std::env::var("PWD").ok())
        .unwrap_or_else(|| "./".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(paths: &[(&str, &str)], env: &[(&str, &str)], s: &str) -> String {
        let p: HashMap<String, String> = paths
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        let e: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Expander::new(
            |n: &str| p.get(&n.to_ascii_lowercase()).cloned(),
            |n: &str| e.get(n).cloned(),
        )
        .expand(s)
    }

    #[test]
    fn paths_before_environment() {
        assert_eq!(run(&[("X", "/p")], &[("X", "/e")], "$X/a"), "/p/a");
        assert_eq!(run(&[], &[("X", "/e")], "$X/a"), "/e/a");
        assert_eq!(run(&[("x", "/p")], &[], "${X}a"), "/pa");
    }

    #[test]
    fn bare_names_end_at_slash_backslash_space() {
        assert_eq!(run(&[("A", "1")], &[], "$A b"), "1 b");
        assert_eq!(run(&[("A", "1")], &[], "$A\\b"), "1\\b");
        assert_eq!(run(&[("A.conf", "1")], &[], "$A.conf"), "1");
        assert_eq!(run(&[("A", "1")], &[], "x$A"), "x1");
    }

    #[test]
    fn defaults_nest() {
        assert_eq!(run(&[], &[], "${A:-${B:-/d}}/x"), "/d/x");
        assert_eq!(run(&[], &[("B", "/b")], "${A:-${B:-/d}}/x"), "/b/x");
        assert_eq!(run(&[], &[], "${A:=v}"), "v");
        assert_eq!(run(&[], &[], "${A:v}"), "v");
        assert_eq!(run(&[], &[("H", "/h")], "${A:-x/$H}"), "x//h");
    }

    #[test]
    fn unresolved_terms_stay() {
        assert_eq!(run(&[], &[], "$NOPE/x"), "$NOPE/x");
        assert_eq!(run(&[], &[], "${NOPE}/x"), "${NOPE}/x");
        assert_eq!(run(&[("B", "b")], &[], "${A/$B"), "${A/b");
        assert_eq!(run(&[], &[], "$"), "$");
    }

    #[test]
    fn values_are_expanded_recursively() {
        let paths = [("A", "$B/a"), ("B", "${C:-/c}")];
        assert_eq!(run(&paths, &[], "$A/x"), "/c/a/x");
    }

    #[test]
    fn self_reference_terminates() {
        let out = run(&[("A", "x$A")], &[], "$A");
        assert!(out.starts_with("xxxx"));
        let chain: Vec<(String, String)> = (0..40)
            .map(|i| (format!("V{i}"), format!("$V{0}$V{0}", i + 1)))
            .collect();
        let refs: Vec<(&str, &str)> = chain
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let out = run(&refs, &[], "$V0");
        assert!(out.len() <= 2 * MAX_LEN + 3);
    }

    #[test]
    fn filename_rules() {
        let cwd = || "/w".to_owned();
        assert_eq!(filename("/a", None, cwd), Some("/a".into()));
        assert_eq!(filename("~/a", Some("/h".into()), cwd), Some("/h/a".into()));
        assert_eq!(filename("~a", Some("/h/".into()), cwd), Some("/h/a".into()));
        assert_eq!(filename("~", Some("/h".into()), cwd), Some("/h/".into()));
        assert_eq!(filename("~/a", None, cwd), None);
        assert_eq!(filename("a/b", None, cwd), Some("/w/a/b".into()));
    }
}
