//! Every psyc client↔service decoder (types 680–705, both directions) on arbitrary bytes:
//! never panics, and whatever decodes re-encodes to exactly the input, except the reserved
//! word at offset 4 of the types that have one, which is written as zero.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psyc::msg::{Reply, Request};

/// Types whose bytes 4..8 are a reserved word the decoder ignores.
const WITH_RESERVED: [u16; 6] = [680, 689, 702, 703, 704, 705];

/// Decodes `m` both ways and checks the re-encoding of whatever decodes.
fn check(m: &[u8]) {
    let mut expected = m.to_vec();
    if m.len() >= 8 && WITH_RESERVED.contains(&u16::from_be_bytes([m[2], m[3]])) {
        expected[4..8].fill(0);
    }
    if let Ok(req) = Request::decode(m) {
        assert_eq!(req.to_message(), expected);
    }
    if let Ok(reply) = Reply::decode(m) {
        assert_eq!(reply.to_message(), expected);
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() > 65535 {
        return;
    }
    // Give the fuzzer every psyc type by forcing the header to it and to the true size.
    let mut m = data.to_vec();
    if m.len() < 4 {
        m.resize(4, 0);
    }
    let len = m.len() as u16;
    m[0..2].copy_from_slice(&len.to_be_bytes());
    for ty in 680u16..=705 {
        m[2..4].copy_from_slice(&ty.to_be_bytes());
        check(&m);
    }
});
