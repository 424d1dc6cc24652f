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

use std::fmt::{self, Write as _};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Buf as _;
use http::{Extensions, HeaderMap, HeaderName, Request, Response, Version};
use http_body::{Body, Frame, SizeHint};
use tracing::Span;

use crate::TraceContext;

// Header names as constants: a `&str` name is parsed on every lookup.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const X_CLOUD_TRACE_CONTEXT: HeaderName = HeaderName::from_static("x-cloud-trace-context");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

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
    let header = |name: &HeaderName| {
        let mut values = headers.get_all(name).iter();
        let first = values.next()?;
        // Two values of a single-valued header are as good as none.
        if values.next().is_some() {
            return None;
        }
        first.to_str().ok()
    };
    header(&TRACEPARENT)
        .and_then(TraceContext::from_traceparent)
        .or_else(|| header(&X_CLOUD_TRACE_CONTEXT).and_then(TraceContext::from_cloud_trace_context))
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
/// A response body that fails while it is sent (the client gets a cut response; a body's panic
/// under dozen-shutdown's `CatchPanicLayer` is one) is logged at ERROR, with the status the
/// handler gave, the bytes the body gave, and `error` saying so.
///
/// `requestUrl` (and the message, which repeats it) never carries user info (`user:password@`),
/// and the value of every secret query parameter ([`dozen_redact::is_secret_param`]:
/// `access_token`, `password`, `api_key`, `sig`, ...) is written as `***`. A request whose
/// response future is dropped before it answered (the client went away, or a drain aborted it)
/// still gets its one line, with status 499 as nginx logs it.
#[derive(Clone, Copy)]
pub struct RequestLogLayer {
    /// `None`: the `SocketAddr` extension, read without taking the request apart.
    remote_ip: Option<RemoteIpFn>,
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
        .get(X_FORWARDED_FOR)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse().ok())
        .or_else(|| socket_ip(&req.extensions))
}

impl RequestLogLayer {
    /// The layer, reading `remoteIp` from a `SocketAddr` request extension.
    #[must_use]
    pub fn new() -> Self {
        Self { remote_ip: None }
    }

    /// Reads `remoteIp` with `f` instead (see the [module docs](self) for axum).
    #[must_use]
    pub fn remote_ip(mut self, f: fn(&http::request::Parts) -> Option<IpAddr>) -> Self {
        self.remote_ip = Some(f);
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
    remote_ip: Option<RemoteIpFn>,
}

impl<S> fmt::Debug for RequestLog<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLog").finish_non_exhaustive()
    }
}

/// What the request line needs from the request, kept until the response body is done.
///
/// The text values share one buffer, written once: the user agent, the referer (redacted), then
/// `METHOD URL`, which the line's message continues with ` STATUS` when the response is done;
/// the latency and the remote address follow it then. One allocation per request, however many
/// values.
struct RequestInfo {
    span: Span,
    start: Instant,
    text: String,
    user_agent: Option<Range<usize>>,
    referer: Option<Range<usize>>,
    /// Where `METHOD URL` starts, and where the method ends (the URL starts one byte later and
    /// runs to `url_end`).
    method: Range<usize>,
    url_end: usize,
    request_size: Option<u64>,
    remote_ip: Option<IpAddr>,
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
fn push_request_url(url: &mut String, uri: &http::Uri, headers: &HeaderMap) {
    let absolute = uri
        .scheme_str()
        .zip(uri.authority().map(http::uri::Authority::as_str));
    let host = || {
        headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
    };
    match absolute {
        Some((scheme, authority)) => {
            url.push_str(scheme);
            url.push_str("://");
            url.push_str(without_userinfo(authority));
        }
        None => {
            if let Some(host) = host() {
                let scheme = headers
                    .get(X_FORWARDED_PROTO)
                    .and_then(|h| h.to_str().ok())
                    .filter(|s| *s == "https" || *s == "http")
                    .unwrap_or("http");
                url.push_str(scheme);
                url.push_str("://");
                url.push_str(without_userinfo(host));
            }
        }
    }
    // A URL inside the path or the query (`/proxy/https://user:pw@host/`) loses its user info
    // here, so that the message, which repeats the URL, hides what `requestUrl` hides.
    push_without_inner_userinfo(url, uri.path());
    if let Some(query) = uri.query() {
        url.push('?');
        let start = url.len();
        dozen_redact::redact_query(query, url);
        if crate::stackdriver::has_inner_url(&url[start..]) {
            let redacted = url.split_off(start);
            push_without_inner_userinfo(url, &redacted);
        }
    }
}

/// Appends `part` of a request target with the user info of any URL inside it hidden.
fn push_without_inner_userinfo(url: &mut String, part: &str) {
    if crate::stackdriver::has_inner_url(part) {
        url.push_str(&dozen_redact::redact_client_urls(part));
    } else {
        url.push_str(part);
    }
}

/// An authority without its `user:password@`.
fn without_userinfo(authority: &str) -> &str {
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// Appends the value of header `name`, if it is text, and returns where it is.
fn push_header(text: &mut String, headers: &HeaderMap, name: HeaderName) -> Option<Range<usize>> {
    let value = headers.get(name)?.to_str().ok()?;
    let start = text.len();
    text.push_str(value);
    Some(start..text.len())
}

/// Appends a `Referer` with its user info, secret query values and fragment hidden (an OAuth
/// callback's `?code=` or `?access_token=` arrives in the next request's `Referer`), and
/// returns where it is.
fn push_referer(text: &mut String, headers: &HeaderMap) -> Option<Range<usize>> {
    let value = headers.get(http::header::REFERER)?.to_str().ok()?;
    let start = text.len();
    text.push_str(&crate::stackdriver::redact_url(value));
    Some(start..text.len())
}

/// Appends `ip` as `Display` writes it; an IPv4 address without the formatting machinery,
/// since every request line has one.
fn push_ip(text: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let mut digits = itoa::Buffer::new();
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    text.push('.');
                }
                text.push_str(digits.format(octet));
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(text, "{v6}");
        }
    }
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

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let caller = trace_context(req.headers());
        // With OpenTelemetry, its root span's ids are written instead of fresh ones.
        let trace = caller.unwrap_or_else(fresh_trace);
        let mut hex = [0; 48];
        let (trace_id, span_id) = trace.hex_ids(&mut hex);
        let span = tracing::info_span!(
            "request",
            trace_id,
            span_id,
            trace_sampled = trace.sampled(),
        );
        #[cfg(feature = "opentelemetry")]
        if let Some(caller) = &caller {
            crate::otel::set_remote_parent(&span, caller);
        }
        // The request is taken apart only for a `remote_ip` function, which reads its parts:
        // moving them out and back copies some 200 bytes.
        let remote_ip = match self.remote_ip {
            None => socket_ip(req.extensions()),
            Some(f) => {
                let (parts, body) = req.into_parts();
                let ip = f(&parts);
                req = Request::from_parts(parts, body);
                ip
            }
        };
        let headers = req.headers();
        let request_size = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .or_else(|| req.body().size_hint().exact());
        // Room for the values known now and those added at the end (status, latency, address).
        let mut text = String::with_capacity(128);
        let user_agent = push_header(&mut text, headers, http::header::USER_AGENT);
        let referer = push_referer(&mut text, headers);
        let method_start = text.len();
        text.push_str(req.method().as_str());
        let method = method_start..text.len();
        text.push(' ');
        push_request_url(&mut text, req.uri(), headers);
        let info = RequestInfo {
            span,
            start: Instant::now(),
            url_end: text.len(),
            text,
            user_agent,
            referer,
            method,
            request_size,
            remote_ip,
            protocol: protocol(req.version()),
        };
        let inner = info.span.in_scope(|| self.inner.call(req));
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
            drop(Pending::new(this.info.take(), CLIENT_CLOSED_REQUEST));
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
                    pending: Pending::new(info, status),
                }))
            }
            Err(e) => {
                // The service failed without a response: the connection gets none, log a 500.
                drop(Pending::new(info, 500));
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
        // A streaming body's own lines belong to the request too. A body at its end runs
        // nothing more (its poll gives `None`), so the span is not entered for that last poll,
        // which a reader that reads to the end (`to_bytes`, `collect`) makes on every body.
        let _entered = match &this.pending.info {
            Some(info) if !this.inner.is_end_stream() => Some(info.span.enter()),
            _ => None,
        };
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(f)) => {
                if let Some(data) = f.data_ref() {
                    this.pending.bytes += data.remaining() as u64;
                }
            }
            // The client has the status and part of the body; the connection ends here.
            Some(Err(_)) => this.pending.body_failed = true,
            None => {}
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
    /// The response body ended with an error while it was sent: the client got a cut
    /// response (or none), logged at ERROR whatever the status.
    body_failed: bool,
}

/// The `error` of the line of a request whose response body failed (the error itself is the
/// body's, which may quote anything, and is not logged).
const BODY_FAILED: &str = "the response body failed while it was being sent";

impl Pending {
    /// The line of `info`'s request, answered `status`, before any body byte went out.
    fn new(info: Option<RequestInfo>, status: u16) -> Self {
        Self {
            info,
            status,
            bytes: 0,
            body_failed: false,
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(mut info) = self.info.take() else {
            return;
        };
        let elapsed = info.start.elapsed();
        let text = &mut info.text;
        text.push(' ');
        text.push_str(itoa::Buffer::new().format(self.status));
        let message_end = text.len();
        crate::cloud::push_duration(text, elapsed);
        let latency_end = text.len();
        if let Some(ip) = info.remote_ip {
            push_ip(text, ip);
        }
        let text = info.text.as_str();
        let part = |r: &Range<usize>| &text[r.clone()];
        let message = &text[info.method.start..message_end];
        let method = part(&info.method);
        let url = &text[info.method.end + 1..info.url_end];
        let latency = &text[message_end..latency_end];
        let remote_ip = info.remote_ip.map(|_| &text[latency_end..]);
        let user_agent = info.user_agent.as_ref().map(part);
        let referer = info.referer.as_ref().map(part);
        // The request's span is the line's parent: given, not entered, which saves the
        // thread's span stack a push and a pop per request.
        let span = &info.span;
        macro_rules! log {
            ($level:expr) => {
                tracing::event!(
                    parent: span,
                    $level,
                    message,
                    httpRequest.requestMethod = method,
                    httpRequest.requestUrl = url,
                    httpRequest.status = self.status,
                    httpRequest.requestSize = info.request_size,
                    httpRequest.responseSize = self.bytes,
                    httpRequest.userAgent = user_agent,
                    httpRequest.remoteIp = remote_ip,
                    httpRequest.referer = referer,
                    httpRequest.protocol = info.protocol,
                    httpRequest.latency = latency,
                    error = self.body_failed.then_some(BODY_FAILED),
                )
            };
        }
        match self.status {
            _ if self.body_failed => log!(tracing::Level::ERROR),
            500.. => log!(tracing::Level::ERROR),
            400..=499 => log!(tracing::Level::WARN),
            _ => log!(tracing::Level::INFO),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        let mut addresses: Vec<IpAddr> = [
            [0, 0, 0, 0],
            [255, 255, 255, 255],
            [10, 0, 12, 1],
            [127, 0, 0, 1],
            [1, 22, 203, 99],
        ]
        .into_iter()
        .map(|o| IpAddr::V4(Ipv4Addr::from(o)))
        .collect();
        addresses.extend((0..=255u8).map(|b| IpAddr::V4(Ipv4Addr::new(b, 255 - b, b / 3, 9))));
        addresses.extend([
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv4Addr::new(192, 0, 2, 33).to_ipv6_mapped()),
        ]);
        for ip in addresses {
            let mut text = String::from("x");
            push_ip(&mut text, ip);
            assert_eq!(text, format!("x{ip}"));
        }
    }
}
