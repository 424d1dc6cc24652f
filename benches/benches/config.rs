//! A 20-field struct (strings, integers, bools, lists, options, durations,
//! URLs) loaded from an environment of 80 variables by dozen-config and envy
//! 0.4.2, in two groups: `config` reads the process environment (`from_env`,
//! the real use), `config-iter` reads the same 80 pairs from a `Vec`
//! (`from_iter`, deserialization alone). Allocations per load are printed
//! next to the times.
//!
//! The process environment: edition 2024 makes `std::env::set_var` unsafe and
//! the workspace forbids `unsafe`, so `main` re-runs this binary with exactly
//! the 80 variables as its environment (plus the few criterion and cargo
//! need), and the child runs the benchmarks. Both peers see the same
//! environment in the same process.
//!
//! Run with: cargo bench -p dozen-benches --bench config
//!
//! Wall-clock times on a shared machine move a lot; instruction counts do
//! not. With `DOZEN_BENCH_CONFIG_LOOP=<peer>:<n>` the binary skips criterion
//! and loads `n` times, to be counted with
//! `valgrind --tool=cachegrind --cache-sim=no --trace-children=yes`. The
//! peers are `dozen-config` and `envy` (`from_env`), `dozen-config-iter` and
//! `envy-iter` (`from_iter`), with `none` and `none-iter` (the copy of the
//! pairs alone) as baselines: instructions per load are
//! `(count(peer) - count(baseline)) / n`. dozen-config's other modes have
//! their own names: `dozen-config-map` (`Config` and a map field that is not
//! set), `dozen-config-all` and `dozen-config-strict` (`Config` and the 14
//! other `APP_` variables, plain and strict), `dozen-config-report`
//! (`from_env_with_report`) and `dozen-config-describe` (`describe`, no
//! environment read).

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use dozen_benches::{CountingAlloc, allocations_per_call, report_allocations};
use serde::Deserialize;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Set in the child, which runs the benchmarks.
const CHILD: &str = "DOZEN_BENCH_CONFIG_CHILD";

/// Passed through to the child when set (criterion's output directory, cargo's
/// target directory, and the basics).
const KEEP: &[&str] = &[
    "CRITERION_HOME",
    "CARGO_TARGET_DIR",
    "PATH",
    "HOME",
    "TMPDIR",
];

const TOTAL_VARS: usize = 80;

/// `peer:n`: load `n` times without criterion, for instruction counts.
const LOOP: &str = "DOZEN_BENCH_CONFIG_LOOP";

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only loading is measured")]
struct Config {
    name: String,
    environment: String,
    region: String,
    log_level: String,
    port: u16,
    workers: u32,
    max_connections: u32,
    queue_depth: u64,
    retries: u8,
    debug: bool,
    metrics: bool,
    allowed_origins: Vec<String>,
    features: Vec<String>,
    sentry_dsn: Option<String>,
    /// Not set: an absent optional field.
    replica_url: Option<String>,
    #[serde(with = "humantime_serde")]
    shutdown_timeout: Duration,
    #[serde(with = "humantime_serde")]
    request_timeout: Duration,
    database_url: url::Url,
    redis_url: url::Url,
    public_url: url::Url,
}

/// Read beside `Config` (a tuple of structs reads one prefix): a map field
/// that is not set, which sends the loader looking for `APP_LABELS__*`.
#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only loading is measured")]
struct Labels {
    #[serde(default)]
    labels: std::collections::HashMap<String, String>,
}

/// Read beside `Config`: the other `APP_` variables of [`variables`], so
/// that a strict load knows every name under the prefix.
#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only loading is measured")]
struct Unused {
    unused_0: String,
    unused_4: String,
    unused_8: String,
    unused_12: String,
    unused_16: String,
    unused_20: String,
    unused_24: String,
    unused_28: String,
    unused_32: String,
    unused_36: String,
    unused_40: String,
    unused_44: String,
    unused_48: String,
    unused_52: String,
}

/// The 19 variables of `Config` (one optional field is left unset), then
/// unrelated ones, prefixed and not, up to 80.
fn variables() -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("APP_NAME", "orders"),
        ("APP_ENVIRONMENT", "production"),
        ("APP_REGION", "europe-west1"),
        ("APP_LOG_LEVEL", "info"),
        ("APP_PORT", "8080"),
        ("APP_WORKERS", "16"),
        ("APP_MAX_CONNECTIONS", "20"),
        ("APP_QUEUE_DEPTH", "10000"),
        ("APP_RETRIES", "3"),
        ("APP_DEBUG", "false"),
        ("APP_METRICS", "true"),
        (
            "APP_ALLOWED_ORIGINS",
            "https://a.example.com,https://b.example.com",
        ),
        ("APP_FEATURES", "search,export,beta"),
        ("APP_SENTRY_DSN", "https://key@sentry.example.com/42"),
        ("APP_SHUTDOWN_TIMEOUT", "25s"),
        ("APP_REQUEST_TIMEOUT", "1m 30s"),
        (
            "APP_DATABASE_URL",
            "postgres://app:secret@db.internal:5432/orders",
        ),
        ("APP_REDIS_URL", "redis://cache.internal:6379/0"),
        ("APP_PUBLIC_URL", "https://orders.example.com/"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let mut i = 0;
    while vars.len() < TOTAL_VARS - KEEP.len() - 1 {
        let name = if i % 4 == 0 {
            format!("APP_UNUSED_{i}")
        } else {
            format!("KUBERNETES_SERVICE_{i}_PORT")
        };
        vars.push((name, format!("tcp://10.0.{i}.1:443")));
        i += 1;
    }
    vars
}

fn main() {
    if std::env::var_os(CHILD).is_none() {
        let mut child = std::process::Command::new(std::env::current_exe().expect("own path"));
        child
            .args(std::env::args_os().skip(1))
            .env_clear()
            .env(CHILD, "1");
        let mut count = 1;
        if let Some(spec) = std::env::var_os(LOOP) {
            count += 1;
            child.env(LOOP, spec);
        }
        for keep in KEEP {
            count += 1;
            child.env(
                keep,
                std::env::var_os(keep).unwrap_or_else(|| "/tmp".into()),
            );
        }
        for (k, v) in variables() {
            count += 1;
            child.env(k, v);
        }
        assert!(count >= TOTAL_VARS);
        let status = child.status().expect("run the benchmark child");
        std::process::exit(status.code().unwrap_or(1));
    }
    if let Some(spec) = std::env::var_os(LOOP) {
        run_loop(&spec.to_string_lossy());
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}

fn run_loop(spec: &str) {
    let (peer, n) = spec.split_once(':').expect("peer:n");
    let n: usize = n.parse().expect("a count");
    let vars = variables();
    for _ in 0..n {
        match peer {
            "dozen-config" => drop(black_box(
                dozen_config::prefixed("APP_").from_env::<Config>(),
            )),
            "envy" => drop(black_box(envy::prefixed("APP_").from_env::<Config>())),
            "dozen-config-iter" => drop(black_box(
                dozen_config::prefixed("APP_").from_iter::<_, Config>(vars.clone()),
            )),
            "envy-iter" => drop(black_box(
                envy::prefixed("APP_").from_iter::<_, Config>(vars.clone()),
            )),
            "none-iter" => drop(black_box(vars.clone())),
            // The costs of the modes, for the crate's README.
            "dozen-config-map" => drop(black_box(
                dozen_config::prefixed("APP_")
                    .from_env::<(Config, Labels)>()
                    .expect("valid"),
            )),
            "dozen-config-all" => drop(black_box(
                dozen_config::prefixed("APP_")
                    .from_env::<(Config, Unused)>()
                    .expect("valid"),
            )),
            "dozen-config-strict" => drop(black_box(
                dozen_config::prefixed("APP_")
                    .strict()
                    .from_env::<(Config, Unused)>()
                    .expect("valid"),
            )),
            "dozen-config-report" => drop(black_box(
                dozen_config::prefixed("APP_")
                    .from_env_with_report::<Config>()
                    .expect("valid"),
            )),
            "dozen-config-describe" => drop(black_box(
                dozen_config::prefixed("APP_").describe::<Config>(),
            )),
            _ => {}
        }
    }
}

/// A load from the process environment.
type Load = fn() -> Config;

/// A load from pairs.
type LoadFrom = fn(Vec<(String, String)>) -> Config;

fn bench(c: &mut Criterion) {
    assert_eq!(std::env::vars_os().count(), TOTAL_VARS);
    let loaders: [(&str, Load); 2] = [
        ("dozen-config", || {
            dozen_config::prefixed("APP_").from_env().expect("valid")
        }),
        ("envy", || envy::prefixed("APP_").from_env().expect("valid")),
    ];
    let mut group = c.benchmark_group("config");
    for (name, load) in loaders {
        group.bench_function(name, |b| b.iter(|| black_box(load())));
        report_allocations(
            "config",
            name,
            allocations_per_call(1000, || {
                black_box(load());
            }),
        );
    }
    group.finish();

    let vars = variables();
    let iter_loaders: [(&str, LoadFrom); 2] = [
        ("dozen-config", |vars| {
            dozen_config::prefixed("APP_")
                .from_iter(vars)
                .expect("valid")
        }),
        ("envy", |vars| {
            envy::prefixed("APP_").from_iter(vars).expect("valid")
        }),
    ];
    let mut group = c.benchmark_group("config-iter");
    for (name, load) in iter_loaders {
        // The copy of the pairs is the caller's, as in a test; both pay it.
        group.bench_function(name, |b| {
            b.iter_batched(
                || vars.clone(),
                |v| black_box(load(v)),
                criterion::BatchSize::SmallInput,
            );
        });
        report_allocations(
            "config-iter",
            name,
            allocations_per_call(1000, || {
                black_box(load(vars.clone()));
            }),
        );
    }
    group.finish();
}
