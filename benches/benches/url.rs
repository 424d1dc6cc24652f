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

use std::hint::black_box;
use std::str::FromStr;

use criterion::{Criterion, criterion_group, criterion_main};
use dozen_backing::ServiceUrl;
use dozen_benches::{CountingAlloc, allocations_per_call, report_allocations};
use sqlx::postgres::PgConnectOptions;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Inputs every parser accepts (`url::Url` and sqlx do not know the `?host=/dir` form with
/// credentials, so it is written with the socket in the host, as they read it).
const URLS: &[&str] = &[
    "postgres://app:s3cret@db.internal:5432/orders",
    "postgres://app:p%40ss%3Aw%2Fo%3Fr%23d%25@db/app",
    "postgresql://app:s3cret@[2001:db8::1]:5433/app",
    "postgres://app@%2Fcloudsql%2Fproj%3Aregion%3Ainst/app",
    "postgres://app:s3cret@%2Fvar%2Frun%2Fpostgresql/app?host=/var/run/postgresql",
    "postgres://app@db/app?sslmode=disable&application_name=web&statement-cache-capacity=50",
];

fn parse_all<T, E>(parse: impl Fn(&str) -> Result<T, E>) {
    for url in URLS {
        let parsed = parse(black_box(url));
        assert!(parsed.is_ok(), "{url}");
        black_box(parsed.ok());
    }
}

fn dozen(url: &str) -> Result<ServiceUrl, dozen_backing::Error> {
    ServiceUrl::parse(url)
}

fn url_crate(url: &str) -> Result<url::Url, url::ParseError> {
    url::Url::parse(url)
}

fn sqlx_pg(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    PgConnectOptions::from_str(url)
}

fn parse(c: &mut Criterion) {
    let peers: [(&str, &dyn Fn()); 3] = [
        ("dozen-backing", &|| parse_all(dozen)),
        ("url", &|| parse_all(url_crate)),
        ("sqlx-pg", &|| parse_all(sqlx_pg)),
    ];
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
