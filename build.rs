//! Fails the build early, with one line that names the Debian packages, when GNUnet 0.19 is missing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    match pkg_config::Config::new()
        .atleast_version("0.19")
        .cargo_metadata(false)
        .probe("gnunetutil")
    {
        Ok(lib) => println!("cargo:rustc-env=SECUSHARE_GNUNET_VERSION={}", lib.version),
        Err(e) => panic!(
            "GNUnet 0.19 development files not found ({e}); install them with: \
             apt-get install gnunet libgnunet-dev libsodium-dev libclang-dev pkg-config"
        ),
    }
}
