//! Every social client↔service decoder (types 841–859 and the PSYC types the social socket
//! reuses, both directions) on arbitrary bytes: never panics, and whatever decodes re-encodes
//! to exactly the input, except the word at offset 4 of the types that ignore it (reserved
//! words, ZONE_ADD_NYM's padding), which is written as zero.
#![no_main]

use libfuzzer_sys::fuzz_target;
use social::msg::{Reply, Request};

/// Types whose bytes 4..8 are a reserved word or padding the decoder ignores.
const WITH_RESERVED: [u16; 6] = [680, 702, 703, 704, 705, 851];

/// Every type the social socket carries, in either direction.
const TYPES: [u16; 30] = [
    680, 687, 688, 691, 699, 701, 702, 703, 704, 705, 841, 842, 843, 844, 845, 846, 847, 848,
    849, 850, 851, 852, 853, 854, 855, 856, 857, 858, 859, 840,
];

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
    // Give the fuzzer every social type by forcing the header to it and to the true size.
    let mut m = data.to_vec();
    if m.len() < 4 {
        m.resize(4, 0);
    }
    let len = m.len() as u16;
    m[0..2].copy_from_slice(&len.to_be_bytes());
    for ty in TYPES {
        m[2..4].copy_from_slice(&ty.to_be_bytes());
        check(&m);
    }
});
