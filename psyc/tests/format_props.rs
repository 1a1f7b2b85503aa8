//! Property tests of the PSYC message format: transmit → receive is lossless, the receiver
//! never panics, and every container stays within the size limit.

use proptest::prelude::*;

use psyc::format::container::{check_parts, DELIVERY_HEADER_SIZE};
use psyc::format::env::{Environment, Modifier, Operator};
use psyc::format::message::PsycMessage;
use psyc::format::parts::{Part, Parts, FRAGMENT_MAX_PAYLOAD, METHOD_STATE_MODIFY};
use psyc::format::receive::{Assembler, Completed, MessageMeta, Receiver};
use psyc::format::transmit::{EnvSource, Transmitter};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "_[a-z]{1,8}(_[a-z0-9]{1,6}){0,3}",
        "[a-zA-Z][a-zA-Z0-9_]{0,10}",
    ]
}

fn operator() -> impl Strategy<Value = Operator> {
    prop::sample::select(Operator::ALL.to_vec())
}

/// Values mostly small, sometimes big enough to need MOD_CONT parts.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(any::<u8>(), 0..64),
        1 => (60_000usize..200_000).prop_map(|n| (0..n).map(|i| (i % 251) as u8).collect()),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..200),
        1 => (60_000usize..150_000).prop_map(|n| (0..n).map(|i| (i % 253) as u8).collect()),
    ]
}

prop_compose! {
    fn message()(
        method in name(),
        flags in 0u32..16,
        mods in prop::collection::vec((operator(), name(), value()), 0..6),
        data in body(),
        chunk in 1usize..=psyc::format::parts::DATA_MAX_PAYLOAD,
    ) -> (PsycMessage, usize) {
        let env: Environment = mods
            .into_iter()
            .map(|(o, n, v)| Modifier::new(o, &n, v).unwrap())
            .collect();
        (PsycMessage { method, flags, state_delta: 0, env, data }, chunk)
    }
}

/// Transmits `msg`, checking every container, and feeds the parts to an assembler the way the
/// service delivers them (one client container = one fragment payload).
fn transmit_then_receive(msg: &PsycMessage, chunk: usize) -> (Vec<usize>, Option<Completed>) {
    let mut t = Transmitter::new();
    let mut src = EnvSource::new(&msg.env, &msg.data).with_data_chunk(chunk);
    let src = &mut src;
    let flags = if msg.env.is_stateful() {
        msg.flags | METHOD_STATE_MODIFY
    } else {
        msg.flags
    };
    t.start(&msg.method, flags, src).unwrap();
    let mut a = Assembler::default();
    let meta = MessageMeta {
        message_id: 42,
        ..MessageMeta::default()
    };
    let mut sizes = Vec::new();
    let mut done = None;
    while let Some(c) = t.poll_transmit() {
        sizes.push(c.len());
        let size = u16::from_be_bytes([c[0], c[1]]) as usize;
        assert_eq!(size, c.len());
        assert_eq!(u16::from_be_bytes([c[2], c[3]]), 691);
        check_parts(&c[4..]).unwrap();
        if let Some(m) = a.push_parts(meta, &c[4..]).unwrap() {
            assert!(done.is_none(), "two messages out of one");
            done = Some(m);
        }
        t.handle_ack(src);
    }
    (sizes, done)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_valid_message_survives_transmit_and_receive((msg, chunk) in message()) {
        let (sizes, done) = transmit_then_receive(&msg, chunk);
        prop_assert!(!sizes.is_empty());
        let Some(Completed::Message { meta, message }) = done else {
            return Err(TestCaseError::fail(format!("no message: {done:?}")));
        };
        prop_assert_eq!(meta.message_id, 42);
        let mut expect = msg.clone();
        if msg.env.is_stateful() {
            expect.flags |= METHOD_STATE_MODIFY;
        }
        prop_assert_eq!(message, expect);
    }

    #[test]
    fn containers_stay_within_the_size_limit((msg, chunk) in message()) {
        let (sizes, _) = transmit_then_receive(&msg, chunk);
        for s in sizes {
            prop_assert!(s <= FRAGMENT_MAX_PAYLOAD + 4, "container of {} bytes", s);
        }
    }

    #[test]
    fn small_messages_render_and_parse_in_one_container((msg, _) in message()) {
        prop_assume!(msg.parts_len() <= FRAGMENT_MAX_PAYLOAD);
        let delivery = msg.to_delivery(Default::default()).unwrap();
        let mut a = Assembler::default();
        let bytes = gnunet_service::wire::Message::to_message(&delivery);
        let done = a.push(&bytes).unwrap();
        let Some(Completed::Message { message, .. }) = done else {
            return Err(TestCaseError::fail("no message"));
        };
        prop_assert_eq!(message, msg);
    }

    #[test]
    fn receiver_never_panics_on_arbitrary_bytes(
        containers in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..6)
    ) {
        let mut r = Receiver::new();
        let mut a = Assembler::default();
        for c in &containers {
            let _ = r.receive(c);
            let _ = a.push(c);
            let _ = a.push_parts(MessageMeta::default(), c);
            let _ = check_parts(c);
            for p in Parts::new(c) {
                let _ = p;
            }
        }
    }

    /// Mutating one byte of a valid container yields an error or a message, never a panic,
    /// and never a message the grammar forbids.
    #[test]
    fn receiver_survives_mutations((msg, _) in message(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        prop_assume!(msg.parts_len() <= 4000);
        let delivery = msg.to_delivery(Default::default()).unwrap();
        let mut bytes = gnunet_service::wire::Message::to_message(&delivery);
        let i = DELIVERY_HEADER_SIZE + pos.index(bytes.len() - DELIVERY_HEADER_SIZE);
        bytes[i] = byte;
        let mut a = Assembler::default();
        if let Ok(Some(Completed::Message { message, .. })) = a.push(&bytes) {
            // Whatever came out must render back to the same parts.
            let mut again = Vec::new();
            message.render_parts(&mut again).unwrap();
            prop_assert_eq!(&again[..], &bytes[DELIVERY_HEADER_SIZE..]);
        }
    }
}

#[test]
fn every_part_survives_owned_decoding() {
    use gnunet_service::wire::Codec;
    let mut msg = PsycMessage::new("_notice_place_file");
    msg.env.add(Operator::Assign, "_size_file", "12").unwrap();
    msg.data = b"file".to_vec();
    let c = msg.to_client_message().unwrap();
    for p in Parts::new(&c.parts) {
        let p = p.unwrap();
        let owned = Part::decode_exact(&p.clone().into_owned().to_vec()).unwrap();
        assert_eq!(owned, p);
    }
}
