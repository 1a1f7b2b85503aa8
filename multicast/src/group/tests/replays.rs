//! Replays: from caches or the origin's application, shared rounds, late answers, and who
//! may answer.

use super::*;

/// Replays in a chain origin ← relay ← member: with caches, the relay answers and the origin's
/// application never hears of it; with the caches off (`replay_cache_bytes = 0`, the strict
/// setting) every replay reaches the origin's application, which may check membership, as in
/// the C original.
#[test]
fn replays_come_from_caches_or_with_caches_off_from_the_origin_application() {
    let by_id = |id| ReplayRequest {
        member_pub_key: ecdsa::PublicKey([0; 32]),
        ids: ReplayIds {
            fragment_id: id,
            flags: 0,
            ..Default::default()
        },
        uid: 0,
    };
    for cache_bytes in [Config::default().replay_cache_bytes, 0] {
        let cfg = Config {
            max_children: 1,
            replay_cache_bytes: cache_bytes,
            ..Config::default()
        };
        let mut net = Net::new(3, cfg);
        start_origin(&mut net, 0, 1);
        join(&mut net, 1, 1, 1, 0);
        assert_eq!(decide_all(&mut net, true), 1);
        join(&mut net, 2, 1, 2, 0);
        assert_eq!(decide_all(&mut net, true), 1);
        assert_eq!(
            net.nodes[1].child_count(&group_pub()),
            1,
            "node 2 hangs under node 1"
        );
        send_fragment(&mut net, b"one");
        send_fragment(&mut net, b"two");
        assert_eq!(fragments(&net.take(2, 1)).len(), 2);
        net.take(0, 1);

        net.client(2, 1, by_id(1).to_message());
        let asked = of_type(&net.take(0, 1), msg::TYPE_REPLAY_REQUEST);
        if cache_bytes > 0 {
            assert!(asked.is_empty(), "a cache on the way answers");
            let got = fragments(&net.take(2, 1));
            assert_eq!((got.len(), got[0].payload.as_slice()), (1, &b"one"[..]));
            continue;
        }
        assert_eq!(asked.len(), 1, "the origin's application is asked");
        let asked = ReplayRequest::from_message(&asked[0]).unwrap();
        assert_eq!(asked.member_pub_key, member_key(2).public_key());
        assert!(fragments(&net.take(2, 1)).is_empty());
        // The application refuses (say, the member was not admitted back then).
        net.client(
            0,
            1,
            ReplayResponse {
                ids: asked.ids,
                error_code: msg::ReplayError::Other(-1),
                fragment: None,
            }
            .to_message(),
        );
        let answer = net.take(2, 1);
        assert!(fragments(&answer).is_empty());
        let refused = of_type(&answer, msg::TYPE_REPLAY_RESPONSE);
        assert_eq!(refused.len(), 1);
        assert_ne!(
            ReplayResponse::from_message(&refused[0])
                .unwrap()
                .error_code,
            msg::ReplayError::Ok
        );
    }
}

pub(super) fn replay_of(id: u64) -> Vec<u8> {
    ReplayRequest {
        member_pub_key: ecdsa::PublicKey([0; 32]),
        ids: ReplayIds {
            fragment_id: id,
            ..Default::default()
        },
        uid: 0,
    }
    .to_message()
}

/// Replay requests the origin's application (node 0, client 1) was asked, by member key.
pub(super) fn asked_origin(net: &mut Net) -> Vec<ReplayRequest> {
    of_type(&net.take(0, 1), msg::TYPE_REPLAY_REQUEST)
        .iter()
        .map(|m| ReplayRequest::from_message(m).unwrap())
        .collect()
}

fn answer_replay(net: &mut Net, ids: ReplayIds, fragment: Option<Vec<u8>>) {
    let ok = fragment.is_some();
    let error_code = match fragment {
        Some(_) => msg::ReplayError::Ok,
        None => msg::ReplayError::Other(-1),
    };
    net.client(
        0,
        1,
        ReplayResponse {
            ids,
            error_code,
            fragment,
        }
        .to_message(),
    );
    if ok {
        net.client(0, 1, ReplayResponseEnd { ids, error_code: 0 }.to_message());
    }
}

fn replay_errors(msgs: &[Vec<u8>]) -> usize {
    of_type(msgs, msg::TYPE_REPLAY_RESPONSE)
        .iter()
        .filter(|m| ReplayResponse::from_message(m).unwrap().error_code != msg::ReplayError::Ok)
        .count()
}

/// The origin's application was asked once, for member `key` of peer `node` (client 1), and
/// refuses: that client gets the error and no fragment.
fn origin_refuses(net: &mut Net, key: u8, node: usize) {
    let asked = asked_origin(net);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].member_pub_key, member_key(key).public_key());
    answer_replay(net, asked[0].ids, None);
    let answer = net.take(node, 1);
    assert!(fragments(&answer).is_empty());
    assert_eq!(replay_errors(&answer), 1);
}

#[test]
fn caches_serve_no_history_from_before_a_members_admission() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(3, cfg);
    send_fragment(&mut net, b"one");
    send_fragment(&mut net, b"two");
    let origin_copies = fragments(&net.take(0, 1));
    let one = origin_copies[0].to_message();

    // Peer 2 joins late, under peer 1 (which cached 1 and 2).
    join(&mut net, 2, 1, 2, 0);
    decide_all(&mut net, true);
    assert_eq!(net.nodes[1].child_count(&group_pub()), 1);
    let decisions = of_type(&net.take(2, 1), msg::TYPE_JOIN_DECISION);
    assert_eq!(decisions.len(), 1);
    assert_eq!(
        decisions[0].len(),
        68 + 12 + 5,
        "clients get the decision without the admission point"
    );
    send_fragment(&mut net, b"three");
    let live: Vec<u64> = fragments(&net.take(2, 1))
        .iter()
        .map(|f| f.fragment_id)
        .collect();
    assert_eq!(live, vec![3]);
    net.take(0, 1);
    assert_eq!(fragments(&net.take(1, 1)).len(), 3);

    // Fragment 3 came after the admission: the relay's cache answers.
    net.client(2, 1, replay_of(3));
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 1);
    assert!(asked_origin(&mut net).is_empty());

    // Fragment 1 came before: no cache answers it; the origin's application decides.
    net.client(2, 1, replay_of(1));
    assert!(fragments(&net.take(2, 1)).is_empty());
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 1);
    assert_eq!(
        net.stat(stat::REPLAYS_BEFORE_ADMISSION),
        2,
        "peer 1 and the origin"
    );
    origin_refuses(&mut net, 2, 2);

    // If the application lets it have the old fragment, it gets it.
    net.client(2, 1, replay_of(1));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    answer_replay(&mut net, asked[0].ids, Some(one));
    let got = fragments(&net.take(2, 1));
    assert_eq!((got.len(), got[0].payload.as_slice()), (1, &b"one"[..]));
    // Peer 1 had fragment 1 already: passing the answer on, it delivers nothing again.
    assert!(fragments(&net.take(1, 1)).is_empty());
}

/// Caches off (every replay climbs to the origin's application), one child each: member 1
/// on peer 1 admitted before fragment 1, member 2 on peer 2 (under peer 1) after it. Returns
/// the net and fragment 1 as the origin sent it.
fn early_and_late_member_without_caches() -> (Net, Vec<u8>) {
    let cfg = Config {
        max_children: 1,
        replay_cache_bytes: 0,
        ..Config::default()
    };
    let mut net = origin_and_first_member(3, cfg);
    send_fragment(&mut net, b"one");
    let one = fragments(&net.take(0, 1))[0].to_message();
    join(&mut net, 2, 1, 2, 0);
    decide_all(&mut net, true);
    net.take(1, 1);
    net.take(2, 1);
    (net, one)
}

#[test]
fn a_replay_answer_is_shared_only_by_members_admitted_before_it() {
    let (mut net, one) = early_and_late_member_without_caches();

    // Peer 1's member (admitted before 1) asks first; peer 2's (admitted after) asks too
    // while that round is open at peer 1. It must not ride on the answer.
    net.client(1, 1, replay_of(1));
    net.client(2, 1, replay_of(1));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1, "peer 2's request waits for its own round");
    assert_eq!(asked[0].member_pub_key, member_key(1).public_key());
    answer_replay(&mut net, asked[0].ids, Some(one));
    assert_eq!(fragments(&net.take(1, 1)).len(), 1);
    assert!(fragments(&net.take(2, 1)).is_empty());

    // Its own round starts when the first ends; the application refuses it.
    origin_refuses(&mut net, 2, 2);
    assert!(fragments(&net.take(1, 1)).is_empty());
}

#[test]
fn a_member_joining_again_keeps_its_first_admission_point_on_a_new_path() {
    let cfg = one_child_each();
    let mut net = origin_and_first_member(4, cfg);
    // Peer 2 joins (under peer 1), gets fragment 1, and leaves.
    join(&mut net, 2, 1, 2, 0);
    decide_all(&mut net, true);
    send_fragment(&mut net, b"one");
    assert_eq!(fragments(&net.take(2, 1)).len(), 1);
    net.client(2, 1, PartRequest.to_message());
    assert_eq!(net.nodes[1].child_count(&group_pub()), 0);
    // Peer 3 joins after fragment 1 and takes the free place under peer 1.
    join(&mut net, 3, 1, 3, 0);
    decide_all(&mut net, true);
    send_fragment(&mut net, b"two");
    // Peer 2's member comes back and lands under peer 3; the origin re-admits it with
    // its first admission point.
    join(&mut net, 2, 2, 2, 0);
    assert_eq!(decide_all(&mut net, true), 0);
    assert_eq!(net.stat(stat::JOINS_READMITTED), 1);
    assert_eq!(net.nodes[3].child_count(&group_pub()), 1);
    net.take(0, 1);
    net.take(3, 1);

    // Fragment 1 predates peer 3's member but not peer 2's: peer 1's cache serves it to
    // peer 2 through peer 3, and peer 3's own client does not get it.
    net.client(2, 2, replay_of(1));
    let got = fragments(&net.take(2, 2));
    assert_eq!((got.len(), got[0].payload.as_slice()), (1, &b"one"[..]));
    assert_eq!(net.stat(stat::REPLAYS_FROM_CACHE), 1);
    assert!(fragments(&net.take(3, 1)).is_empty());
    assert!(asked_origin(&mut net).is_empty());

    // Peer 3's member asks for it itself: only the origin's application may decide.
    net.client(3, 1, replay_of(1));
    assert!(fragments(&net.take(3, 1)).is_empty());
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].member_pub_key, member_key(3).public_key());
}

#[test]
fn a_late_answer_is_not_taken_for_the_next_round() {
    let timeout = Config::default().replay_timeout;
    let (mut net, one) = early_and_late_member_without_caches();

    net.client(1, 1, replay_of(1));
    net.client(2, 1, replay_of(1));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    // The application takes longer than the replay timeout to answer peer 1's member: both
    // requesters are told their replays failed.
    net.advance(timeout);
    assert_eq!(replay_errors(&net.take(1, 1)), 1);
    assert_eq!(replay_errors(&net.take(2, 1)), 1);
    assert!(
        asked_origin(&mut net).is_empty(),
        "peer 2's request waits at the origin while a late answer may come"
    );
    answer_replay(&mut net, asked[0].ids, Some(one));
    assert!(
        fragments(&net.take(1, 1)).is_empty(),
        "too late for its round"
    );
    assert!(
        fragments(&net.take(2, 1)).is_empty(),
        "and not for peer 2's"
    );
    // Only then does peer 2's member get a round of its own.
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].member_pub_key, member_key(2).public_key());
}

#[test]
fn an_unsigned_replay_answer_is_refused_to_peers() {
    let (mut net, _) = early_and_late_member_without_caches();
    // Peer 2's member asks for fragment 1 (from before its admission): the application
    // answers with a bare fragment, as C's test_multicast does.
    net.client(2, 1, replay_of(1));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    let mut bare = Fragment::unsigned(1, 0, 1, 0, b"one".to_vec());
    bare.fragment_id = 1;
    answer_replay(&mut net, asked[0].ids, Some(bare.to_message()));
    let answer = net.take(2, 1);
    assert!(
        fragments(&answer).is_empty(),
        "an unsigned fragment never crosses"
    );
    assert_eq!(replay_errors(&answer), 1);
    assert_eq!(net.stat(stat::INVALID_SIGNATURES), 1);
}

/// One peer: the origin (client 1), member 2 (client 2) admitted, member 3 (client 3) asked
/// for and left waiting; member 2 has asked the origin's application for fragment 1234.
/// Returns what the application was asked.
fn a_replay_pending_and_a_member_waiting() -> (Net, ReplayIds) {
    let mut net = Net::new(1, Config::default());
    start_origin(&mut net, 0, 1);
    join(&mut net, 0, 2, 2, 0);
    assert_eq!(decide_all(&mut net, true), 1);
    net.take(0, 2);
    join(&mut net, 0, 3, 3, 0);
    assert_eq!(of_type(&net.take(0, 1), msg::TYPE_JOIN_REQUEST).len(), 1);
    net.client(0, 2, replay_of(1234));
    let asked = asked_origin(&mut net);
    assert_eq!(asked.len(), 1);
    (net, asked[0].ids)
}

/// A REPLAY_RESPONSE for `ids` carrying `f`.
fn replay_answer(ids: ReplayIds, f: &Fragment) -> Vec<u8> {
    ReplayResponse {
        ids,
        error_code: msg::ReplayError::Ok,
        fragment: Some(f.to_message()),
    }
    .to_message()
}

fn fragment_1234(payload: &[u8]) -> Fragment {
    let mut f = Fragment::unsigned(1, 0, 1, 0, payload.to_vec());
    f.fragment_id = 1234;
    f
}

#[test]
fn a_member_never_admitted_cannot_answer_another_members_replay() {
    let (mut net, ids) = a_replay_pending_and_a_member_waiting();
    net.client(0, 3, replay_answer(ids, &fragment_1234(b"forged")));
    assert!(
        fragments(&net.take(0, 2)).is_empty(),
        "the requester gets nothing"
    );
    assert_eq!(net.dropped.len(), 1);
    assert!(net.dropped[0].2.contains("not admitted"));
    // Nor can such a member end the round: the origin's own answer still arrives (bare, as
    // C's test_multicast sends it).
    join(&mut net, 0, 4, 4, 0);
    net.take(0, 1);
    net.client(0, 4, ReplayResponseEnd { ids, error_code: 0 }.to_message());
    assert_eq!(net.dropped.len(), 2);
    net.client(0, 1, replay_answer(ids, &fragment_1234(b"real")));
    let got = fragments(&net.take(0, 2));
    assert_eq!((got.len(), got[0].payload.as_slice()), (1, &b"real"[..]));
}

#[test]
fn an_admitted_members_replay_answer_counts_only_with_the_group_signature() {
    let (mut net, ids) = a_replay_pending_and_a_member_waiting();
    assert_eq!(
        decide_all(&mut net, true),
        0,
        "member 3's request was taken"
    );
    // Admit member 3 after all (its request is still pending at the origin client).
    let d = JoinDecision {
        peer: pid(0),
        member_pub_key: member_key(3).public_key(),
        decision: Decision {
            is_admitted: ADMITTED,
            relays: vec![],
            response: None,
        },
        admitted_after: None,
    };
    net.client(0, 1, d.to_message());
    assert_eq!(of_type(&net.take(0, 3), msg::TYPE_JOIN_DECISION).len(), 1);

    // Unsigned: dropped, counted, the round stays open.
    net.client(0, 3, replay_answer(ids, &fragment_1234(b"bare")));
    assert!(fragments(&net.take(0, 2)).is_empty());
    assert_eq!(net.stat(stat::INVALID_SIGNATURES), 1);
    assert!(net.dropped.is_empty(), "an admitted member may answer");
    // Signed by the group key: the requester gets it.
    let mut signed = fragment_1234(b"signed");
    GnunetCrypto.sign_fragment(&eddsa::SigningKey::new(&GROUP), &mut signed);
    net.client(0, 3, replay_answer(ids, &signed));
    let got = fragments(&net.take(0, 2));
    assert_eq!((got.len(), got[0].payload.as_slice()), (1, &b"signed"[..]));
}

/// A replay that went up to a relay that then died is asked again of the new parent once the
/// member re-attached: it does not wait for the round to expire (PSYC's late-joiner state
/// catch-up and history fetches sat out that timeout when a relay stopped).
#[test]
fn a_replay_lost_with_the_parent_is_asked_again_after_the_reattach() {
    let cfg = Config {
        replay_cache_bytes: 0,
        ..one_child_each()
    };
    let mut net = origin_and_first_member(3, cfg.clone());
    join(&mut net, 2, 1, 2, 0);
    decide_all(&mut net, true);
    send_fragment(&mut net, b"one");
    let sent = fragments(&net.take(2, 1));
    assert_eq!(sent.len(), 1);
    net.take(0, 1);

    net.client(2, 1, replay_of(1));
    let first = asked_origin(&mut net);
    assert_eq!(first.len(), 1, "asked through the relay");
    // The relay goes as the origin's application answers: the answer has no way down.
    net.kill(1);
    answer_replay(&mut net, first[0].ids, Some(sent[0].to_message()));
    let meanwhile = net.take(2, 1);
    assert!(fragments(&meanwhile).is_empty());
    assert_eq!(replay_errors(&meanwhile), 0, "the member still waits");

    // After the jitter peer 2 is re-admitted by the origin from the stored decision (its
    // application is not asked) and asks for the fragment again on the new path.
    net.advance(cfg.reattach_jitter);
    assert_eq!(net.stat(stat::JOINS_READMITTED), 1);
    let asked = asked_origin(&mut net);
    assert!(!asked.is_empty(), "asked again on the new path");
    for r in asked {
        answer_replay(&mut net, r.ids, Some(sent[0].to_message()));
    }
    let got = fragments(&net.take(2, 1));
    assert!(
        got.iter().any(|f| f.fragment_id == 1),
        "the member gets its replay: {got:?}"
    );
}
