//! Deniable places on real peers (issue 13, point 6): a place hosted while `[secushare]
//! DENIABLE` is on keeps no proof of authorship. The host announces; once an epoch closed (the
//! next epoch's certificate published its key), a fragment of it forged from the published
//! key passes the very check members make of the real ones, and neither the host's nor the
//! guest's psycstore, `DATA_HOME` or any other file of their peers holds a signature over
//! content. The same conversation in a place hosted before the switch (convenient: signed
//! content, signatures kept) shows the opposite: its stores hold the origin's signatures.
//! The switch is made by editing the running peers' configuration, so it also shows that a
//! new level takes effect without a restart.

mod cli_common;
mod common;

use std::io::Write;
use std::path::Path;

use cli_common::*;
use common::*;
use gnunet_service::crypto::{base32, eddsa};
use multicast::crypto::{GnunetCrypto, GroupCrypto};
use multicast::epoch::{self, EpochCert};
use multicast::msg::Fragment;
use psycstore::keys::ChannelKey;
use social::store::{DataHome, SavedEnter};
use testnet::{Peer, Topology};

/// Fragment ids per epoch in this test: epochs close quickly.
const EPOCH_FRAGMENTS: u64 = 2;

fn place_key(text: &str) -> eddsa::PublicKey {
    eddsa::PublicKey(base32::decode_array::<32, _>(text).expect("place key"))
}

/// Every fragment `peer`'s psycstore holds for `place`.
fn stored(peer: &Peer, place: &eddsa::PublicKey) -> Vec<Fragment> {
    let mut store = psycstore::Client::connect(&config(peer), T).expect("psycstore");
    let fetched = store
        .fragment_get(&ChannelKey(place.0), None, 1, u64::MAX >> 1)
        .expect("fragments");
    fetched.items.into_iter().map(|s| s.fragment).collect()
}

/// The private key of the place `place` hosted on `peer`, from its `DATA_HOME`.
fn hosted_key(peer: &Peer, place: &eddsa::PublicKey) -> eddsa::PrivateKey {
    let dir = config(peer)
        .get_filename("social", "DATA_HOME")
        .expect("DATA_HOME");
    let (places, _) = DataHome::open(dir).unwrap().load().unwrap();
    places
        .into_iter()
        .find_map(|p| match p.enter {
            SavedEnter::Host(h) if h.place_pub_key == *place => Some(h.place_key),
            _ => None,
        })
        .expect("the hosted place is saved")
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
}

/// The files of `peers` that hold any of `signatures`.
fn holding(peers: &[&Peer], signatures: &[eddsa::Signature]) -> Vec<String> {
    let mut all = Vec::new();
    for p in peers {
        files(p.dir(), &mut all);
    }
    all.into_iter()
        .filter(|(_, bytes)| {
            signatures
                .iter()
                .any(|s| bytes.windows(64).any(|w| w == s.0))
        })
        .map(|(path, _)| path)
        .collect()
}

/// A conversation in a new place of `host`'s ego `ego` with `guest`'s ego `gego`: `n`
/// announcements, all received. Returns the place.
fn conversation(p1: &Peer, p2: &Peer, ego: &str, gego: &str, n: usize) -> eddsa::PublicKey {
    create_ego(p1, ego);
    create_ego(p2, gego);
    let place = host_enter(p1, ego);
    let host = follow_host(p1, &place, "--welcome");
    let r = enter_by_key(p2, &place, p1, gego);
    assert!(r.status.success(), "{:?} {}", r.events, r.stderr);
    let guest = follow_guest(p2, &place, &["--ego", gego]);
    for i in 0..n {
        let text = format!("{ego} says {i}");
        announce(p1, &place, &text);
        guest.wait_message(&text);
    }
    drop(guest.stop());
    drop(host.stop());
    place_key(&place)
}

/// Appends `text` to `peer`'s configuration file, as a user editing it would.
fn append_config(peer: &Peer, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(peer.config_path())
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn a_deniable_place_keeps_no_proof_and_its_closed_epochs_can_be_forged() {
    let epochs = format!("[multicast]\nEPOCH_FRAGMENTS = {EPOCH_FRAGMENTS}\n");
    let net = net_builder(2, Topology::Line, &[])
        .extra_config(epochs)
        .start()
        .expect("peers up");
    let (p1, p2) = (net.peer(0), net.peer(1));
    let c = GnunetCrypto;

    // Before the switch (the test network's level, convenient): signed, signatures kept.
    let signed = conversation(p1, p2, "before", "gbefore", 3);
    let group_verifier = c.group_verifier(&signed);
    let kept: Vec<eddsa::Signature> = stored(p2, &signed)
        .into_iter()
        .filter(|f| c.verify_fragment(&group_verifier, f))
        .map(|f| f.signature)
        .collect();
    assert!(
        kept.len() >= 3,
        "the guest's store keeps the origin's signatures"
    );
    let proof = holding(&[p1, p2], &kept);
    assert!(
        proof.iter().any(|p| p.contains("psycstore")),
        "with the mechanism off the store is proof: {proof:?}"
    );

    // Strict from now on, without a restart (no delays: they are tested elsewhere).
    for p in [p1, p2] {
        append_config(
            p,
            "\n[secushare]\nPRIVACY = strict\nRESPONSE_DELAY = 0 ms\nHOP_DELAY = 0 ms\n",
        );
    }
    let place = conversation(p1, p2, "after", "gafter", 5);
    let secret = hosted_key(p1, &place);
    let group_signer = c.group_signer(&secret);
    let gv = c.group_verifier(&place);

    // What each store holds: deniable fragments, no signature.
    let mut true_signatures = Vec::new();
    let mut count = 0;
    for peer in [p1, p2] {
        for f in stored(peer, &place) {
            count += 1;
            assert!(epoch::is_deniable(&f), "{f:?}");
            assert_eq!(
                f.signature,
                eddsa::Signature([0; 64]),
                "stored without signature"
            );
            // The signatures that did travel (made again: EdDSA is deterministic), and a
            // group-key signature of the same content: none may be on disk.
            let e = epoch::epoch_of(f.fragment_id, EPOCH_FRAGMENTS);
            let cert = EpochCert::make(&c, &group_signer, &secret, e);
            let mut as_sent = f.clone();
            as_sent.hop_counter = 0;
            let epoch_signer = c.group_signer(&epoch::epoch_secret(&secret, e));
            epoch::sign_deniable(&c, &epoch_signer, &cert, &mut as_sent);
            true_signatures.push(as_sent.signature);
            let mut plain = f.clone();
            c.sign_fragment(&group_signer, &mut plain);
            true_signatures.push(plain.signature);
        }
    }
    assert!(
        count >= 10,
        "both stores hold the five announcements: {count}"
    );
    let found = holding(&[p1, p2], &true_signatures);
    assert!(
        found.is_empty(),
        "signatures over content on disk: {found:?}"
    );

    // Epoch 0 closed when epoch 1 began: its certificate carries epoch 0's key. A third
    // party forges a fragment of epoch 0 that passes the members' check as the real one does.
    let cert0 = EpochCert::make(&c, &group_signer, &secret, 0);
    let cert1 = EpochCert::make(&c, &group_signer, &secret, 1);
    let published = cert1.previous_secret.clone();
    assert_eq!(published.public_key(), cert0.epoch_key);
    let real = stored(p2, &place)
        .into_iter()
        .find(|f| epoch::epoch_of(f.fragment_id, EPOCH_FRAGMENTS) == 0)
        .expect("a fragment of epoch 0");
    let mut forged = real.clone();
    forged.payload = b"words never said".to_vec();
    let forged_bytes = epoch::sign_deniable(&c, &c.group_signer(&published), &cert0, &mut forged);
    let mut genuine = real.clone();
    let genuine_bytes = epoch::sign_deniable(
        &c,
        &c.group_signer(&epoch::epoch_secret(&secret, 0)),
        &cert0,
        &mut genuine,
    );
    for (f, bytes) in [(&forged, &forged_bytes), (&genuine, &genuine_bytes)] {
        let (_, cert) = EpochCert::split(&f.payload).expect("trailer");
        assert!(cert.verify(&c, &gv, &place), "certified by the place key");
        assert!(c.verify_fragment_message(&c.group_verifier(&cert.epoch_key), f, bytes));
    }
}
