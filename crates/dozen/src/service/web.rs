//! The web process type: bind `PORT` and serve the health routes at once,
//! then run the app's start-up, then serve its routes until shutdown.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Instant;

use axum::Router;
use dozen_log::http::RequestLogLayer;
use dozen_shutdown::Shutdown;
use dozen_shutdown::axum::{HttpSettings, serve};
use tokio::net::TcpListener;

use super::context::Context;
use super::exit_code;
use super::health::Health;
use super::settings::WebSettings;
use super::slot::AppSlot;
use super::step::WebFn;

/// Runs the web process type to its end.
pub(crate) async fn run<S>(
    f: WebFn<S>,
    ctx: Context<S>,
    health: &Health,
    web: WebSettings,
    http: HttpSettings,
) -> ExitCode
where
    S: Send + Sync + 'static,
{
    let shutdown = ctx.shutdown().clone();
    let begun = Instant::now();
    let slot = AppSlot::default();
    let (app, management) = match web.management_port {
        Some(_) => (
            Router::new().fallback_service(slot.clone()),
            Some(health.routes()),
        ),
        None => (health.routes().fallback_service(slot.clone()), None),
    };
    let listener = match bind(&shutdown, "PORT", web.port).await {
        Ok(listener) => listener,
        Err(code) => return code,
    };
    let management = match (web.management_port, management) {
        (Some(port), Some(routes)) => match bind(&shutdown, "MANAGEMENT_PORT", port).await {
            Ok(listener) => Some((listener, routes)),
            Err(code) => return code,
        },
        _ => None,
    };
    let addr = local_addr(&listener);
    let management_addr = management
        .as_ref()
        .map(|(listener, _)| local_addr(listener));
    tracing::info!(
        addr = %addr,
        management_addr = management_addr.map(|a| a.to_string()),
        "listening"
    );
    shutdown.spawn(
        "http server",
        serve(listener, app, shutdown.clone()).settings(http.clone()),
    );
    if let Some((listener, routes)) = management {
        shutdown.spawn(
            "management server",
            serve(listener, routes, shutdown.clone()).settings(http),
        );
    }

    // On a task of its own, so that a panic in it is a start-up failure.
    let phases = ctx.phases().clone();
    let start = tokio::spawn(f(ctx));
    let abort = start.abort_handle();
    let Some(built) = shutdown.run_until_shutdown(start).await else {
        abort.abort();
        phases.stopped("start");
        return shutdown.wait().await.into();
    };
    let failed = match built {
        Ok(Ok(router)) => Ok(router),
        // Stopped attaching a resource, whatever the function made of the
        // error: said so already.
        Ok(Err(_)) if phases.were_stopped() => return shutdown.wait().await.into(),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("it panicked".to_owned()),
    };
    let router = match failed {
        Ok(router) => router,
        Err(error) => {
            tracing::error!(%error, "start-up failed");
            shutdown.trigger();
            let _ = shutdown.wait().await;
            return ExitCode::from(exit_code::START_FAILED);
        }
    };
    slot.set(router.layer(RequestLogLayer::new()));
    if shutdown.mark_ready() {
        tracing::info!(
            elapsed_ms = u64::try_from(begun.elapsed().as_millis()).unwrap_or(u64::MAX),
            "ready"
        );
    }
    shutdown.wait().await.into()
}

/// Binds `port` (`var` names it) on every IPv4 address, unless shutdown
/// begins first.
async fn bind(shutdown: &Shutdown, var: &'static str, port: u16) -> Result<TcpListener, ExitCode> {
    match shutdown
        .run_until_shutdown(TcpListener::bind(("0.0.0.0", port)))
        .await
    {
        // The bind is a blocking call, not cancelled by a signal that lands
        // during it: the listener is then closed unused.
        Some(Ok(_)) if shutdown.remaining().is_some() => {
            Err(stopped_during_start_up(shutdown, "bind").await)
        }
        Some(Ok(listener)) => Ok(listener),
        Some(Err(error)) => {
            tracing::error!(%error, var, port, "cannot bind the port");
            shutdown.trigger();
            let _ = shutdown.wait().await;
            Err(ExitCode::from(exit_code::START_FAILED))
        }
        None => Err(stopped_during_start_up(shutdown, "bind").await),
    }
}

fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Shutdown began during start-up `phase`: nothing after it runs; the
/// shutdown sequence does, and its outcome is the exit code.
async fn stopped_during_start_up(shutdown: &Shutdown, phase: &'static str) -> ExitCode {
    tracing::info!(phase, "shutdown began during start-up; stopping there");
    shutdown.wait().await.into()
}
