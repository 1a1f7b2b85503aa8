//! Method and variable names: what is valid, and the `_` family hierarchy.
//!
//! Names are ASCII keywords: letters, digits and `_`. By PSYC convention a name that starts
//! with `_` is a standardised keyword, and `_` separates segments that go from general to
//! specific: `_notice_place_leave` is a kind of `_notice_place`, which is a kind of `_notice`,
//! which is a kind of `_`. [`family`] walks that chain; the slicer and PSYCstore's best-match
//! state lookup both rely on it.
//!
//! Names without a leading `_` (gnunet-social's default method `message`) are valid
//! keywords too; they are their own family root.

use super::parts::{FRAGMENT_MAX_PAYLOAD, METHOD_HEADER_SIZE, MODIFIER_MAX_PAYLOAD};

/// Longest method name: a METHOD part with its NUL must fit in one container.
pub const METHOD_NAME_MAX: usize = FRAGMENT_MAX_PAYLOAD - METHOD_HEADER_SIZE - 1;
/// Longest variable name: name and NUL must fit in a MODIFIER part's payload.
pub const VARIABLE_NAME_MAX: usize = MODIFIER_MAX_PAYLOAD - 1;

/// Why a name is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("empty name")]
    Empty,
    /// The name is longer than its part allows.
    #[error("name of {len} bytes exceeds the maximum of {max}")]
    TooLong {
        /// Length of the name.
        len: usize,
        /// Maximum for this kind of name.
        max: usize,
    },
    /// A byte that is not a letter, digit or `_`.
    #[error("byte {byte:#04x} at {at} is not a keyword character")]
    BadByte {
        /// The offending byte.
        byte: u8,
        /// Its index.
        at: usize,
    },
}

/// Whether a byte is a keyword character: an ASCII letter, digit or `_`. Written as
/// branch-free range checks so that a whole name is checked with SIMD compares.
#[inline(always)]
fn is_keyword_byte(b: u8) -> bool {
    let lower = b | 0x20;
    (lower.wrapping_sub(b'a') < 26) | (b.wrapping_sub(b'0') < 10) | (b == b'_')
}

fn check_keyword(name: &[u8], max: usize) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > max {
        return Err(NameError::TooLong {
            len: name.len(),
            max,
        });
    }
    // No early exit in the common (valid) case, so the loop vectorises; find the culprit only
    // when there is one.
    let all_valid = name.iter().fold(true, |ok, b| ok & is_keyword_byte(*b));
    if let Some(at) = (!all_valid)
        .then(|| name.iter().position(|b| !is_keyword_byte(*b)))
        .flatten()
    {
        return Err(NameError::BadByte { byte: name[at], at });
    }
    Ok(())
}

/// The name as text once [`check_keyword`] passed (all ASCII, so this cannot fail; the
/// impossible case maps to an error rather than a panic).
fn as_text(name: &[u8]) -> Result<&str, NameError> {
    std::str::from_utf8(name).map_err(|_| NameError::BadByte { byte: 0, at: 0 })
}

/// Checks a method name without converting it (the receiver's hot path).
pub fn check_method(name: &[u8]) -> Result<(), NameError> {
    check_keyword(name, METHOD_NAME_MAX)
}

/// Checks a variable name without converting it (the receiver's hot path).
pub fn check_variable(name: &[u8]) -> Result<(), NameError> {
    check_keyword(name, VARIABLE_NAME_MAX)
}

/// Validates a method name (bytes of a METHOD part without the NUL) and returns it as text.
pub fn validate_method(name: &[u8]) -> Result<&str, NameError> {
    check_method(name)?;
    as_text(name)
}

/// Validates a variable (modifier) name and returns it as text.
pub fn validate_variable(name: &[u8]) -> Result<&str, NameError> {
    check_variable(name)?;
    as_text(name)
}

/// Whether `name` is a standardised keyword (starts with `_`).
pub fn is_standard(name: &str) -> bool {
    name.starts_with('_')
}

/// The segments of a name after its leading `_`: `_notice_place` → `["notice", "place"]`.
/// A name without a leading `_` is split the same way from its start.
pub fn segments(name: &str) -> impl Iterator<Item = &str> {
    name.strip_prefix('_')
        .unwrap_or(name)
        .split('_')
        .filter(|s| !s.is_empty())
}

/// The parent of a name in the family hierarchy: the name with its last `_segment` cut off;
/// `_notice` → `_`; `None` for `_` itself and for names without `_`.
pub fn parent(name: &str) -> Option<&str> {
    let cut = name.rfind('_')?;
    if cut == 0 {
        return (name.len() > 1).then_some("_");
    }
    Some(&name[..cut])
}

/// Walks from a name up its family, most specific first:
/// `_notice_place_leave`, `_notice_place`, `_notice`, `_`.
pub fn family(name: &str) -> Family<'_> {
    Family { next: Some(name) }
}

/// Iterator returned by [`family`].
#[derive(Debug, Clone)]
pub struct Family<'a> {
    next: Option<&'a str>,
}

impl<'a> Iterator for Family<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let cur = self.next?;
        self.next = parent(cur);
        Some(cur)
    }
}

/// Whether `name` belongs to the family `ancestor` (equal, or a specialisation of it).
pub fn is_in_family(name: &str, ancestor: &str) -> bool {
    family(name).any(|n| n == ancestor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for n in ["_", "_notice_place_leave", "message", "_foo2_bar", "A_b9"] {
            assert_eq!(validate_method(n.as_bytes()), Ok(n));
            assert_eq!(validate_variable(n.as_bytes()), Ok(n));
        }
    }

    #[test]
    fn invalid_names() {
        assert_eq!(validate_method(b""), Err(NameError::Empty));
        assert_eq!(
            validate_variable(b"_foo bar"),
            Err(NameError::BadByte { byte: b' ', at: 4 })
        );
        assert_eq!(
            validate_variable(b"_a\0b"),
            Err(NameError::BadByte { byte: 0, at: 2 })
        );
        assert!(matches!(
            validate_variable(b"_\xc3\xa4"),
            Err(NameError::BadByte { at: 1, .. })
        ));
        let long = vec![b'a'; VARIABLE_NAME_MAX + 1];
        assert!(matches!(
            validate_variable(&long),
            Err(NameError::TooLong { .. })
        ));
        assert!(validate_variable(&long[1..]).is_ok());
        let long = vec![b'a'; METHOD_NAME_MAX + 1];
        assert!(matches!(
            validate_method(&long),
            Err(NameError::TooLong { .. })
        ));
    }

    #[test]
    fn family_walk_goes_from_specific_to_general() {
        let walk: Vec<_> = family("_notice_place_leave").collect();
        assert_eq!(
            walk,
            ["_notice_place_leave", "_notice_place", "_notice", "_"]
        );
        assert_eq!(family("_").collect::<Vec<_>>(), ["_"]);
        assert_eq!(family("message").collect::<Vec<_>>(), ["message"]);
        assert_eq!(family("a_b").collect::<Vec<_>>(), ["a_b", "a"]);
        assert!(is_in_family("_notice_place_leave", "_notice"));
        assert!(!is_in_family("_noticeboard", "_notice"));
        assert!(!is_in_family("_notice", "_notice_place"));
    }

    #[test]
    fn segments_and_standard() {
        assert_eq!(
            segments("_list_peer_relays").collect::<Vec<_>>(),
            ["list", "peer", "relays"]
        );
        assert!(is_standard("_x"));
        assert!(!is_standard("message"));
    }
}
