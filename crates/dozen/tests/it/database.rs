//! A database attached by the entry point: `/livez` answers 200 and
//! `/readyz` 503 naming the database while it is being connected to, 200
//! once it is, 503 again within the check interval plus 1 s when it goes
//! away and 200 when it comes back (a TCP proxy in front of the real
//! PostgreSQL); an unmigrated database keeps `/readyz` at 503 naming the
//! schema until the migrate Job has run; a SIGTERM while connecting with
//! retry or while the migration lock is held elsewhere stops start-up there
//! with exit 0 (the pool still closed in teardown when it was already
//! connected), and `migrate` stopped so exits 143; `migrate` with nothing
//! listening gives up at `DATABASE_CONNECT_TIMEOUT` with exit 1, the URL's
//! password hidden; load that holds every pooled connection leaves
//! `/readyz` at 200; `config` and `migrate --help` need neither a database
//! nor a valid configuration.
//!
//! The service runs in a child process: this test binary again, running
//! only [`child`].

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::{Router, http::StatusCode, routing::get};
use dozen::backing::{Any, ServiceUrl};
use dozen::migrate::Migrator;
use dozen::migrate::refinery::Migration;
use dozen::service::Service;

#[derive(serde::Deserialize)]
struct Settings {
    /// `DATABASE_URL`.
    database_url: ServiceUrl,
}

/// A web process with a database and one migration, whose `GET /items`
/// reads the table the migration creates; and a `worker` that attaches the
/// same database, then waits to be told to stop.
fn service() -> Service<Settings> {
    Service::<Settings>::new("items", "1.0.0")
        .with_database(|s: &Settings| &s.database_url)
        .with_migrations(|_url: &ServiceUrl| {
            assert!(
                std::env::var_os("MIGRATIONS_PANIC").is_none(),
                "the migrations panicked"
            );
            let items =
                Migration::unapplied("V1__items", "CREATE TABLE items (id INTEGER PRIMARY KEY)")?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Migrator::from_migrations([items])?)
        })
        .web(|ctx| async move {
            let pool = ctx.database::<Any>().await?;
            let slow_pool = pool.clone();
            let items = move || async move {
                match sqlx::query("SELECT COUNT(*) FROM items")
                    .execute(&pool)
                    .await
                {
                    Ok(_) => StatusCode::OK,
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
                }
            };
            // A slow query (PostgreSQL's sleep), to keep every connection busy.
            let slow = move || async move {
                match sqlx::query("SELECT pg_sleep(0.3)::text")
                    .execute(&slow_pool)
                    .await
                {
                    Ok(_) => StatusCode::OK,
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
                }
            };
            Ok::<_, dozen::service::BoxError>(
                Router::new()
                    .route("/items", get(items))
                    .route("/slow", get(slow)),
            )
        })
        .process("worker", |ctx| async move {
            // Attached once, however many times and from however many
            // tasks it is asked for.
            let (first, second) = tokio::join!(ctx.database::<Any>(), ctx.database::<Any>());
            let (first, second) = (first?, second?);
            let other = ctx
                .database::<sqlx::Postgres>()
                .await
                .err()
                .map(|e| e.to_string());
            tracing::info!(other = other.as_deref(), "taking jobs");
            ctx.shutdown().stopping().await;
            first.close().await;
            tracing::info!(same_pool = second.is_closed(), "stopped taking jobs");
            Ok::<_, dozen::service::BoxError>(())
        })
        // The database's error wrapped the ways apps wrap errors: in a
        // string (no source left), and in an error of the app's own whose
        // source it is.
        .process("worker-string", |ctx| async move {
            let _pool = ctx
                .database::<Any>()
                .await
                .map_err(|e| format!("db: {e}"))?;
            tracing::info!("taking jobs");
            ctx.shutdown().stopping().await;
            Ok::<_, String>(())
        })
        .process("worker-wrapped", |ctx| async move {
            let _pool = ctx.database::<Any>().await.map_err(AppError)?;
            tracing::info!("taking jobs");
            ctx.shutdown().stopping().await;
            Ok::<_, AppError>(())
        })
}

/// An app's own error, the cause kept as its source.
#[derive(Debug)]
struct AppError(dozen::service::BoxError);

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cannot attach the database")
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

#[test]
#[ignore = "the service of the other tests, run by them in a child process"]
fn child() {
    crate::run_child(service());
}

/// [`child`] running, its stdout lines collected.
struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn start(args: &str, env: &[(&str, &str)]) -> Self {
        let mut child = crate::child_command("database", args)
            .env("PORT", "0")
            .env("SHUTDOWN_DELAY", "0s")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        // Both outputs: a process type logs to stdout, an admin command to stderr.
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        Self { child, lines }
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits for a line containing `needle`.
    fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let since = Instant::now();
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return line.clone();
            }
            assert!(
                since.elapsed() < timeout,
                "no line with {needle} within {timeout:?}:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The address of the `listening` line.
    fn addr(&self) -> SocketAddr {
        let line = self.wait_for("\"listening\"", Duration::from_secs(20));
        let value: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        let addr: SocketAddr = value["addr"]
            .as_str()
            .expect("addr")
            .parse()
            .expect("an address");
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    }

    fn terminate(&mut self) -> Option<i32> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        self.exit()
    }

    fn exit(&mut self) -> Option<i32> {
        let since = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                std::thread::sleep(Duration::from_millis(50));
                return status.code();
            }
            assert!(
                since.elapsed() < Duration::from_secs(20),
                "still running:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Start-up stopped in `phase`, and nothing after it ran.
    fn stopped_in(&self, phase: &str) {
        let text = self.text();
        assert!(
            text.contains(&format!(
                "\"message\":\"shutdown began during start-up; stopping there\",\"phase\":\"{phase}\""
            )) || self.lines.lock().unwrap().iter().any(|l| {
                l.contains("shutdown began during start-up; stopping there")
                    && l.contains(&format!("\"phase\":\"{phase}\""))
            }),
            "no line saying start-up stopped in {phase}:\n{text}"
        );
        for after in [
            "\"ready\"",
            "migrations up to date",
            "schema up to date",
            "taking jobs",
        ] {
            assert!(
                !text.contains(after),
                "{after} after a signal in {phase}:\n{text}"
            );
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on `addr`: the status and the body.
fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    );
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

/// Probes `path` until it answers `status` with a body containing `body`,
/// within `timeout`; returns how long it took.
fn until(addr: SocketAddr, path: &str, status: u16, body: &str, timeout: Duration) -> Duration {
    let since = Instant::now();
    loop {
        let got = http_get(addr, path);
        if got.0 == status && got.1.contains(body) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < timeout,
            "{path}: {got:?}, expected {status} with {body} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A TCP proxy to `upstream` that can be cut (every connection dropped,
/// new ones closed at once) and restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    fn start(runtime: &tokio::runtime::Runtime, upstream: SocketAddr, up: bool) -> Self {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let up = Arc::new(AtomicBool::new(up));
        let connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (accepting, tracked) = (Arc::clone(&up), Arc::clone(&connections));
        runtime.spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tracked.lock().unwrap().push(task.abort_handle());
            }
        });
        Self {
            port,
            up,
            connections,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// A fresh PostgreSQL database: its URL and its address.
fn fresh_postgres(runtime: &tokio::runtime::Runtime, prefix: &str) -> Option<(String, SocketAddr)> {
    let base = dozen_testkit::service_url(dozen_testkit::POSTGRES)?;
    let url = runtime.block_on(dozen_testkit::fresh_postgres(&base, prefix));
    let parsed: ServiceUrl = url.parse().expect("a URL");
    let host = parsed.host().unwrap_or("127.0.0.1").to_owned();
    let port = parsed.port().unwrap_or(5432);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
        .expect("resolves")
        .next()
        .expect("an address");
    Some((url, addr))
}

/// `url` through `proxy` instead of directly.
fn through(url: &str, addr: SocketAddr, proxy: &Proxy) -> String {
    url.replacen(
        &format!(":{}/", addr.port()),
        &format!(":{}/", proxy.port),
        1,
    )
    .replacen("localhost:", "127.0.0.1:", 1)
}

/// `Context::database` attaches once: a second call, even a concurrent one,
/// gets the same pool, and one of another type is refused by name.
#[test]
fn the_database_is_attached_once_however_often_it_is_asked_for() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}/items.db?mode=rwc", dir.path().display());
    let mut app = Proc::start("worker", &[("DATABASE_URL", &url)]);
    let line = app.wait_for("taking jobs", Duration::from_secs(30));
    assert!(
        line.contains("the database is attached already, as a pool of another type"),
        "{line}"
    );
    assert_eq!(app.terminate(), Some(0), "{}", app.text());
    let stopped = app.wait_for("stopped taking jobs", Duration::from_secs(5));
    assert!(stopped.contains("\"same_pool\":true"), "{stopped}");
}

#[test]
fn sigterm_while_connecting_with_retry_stops_there_with_exit_0() {
    let url = format!("postgres://app:s3cr3t@127.0.0.1:{}/app", closed_port());
    for process in ["web", "worker", "worker-string", "worker-wrapped"] {
        let mut app = Proc::start(
            process,
            &[("DATABASE_URL", &url), ("DATABASE_CONNECT_TIMEOUT", "120s")],
        );
        app.wait_for("yet, retrying", Duration::from_secs(30));
        if process == "web" {
            let addr = app.addr();
            assert_eq!(http_get(addr, "/livez").0, 200);
            until(
                addr,
                "/readyz",
                503,
                "\"failing\":[\"database\"",
                Duration::from_secs(5),
            );
        }
        assert_eq!(app.terminate(), Some(0), "{process}:\n{}", app.text());
        app.stopped_in("connect");
        // A stop, however the process type wrapped the error it got, is
        // not a failure.
        let text = app.text();
        assert!(
            !text.contains("\"ERROR\"") && !text.contains("task failed"),
            "{process}:\n{text}"
        );
        let stderr = {
            let mut text = String::new();
            let _ = app
                .child
                .stderr
                .take()
                .map(|mut e| e.read_to_string(&mut text));
            text
        };
        assert!(!app.text().contains("s3cr3t") && !stderr.contains("s3cr3t"));
    }
}

/// `migrate` against a port nothing listens on retries until
/// `DATABASE_CONNECT_TIMEOUT`, then exits 1 naming the URL with its
/// password hidden: it neither hangs nor waits the default 30 s.
#[test]
fn migrate_gives_up_at_the_connect_timeout() {
    let port = closed_port();
    let url = format!("postgres://app:s3cr3t@127.0.0.1:{port}/app");
    for args in ["migrate", "migrate status --format json"] {
        let started = Instant::now();
        let mut job = Proc::start(
            args,
            &[("DATABASE_URL", &url), ("DATABASE_CONNECT_TIMEOUT", "1s")],
        );
        let code = job.exit();
        let took = started.elapsed();
        let text = job.text();
        assert_eq!(code, Some(1), "`{args}` took {took:?}:\n{text}");
        assert!(
            (Duration::from_secs(1)..Duration::from_secs(20)).contains(&took),
            "`{args}` took {took:?}:\n{text}"
        );
        assert!(text.contains("yet, retrying"), "`{args}`:\n{text}");
        assert!(
            text.contains(&format!(
                "cannot connect to postgres://app:***@127.0.0.1:{port}/app within 1s"
            )),
            "`{args}`:\n{text}"
        );
        assert!(!text.contains("s3cr3t"), "`{args}`:\n{text}");
    }
}

/// The distinction the test above must not blur: a database that stays
/// away past `DATABASE_CONNECT_TIMEOUT`, with no signal, is a failed task
/// (exit 70 and the error), however the process type wrapped the error.
#[test]
fn a_database_that_stays_away_fails_a_wrapping_process_type_with_70() {
    let url = format!("postgres://app:s3cr3t@127.0.0.1:{}/app", closed_port());
    for (process, logged) in [
        ("worker-string", "db: "),
        ("worker-wrapped", "cannot attach the database"),
    ] {
        let mut app = Proc::start(
            process,
            &[("DATABASE_URL", &url), ("DATABASE_CONNECT_TIMEOUT", "1s")],
        );
        assert_eq!(app.exit(), Some(70), "{process}:\n{}", app.text());
        let failed = app.wait_for("tracked task failed", Duration::from_secs(5));
        assert!(
            failed.contains("\"ERROR\"") && failed.contains(logged),
            "{process}: {failed}"
        );
    }
}

#[test]
fn readyz_follows_the_database_behind_a_proxy() {
    let runtime = runtime();
    let Some((url, addr)) = fresh_postgres(&runtime, "dozen_readyz") else {
        return;
    };
    let proxy = Proxy::start(&runtime, addr, false);
    let app = Proc::start(
        "web",
        &[
            ("DATABASE_URL", &through(&url, addr, &proxy)),
            ("DATABASE_CONNECT_TIMEOUT", "120s"),
            ("MIGRATE_ON_START", "true"),
        ],
    );
    let web = app.addr();
    app.wait_for("yet, retrying", Duration::from_secs(30));
    // While connecting: live, not ready, the database named.
    assert_eq!(http_get(web, "/livez").0, 200);
    let (status, body) = http_get(web, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"database\""), "{body}");
    proxy.restore();
    until(web, "/readyz", 200, "ready", Duration::from_secs(30));
    assert_eq!(http_get(web, "/livez").0, 200);
    assert_eq!(http_get(web, "/items").0, 200);
    // Cut: 503 naming the database within the check interval (5 s) plus 1 s.
    proxy.cut();
    let took = until(web, "/readyz", 503, "\"database\"", Duration::from_secs(6));
    assert!(took <= Duration::from_secs(6), "{took:?}");
    assert_eq!(http_get(web, "/livez").0, 200);
    proxy.restore();
    until(web, "/readyz", 200, "ready", Duration::from_secs(6));
    assert_eq!(http_get(web, "/items").0, 200);
    assert!(!app.text().contains("s3cr3t"));
}

/// Load that keeps every pooled connection busy, with requests queueing
/// for one, is not a database that is down: `/readyz` stays 200 throughout
/// and every request succeeds. (A readiness ping that queued behind the
/// requests for a pooled connection timed out and took a busy pod out of
/// service.)
#[test]
fn readyz_stays_200_while_load_holds_every_pooled_connection() {
    let runtime = runtime();
    let Some((url, _)) = fresh_postgres(&runtime, "dozen_ready_load") else {
        return;
    };
    let app = Proc::start(
        "web",
        &[
            ("DATABASE_URL", url.as_str()),
            ("DATABASE_MAX_CONNECTIONS", "2"),
            ("MIGRATE_ON_START", "true"),
        ],
    );
    let web = app.addr();
    until(web, "/readyz", 200, "ready", Duration::from_secs(30));
    // 12 clients on 2 connections, 0.3 s a query: each request waits about
    // 1.8 s for a connection, longer than the 1 s readiness timeout; for
    // 7 s, more than the 5 s check interval.
    let load_for = Duration::from_secs(7);
    let clients: Vec<_> = (0..12)
        .map(|_| {
            std::thread::spawn(move || {
                let since = Instant::now();
                let mut statuses = Vec::new();
                while since.elapsed() < load_for {
                    statuses.push(http_get(web, "/slow").0);
                }
                statuses
            })
        })
        .collect();
    let since = Instant::now();
    let mut probes = Vec::new();
    while since.elapsed() < load_for {
        probes.push(http_get(web, "/readyz"));
        std::thread::sleep(Duration::from_millis(200));
    }
    let statuses: Vec<u16> = clients
        .into_iter()
        .flat_map(|client| client.join().expect("a client"))
        .collect();
    assert!(statuses.len() >= 12, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let unready: Vec<_> = probes.iter().filter(|(status, _)| *status != 200).collect();
    assert!(
        unready.is_empty(),
        "unready under load: {unready:?} of {}",
        probes.len()
    );
}

#[test]
fn an_unmigrated_database_is_not_ready_until_the_migrate_job_has_run() {
    let runtime = runtime();
    let Some((url, _)) = fresh_postgres(&runtime, "dozen_schema") else {
        return;
    };
    let app = Proc::start("web", &[("DATABASE_URL", &url)]);
    let web = app.addr();
    app.wait_for("waiting for the migrate Job", Duration::from_secs(30));
    until(web, "/readyz", 503, "\"schema\"", Duration::from_secs(5));
    assert_eq!(
        http_get(web, "/items").0,
        503,
        "no application route before ready"
    );
    let mut job = Proc::start("migrate", &[("DATABASE_URL", &url)]);
    assert_eq!(job.exit(), Some(0), "{}", job.text());
    until(web, "/readyz", 200, "ready", Duration::from_secs(10));
    assert_eq!(http_get(web, "/items").0, 200);
    app.wait_for("schema up to date", Duration::from_secs(1));
}

/// The advisory lock key dozen-migrate takes for its default history table
/// in `public` (pinned by a unit test of dozen-migrate).
const MIGRATION_LOCK_KEY: i64 = i64::from_ne_bytes(0xd383_eab6_99cb_7857_u64.to_ne_bytes());

#[test]
fn sigterm_while_the_migration_lock_is_held_stops_there() {
    use sqlx::Connection as _;
    let runtime = runtime();
    let Some((url, _)) = fresh_postgres(&runtime, "dozen_lock") else {
        return;
    };
    let mut holder = runtime
        .block_on(sqlx::PgConnection::connect(&url))
        .expect("connects");
    runtime
        .block_on(
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut holder),
        )
        .expect("locks");
    // The web process migrating on start, and the migrate command.
    let mut app = Proc::start(
        "web",
        &[("DATABASE_URL", &url), ("MIGRATE_ON_START", "true")],
    );
    app.addr();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(app.terminate(), Some(0), "{}", app.text());
    app.stopped_in("migrations");
    let mut job = Proc::start("migrate", &[("DATABASE_URL", &url)]);
    job.wait_for("configuration loaded", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(job.terminate(), Some(143), "{}", job.text());
    assert!(!job.text().contains("migrations up to date"));
}

/// A SIGTERM while the web process waits for the migrate Job still closes
/// the pool (and the migration connection): the close hook is registered as
/// soon as the pool is connected, not after the schema is ready.
#[test]
fn sigterm_during_the_schema_wait_closes_the_pool() {
    let runtime = runtime();
    let Some((url, _)) = fresh_postgres(&runtime, "dozen_schema_stop") else {
        return;
    };
    let mut app = Proc::start(
        "web",
        &[
            ("DATABASE_URL", &url),
            ("RUST_LOG", "info,dozen_shutdown=debug"),
        ],
    );
    app.addr();
    app.wait_for("waiting for the migrate Job", Duration::from_secs(30));
    assert_eq!(app.terminate(), Some(0), "{}", app.text());
    // Not `stopped_in`: the waiting line itself says "schema up to date".
    let stopped = app.wait_for("stopping there", Duration::from_secs(1));
    assert!(stopped.contains("\"phase\":\"migrations\""), "{stopped}");
    let closed = app.wait_for("\"hook\":\"close database pool\"", Duration::from_secs(1));
    assert!(
        closed.contains("teardown hook finished"),
        "the pool's close hook did not finish: {closed}"
    );
}

#[test]
fn config_and_migrate_help_need_no_database_nor_a_valid_configuration() {
    let bad = [("DATABASE_URL", "nowhere"), ("PORT", "eighty")];
    let mut config = Proc::start("config", &bad);
    assert_eq!(config.exit(), Some(0));
    let text = config.text();
    for var in [
        "`DATABASE_URL`",
        "`DATABASE_MAX_CONNECTIONS`",
        "`DATABASE_CONNECT_TIMEOUT`",
        "`MIGRATE_ON_START`",
        "`MIGRATE_TABLE`",
        "`MIGRATE_WAIT_TIMEOUT`",
        "`PORT`",
        "`SHUTDOWN_TIMEOUT`",
        "`LOG_FORMAT`",
    ] {
        assert!(text.contains(var), "{var} missing:\n{text}");
    }
    let mut help = Proc::start("migrate --help", &bad);
    assert_eq!(help.exit(), Some(0));
    assert!(help.text().contains("items migrate"), "{}", help.text());
    assert!(!help.text().contains("configuration loaded"));
    let mut usage = Proc::start("--help", &bad);
    assert_eq!(usage.exit(), Some(0));
    assert!(usage.text().contains("items migrate"), "{}", usage.text());
}

/// An app whose function that builds its migrations panics fails the way one that returns
/// an error does, before any connection: exit 1 naming the panic, for `migrate` and for a
/// process type, not 101 from a panic unwinding out of the entry point.
#[test]
fn migrations_that_panic_fail_start_up_with_1() {
    let url = format!("postgres://app:s3cr3t@127.0.0.1:{}/app", closed_port());
    for args in ["migrate", "web"] {
        let mut job = Proc::start(args, &[("DATABASE_URL", &url), ("MIGRATIONS_PANIC", "1")]);
        let code = job.exit();
        let text = job.text();
        assert_eq!(code, Some(1), "`{args}`:\n{text}");
        assert!(
            text.contains("cannot load the embedded migrations")
                && text.contains("panicked: the migrations panicked"),
            "`{args}`:\n{text}"
        );
    }
}
