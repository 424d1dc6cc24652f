//! One request through an axum router with one trivial route (`GET /` answers `hello`), driven
//! in process with `tower::ServiceExt::oneshot`, its response body read to the end: dozen-log's
//! `RequestLogLayer` writing its JSON line against tower-http's `TraceLayer` set up to write one
//! INFO line per request on the response (`dozen_benches::trace_layer`) through
//! tracing-subscriber's `fmt().json()`, both into `io::sink`. Allocations per request are
//! printed next to the times.
//!
//! Run with: cargo bench -p dozen-benches --bench request

use criterion::{Criterion, criterion_group, criterion_main};
use dozen_benches::{CountingAlloc, allocations_per_call, report_allocations};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn request(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    for name in ["dozen-log", "tower-http-trace"] {
        let (dispatch, mut one) = dozen_benches::request_subject(name).expect("a known id");
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(name, |b| b.iter(&mut one));
            let allocs = allocations_per_call(10_000, &mut one);
            report_allocations("request", name, allocs);
        });
    }
    group.finish();
}

criterion_group!(benches, request);
criterion_main!(benches);
