//! The web process type: bind `PORT` and serve the health routes at once,
//! then run the app's start-up, then serve its routes until shutdown.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Instant;

use axum::Router;
use dozen_log::http::RequestLogLayer;
use dozen_shutdown::Shutdown;
use dozen_shutdown::axum::{CatchPanicLayer, HttpSettings, serve};
use tokio::net::TcpListener;

use super::context::Context;
use super::exit_code;
use super::health::Health;
use super::settings::WebSettings;
use super::slot::AppSlot;
use super::step::WebFn;
use super::stopped::Starting;

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
    let starting = Starting::new(&shutdown);
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
        Err(not_bound) => return not_bound.end(&shutdown, starting).await,
    };
    let management = match (web.management_port, management) {
        (Some(port), Some(routes)) => match bind(&shutdown, "MANAGEMENT_PORT", port).await {
            Ok(listener) => Some((listener, routes)),
            Err(not_bound) => return not_bound.end(&shutdown, starting).await,
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
        drop(starting);
        return shutdown.wait().await.into();
    };
    let failed = match built {
        Ok(Ok(router)) => Ok(router),
        // Stopped attaching a resource, whatever the function made of the
        // error: said so already.
        Ok(Err(_)) if phases.were_stopped() => {
            drop(starting);
            return shutdown.wait().await.into();
        }
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("it panicked".to_owned()),
    };
    let router = match failed {
        Ok(router) => router,
        Err(error) => {
            tracing::error!(%error, "start-up failed");
            drop(starting);
            shutdown.trigger();
            let _ = shutdown.wait().await;
            return ExitCode::from(exit_code::START_FAILED);
        }
    };
    // The request log outside the catch, so that a handler's panic is logged
    // as the 500 the client gets (`serve` would catch it too, but outside the
    // log, which would then take the request for one its client gave up), and
    // a failed request body as its 413 or 408, whatever the handler answered.
    slot.set(
        router
            .layer(CatchPanicLayer::new())
            .layer(RequestLogLayer::new()),
    );
    if shutdown.mark_ready() {
        tracing::info!(
            elapsed_ms = u64::try_from(begun.elapsed().as_millis()).unwrap_or(u64::MAX),
            "ready"
        );
    }
    drop(starting);
    shutdown.wait().await.into()
}

/// Why a port was not bound.
enum NotBound {
    /// Shutdown began first.
    Stopped,
    /// The bind failed (logged already).
    Failed,
}

impl NotBound {
    /// Ends the process: the shutdown's exit code, or 1 for a failed bind
    /// (after the shutdown it starts).
    async fn end(self, shutdown: &Shutdown, starting: Starting) -> ExitCode {
        match self {
            Self::Stopped => {
                tracing::info!(
                    phase = "bind",
                    "shutdown began during start-up; stopping there"
                );
                drop(starting);
                shutdown.wait().await.into()
            }
            Self::Failed => {
                drop(starting);
                shutdown.trigger();
                let _ = shutdown.wait().await;
                ExitCode::from(exit_code::START_FAILED)
            }
        }
    }
}

/// Binds `port` (`var` names it) on every IPv4 address, unless shutdown
/// begins first.
async fn bind(shutdown: &Shutdown, var: &'static str, port: u16) -> Result<TcpListener, NotBound> {
    match shutdown
        .run_until_shutdown(TcpListener::bind(("0.0.0.0", port)))
        .await
    {
        // The bind is a blocking call, not cancelled by a signal that lands
        // during it: the listener is then closed unused.
        Some(Ok(_)) if shutdown.remaining().is_some() => Err(NotBound::Stopped),
        Some(Ok(listener)) => Ok(listener),
        Some(Err(error)) => {
            tracing::error!(%error, var, port, "cannot bind the port");
            Err(NotBound::Failed)
        }
        None => Err(NotBound::Stopped),
    }
}

fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}
