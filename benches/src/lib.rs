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

/// The tower-http layer the `request` group and `hello-peer` measure dozen-log's
/// [`RequestLogLayer`](dozen_log::http::RequestLogLayer) against: `TraceLayer` set up to write
/// what dozen-log writes, one line per request at INFO when the response is ready (its default
/// is a DEBUG span and two DEBUG lines, which an INFO subscriber would not write at all): the
/// span at INFO, so the line carries the method, URI and version; nothing on the request, the
/// body chunks or the end of the stream; the response at INFO, with status and latency.
#[must_use]
pub fn trace_layer() -> tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    tower_http::trace::DefaultMakeSpan,
    (),
    tower_http::trace::DefaultOnResponse,
    (),
    (),
> {
    use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
    TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
        .on_request(())
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
        .on_body_chunk(())
        .on_eos(())
}

/// The one route of the `request` group and of the load run's services: `GET /` answers
/// `hello`.
pub fn hello_router() -> axum::Router {
    axum::Router::new().route("/", axum::routing::get(|| async { "hello" }))
}

/// One request of the `request` group for benchmark `id`, with the subscriber to run it under,
/// or `None` for an unknown id: `dozen-log` (dozen-log's request layer and JSON format) and
/// `tower-http-trace` ([`trace_layer`] and `fmt().json()`) write their line to `io::sink`;
/// `no-log` is the router alone, with no layer and no subscriber, the floor both stand on
/// (counted by `icount` only). The same for the criterion group (`benches/request.rs`) and the
/// instruction counts (`src/bin/icount.rs`).
///
/// A call builds a `GET /` with the headers a client sends and a peer address, drives the
/// router with `tower::ServiceExt::oneshot` and reads the response body to its end, as a server
/// does; the line is written by then. Nothing waits: the future is polled once, with no runtime.
#[must_use]
pub fn request_subject(id: &str) -> Option<(tracing::Dispatch, Box<dyn FnMut()>)> {
    let dispatch = match id {
        "dozen-log" => log_dispatch("dozen-log")?,
        "tower-http-trace" => log_dispatch("fmt-json")?,
        "no-log" => tracing::Dispatch::none(),
        _ => return None,
    };
    let app = request_app(id)?;
    Some((dispatch, Box::new(move || request_once(&app))))
}

/// The router of the `request` group's benchmark `id`, with its logging layer.
fn request_app(id: &str) -> Option<axum::Router> {
    match id {
        "dozen-log" => Some(hello_router().layer(dozen_log::http::RequestLogLayer::new())),
        "tower-http-trace" => Some(hello_router().layer(trace_layer())),
        "no-log" => Some(hello_router()),
        _ => None,
    }
}

fn request_once(app: &axum::Router) {
    let request = axum::http::Request::get("/")
        .header("host", "hello.example")
        .header("user-agent", "curl/8.5.0")
        .extension(std::net::SocketAddr::from(([127, 0, 0, 1], 54_321)))
        .body(axum::body::Body::empty())
        .expect("a valid request");
    let app = app.clone();
    poll_once(async move {
        use http_body_util::BodyExt as _;
        use tower::ServiceExt as _;
        let response = app.oneshot(request).await.expect("infallible");
        assert!(response.status().is_success(), "{}", response.status());
        let body = response.into_body().collect().await.expect("the body");
        std::hint::black_box(body.to_bytes());
    });
}

/// Polls `f` once, which must finish without waiting.
fn poll_once(f: impl std::future::Future<Output = ()>) {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let done = std::future::Future::poll(std::pin::pin!(f), &mut cx);
    assert!(done.is_ready(), "the request waited");
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::prelude::*;

    /// Each subject of the `request` group writes exactly one line per request, at INFO, with
    /// the method, the path and the status: the comparison is of equal work.
    #[test]
    fn each_request_subject_writes_one_info_line() {
        for id in ["dozen-log", "tower-http-trace"] {
            let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
            let writer = {
                let buf = Arc::clone(&buf);
                move || Writer(Arc::clone(&buf))
            };
            let dispatch = match id {
                "dozen-log" => tracing::Dispatch::new(
                    tracing_subscriber::registry()
                        .with(dozen_log::json_layer().with_writer(writer)),
                ),
                _ => tracing::Dispatch::new(
                    tracing_subscriber::fmt()
                        .json()
                        .with_writer(writer)
                        .finish(),
                ),
            };
            let app = super::request_app(id).expect("a known id");
            tracing::dispatcher::with_default(&dispatch, || {
                super::request_once(&app);
                super::request_once(&app);
            });
            let text = String::from_utf8(buf.lock().expect("lock").clone()).expect("utf-8");
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 2, "{id}: {text}");
            for line in lines {
                let v: serde_json::Value = serde_json::from_str(line).expect(line);
                let level = v.get("severity").or_else(|| v.get("level"));
                assert!(level.is_some_and(|l| l == "INFO"), "{id}: {line}");
                assert!(
                    line.contains("GET") && line.contains('/') && line.contains("200"),
                    "{id}: {line}"
                );
            }
        }
        assert!(super::request_subject("nope").is_none());
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
