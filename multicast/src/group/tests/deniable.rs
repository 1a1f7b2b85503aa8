//! Deniable groups: epoch-key signatures checked at every hop, no trailer or signature for
//! clients, epoch keys published by the next epoch, replays signed again by the origin.

use super::replays::{answer_replay, asked_origin, replay_of};
use super::*;
use crate::epoch::{self, EpochCert, FLAG_DENIABLE};

fn deniable(epoch_fragments: u64) -> Config {
    Config {
        max_children: 1,
        replay_cache_bytes: 0,
        epoch_fragments,
        ..Config::default()
    }
}

/// Every node of `net` runs deniable groups, signatures not kept for clients.
fn deniable_everywhere(net: &mut Net) {
    for node in &mut net.nodes {
        node.set_privacy(Privacy {
            deniable: true,
            keep_signatures: false,
            ..Privacy::default()
        });
    }
}

/// Origin on 0, member 1 on peer 1, member 2 on peer 2 below it (peer 1 relays).
fn line_of_three(cfg: Config) -> Net {
    let mut net = Net::new(3, cfg);
    deniable_everywhere(&mut net);
    start_origin(&mut net, 0, 1);
    join(&mut net, 1, 1, 1, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    join(&mut net, 2, 1, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    net.take(2, 1);
    net
}

/// What peer 1 sent its child (peer 2) on the wire: the fragments with their trailer.
fn on_the_wire(net: &Net) -> Vec<(Fragment, Vec<u8>)> {
    net.wire
        .iter()
        .filter(|(from, _)| *from == 1)
        .filter_map(|(_, bytes)| {
            Fragment::from_message(bytes)
                .ok()
                .map(|f| (f, bytes.clone()))
        })
        .collect()
}

#[test]
fn members_check_epoch_keys_at_every_hop_and_clients_get_no_signature() {
    let mut net = line_of_three(deniable(2));
    for body in [b"one", b"two", b"thr"] {
        send_fragment(&mut net, body);
    }
    let got = fragments(&net.take(2, 1));
    assert_eq!(got.len(), 3, "the relay checked and passed them on");
    for (f, body) in got.iter().zip([b"one", b"two", b"thr"]) {
        assert_eq!(f.payload, body, "no trailer for clients");
        assert_eq!(
            f.signature,
            eddsa::Signature([0; 64]),
            "no signature for clients"
        );
        assert_ne!(f.flags & FLAG_DENIABLE, 0);
        assert!(f.purpose_ok());
    }
    assert_eq!(net.stat(stat::INVALID_SIGNATURES), 0);

    // On the wire: epoch 0 (ids 1, 2) and epoch 1 (id 3), whose certificate publishes the
    // key of epoch 0; with it anyone makes a fragment of epoch 0 that checks out.
    let wire = on_the_wire(&net);
    let certs: Vec<EpochCert> = wire
        .iter()
        .map(|(f, _)| EpochCert::split(&f.payload).unwrap().1)
        .collect();
    assert_eq!(
        certs.iter().map(|c| c.epoch).collect::<Vec<_>>(),
        vec![0, 0, 1]
    );
    let published = certs[2].previous_secret.clone();
    assert_eq!(published.public_key(), certs[0].epoch_key);
    let c = GnunetCrypto;
    let mut forged = Fragment::unsigned(1, 0, 1, 0, b"forged".to_vec());
    forged.fragment_id = 2;
    let bytes = epoch::sign_deniable(&c, &c.group_signer(&published), &certs[0], &mut forged);
    let gv = c.group_verifier(&group_pub());
    let (_, cert) = EpochCert::split(&forged.payload).unwrap();
    assert!(cert.verify(&c, &gv, &group_pub()));
    assert!(c.verify_fragment_message(&c.group_verifier(&cert.epoch_key), &forged, &bytes));
}

#[test]
fn a_forged_epoch_certificate_is_dropped_at_the_first_hop() {
    let mut net = line_of_three(deniable(16));
    let up = net.peer_end.keys().find(|k| k.0 == 0).copied().unwrap();
    // An epoch key certified by another key than the group's.
    let c = GnunetCrypto;
    let stranger = eddsa::PrivateKey([9; 32]);
    let cert = EpochCert::make(&c, &c.group_signer(&stranger), &stranger, 0);
    let mut f = Fragment::unsigned(1, 0, 1, 0, b"evil".to_vec());
    f.fragment_id = 1;
    let bytes = epoch::sign_deniable(
        &c,
        &c.group_signer(&epoch::epoch_secret(&stranger, 0)),
        &cert,
        &mut f,
    );
    net.act(
        0,
        Action::SendChannel {
            channel: up.1,
            msg: bytes,
        },
    );
    net.run();
    assert!(fragments(&net.take(1, 1)).is_empty());
    assert!(fragments(&net.take(2, 1)).is_empty());
    assert_eq!(net.stat(stat::INVALID_SIGNATURES), 1);
}

#[test]
fn the_origin_signs_a_stored_fragment_again_for_a_replay() {
    let mut net = line_of_three(deniable(16));
    send_fragment(&mut net, b"one");
    let stored = fragments(&net.take(0, 1));
    assert_eq!(stored.len(), 1, "the origin's client got it (to store)");
    assert_eq!(stored[0].signature, eddsa::Signature([0; 64]));
    net.take(2, 1);

    // Member 2 asks for fragment 1; no cache holds it, the origin's application answers with
    // what it stored (no signature, no trailer), and the origin signs it again.
    net.client(2, 1, replay_of(1));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    answer_replay(&mut net, asked[0].ids, Some(stored[0].to_message()));
    let got = fragments(&net.take(2, 1));
    assert_eq!(got.len(), 1, "the relay accepted the new signature");
    assert_eq!(got[0].payload, b"one");
    assert_eq!(net.stat(stat::INVALID_SIGNATURES), 0);
}

#[test]
fn switching_deniability_off_signs_the_next_fragment_with_the_group_key() {
    let mut net = line_of_three(deniable(16));
    send_fragment(&mut net, b"deniable");
    for node in &mut net.nodes {
        node.set_privacy(Privacy::default());
    }
    send_fragment(&mut net, b"signed");
    let got = fragments(&net.take(2, 1));
    assert_eq!(got.len(), 2);
    assert_ne!(got[0].flags & FLAG_DENIABLE, 0);
    assert_eq!(got[1].flags & FLAG_DENIABLE, 0);
    assert!(GnunetCrypto.verify_fragment(&group_pub().prepare().ok(), &got[1]));
    // And a client cannot set the flag itself.
    net.client(
        0,
        1,
        Fragment::unsigned(1, 0, 1, FLAG_DENIABLE, b"x".to_vec()).to_message(),
    );
    let got = fragments(&net.take(2, 1));
    assert_eq!(got[0].flags & FLAG_DENIABLE, 0);
}

#[test]
fn a_c_peer_asking_to_join_a_deniable_group_is_refused_with_the_reason() {
    let mut net = Net::new(3, deniable(16));
    deniable_everywhere(&mut net);
    start_origin(&mut net, 0, 1);
    join(&mut net, 1, 1, 1, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    net.wire.clear();
    join_as_c_peer(&mut net, 2, 3);
    assert_eq!(
        decide_all(&mut net, true),
        0,
        "the application is not asked"
    );
    assert_eq!(net.stat(stat::JOINS_REFUSED_DENIABLE), 1);
    let decisions: Vec<JoinDecision> = net
        .wire
        .iter()
        .filter(|(from, _)| *from == 0)
        .filter_map(|(_, m)| JoinDecision::from_message(m).ok())
        .collect();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].decision.is_admitted, REFUSED);
    let response = decisions[0].decision.response.clone().unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.contains("_notice_place_refused_deniable"), "{text}");
    assert!(text.contains("C peer cannot take part"), "{text}");
    // Our joiners are still admitted.
    join(&mut net, 2, 1, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
}
