//! Shared pieces of the dozen benchmarks: a counting allocator, so each group
//! can report allocations per operation next to its times.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// A global allocator that counts allocations and forwards to [`System`].
///
/// Install it in a bench binary with
/// `#[global_allocator] static ALLOC: dozen_benches::CountingAlloc = dozen_benches::CountingAlloc;`
/// and read [`allocations`] around the code under test.
#[derive(Debug)]
pub struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

#[allow(
    unsafe_code,
    reason = "a GlobalAlloc impl is unsafe by definition; it only forwards to System"
)]
// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System`; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// How many allocations (including reallocations) this process has made so far.
#[must_use]
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Allocations made per call when `f` runs `iterations` times (after one warm-up call).
pub fn allocations_per_call(iterations: u64, mut f: impl FnMut()) -> f64 {
    f();
    let before = allocations();
    for _ in 0..iterations {
        f();
    }
    #[allow(clippy::cast_precision_loss, reason = "a ratio for a report")]
    let per = (allocations() - before) as f64 / iterations as f64;
    per
}

/// Prints `per_op` allocations for benchmark `id` of `group` and records it
/// where `bench-report` finds it (`$CRITERION_HOME/allocations/`, else
/// `target/criterion/allocations/`), so the report shows it next to the times.
pub fn report_allocations(group: &str, id: &str, per_op: f64) {
    #[allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]
    {
        println!("{group}/{id}: {per_op:.2} allocations per op");
    }
    let dir = std::env::var_os("CRITERION_HOME")
        .map_or_else(|| std::path::PathBuf::from("target/criterion"), Into::into)
        .join("allocations");
    let file = dir.join(format!("{group}--{}.txt", id.replace('/', "_")));
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&file, format!("{group}\t{id}\t{per_op}\n")));
    if let Err(e) = written {
        #[allow(clippy::print_stderr, reason = "a benchmark reports on stderr")]
        {
            eprintln!("cannot record allocations in {}: {e}", file.display());
        }
    }
}

/// Five secrets of realistic shapes (a password, a GitHub token, an AWS key id, a
/// passphrase, a JWT), none of which occurs in the `log` group's line: what masking
/// costs in the common case.
pub const LOG_SECRETS: [&str; 5] = [
    "s3cr3t-db-password",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "AKIAIOSFODNN7EXAMPLE",
    "correct horse battery staple",
    "eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo",
];

/// The event every benchmark of the log groups writes: 3 fields and a message (in
/// [`log_span`]'s 3 fields). A macro, so that each use is a callsite of its own (a callsite
/// caches whether its subscriber is interested, and the disabled-event group needs its own).
#[macro_export]
macro_rules! log_event {
    () => {
        ::tracing::info!(
            status = 200u16,
            latency_ms = ::std::hint::black_box(12.5f64),
            cache = "hit",
            "request finished"
        )
    };
}

/// The span every event of the `log` group is measured in.
pub fn log_span() -> tracing::Span {
    tracing::info_span!(
        "request",
        method = "GET",
        path = "/orders/42",
        user_id = 42u64
    )
}

/// The subscriber each benchmark id of the `log` and `log-pretty` groups writes through, into
/// `io::sink`: the same for the criterion groups (`benches/log.rs`) and the instruction counts
/// (`src/bin/icount.rs`). `None` for an unknown id.
#[must_use]
pub fn log_dispatch(id: &str) -> Option<tracing::Dispatch> {
    use std::io;
    use tracing_subscriber::prelude::*;
    let dispatch = match id {
        "dozen-log" => tracing::Dispatch::new(
            tracing_subscriber::registry().with(dozen_log::json_layer().with_writer(io::sink)),
        ),
        "tracing-stackdriver" => tracing::Dispatch::new(
            tracing_subscriber::registry().with(tracing_stackdriver::layer().with_writer(io::sink)),
        ),
        "fmt-json" => tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .json()
                .with_writer(io::sink)
                .finish(),
        ),
        "fmt-text" => tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(io::sink)
                .finish(),
        ),
        "dozen-log-pretty" => tracing::Dispatch::new(
            tracing_subscriber::registry().with(
                dozen_log::pretty_layer()
                    .with_writer(io::sink)
                    .with_ansi(true),
            ),
        ),
        "fmt-text-ansi" => tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_ansi(true)
                .with_writer(io::sink)
                .finish(),
        ),
        _ => return None,
    };
    Some(dispatch)
}

/// The `url` group's inputs: the PostgreSQL URLs a service meets, percent-encoded passwords,
/// IPv6 hosts, Cloud SQL sockets and query options included.
pub const URLS: &[&str] = &[
    "postgres://app:s3cret@db.internal:5432/orders",
    "postgres://app:p%40ss%3Aw%2Fo%3Fr%23d%25@db/app",
    "postgresql://app:s3cret@[2001:db8::1]:5433/app",
    "postgres://app@%2Fcloudsql%2Fproj%3Aregion%3Ainst/app",
    "postgres://app:s3cret@%2Fvar%2Frun%2Fpostgresql/app?host=/var/run/postgresql",
    "postgres://app@db/app?sslmode=disable&application_name=web&statement-cache-capacity=50",
];

/// Parses every one of [`URLS`] with `parse`, which must accept it.
///
/// # Panics
///
/// When `parse` refuses one.
pub fn parse_all<T, E>(parse: impl Fn(&str) -> Result<T, E>) {
    for url in URLS {
        let parsed = parse(std::hint::black_box(url));
        assert!(parsed.is_ok(), "{url}");
        std::hint::black_box(parsed.ok());
    }
}

/// One pass of the `url` group for benchmark `id` (`dozen-backing`, `url`, `sqlx-pg`), or
/// `None` for an unknown id.
#[must_use]
pub fn url_subject(id: &str) -> Option<fn()> {
    use std::str::FromStr;
    fn dozen() {
        parse_all(dozen_backing::ServiceUrl::parse);
    }
    fn url_crate() {
        parse_all(url::Url::parse);
    }
    fn sqlx_pg() {
        parse_all(sqlx::postgres::PgConnectOptions::from_str);
    }
    match id {
        "dozen-backing" => Some(dozen),
        "url" => Some(url_crate),
        "sqlx-pg" => Some(sqlx_pg),
        _ => None,
    }
}

/// A PostgreSQL database of its own for one run of a benchmark group, so that runs never
/// share state: created on the server of the group's `TEST_POSTGRES_URL`, dropped at the
/// end of the run.
#[derive(Debug)]
pub struct RunDatabase {
    admin: sqlx::PgConnection,
    name: String,
    options: sqlx::postgres::PgConnectOptions,
}

impl RunDatabase {
    /// Creates the database `{prefix}_{pid}` on the server at `url`.
    ///
    /// # Panics
    ///
    /// When `url` is not a PostgreSQL URL, or the server refuses.
    pub async fn create(url: &str, prefix: &str) -> Self {
        use sqlx::Connection as _;
        use std::str::FromStr as _;
        let name = format!("{prefix}_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create database");
        let options = sqlx::postgres::PgConnectOptions::from_str(url)
            .expect("url")
            .database(&name);
        Self {
            admin,
            name,
            options,
        }
    }

    /// The database's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection options for the database.
    #[must_use]
    pub fn options(&self) -> &sqlx::postgres::PgConnectOptions {
        &self.options
    }

    /// Drops the database, closing whatever connections are left (a failure is ignored:
    /// the run is over).
    pub async fn drop_database(mut self) {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut self.admin)
        .await;
    }
}
