//! The fragment both psycstore benches store.

use gnunet_service::crypto::eddsa::Signature;
use gnunet_service::crypto::purpose::SignaturePurpose;
use psycstore::fragment::{Fragment, FLAG_LAST_FRAGMENT};

/// Payload bytes of every stored fragment.
pub const PAYLOAD: usize = 100;

/// A complete one-fragment message with id `id`.
pub fn fragment(id: u64) -> Fragment {
    Fragment {
        hop_counter: 9,
        signature: Signature([id as u8; 64]),
        purpose: SignaturePurpose {
            size: 44,
            purpose: 234,
        },
        fragment_id: id,
        fragment_offset: 0,
        message_id: id,
        group_generation: 1,
        flags: FLAG_LAST_FRAGMENT,
        payload: vec![0x42; PAYLOAD],
    }
}
