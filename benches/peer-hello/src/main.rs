//! Run with: cargo run -p peer-hello
//!
//! examples/hello written without dozen, against the crates a service
//! would use instead: settings from the environment with envy (exit 78 on
//! the first problem), JSON logs with tracing-subscriber's `fmt().json()`
//! and a line per request, `/livez` and `/readyz`, and graceful shutdown on
//! SIGTERM or SIGINT with tokio's signals. It exists so that
//! `benches/adoption.sh` can compare what each costs to build and ship.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::{Router, routing::get};
use tracing_subscriber::EnvFilter;

/// The app's settings, read from the environment with envy.
#[derive(serde::Deserialize)]
struct Hello {
    /// `PORT`: where to listen (default 8080).
    #[serde(default = "default_port")]
    port: u16,
    /// `GREETING`: what `GET /` answers (default `hello`).
    #[serde(default)]
    greeting: Option<String>,
    /// `WARM_UP`: a pause before the route is served (default `0s`).
    #[serde(default, with = "humantime_serde")]
    warm_up: Duration,
}

fn default_port() -> u16 {
    8080
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let settings: Hello = match envy::from_env() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "invalid settings");
            return ExitCode::from(78);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the server failed");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Hello) -> std::io::Result<()> {
    let ready = Arc::new(AtomicBool::new(false));
    let addr = SocketAddr::from(([0, 0, 0, 0], settings.port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "listening");
    tokio::time::sleep(settings.warm_up).await;
    let greeting = settings.greeting.unwrap_or_else(|| "hello".to_owned());
    let app = Router::new()
        .route("/", get(move || async move { greeting }))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(Arc::clone(&ready))
        .layer(middleware::from_fn(log_request));
    ready.store(true, Ordering::Release);
    axum::serve(listener, app)
        .with_graceful_shutdown(signalled(ready))
        .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn readyz(State(ready): State<Arc<AtomicBool>>) -> StatusCode {
    if ready.load(Ordering::Acquire) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// One log line per request: method, path, status and latency.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    response
}

/// Resolves on SIGTERM or SIGINT, after marking the process not ready.
async fn signalled(ready: Arc<AtomicBool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for signals");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    ready.store(false, Ordering::Release);
    tracing::info!("shutting down");
}
