//! dozen-migrate: applying migrations, and checking an up-to-date database.
//!
//! Group `migrate`, on PostgreSQL from `TEST_POSTGRES_URL` (skipped with a notice when it
//! is unset), the same 100 small migrations (`CREATE TABLE tN (id INTEGER PRIMARY KEY, v
//! TEXT)`) for every peer:
//!
//! - `apply-100/<peer>`: all 100 into an empty schema, by dozen-migrate (lock, history
//!   re-read under it, one transaction per migration), refinery's own tokio-postgres
//!   driver (no lock, one transaction per migration) and `sqlx::migrate` (lock, one
//!   transaction per migration). Each iteration gets a fresh schema and connection,
//!   outside the timing (`iter_custom`), so only the run itself is measured.
//! - `check/<peer>`: the 100 already applied, over one open connection: dozen-migrate
//!   `apply` (lock, re-read, unlock: what every replica does at start-up) and `status`
//!   (what `migrate status --check` does), refinery's `run_async`, and sqlx's
//!   `Migrator::run`.
//!
//! Allocations per operation are printed next to the times (single-threaded runtime,
//! so they are the run's own).
//!
//! Run with: TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres
//! cargo bench -p dozen-benches --bench migrate

use std::borrow::Cow;
use std::str::FromStr;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use dozen_benches::{CountingAlloc, RunDatabase, allocations, report_allocations};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use tokio::runtime::Runtime;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const COUNT: i32 = 100;

fn sql(i: i32) -> String {
    format!("CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v TEXT)")
}

fn refinery_migrations() -> Vec<refinery::Migration> {
    (1..=COUNT)
        .map(|i| {
            refinery::Migration::unapplied(&format!("V{i}__t{i}"), &sql(i)).expect("valid name")
        })
        .collect()
}

fn refinery_runner() -> refinery::Runner {
    refinery::Runner::new(&refinery_migrations())
}

fn dozen_migrator() -> dozen_migrate::Migrator {
    dozen_migrate::Migrator::from_migrations(refinery_migrations()).expect("valid set")
}

fn sqlx_migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate::Migrator::with_migrations(
        (1..=COUNT)
            .map(|i| {
                sqlx::migrate::Migration::new(
                    i64::from(i),
                    Cow::Owned(format!("t{i}")),
                    sqlx::migrate::MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(AssertSqlSafe(sql(i))),
                    false,
                )
            })
            .collect(),
    )
}

/// A database of its own for the benchmark, dropped at the end.
struct Bench {
    db: RunDatabase,
    /// Connection options for the benchmark's database, for tokio-postgres.
    config: tokio_postgres::Config,
    schemas: u32,
}

impl Bench {
    async fn new(url: &str) -> Self {
        let db = RunDatabase::create(url, "dm_bench").await;
        let mut config = tokio_postgres::Config::from_str(url).expect("url");
        config.dbname(db.name());
        Self {
            db,
            config,
            schemas: 0,
        }
    }

    /// A new empty schema in the benchmark's database.
    async fn schema(&mut self) -> String {
        self.schemas += 1;
        let name = format!("s{}", self.schemas);
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&mut self.sqlx_conn("public").await)
            .await
            .expect("create schema");
        name
    }

    fn options(&self, schema: &str) -> PgConnectOptions {
        self.db.options().clone().options([("search_path", schema)])
    }

    async fn pool(&self, schema: &str) -> sqlx::PgPool {
        PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.options(schema))
            .await
            .expect("pool")
    }

    async fn sqlx_conn(&self, schema: &str) -> PgConnection {
        PgConnection::connect_with(&self.options(schema))
            .await
            .expect("connect")
    }

    async fn tokio_postgres(&self, schema: &str) -> tokio_postgres::Client {
        let mut config = self.config.clone();
        config.options(format!("-c search_path={schema}"));
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
    }

    async fn drop_database(self) {
        self.db.drop_database().await;
    }
}

#[derive(Clone, Copy)]
enum Peer {
    Dozen,
    Refinery,
    Sqlx,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Self::Dozen => "dozen-migrate",
            Self::Refinery => "refinery-tokio-postgres",
            Self::Sqlx => "sqlx-migrate",
        }
    }
}

/// Applies the 100 migrations into a fresh schema; returns the time of the run alone
/// and the allocations it made.
async fn apply_once(bench: &mut Bench, peer: Peer) -> (Duration, u64) {
    let schema = bench.schema().await;
    match peer {
        Peer::Dozen => {
            let (pool, migrator) = (bench.pool(&schema).await, dozen_migrator());
            let (start, a) = (Instant::now(), allocations());
            let report = migrator.apply(&pool).await.expect("dozen-migrate apply");
            let took = (start.elapsed(), allocations() - a);
            assert_eq!(report.applied.len(), 100);
            pool.close().await;
            took
        }
        Peer::Refinery => {
            let (mut client, runner) = (bench.tokio_postgres(&schema).await, refinery_runner());
            let (start, a) = (Instant::now(), allocations());
            let report = runner.run_async(&mut client).await.expect("refinery run");
            let took = (start.elapsed(), allocations() - a);
            assert_eq!(report.applied_migrations().len(), 100);
            took
        }
        Peer::Sqlx => {
            let (mut conn, migrator) = (bench.sqlx_conn(&schema).await, sqlx_migrator());
            let (start, a) = (Instant::now(), allocations());
            migrator.run(&mut conn).await.expect("sqlx migrate");
            let took = (start.elapsed(), allocations() - a);
            conn.close().await.expect("close");
            took
        }
    }
}

fn bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        println!("migrate: skipped, set TEST_POSTGRES_URL to run this group");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut bench = rt.block_on(Bench::new(&url));

    let mut group = c.benchmark_group("migrate");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for peer in [Peer::Dozen, Peer::Refinery, Peer::Sqlx] {
        let (_, allocs) = rt.block_on(apply_once(&mut bench, peer));
        report_allocations(
            "migrate",
            &format!("apply-100/{}", peer.name()),
            to_f64(allocs),
        );
        group.bench_function(format!("apply-100/{}", peer.name()), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += rt.block_on(apply_once(&mut bench, peer)).0;
                }
                total
            });
        });
    }
    group.finish();

    check(c, &rt, &mut bench);
    rt.block_on(bench.drop_database());
}

fn check(c: &mut Criterion, rt: &Runtime, bench: &mut Bench) {
    // One schema per peer, migrated once by that peer, checked over and over.
    let dozen = rt.block_on(async {
        let schema = bench.schema().await;
        let pool = bench.pool(&schema).await;
        dozen_migrator().apply(&pool).await.expect("apply");
        pool
    });
    let mut client = rt.block_on(async {
        let schema = bench.schema().await;
        let mut client = bench.tokio_postgres(&schema).await;
        refinery_runner()
            .run_async(&mut client)
            .await
            .expect("refinery run");
        client
    });
    let mut conn = rt.block_on(async {
        let schema = bench.schema().await;
        let mut conn = bench.sqlx_conn(&schema).await;
        sqlx_migrator().run(&mut conn).await.expect("sqlx migrate");
        conn
    });
    let (migrator, runner, sqlx_migrator) = (dozen_migrator(), refinery_runner(), sqlx_migrator());

    let mut group = c.benchmark_group("migrate");
    group.sample_size(20);
    let mut run = |id: &str, f: &mut dyn FnMut()| {
        let a = allocations();
        let n = 20;
        for _ in 0..n {
            f();
        }
        report_allocations("migrate", id, to_f64(allocations() - a) / f64::from(n));
        group.bench_function(id, |b| b.iter(&mut *f));
    };
    run("check/dozen-migrate-apply", &mut || {
        let report = rt.block_on(migrator.apply(&dozen)).expect("apply");
        assert!(report.applied.is_empty());
    });
    run("check/dozen-migrate-status", &mut || {
        let status = rt.block_on(migrator.status(&dozen)).expect("status");
        assert!(status.is_up_to_date());
    });
    run("check/refinery-tokio-postgres", &mut || {
        let report = rt
            .block_on(runner.run_async(&mut client))
            .expect("refinery run");
        assert!(report.applied_migrations().is_empty());
    });
    run("check/sqlx-migrate", &mut || {
        rt.block_on(sqlx_migrator.run(&mut conn))
            .expect("sqlx migrate");
    });
    group.finish();
    rt.block_on(dozen.close());
}

#[allow(clippy::cast_precision_loss, reason = "a count for a report")]
fn to_f64(n: u64) -> f64 {
    n as f64
}

criterion_group!(benches, bench);
criterion_main!(benches);
