//! axum integration: `/readyz` and `/livez`, a graceful [`serve`], and
//! [`close_on_drain`] for streaming responses.
//!
//! [`serve`] serves HTTP/1.1 with hyper, one tracked task per connection, so
//! that it controls each connection through the phases:
//!
//! - **Draining** (the propagation delay): it keeps accepting and serving;
//!   every response carries `connection: close`, so keep-alive clients move to
//!   a new connection after their current request instead of being cut off
//!   while they may be sending one.
//! - **Stopping**: it takes the connections already waiting in the listen
//!   backlog, closes the listener, and shuts every connection down gracefully:
//!   idle ones close at once, busy ones after their response.
//! - The drain ends when every connection is closed, or at the drain budget,
//!   when the connections still open are dropped.
//!
//! A streaming response would keep its connection busy until the drain
//! budget runs out. Server-sent event streams (`content-type:
//! text/event-stream`) end by themselves when draining starts; wrap other
//! long-lived bodies (a long poll, an NDJSON tail) in [`close_on_drain`]. A
//! WebSocket handler should select on [`Shutdown::draining`] and send a close
//! frame.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use ::axum::Router;
use ::axum::body::{Body, Bytes};
use ::axum::extract::{ConnectInfo, State};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::future::RouteFuture;
use ::axum::routing::get;
use http::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use http::{Request, StatusCode};
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use pin_project_lite::pin_project;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::WaitForCancellationFutureOwned;
use tower_service::Service;

use crate::{Readiness, Shutdown};

/// A router with `GET /readyz` and `GET /livez`, to merge into an app.
///
/// `/readyz` answers `200 ready` while [`Readiness::Ready`] and
/// `503 draining` or `503 stopping` afterwards; `/livez` answers `200 live`
/// as long as the process can serve requests.
///
/// ```
/// # async fn f(shutdown: dozen_shutdown::Shutdown) {
/// let app: axum::Router = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "hello" }))
///     .merge(dozen_shutdown::axum::health_routes(&shutdown));
/// # }
/// ```
pub fn health_routes<S>(shutdown: &Shutdown) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/readyz", get(readyz))
        .route("/livez", get(livez))
        .with_state(shutdown.clone())
}

/// The `/readyz` handler: 200 while ready, 503 once shutdown has started.
pub async fn readyz(State(shutdown): State<Shutdown>) -> (StatusCode, &'static str) {
    match shutdown.readiness() {
        Readiness::Ready => (StatusCode::OK, "ready"),
        other => (StatusCode::SERVICE_UNAVAILABLE, other.as_str()),
    }
}

/// The `/livez` handler: 200 whenever it runs.
pub async fn livez() -> (StatusCode, &'static str) {
    (StatusCode::OK, "live")
}

/// Ends `response`'s body when draining starts, so a long-lived stream
/// (server-sent events, a long poll) cannot hold the drain open.
///
/// The client sees a normal end of the stream (the last chunk) and an
/// `EventSource` reconnects, by then to another replica.
///
/// ```
/// # use axum::response::Response;
/// # fn f(shutdown: &dozen_shutdown::Shutdown, stream_response: Response) -> Response {
/// dozen_shutdown::axum::close_on_drain(shutdown, stream_response)
/// # }
/// ```
pub fn close_on_drain(shutdown: &Shutdown, response: impl IntoResponse) -> Response {
    let draining = shutdown.inner_draining();
    response.into_response().map(|body| {
        Body::new(UntilDraining {
            body,
            draining,
            done: false,
        })
    })
}

pin_project! {
    struct UntilDraining {
        #[pin]
        body: Body,
        #[pin]
        draining: WaitForCancellationFutureOwned,
        done: bool,
    }
}

impl http_body::Body for UntilDraining {
    type Data = Bytes;
    type Error = ::axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        if this.draining.poll(cx).is_ready() {
            *this.done = true;
            return Poll::Ready(None);
        }
        let frame = this.body.poll_frame(cx);
        if let Poll::Ready(None) = frame {
            *this.done = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.body.is_end_stream()
    }
}

/// Serves `app` on `listener` until shutdown, draining gracefully.
///
/// Returns once the listener is closed (when the propagation delay is over);
/// the connections it accepted are tracked tasks, so [`Shutdown::wait`]
/// waits for them. Spawn it with [`Shutdown::spawn`], so that an accept
/// error that cannot be recovered from starts shutdown:
///
/// ```no_run
/// # async fn f(shutdown: dozen_shutdown::Shutdown, app: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// shutdown.spawn("http server", dozen_shutdown::axum::serve(listener, app, shutdown.clone()));
/// # Ok(())
/// # }
/// ```
///
/// Each request carries its peer's address in its extensions, both as
/// `axum::extract::ConnectInfo<SocketAddr>` and as a bare `SocketAddr`, as
/// `axum::serve` does with `into_make_service_with_connect_info`.
///
/// Only HTTP/1.1 is served (with upgrades, for WebSocket); Kubernetes
/// ingresses and load balancers speak HTTP/1.1 to pods.
///
/// # Errors
///
/// Reading the listener's address fails. Failed accepts are logged and
/// retried, as in `axum::serve`.
pub async fn serve(listener: TcpListener, app: Router, shutdown: Shutdown) -> io::Result<()> {
    let _listening = shutdown.register_guard("http listener");
    let local = listener.local_addr()?;
    tracing::debug!(%local, "serving http");
    let mut stopping = pin!(shutdown.stopping());
    loop {
        tokio::select! {
            biased;
            () = &mut stopping => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => spawn_connection(&shutdown, &app, stream, peer),
                Err(error) => {
                    if !is_connection_error(&error) {
                        tracing::error!(%error, "accept failed; retrying in 1 s");
                        tokio::select! {
                            () = &mut stopping => break,
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                }
            },
        }
    }
    // Connections the kernel completed before the listener closes were sent
    // before the service stopped accepting: serve them rather than reset them.
    let mut backlog = 0usize;
    while let Some(accepted) = poll_fn(|cx| match listener.poll_accept(cx) {
        Poll::Ready(accepted) => Poll::Ready(Some(accepted)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
    {
        if let Ok((stream, peer)) = accepted {
            backlog += 1;
            spawn_connection(&shutdown, &app, stream, peer);
        }
    }
    drop(listener);
    tracing::debug!(
        phase = "stopping",
        elapsed_ms = crate::duration::millis(shutdown.elapsed()),
        tasks = shutdown.tasks_in_flight(),
        backlog,
        %local,
        "listener closed"
    );
    Ok(())
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

fn spawn_connection(shutdown: &Shutdown, app: &Router, stream: TcpStream, peer: SocketAddr) {
    // Best effort: Nagle's algorithm only adds latency to small responses.
    let _ = stream.set_nodelay(true);
    let service = TowerToHyperService::new(CloseWhenDraining {
        router: app.clone(),
        shutdown: shutdown.clone(),
        peer,
    });
    let stopping = shutdown.stopping();
    shutdown.spawn(format!("http connection from {peer}"), async move {
        let connection = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut connection = pin!(connection);
        let mut stopping = pin!(stopping);
        // The connection goes first, so a request already in the socket is
        // read (and then finished) before the graceful shutdown is asked for.
        tokio::select! {
            biased;
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, %peer, "http connection ended with an error");
                }
                return;
            }
            () = &mut stopping => {}
        }
        connection.as_mut().graceful_shutdown();
        if let Err(error) = connection.await {
            tracing::debug!(%error, %peer, "http connection ended with an error");
        }
    });
}

/// Whether `response` is a server-sent event stream.
fn is_event_stream(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("text/event-stream"))
}

/// Adds `connection: close` to responses once readiness has left `Ready`, and
/// ends server-sent event streams when draining starts. Gives each request its
/// peer's address, as `axum::serve` with connect info does.
#[derive(Clone)]
struct CloseWhenDraining {
    router: Router,
    shutdown: Shutdown,
    peer: SocketAddr,
}

impl Service<Request<Incoming>> for CloseWhenDraining {
    type Response = Response;
    type Error = Infallible;
    type Future = CloseWhenDrainingFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request<Incoming>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut request: Request<Incoming>) -> Self::Future {
        // Both forms: `ConnectInfo` for axum extractors, the bare address for
        // tower layers that know no axum (dozen-log's request log reads it).
        request.extensions_mut().insert(ConnectInfo(self.peer));
        request.extensions_mut().insert(self.peer);
        CloseWhenDrainingFuture {
            inner: self.router.call(request),
            shutdown: self.shutdown.clone(),
        }
    }
}

pin_project! {
    struct CloseWhenDrainingFuture {
        #[pin]
        inner: RouteFuture<Infallible>,
        shutdown: Shutdown,
    }
}

impl Future for CloseWhenDrainingFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(mut response) = std::task::ready!(this.inner.poll(cx));
        if !this.shutdown.is_ready() && response.status() != StatusCode::SWITCHING_PROTOCOLS {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        if is_event_stream(&response) {
            response = close_on_drain(this.shutdown, response);
        }
        Poll::Ready(Ok(response))
    }
}
