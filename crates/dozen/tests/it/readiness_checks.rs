//! `/readyz` follows the readiness of the process and the cached results of
//! its registered checks: 503 while starting, 200 once ready and every check
//! passes, 503 naming a check that fails or times out and 200 again when it
//! recovers, 503 once draining; `/livez` stays 200 throughout, and probes
//! never run a check themselves. A check's error is logged once each time
//! it starts failing, and never put in the body.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use dozen::service::{Check, Health};
use dozen::shutdown::Shutdown;
use tower::ServiceExt as _;

async fn get(health: &Health, path: &str) -> (u16, String) {
    let response = health
        .routes::<()>()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Probes `/readyz` until it answers `status` with `body`, within 2 s.
async fn until(health: &Health, status: u16, body: &str) {
    let since = Instant::now();
    loop {
        let got = get(health, "/readyz").await;
        if got == (status, body.to_owned()) {
            return;
        }
        assert!(
            since.elapsed() < Duration::from_secs(2),
            "/readyz answers {got:?}, not {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A check named `cache` that passes while `up` is set and otherwise fails
/// with `error`, counting its `runs`: (the check, `up`, `runs`).
fn cache(error: &'static str) -> (Check, Arc<AtomicBool>, Arc<AtomicUsize>) {
    let up = Arc::new(AtomicBool::new(false));
    let runs = Arc::new(AtomicUsize::new(0));
    let (flag, count) = (Arc::clone(&up), Arc::clone(&runs));
    let check = Check::new("cache", move || {
        count.fetch_add(1, Ordering::SeqCst);
        let up = flag.load(Ordering::SeqCst);
        async move { if up { Ok(()) } else { Err(error) } }
    });
    (check, up, runs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_start_up_checks_and_shutdown() {
    let shutdown = Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(Duration::from_millis(50))
        .with_timeout(Duration::from_secs(5))
        .with_starting(true)
        .build()
        .unwrap();
    let health = Health::new(&shutdown);
    until(&health, 503, r#"{"status":"starting"}"#).await;

    let (check, up, runs) = cache("connection refused");
    health.add(check.with_interval(Duration::from_millis(20)));
    until(&health, 503, r#"{"status":"starting","failing":["cache"]}"#).await;
    assert!(shutdown.mark_ready());
    until(&health, 503, r#"{"status":"failing","failing":["cache"]}"#).await;

    // The check recovers, fails again, recovers again: /readyz follows.
    up.store(true, Ordering::SeqCst);
    until(&health, 200, r#"{"status":"ready"}"#).await;
    assert!(health.is_ready());
    up.store(false, Ordering::SeqCst);
    until(&health, 503, r#"{"status":"failing","failing":["cache"]}"#).await;
    up.store(true, Ordering::SeqCst);
    until(&health, 200, r#"{"status":"ready"}"#).await;

    // Probes read the cached result: a hundred of them run no check.
    let before = runs.load(Ordering::SeqCst);
    for _ in 0..100 {
        assert_eq!(get(&health, "/readyz").await.0, 200);
    }
    let ran = runs.load(Ordering::SeqCst) - before;
    assert!(ran < 50, "{ran} runs for 100 probes");

    // A check that outlives its timeout fails, named.
    health.add(
        Check::new("slow", || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<(), std::io::Error>(())
        })
        .with_timeout(Duration::from_millis(30)),
    );
    until(&health, 503, r#"{"status":"failing","failing":["slow"]}"#).await;

    assert_eq!(
        get(&health, "/livez").await,
        (200, r#"{"status":"live"}"#.to_owned())
    );
    shutdown.trigger();
    until(&health, 503, r#"{"status":"draining","failing":["slow"]}"#).await;
    assert_eq!(get(&health, "/livez").await.0, 200);
    // The checks end with the service: shutdown does not wait for them.
    let outcome = tokio::time::timeout(Duration::from_secs(2), shutdown.wait()).await;
    assert_eq!(outcome.map(|o| o.code()), Ok(0));
}

/// Everything logged on this thread while the guard lives: the checks run
/// on the current-thread runtime of the test, so on this thread too.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn lines(&self, message: &str) -> usize {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines().filter(|line| line.contains(message)).count()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A shutdown already past start-up, without signals, watchdog or delay.
fn ready_shutdown() -> Shutdown {
    Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(Duration::ZERO)
        .with_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// The error of the check below: what a real one may hold, a host and a
/// user, which the logs may show and `/readyz` must not.
const REFUSED: &str = "connection to cache.internal:6379 as ops refused";

#[tokio::test(flavor = "current_thread")]
async fn a_failing_check_is_logged_once_per_failure_and_never_in_the_body() {
    let (logs, _guard) = Logs::capture();
    let shutdown = ready_shutdown();
    let health = Health::new(&shutdown);
    let (check, up, runs) = cache(REFUSED);
    health.add(check.with_interval(Duration::from_millis(10)));
    // Probes /readyz until the check has run five more times, each answer
    // `status` with `body`: a failure lasts, and is still logged once.
    let hold = |status: u16, body: &'static str| {
        let (health, runs) = (health.clone(), Arc::clone(&runs));
        async move {
            until(&health, status, body).await;
            let since = runs.load(Ordering::SeqCst);
            while runs.load(Ordering::SeqCst) < since + 5 {
                let (got, text) = get(&health, "/readyz").await;
                assert!(!text.contains("refused"), "the error in the body: {text}");
                assert_eq!((got, text.as_str()), (status, body));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let failing = r#"{"status":"failing","failing":["cache"]}"#;
    hold(503, failing).await;
    up.store(true, Ordering::SeqCst);
    hold(200, r#"{"status":"ready"}"#).await;
    up.store(false, Ordering::SeqCst);
    hold(503, failing).await;
    shutdown.trigger();
    let outcome = tokio::time::timeout(Duration::from_secs(2), shutdown.wait()).await;
    assert_eq!(outcome.map(|o| o.code()), Ok(0));

    assert_eq!(logs.lines("readiness check failing"), 2);
    assert_eq!(logs.lines(REFUSED), 2, "the error is logged with each");
    assert_eq!(logs.lines("readiness check passing again"), 1);
}

/// A check that passed and then blocks its thread (a synchronous call that hangs) cannot be
/// timed out by the runtime, which only gets control back when the call returns: `/readyz`
/// does not answer from its last result meanwhile, but 503 naming it once the run is past
/// its timeout, and 200 again once a run passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_that_blocks_its_thread_fails_once_past_its_timeout() {
    let shutdown = ready_shutdown();
    let health = Health::new(&shutdown);
    let block = Arc::new(AtomicBool::new(false));
    let blocks = Arc::clone(&block);
    health.add(
        Check::new("dns", move || {
            if blocks.swap(false, Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1500));
            }
            async { Ok::<(), &str>(()) }
        })
        .with_timeout(Duration::from_millis(100))
        .with_interval(Duration::from_millis(20)),
    );
    until(&health, 200, r#"{"status":"ready"}"#).await;
    block.store(true, Ordering::SeqCst);
    // Probed the way another worker would answer it meanwhile: without the runtime's timers,
    // which the blocked worker may have been driving.
    let since = Instant::now();
    loop {
        let got = get(&health, "/readyz").await;
        if got.0 == 503 {
            assert_eq!(got.1, r#"{"status":"failing","failing":["dns"]}"#);
            break;
        }
        assert!(
            since.elapsed() < Duration::from_millis(1200),
            "still {got:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    until(&health, 200, r#"{"status":"ready"}"#).await;
    shutdown.trigger();
    shutdown.wait().await;
}
