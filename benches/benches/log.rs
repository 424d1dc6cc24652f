//! One event in a span (3 span fields, 3 event fields and a message) formatted into `io::sink`
//! by dozen-log, tracing-stackdriver 0.10 and tracing-subscriber's `fmt()` (JSON and text); the
//! same event in dozen-log's pretty terminal format against `fmt()` text with colour; and a
//! disabled event. In the `log` group dozen-log also writes the same event with 5 secrets
//! registered in `dozen_redact`, none of them in the line (`dozen-log-5-secrets`, the common
//! case: the cost of masking is its ratio to `dozen-log`), and with a 6th that the line
//! contains (`dozen-log-6-secrets-1-hit`). Allocations per event are printed next to the times.
//!
//! Registered secrets stay registered for the life of the process, so the `log` group runs last.
//!
//! Run with: cargo bench -p dozen-benches --bench log

use std::io;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use dozen_benches::{CountingAlloc, allocations_per_call, report_allocations};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn event() {
    dozen_benches::log_event!();
}

fn disabled_event() {
    dozen_benches::log_event!();
}

fn run(
    group: &mut BenchmarkGroup<'_, WallTime>,
    group_name: &str,
    name: &str,
    dispatch: &Dispatch,
    f: fn(),
) {
    tracing::dispatcher::with_default(dispatch, || {
        let span = dozen_benches::log_span();
        let _entered = span.enter();
        group.bench_function(name, |b| b.iter(f));
        let allocs = allocations_per_call(10_000, f);
        report_allocations(group_name, name, allocs);
    });
}

/// The subscribers of `ids`, as the instruction counts build them too.
fn named(ids: &[&'static str]) -> Vec<(&'static str, Dispatch)> {
    ids.iter()
        .map(|&id| (id, dozen_benches::log_dispatch(id).expect("a known id")))
        .collect()
}

fn log(c: &mut Criterion) {
    // The terminal format, colour on, against tracing-subscriber's text format
    // with colour on: what a person reads in `cargo run`.
    let mut group = c.benchmark_group("log-pretty");
    let peers = named(&["dozen-log-pretty", "fmt-text-ansi"]);
    for (name, dispatch) in &peers {
        run(&mut group, "log-pretty", name, dispatch, event);
    }
    group.finish();
    drop(peers);

    // A disabled event costs a filter check only: EnvFilter "warn" in front of
    // dozen-log's layer and in front of fmt().json().
    let mut group = c.benchmark_group("log-disabled");
    let peers: [(&str, Dispatch); 2] = [
        (
            "dozen-log",
            Dispatch::new(
                tracing_subscriber::registry()
                    .with(tracing_subscriber::EnvFilter::new("warn"))
                    .with(dozen_log::json_layer().with_writer(io::sink)),
            ),
        ),
        (
            "fmt-json",
            Dispatch::new(
                tracing_subscriber::fmt()
                    .json()
                    .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
                    .with_writer(io::sink)
                    .finish(),
            ),
        ),
    ];
    for (name, dispatch) in &peers {
        run(&mut group, "log-disabled", name, dispatch, disabled_event);
    }
    group.finish();
    drop(peers);

    let mut group = c.benchmark_group("log");
    let peers = named(&["dozen-log", "tracing-stackdriver", "fmt-json", "fmt-text"]);
    for (name, dispatch) in &peers {
        run(&mut group, "log", name, dispatch, event);
    }
    // Defence in depth: every line is searched for each registered secret.
    for secret in dozen_benches::LOG_SECRETS {
        dozen_redact::register(secret);
    }
    run(&mut group, "log", "dozen-log-5-secrets", &peers[0].1, event);
    // One that the line contains (the span's `path`): the line is rewritten.
    dozen_redact::register("/orders/42");
    run(
        &mut group,
        "log",
        "dozen-log-6-secrets-1-hit",
        &peers[0].1,
        event,
    );
    group.finish();
}

criterion_group!(benches, log);
criterion_main!(benches);
