//! Any bytes through the part decoder: parse, structural check, and re-encode what parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psyc::format::container::check_parts;
use psyc::format::parts::{Part, Parts};

fuzz_target!(|data: &[u8]| {
    let _ = check_parts(data);
    let mut offset = 0;
    for part in Parts::new(data) {
        let Ok(part) = part else { break };
        // What parses re-encodes to exactly the bytes it came from.
        let mut out = Vec::new();
        part.emit(&mut out);
        assert_eq!(&data[offset..offset + out.len()], &out[..]);
        offset += out.len();
        assert_eq!(Part::parse(&out).map(|(p, _)| p), Ok(part));
    }
});
