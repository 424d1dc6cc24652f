//! A tower layer for axum and hyper: trace context from the request headers, a request span, and
//! one log line per request with a complete `httpRequest`.
//!
//! ```
//! use axum::{Router, routing::get};
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(dozen_log::http::RequestLogLayer::new());
//! ```
//!
//! `remoteIp` comes from a [`std::net::SocketAddr`] in the request extensions by default, or from
//! the function given to [`RequestLogLayer::remote_ip`]:
//!
//! - with axum's `into_make_service_with_connect_info::<SocketAddr>()` the peer address is stored
//!   as `ConnectInfo<SocketAddr>`: read it with
//!   `.remote_ip(|req| req.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()))`;
//! - behind a load balancer (Cloud Run, a GKE ingress) the peer is the proxy and the client is the
//!   first address of `X-Forwarded-For`: use `.remote_ip(dozen_log::http::forwarded_for)`.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Buf as _;
use http::{Extensions, HeaderMap, Request, Response, Version};
use http_body::{Body, Frame, SizeHint};
use tracing::Span;
use tracing::field::Empty;

use crate::TraceContext;

/// The trace context of a request: `traceparent` if it is valid, else `X-Cloud-Trace-Context` if
/// that is valid, else none. A malformed header is ignored.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-cloud-trace-context", "105445aa7843bc8bf206b12000100000/10;o=1".parse().unwrap());
/// let ctx = dozen_log::http::trace_context(&headers).unwrap();
/// assert_eq!(ctx.span_id_hex(), "000000000000000a");
/// ```
#[must_use]
pub fn trace_context(headers: &HeaderMap) -> Option<TraceContext> {
    let header = |name: &str| {
        let mut values = headers.get_all(name).iter();
        let first = values.next()?;
        // Two values of a single-valued header are as good as none.
        if values.next().is_some() {
            return None;
        }
        first.to_str().ok()
    };
    header("traceparent")
        .and_then(TraceContext::from_traceparent)
        .or_else(|| {
            header("x-cloud-trace-context").and_then(TraceContext::from_cloud_trace_context)
        })
}

/// A new trace for a request that carried none: a random W3C trace id and span id, not sampled,
/// so that its lines are correlated like those of a request that carried a header.
///
/// The ids need to be unique, not secret: `fastrand`'s generator, seeded per thread, does.
fn fresh_trace() -> TraceContext {
    loop {
        let trace_id = fastrand::u128(1..).to_be_bytes();
        let span_id = fastrand::u64(1..).to_be_bytes();
        if let Some(ctx) = TraceContext::new(trace_id, span_id, false) {
            return ctx;
        }
    }
}

type RemoteIpFn = fn(&http::request::Parts) -> Option<IpAddr>;

/// A tower [`Layer`](tower_layer::Layer) that logs one line per request.
///
/// Each request runs inside a `request` span that carries the trace context of its
/// `traceparent` or `X-Cloud-Trace-Context` header, or a fresh one (a random W3C trace id and
/// span id, not sampled) when it carried neither, so every line logged while handling it is
/// correlated. When the response body has been sent (or dropped), one line is logged with
/// `httpRequest`: `requestMethod`, `requestUrl`, `status`, `requestSize` (from `Content-Length` or
/// an exact body size), `responseSize` (the bytes sent), `userAgent`, `remoteIp`, `referer`,
/// `protocol` and `latency` (`"0.012345s"`). The level is INFO, WARN for 4xx and ERROR for 5xx.
///
/// `requestUrl` (and the message, which repeats it) never carries user info (`user:password@`),
/// and the value of every secret query parameter ([`dozen_redact::is_secret_param`]:
/// `access_token`, `password`, `api_key`, `sig`, ...) is written as `***`. A request whose
/// response future is dropped before it answered (the client went away, or a drain aborted it)
/// still gets its one line, with status 499 as nginx logs it.
#[derive(Clone, Copy)]
pub struct RequestLogLayer {
    remote_ip: RemoteIpFn,
}

impl fmt::Debug for RequestLogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLogLayer").finish_non_exhaustive()
    }
}

impl Default for RequestLogLayer {
    fn default() -> Self {
        Self::new()
    }
}

/// The IP address of a [`SocketAddr`] in the request extensions: the default source of
/// `remoteIp`.
#[must_use]
pub fn socket_addr_extension(req: &http::request::Parts) -> Option<IpAddr> {
    socket_ip(&req.extensions)
}

fn socket_ip(ext: &Extensions) -> Option<IpAddr> {
    ext.get::<SocketAddr>().map(SocketAddr::ip)
}

/// The first address of `X-Forwarded-For` (the client, as the load balancer saw it), else the
/// [`SocketAddr`] extension. The header is set by the client as much as by the proxies, so use
/// it only behind a load balancer that writes it.
///
/// ```
/// let req = http::Request::get("/")
///     .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
///     .body(())
///     .unwrap();
/// let (parts, ()) = req.into_parts();
/// assert_eq!(dozen_log::http::forwarded_for(&parts), Some([203, 0, 113, 7].into()));
/// ```
#[must_use]
pub fn forwarded_for(req: &http::request::Parts) -> Option<IpAddr> {
    req.headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse().ok())
        .or_else(|| socket_ip(&req.extensions))
}

impl RequestLogLayer {
    /// The layer, reading `remoteIp` from a `SocketAddr` request extension.
    #[must_use]
    pub fn new() -> Self {
        Self {
            remote_ip: socket_addr_extension,
        }
    }

    /// Reads `remoteIp` with `f` instead (see the [module docs](self) for axum).
    #[must_use]
    pub fn remote_ip(mut self, f: fn(&http::request::Parts) -> Option<IpAddr>) -> Self {
        self.remote_ip = f;
        self
    }
}

impl<S> tower_layer::Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestLog {
            inner,
            remote_ip: self.remote_ip,
        }
    }
}

/// The service made by [`RequestLogLayer`].
#[derive(Clone)]
pub struct RequestLog<S> {
    inner: S,
    remote_ip: RemoteIpFn,
}

impl<S> fmt::Debug for RequestLog<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLog").finish_non_exhaustive()
    }
}

/// What the request line needs from the request, kept until the response body is done.
struct RequestInfo {
    span: Span,
    start: Instant,
    method: http::Method,
    url: String,
    request_size: Option<u64>,
    user_agent: Option<String>,
    referer: Option<String>,
    remote_ip: Option<String>,
    protocol: &'static str,
}

fn protocol(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

/// `scheme://host/path?query`: the URI as received when absolute, else built from the `Host`
/// header and `X-Forwarded-Proto` (default `http`); the path alone without a host. User info is
/// left out and the values of secret query parameters are masked
/// ([`dozen_redact::redact_query`]).
fn request_url(req: &http::request::Parts) -> String {
    let uri = &req.uri;
    let absolute = uri
        .scheme_str()
        .zip(uri.authority().map(http::uri::Authority::as_str));
    let host = || {
        req.headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
    };
    let mut url = String::with_capacity(64);
    match absolute {
        Some((scheme, authority)) => {
            url.push_str(scheme);
            url.push_str("://");
            url.push_str(without_userinfo(authority));
        }
        None => {
            if let Some(host) = host() {
                let scheme = req
                    .headers
                    .get("x-forwarded-proto")
                    .and_then(|h| h.to_str().ok())
                    .filter(|s| *s == "https" || *s == "http")
                    .unwrap_or("http");
                url.push_str(scheme);
                url.push_str("://");
                url.push_str(without_userinfo(host));
            }
        }
    }
    url.push_str(uri.path());
    if let Some(query) = uri.query() {
        url.push('?');
        dozen_redact::redact_query(query, &mut url);
    }
    url
}

/// An authority without its `user:password@`.
fn without_userinfo(authority: &str) -> &str {
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// A `Referer` with its user info, secret query values and fragment hidden: an OAuth
/// callback's `?code=` or `?access_token=` arrives in the next request's `Referer`.
fn redact_referer(referer: String) -> String {
    match crate::stackdriver::redact_url(&referer) {
        std::borrow::Cow::Borrowed(_) => referer,
        std::borrow::Cow::Owned(s) => s,
    }
}

fn header_string(headers: &HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for RequestLog<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>,
    ReqB: Body,
    ResB: Body,
{
    type Response = Response<LoggedBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let span = tracing::info_span!(
            "request",
            trace_id = Empty,
            span_id = Empty,
            trace_sampled = Empty,
        );
        match trace_context(req.headers()) {
            Some(caller) => {
                caller.record(&span);
                #[cfg(feature = "opentelemetry")]
                crate::otel::set_remote_parent(&span, &caller);
            }
            // With OpenTelemetry, its root span's ids are written instead.
            None => fresh_trace().record(&span),
        }
        let (parts, body) = req.into_parts();
        let headers = &parts.headers;
        let request_size = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .or_else(|| body.size_hint().exact());
        let info = RequestInfo {
            span: span.clone(),
            start: Instant::now(),
            method: parts.method.clone(),
            url: request_url(&parts),
            request_size,
            user_agent: header_string(headers, http::header::USER_AGENT),
            referer: header_string(headers, http::header::REFERER).map(redact_referer),
            remote_ip: (self.remote_ip)(&parts).map(|ip| ip.to_string()),
            protocol: protocol(parts.version),
        };
        let req = Request::from_parts(parts, body);
        let inner = span.in_scope(|| self.inner.call(req));
        ResponseFuture {
            inner,
            info: Some(info),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`RequestLog`]. Dropped before it has produced the response (the
    /// client went away, or a drain aborted the request), it still logs the request's line,
    /// with status 499 as nginx does.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        info: Option<RequestInfo>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            drop(Pending {
                info: this.info.take(),
                status: CLIENT_CLOSED_REQUEST,
                bytes: 0,
            });
        }
    }
}

/// nginx's status for a request whose client went away before the response: not an HTTP
/// status, but the one log readers know.
const CLIENT_CLOSED_REQUEST: u16 = 499;

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<LoggedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = match this.info.as_ref() {
            Some(info) => {
                let _entered = info.span.enter();
                ready!(this.inner.poll(cx))
            }
            None => ready!(this.inner.poll(cx)),
        };
        let info = this.info.take();
        Poll::Ready(match result {
            Ok(response) => {
                let status = response.status().as_u16();
                Ok(response.map(|inner| LoggedBody {
                    inner,
                    pending: Pending {
                        info,
                        status,
                        bytes: 0,
                    },
                }))
            }
            Err(e) => {
                // The service failed without a response: the connection gets none, log a 500.
                drop(Pending {
                    info,
                    status: 500,
                    bytes: 0,
                });
                Err(e)
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// The response body of [`RequestLog`]: counts the bytes sent and logs the request line when
    /// it is dropped.
    pub struct LoggedBody<B> {
        #[pin]
        inner: B,
        pending: Pending,
    }
}

impl<B> fmt::Debug for LoggedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggedBody")
            .field("bytes", &self.pending.bytes)
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for LoggedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        // A streaming body's own lines belong to the request too.
        let _entered = this.pending.info.as_ref().map(|i| i.span.enter());
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(Ok(f)) = &frame
            && let Some(data) = f.data_ref()
        {
            this.pending.bytes += data.remaining() as u64;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Logs the request line when dropped.
struct Pending {
    info: Option<RequestInfo>,
    status: u16,
    bytes: u64,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(info) = self.info.take() else { return };
        let mut latency = String::with_capacity(16);
        crate::cloud::push_duration(&mut latency, info.start.elapsed());
        let _entered = info.span.enter();
        macro_rules! log {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    httpRequest.requestMethod = info.method.as_str(),
                    httpRequest.requestUrl = info.url.as_str(),
                    httpRequest.status = self.status,
                    httpRequest.requestSize = info.request_size,
                    httpRequest.responseSize = self.bytes,
                    httpRequest.userAgent = info.user_agent.as_deref(),
                    httpRequest.remoteIp = info.remote_ip.as_deref(),
                    httpRequest.referer = info.referer.as_deref(),
                    httpRequest.protocol = info.protocol,
                    httpRequest.latency = latency.as_str(),
                    "{} {} {}",
                    info.method,
                    info.url,
                    self.status,
                )
            };
        }
        match self.status {
            500.. => log!(tracing::Level::ERROR),
            400..=499 => log!(tracing::Level::WARN),
            _ => log!(tracing::Level::INFO),
        }
    }
}
