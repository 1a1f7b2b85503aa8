//! `DATA_HOME` on real files: every store operation, then a load that must give back what was
//! saved.

mod store_common;

use std::path::Path;

use gnunet_service::crypto::eddsa;
use gnunet_service::wire::Message;
use social::store::{DataHome, ProblemKind, SavedEnter, StoreError, StoreOp};
use store_common::*;

fn open(dir: &tempfile::TempDir) -> DataHome {
    DataHome::open(dir.path().join("social")).expect("open DATA_HOME")
}

#[test]
fn host_and_guest_places_load_as_saved_with_owner_only_modes() {
    let dir = tempfile::tempdir().unwrap();
    let mut home = open(&dir);
    let host = host_enter(1, 7, b"cli");
    let guest = guest_enter(2, 9, b"cli");
    home.apply(&save(SavedEnter::Host(host.clone()), "cli"))
        .unwrap();
    home.apply(&save(SavedEnter::Guest(guest.clone()), "cli"))
        .unwrap();

    let (places, problems) = home.load().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(places.len(), 2);
    let saved_host = places.iter().find(|p| p.ego == host.ego_pub_key).unwrap();
    assert_eq!(saved_host.place, host.place_pub_key);
    assert_eq!(saved_host.enter, SavedEnter::Host(host.clone()));
    assert_eq!(saved_host.apps, ["cli"]);
    assert_eq!(saved_host.decision, None);
    let saved_guest = places.iter().find(|p| p.ego == guest.ego_pub_key).unwrap();
    assert_eq!(saved_guest.enter, SavedEnter::Guest(guest.clone()));
    assert_eq!(saved_guest.apps, ["cli"]);

    // The files are the messages, byte for byte, as the C service wrote them.
    let root = home.root();
    let host_file = places_file(root, &host.ego_pub_key, &host.place_pub_key);
    assert_eq!(std::fs::read(&host_file).unwrap(), host.to_message());
    assert_eq!(
        mode(&host_file),
        0o600,
        "the place's private key is the owner's only"
    );
    let guest_file = places_file(root, &guest.ego_pub_key, &guest.place_pub_key);
    assert_eq!(std::fs::read(&guest_file).unwrap(), guest.to_message());
    let host_marker = marker(root, "cli", &host.ego_pub_key, &host.place_pub_key);
    assert_eq!(std::fs::read(&host_marker).unwrap(), b"");
    assert_eq!(mode(&host_marker), 0o600);
    for d in [
        root,
        &root.join("places"),
        host_file.parent().unwrap(),
        host_marker.parent().unwrap(),
    ] {
        assert_eq!(mode(d), 0o700, "{}", d.display());
    }
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(host_file.parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn apps_attach_and_detach_and_a_place_without_apps_is_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let mut home = open(&dir);
    let guest = guest_enter(2, 9, b"cli");
    let (ego, place) = (guest.ego_pub_key, guest.place_pub_key);
    home.apply(&save(SavedEnter::Guest(guest), "cli")).unwrap();
    let attach = |app: &str| StoreOp::AttachApp {
        app: app.into(),
        ego,
        place,
    };
    let detach = |app: &str| StoreOp::DetachApp {
        app: app.into(),
        ego,
        place,
    };
    home.apply(&attach("%a%2Fb")).unwrap();
    home.apply(&attach("cli")).unwrap(); // already there: no change
    let (places, _) = home.load().unwrap();
    assert_eq!(places[0].apps, ["%a%2Fb", "cli"]);

    home.apply(&detach("cli")).unwrap();
    home.apply(&detach("cli")).unwrap(); // already gone: fine
    let (places, problems) = home.load().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(places[0].apps, ["%a%2Fb"]);

    home.apply(&detach("%a%2Fb")).unwrap();
    let (places, problems) = home.load().unwrap();
    assert!(places.is_empty());
    assert_eq!(problems.len(), 1);
    assert!(matches!(problems[0].kind, ProblemKind::NoApp));
    assert_eq!(problems[0].path, places_file(home.root(), &ego, &place));
}

#[test]
fn unsafe_app_names_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut home = open(&dir);
    let guest = guest_enter(2, 9, b"x");
    for app in ["../x", "a/b", "..", ".", "", "%zz", "a\0b"] {
        let err = home
            .apply(&save(SavedEnter::Guest(guest.clone()), app))
            .unwrap_err();
        assert!(
            matches!(err, StoreError::BadAppName { .. }),
            "{app:?}: {err}"
        );
    }
    assert!(!home.root().join("places").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_guest_decision_is_kept_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let mut home = open(&dir);
    let guest = guest_enter(2, 9, b"cli");
    let (ego, place) = (guest.ego_pub_key, guest.place_pub_key);
    home.apply(&save(SavedEnter::Guest(guest), "cli")).unwrap();
    for admitted in [0, 1] {
        home.apply(&StoreOp::SaveDecision {
            ego,
            place,
            decision: decision(admitted),
        })
        .unwrap();
    }
    let (places, problems) = home.load().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(places[0].decision, Some(decision(1)));
    let file = home
        .root()
        .join("decisions")
        .join(ego.to_string())
        .join(place.to_string());
    assert_eq!(std::fs::read(&file).unwrap(), decision(1).to_message());
    assert_eq!(mode(&file), 0o600);
}

#[test]
fn forgetting_a_place_removes_everything_but_its_saved_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut home = open(&dir);
    let host = host_enter(1, 7, b"cli");
    let (ego, place) = (host.ego_pub_key, host.place_pub_key);
    let other = guest_enter(1, 9, b"cli");
    home.apply(&save(SavedEnter::Host(host), "cli")).unwrap();
    home.apply(&save(SavedEnter::Guest(other.clone()), "cli"))
        .unwrap();
    home.apply(&StoreOp::AttachApp {
        app: "second".into(),
        ego,
        place,
    })
    .unwrap();
    home.apply(&StoreOp::SaveDecision {
        ego,
        place,
        decision: decision(1),
    })
    .unwrap();
    save_message(&mut home, &place, 5, &[b"kept"], false);

    home.apply(&StoreOp::ForgetPlace { ego, place }).unwrap();
    let root = home.root();
    assert!(!places_file(root, &ego, &place).exists());
    assert!(!marker(root, "cli", &ego, &place).exists());
    assert!(!marker(root, "second", &ego, &place).exists());
    assert!(!root
        .join("decisions")
        .join(ego.to_string())
        .join(place.to_string())
        .exists());
    assert_eq!(std::fs::read(message(root, &place, "5")).unwrap(), b"kept");
    let (places, problems) = home.load().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(places.len(), 1, "the other place stays");
    assert_eq!(places[0].enter, SavedEnter::Guest(other));
    // Forgetting what is not there is no error.
    home.apply(&StoreOp::ForgetPlace { ego, place }).unwrap();
}

fn message(root: &Path, place: &eddsa::PublicKey, name: &str) -> std::path::PathBuf {
    root.join("files").join(place.to_string()).join(name)
}

/// Start, the data parts, end (or cancel) of one saved message.
fn save_message(
    home: &mut DataHome,
    place: &eddsa::PublicKey,
    message_id: u64,
    parts: &[&[u8]],
    cancelled: bool,
) {
    let place = *place;
    home.apply(&StoreOp::SaveMessageStart { place, message_id })
        .unwrap();
    for part in parts {
        home.apply(&StoreOp::SaveMessageData {
            place,
            message_id,
            data: part.to_vec(),
        })
        .unwrap();
    }
    home.apply(&StoreOp::SaveMessageEnd {
        place,
        message_id,
        cancelled,
    })
    .unwrap();
}

#[test]
fn saved_messages_follow_the_c_part_file_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut home = open(&dir);
    let place = eddsa::PublicKey([4; 32]);
    let root = home.root().to_owned();

    save_message(&mut home, &place, 1, &[b"hello ", b"world"], false);
    let done = message(&root, &place, "1");
    assert_eq!(std::fs::read(&done).unwrap(), b"hello world");
    assert_eq!(mode(&done), 0o600);
    assert!(!message(&root, &place, "1.part").exists());

    // The same message again: its file exists, nothing is written over it.
    save_message(&mut home, &place, 1, &[b"again"], false);
    assert_eq!(std::fs::read(&done).unwrap(), b"hello world");

    // A `.part` left over (another save, a crash): nothing is kept for that message.
    std::fs::write(message(&root, &place, "2.part"), b"old").unwrap();
    save_message(&mut home, &place, 2, &[b"new"], false);
    assert_eq!(
        std::fs::read(message(&root, &place, "2.part")).unwrap(),
        b"old"
    );
    assert!(!message(&root, &place, "2").exists());

    // Cancelled: the partial data goes away (C kept it as if complete).
    save_message(&mut home, &place, 3, &[b"half"], true);
    assert!(!message(&root, &place, "3").exists());
    assert!(!message(&root, &place, "3.part").exists());

    // Parts of a message not being saved, or of another place, are ignored; a new METHOD
    // abandons the message before it.
    home.apply(&StoreOp::SaveMessageStart {
        place,
        message_id: 4,
    })
    .unwrap();
    home.apply(&StoreOp::SaveMessageData {
        place,
        message_id: 99,
        data: b"stray".to_vec(),
    })
    .unwrap();
    home.apply(&StoreOp::SaveMessageData {
        place: eddsa::PublicKey([5; 32]),
        message_id: 4,
        data: b"stray".to_vec(),
    })
    .unwrap();
    save_message(&mut home, &place, 6, &[b"six"], false);
    home.apply(&StoreOp::SaveMessageEnd {
        place,
        message_id: 4,
        cancelled: false,
    })
    .unwrap();
    assert_eq!(
        std::fs::read(message(&root, &place, "4.part")).unwrap(),
        b""
    );
    assert!(!message(&root, &place, "4").exists());
    assert_eq!(std::fs::read(message(&root, &place, "6")).unwrap(), b"six");
    // Saved messages are no places: loading does not look at them.
    let (places, problems) = home.load().unwrap();
    assert!(places.is_empty() && problems.is_empty(), "{problems:?}");
}
