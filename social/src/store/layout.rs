//! Where each thing lives under `DATA_HOME`, and reading names back into keys.
//!
//! The C service's directories (`social.md` §9.1) plus one of ours, `decisions/`, which a C
//! service never opens (it scans only `apps/` and reads `places/` files by name).

use std::path::{Path, PathBuf};

use gnunet_service::crypto::{ecdsa, eddsa};

/// Enter requests: `places/<ego>/<place>`.
pub(super) const PLACES: &str = "places";
/// App markers: `apps/<app>/<ego>/<place>`.
pub(super) const APPS: &str = "apps";
/// Saved messages: `files/<place>/<message_id>[.part]`.
pub(super) const FILES: &str = "files";
/// Ours: a guest's last entry decision, `decisions/<ego>/<place>`, the PSYC_JOIN_DECISION
/// message (type 688) as the guest's clients got it.
pub(super) const DECISIONS: &str = "decisions";

/// Suffix of the temporary file a replacement is written to before it is renamed into place.
/// Key names never contain a `.`, so no real entry ends in it.
pub(super) const TEMP_SUFFIX: &str = ".tmp";
/// Suffix of a saved message still being written (the C name).
const PART_SUFFIX: &str = ".part";

/// The paths under one `DATA_HOME`.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    root: PathBuf,
}

impl Layout {
    pub(super) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    pub(super) fn dir(&self, top: &str) -> PathBuf {
        self.root.join(top)
    }

    /// `places/<ego>/<place>`.
    pub(super) fn place_file(&self, ego: &ecdsa::PublicKey, place: &eddsa::PublicKey) -> PathBuf {
        self.per_ego(PLACES, ego, place)
    }

    /// `decisions/<ego>/<place>`.
    pub(super) fn decision_file(
        &self,
        ego: &ecdsa::PublicKey,
        place: &eddsa::PublicKey,
    ) -> PathBuf {
        self.per_ego(DECISIONS, ego, place)
    }

    /// `apps/<app>/<ego>/<place>`; `app` must be a checked directory name.
    pub(super) fn app_marker(
        &self,
        app: &str,
        ego: &ecdsa::PublicKey,
        place: &eddsa::PublicKey,
    ) -> PathBuf {
        self.dir(APPS)
            .join(app)
            .join(ego.to_string())
            .join(place.to_string())
    }

    /// `files/<place>/<message_id>`, or with `.part` while it is written.
    pub(super) fn message_file(
        &self,
        place: &eddsa::PublicKey,
        message_id: u64,
        part: bool,
    ) -> PathBuf {
        let suffix = if part { PART_SUFFIX } else { "" };
        self.dir(FILES)
            .join(place.to_string())
            .join(format!("{message_id}{suffix}"))
    }

    fn per_ego(&self, top: &str, ego: &ecdsa::PublicKey, place: &eddsa::PublicKey) -> PathBuf {
        self.dir(top).join(ego.to_string()).join(place.to_string())
    }
}

/// The ECDSA key a directory or file is named after: only the exact 52 characters
/// [`ecdsa::PublicKey`]'s `Display` writes, so a name maps to one key and back.
pub(super) fn ego_of_name(name: &str) -> Option<ecdsa::PublicKey> {
    let key: ecdsa::PublicKey = name.parse().ok()?;
    (key.to_string() == name).then_some(key)
}

/// The EdDSA key a file or directory is named after (see [`ego_of_name`]).
pub(super) fn place_of_name(name: &str) -> Option<eddsa::PublicKey> {
    let key: eddsa::PublicKey = name.parse().ok()?;
    (key.to_string() == name).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_c_key_strings_and_read_back_exactly() {
        let ego = ecdsa::PublicKey([3; 32]);
        let place = eddsa::PublicKey([4; 32]);
        let layout = Layout::new(PathBuf::from("/d"));
        let path = layout.app_marker("cli", &ego, &place);
        let ego_s = ego.to_string();
        let place_s = place.to_string();
        assert_eq!(ego_s.len(), 52);
        assert_eq!(
            path,
            PathBuf::from(format!("/d/apps/cli/{ego_s}/{place_s}"))
        );
        assert_eq!(
            layout.message_file(&place, 42, true),
            PathBuf::from(format!("/d/files/{place_s}/42.part"))
        );
        assert_eq!(ego_of_name(&ego_s), Some(ego));
        assert_eq!(place_of_name(&place_s), Some(place));
        // Look-alikes the base32 decoder accepts are not the name the store writes.
        assert_eq!(ego_of_name(&ego_s.to_lowercase()), None);
        assert_eq!(place_of_name(&format!("{place_s}{TEMP_SUFFIX}")), None);
        assert_eq!(place_of_name("x"), None);
    }
}
