//! Every multicast decoder (types 750–762) on arbitrary bytes: never panics, and whatever
//! decodes re-encodes to the same bytes (padding and reserved fields aside).
#![no_main]

use libfuzzer_sys::fuzz_target;
use multicast::msg::Any;

fuzz_target!(|data: &[u8]| {
    // Give the fuzzer every type by forcing the header to a multicast type and the true size.
    for ty in 750u16..=762 {
        if data.len() > 65535 {
            return;
        }
        let mut m = data.to_vec();
        if m.len() < 4 {
            m.resize(4, 0);
        }
        let len = m.len() as u16;
        m[0..2].copy_from_slice(&len.to_be_bytes());
        m[2..4].copy_from_slice(&ty.to_be_bytes());
        if let Ok(decoded) = Any::decode(&m) {
            let again = decoded.to_message();
            assert_eq!(again.len(), m.len());
            assert_eq!(Any::decode(&again).as_ref(), Ok(&decoded));
        }
    }
    let _ = Any::decode(data);
});
