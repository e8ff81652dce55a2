//! Every file in scenarios/ is valid and runs (briefly).

use slotsim::runner::{self, RunSettings};
use slotsim::scenario::load_scenario;

#[test]
fn every_example_scenario_checks_and_runs_briefly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        n += 1;
        let mut s = load_scenario(&path).unwrap_or_else(|e| panic!("{e}"));
        // Briefly: a short horizon (keeping the warm-up shorter), two replications.
        s.horizon = s.horizon.min(s.warmup + 20 * 60 * 1_000_000);
        s.replications = 2;
        s.precision = None;
        let r = runner::run(
            &s,
            &RunSettings {
                threads: Some(2),
                ..Default::default()
            },
            &|_| {},
        )
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(r.points.len(), s.sweep.points().len());
        assert!(r.events > 0, "{}: nothing happened", path.display());
        assert!(
            r.points
                .iter()
                .all(|p| p.reps[0].counts.requests_arrived > 0),
            "{}",
            path.display()
        );
    }
    assert!(n >= 2, "expected at least two example scenarios, found {n}");
}
