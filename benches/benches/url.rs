//! dozen-backing: parsing a backing-service URL.
//!
//! Group `url`: the same six PostgreSQL URLs (plain, percent-encoded password, IPv6, a
//! libpq Unix-socket host, `?host=/dir` with credentials, query parameters) parsed by
//! `ServiceUrl::parse` (which classifies and validates, and hides the password from then
//! on), by `url::Url::parse` alone (what `ServiceUrl` builds on: the floor), and by sqlx's
//! `PgConnectOptions::from_str` (what a service hands its `DATABASE_URL` to otherwise; it
//! also looks for a `.pgpass` file on every parse). One iteration parses all six.
//! Allocations per iteration are printed next to the times.
//!
//! Run with: cargo bench -p dozen-benches --bench url

use criterion::{Criterion, criterion_group, criterion_main};
use dozen_benches::{CountingAlloc, allocations_per_call, report_allocations};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Inputs every parser accepts (`url::Url` and sqlx do not know the `?host=/dir` form with
/// credentials, so it is written with the socket in the host, as they read it).
fn parse(c: &mut Criterion) {
    let peers = ["dozen-backing", "url", "sqlx-pg"]
        .map(|id| (id, dozen_benches::url_subject(id).expect("a known id")));
    let mut group = c.benchmark_group("url");
    for (id, run) in peers {
        group.bench_function(id, |b| b.iter(run));
    }
    group.finish();
    for (id, run) in peers {
        report_allocations("url", id, allocations_per_call(1_000, run));
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
