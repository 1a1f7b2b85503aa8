//! [`DataHome`]: the IO side of the store, carrying out the logic's [`StoreOp`]s.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use gnunet_service::crypto::eddsa;
use gnunet_service::wire::Message;
use tracing::debug;

use super::app_dir::app_id_of_dir_name;
use super::disk;
use super::error::StoreError;
use super::layout::{Layout, APPS};
use super::StoreOp;

/// The social service's `DATA_HOME` (`[social] DATA_HOME`): loads the saved places at start
/// and carries out the place logic's [`StoreOp`]s, one at a time, in order.
///
/// Files are 0600 and directories 0700; `places/` and `decisions/` files are replaced
/// atomically (temp file, fsync, rename, directory fsync). The C layout stays readable by a C
/// service: our `decisions/` directory and escaped app names (see
/// [`app_dir_name`](super::app_dir_name)) are invisible or harmless to it.
#[derive(Debug)]
pub struct DataHome {
    pub(super) layout: Layout,
    /// The message each place is saving now (MSG_PROC SAVE), at most one per place as in C:
    /// a new METHOD for the place abandons the previous one, whose `.part` stays.
    saving: HashMap<eddsa::PublicKey, Saving>,
}

/// A message being saved to `files/<place>/<message_id>.part`.
#[derive(Debug)]
struct Saving {
    message_id: u64,
    file: File,
}

impl DataHome {
    /// Opens (creating it with mode 0700 if missing) the data directory `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        disk::create_dirs(&root)?;
        Ok(Self {
            layout: Layout::new(root),
            saving: HashMap::new(),
        })
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        self.layout.root()
    }

    /// Carries out one operation. On error nothing is undone; the driver logs it.
    pub fn apply(&mut self, op: &StoreOp) -> Result<(), StoreError> {
        match op {
            StoreOp::SavePlace { enter, app } => {
                let app_marker = self.app_marker(app, &enter.ego(), &enter.place())?;
                let path = self.layout.place_file(&enter.ego(), &enter.place());
                let bytes = enter.to_message().map_err(|source| StoreError::TooLarge {
                    path: path.clone(),
                    source,
                })?;
                // The place first, then the marker that makes it load (§9.2).
                disk::replace_file(&path, &bytes)?;
                disk::create_empty(&app_marker)
            }
            StoreOp::AttachApp { app, ego, place } => {
                disk::create_empty(&self.app_marker(app, ego, place)?)
            }
            StoreOp::DetachApp { app, ego, place } => {
                disk::remove_if_present(&self.app_marker(app, ego, place)?).map(drop)
            }
            StoreOp::SaveDecision {
                ego,
                place,
                decision,
            } => {
                let path = self.layout.decision_file(ego, place);
                let bytes = decision
                    .try_to_message()
                    .map_err(|source| StoreError::TooLarge {
                        path: path.clone(),
                        source,
                    })?;
                disk::replace_file(&path, &bytes)
            }
            StoreOp::ForgetPlace { ego, place } => self.forget(ego, place),
            StoreOp::SaveMessageStart { place, message_id } => self.save_start(place, *message_id),
            StoreOp::SaveMessageData {
                place,
                message_id,
                data,
            } => self.save_data(place, *message_id, data),
            StoreOp::SaveMessageEnd {
                place,
                message_id,
                cancelled,
            } => self.save_end(place, *message_id, *cancelled),
        }
    }

    /// `apps/<app>/<ego>/<place>`, once `app` is known to be a name the store writes: a
    /// second guard against path traversal, after the logic's mapping.
    fn app_marker(
        &self,
        app: &str,
        ego: &gnunet_service::crypto::ecdsa::PublicKey,
        place: &eddsa::PublicKey,
    ) -> Result<PathBuf, StoreError> {
        if app_id_of_dir_name(app).is_none() {
            return Err(StoreError::BadAppName {
                app: app.to_owned(),
                root: self.root().to_owned(),
            });
        }
        Ok(self.layout.app_marker(app, ego, place))
    }

    /// Removes every trace of a place but its saved messages: the markers first (so the place
    /// no longer loads even if the rest is interrupted), then the decision, then the request.
    fn forget(
        &mut self,
        ego: &gnunet_service::crypto::ecdsa::PublicKey,
        place: &eddsa::PublicKey,
    ) -> Result<(), StoreError> {
        let apps = self.layout.dir(APPS);
        match std::fs::read_dir(&apps) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(StoreError::io("list", &apps))?;
                    let marker = entry.path().join(ego.to_string()).join(place.to_string());
                    // Every app directory, also ones whose name the store would not write.
                    if disk::remove_if_present(&marker)? {
                        debug!(path = %marker.display(), "app marker removed");
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io("list", &apps)(e)),
        }
        disk::remove_if_present(&self.layout.decision_file(ego, place))?;
        disk::remove_if_present(&self.layout.place_file(ego, place))?;
        Ok(())
    }

    /// MSG_PROC SAVE, METHOD: `files/<place>/<id>.part` is created unless it exists (then, as
    /// in C, nothing is kept for that message). Unlike C, a message whose complete file
    /// exists is not saved again either (C would overwrite it with the new copy).
    fn save_start(&mut self, place: &eddsa::PublicKey, message_id: u64) -> Result<(), StoreError> {
        self.saving.remove(place);
        if self.layout.message_file(place, message_id, false).exists() {
            return Ok(());
        }
        let part = self.layout.message_file(place, message_id, true);
        if let Some(file) = disk::create_new(&part)? {
            self.saving.insert(*place, Saving { message_id, file });
        }
        Ok(())
    }

    /// MSG_PROC SAVE, DATA: appended to the message's `.part`; data of a message not being
    /// saved is ignored. A failed write abandons the message (its `.part` stays).
    fn save_data(
        &mut self,
        place: &eddsa::PublicKey,
        message_id: u64,
        data: &[u8],
    ) -> Result<(), StoreError> {
        let Some(saving) = self.saving_mut(place, message_id) else {
            return Ok(());
        };
        if let Err(e) = saving.file.write_all(data) {
            self.saving.remove(place);
            let part = self.layout.message_file(place, message_id, true);
            return Err(StoreError::io("write", part)(e));
        }
        Ok(())
    }

    /// MSG_PROC SAVE, END: the `.part` becomes `<id>`; a cancelled message's `.part` is
    /// removed instead (C kept a cancelled message as if complete, gap G15).
    fn save_end(
        &mut self,
        place: &eddsa::PublicKey,
        message_id: u64,
        cancelled: bool,
    ) -> Result<(), StoreError> {
        if self.saving_mut(place, message_id).is_none() {
            return Ok(());
        }
        let Some(saving) = self.saving.remove(place) else {
            return Ok(());
        };
        let part = self.layout.message_file(place, message_id, true);
        if cancelled {
            drop(saving);
            return disk::remove_if_present(&part).map(drop);
        }
        saving
            .file
            .sync_all()
            .map_err(StoreError::io("write", &part))?;
        disk::rename(&part, &self.layout.message_file(place, message_id, false))
    }

    fn saving_mut(&mut self, place: &eddsa::PublicKey, message_id: u64) -> Option<&mut Saving> {
        self.saving
            .get_mut(place)
            .filter(|s| s.message_id == message_id)
    }
}
