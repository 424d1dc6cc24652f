//! One event in a span (3 span fields, 3 event fields and a message) formatted into `io::sink`
//! by dozen-log, tracing-stackdriver 0.10 and tracing-subscriber's `fmt()` (JSON and text); the
//! same event in dozen-log's pretty terminal format against `fmt()` text with colour; and a
//! disabled event. Allocations per event are printed next to the times.
//!
//! Run with: cargo bench -p dozen-benches --bench log

use std::hint::black_box;
use std::io;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use dozen_benches::{CountingAlloc, allocations_per_call, report_allocations};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// The measured event. A macro, so that the enabled and the disabled runs get callsites of their
/// own (a callsite caches whether its subscriber is interested).
macro_rules! the_event {
    () => {
        tracing::info!(
            status = 200u16,
            latency_ms = black_box(12.5f64),
            cache = "hit",
            "request finished"
        )
    };
}

fn event() {
    the_event!();
}

fn disabled_event() {
    the_event!();
}

fn run(
    group: &mut BenchmarkGroup<'_, WallTime>,
    group_name: &str,
    name: &str,
    dispatch: &Dispatch,
    f: fn(),
) {
    tracing::dispatcher::with_default(dispatch, || {
        let span = tracing::info_span!(
            "request",
            method = "GET",
            path = "/orders/42",
            user_id = 42u64
        );
        let _entered = span.enter();
        group.bench_function(name, |b| b.iter(f));
        let allocs = allocations_per_call(10_000, f);
        report_allocations(group_name, name, allocs);
    });
}

fn log(c: &mut Criterion) {
    let mut group = c.benchmark_group("log");
    let peers: [(&str, Dispatch); 4] = [
        (
            "dozen-log",
            Dispatch::new(
                tracing_subscriber::registry().with(dozen_log::json_layer().with_writer(io::sink)),
            ),
        ),
        (
            "tracing-stackdriver",
            Dispatch::new(
                tracing_subscriber::registry()
                    .with(tracing_stackdriver::layer().with_writer(io::sink)),
            ),
        ),
        (
            "fmt-json",
            Dispatch::new(
                tracing_subscriber::fmt()
                    .json()
                    .with_writer(io::sink)
                    .finish(),
            ),
        ),
        (
            "fmt-text",
            Dispatch::new(
                tracing_subscriber::fmt()
                    .with_ansi(false)
                    .with_writer(io::sink)
                    .finish(),
            ),
        ),
    ];
    for (name, dispatch) in &peers {
        run(&mut group, "log", name, dispatch, event);
    }
    group.finish();
    drop(peers);

    // The terminal format, colour on, against tracing-subscriber's text format
    // with colour on: what a person reads in `cargo run`.
    let mut group = c.benchmark_group("log-pretty");
    let peers: [(&str, Dispatch); 2] = [
        (
            "dozen-log-pretty",
            Dispatch::new(
                tracing_subscriber::registry().with(
                    dozen_log::pretty_layer()
                        .with_writer(io::sink)
                        .with_ansi(true),
                ),
            ),
        ),
        (
            "fmt-text-ansi",
            Dispatch::new(
                tracing_subscriber::fmt()
                    .with_ansi(true)
                    .with_writer(io::sink)
                    .finish(),
            ),
        ),
    ];
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
}

criterion_group!(benches, log);
criterion_main!(benches);
