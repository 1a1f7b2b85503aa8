//! `enum GNUNET_ErrorCode` of GNUnet 0.19 (`gnunet_error_codes.h`, GANA-generated): the u32 a
//! 0.19 service answers instead of the 2019 "int32 + error text" pair — IDENTITY's
//! RESULT_CODE and NAMESTORE's RECORD_STORE_RESPONSE among others.
//!
//! The wire carries only the number; [`ErrorCode`]'s `Display` gives the same text as
//! libgnunetutil's `GNUNET_ErrorCode_get_hint`, so that a client of ours (social's
//! RESULT_CODE, a tool) can tell its user why a service refused, and "error code N" for a
//! code this table does not know (C would print `<no hint found>`).

use crate::wire::{Codec, DecodeError, Reader};

/// A `GNUNET_ErrorCode` as it came over the wire; any u32 is kept, known or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// `GNUNET_EC_NONE`: success.
    pub const NONE: Self = Self(0);
    /// `GNUNET_EC_UNKNOWN`.
    pub const UNKNOWN: Self = Self(1);
    /// `GNUNET_EC_SERVICE_COMMUNICATION_FAILED`.
    pub const SERVICE_COMMUNICATION_FAILED: Self = Self(101);
    /// `GNUNET_EC_IDENTITY_NOT_FOUND`.
    pub const IDENTITY_NOT_FOUND: Self = Self(200);
    /// `GNUNET_EC_IDENTITY_NAME_CONFLICT`.
    pub const IDENTITY_NAME_CONFLICT: Self = Self(201);
    /// `GNUNET_EC_IDENTITY_INVALID`.
    pub const IDENTITY_INVALID: Self = Self(202);
    /// `GNUNET_EC_NAMESTORE_UNKNOWN` (also what the C client library reports for a store
    /// whose connection broke).
    pub const NAMESTORE_UNKNOWN: Self = Self(5000);
    /// `GNUNET_EC_NAMESTORE_ITERATION_FAILED`.
    pub const NAMESTORE_ITERATION_FAILED: Self = Self(5001);
    /// `GNUNET_EC_NAMESTORE_ZONE_NOT_FOUND`.
    pub const NAMESTORE_ZONE_NOT_FOUND: Self = Self(5002);
    /// `GNUNET_EC_NAMESTORE_RECORD_NOT_FOUND`: e.g. a store of zero records under a label
    /// that holds none.
    pub const NAMESTORE_RECORD_NOT_FOUND: Self = Self(5003);
    /// `GNUNET_EC_NAMESTORE_RECORD_DELETE_FAILED`.
    pub const NAMESTORE_RECORD_DELETE_FAILED: Self = Self(5004);
    /// `GNUNET_EC_NAMESTORE_ZONE_EMPTY`.
    pub const NAMESTORE_ZONE_EMPTY: Self = Self(5005);
    /// `GNUNET_EC_NAMESTORE_LOOKUP_ERROR`.
    pub const NAMESTORE_LOOKUP_ERROR: Self = Self(5006);
    /// `GNUNET_EC_NAMESTORE_NO_RECORDS_GIVEN`.
    pub const NAMESTORE_NO_RECORDS_GIVEN: Self = Self(5007);
    /// `GNUNET_EC_NAMESTORE_RECORD_DATA_INVALID`: records that do not deserialize, or a set
    /// 0.19 refuses (a PKEY/EDKEY delegation next to other records, a delegation at `@`).
    pub const NAMESTORE_RECORD_DATA_INVALID: Self = Self(5008);
    /// `GNUNET_EC_NAMESTORE_NO_LABEL_GIVEN`.
    pub const NAMESTORE_NO_LABEL_GIVEN: Self = Self(5009);
    /// `GNUNET_EC_NAMESTORE_NO_RESULTS`.
    pub const NAMESTORE_NO_RESULTS: Self = Self(5010);
    /// `GNUNET_EC_NAMESTORE_RECORD_EXISTS`.
    pub const NAMESTORE_RECORD_EXISTS: Self = Self(5011);
    /// `GNUNET_EC_NAMESTORE_RECORD_TOO_BIG`.
    pub const NAMESTORE_RECORD_TOO_BIG: Self = Self(5012);
    /// `GNUNET_EC_NAMESTORE_BACKEND_FAILED`.
    pub const NAMESTORE_BACKEND_FAILED: Self = Self(5013);
    /// `GNUNET_EC_NAMESTORE_STORE_FAILED`.
    pub const NAMESTORE_STORE_FAILED: Self = Self(5014);
    /// `GNUNET_EC_NAMESTORE_LABEL_INVALID`: a label with `.` (or one that does not
    /// normalize).
    pub const NAMESTORE_LABEL_INVALID: Self = Self(5015);

    /// Every code GNUnet 0.19.3 defines, with libgnunetutil's hint for it.
    pub const KNOWN: [(Self, &'static str); 22] = [
        (Self::NONE, "No error (success)."),
        (Self::UNKNOWN, "Unknown and unspecified error."),
        (
            Self::SERVICE_COMMUNICATION_FAILED,
            "Communication with service failed.",
        ),
        (Self::IDENTITY_NOT_FOUND, "Ego not found."),
        (
            Self::IDENTITY_NAME_CONFLICT,
            "Identifier already in use for another ego.",
        ),
        (
            Self::IDENTITY_INVALID,
            "The given ego is invalid or malformed.",
        ),
        (Self::NAMESTORE_UNKNOWN, "Unknown namestore error."),
        (Self::NAMESTORE_ITERATION_FAILED, "Zone iteration failed."),
        (Self::NAMESTORE_ZONE_NOT_FOUND, "Zone not found."),
        (Self::NAMESTORE_RECORD_NOT_FOUND, "Record not found."),
        // GANA gives the delete failure the iteration's text.
        (
            Self::NAMESTORE_RECORD_DELETE_FAILED,
            "Zone iteration failed.",
        ),
        (
            Self::NAMESTORE_ZONE_EMPTY,
            "Zone does not contain any records.",
        ),
        (Self::NAMESTORE_LOOKUP_ERROR, "Failed to lookup record."),
        (Self::NAMESTORE_NO_RECORDS_GIVEN, "No records given."),
        (Self::NAMESTORE_RECORD_DATA_INVALID, "Record data invalid."),
        (Self::NAMESTORE_NO_LABEL_GIVEN, "No label given."),
        (Self::NAMESTORE_NO_RESULTS, "No results given."),
        (Self::NAMESTORE_RECORD_EXISTS, "Record already exists."),
        (
            Self::NAMESTORE_RECORD_TOO_BIG,
            "Record size exceeds maximum limit.",
        ),
        (
            Self::NAMESTORE_BACKEND_FAILED,
            "There was an error in the database backend.",
        ),
        (
            Self::NAMESTORE_STORE_FAILED,
            "Failed to store the given records.",
        ),
        (Self::NAMESTORE_LABEL_INVALID, "Label invalid or malformed."),
    ];

    /// Whether this is `GNUNET_EC_NONE`.
    pub const fn is_success(self) -> bool {
        self.0 == 0
    }

    /// libgnunetutil's hint for a known code, `None` for others.
    pub fn hint(self) -> Option<&'static str> {
        Self::KNOWN
            .iter()
            .find(|(code, _)| *code == self)
            .map(|(_, hint)| *hint)
    }
}

impl std::fmt::Display for ErrorCode {
    /// The hint of a known code (as `GNUNET_ErrorCode_get_hint`), else `error code N`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.hint() {
            Some(hint) => f.write_str(hint),
            None => write!(f, "error code {}", self.0),
        }
    }
}

impl Codec for ErrorCode {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        u32::read(r).map(Self)
    }
    fn encoded_len(&self) -> usize {
        4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_the_c_hints_and_others_a_number() {
        for (code, hint) in ErrorCode::KNOWN {
            assert_eq!(
                gnunet_sys::gnsrecord_oracle::error_code_hint(code.0),
                hint,
                "{code:?}"
            );
            assert_eq!(code.to_string(), hint);
        }
        assert_eq!(
            gnunet_sys::gnsrecord_oracle::error_code_hint(4999),
            "<no hint found>"
        );
        assert_eq!(ErrorCode(4999).to_string(), "error code 4999");
        assert_eq!(ErrorCode(4999).hint(), None);
        assert!(ErrorCode::NONE.is_success());
        assert!(!ErrorCode::NAMESTORE_LABEL_INVALID.is_success());
    }

    #[test]
    fn codes_are_the_ones_of_the_c_enum() {
        use gnunet_sys as sys;
        let pairs = [
            (ErrorCode::NONE, sys::GNUNET_ErrorCode_GNUNET_EC_NONE),
            (
                ErrorCode::NAMESTORE_RECORD_DATA_INVALID,
                sys::GNUNET_ErrorCode_GNUNET_EC_NAMESTORE_RECORD_DATA_INVALID,
            ),
            (
                ErrorCode::NAMESTORE_LABEL_INVALID,
                sys::GNUNET_ErrorCode_GNUNET_EC_NAMESTORE_LABEL_INVALID,
            ),
            (
                ErrorCode::IDENTITY_NAME_CONFLICT,
                sys::GNUNET_ErrorCode_GNUNET_EC_IDENTITY_NAME_CONFLICT,
            ),
            (
                ErrorCode::NAMESTORE_STORE_FAILED,
                sys::GNUNET_ErrorCode_GNUNET_EC_NAMESTORE_STORE_FAILED,
            ),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours.0, theirs);
        }
    }
}
