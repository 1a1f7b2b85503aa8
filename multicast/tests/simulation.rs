//! The 1,000-member scenario of CI: everyone joins through the tree, every fragment reaches
//! every member, and after the busiest relay near the origin dies the survivors re-attach and
//! get everything, including what was sent while they were cut off.

use std::path::Path;

use multicast::sim::{run_file, Scenario, Simulator};

#[test]
fn thousand_members_tree_delivers_everything_and_repairs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("simulations/tree-1k.toml");
    let report = run_file(&path).expect("scenario loads");
    print!("{report}");
    assert_eq!(report.admitted, 1000);
    assert_eq!(report.steady.delivery, 1.0);
    assert!(report.steady.rmr <= 0.05, "RMR {}", report.steady.rmr);
    // Fan-out 10: 10 + 100 + 1000 covers 1,000 members within three hops.
    assert!(report.steady.ldh <= 4, "LDH {}", report.steady.ldh);
    assert!(
        report.redirects > 0,
        "the origin must have sent joiners down the tree"
    );
    assert_eq!(report.killed, 1);
    assert!(report.orphans > 0 && report.parents_lost as usize >= report.orphans);
    assert_eq!(report.after_kill.delivery, 1.0);
    assert_eq!(report.delivery_all, 1.0);
    assert!(report.repair_time.is_some());
    assert!(
        report.gap_requests > 0,
        "the orphans' gap must have been pulled by replay"
    );
    assert_eq!(report.errors, 0);
}

#[test]
fn same_seed_same_result_and_scenarios_parse() {
    let text = small_scenario();
    let a = Simulator::new(Scenario::from_toml(&text).unwrap()).run();
    let b = Simulator::new(Scenario::from_toml(&text).unwrap()).run();
    assert_eq!(a.join_time, b.join_time);
    assert_eq!(a.after_kill.completion, b.after_kill.completion);
    assert_eq!(a.gap_requests, b.gap_requests);
    assert_eq!(a.delivery_all, 1.0);
    for f in ["tree-1k.toml", "tree-10k.toml"] {
        Scenario::load(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("simulations")
                .join(f),
        )
        .unwrap();
    }
    assert!(
        Scenario::from_toml("name = 'x'\nseed = 1\nmembers = 1\nmessages = 1\nbogus = 2").is_err()
    );
}

/// Relays with the strict level's per-hop delay (15 ms mean, 200 ms cap): everything still
/// arrives, and later than without it.
#[test]
fn per_hop_delays_slow_the_tree_but_lose_nothing() {
    let text = small_scenario();
    let plain = Simulator::new(Scenario::from_toml(&text).unwrap()).run();
    let delayed_text = format!("{text}hop_delay_ms = 15\nhop_delay_cap_ms = 200\n");
    let delayed = Simulator::new(Scenario::from_toml(&delayed_text).unwrap()).run();
    print!("{plain}{delayed}");
    assert_eq!(delayed.steady.delivery, 1.0);
    assert_eq!(delayed.delivery_all, 1.0);
    assert_eq!(delayed.errors, 0);
    assert!(
        delayed.steady.completion > plain.steady.completion,
        "{:?} vs {:?}",
        delayed.steady.completion,
        plain.steady.completion
    );
}

/// The text of `simulations/small.toml`.
fn small_scenario() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("simulations/small.toml"))
        .unwrap()
}
