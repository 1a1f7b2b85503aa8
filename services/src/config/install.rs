//! Where GNUnet is installed: the `[PATHS]` entries libgnunetutil's
//! `GNUNET_CONFIGURATION_create` adds (DATADIR, LIBDIR, …) and the base config directory.
//!
//! libgnunetutil finds its prefix from `$GNUNET_PREFIX`, else from the directory its own
//! `libgnunetutil.so` was mapped from, else from `gnunet-arm` on PATH
//! (`src/util/os_installation.c`). We do not link libgnunetutil, so the middle step probes the
//! usual library directories for a `libgnunetutil.so*` file. The directory names are then
//! derived with the same rules (strip `/bin`, `/lib`, `/lib32`, `/lib64`; Debian multiarch
//! `PREFIX/lib/TRIPLE/`; LIBDIR and LIBEXECDIR prefer directories that exist).

use std::path::Path;

/// Which installation directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Prefix,
    Bin,
    Lib,
    Data,
    Locale,
    Icon,
    Doc,
    Libexec,
}

/// The `[PATHS]` entries GNUnet creates, in the order it creates them.
pub(crate) const PATHS_ENTRIES: &[(&str, Dir)] = &[
    ("DATADIR", Dir::Data),
    ("LIBDIR", Dir::Lib),
    ("BINDIR", Dir::Bin),
    ("PREFIX", Dir::Prefix),
    ("LOCALEDIR", Dir::Locale),
    ("ICONDIR", Dir::Icon),
    ("DOCDIR", Dir::Doc),
    ("LIBEXECDIR", Dir::Libexec),
];

const PROJECT: &str = "gnunet";

/// The directory GNUnet's installation-path logic starts from, or `None` if nothing is found.
pub(crate) fn gnunet_path() -> Option<String> {
    if let Some(p) = std::env::var_os("GNUNET_PREFIX") {
        return Some(p.to_string_lossy().into_owned());
    }
    let triple = format!("{}-linux-gnu", std::env::consts::ARCH);
    let candidates = [
        format!("/usr/lib/{triple}/"),
        "/usr/local/lib/".to_owned(),
        "/usr/lib/".to_owned(),
        "/usr/lib64/".to_owned(),
        "/usr/local/lib64/".to_owned(),
    ];
    for dir in candidates {
        let has_lib = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("libgnunetutil"))
            })
            .unwrap_or(false);
        if has_lib {
            return Some(dir);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .find(|d| d.join("gnunet-arm").is_file())
        .map(|d| d.to_string_lossy().into_owned())
}

/// Derives one installation directory (with trailing `/`) from [`gnunet_path`]'s answer.
pub(crate) fn dir(gnunet_path: &str, kind: Dir) -> String {
    dir_with(gnunet_path, kind, |p| Path::new(p).is_dir())
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

fn strip_trailing_slashes(s: &mut String) {
    while s.len() > 1 && s.ends_with('/') {
        s.pop();
    }
}

fn dir_with(gnunet_path: &str, kind: Dir, is_dir: impl Fn(&str) -> bool) -> String {
    let mut base = gnunet_path.to_owned();
    strip_trailing_slashes(&mut base);
    let mut is_base = true;
    if base.len() > 6 && (ends_with_ci(&base, "/lib32") || ends_with_ci(&base, "/lib64")) {
        if matches!(kind, Dir::Lib | Dir::Libexec) {
            is_base = false;
        } else {
            base.truncate(base.len() - 6);
        }
    } else if base.len() > 4 && (ends_with_ci(&base, "/bin") || ends_with_ci(&base, "/lib")) {
        base.truncate(base.len() - 4);
    }
    let mut multiarch = None;
    if let Some(pos) = base.find("/lib/") {
        let tail = &base[pos + 5..];
        if !tail.contains('/') {
            multiarch = Some(tail.to_owned());
            base.truncate(pos);
        }
    }
    strip_trailing_slashes(&mut base);
    match kind {
        Dir::Prefix => format!("{base}/"),
        Dir::Bin => format!("{base}/bin/"),
        Dir::Data => format!("{base}/share/{PROJECT}/"),
        Dir::Locale => format!("{base}/share/locale/"),
        Dir::Icon => format!("{base}/share/icons/"),
        Dir::Doc => format!("{base}/share/doc/{PROJECT}/"),
        Dir::Lib => {
            if is_base {
                let ma = multiarch
                    .as_deref()
                    .map(|m| format!("/{m}"))
                    .unwrap_or_default();
                let first = format!("{base}/lib{ma}/{PROJECT}/");
                if is_dir(&first) {
                    return first;
                }
                let second = format!("{base}/lib64/{PROJECT}/");
                if is_dir(&second) {
                    return second;
                }
            }
            format!("{base}/{PROJECT}/")
        }
        Dir::Libexec => {
            if is_base {
                let ma = multiarch.as_deref().unwrap_or("");
                let first = format!("{base}/lib/{ma}/{PROJECT}/libexec/");
                if is_dir(&first) {
                    return first;
                }
                let second = format!("{base}/lib64/{PROJECT}/libexec/");
                if is_dir(&second) {
                    return second;
                }
            }
            format!("{base}/{PROJECT}/libexec/")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_multiarch_layout() {
        let exists = |p: &str| {
            p == "/usr/lib/x86_64-linux-gnu/gnunet/"
                || p == "/usr/lib/x86_64-linux-gnu/gnunet/libexec/"
        };
        let g = "/usr/lib/x86_64-linux-gnu/";
        assert_eq!(dir_with(g, Dir::Prefix, exists), "/usr/");
        assert_eq!(dir_with(g, Dir::Data, exists), "/usr/share/gnunet/");
        assert_eq!(dir_with(g, Dir::Bin, exists), "/usr/bin/");
        assert_eq!(
            dir_with(g, Dir::Lib, exists),
            "/usr/lib/x86_64-linux-gnu/gnunet/"
        );
        assert_eq!(
            dir_with(g, Dir::Libexec, exists),
            "/usr/lib/x86_64-linux-gnu/gnunet/libexec/"
        );
        assert_eq!(dir_with(g, Dir::Doc, exists), "/usr/share/doc/gnunet/");
    }

    #[test]
    fn plain_prefixes() {
        let none = |_: &str| false;
        assert_eq!(dir_with("/opt/g", Dir::Data, none), "/opt/g/share/gnunet/");
        assert_eq!(dir_with("/opt/g/bin/", Dir::Prefix, none), "/opt/g/");
        assert_eq!(
            dir_with("/opt/g/lib64", Dir::Lib, none),
            "/opt/g/lib64/gnunet/"
        );
        assert_eq!(
            dir_with("/opt/g/lib64", Dir::Data, none),
            "/opt/g/share/gnunet/"
        );
        assert_eq!(
            dir_with("/opt/g", Dir::Libexec, none),
            "/opt/g/gnunet/libexec/"
        );
    }
}
