//! Generates bindings over the installed GNUnet 0.19 headers and links libgnunetutil.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    let lib = match pkg_config::Config::new()
        .atleast_version("0.19")
        .probe("gnunetutil")
    {
        Ok(lib) => lib,
        Err(e) => panic!(
            "GNUnet 0.19 development files not found ({e}); install them with: \
             apt-get install gnunet libgnunet-dev libsodium-dev libclang-dev pkg-config"
        ),
    };
    // libgnunetidentity carries the identity key helpers (key lengths, signature blobs).
    println!("cargo:rustc-link-lib=gnunetidentity");
    // libgnunetgnsrecord: record (de)serialization, the oracle of the GNS record codec.
    println!("cargo:rustc-link-lib=gnunetgnsrecord");
    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .allowlist_var("GNUNET_MESSAGE_TYPE_.*")
        .allowlist_var("GNUNET_SIGNATURE_PURPOSE_.*")
        .allowlist_var("GNUNET_(MAX|MIN)_MESSAGE_SIZE")
        .allowlist_var("GNUNET_CONSTANTS_.*")
        .allowlist_var("GNUNET_IDENTITY_TYPE_.*")
        .allowlist_var("GNUNET_GNSRECORD_TYPE_.*")
        .allowlist_type("GNUNET_MessageHeader")
        .allowlist_type("GNUNET_HashCode")
        .allowlist_type("GNUNET_PeerIdentity")
        .allowlist_type("GNUNET_CRYPTO_.*")
        .allowlist_type("GNUNET_IDENTITY_.*")
        .allowlist_type("GNUNET_GNSRECORD_PlaceData")
        .allowlist_function("GNUNET_CRYPTO_(hash|eddsa|ecdsa).*")
        .allowlist_function("GNUNET_STRINGS_(data_to_string|string_to_data).*")
        .allowlist_function("GNUNET_CONFIGURATION_.*")
        .allowlist_function("GNUNET_IDENTITY_(key|signature|public_key|private_key|read|write).*")
        .allowlist_function("GNUNET_free_")
        .allowlist_function("GNUNET_log_setup")
        .allowlist_function("GNUNET_OS_project_data_gnunet")
        .allowlist_function("GNUNET_GNSRECORD_records_(get_size|serialize|deserialize)")
        .allowlist_function("GNUNET_ErrorCode_get_hint")
        .allowlist_type("GNUNET_GNSRECORD_Flags")
        .derive_default(true)
        .layout_tests(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for path in &lib.include_paths {
        builder = builder.clang_arg(format!("-I{}", path.display()));
    }
    let bindings = builder
        .generate()
        .expect("bindgen could not read the GNUnet headers");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("could not write bindings.rs");
}
