//! [`serve`]: the accept loop, one tracked task per connection, and the
//! service that marks responses while draining.

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use ::axum::Router;
use ::axum::extract::{ConnectInfo, DefaultBodyLimit};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::future::RouteFuture;
use http::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use http::{Request, StatusCode};
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use pin_project_lite::pin_project;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tower_service::Service;

use super::body_limit::LimitedBody;
use super::body_timeout::TimedBody;
use super::catch_panic::{CatchPanic, CatchPanicFuture};
use super::{HttpSettings, close_on_drain};
use crate::duration::millis;
use crate::{MAX_DURATION, Shutdown};

/// Serves `app` on `listener` until shutdown, draining gracefully.
///
/// Returns a [`Serve`], a future that ends once the listener is closed (when
/// the propagation delay is over); the connections it accepted are tracked
/// tasks, so [`Shutdown::wait`] waits for them. Spawn it with
/// [`Shutdown::spawn`], so that an accept error that cannot be recovered
/// from starts shutdown:
///
/// ```no_run
/// # async fn f(shutdown: dozen_shutdown::Shutdown, app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
/// use dozen_shutdown::axum::HttpSettings;
///
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// let server = dozen_shutdown::axum::serve(listener, app, shutdown.clone())
///     // HTTP_HEADER_READ_TIMEOUT, HTTP_BODY_READ_TIMEOUT, HTTP_MAX_CONNECTIONS,
///     // HTTP_MAX_BODY_BYTES
///     .settings(dozen_config::from_env::<HttpSettings>()?);
/// shutdown.spawn("http server", server);
/// # Ok(())
/// # }
/// ```
///
/// Without [`Serve::settings`], the defaults of [`HttpSettings`] apply.
///
/// Every request body is bounded by `HTTP_MAX_BODY_BYTES` (see
/// [`HttpSettings`]), whatever the handler does. A request that declares a
/// larger `content-length` is answered `413 Payload Too Large` at once: the
/// app is not called and the body is not read (hyper closes the connection
/// after the response rather than drain it). Since a request log in the app
/// never sees that request, `serve` logs its line itself, at WARN, with the
/// `httpRequest` fields of a request log (method, path without the query,
/// status, declared size, user agent, client address, protocol). A body without a length fails
/// once it grows past the limit, with `http_body_util::LengthLimitError`,
/// which axum's `Bytes`, `String` and `Json` extractors answer 413; the
/// response is 413 whatever the handler made of the error (a handler's own
/// 413 is kept), unless it was already under way. Each request carries
/// `DefaultBodyLimit::disable()`, so axum's own 2 MB default does not cut
/// below a higher limit; a `DefaultBodyLimit` layer in `app` still sets a
/// lower one for its routes.
///
/// Each request carries its peer's address in its extensions, both as
/// `axum::extract::ConnectInfo<SocketAddr>` and as a bare `SocketAddr`, as
/// `axum::serve` does with `into_make_service_with_connect_info`.
///
/// Only HTTP/1.1 is served (with upgrades, for WebSocket); Kubernetes
/// ingresses and load balancers speak HTTP/1.1 to pods. An upgraded
/// connection keeps its place under `HTTP_MAX_CONNECTIONS`, and its tracked
/// task (which the drain waits for and the watchdog names), for as long as
/// its socket lives in the app: close WebSockets (send a close frame) when
/// [`Shutdown::draining`] resolves. One still open when the drain budget runs
/// out ends the drain with the deadline's outcome (exit 124 through the
/// `dozen` facade); its socket stays with the app's task until the process
/// exits.
///
/// # Errors
///
/// The future fails when reading the listener's address fails. Failed
/// accepts are logged and retried, as in `axum::serve`.
pub fn serve(listener: TcpListener, app: Router, shutdown: Shutdown) -> Serve {
    Serve {
        parts: Some(Parts {
            listener,
            app,
            shutdown,
            settings: HttpSettings::default(),
            overrides: Overrides::default(),
        }),
        running: None,
    }
}

struct Parts {
    listener: TcpListener,
    app: Router,
    shutdown: Shutdown,
    settings: HttpSettings,
    overrides: Overrides,
}

/// The fields set with the `with_*` methods of [`Serve`], which win over
/// [`Serve::settings`] whatever the order of the calls.
#[derive(Debug, Default)]
struct Overrides {
    header_read_timeout: Option<Duration>,
    body_read_timeout: Option<Duration>,
    max_connections: Option<u32>,
    max_body_bytes: Option<u64>,
}

impl Overrides {
    /// `settings` with the overridden fields replaced, timeouts kept within
    /// [`MAX_DURATION`].
    fn apply(self, mut settings: HttpSettings) -> HttpSettings {
        if let Some(timeout) = self.header_read_timeout {
            settings.http_header_read_timeout = timeout.min(MAX_DURATION);
        }
        if let Some(timeout) = self.body_read_timeout {
            settings.http_body_read_timeout = timeout.min(MAX_DURATION);
        }
        if let Some(max) = self.max_connections {
            settings.http_max_connections = max;
        }
        if let Some(max) = self.max_body_bytes {
            settings.http_max_body_bytes = max;
        }
        settings
    }
}

/// The future [`serve`] returns; [`settings`](Self::settings) and the
/// `with_*` methods configure it before it is first polled.
#[must_use = "futures do nothing unless polled or spawned"]
pub struct Serve {
    parts: Option<Parts>,
    running: Option<Pin<Box<dyn Future<Output = io::Result<()>> + Send>>>,
}

impl fmt::Debug for Serve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field(
                "settings",
                &self.parts.as_ref().map(|parts| &parts.settings),
            )
            .field(
                "overrides",
                &self.parts.as_ref().map(|parts| &parts.overrides),
            )
            .field("running", &self.running.is_some())
            .finish_non_exhaustive()
    }
}

impl Serve {
    fn change(mut self, change: impl FnOnce(&mut Parts)) -> Self {
        if let Some(parts) = self.parts.as_mut() {
            change(parts);
        }
        self
    }

    /// Takes every setting from `settings` (loaded by a configuration
    /// loader such as `dozen-config`), except those set with the `with_*`
    /// methods, before or after.
    pub fn settings(self, settings: HttpSettings) -> Self {
        self.change(|parts| parts.settings = settings)
    }

    /// How long a client has to send a request's headers, overriding
    /// `HTTP_HEADER_READ_TIMEOUT` (see [`HttpSettings`]; zero: none, above
    /// 1 h: 1 h).
    pub fn with_header_read_timeout(self, timeout: Duration) -> Self {
        self.change(|parts| parts.overrides.header_read_timeout = Some(timeout))
    }

    /// The longest wait for the next part of a request body before `408`,
    /// overriding `HTTP_BODY_READ_TIMEOUT` (see [`HttpSettings`]; zero: none,
    /// above 1 h: 1 h).
    pub fn with_body_read_timeout(self, timeout: Duration) -> Self {
        self.change(|parts| parts.overrides.body_read_timeout = Some(timeout))
    }

    /// The most connections served at once, overriding
    /// `HTTP_MAX_CONNECTIONS` (zero: no limit); one more is closed as soon as
    /// it is accepted.
    pub fn with_max_connections(self, max: u32) -> Self {
        self.change(|parts| parts.overrides.max_connections = Some(max))
    }

    /// The largest request body, in bytes, overriding `HTTP_MAX_BODY_BYTES`
    /// (see [`HttpSettings`]); a larger one is answered `413`. Zero refuses
    /// every body that has content.
    pub fn with_max_body_bytes(self, max: u64) -> Self {
        self.change(|parts| parts.overrides.max_body_bytes = Some(max))
    }
}

impl Future for Serve {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(parts) = this.parts.take() {
            this.running = Some(Box::pin(run(parts)));
        }
        let Some(running) = this.running.as_mut() else {
            // Polled again after it finished: nothing left to do.
            return Poll::Ready(Ok(()));
        };
        let result = std::task::ready!(running.as_mut().poll(cx));
        this.running = None;
        Poll::Ready(result)
    }
}

/// What every connection of one server shares.
struct Server {
    app: Router,
    shutdown: Shutdown,
    http: http1::Builder,
    body_read_timeout: Option<Duration>,
    max_body_bytes: u64,
}

async fn run(parts: Parts) -> io::Result<()> {
    let Parts {
        listener,
        app,
        shutdown,
        settings,
        overrides,
    } = parts;
    let settings = overrides.apply(settings);
    let _listening = shutdown.register_guard("http listener");
    let local = listener.local_addr()?;
    tracing::debug!(%local, "serving http");
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout());
    let server = Arc::new(Server {
        app,
        shutdown: shutdown.clone(),
        http,
        body_read_timeout: settings.body_read_timeout(),
        max_body_bytes: settings.http_max_body_bytes,
    });
    let permits = Arc::new(Semaphore::new(
        settings.max_connections().min(Semaphore::MAX_PERMITS),
    ));
    let mut refusing = false;
    let mut admit = |stream: TcpStream, peer: SocketAddr| {
        if let Ok(permit) = Arc::clone(&permits).try_acquire_owned() {
            refusing = false;
            spawn_connection(&server, stream, peer, permit);
        } else {
            // Closed at once: the client sees the connection end and retries
            // elsewhere, instead of waiting in a queue.
            drop(stream);
            if !refusing {
                tracing::warn!(
                    max = settings.http_max_connections,
                    %peer,
                    "HTTP_MAX_CONNECTIONS reached; closing new connections until one ends"
                );
            }
            refusing = true;
        }
    };
    let mut stopping = pin!(shutdown.stopping());
    loop {
        tokio::select! {
            biased;
            () = &mut stopping => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => admit(stream, peer),
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
            admit(stream, peer);
        }
    }
    drop(listener);
    tracing::debug!(
        phase = "stopping",
        elapsed_ms = millis(shutdown.elapsed()),
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

/// The state of one connection that its service and its task share.
#[derive(Default)]
struct Connection {
    /// A request's headers were complete and it reached the app: from then
    /// on hyper knows whether the connection is busy or idle.
    dispatched: AtomicBool,
    /// How the current request's body failed, if it did.
    body: BodyFailure,
}

/// How a request's body failed, if it did: set by its body as the app reads
/// it, read where the response is made. [`serve`] puts it in each request's
/// extensions, so that [`CatchPanic`](super::CatchPanic), below a request
/// log, answers as the client will be answered.
#[derive(Clone, Default, Debug)]
pub(crate) struct BodyFailure {
    /// The body timed out: answer 408.
    timed_out: Arc<AtomicBool>,
    /// The body grew past the limit: answer 413.
    too_large: Arc<AtomicBool>,
}

impl BodyFailure {
    /// `response`, or the answer the body's failure calls for instead.
    pub(crate) fn answer(&self, mut response: Response) -> Response {
        if self.too_large.load(Ordering::Acquire) {
            // Whatever the handler made of the failed body (a handler reading
            // the stream may answer 400 or 500), it was too large. Its own
            // 413 (axum's extractors', or one in the app's error format) is
            // kept; the rest of the body is not read either way.
            if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
                response
            } else {
                too_large()
            }
        } else if self.timed_out.load(Ordering::Acquire) {
            // Whatever the handler made of the failed body (axum's extractors
            // answer 400), the client was too slow.
            (
                StatusCode::REQUEST_TIMEOUT,
                [(CONNECTION, HeaderValue::from_static("close"))],
                "request body read timed out",
            )
                .into_response()
        } else {
            response
        }
    }
}

fn spawn_connection(
    server: &Arc<Server>,
    stream: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
) {
    // Best effort: Nagle's algorithm only adds latency to small responses.
    let _ = stream.set_nodelay(true);
    let (closed_tx, closed) = oneshot::channel::<Infallible>();
    let socket = Held {
        stream,
        _permit: permit,
        _closed: closed_tx,
    };
    let server = Arc::clone(server);
    let shutdown = server.shutdown.clone();
    shutdown.spawn(format!("http connection from {peer}"), async move {
        serve_connection(&server, socket, peer).await;
        // The socket of a connection that was upgraded (a WebSocket) lives on in the app,
        // which hyper handed it to: the task, which shutdown waits for and names, lasts
        // as long as it does. Otherwise the socket is gone already.
        let _ = closed.await;
    });
}

/// Serves HTTP on `socket` until the connection ends, is upgraded, or is closed by the drain.
async fn serve_connection(server: &Arc<Server>, socket: Held, peer: SocketAddr) {
    let state = Arc::new(Connection::default());
    let service = TowerToHyperService::new(CloseWhenDraining {
        server: Arc::clone(server),
        state: Arc::clone(&state),
        peer,
    });
    let connection = server
        .http
        .serve_connection(TokioIo::new(socket), service)
        .with_upgrades();
    let mut connection = pin!(connection);
    let mut stopping = pin!(server.shutdown.stopping());
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
    if !state.dispatched.load(Ordering::Acquire) {
        // No request ever reached the app: the client connected and sent
        // nothing, or only part of its headers. hyper's graceful shutdown
        // would wait for those headers; close it now instead.
        tracing::debug!(%peer, "closing a connection with no request in flight");
        return;
    }
    // hyper closes an idle keep-alive connection at once (also one that
    // has started sending its next request's headers), and a busy one
    // after its response.
    connection.as_mut().graceful_shutdown();
    if let Err(error) = connection.await {
        tracing::debug!(%error, %peer, "http connection ended with an error");
    }
}

/// A connection's socket. It holds the connection's place under `HTTP_MAX_CONNECTIONS`
/// for as long as it lives, past the HTTP connection when that is upgraded (hyper hands
/// the socket of a WebSocket to the app), and its drop tells the connection's task.
struct Held {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    _closed: oneshot::Sender<Infallible>,
}

impl tokio::io::AsyncRead for Held {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Held {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
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

/// Adds `connection: close` to responses once readiness has left `Ready`,
/// ends server-sent event streams when draining starts, bounds the wait for
/// each part of the request body and the body's size, and gives each request
/// its peer's address, as `axum::serve` with connect info does.
#[derive(Clone)]
struct CloseWhenDraining {
    server: Arc<Server>,
    state: Arc<Connection>,
    peer: SocketAddr,
}

impl Service<Request<Incoming>> for CloseWhenDraining {
    type Response = Response;
    type Error = Infallible;
    type Future = CloseWhenDrainingFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A `Router` is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        self.state.dispatched.store(true, Ordering::Release);
        let failure = &self.state.body;
        failure.timed_out.store(false, Ordering::Release);
        failure.too_large.store(false, Ordering::Release);
        let max = self.server.max_body_bytes;
        // hyper's hint is exact for a `content-length`, zero without one.
        let declared = request.body().size_hint().lower();
        if declared > max {
            // The app, and so its request log, never sees this request: its
            // line is written here, with the `httpRequest` fields a request
            // log writes (dozen-log's JSON format nests them, as Cloud
            // Logging expects), at WARN as for any 4xx. Only the path: a
            // query string may hold a token.
            let user_agent = request
                .headers()
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok());
            tracing::warn!(
                httpRequest.requestMethod = %request.method(),
                httpRequest.requestUrl = request.uri().path(),
                httpRequest.status = StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
                httpRequest.requestSize = declared,
                httpRequest.userAgent = user_agent,
                httpRequest.remoteIp = %self.peer.ip(),
                httpRequest.protocol = ?request.version(),
                max,
                "request body larger than HTTP_MAX_BODY_BYTES; answered 413 without reading it"
            );
            // The request and its unread body are dropped here: hyper then
            // closes the connection after the 413 instead of draining it.
            return CloseWhenDrainingFuture {
                inner: None,
                server: Arc::clone(&self.server),
                state: Arc::clone(&self.state),
            };
        }
        let timed_out = Arc::clone(&failure.timed_out);
        let too_large = Arc::clone(&failure.too_large);
        let timeout = self.server.body_read_timeout;
        let mut request = request
            .map(|body| LimitedBody::new(TimedBody::new(body, timeout, timed_out), max, too_large));
        // The limit above is the one that counts: axum's extractors would
        // otherwise add their 2 MB default below a higher one. A
        // `DefaultBodyLimit` layer inside `app` still overrides this.
        DefaultBodyLimit::disable().apply(&mut request);
        // Both forms: `ConnectInfo` for axum extractors, the bare address for
        // tower layers that know no axum (dozen-log's request log reads it).
        request.extensions_mut().insert(ConnectInfo(self.peer));
        request.extensions_mut().insert(self.peer);
        request.extensions_mut().insert(failure.clone());
        CloseWhenDrainingFuture {
            inner: Some(CatchPanic::new(self.server.app.clone()).call(request)),
            server: Arc::clone(&self.server),
            state: Arc::clone(&self.state),
        }
    }
}

pin_project! {
    struct CloseWhenDrainingFuture {
        // `None`: refused before the app, for a declared body too large.
        #[pin]
        inner: Option<CatchPanicFuture<RouteFuture<Infallible>>>,
        server: Arc<Server>,
        state: Arc<Connection>,
    }
}

impl Future for CloseWhenDrainingFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.inner.as_pin_mut() {
            Some(inner) => {
                let Ok(response) = std::task::ready!(inner.poll(cx));
                response
            }
            None => too_large(),
        };
        let shutdown = &this.server.shutdown;
        // A failed body: already answered so by `CatchPanic` when the app
        // applies it; a backstop otherwise.
        response = this.state.body.answer(response);
        if !shutdown.is_ready() && response.status() != StatusCode::SWITCHING_PROTOCOLS {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        if is_event_stream(&response) {
            response = close_on_drain(shutdown, response);
        }
        Poll::Ready(Ok(response))
    }
}

/// `413 Payload Too Large`, closing the connection: the rest of the body is
/// not read.
fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(CONNECTION, HeaderValue::from_static("close"))],
        "request body too large",
    )
        .into_response()
}
