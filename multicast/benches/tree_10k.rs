//! The 10,000-member scenario as a bench: prints delivery, RMR, LDH, the repair after a relay
//! is killed, and the wall time. `cargo bench -p multicast --bench tree_10k`
use std::path::Path;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("simulations/tree-10k.toml");
    match multicast::sim::run_file(&path) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
