//! The bindings link and call into libgnunetutil.

#[test]
fn hash_of_empty_input_is_sha512_of_empty() {
    let mut out = gnunet_sys::GNUNET_HashCode::default();
    unsafe { gnunet_sys::GNUNET_CRYPTO_hash(std::ptr::null(), 0, &mut out) };
    let bytes: Vec<u8> = out.bits.iter().flat_map(|w| w.to_ne_bytes()).collect();
    assert_eq!(&bytes[..4], &[0xcf, 0x83, 0xe1, 0x35]);
}

#[test]
fn constants_are_the_ones_secushare_relies_on() {
    assert_eq!(
        gnunet_sys::GNUNET_MESSAGE_TYPE_PSYCSTORE_MEMBERSHIP_STORE,
        660
    );
    assert_eq!(gnunet_sys::GNUNET_MESSAGE_TYPE_CADET_LOCAL_DATA, 1020);
    assert_eq!(gnunet_sys::GNUNET_MAX_MESSAGE_SIZE, 65536);
}
