//! Runs multicast scenario files and prints their figures:
//! `cargo run -p multicast --release --example simulate -- multicast/simulations/tree-10k.toml`
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: simulate SCENARIO.toml...");
        std::process::exit(2);
    }
    for path in args {
        match multicast::sim::run_file(std::path::Path::new(&path)) {
            Ok(report) => print!("{report}"),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
}
