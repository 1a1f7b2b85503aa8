//! App ids as directory names under `apps/`: the one place where a client's app id becomes a
//! path component.
//!
//! The C service put app ids into paths unchanged (gap G8), so `../x` or `a/b` walked out of
//! `apps/`. Here every app id maps to exactly one directory name, and back:
//!
//! - a *plain name* — 1 to 255 bytes of `[A-Za-z0-9._-]`, not `.` or `..` — is its own
//!   directory name, so the `apps/` directories a C service wrote for such ids load unchanged;
//! - any other id is written as `%` followed by the id with every byte outside
//!   `[A-Za-z0-9._-]` as `%XX` (upper-case hex): `a/b` → `%a%2Fb`, `..` → `%..`, the empty id
//!   → `%`. The leading `%` keeps these names apart from plain names (which never hold a
//!   `%`) and from `.`/`..`, and the escaping leaves no `/` or NUL.
//!
//! A name longer than a file name may be (255 bytes) is refused with
//! [`AppIdError::TooLong`]. An app id with unusual bytes therefore lands in a directory a C
//! service sees as a different, harmless app id; only plain names are shared with C-era trees.

/// Longest directory name: `NAME_MAX` of Linux file systems.
pub const APP_DIR_MAX: usize = 255;

/// Why an app id has no directory name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppIdError {
    /// The directory name would be longer than [`APP_DIR_MAX`].
    #[error(
        "app id of {id_len} bytes needs a {name_len}-byte directory name, more than {APP_DIR_MAX}"
    )]
    TooLong {
        /// Length of the app id.
        id_len: usize,
        /// Length of its directory name.
        name_len: usize,
    },
}

/// Marks a directory name that is an escaped app id.
const ESCAPED: char = '%';

/// A byte that may stand for itself in a directory name.
fn is_plain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// Whether `app_id` is its own directory name (see the module documentation).
fn is_plain(app_id: &[u8]) -> bool {
    !app_id.is_empty()
        && app_id.len() <= APP_DIR_MAX
        && app_id != b"."
        && app_id != b".."
        && app_id.iter().copied().all(is_plain_byte)
}

/// The directory name under `apps/` of `app_id` (the client's bytes, without the NUL): the id
/// itself when it is a plain name, else its escaped form. Used by the place logic before an
/// app id reaches a [`StoreOp`](super::StoreOp), and by the store to check every name it is
/// given.
pub fn app_dir_name(app_id: &[u8]) -> Result<String, AppIdError> {
    if is_plain(app_id) {
        // Plain bytes are ASCII.
        return Ok(app_id.iter().map(|&b| char::from(b)).collect());
    }
    let mut name = String::with_capacity(1 + app_id.len());
    name.push(ESCAPED);
    for &b in app_id {
        if is_plain_byte(b) {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    if name.len() > APP_DIR_MAX {
        return Err(AppIdError::TooLong {
            id_len: app_id.len(),
            name_len: name.len(),
        });
    }
    Ok(name)
}

/// The app id whose directory name is `name`, or `None` if [`app_dir_name`] never produces
/// `name` (a foreign or damaged directory, e.g. lower-case hex or an escaped plain name).
pub fn app_id_of_dir_name(name: &str) -> Option<Vec<u8>> {
    let id = match name.strip_prefix(ESCAPED) {
        None => name.as_bytes().to_vec(),
        Some(escaped) => unescape(escaped.as_bytes())?,
    };
    // Only the canonical name of an id is accepted, so the mapping stays one-to-one.
    (app_dir_name(&id).ok()? == name).then_some(id)
}

/// Reverses the `%XX` escapes; `None` on a malformed escape.
fn unescape(mut s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    while let Some((&b, rest)) = s.split_first() {
        if b == b'%' {
            let (hex, rest) = rest.split_first_chunk::<2>()?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            s = rest;
        } else {
            out.push(b);
            s = rest;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_their_own_directory() {
        for id in ["cli", "test", "org.secushare.chat", "a_b-c.9", "..."] {
            assert_eq!(app_dir_name(id.as_bytes()).unwrap(), id);
            assert_eq!(app_id_of_dir_name(id).unwrap(), id.as_bytes());
        }
        let longest = "x".repeat(APP_DIR_MAX);
        assert_eq!(app_dir_name(longest.as_bytes()).unwrap(), longest);
    }

    #[test]
    fn unsafe_ids_are_escaped_and_never_leave_apps() {
        let cases: [(&[u8], &str); 8] = [
            (b"../x", "%..%2Fx"),
            (b"a/b", "%a%2Fb"),
            (b"..", "%.."),
            (b".", "%."),
            (b"", "%"),
            (b"a\0b", "%a%00b"),
            (b"tab\there", "%tab%09here"),
            ("grüß".as_bytes(), "%gr%C3%BC%C3%9F"),
        ];
        for (id, name) in cases {
            let got = app_dir_name(id).unwrap();
            assert_eq!(got, name, "{id:?}");
            assert!(!got.contains('/') && !got.contains('\0') && got != "." && got != "..");
            assert_eq!(app_id_of_dir_name(&got).unwrap(), id);
        }
        // A plain id that happens to contain what looks like an escape is escaped itself.
        assert_eq!(app_dir_name(b"%41").unwrap(), "%%2541");
        assert_eq!(app_id_of_dir_name("%%2541").unwrap(), b"%41");
    }

    #[test]
    fn too_long_ids_are_refused() {
        let long = "y".repeat(APP_DIR_MAX + 1);
        assert_eq!(
            app_dir_name(long.as_bytes()),
            Err(AppIdError::TooLong {
                id_len: 256,
                name_len: 257
            })
        );
        // 85 slashes escape to 1 + 255 bytes.
        assert!(app_dir_name(&[b'/'; 85]).is_err());
        assert_eq!(app_dir_name(&[b'/'; 84]).unwrap().len(), 253);
    }

    #[test]
    fn only_canonical_names_are_read_back() {
        for name in [
            "%a", "%61%62", "%a%2fb", "%a%2", "%a%zz", ".", "..", "", "a/b", "a b",
        ] {
            assert_eq!(app_id_of_dir_name(name), None, "{name:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_id_maps_to_one_safe_name_and_back(id in proptest::collection::vec(proptest::num::u8::ANY, 0..85)) {
            let name = app_dir_name(&id).unwrap();
            proptest::prop_assert!(name.bytes().all(|b| is_plain_byte(b) || b == b'%'));
            proptest::prop_assert!(name != "." && name != "..");
            proptest::prop_assert_eq!(app_id_of_dir_name(&name), Some(id));
        }

        #[test]
        fn reading_any_name_never_panics(name in ".{0,40}") {
            if let Some(id) = app_id_of_dir_name(&name) {
                proptest::prop_assert_eq!(app_dir_name(&id).unwrap(), name);
            }
        }
    }
}
