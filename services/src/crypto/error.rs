//! Why a signature was not accepted.

use super::purpose::PurposeError;

/// Why [`eddsa`](super::eddsa), [`ecdsa`](super::ecdsa) or
/// [`identity_key`](super::identity_key) verification rejected a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signed block is malformed or signed for another purpose.
    #[error(transparent)]
    Purpose(#[from] PurposeError),
    /// The public key is not a point of the curve (or a weak one GNUnet rejects).
    #[error("invalid public key")]
    InvalidPublicKey,
    /// The signature does not match key and block.
    #[error("bad signature")]
    BadSignature,
    /// Key and signature are of different identity key types.
    #[error("key type {key} does not match signature type {signature}")]
    KeyTypeMismatch {
        /// Type of the public key.
        key: u32,
        /// Type of the signature.
        signature: u32,
    },
}
