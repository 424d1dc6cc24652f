//! dozen-shutdown: the cost of a tracked task per request, and how long an
//! idle server takes from SIGTERM to exit.
//!
//! Group `shutdown`: spawn one task and await it, as a server does per
//! request, with plain `tokio::spawn`, tokio-util's `TaskTracker::spawn` and
//! `Shutdown::spawn` (which also names the task, catches its panics and makes
//! it abortable at the drain budget). Allocations per op are printed next to
//! the times.
//!
//! Then, outside criterion, the idle SIGTERM-to-exit latency: `main` re-runs
//! this binary as a child that serves axum through `dozen_shutdown::axum::serve`
//! with `SHUTDOWN_DELAY=0`, sends it SIGTERM with the `kill` command and times
//! the exit. The same measurement on a child that leaves SIGTERM to its
//! default action (the process dies at once) is the floor: process and `kill`
//! start-up, signal delivery and reaping.
//!
//! Run with: cargo bench -p dozen-benches --bench shutdown

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use dozen_benches::{CountingAlloc, allocations, report_allocations};
use dozen_shutdown::Shutdown;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Set in a child process: `server` or `bare`.
const CHILD: &str = "DOZEN_BENCH_SHUTDOWN_CHILD";

/// SIGTERM-to-exit runs per kind of child.
const RUNS: usize = 15;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// One peer: spawns a task that does nothing and returns its handle.
type Spawner = Arc<dyn Fn() -> tokio::task::JoinHandle<()> + Send + Sync>;

/// Spawns and awaits `iters` tasks made by `spawn`, from a task on a runtime
/// worker, as a server does per request; returns the time taken.
fn spawn_and_await<F>(rt: &tokio::runtime::Runtime, iters: u64, spawn: F) -> Duration
where
    F: Fn() -> tokio::task::JoinHandle<()> + Send + 'static,
{
    rt.block_on(async move {
        tokio::spawn(async move {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(spawn().await.ok());
            }
            start.elapsed()
        })
        .await
        .expect("the measuring task")
    })
}

fn spawn_per_request(c: &mut Criterion) {
    let rt = runtime();
    let shutdown = rt.block_on(async {
        Shutdown::builder()
            .with_signals(false)
            .with_watchdog(false)
            .build()
            .expect("a shutdown")
    });
    let tracker = tokio_util::task::TaskTracker::new();
    let peers: [(&str, Spawner); 3] = [
        (
            "tokio-spawn",
            Arc::new(|| tokio::spawn(async { black_box(()) })),
        ),
        (
            "task-tracker-spawn",
            Arc::new(move || tracker.spawn(async { black_box(()) })),
        ),
        (
            "dozen-shutdown-spawn",
            Arc::new(move || shutdown.spawn("request", async { black_box(()) })),
        ),
    ];

    let mut group = c.benchmark_group("shutdown");
    for (id, spawn) in &peers {
        group.bench_function(*id, |b| {
            b.iter_custom(|iters| {
                let spawn = Arc::clone(spawn);
                spawn_and_await(&rt, iters, move || spawn())
            });
        });
    }
    group.finish();

    const ITERS: u64 = 10_000;
    for (id, spawn) in &peers {
        let spawn = Arc::clone(spawn);
        let before = allocations();
        spawn_and_await(&rt, ITERS, move || spawn());
        #[allow(clippy::cast_precision_loss, reason = "a ratio for a report")]
        let per_op = (allocations() - before) as f64 / ITERS as f64;
        report_allocations("shutdown", id, per_op);
    }
}

/// Starts this binary as a `kind` child, waits until it serves, sends SIGTERM
/// and returns the time to its exit.
fn sigterm_to_exit(kind: &str) -> Duration {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(CHILD, kind)
        .env("SHUTDOWN_DELAY", "0s")
        .env("SHUTDOWN_TIMEOUT", "5s")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("a child");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("the child's first line");
    assert!(line.starts_with("LISTENING"), "{line:?}");
    // Let it settle into idleness.
    std::thread::sleep(Duration::from_millis(20));
    let start = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("exit status");
    let took = start.elapsed();
    if kind == "server" {
        assert_eq!(status.code(), Some(0), "a clean exit");
    }
    took
}

fn report_latency() {
    for kind in ["bare", "server"] {
        let mut runs: Vec<Duration> = (0..RUNS).map(|_| sigterm_to_exit(kind)).collect();
        runs.sort_unstable();
        let what = match kind {
            "bare" => "default SIGTERM action (floor)",
            _ => "dozen_shutdown::axum::serve, idle, SHUTDOWN_DELAY=0",
        };
        println!(
            "shutdown/sigterm-to-exit/{kind}: median {:.2} ms, min {:.2} ms, max {:.2} ms over {RUNS} runs ({what})",
            runs[RUNS / 2].as_secs_f64() * 1e3,
            runs[0].as_secs_f64() * 1e3,
            runs[RUNS - 1].as_secs_f64() * 1e3,
        );
    }
}

/// The child: an idle axum server with health routes, like a real service.
fn child(kind: &str) {
    let rt = runtime();
    let code = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        if kind == "bare" {
            println!("LISTENING {}", listener.local_addr().expect("addr").port());
            std::future::pending::<()>().await;
        }
        let settings = dozen_config::from_env().expect("settings");
        let shutdown = Shutdown::builder()
            .settings(settings)
            .build()
            .expect("a shutdown");
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "hello" }))
            .merge(dozen_shutdown::axum::health_routes(&shutdown));
        shutdown.spawn(
            "http server",
            dozen_shutdown::axum::serve(listener, app, shutdown.clone()),
        );
        println!("LISTENING");
        shutdown.wait().await
    });
    drop(rt);
    std::process::exit(i32::from(code.code()));
}

fn main() {
    if let Ok(kind) = std::env::var(CHILD) {
        child(&kind);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    spawn_per_request(&mut c);
    c.final_summary();
    if !std::env::args().any(|arg| arg == "--list") {
        report_latency();
    }
}
