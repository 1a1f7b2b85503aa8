//! The label rules GNUnet 0.19's NAMESTORE enforces when storing, checked before asking so a
//! caller can say precisely what is wrong instead of relaying an error code.
//!
//! 0.19 (`gnunet-service-namestore.c` `store_record_set`, `gnsrecord_misc.c`): the label is
//! NFC-normalized (lower-casing is not part of it) and then refused with
//! `GNUNET_EC_NAMESTORE_LABEL_INVALID` (5015) if it contains a `.`; the C client library
//! refuses labels of [`MAX_NAME_LEN`](super::msg::MAX_NAME_LEN) bytes or more before sending.
//! The apex `@` is a label like any other here (0.19 refuses zone delegations under it, with
//! 5008, which depends on the records, not the label). The empty label is refused here
//! although 0.19 stores records under it (answering success): no GNS name reaches it (an empty
//! name finds nothing; pinned by the `name_system` test), so such a store is a mistake.

use super::msg::MAX_NAME_LEN;

/// Why a label cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// The empty label: 0.19 NAMESTORE stores it, but GNS never resolves to it (the zone's own
    /// records live under `@`).
    #[error("empty label (the zone apex is \"@\")")]
    Empty,
    /// A `.` inside: GNS splits names at dots, so this would be several labels; NAMESTORE
    /// refuses it (error 5015, label invalid).
    #[error("label {0:?} contains '.', which separates labels of a name")]
    Dot(String),
    /// A NUL byte, which would end the label early in C.
    #[error("label contains a NUL byte")]
    Nul,
    /// Too long for NAMESTORE.
    #[error("label of {0} bytes is longer than the {max} NAMESTORE takes", max = MAX_NAME_LEN - 1)]
    TooLong(usize),
}

/// Checks `label` against the rules above.
pub fn check_label(label: &str) -> Result<(), LabelError> {
    if label.is_empty() {
        return Err(LabelError::Empty);
    }
    if label.contains('.') {
        return Err(LabelError::Dot(label.to_string()));
    }
    if label.contains('\0') {
        return Err(LabelError::Nul);
    }
    if label.len() >= MAX_NAME_LEN {
        return Err(LabelError::TooLong(label.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_0_19_refuses_are_refused() {
        for ok in ["home", "@", "Ünïcode", "a-b_c", &"x".repeat(255)] {
            assert_eq!(check_label(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_label(""), Err(LabelError::Empty));
        assert_eq!(
            check_label("home.host"),
            Err(LabelError::Dot("home.host".into()))
        );
        assert_eq!(check_label("."), Err(LabelError::Dot(".".into())));
        assert_eq!(check_label("a\0"), Err(LabelError::Nul));
        assert_eq!(check_label(&"x".repeat(256)), Err(LabelError::TooLong(256)));
        assert!(LabelError::Dot("a.b".into()).to_string().contains("'.'"));
    }
}
