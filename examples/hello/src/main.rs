//! Run with: cargo run -p example-hello
//!
//! The smallest dozen service: one route and no database, with settings
//! from the environment (exit 78 listing every problem), JSON logs with a
//! trace per request, `/livez` and `/readyz`, graceful shutdown, and the
//! `config` command. `hello --help` lists what it can do.

use std::process::ExitCode;
use std::time::Duration;

use axum::{Router, routing::get};
use dozen::service::Service;

/// The app's own settings, read from the environment with dozen's.
#[derive(serde::Deserialize)]
struct Hello {
    /// `GREETING`: what `GET /` answers (default `hello`).
    #[serde(default)]
    greeting: Option<String>,
    /// `WARM_UP`: a pause before the route is served (default `0s`),
    /// standing in for the start-up work of a real service.
    #[serde(default, with = "humantime_serde")]
    warm_up: Duration,
}

fn main() -> ExitCode {
    Service::<Hello>::new("hello", env!("CARGO_PKG_VERSION"))
        .web(|ctx| async move {
            tokio::time::sleep(ctx.settings().warm_up).await;
            let greeting = ctx.settings().greeting.clone();
            let greeting = greeting.unwrap_or_else(|| "hello".to_owned());
            Router::new().route("/", get(move || async move { greeting }))
        })
        .run()
}
