//! A load balancer sees start-up and shutdown: `/readyz` answers 503 while
//! starting and again once draining starts, while `/livez` stays 200.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dozen_shutdown::Shutdown;
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_starting_and_draining_and_livez_stays_200() {
    let shutdown = Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(Duration::from_millis(100))
        .with_timeout(Duration::from_secs(5))
        .with_starting(true)
        .build()
        .unwrap();
    let app: axum::Router = dozen_shutdown::axum::health_routes(&shutdown);
    async fn get(app: &axum::Router, path: &str) -> (StatusCode, String) {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }
    let check = async |path: &str, status: StatusCode, body: &str| {
        assert_eq!(get(&app, path).await, (status, body.to_owned()), "{path}");
    };
    check("/readyz", StatusCode::SERVICE_UNAVAILABLE, "starting").await;
    check("/livez", StatusCode::OK, "live").await;
    shutdown.mark_ready();
    check("/readyz", StatusCode::OK, "ready").await;
    check("/livez", StatusCode::OK, "live").await;
    shutdown.trigger();
    check("/readyz", StatusCode::SERVICE_UNAVAILABLE, "draining").await;
    check("/livez", StatusCode::OK, "live").await;
    shutdown.stopping().await;
    check("/readyz", StatusCode::SERVICE_UNAVAILABLE, "stopping").await;
    check("/livez", StatusCode::OK, "live").await;
}
