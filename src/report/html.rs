//! `report.html`: one self-contained page (inline SVG charts, inline CSS, no script, no
//! network). All text that comes from the input files is escaped.

use std::fmt::Write as _;

use super::input::{fmt_num, fmt_param, is_on_off, push_num, push_param, trim_fraction, RunData};
use crate::charts::RenderedChart;
use crate::recommend::{fmt_pct, push_pct, Recommendation};

const CSS: &str = "
body{font-family:'DejaVu Sans',system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;
  color:#222;max-width:1180px;margin:0 auto;padding:24px;line-height:1.45;background:#fff}
h1{font-size:1.7em;margin:0 0 4px}h2{margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#666}.ci{color:#666;font-size:.85em;font-weight:normal}
.rec{border-left:6px solid #2e8b3e;background:#f2f9f3;padding:12px 18px;margin:18px 0}
.rec.warn{border-color:#d08a00;background:#fdf6e6}.rec.info{border-color:#4e79a7;background:#f1f5fa}
.rec .head{font-size:1.2em;font-weight:bold;margin:0 0 6px}
table{border-collapse:collapse;font-size:.86em;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#f4f4f4;white-space:normal;vertical-align:bottom}td.l,th.l{text-align:left;white-space:normal}td.note{min-width:9em}
tr.featured td{background:#f2f9f3;font-weight:bold}tr.baseline td:first-child{border-left:4px solid #4e79a7}
.scroll{overflow-x:auto}
figure{margin:28px 0}figure svg{width:100%;height:auto;border:1px solid #eee}
figcaption{color:#444;margin-top:6px}
pre{background:#f7f7f7;padding:10px;overflow-x:auto;font-size:.9em}
";

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// [`escape`], appended to `out`: text without any character to escape (most numbers and
/// words of a table) is copied at once.
fn escape_into(out: &mut String, s: &str) {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// A number with about three significant digits.
fn fmt_sig(v: f64) -> String {
    let mut s = String::new();
    push_sig(&mut s, v);
    s
}

/// [`fmt_sig`], appended to `out`.
fn push_sig(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("n/a");
        return;
    }
    if v == 0.0 {
        out.push('0');
        return;
    }
    let a = v.abs();
    let d = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        ((-a.log10()).floor() as usize + 3).min(8)
    };
    let start = out.len();
    // The same bytes as `{v:.d$}` (see `push_fixed`), without the formatter's exact path.
    crate::recommend::push_fixed(out, v, d);
    trim_fraction(out, start);
}

/// `6h`, `30m`, `90s`.
fn fmt_duration(s: f64) -> String {
    if !s.is_finite() {
        return "unknown".to_string();
    }
    if s >= 3600.0 && (s / 3600.0).fract() == 0.0 {
        format!("{}h", s / 3600.0)
    } else if s >= 60.0 && (s / 60.0).fract() == 0.0 {
        format!("{}m", s / 60.0)
    } else {
        format!("{}s", fmt_sig(s))
    }
}

fn or_unknown(s: &str) -> String {
    if s.is_empty() {
        "unknown".to_string()
    } else {
        escape(s)
    }
}

/// Builds the page.
pub fn page(data: &RunData, rec: &Recommendation, charts: &[RenderedChart]) -> String {
    let mut bytes = Vec::new();
    write_page(&mut bytes, data, rec, charts).expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the page is built from strings")
}

/// [`page`], written to `out` part by part: the summary table and each chart are passed
/// on as soon as they are made, so a sweep of many points never holds the whole page.
pub fn write_page(
    out: &mut dyn std::io::Write,
    data: &RunData,
    rec: &Recommendation,
    charts: &[RenderedChart],
) -> std::io::Result<()> {
    write_page_after(out, &page_head(data, rec), data, charts)
}

/// The page up to and including the summary table: what does not need the charts, so
/// that a caller can make it while they are drawn.
pub fn page_head(data: &RunData, rec: &Recommendation) -> String {
    page_head_of(data, rec, &data.point_summaries())
}

/// [`page_head`] for a caller that holds `data`'s point summaries already (the
/// recommendation is made from them).
pub fn page_head_of(
    data: &RunData,
    rec: &Recommendation,
    summaries: &[crate::recommend::PointSummary],
) -> String {
    let run = &data.run;
    let name = if run.scenario_name.is_empty() {
        "unnamed scenario".to_string()
    } else {
        run.scenario_name.clone()
    };
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>slotsim report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(&name)
    );
    let _ = writeln!(h, "<h1>slotsim report: {}</h1>", escape(&name));
    if !run.scenario_description.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"muted\">{}</p>",
            escape(&run.scenario_description)
        );
    }

    // Scenario in words.
    h.push_str("<h2>Scenario</h2>\n");
    if run.scenario_words.is_empty() {
        h.push_str("<p class=\"muted\">run.json does not describe the scenario in words.</p>\n");
    } else {
        let _ = writeln!(h, "<p>{}</p>", escape(&run.scenario_words));
    }
    let _ = writeln!(
        h,
        "<p>Sweep: {} point{} over {}. Targets: {}.</p>",
        data.summary.points.len(),
        if data.summary.points.len() == 1 {
            ""
        } else {
            "s"
        },
        escape(&data.summary.parameters.join(" × ")),
        targets_words(data)
    );

    // Recommendation.
    let class = match rec {
        Recommendation::Recommended { .. } => "rec",
        Recommendation::NoneMeets { .. } => "rec warn",
        _ => "rec info",
    };
    let _ = writeln!(
        h,
        "<h2>Recommendation</h2>\n<div class=\"{class}\"><p class=\"head\">{}</p><p>{}</p></div>",
        escape(&rec.headline()),
        escape(&rec.text())
    );

    if !run.warnings.is_empty() {
        h.push_str("<div class=\"rec warn\"><p class=\"head\">Warnings</p><ul>\n");
        for w in &run.warnings {
            let _ = writeln!(h, "<li>{}</li>", escape(w));
        }
        h.push_str("</ul></div>\n");
    }

    summary_table(&mut h, data, rec, summaries);
    h
}

/// The rest of the page after [`page_head`]'s `head`, written to `out` part by part: each
/// chart is passed on as it comes, so a sweep of many points never holds the whole page.
pub fn write_page_after(
    out: &mut dyn std::io::Write,
    head: &str,
    data: &RunData,
    charts: &[RenderedChart],
) -> std::io::Result<()> {
    out.write_all(head.as_bytes())?;
    let mut h = String::new();

    // Charts.
    h.push_str("<h2>Charts</h2>\n");
    for c in charts {
        let svg = c
            .svg_text
            .find("<svg")
            .map_or(c.svg_text.as_str(), |i| &c.svg_text[i..]);
        // The chart draws its own title; the figure carries it for screen readers.
        let _ = writeln!(
            h,
            "<figure id=\"{stem}\" aria-label=\"{}\">",
            escape(&c.title),
            stem = c.stem,
        );
        out.write_all(h.as_bytes())?;
        h.clear();
        out.write_all(svg.as_bytes())?;
        let _ = writeln!(
            h,
            "\n<figcaption>{} \
             <a href=\"charts/{stem}.png\">PNG</a> · <a href=\"charts/{stem}.svg\">SVG</a>\
             </figcaption>\n</figure>",
            escape(&c.caption),
            stem = c.stem,
        );
    }

    provenance(&mut h, data);
    h.push_str("</body>\n</html>\n");
    out.write_all(h.as_bytes())
}

fn targets_words(data: &RunData) -> String {
    let t = &data.run.targets;
    if t.any() {
        escape(&crate::recommend::describe_targets(t))
    } else {
        "none set".to_string()
    }
}

fn summary_table(
    h: &mut String,
    data: &RunData,
    rec: &Recommendation,
    summaries: &[crate::recommend::PointSummary],
) {
    let s = &data.summary;
    let targets = data.run.targets;
    let featured = rec.featured_point();
    h.push_str("<h2>Summary</h2>\n<div class=\"scroll\"><table>\n<tr><th>point</th>");
    for p in &s.parameters {
        let _ = write!(h, "<th>{}</th>", escape(p));
    }
    // Whether the points' replications read differently (the same bits read the same).
    let reps_vary = s.points.windows(2).any(|w| {
        w[0].replications.to_bits() != w[1].replications.to_bits()
            && fmt_num(w[0].replications) != fmt_num(w[1].replications)
    });
    if reps_vary {
        h.push_str("<th>replications</th>");
    }
    h.push_str(
        "<th>new-session rejection</th><th>continuity failure</th>\
         <th>CI upper</th><th>by migration</th><th>by rejection</th><th>throughput (req/s)</th>\
         <th>slot utilisation</th><th>wait p95 (s)</th><th>sessions intact</th>",
    );
    let costs_vary = summaries
        .windows(2)
        .any(|w| w[0].cost.to_bits() != w[1].cost.to_bits());
    if costs_vary {
        let _ = write!(
            h,
            "<th>{}</th>",
            if targets.priced { "price" } else { "slots" }
        );
    }
    if targets.any() {
        h.push_str("<th>targets (95%)</th>");
    }
    h.push_str("<th class=\"l\">note</th></tr>\n");
    // A row per point, each cell written straight into the page (a sweep of many points
    // has thousands): no string of its own per cell, number or row.
    let on_off: Vec<bool> = s.parameters.iter().map(|n| is_on_off(n)).collect();
    let featured_word = match rec {
        Recommendation::Recommended { .. } => "recommended",
        Recommendation::NoneMeets { .. } => "closest to targets",
        _ => "fewest continuity failures",
    };
    let at = |m: &str| super::input::metric_index(m).expect("a summary metric");
    let (nsr, cf, migr, bound_rej, thr, util, p95, intact) = (
        at("new_session_rejection_rate"),
        at("continuity_failure_rate"),
        at("migration_rate"),
        at("bound_rejection_rate"),
        at("throughput_rps"),
        at("slot_utilization"),
        at("wait_p95_s"),
        at("sessions_intact_rate"),
    );
    for (p, ps) in s.points.iter().zip(summaries) {
        let is_featured = Some(p.point) == featured;
        let is_baseline = p.point == data.run.baseline_point;
        h.push_str(match (is_featured, is_baseline) {
            (true, true) => "<tr class=\"featured baseline\"><td>",
            (true, false) => "<tr class=\"featured\"><td>",
            (false, true) => "<tr class=\"baseline\"><td>",
            (false, false) => "<tr class=\"\"><td>",
        });
        push_point_and_params(h, p.point, &on_off, &p.params);
        if reps_vary {
            h.push_str("<td>");
            push_num(h, p.replications);
            h.push_str("</td>");
        }
        let pct = |h: &mut String, i: usize| {
            let (mean, ci) = p.at(i);
            push_cell(h, mean, ci, push_pct)
        };
        let num = |h: &mut String, i: usize| {
            let (mean, ci) = p.at(i);
            push_cell(h, mean, ci, push_sig)
        };
        pct(h, nsr);
        pct(h, cf);
        h.push_str("<td>");
        push_pct(h, ps.continuity_upper());
        h.push_str("</td>");
        pct(h, migr);
        pct(h, bound_rej);
        num(h, thr);
        pct(h, util);
        num(h, p95);
        pct(h, intact);
        if costs_vary {
            h.push_str("<td>");
            push_sig(h, ps.cost);
            h.push_str("</td>");
        }
        if targets.any() {
            h.push_str("<td>");
            h.push_str(ps.verdict(&targets).word());
            h.push_str("</td>");
        }
        h.push_str("<td class=\"l note\">");
        if is_baseline {
            h.push_str("baseline");
        }
        if is_featured {
            if is_baseline {
                h.push_str(", ");
            }
            h.push_str(featured_word);
        }
        h.push_str("</td></tr>\n");
    }
    let reps_note = if reps_vary {
        String::new()
    } else {
        let first = s.points.first().map(|p| fmt_num(p.replications));
        format!(
            " Every point ran {} replication{}.",
            first.as_deref().unwrap_or("?"),
            if first.as_deref() == Some("1") {
                ""
            } else {
                "s"
            }
        )
    };
    h.push_str(
        "</table></div>\n<p class=\"muted\">Rates are means over replications; ± is the \
         half-width of the 95% confidence interval (Student t), “?” when unknown (a single \
         replication). “CI upper” is mean + half-width of the continuity failure rate, the \
         number the recommendation compares with its target.",
    );
    h.push_str(&escape(&reps_note));
    if targets.any() {
        h.push_str(
            " “targets (95%)”: meets when the whole 95% interval is within every target, \
             fails when it is wholly beyond one, undecided when it straddles one.",
        );
    }
    h.push_str("</p>\n");
    causes_table(h, data);
    cache_table(h, data);
    migration_causes_table(h, data, featured);
}

/// Continuity failures split by what caused them, when anything but capacity did (upstream
/// faults or account limits): the share a reserve can act on at all.
fn migration_causes_table(h: &mut String, data: &RunData, featured: Option<usize>) {
    let s = &data.summary;
    let other = |p: &super::input::SummaryPoint| {
        let f = p.mean("migration_rate_fault") + p.mean("migration_rate_limit");
        f.is_finite() && f > 0.0
    };
    if !s.points.iter().any(other) {
        return;
    }
    h.push_str(
        "<h3>Continuity failures by cause</h3>\n<div class=\"scroll\"><table>\n<tr><th>point</th>",
    );
    for p in &s.parameters {
        let _ = write!(h, "<th>{}</th>", escape(p));
    }
    h.push_str(
        "<th>continuity failure</th><th>migration: capacity</th><th>migration: fault</th>\
         <th>migration: limit</th><th>rejection</th><th>share a reserve can prevent</th></tr>\n",
    );
    for p in &s.points {
        h.push_str("<tr><td>");
        push_point(h, p.point);
        h.push_str("</td>");
        for (n, v) in s.parameters.iter().zip(&p.params) {
            let _ = write!(h, "<td>{}</td>", escape(&fmt_param(n, *v)));
        }
        let pct = |m: &str| cell(&fmt_pct(p.mean(m)), &ci_text(p.ci(m), fmt_pct));
        for m in [
            "continuity_failure_rate",
            "migration_rate_capacity",
            "migration_rate_fault",
            "migration_rate_limit",
            "bound_rejection_rate",
        ] {
            let _ = write!(h, "<td>{}</td>", pct(m));
        }
        let total = p.mean("continuity_failure_rate");
        let share = if total > 0.0 {
            p.mean("migration_rate_capacity") / total
        } else {
            0.0
        };
        let _ = writeln!(h, "<td>{}</td></tr>", escape(&fmt_pct(share)));
    }
    h.push_str("</table></div>\n");
    if let Some(p) = featured.and_then(|f| s.by_point(f)) {
        let total = p.mean("continuity_failure_rate");
        if total > 0.0 {
            let share = |m: &str| escape(&fmt_pct(p.mean(m) / total));
            let _ = writeln!(
                h,
                "<p>At point {}, {} of continuity failures are migrations from a full account \
                 (capacity), {} migrations from an account that was cooling down, in error, \
                 paused by its usage window or failed the request (fault), {} migrations refused \
                 by a session or RPM limit (limit), and {} rejections.</p>",
                p.point,
                share("migration_rate_capacity"),
                share("migration_rate_fault"),
                share("migration_rate_limit"),
                share("bound_rejection_rate"),
            );
        }
    }
    h.push_str(
        "<p class=\"muted\">Each column is a share of bound requests (mean ± 95% half-width). \
         A migration's cause is why the request left its bound account: capacity (the account \
         was full and its wait queue full, or sticky waiting is off), fault, or limit. Only \
         capacity migrations can be prevented by reserved_concurrency; the last column is their \
         share of all continuity failures.</p>\n",
    );
}

/// Cache moves and their cost per point, from `summary.csv` (nothing when no point had a
/// cache move).
fn cache_table(h: &mut String, data: &RunData) {
    let s = &data.summary;
    if !s.points.iter().any(|p| p.mean("cache_moves") > 0.0) {
        return;
    }
    h.push_str(
        "<h3>Cache moves and their cost</h3>\n<div class=\"scroll\"><table>\n<tr><th>point</th>",
    );
    for p in &s.parameters {
        let _ = write!(h, "<th>{}</th>", escape(p));
    }
    const COLUMNS: [(&str, &str); 5] = [
        ("cache_moves", "cache moves"),
        ("cache_move_tokens", "tokens re-written"),
        ("cache_move_cost_usd", "cost (USD)"),
        (
            "cache_move_cost_usd_per_1k_requests",
            "USD per 1,000 requests",
        ),
        ("cache_move_cost_usd_per_hour", "USD per hour"),
    ];
    for (_, words) in COLUMNS {
        let _ = write!(h, "<th>{words}</th>");
    }
    h.push_str("</tr>\n");
    for p in &s.points {
        h.push_str("<tr><td>");
        push_point(h, p.point);
        h.push_str("</td>");
        for v in &p.params {
            let _ = write!(h, "<td>{}</td>", fmt_num(*v));
        }
        for (m, _) in COLUMNS {
            let (mean, ci) = (p.mean(m), p.ci(m));
            if ci.is_nan() {
                let _ = write!(h, "<td>{}</td>", fmt_num(mean));
            } else {
                let _ = write!(h, "<td>{} ± {}</td>", fmt_num(mean), fmt_num(ci));
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str(
        "</table></div>\n<p class=\"muted\">A cache move is a completed request served on an \
         account holding no warm copy of its session's prompt cache while a copy was warm \
         elsewhere (the session's previous request completed within the cache TTL): the whole \
         context is written again. Its cost is the context's tokens x (cache write multiplier - \
         cache read multiplier) x the input price; means per replication's measured window, \
         ± the 95% half-width across replications. A return to an account whose copy is still \
         warm is not a move.</p>\n",
    );
}

/// Rejected requests by cause, from `replications.csv` (nothing when it is absent or no
/// request was rejected).
fn causes_table(h: &mut String, data: &RunData) {
    use super::input::REJECTION_CAUSES;
    let s = &data.summary;
    let causes = data.rejections_by_cause_all();
    let rows: Vec<(&super::input::SummaryPoint, [f64; 5])> = s
        .points
        .iter()
        .filter_map(|p| causes.get(&p.point).map(|c| (p, *c)))
        .collect();
    if rows.is_empty()
        || rows
            .iter()
            .all(|(_, c)| c.iter().all(|x| *x == 0.0 || x.is_nan()))
    {
        return;
    }
    h.push_str(
        "<h3>Rejected requests by cause</h3>\n<div class=\"scroll\"><table>\n<tr><th>point</th>",
    );
    for p in &s.parameters {
        let _ = write!(h, "<th>{}</th>", escape(p));
    }
    for (_, words) in REJECTION_CAUSES {
        let _ = write!(h, "<th>{words}</th>");
    }
    h.push_str("</tr>\n");
    let on_off: Vec<bool> = s.parameters.iter().map(|n| is_on_off(n)).collect();
    for (p, c) in rows {
        h.push_str("<tr><td>");
        push_point_and_params(h, p.point, &on_off, &p.params);
        let total: f64 = c.iter().filter(|x| !x.is_nan()).sum();
        for x in c {
            let share = if total > 0.0 { x / total } else { 0.0 };
            push_cause_cell(h, x, share);
        }
        h.push_str("</tr>\n");
    }
    h.push_str(
        "</table></div>\n<p class=\"muted\">Rejected requests (attempts) of all replications \
         by cause, with each cause's share of the point's rejections. “user gate”: the \
         per-user concurrency limit; “queue full”: an account's wait queue was full; “wait \
         timeout”: a slot wait timed out; “no account”: no account could take new sessions \
         (503); “failover exhausted”: attempts failed upstream and no account was left to \
         try, or max_account_switches was used up. Only rejections the reserve acts on (queue full, wait timeout, no account) \
         can change with reserved.</p>\n",
    );
}

/// `± half-width` (two significant digits), or `± ?` when unknown.
fn ci_text(ci: f64, fmt: fn(f64) -> String) -> String {
    if ci.is_nan() {
        "± ?".to_string()
    } else {
        format!("± {}", fmt(round_sig2(ci)))
    }
}

/// A summary table's cell of a metric's mean and [`ci_text`], each written by `push`
/// (`push_pct` or `push_sig`): the text of `<td>` + [`cell`] + `</td>`, written straight
/// into the page. Neither number's text has a character to escape (digits, sign, point,
/// `%`, `n/a`, `?`, `inf`).
/// A point's number, as `{}` writes it, in place (a sweep's tables write one per point).
fn push_point(h: &mut String, point: usize) {
    crate::recommend::push_u64(h, point as u64, 1, 0);
}

/// A row's point cell and its parameters' cells, after the row's opening `<td>`. Numbers
/// and true/false have nothing to escape: they are written in place.
fn push_point_and_params(h: &mut String, point: usize, on_off: &[bool], params: &[f64]) {
    push_point(h, point);
    h.push_str("</td>");
    for (&on_off, v) in on_off.iter().zip(params) {
        h.push_str("<td>");
        push_param(h, on_off, *v);
        h.push_str("</td>");
    }
}

/// A rejected-requests-by-cause cell: the count and its share of the point's rejections,
/// `<td>12 (3.4%)</td>`, in place (a sweep writes five per point).
fn push_cause_cell(h: &mut String, count: f64, share: f64) {
    h.push_str("<td>");
    push_num(h, count);
    h.push_str(" (");
    push_pct(h, share);
    h.push_str(")</td>");
}

fn push_cell(h: &mut String, mean: f64, ci: f64, push: fn(&mut String, f64)) {
    h.push_str("<td>");
    push(h, mean);
    h.push_str("<br><span class=\"ci\">± ");
    if ci.is_nan() {
        h.push('?');
    } else {
        push(h, round_sig2(ci));
    }
    h.push_str("</span></td>");
}

fn round_sig2(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let e = v.abs().log10().floor() as i32;
    let f = 10f64.powi(1 - e);
    (v * f).round() / f
}

/// A table cell: the mean, and the CI half-width in small type below it.
fn cell(mean: &str, ci: &str) -> String {
    format!(
        "{}<br><span class=\"ci\">{}</span>",
        escape(mean),
        escape(ci)
    )
}

fn provenance(h: &mut String, data: &RunData) {
    let r = &data.run;
    let opt = |v: Option<u64>| v.map_or("unknown".to_string(), |v| v.to_string());
    let rows: Vec<(&str, String)> = vec![
        ("slotsim version", or_unknown(&r.slotsim_version)),
        ("scenario file", or_unknown(&r.scenario_path)),
        ("scenario SHA-256", or_unknown(&r.scenario_sha256)),
        ("seed", opt(r.seed)),
        ("horizon", escape(&fmt_duration(r.horizon_s))),
        ("warm-up", escape(&fmt_duration(r.warmup_s))),
        (
            "replications per point",
            r.replications_words()
                .unwrap_or_else(|| "unknown".to_string()),
        ),
        (
            "command-line overrides",
            if r.overrides.is_empty() {
                "none".to_string()
            } else {
                escape(&r.overrides.join(" "))
            },
        ),
        (
            "sweep",
            escape(&format!(
                "{} ({} points)",
                data.summary.parameters.join(" × "),
                data.summary.points.len()
            )),
        ),
        ("targets", targets_words(data)),
        ("threads", opt(r.threads)),
        (
            "wall time",
            if r.wall_time_s.is_finite() {
                format!("{} s", fmt_sig(r.wall_time_s))
            } else {
                "unknown".to_string()
            },
        ),
        ("events simulated", opt(r.events_simulated)),
    ];
    h.push_str("<h2>Provenance</h2>\n<table>\n");
    for (k, v) in rows {
        let _ = writeln!(
            h,
            "<tr><th class=\"l\">{k}</th><td class=\"l\">{v}</td></tr>"
        );
    }
    h.push_str(
        "</table>\n<p class=\"muted\">Results depend only on the scenario file, the seed and the command-line overrides listed; \
         threads and wall time describe the machine that ran them. <code>slotsim report</code> redraws \
         this page from the CSV files of the output folder.</p>\n",
    );
    if !r.scenario_toml.is_empty() {
        let _ = writeln!(
            h,
            "<details><summary>Scenario file</summary><pre>{}</pre></details>",
            escape(&r.scenario_toml)
        );
    }
}

/// The page `slotsim plan` writes: the answer, every candidate evaluated, the chart.
pub fn plan_page(
    name: &str,
    words: &str,
    answer: &str,
    o: &crate::plan::PlanOutcome,
    targets: &crate::recommend::Targets,
    chart: &RenderedChart,
) -> String {
    use crate::plan::Search;
    let mut h = String::with_capacity(32 * 1024 + chart.svg_text.len());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>slotsim plan: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(name)
    );
    let _ = writeln!(h, "<h1>slotsim plan: {}</h1>", escape(name));
    let _ = writeln!(h, "<h2>Scenario</h2>\n<p>{}</p>", escape(words));
    let class = if o.answer.is_some() {
        "rec"
    } else {
        "rec warn"
    };
    let _ = writeln!(
        h,
        "<h2>Plan</h2>\n<div class=\"{class}\"><p class=\"head\">{}</p><p>{}</p></div>",
        match (o.search, o.answer) {
            (Search::Accounts, Some(a)) => format!(
                "Smallest pool: {} accounts of {}",
                o.candidates[a].accounts,
                escape(&o.pool)
            ),
            (Search::Load, Some(a)) => format!("Largest load: x{}", o.candidates[a].load),
            _ => "No candidate in the searched range meets the targets".to_string(),
        },
        escape(answer)
    );
    h.push_str("<h3>Every candidate evaluated</h3>\n<div class=\"scroll\"><table>\n<tr>");
    let x_name = match o.search {
        Search::Accounts => "accounts",
        Search::Load => "load",
    };
    let _ = writeln!(
        h,
        "<th>{x_name}</th><th>reserved</th><th>replications</th><th>new-session rejection</th>\
         <th>continuity failure</th><th>targets (95%)</th><th class=\"l\">note</th></tr>"
    );
    for (ci, c) in o.candidates.iter().enumerate() {
        let best = c.recommendation.featured_point();
        for (i, (r, p)) in c.points.iter().enumerate() {
            let x = match o.search {
                Search::Accounts => c.accounts.to_string(),
                Search::Load => format!("x{}", c.load),
            };
            let mut note = Vec::new();
            if best == Some(i) {
                note.push(if c.feasible() {
                    "chosen here"
                } else {
                    "closest here"
                });
            }
            if o.answer == Some(ci) && best == Some(i) {
                note.push("answer");
            }
            let class = if o.answer == Some(ci) && best == Some(i) {
                " class=\"featured\""
            } else {
                ""
            };
            let _ = writeln!(
                h,
                "<tr{class}><td>{x}</td><td>{r}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l note\">{}</td></tr>",
                p.replications,
                escape(&crate::recommend::fmt_pct_ci(
                    p.new_session_rejection_rate,
                    p.new_session_rejection_rate_ci95
                )),
                escape(&crate::recommend::fmt_pct_ci(
                    p.continuity_failure_rate,
                    p.continuity_failure_rate_ci95
                )),
                p.verdict(targets).word(),
                note.join(", ")
            );
        }
    }
    h.push_str("</table></div>\n");
    let svg = chart
        .svg_text
        .find("<svg")
        .map_or(chart.svg_text.as_str(), |i| &chart.svg_text[i..]);
    let _ = writeln!(
        h,
        "<figure id=\"{stem}\" aria-label=\"{}\">\n{svg}\n<figcaption>{} \
         <a href=\"charts/{stem}.png\">PNG</a> · <a href=\"charts/{stem}.svg\">SVG</a>\
         </figcaption>\n</figure>",
        escape(&chart.title),
        escape(&chart.caption),
        stem = chart.stem,
    );
    h.push_str("</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn number_formats() {
        assert_eq!(fmt_sig(12.345), "12.3");
        assert_eq!(fmt_sig(0.01234), "0.0123");
        assert_eq!(fmt_sig(150.2), "150");
        assert_eq!(ci_text(f64::NAN, fmt_sig), "± ?");
        assert_eq!(ci_text(0.01634, fmt_sig), "± 0.016");
        assert_eq!(ci_text(0.00552, fmt_pct), "± 0.55%");
        assert_eq!(fmt_duration(21600.0), "6h");
        assert_eq!(fmt_duration(1800.0), "30m");
        assert_eq!(fmt_duration(45.0), "45s");
    }

    /// The number texts as strings of their own were made before they were written in
    /// place: the reference for the test below.
    fn old_pct(x: f64) -> String {
        if x.is_nan() {
            return "n/a".to_string();
        }
        let p = x * 100.0;
        if p == 0.0 {
            return "0%".to_string();
        }
        let a = p.abs();
        let decimals = if a >= 10.0 {
            1
        } else if a >= 1.0 {
            2
        } else {
            ((-a.log10()).floor() as i32 + 3).clamp(3, 6) as usize
        };
        let s = format!("{p:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            &s
        };
        format!("{s}%")
    }

    fn old_sig(v: f64) -> String {
        if !v.is_finite() {
            return "n/a".to_string();
        }
        if v == 0.0 {
            return "0".to_string();
        }
        let a = v.abs();
        let d = if a >= 100.0 {
            0
        } else if a >= 10.0 {
            1
        } else if a >= 1.0 {
            2
        } else {
            ((-a.log10()).floor() as usize + 3).min(8)
        };
        let s = format!("{v:.d$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }

    fn old_num(v: f64) -> String {
        if v.is_nan() {
            return "?".to_string();
        }
        if v == v.trunc() && v.abs() < 1e15 {
            format!("{}", v as i64)
        } else {
            let s = format!("{v:.4}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }

    /// Numbers of every size and sign, whole numbers, zero, NaN and infinities: a summary
    /// cell written straight into the page is the text the strings of its numbers made,
    /// escaped; so are a number and a parameter's value.
    #[test]
    fn cells_written_in_place_are_the_escaped_strings() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(4);
        let mut xs = vec![0.0, -0.0, 1.0, 0.5, 1e15, 1e20, -3.0, f64::NAN];
        xs.extend([1e15 - 1.0, -(1e15 - 1.0), 9999.0, 10_000.0, -1.0]);
        xs.extend([f64::INFINITY, f64::NEG_INFINITY, 0.0]);
        for k in 0..20_000 {
            let scale = 10f64.powi(rng.random_range(-9..17));
            let x = rng.random_range(-1.0..1.0) * scale;
            xs.push(if k % 5 == 0 { x.round() } else { x });
        }
        type Old = fn(f64) -> String;
        type Push = fn(&mut String, f64);
        let fmts: [(Old, Push); 2] = [(old_pct, push_pct), (old_sig, push_sig)];
        for w in xs.windows(2) {
            let (mean, ci) = (w[0], w[1].abs());
            for (old, push) in fmts {
                let ci_words = if ci.is_nan() {
                    "± ?".to_string()
                } else {
                    format!("± {}", old(round_sig2(ci)))
                };
                let want = format!(
                    "<td>{}<br><span class=\"ci\">{}</span></td>",
                    escape(&old(mean)),
                    escape(&ci_words)
                );
                let mut got = String::from("before");
                push_cell(&mut got, mean, ci, push);
                assert_eq!(got, format!("before{want}"), "{mean:e} ± {ci:e}");
            }
            let mut got = String::from("x");
            push_num(&mut got, mean);
            assert_eq!(got, format!("x{}", escape(&old_num(mean))), "{mean:e}");
            let mut got = String::from("x");
            push_cause_cell(&mut got, mean, ci);
            let want = format!("<td>{} ({})</td>", old_num(mean), escape(&old_pct(ci)));
            assert_eq!(got, format!("x{want}"), "{mean:e} {ci:e}");
        }
        for _ in 0..10_000 {
            let digits = rng.random_range(1..19);
            let point = rng.random_range(0..10usize.pow(digits));
            let mut got = String::from("x");
            push_point(&mut got, point);
            assert_eq!(got, format!("x{point}"));
        }
        for v in [0.0, 1.0, 0.5, 2.0, f64::NAN] {
            for name in ["sticky_wait", "spillover_rebinds", "reserved"] {
                let setting = name != "reserved" && (v == 0.0 || v == 1.0);
                let want = if setting {
                    (v == 1.0).to_string()
                } else {
                    old_num(v)
                };
                let mut got = String::new();
                push_param(&mut got, is_on_off(name), v);
                assert_eq!(got, want, "{name} {v}");
            }
        }
    }
}
