//! PLACE record data (`social::record::PlaceData`) on arbitrary bytes: never panics, and
//! whatever decodes re-encodes to exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use social::record::PlaceData;

fuzz_target!(|data: &[u8]| {
    if let Ok(place) = PlaceData::decode(data) {
        assert_eq!(place.encode(), data);
    }
});
