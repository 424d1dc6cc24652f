//! Reads criterion's results and prints medians, allocations and the ratio of
//! each dozen benchmark to each peer in its group; fails when a ratio is worse
//! than its committed baseline by more than the margin.
//!
//! Run with: `cargo run -p dozen-benches --bin bench-report -- [--update-docs FILE]`
//! after `cargo bench -p dozen-benches` (benches/ci.sh does both). With
//! `--update-docs docs/benchmarks.md` it also draws the ratios into
//! `docs/benchmarks.svg`; `--chart-from-docs docs/benchmarks.md` draws that
//! chart again from the table already in the file, without criterion's results.
//!
//! Why ratios: the machines are shared and noisy, and wall-clock medians move by
//! up to 1.6x between runs. The ratio of two benchmarks measured in the same
//! group, on the same input, minutes apart, cancels most of that drift; what is
//! left is judged against `benches/baseline.txt` with [`MARGIN`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Deserialize;

mod chart;

use chart::Bar;

/// A ratio may be this many times its baseline before the run fails.
///
/// Each baseline in `benches/baseline.txt` is the worst ratio seen over several
/// runs of the CI short mode on the shared 2-core machines, under the load of
/// parallel builds. Between such runs a ratio moved by up to ±40% (the `url`
/// and `migrate` groups, whose peers touch the file system or a database
/// server) and by under ±10% for pure CPU work (`log`). 1.5 times the worst
/// seen therefore does not fail on noise, while a change that makes a dozen
/// crate half again as slow against its peer does fail.
const MARGIN: f64 = 1.5;

/// Groups whose wall-clock ratios are reported but not gated: they are CPU-bound, and
/// `benches/icount.sh` gates them on instruction counts, which repeat run to run, with a 5 %
/// margin instead of this one.
const COUNTED: &[&str] = &["log", "log-pretty", "request", "url", "config"];

/// Where the table lives in the docs.
const START: &str = "<!-- bench-table:start -->";
const END: &str = "<!-- bench-table:end -->";
/// The chart's title.
const TITLE: &str = "dozen against its peers: time ratios per benchmark group";

#[derive(Deserialize)]
struct BenchmarkId {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    /// Criterion's `Throughput`, of which the report shows `{"Elements": n}`.
    throughput: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

/// One benchmark's result: median nanoseconds per iteration, allocations per op, and
/// the elements one iteration handles when there are more than one (jobs in a round).
struct Row {
    median_ns: f64,
    allocations: Option<f64>,
    elements: Option<u64>,
}

/// A committed baseline: `group dozen-id peer-id ratio`.
struct Baseline {
    group: String,
    ours: String,
    peer: String,
    ratio: f64,
}

fn main() -> ExitCode {
    let mut update_docs: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--update-docs" => match args.next() {
                Some(path) => update_docs = Some(path.into()),
                None => return usage("--update-docs needs a file"),
            },
            "--chart-from-docs" => {
                return match args.next() {
                    Some(path) => chart_from_docs(Path::new(&path)),
                    None => usage("--chart-from-docs needs a file"),
                };
            }
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    let home = criterion_home();
    let results = match read_results(&home) {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => {
            eprintln!(
                "error: no criterion results under {}: run the benchmarks first",
                home.display()
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!(
                "error: cannot read criterion results under {}: {e}",
                home.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let baseline_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("baseline.txt");
    let baselines = match read_baselines(&baseline_path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {}: {e}", baseline_path.display());
            return ExitCode::FAILURE;
        }
    };
    let (table, bars, failures) = render(&results, &baselines);
    if let Some(path) = update_docs {
        if let Err(e) = splice(&path, &table) {
            eprintln!("error: cannot update {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("updated {}", path.display());
        if let Err(code) = write_chart(&path, &bars) {
            return code;
        }
    }
    print!("{table}");
    if failures.is_empty() {
        println!("\nbench-report: every ratio is within {MARGIN}x of its baseline");
        ExitCode::SUCCESS
    } else {
        println!(
            "\nbench-report: {} ratio(s) regressed beyond {MARGIN}x of baseline:",
            failures.len()
        );
        for f in &failures {
            println!("- {f}");
        }
        ExitCode::FAILURE
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "error: {problem}\nusage: bench-report [--update-docs FILE | --chart-from-docs FILE]"
    );
    ExitCode::from(2)
}

/// Writes the chart of `bars` next to the docs file `docs`, as `docs` with `.svg`.
fn write_chart(docs: &Path, bars: &[Bar]) -> Result<(), ExitCode> {
    let path = docs.with_extension("svg");
    if let Err(e) = std::fs::write(&path, chart::svg(TITLE, bars)) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return Err(ExitCode::FAILURE);
    }
    println!("wrote {} ({} ratios)", path.display(), bars.len());
    Ok(())
}

/// Draws the chart from the ratio table between the markers of `docs`.
fn chart_from_docs(docs: &Path) -> ExitCode {
    let text = match std::fs::read_to_string(docs) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", docs.display());
            return ExitCode::FAILURE;
        }
    };
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        eprintln!(
            "error: {}: the markers {START} and {END} are missing",
            docs.display()
        );
        return ExitCode::FAILURE;
    };
    let bars = bars_from_table(&text[start..end]);
    if bars.is_empty() {
        eprintln!(
            "error: {}: no ratio table between the markers",
            docs.display()
        );
        return ExitCode::FAILURE;
    }
    match write_chart(docs, &bars) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// The rows of the ratio table that [`render`] writes:
/// `| group | dozen | peer | ratio | baseline | limit | status |`.
fn bars_from_table(table: &str) -> Vec<Bar> {
    let mut bars = Vec::new();
    for line in table.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let [group, ours, peer, ratio, baseline, _limit, _status] = cells[..] else {
            continue;
        };
        let Ok(ratio) = ratio.parse() else {
            continue;
        };
        bars.push(Bar {
            group: group.into(),
            ours: ours.into(),
            peer: peer.into(),
            ratio,
            baseline: baseline.parse().ok(),
        });
    }
    bars
}

fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("criterion")
}

type Results = BTreeMap<String, BTreeMap<String, Row>>;

/// Every `*/new/benchmark.json` with its `estimates.json`, by group and id.
fn read_results(home: &Path) -> std::io::Result<Results> {
    let mut results = Results::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n != "report" && n != "base")
                {
                    stack.push(path);
                }
                continue;
            }
            if path.file_name().is_none_or(|n| n != "benchmark.json")
                || dir.file_name().is_none_or(|n| n != "new")
            {
                continue;
            }
            let id: BenchmarkId = parse(&path)?;
            let estimates: Estimates = parse(&dir.join("estimates.json"))?;
            let name = match (id.function_id, id.value_str) {
                (Some(f), Some(v)) => format!("{f}/{v}"),
                (Some(f), None) => f,
                (None, Some(v)) => v,
                (None, None) => String::new(),
            };
            let elements = id
                .throughput
                .as_ref()
                .and_then(|t| t.get("Elements"))
                .and_then(serde_json::Value::as_u64)
                .filter(|&n| n > 1);
            results.entry(id.group_id).or_default().insert(
                name,
                Row {
                    median_ns: estimates.median.point_estimate,
                    allocations: None,
                    elements,
                },
            );
        }
    }
    let allocs = home.join("allocations");
    if allocs.is_dir() {
        for entry in std::fs::read_dir(allocs)? {
            let text = std::fs::read_to_string(entry?.path())?;
            for line in text.lines() {
                let mut parts = line.split('\t');
                let (Some(group), Some(id), Some(per_op)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                if let (Some(row), Ok(per_op)) = (
                    results.get_mut(group).and_then(|g| g.get_mut(id)),
                    per_op.parse(),
                ) {
                    row.allocations = Some(per_op);
                }
            }
        }
    }
    Ok(results)
}

fn parse<T: for<'de> Deserialize<'de>>(path: &Path) -> std::io::Result<T> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

fn read_baselines(path: &Path) -> Result<Vec<Baseline>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [group, ours, peer, ratio] = fields[..] else {
            return Err(format!(
                "line {}: expected `group dozen-id peer-id ratio`",
                n + 1
            ));
        };
        let ratio = ratio
            .parse()
            .map_err(|_| format!("line {}: the ratio is not a number", n + 1))?;
        out.push(Baseline {
            group: group.into(),
            ours: ours.into(),
            peer: peer.into(),
            ratio,
        });
    }
    Ok(out)
}

/// The Markdown tables, the ratios to chart and the list of regressions.
fn render(results: &Results, baselines: &[Baseline]) -> (String, Vec<Bar>, Vec<String>) {
    let mut out = String::new();
    let mut bars = Vec::new();
    let mut failures = Vec::new();
    out.push_str("| group | benchmark | median | allocations/op |\n|---|---|---:|---:|\n");
    for (group, rows) in results {
        for (id, row) in rows {
            let allocs = row
                .allocations
                .map_or_else(|| "-".to_owned(), |a| format!("{a:.1}"));
            let rate = row.elements.map_or_else(String::new, |n| {
                #[allow(clippy::cast_precision_loss, reason = "a rate for a report")]
                let per_s = n as f64 / (row.median_ns / 1e9);
                format!(" ({n} per iteration, {per_s:.0}/s)")
            });
            let _ = writeln!(
                out,
                "| {group} | {id} | {}{rate} | {allocs} |",
                human(row.median_ns)
            );
        }
    }
    out.push_str(
        "\n| group | dozen | peer | ratio (dozen/peer, lower is better) | baseline | limit | status |\n\
         |---|---|---|---:|---:|---:|---|\n",
    );
    for (group, rows) in results {
        for (ours, our_row) in rows.iter().filter(|(id, _)| is_ours(id)) {
            let peers = rows
                .iter()
                .filter(|(id, _)| !is_ours(id) && case(id) == case(ours));
            for (peer, peer_row) in peers {
                let ratio = our_row.median_ns / peer_row.median_ns;
                let base = baselines
                    .iter()
                    .find(|b| b.group == *group && b.ours == *ours && b.peer == *peer);
                let (base_s, limit_s, status) = match base {
                    Some(b) if COUNTED.contains(&group.as_str()) => (
                        format!("{:.3}", b.ratio),
                        "-".into(),
                        if ratio > b.ratio * MARGIN {
                            "slower (gated on instructions)"
                        } else {
                            "ok (gated on instructions)"
                        },
                    ),
                    Some(b) if ratio > b.ratio * MARGIN => {
                        failures.push(format!(
                            "{group}: {ours}/{peer} = {ratio:.3}, baseline {:.3}, limit {:.3}",
                            b.ratio,
                            b.ratio * MARGIN
                        ));
                        (
                            format!("{:.3}", b.ratio),
                            format!("{:.3}", b.ratio * MARGIN),
                            "REGRESSED",
                        )
                    }
                    Some(b) => (
                        format!("{:.3}", b.ratio),
                        format!("{:.3}", b.ratio * MARGIN),
                        "ok",
                    ),
                    None => ("-".into(), "-".into(), "not gated"),
                };
                let _ = writeln!(
                    out,
                    "| {group} | {ours} | {peer} | {ratio:.3} | {base_s} | {limit_s} | {status} |"
                );
                bars.push(Bar {
                    group: group.clone(),
                    ours: ours.clone(),
                    peer: peer.clone(),
                    ratio,
                    baseline: base.map(|b| b.ratio),
                });
            }
        }
    }
    for b in baselines {
        let present = results
            .get(&b.group)
            .is_some_and(|rows| rows.contains_key(&b.ours) && rows.contains_key(&b.peer));
        if !present {
            let missing = format!(
                "{}: {} against {} has a baseline but was not measured",
                b.group, b.ours, b.peer
            );
            // Under CI every group runs (the services are up), so a baseline
            // without a measurement means a renamed or lost benchmark; on a
            // laptop without PostgreSQL the migrate group skips itself.
            if std::env::var_os("CI").is_some() {
                failures.push(missing);
            } else {
                let _ = writeln!(out, "\nnot measured: {missing}");
            }
        }
    }
    (out, bars, failures)
}

/// `apply-100/dozen-migrate` is the case `apply-100` of the implementation
/// `dozen-migrate`; an id without a slash is its group's only case.
fn case(id: &str) -> &str {
    id.rsplit_once('/').map_or("", |(case, _)| case)
}

/// Whether `id` measures a dozen crate (its implementation part starts with `dozen`).
fn is_ours(id: &str) -> bool {
    id.rsplit_once('/')
        .map_or(id, |(_, implementation)| implementation)
        .starts_with("dozen")
}

fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Replaces the text between the markers in `path` with `table`.
fn splice(path: &Path, table: &str) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the markers {START} and {END} are missing"),
        ));
    };
    let mut out = String::with_capacity(text.len() + table.len());
    out.push_str(&text[..start + START.len()]);
    out.push('\n');
    out.push_str(table);
    out.push_str(&text[end..]);
    std::fs::write(path, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_reads_the_ratio_table_that_render_writes() {
        let mut results = Results::new();
        let row = |ns| Row {
            median_ns: ns,
            allocations: None,
            elements: None,
        };
        let log = results.entry("log".into()).or_default();
        log.insert("dozen-log".into(), row(1.0));
        log.insert("fmt-json".into(), row(4.0));
        log.insert("fmt-text".into(), row(2.0));
        let migrate = results.entry("migrate".into()).or_default();
        migrate.insert("check/dozen-migrate".into(), row(3.0));
        migrate.insert("check/sqlx-migrate".into(), row(2.0));
        migrate.insert("apply/sqlx-migrate".into(), row(9.0));
        let baselines = [Baseline {
            group: "migrate".into(),
            ours: "check/dozen-migrate".into(),
            peer: "check/sqlx-migrate".into(),
            ratio: 1.2,
        }];
        let (table, bars, _) = render(&results, &baselines);
        let read = bars_from_table(&table);
        let show = |b: &[Bar]| {
            b.iter()
                .map(|b| {
                    format!(
                        "{} {} {} {:.3} {:?}",
                        b.group, b.ours, b.peer, b.ratio, b.baseline
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            show(&bars),
            [
                "log dozen-log fmt-json 0.250 None",
                "log dozen-log fmt-text 0.500 None",
                "migrate check/dozen-migrate check/sqlx-migrate 1.500 Some(1.2)",
            ]
        );
        assert_eq!(show(&read), show(&bars));
    }
}
