//! libgnunetgnsrecord's and libgnunetutil's own answers for the GNS record format and the
//! error codes, behind safe calls on plain values: what `gnunet-service`'s `gnsrecord` codec
//! and `ErrorCode` texts are checked against.

use std::ffi::CStr;

use crate as sys;

/// One record as plain values: (expiration time, record type, flags, data).
pub type PlainRecord = (u64, u32, u16, Vec<u8>);

/// `GNUNET_GNSRECORD_records_get_size` then `GNUNET_GNSRECORD_records_serialize`: the bytes
/// libgnunetgnsrecord writes for `records`, padding included. `None` if it refuses them.
pub fn records_serialize(records: &[PlainRecord]) -> Option<Vec<u8>> {
    let rd: Vec<sys::GNUNET_GNSRECORD_Data> = records
        .iter()
        .map(
            |(expiration, record_type, flags, data)| sys::GNUNET_GNSRECORD_Data {
                data: data.as_ptr().cast(),
                expiration_time: *expiration,
                data_size: data.len(),
                record_type: *record_type,
                flags: sys::GNUNET_GNSRECORD_Flags::from(*flags),
            },
        )
        .collect();
    let count = u32::try_from(rd.len()).ok()?;
    // SAFETY: `rd` holds `count` records whose data pointers are valid for their sizes.
    let size = unsafe { sys::GNUNET_GNSRECORD_records_get_size(count, rd.as_ptr()) };
    let size = usize::try_from(size).ok()?;
    let mut out = vec![0u8; size];
    // SAFETY: `out` is writable for `size` bytes; `rd` as above.
    let written = unsafe {
        sys::GNUNET_GNSRECORD_records_serialize(count, rd.as_ptr(), size, out.as_mut_ptr().cast())
    };
    (usize::try_from(written).ok()? == size).then_some(out)
}

/// `GNUNET_GNSRECORD_records_deserialize` of `count` records from `bytes`; `None` if it
/// refuses them.
pub fn records_deserialize(bytes: &[u8], count: u32) -> Option<Vec<PlainRecord>> {
    // The C function writes `count` records; a count the bytes cannot hold is refused by it
    // after the first records, but the array must exist: keep it small.
    if count as usize > bytes.len() / 16 + 1 {
        return None;
    }
    let mut rd = vec![sys::GNUNET_GNSRECORD_Data::default(); count as usize];
    // SAFETY: `bytes` is readable for its length, `rd` writable for `count` records.
    let rc = unsafe {
        sys::GNUNET_GNSRECORD_records_deserialize(
            bytes.len(),
            bytes.as_ptr().cast(),
            count,
            rd.as_mut_ptr(),
        )
    };
    if rc != sys::GNUNET_GenericReturnValue_GNUNET_OK {
        return None;
    }
    Some(
        rd.iter()
            .map(|r| {
                let data = if r.data_size == 0 {
                    Vec::new()
                } else {
                    // SAFETY: deserialize pointed `data` into `bytes` for `data_size` bytes.
                    unsafe { std::slice::from_raw_parts(r.data.cast::<u8>(), r.data_size) }.to_vec()
                };
                (r.expiration_time, r.record_type, r.flags as u16, data)
            })
            .collect(),
    )
}

/// `GNUNET_ErrorCode_get_hint`: libgnunetutil's text for error code `code` (`"<no hint
/// found>"` for codes it does not know).
pub fn error_code_hint(code: u32) -> String {
    // SAFETY: the function returns a pointer to a static NUL-terminated string.
    let hint = unsafe { CStr::from_ptr(sys::GNUNET_ErrorCode_get_hint(code)) };
    hint.to_string_lossy().into_owned()
}
