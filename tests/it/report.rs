//! The tuning report (issue 4): charts and `report.html` rendered from hand-made output
//! folders (fixtures written here, in the format `slotsim run` writes), the recommendation
//! on them, and errors for bad input.
//!
//! To look at the pictures: `cargo test --test it report::look -- --ignored` renders every
//! fixture under `/tmp/slotsim-report-look/`.

use std::fmt::Write as _;
use std::path::Path;

use slotsim::recommend::Recommendation;
use slotsim::report::{render, ReportError};

/// Written out rather than imported: the fixtures pin the public column names.
const METRICS: &[&str] = &[
    "sessions_arrived",
    "sessions_rejected",
    "new_session_rejection_rate",
    "bound_requests",
    "migrations",
    "bound_rejections",
    "continuity_failures",
    "continuity_failure_rate",
    "migration_rate",
    "bound_rejection_rate",
    "requests_arrived",
    "requests_completed",
    "requests_rejected",
    "request_rejection_rate",
    "throughput_rps",
    "slot_utilization",
    "mean_busy_slots",
    "mean_waiting",
    "wait_mean_s",
    "wait_p50_s",
    "wait_p95_s",
    "wait_p99_s",
    "sessions_finished",
    "sessions_intact_rate",
    "sessions_abandoned",
    "expired_rebinds",
];

/// One fixture point: parameter values and the headline rates; the rest is derived.
#[derive(Clone, Copy)]
struct Pt {
    params: [f64; 2],
    nsr: f64,
    migration: f64,
    bound_rej: f64,
    throughput: f64,
    util: f64,
    /// Share of served requests that waited at all, and the scale of positive waits (s).
    any_wait: f64,
    wait_scale: f64,
}

struct Fixture {
    name: &'static str,
    parameters: Vec<&'static str>,
    points: Vec<Pt>,
    replications: u32,
    targets: (Option<f64>, Option<f64>),
    total_slots: f64,
}

/// Small deterministic generator for fixture noise.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

fn write_fixture(dir: &Path, f: &Fixture) {
    std::fs::create_dir_all(dir).unwrap();
    let one_rep = f.replications == 1;
    let ci = |v: f64, rel: f64| if one_rep { f64::NAN } else { v * rel + 1e-5 };

    // summary.csv
    let mut s = String::from("point");
    for p in &f.parameters {
        let _ = write!(s, ",{p}");
    }
    s.push_str(",replications");
    for m in METRICS {
        let _ = write!(s, ",{m},{m}_ci95");
    }
    s.push_str(",continuity_failure_rate_delta,precision_met\n");
    for (i, p) in f.points.iter().enumerate() {
        let cf = p.migration + p.bound_rej;
        let sessions = 9600.0;
        // A point that rejects every new session (R >= C) has no bound request at all.
        let bound = if p.nsr >= 1.0 { 0.0 } else { 140_000.0 };
        let requests = p.throughput * 19800.0;
        let values: Vec<(&str, f64, f64)> = vec![
            ("sessions_arrived", sessions, ci(sessions, 0.01)),
            (
                "sessions_rejected",
                sessions * p.nsr,
                ci(sessions * p.nsr, 0.15),
            ),
            ("new_session_rejection_rate", p.nsr, ci(p.nsr, 0.15)),
            ("bound_requests", bound, ci(bound, 0.01)),
            (
                "migrations",
                bound * p.migration,
                ci(bound * p.migration, 0.2),
            ),
            (
                "bound_rejections",
                bound * p.bound_rej,
                ci(bound * p.bound_rej, 0.2),
            ),
            ("continuity_failures", bound * cf, ci(bound * cf, 0.15)),
            ("continuity_failure_rate", cf, ci(cf, 0.15)),
            ("migration_rate", p.migration, ci(p.migration, 0.2)),
            ("bound_rejection_rate", p.bound_rej, ci(p.bound_rej, 0.2)),
            ("requests_arrived", requests * 1.01, ci(requests, 0.01)),
            ("requests_completed", requests, ci(requests, 0.01)),
            (
                "requests_rejected",
                requests * 0.01,
                ci(requests * 0.01, 0.2),
            ),
            ("request_rejection_rate", 0.01, ci(0.01, 0.2)),
            ("throughput_rps", p.throughput, ci(p.throughput, 0.01)),
            ("slot_utilization", p.util, ci(p.util, 0.01)),
            ("mean_busy_slots", p.util * f.total_slots, ci(p.util, 0.01)),
            ("mean_waiting", p.any_wait * 3.0, ci(p.any_wait, 0.1)),
            (
                "wait_mean_s",
                p.any_wait * p.wait_scale,
                ci(p.wait_scale, 0.1),
            ),
            ("wait_p50_s", 0.0, ci(0.0, 0.0)),
            ("wait_p95_s", p.wait_scale * 0.8, ci(p.wait_scale, 0.1)),
            ("wait_p99_s", p.wait_scale * 2.5, ci(p.wait_scale, 0.2)),
            ("sessions_finished", sessions * 0.98, ci(sessions, 0.01)),
            ("sessions_intact_rate", 1.0 - 3.0 * cf, ci(cf, 0.3)),
            ("sessions_abandoned", sessions * p.nsr, ci(sessions, 0.01)),
            ("expired_rebinds", 12.0, ci(12.0, 0.3)),
        ];
        let _ = write!(s, "{i}");
        for v in &p.params[..f.parameters.len()] {
            let _ = write!(s, ",{v}");
        }
        let _ = write!(s, ",{}", f.replications);
        for (name, mean, half) in values {
            assert!(METRICS.contains(&name));
            let _ = write!(s, ",{},{}", num(mean), num(half));
        }
        s.push_str(",0.001,true\n");
    }
    std::fs::write(dir.join("summary.csv"), s).unwrap();

    // timeseries.csv: 6 h, per minute, every point.
    let mut t = String::from(
        "point,minute,time_s,busy_slots,waiting,requests_completed,new_session_rejections,\
         migrations,bound_rejections,continuity_failures\n",
    );
    let mut rng = Lcg(42);
    for (i, p) in f.points.iter().enumerate() {
        for minute in 0..360u32 {
            let ramp = (minute as f64 / 20.0).min(1.0);
            let wave = 1.0 + 0.08 * (minute as f64 / 37.0).sin();
            let busy = (f.total_slots * p.util * ramp * wave * (0.95 + 0.1 * rng.next()))
                .min(f.total_slots);
            let waiting = (p.any_wait * 30.0 * ramp * rng.next() * wave).max(0.0);
            let completed = (p.throughput * 60.0 * ramp * (0.9 + 0.2 * rng.next())).round();
            let nsr = (26.7 * p.nsr * 10.0 * ramp * rng.next()).round();
            let mig = (390.0 * p.migration * 2.0 * ramp * rng.next()).round();
            let brej = (390.0 * p.bound_rej * 2.0 * ramp * rng.next()).round();
            let _ = writeln!(
                t,
                "{i},{minute},{},{busy:.3},{waiting:.3},{completed},{nsr},{mig},{brej},{}",
                minute * 60,
                mig + brej
            );
        }
    }
    std::fs::write(dir.join("timeseries.csv"), t).unwrap();

    // wait_quantiles.csv
    let mut w = String::from("point,quantile,wait_s\n");
    let mut qs: Vec<f64> = (0..100).map(|k| k as f64 / 100.0).collect();
    qs.extend([0.995, 0.999, 1.0]);
    for (i, p) in f.points.iter().enumerate() {
        let q0 = 1.0 - p.any_wait;
        for &q in &qs {
            let wait = if q <= q0 || p.any_wait == 0.0 {
                0.0
            } else if q >= 1.0 {
                p.wait_scale * 12.0
            } else {
                p.wait_scale * ((1.0 - q0) / (1.0 - q)).ln() + 0.1
            };
            let _ = writeln!(w, "{i},{q},{wait:.4}");
        }
    }
    std::fs::write(dir.join("wait_quantiles.csv"), w).unwrap();

    // run.json
    let target = |t: Option<f64>| t.map_or("null".to_string(), |v| v.to_string());
    let params = f
        .parameters
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let json = format!(
        r#"{{
  "slotsim_version": "0.1.0",
  "scenario": {{
    "name": "{name}",
    "description": "20 accounts serving Claude Code sessions <fixture & test>",
    "path": "scenarios/{name}.toml",
    "sha256": "3f2a9c0e1b7d4c5a6e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d",
    "words": "20 accounts of 5 slots each (100 slots), Anthropic platform, sticky TTL 1 h; sessions arrive at 40/min with 16 requests on average, 20 s median think time and 10 s median service time.",
    "toml": "name = \"{name}\"\nseed = 7\n[sweep]\nreserved = [0, 1, 2, 3]\n"
  }},
  "seed": 7,
  "horizon_s": 21600,
  "warmup_s": 1800,
  "replications": {reps},
  "threads": 2,
  "wall_time_s": 12.5,
  "events_simulated": 123456789,
  "sweep": {{ "parameters": [{params}], "points": {n} }},
  "baseline_point": 0,
  "targets": {{ "continuity_failure_rate": {cf}, "new_session_rejection_rate": {nsr} }},
  "total_slots": {slots}
}}
"#,
        name = f.name,
        reps = f.replications,
        n = f.points.len(),
        cf = target(f.targets.0),
        nsr = target(f.targets.1),
        slots = f.total_slots,
    );
    std::fs::write(dir.join("run.json"), json).unwrap();
}

fn pt(params: [f64; 2], nsr: f64, migration: f64, bound_rej: f64) -> Pt {
    Pt {
        params,
        nsr,
        migration,
        bound_rej,
        throughput: 10.6 - 40.0 * nsr,
        util: 0.82 - 0.5 * nsr,
        any_wait: (0.12 - 0.02 * params[0]).max(0.0),
        wait_scale: 4.0 + params[0],
    }
}

/// A 4-point reserved sweep; reserved=2 meets both targets.
fn reserved_sweep() -> Fixture {
    Fixture {
        name: "reserved-sweep",
        parameters: vec!["reserved"],
        points: vec![
            pt([0.0, 0.0], 0.0021, 0.041, 0.021),
            pt([1.0, 0.0], 0.011, 0.012, 0.0061),
            pt([2.0, 0.0], 0.034, 0.0031, 0.0009),
            pt([3.0, 0.0], 0.085, 0.0004, 0.0),
        ],
        replications: 10,
        targets: (Some(0.01), Some(0.05)),
        total_slots: 100.0,
    }
}

/// A 2-parameter grid: reserved (x) × concurrency (one line each).
fn grid_2x3() -> Fixture {
    let mut points = Vec::new();
    for (c, scale) in [(4.0, 1.6), (6.0, 0.6)] {
        for r in [0.0, 1.0, 2.0] {
            let mut p = pt(
                [r, c],
                (0.004 * (1.0 + 3.0 * r) * scale).min(0.5),
                0.03 * scale / (1.0 + 4.0 * r),
                0.012 * scale / (1.0 + 6.0 * r * r),
            );
            p.wait_scale = 2.0 + r * scale;
            points.push(p);
        }
    }
    Fixture {
        name: "grid-2x3",
        parameters: vec!["reserved", "concurrency"],
        points,
        replications: 5,
        targets: (Some(0.01), Some(0.03)),
        total_slots: 80.0,
    }
}

/// One replication (no CIs), no targets, no waiting at all.
fn single_replication_no_targets() -> Fixture {
    let mut f = reserved_sweep();
    f.name = "single-rep";
    f.replications = 1;
    f.targets = (None, None);
    for p in &mut f.points {
        p.any_wait = 0.0;
    }
    f
}

/// Ten points, none of which meets the targets.
fn ten_points_none_meets() -> Fixture {
    let points = (0..10)
        .map(|r| {
            let r = r as f64;
            pt(
                [r, 0.0],
                0.003 * (1.0 + r * r),
                0.05 / (1.0 + 2.0 * r),
                0.01 / (1.0 + r),
            )
        })
        .collect();
    Fixture {
        name: "ten-points",
        parameters: vec!["reserved"],
        points,
        replications: 3,
        targets: (Some(0.002), Some(0.02)),
        total_slots: 100.0,
    }
}

/// 200 settings along one line, some of which meet the targets: more than the trade-off
/// chart labels one by one.
fn two_hundred_points() -> Fixture {
    let points = (0..200)
        .map(|r| {
            let r = r as f64 / 20.0;
            pt(
                [r, 0.0],
                0.0003 * (1.0 + r * r),
                0.05 / (1.0 + 2.0 * r),
                0.01 / (1.0 + r),
            )
        })
        .collect();
    Fixture {
        name: "two-hundred-points",
        parameters: vec!["reserved"],
        points,
        replications: 3,
        targets: (Some(0.05), Some(0.02)),
        total_slots: 100.0,
    }
}

const CHARTS: &[&str] = &[
    "continuity",
    "new_session_rejection",
    "throughput_utilization",
    "tradeoff",
    "timeseries",
    "wait_cdf",
];

/// Reads the width and height from a PNG's IHDR after checking the signature, then decodes
/// the whole image.
fn check_png(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 1000, "{} is too small", path.display());
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} lacks the PNG signature",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(w >= 600 && h >= 400, "{}: {w}x{h}", path.display());
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (w, h));
    // Not a blank canvas: some dark (text) pixels.
    let dark = buf[..info.buffer_size()]
        .chunks(3)
        .filter(|p| p.iter().all(|c| *c < 80))
        .count();
    assert!(dark > 500, "{} has almost no dark pixels", path.display());
    (w, h)
}

/// Checks that tags nest properly (a light XML well-formedness check).
fn check_svg_wellformed(svg: &str, path: &Path) {
    assert!(
        svg.starts_with("<svg"),
        "{} does not start with <svg",
        path.display()
    );
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let end = after.find('>').expect("unclosed tag");
        let tag = &after[..end];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().expect("closing tag without opening");
            assert_eq!(open, name.trim(), "{}: mismatched tags", path.display());
        } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
            let name = tag.split_whitespace().next().unwrap_or("").to_string();
            stack.push(name);
        }
        rest = &after[end + 1..];
    }
    assert!(stack.is_empty(), "{}: unclosed {stack:?}", path.display());
}

fn check_outputs(out: &Path) {
    for stem in CHARTS {
        let png = out.join("charts").join(format!("{stem}.png"));
        let svg = out.join("charts").join(format!("{stem}.svg"));
        assert!(png.is_file(), "{} missing", png.display());
        assert!(svg.is_file(), "{} missing", svg.display());
        check_png(&png);
        let text = std::fs::read_to_string(&svg).unwrap();
        check_svg_wellformed(&text, &svg);
        assert!(text.contains("<text"), "{} has no text", svg.display());
    }
    // No temporary files left behind.
    for entry in std::fs::read_dir(out.join("charts")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains("partial"), "left over {name}");
    }
}

fn svg(out: &Path, stem: &str) -> String {
    std::fs::read_to_string(out.join("charts").join(format!("{stem}.svg"))).unwrap()
}

#[test]
fn reserved_sweep_renders_every_chart_and_recommends() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    write_fixture(out, &reserved_sweep());
    let outcome = render(out).unwrap();
    check_outputs(out);
    assert_eq!(outcome.files.len(), CHARTS.len() * 2 + 1);
    assert!(outcome.files.iter().all(|f| f.is_file()));
    match &outcome.recommendation {
        Recommendation::Recommended { best, meeting, .. } => {
            assert_eq!(best.point, 2);
            assert_eq!(best.label, "reserved=2");
            assert_eq!(meeting.len(), 1);
            assert_eq!(meeting[0].point, 2);
        }
        other => panic!("expected a recommendation, got {other:?}"),
    }
    assert!(outcome.text.contains("reserved=2"), "{}", outcome.text);

    // Axis labels are SVG text.
    let c = svg(out, "continuity");
    assert!(c.contains("reserved_concurrency"), "x axis label");
    assert!(c.contains("share of bound requests"), "y axis label");
    assert!(c.contains("target 1%"));
    assert!(svg(out, "new_session_rejection").contains("share of new sessions rejected"));
    let t = svg(out, "tradeoff");
    assert!(t.contains("new-session rejection rate"));
    assert!(t.contains("continuity failure rate"));
    assert!(t.contains("reserved=0"), "point labels");
    assert!(svg(out, "throughput_utilization").contains("completed requests per second"));
    assert!(svg(out, "timeseries").contains("simulated time (hours)"));
    assert!(svg(out, "wait_cdf").contains("slot wait t (seconds, log scale)"));

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Recommended: reserved=2"));
    assert!(
        html.contains("&lt;fixture &amp; test&gt;"),
        "text from files is escaped"
    );
    assert!(!html.contains("<fixture"));
    assert!(html.contains("3f2a9c0e1b7d"), "scenario hash");
    assert!(html.contains("<svg"), "charts inline");
    assert!(
        !html.contains("http://") || !html.contains("<script"),
        "no network, no script"
    );
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link"));
    assert_eq!(html.matches("<svg").count(), CHARTS.len());
}

#[test]
fn two_parameter_grid_draws_one_line_per_second_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    write_fixture(out, &grid_2x3());
    let outcome = render(out).unwrap();
    check_outputs(out);
    for stem in ["continuity", "new_session_rejection", "tradeoff"] {
        let s = svg(out, stem);
        assert!(s.contains("concurrency=4"), "{stem} legend");
        assert!(s.contains("concurrency=6"), "{stem} legend");
    }
    assert!(outcome.text.contains("concurrency="), "{}", outcome.text);
}

/// Settings where no new session can land (R >= C) have no bound request: their failure
/// rates are 0/0 and the charts mark them as such instead of drawing 0% failures.
#[test]
fn settings_without_bound_requests_are_marked_not_drawn_as_zero_failures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let mut f = reserved_sweep();
    f.name = "dead-settings";
    for r in [4.0, 5.0] {
        let mut p = pt([r, 0.0], 1.0, 0.0, 0.0);
        (p.throughput, p.util, p.any_wait) = (0.0, 0.0, 0.0);
        f.points.push(p);
    }
    write_fixture(out, &f);
    let outcome = render(out).unwrap();
    check_outputs(out);
    let t = svg(out, "tradeoff");
    assert!(t.contains("no bound requests"), "tradeoff legend");
    // No live point has a zero rate: nothing is drawn as a 0 on the log scale's edge.
    assert!(
        !t.contains("drawn on the edge"),
        "tradeoff draws a 0/0 as 0"
    );
    assert!(svg(out, "continuity").contains("no bound requests"));
    // The wait chart does not call them settings where "no request waited".
    let w = svg(out, "wait_cdf");
    assert!(w.contains("no request served"), "wait legend");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("undefined, not 0%"), "captions say why");
    assert!(
        !matches!(&outcome.recommendation, Recommendation::Recommended { best, .. } if best.point >= 4),
        "{:?}",
        outcome.recommendation
    );
}

#[test]
fn one_replication_without_targets_still_renders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    write_fixture(out, &single_replication_no_targets());
    let outcome = render(out).unwrap();
    check_outputs(out);
    assert!(matches!(
        outcome.recommendation,
        Recommendation::NoTargets { .. }
    ));
    assert!(
        outcome.text.contains("interval is unknown"),
        "{}",
        outcome.text
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("± ?"));
    assert!(svg(out, "wait_cdf").contains("No served request waited"));
}

#[test]
fn none_meets_names_the_closest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    write_fixture(out, &ten_points_none_meets());
    let started = std::time::Instant::now();
    let outcome = render(out).unwrap();
    let elapsed = started.elapsed();
    check_outputs(out);
    assert!(matches!(
        outcome.recommendation,
        Recommendation::NoneMeets { .. }
    ));
    assert!(
        outcome.text.starts_with("No setting meets"),
        "{}",
        outcome.text
    );
    // Generous: a release build takes well under a second.
    assert!(elapsed.as_secs_f64() < 30.0, "rendering took {elapsed:?}");
}

#[test]
fn single_point_without_sweep_and_unknown_cells_render() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let mut f = reserved_sweep();
    f.name = "no-sweep";
    f.points.truncate(1);
    write_fixture(out, &f);
    // No [sweep]: run.json lists no parameters; `reserved` still identifies the point.
    let run = std::fs::read_to_string(out.join("run.json")).unwrap();
    std::fs::write(
        out.join("run.json"),
        run.replace(r#""parameters": ["reserved"]"#, r#""parameters": []"#),
    )
    .unwrap();
    // Unknown (empty) cells for some metrics.
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines: Vec<String> = summary.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let blank = ["migration_rate", "wait_p95_s", "throughput_rps_ci95"];
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    for name in blank {
        let i = header.iter().position(|h| *h == name).unwrap();
        cells[i] = String::new();
    }
    lines[1] = cells.join(",");
    std::fs::write(out.join("summary.csv"), lines.join("\n") + "\n").unwrap();

    let outcome = render(out).unwrap();
    check_outputs(out);
    assert!(outcome.text.contains("reserved=0"), "{}", outcome.text);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("n/a"), "unknown cells are shown as n/a");
}

#[test]
fn rendering_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    write_fixture(a.path(), &grid_2x3());
    write_fixture(b.path(), &grid_2x3());
    let ra = render(a.path()).unwrap();
    render(b.path()).unwrap();
    for f in &ra.files {
        let rel = f.strip_prefix(a.path()).unwrap();
        assert_eq!(
            std::fs::read(f).unwrap(),
            std::fs::read(b.path().join(rel)).unwrap(),
            "{} differs between two renders",
            rel.display()
        );
    }
}

#[test]
fn missing_summary_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &reserved_sweep());
    std::fs::remove_file(dir.path().join("summary.csv")).unwrap();
    let e = render(dir.path()).unwrap_err();
    assert!(matches!(e, ReportError::MissingFile { .. }), "{e:?}");
    assert!(e.to_string().contains("summary.csv"), "{e}");
}

#[test]
fn garbage_number_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &reserved_sweep());
    let p = dir.path().join("summary.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cells: Vec<&str> = lines[2].split(',').collect();
    cells[5] = "1.2.3";
    lines[2] = cells.join(",");
    std::fs::write(&p, lines.join("\n")).unwrap();
    let e = render(dir.path()).unwrap_err();
    assert!(matches!(e, ReportError::BadNumber { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("summary.csv") && msg.contains("1.2.3"),
        "{msg}"
    );

    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &reserved_sweep());
    std::fs::write(
        dir.path().join("wait_quantiles.csv"),
        "point,quantile,wait_s\n0,x,1\n",
    )
    .unwrap();
    let msg = render(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains("wait_quantiles.csv") && msg.contains("quantile"),
        "{msg}"
    );
}

#[test]
fn missing_column_and_bad_json_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &reserved_sweep());
    std::fs::write(dir.path().join("timeseries.csv"), "point,minute\n0,0\n").unwrap();
    let e = render(dir.path()).unwrap_err();
    assert!(matches!(e, ReportError::MissingColumn { .. }), "{e:?}");
    assert!(e.to_string().contains("timeseries.csv"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &reserved_sweep());
    std::fs::write(dir.path().join("run.json"), "{not json").unwrap();
    let msg = render(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("run.json"), "{msg}");
}

/// Renders every fixture under /tmp/slotsim-report-look/ for a person to look at.
#[test]
#[ignore = "writes to /tmp/slotsim-report-look for manual inspection"]
fn look() {
    let root = Path::new("/tmp/slotsim-report-look");
    for f in [
        reserved_sweep(),
        grid_2x3(),
        single_replication_no_targets(),
        ten_points_none_meets(),
    ] {
        let out = root.join(f.name);
        write_fixture(&out, &f);
        let started = std::time::Instant::now();
        let outcome = render(&out).unwrap();
        println!(
            "{}: {:?} — {}",
            out.display(),
            started.elapsed(),
            outcome.text
        );
    }
}

/// `run` draws the report from the rows it holds in memory, not from the files it has just
/// written: what it holds must be what reading those files gives, value for value (NaN for
/// an empty cell), for sweeps of one parameter, of a pool's own setting (the `reserved`
/// column then empty where pools differ) and of a true/false gateway setting.
#[test]
fn rows_held_in_memory_are_what_the_files_read_back_as() {
    let base = r#"
name = "mem"
seed = 3
horizon = "40m"
warmup = "5m"
replications = 2
[gateway]
sticky_ttl = "1h"
[[pools]]
name = "a"
accounts = 2
concurrency = 2
reserved = 0
[[pools]]
name = "b"
accounts = 1
concurrency = 3
reserved = 1
[workload]
mode = "sessions"
arrival = { process = "poisson", rate = "4/min" }
requests_per_session = { dist = "geometric", mean = 6 }
think_time = { dist = "lognormal", median = "20s", p95 = "2m" }
service_time = { dist = "lognormal", median = "8s", p95 = "40s" }
"#;
    let sweeps = [
        "[sweep]\nreserved = [0, 1, 2, 3]\n",
        "[sweep.pools.a]\nreserved = [0, 1]\n[sweep.gateway]\nsticky_wait = [true, false]\n",
        "[sweep]\nload = [0.5, 1.5]\n[targets]\ncontinuity_failure_rate = 0.05\n",
    ];
    for sweep in sweeps {
        let s = crate::common::scenario(&format!("{base}{sweep}"));
        let r = crate::common::run(&s);
        let dir = tempfile::tempdir().unwrap();
        let known = slotsim::cli::write_outputs(&s, &r, dir.path(), true, &[], &[]).unwrap();
        let held = slotsim::report::input::read_run_dir_knowing(dir.path(), Some(known)).unwrap();
        let read = slotsim::report::input::read_run_dir(dir.path()).unwrap();
        assert!(!held.summary.points.is_empty());
        assert_eq!(
            format!("{:?}", held.summary),
            format!("{:?}", read.summary),
            "{sweep}"
        );
        assert_eq!(held.replications.len(), read.replications.len(), "{sweep}");
        assert_eq!(
            format!("{:?}", held.replications),
            format!("{:?}", read.replications),
            "{sweep}"
        );
        assert_eq!(held.timeseries, read.timeseries, "{sweep}");
        let rows = |w: &slotsim::report::input::Waits| w.rows().collect::<Vec<_>>();
        assert_eq!(rows(&held.waits), rows(&read.waits), "{sweep}");
    }
}

/// A sweep of more settings than the trade-off chart can label readably labels at most
/// `MAX_LABELS` of them (the recommended one, the ends of the range that meets the targets
/// and of the line, evenly spaced ones), and the caption says so; a small sweep labels all.
#[test]
fn a_large_sweep_labels_some_points_of_the_tradeoff_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    write_fixture(out, &two_hundred_points());
    let outcome = render(out).unwrap();
    check_outputs(out);
    let Recommendation::Recommended { best, meeting, .. } = &outcome.recommendation else {
        panic!(
            "expected a recommendation, got {:?}",
            outcome.recommendation
        );
    };
    let t = svg(out, "tradeoff");
    let labels: Vec<&str> = t
        .split("</text>")
        .filter_map(|p| p.rsplit('>').next())
        .map(str::trim)
        .collect();
    // A point's label is its value, or `reserved=value` for a line's first point.
    let has = |v: f64| {
        let v = format!("{v}");
        labels
            .iter()
            .any(|l| *l == v || *l == format!("reserved={v}"))
    };
    let labelled = (0..200).filter(|&p| has(p as f64 / 20.0)).count();
    assert!((20..=40).contains(&labelled), "{labelled} point labels");
    let x = |p: usize| p as f64 / 20.0;
    assert!(has(0.0) && has(x(199)), "the ends of the line");
    assert!(has(x(best.point)), "the recommended setting");
    assert!(has(x(meeting[0].point)) && has(x(meeting[meeting.len() - 1].point)));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("With 200 settings,"),
        "the caption says which are labelled"
    );

    // Ten settings: every one labelled, no such caption.
    let small = tempfile::tempdir().unwrap();
    write_fixture(small.path(), &ten_points_none_meets());
    render(small.path()).unwrap();
    let t = svg(small.path(), "tradeoff");
    let labels: Vec<&str> = t
        .split("</text>")
        .filter_map(|p| p.rsplit('>').next())
        .map(str::trim)
        .collect();
    for r in 1..10 {
        assert!(labels.contains(&format!("{r}").as_str()), "label {r}");
    }
    let html = std::fs::read_to_string(small.path().join("report.html")).unwrap();
    assert!(!html.contains(" settings, "), "no caption about labels");
}
