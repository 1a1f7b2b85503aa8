//! Loading `DATA_HOME` at start-up ([`DataHome::load`]), as the C service's `run` did
//! (`social.md` §9.3) plus our additions.
//!
//! The C service scanned `apps/<app>/<ego>/<place>` and, per marker, read
//! `places/<ego>/<place>`: skipped if missing, shorter than 72 bytes or not the size its header
//! says; entered as host if a HOST_ENTER of at least 104 bytes, as guest if a GUEST_ENTER of at
//! least 108 bytes; anything else skipped, silently. Here the same checks report a
//! [`LoadProblem`] instead, and a file must also decode completely, be named after the keys it
//! holds, and (host) hold the private key of its place. A `places/` file without any marker is
//! not loaded ([`ProblemKind::NoApp`]), as in C. Leftover temporary files of interrupted
//! writes are removed; `places/` files group or others could read are narrowed to 0600.

use std::collections::BTreeMap;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::wire::{Message, MAX_MESSAGE_SIZE};
use tracing::{info, warn};

use super::app_dir::app_id_of_dir_name;
use super::disk;
use super::error::{LoadProblem, ProblemKind, StoreError};
use super::layout::{ego_of_name, place_of_name, Layout, APPS, DECISIONS, PLACES, TEMP_SUFFIX};
use super::{DataHome, SavedEnter, SavedPlace};
use crate::msg::{
    GuestEnter, HostEnter, JoinDecision, GUEST_ENTER_HEADER_SIZE, HOST_ENTER_HEADER_SIZE,
    TYPE_GUEST_ENTER, TYPE_HOST_ENTER,
};

/// `sizeof (struct PlaceEnterRequest)`: header, reserved, ego and place keys.
const PLACE_ENTER_SIZE: u64 = 72;

/// A place, by its keys in the order file names give them.
type PlaceKey = (ecdsa::PublicKey, eddsa::PublicKey);

impl DataHome {
    /// Reads every saved place: the enter request, the apps that entered it, the kept
    /// decision. Damaged entries are skipped and returned as problems; the only error is a
    /// `DATA_HOME` that cannot be listed at all.
    pub fn load(&self) -> Result<(Vec<SavedPlace>, Vec<LoadProblem>), StoreError> {
        let root = self.layout.root();
        std::fs::read_dir(root).map_err(StoreError::io("list", root))?;
        let mut loader = Loader {
            layout: &self.layout,
            problems: Vec::new(),
        };
        let files = loader.key_tree(PLACES);
        let mut apps = loader.markers();
        let mut places = BTreeMap::new();
        for (key, path) in files {
            let Some(app_list) = apps.remove(&key) else {
                loader.problem(path, ProblemKind::NoApp);
                continue;
            };
            if let Some(enter) = loader.read_enter(&path, &key) {
                places.insert(
                    key,
                    SavedPlace {
                        ego: key.0,
                        place: key.1,
                        enter,
                        apps: app_list,
                        decision: None,
                    },
                );
            }
        }
        for ((ego, place), app_list) in apps {
            for app in app_list {
                let marker = self.layout.app_marker(&app, &ego, &place);
                loader.problem(marker, ProblemKind::MissingPlace);
            }
        }
        for (key, path) in loader.key_tree(DECISIONS) {
            match places.get_mut(&key) {
                Some(place) => place.decision = loader.read_decision(&path),
                None => loader.problem(path, ProblemKind::OrphanDecision),
            }
        }
        Ok((places.into_values().collect(), loader.problems))
    }
}

/// One load: where to look, and what was skipped so far.
struct Loader<'a> {
    layout: &'a Layout,
    problems: Vec<LoadProblem>,
}

/// A directory entry: its name (if UTF-8), path and whether it is a directory.
struct Entry {
    name: Option<String>,
    path: PathBuf,
    is_dir: bool,
}

impl Loader<'_> {
    fn problem(&mut self, path: PathBuf, kind: ProblemKind) {
        self.problems.push(LoadProblem { path, kind });
    }

    /// The entries of `dir`; a missing directory has none, an unreadable one is a problem.
    fn list(&mut self, dir: &Path) -> Vec<Entry> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => {
                self.problem(dir.to_owned(), ProblemKind::Unreadable(e));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => {
                    let path = entry.path();
                    out.push(Entry {
                        name: entry.file_name().into_string().ok(),
                        // Follows symbolic links, as the C service did.
                        is_dir: path.is_dir(),
                        path,
                    });
                }
                Err(e) => self.problem(dir.to_owned(), ProblemKind::Unreadable(e)),
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// The files `<top>/<ego>/<place>` (places/ or decisions/), by key. Removes leftover
    /// temporary files on the way.
    fn key_tree(&mut self, top: &str) -> BTreeMap<PlaceKey, PathBuf> {
        let mut out = BTreeMap::new();
        for ego_dir in self.list(&self.layout.dir(top)) {
            let Some(ego) = self.dir_key(&ego_dir, ego_of_name) else {
                continue;
            };
            for file in self.list(&ego_dir.path) {
                if file
                    .name
                    .as_deref()
                    .is_some_and(|n| n.ends_with(TEMP_SUFFIX))
                {
                    self.remove_temp(file.path);
                    continue;
                }
                if let Some(place) = self.file_key(&file, place_of_name) {
                    out.insert((ego, place), file.path);
                }
            }
        }
        out
    }

    /// The apps with a marker `apps/<app>/<ego>/<place>`, by place.
    fn markers(&mut self) -> BTreeMap<PlaceKey, Vec<String>> {
        let mut out: BTreeMap<PlaceKey, Vec<String>> = BTreeMap::new();
        for app_dir in self.list(&self.layout.dir(APPS)) {
            let app = app_dir
                .name
                .clone()
                .filter(|n| app_dir.is_dir && app_id_of_dir_name(n).is_some());
            let Some(app) = app else {
                self.bad_entry(app_dir);
                continue;
            };
            for ego_dir in self.list(&app_dir.path) {
                let Some(ego) = self.dir_key(&ego_dir, ego_of_name) else {
                    continue;
                };
                for marker in self.list(&ego_dir.path) {
                    if let Some(place) = self.file_key(&marker, place_of_name) {
                        out.entry((ego, place)).or_default().push(app.clone());
                    }
                }
            }
        }
        out
    }

    /// The key a directory is named after, or a problem.
    fn dir_key<K>(&mut self, entry: &Entry, parse: fn(&str) -> Option<K>) -> Option<K> {
        self.entry_key(entry, true, parse)
    }

    /// The key a file is named after, or a problem.
    fn file_key<K>(&mut self, entry: &Entry, parse: fn(&str) -> Option<K>) -> Option<K> {
        self.entry_key(entry, false, parse)
    }

    fn entry_key<K>(
        &mut self,
        entry: &Entry,
        dir: bool,
        parse: fn(&str) -> Option<K>,
    ) -> Option<K> {
        let key = entry.name.as_deref().and_then(parse);
        match key {
            Some(key) if entry.is_dir == dir => Some(key),
            Some(_) => {
                self.problem(entry.path.clone(), ProblemKind::WrongKind);
                None
            }
            None => {
                self.problem(entry.path.clone(), ProblemKind::BadName);
                None
            }
        }
    }

    fn bad_entry(&mut self, entry: Entry) {
        let kind = match entry.name.as_deref().and_then(app_id_of_dir_name) {
            Some(_) => ProblemKind::WrongKind,
            None => ProblemKind::BadName,
        };
        self.problem(entry.path, kind);
    }

    fn remove_temp(&mut self, path: PathBuf) {
        match std::fs::remove_file(&path) {
            Ok(()) => {
                info!(path = %path.display(), "removed the temporary file of an interrupted write")
            }
            Err(e) => self.problem(path, ProblemKind::Unreadable(e)),
        }
    }

    /// A whole file of at most one GNUnet message, or a problem.
    fn read_message_file(&mut self, path: &Path) -> Option<(Vec<u8>, Metadata)> {
        let read = File::open(path).and_then(|file| {
            let meta = file.metadata()?;
            let mut bytes = Vec::new();
            // One byte more than a message, to notice a larger file without reading it all.
            file.take(MAX_MESSAGE_SIZE as u64 + 1)
                .read_to_end(&mut bytes)?;
            Ok((bytes, meta))
        });
        match read {
            Ok((bytes, _)) if bytes.len() > MAX_MESSAGE_SIZE => {
                let len = bytes.len() as u64;
                self.problem(path.to_owned(), ProblemKind::TooLong { len });
                None
            }
            Ok(read) => Some(read),
            Err(e) => {
                self.problem(path.to_owned(), ProblemKind::Unreadable(e));
                None
            }
        }
    }

    /// The enter request in `places/<ego>/<place>`, checked as the C loader did and more.
    fn read_enter(&mut self, path: &Path, key: &PlaceKey) -> Option<SavedEnter> {
        let (bytes, meta) = self.read_message_file(path)?;
        self.tighten(path, &meta);
        match check_enter(&bytes, key) {
            Ok(enter) => Some(enter),
            Err(kind) => {
                self.problem(path.to_owned(), kind);
                None
            }
        }
    }

    /// A place file group or others could read is narrowed to 0600 and logged.
    fn tighten(&mut self, path: &Path, meta: &Metadata) {
        let mode = meta.permissions().mode() & 0o777;
        match disk::tighten(path, mode) {
            Ok(true) => {
                warn!(path = %path.display(), mode = format!("{mode:o}"), "saved place was readable by others; mode set to 600")
            }
            Ok(false) => {}
            Err(e) => warn!(error = %e, "saved place stays readable by others"),
        }
    }

    fn read_decision(&mut self, path: &Path) -> Option<JoinDecision> {
        let (bytes, _) = self.read_message_file(path)?;
        match JoinDecision::from_message(&bytes) {
            Ok(decision) => Some(decision),
            Err(e) => {
                self.problem(path.to_owned(), ProblemKind::Undecodable(e));
                None
            }
        }
    }
}

/// Checks and decodes the bytes of a `places/` file named after `key`.
fn check_enter(bytes: &[u8], key: &PlaceKey) -> Result<SavedEnter, ProblemKind> {
    let len = bytes.len() as u64;
    let (Some(size), Some(msg_type)) = (u16_at(bytes, 0), u16_at(bytes, 2)) else {
        return Err(ProblemKind::TooShort { len });
    };
    if len < PLACE_ENTER_SIZE {
        return Err(ProblemKind::TooShort { len });
    }
    if u64::from(size) != len {
        return Err(ProblemKind::SizeMismatch {
            header: size,
            file: len,
        });
    }
    let enter = match msg_type {
        TYPE_HOST_ENTER if len < HOST_ENTER_HEADER_SIZE as u64 => {
            return Err(ProblemKind::TooShort { len })
        }
        TYPE_HOST_ENTER => {
            let host = HostEnter::from_message(bytes).map_err(ProblemKind::Undecodable)?;
            if host.place_key.public_key() != host.place_pub_key {
                return Err(ProblemKind::KeyMismatch("the place's private key"));
            }
            SavedEnter::Host(host)
        }
        TYPE_GUEST_ENTER if len < GUEST_ENTER_HEADER_SIZE as u64 => {
            return Err(ProblemKind::TooShort { len })
        }
        TYPE_GUEST_ENTER => {
            SavedEnter::Guest(GuestEnter::from_message(bytes).map_err(ProblemKind::Undecodable)?)
        }
        other => return Err(ProblemKind::UnknownType(other)),
    };
    if (enter.ego(), enter.place()) != *key {
        return Err(ProblemKind::KeyMismatch("the file's path"));
    }
    Ok(enter)
}

/// The big-endian u16 at `offset`, if the bytes reach that far.
fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    let two: [u8; 2] = bytes.get(offset..offset.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(two))
}
