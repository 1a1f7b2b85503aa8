//! `struct GNUNET_PeerIdentity`: who a peer is, how it is printed, and how a service learns its
//! own identity from the host key file.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::crypto::{base32, eddsa};
use crate::wire::{Codec, DecodeError, Reader};

/// A peer's identity: the 32-byte Ed25519 public key of its host key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PeerIdentity(pub [u8; 32]);

impl std::fmt::Debug for PeerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PeerIdentity(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl Codec for PeerIdentity {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.array("peer identity")?))
    }
    fn encoded_len(&self) -> usize {
        32
    }
}

impl PeerIdentity {
    /// The identity of the peer whose host key is `key`.
    pub fn from_private_key(key: &eddsa::PrivateKey) -> Self {
        Self::from(key.public_key())
    }

    /// Our own identity, derived from the host key file (`[PEER] PRIVATE_KEY`, by default
    /// `$GNUNET_DATA_HOME/private_key.ecc`). Does not create the file.
    pub fn from_private_key_file(path: &Path) -> Result<Self, HostKeyError> {
        read_host_key(path).map(|key| Self::from_private_key(&key))
    }

    /// The key that signatures of this peer verify against.
    pub fn public_key(&self) -> eddsa::PublicKey {
        eddsa::PublicKey(self.0)
    }
}

impl From<eddsa::PublicKey> for PeerIdentity {
    fn from(key: eddsa::PublicKey) -> Self {
        Self(key.0)
    }
}

/// Why the host key file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostKeyError {
    /// The file could not be opened or read.
    #[error("cannot read host key {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not hold exactly 32 bytes.
    #[error("host key {path} is not 32 bytes (read {len})")]
    WrongSize {
        /// The key file.
        path: PathBuf,
        /// Bytes found (at most 33 are read).
        len: usize,
    },
}

/// Reads the 32-byte Ed25519 seed GNUnet keeps as the peer's host key (mode 0400, no header).
pub fn read_host_key(path: &Path) -> Result<eddsa::PrivateKey, HostKeyError> {
    let io = |source| HostKeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // Read one byte more than a key so that a longer file is noticed without reading it whole.
    let mut bytes = Vec::with_capacity(33);
    file.take(33).read_to_end(&mut bytes).map_err(io)?;
    let seed: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| HostKeyError::WrongSize {
            path: path.to_path_buf(),
            len: bytes.len(),
        })?;
    Ok(eddsa::PrivateKey::from_bytes(seed))
}

impl std::fmt::Display for PeerIdentity {
    /// GNUnet base32, 52 characters, as `gnunet-peerinfo -s -q` prints it
    /// (`GNUNET_i2s_full`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&base32::encode(&self.0))
    }
}

impl std::str::FromStr for PeerIdentity {
    type Err = base32::Base32Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        base32::decode_array(s).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_c() {
        assert_eq!(std::mem::size_of::<gnunet_sys::GNUNET_PeerIdentity>(), 32);
        let id = PeerIdentity([7; 32]);
        assert_eq!(id.to_vec().len(), 32);
        assert_eq!(PeerIdentity::decode_exact(&id.to_vec()), Ok(id));
    }

    #[test]
    fn printed_form_round_trips() {
        let text = "8X2BJQKRQ95CK0BA6KA85W6FNPWXCSFEQH7QP6Q455A353ETY9WG";
        let id: PeerIdentity = text.parse().unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(text.to_lowercase().parse::<PeerIdentity>(), Ok(id));
        assert!("8X2B".parse::<PeerIdentity>().is_err());
    }

    #[test]
    fn host_key_file_must_be_32_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private_key.ecc");
        std::fs::write(&path, [1u8; 32]).unwrap();
        let id = PeerIdentity::from_private_key_file(&path).unwrap();
        assert_eq!(
            id,
            PeerIdentity::from(eddsa::PrivateKey([1; 32]).public_key())
        );
        std::fs::write(&path, [1u8; 40]).unwrap();
        assert!(matches!(
            read_host_key(&path),
            Err(HostKeyError::WrongSize { len: 33, .. })
        ));
        std::fs::write(&path, [1u8; 31]).unwrap();
        assert!(matches!(
            read_host_key(&path),
            Err(HostKeyError::WrongSize { len: 31, .. })
        ));
        assert!(matches!(
            read_host_key(&dir.path().join("missing")),
            Err(HostKeyError::Io { .. })
        ));
    }
}
