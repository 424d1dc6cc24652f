//! Factor IX, end to end: SIGTERM under load loses no request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::{http, spawn};
use crate::todo_api;

#[test]
fn sigterm_under_load_fails_no_request_and_exits_0() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    let delay = Duration::from_millis(1500);
    let mut app = spawn(
        todo_api(),
        &[],
        &[
            ("DATABASE_URL", &url),
            ("PORT", "0"),
            ("SHUTDOWN_DELAY", "1500ms"),
            ("SHUTDOWN_TIMEOUT", "10s"),
        ],
    );
    let addr = app.listening();

    // Four clients write and read as fast as they can, like traffic that a
    // load balancer keeps routing for a while after SIGTERM.
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (stop, sent, failed) = (Arc::clone(&stop), Arc::clone(&sent), Arc::clone(&failed));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let body = format!(r#"{{"title": "load {i}"}}"#);
                    let ok = match http(addr, "POST", "/todos", Some(&body)) {
                        Ok(r) => r.status == 201,
                        Err(_) => false,
                    };
                    sent.fetch_add(1, Ordering::Relaxed);
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = sent.load(Ordering::Relaxed);
    app.signal("TERM");
    let signalled = Instant::now();

    // During the delay readiness reports 503, while requests still succeed.
    std::thread::sleep(Duration::from_millis(300));
    let ready = http(addr, "GET", "/readyz", None).expect("readyz answers during the delay");
    assert_eq!(ready.status, 503, "readiness turns 503 at SIGTERM");
    // The load balancer has caught up by the end of the delay.
    std::thread::sleep(delay.saturating_sub(signalled.elapsed() + Duration::from_millis(300)));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("client thread");
    }
    let status = app.wait_exit(Duration::from_secs(10));
    let total = sent.load(Ordering::Relaxed);
    assert!(total > before, "requests were sent after SIGTERM");
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "{total} requests, none may fail"
    );
    assert_eq!(status.code(), Some(0), "a graceful stop exits 0");
    // Exit follows the delay promptly: delay + drain, with a margin for a
    // loaded machine, far below the 10 s deadline.
    let took = signalled.elapsed();
    assert!(took < delay + Duration::from_secs(3), "exit took {took:?}");
}
