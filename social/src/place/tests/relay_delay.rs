//! MSG_PROC relays wait for the privacy response delay the driver draws (issue 13, point 4),
//! each guest's relays in order.

use std::time::Duration;

use super::host::{relay_rule, HOST};
use super::*;
use psyc::format::container::DELIVERY_REQUEST;

/// The times of the logic's timers in `actions`.
fn timers(actions: &[Action]) -> Vec<Instant> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SetTimer { at } => Some(*at),
            _ => None,
        })
        .collect()
}

/// A complete `_converse` request of `guest`, message id `id`, with `text` as data.
fn request(id: u64, guest: [u8; 32], text: &[u8]) -> psyc::msg::Reply {
    let parts = [method(0, "_converse"), data(text), end()].concat();
    psyc::msg::Reply::Message(delivery(DELIVERY_REQUEST, id, guest, parts))
}

/// The DATA of each relayed message in `sent` containers (the last container of each).
fn relayed_data(sent: &[Vec<u8>]) -> Vec<Vec<u8>> {
    sent.iter()
        .filter(|c| c.windows(3).any(|w| w.starts_with(b"msg")))
        .cloned()
        .collect()
}

/// A hosted place whose host client relays `_converse` requests.
fn relaying_host() -> (T, PlaceId) {
    let mut t = T::with(LogicConfig::new(PEER));
    t.s.handle_egos_listed(t.now);
    let id = t.hosted(HOST, 0);
    relay_rule(&mut t, HOST);
    (t, id)
}

#[test]
fn a_relay_waits_for_the_response_delay_and_a_guests_relays_keep_their_order() {
    let (mut t, id) = relaying_host();
    let (g1, g2) = (ego(2).0, ego(3).0);
    let long = Duration::from_millis(500);
    t.s.set_response_delay(long);
    let a = t.psyc(id, request(1, g1, b"msg one"));
    assert!(containers(&a, id).is_empty(), "not at once");
    assert_eq!(timers(&a), vec![t.now + long]);
    // A shorter draw for the same guest still waits behind its first request; another
    // guest's does not.
    t.s.set_response_delay(Duration::from_millis(10));
    let a = t.psyc(id, request(2, g1, b"msg two"));
    assert_eq!(timers(&a), vec![t.now + long]);
    let a = t.psyc(id, request(3, g2, b"msg three"));
    assert_eq!(timers(&a), vec![t.now + Duration::from_millis(10)]);

    t.s.handle_timeout(t.now + Duration::from_millis(10));
    let sent = containers(&t.drain(), id);
    assert_eq!(
        relayed_data(&sent),
        vec![[data(b"msg three"), end()].concat()]
    );
    t.s.handle_timeout(t.now + long - Duration::from_millis(1));
    assert!(
        containers(&t.drain(), id).is_empty(),
        "not before the delay"
    );
    t.s.handle_timeout(t.now + long);
    let sent = containers(&t.drain(), id);
    assert_eq!(
        relayed_data(&sent),
        vec![
            [data(b"msg one"), end()].concat(),
            [data(b"msg two"), end()].concat()
        ]
    );
}

#[test]
fn without_a_delay_a_relay_is_queued_at_once() {
    let (mut t, id) = relaying_host();
    let a = t.psyc(id, request(1, ego(2).0, b"msg now"));
    assert!(timers(&a).is_empty());
    assert_eq!(
        relayed_data(&containers(&a, id)),
        vec![[data(b"msg now"), end()].concat()]
    );
}
