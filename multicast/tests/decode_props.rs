//! Decoders never panic, and what decodes re-encodes to the same bytes.

use multicast::msg::Any;
use proptest::prelude::*;

proptest! {
    #[test]
    fn decode_never_panics(ty in 745u16..767, body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut m = vec![0u8; 4];
        m.extend_from_slice(&body);
        let len = m.len() as u16;
        m[0..2].copy_from_slice(&len.to_be_bytes());
        m[2..4].copy_from_slice(&ty.to_be_bytes());
        if let Ok(decoded) = Any::decode(&m) {
            let again = decoded.to_message();
            prop_assert_eq!(again.len(), m.len());
            prop_assert_eq!(Any::decode(&again), Ok(decoded));
        }
    }

    #[test]
    fn raw_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Any::decode(&bytes);
    }
}
