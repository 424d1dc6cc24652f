//! [`CatchPanicLayer`]: a panic while answering a request becomes that
//! request's `500`, instead of unwinding through its connection's tracked
//! task and ending the whole process.
//!
//! [`serve`](super::serve) puts it around the whole app, as a backstop. A
//! request log layer applied to the router sees a caught panic only if this
//! layer is applied first, below it:
//! `router.layer(CatchPanicLayer::new()).layer(RequestLogLayer::new())`.
//!
//! Under [`serve`](super::serve), it also answers a request whose body
//! failed as the client will be answered (`413` past the size limit, `408`
//! after the read timeout), whatever the handler made of the failure, so that
//! a request log above it logs that status too.
//!
//! The panic itself is reported by the panic hook (dozen-log's logs it at
//! CRITICAL, with its request's trace); this layer only decides what the
//! client gets.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use ::axum::BoxError;
use ::axum::body::{Body, Bytes};
use ::axum::response::{IntoResponse, Response};
use http::{Request, StatusCode};
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::serve::BodyFailure;

/// Answers `500 Internal Server Error` (empty body) to a request whose
/// handler panics, and ends a response body that panics while streaming with
/// an error (the connection is closed, since its status is already sent),
/// so that one request that always panics cannot stop the service.
///
/// Under [`serve`](super::serve), a request whose body failed is answered as
/// the client will be: `413 Payload Too Large` past the size limit (a
/// handler's own 413 is kept), `408 Request Timeout` after the read timeout,
/// whatever the handler made of the failed body.
///
/// [`serve`](super::serve) applies it around the whole app already. Apply it
/// to a router yourself only to place it below another layer that must see
/// the status the client gets, such as a request log:
///
/// ```
/// use axum::{Router, routing::get};
/// use dozen_shutdown::axum::CatchPanicLayer;
///
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     // A request log layer applied next logs the panic's 500, and the
///     // 413 or 408 of a failed body.
///     .layer(CatchPanicLayer::new());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CatchPanicLayer {
    _private: (),
}

impl CatchPanicLayer {
    /// The layer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic::new(inner)
    }
}

/// The service of [`CatchPanicLayer`].
#[derive(Debug, Clone)]
pub struct CatchPanic<S> {
    inner: S,
}

impl<S> CatchPanic<S> {
    /// `inner`, with its panics caught.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for CatchPanic<S>
where
    S: Service<Request<ReqB>, Response = http::Response<ResB>>,
    ResB: http_body::Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = CatchPanicFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        let body_failure = request.extensions().get::<BodyFailure>().cloned();
        // A service may do its work in `call` rather than in its future.
        let state = match catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => State::Running { future },
            Err(_) => State::Panicked,
        };
        CatchPanicFuture {
            state,
            body_failure,
        }
    }
}

pin_project! {
    /// The response future of [`CatchPanic`].
    pub struct CatchPanicFuture<F> {
        #[pin]
        state: State<F>,
        // Under `serve`: how the request's body failed, if it did.
        body_failure: Option<BodyFailure>,
    }
}

impl<F> std::fmt::Debug for CatchPanicFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatchPanicFuture").finish_non_exhaustive()
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Running { #[pin] future: F },
        /// The service's `call` panicked: there is no future to poll.
        Panicked,
    }
}

impl<F, ResB, E> Future for CatchPanicFuture<F>
where
    F: Future<Output = Result<http::Response<ResB>, E>>,
    ResB: http_body::Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<BoxError>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let future = match this.state.project() {
            StateProj::Running { future } => future,
            StateProj::Panicked => return Poll::Ready(Ok(internal_server_error())),
        };
        // Not polled again after a panic: the result is ready either way.
        let result = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => {
                result.map(|response| response.map(|body| Body::new(CatchPanicBody::new(body))))
            }
            Err(_) => Ok(internal_server_error()),
        };
        Poll::Ready(result.map(|response| match this.body_failure {
            Some(failure) => failure.answer(response),
            None => response,
        }))
    }
}

/// The answer to a request whose handler panicked: no detail for the client,
/// whom the panic message may not concern.
fn internal_server_error() -> Response {
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// What a response body that panicked ends with.
#[derive(Debug)]
struct BodyPanicked;

impl std::fmt::Display for BodyPanicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the response body panicked")
    }
}

impl std::error::Error for BodyPanicked {}

pin_project! {
    /// A response body that fails, once, instead of unwinding when reading
    /// it panics, and ends there.
    struct CatchPanicBody<B> {
        #[pin]
        inner: B,
        panicked: bool,
    }
}

impl<B> CatchPanicBody<B> {
    fn new(inner: B) -> Self {
        Self {
            inner,
            panicked: false,
        }
    }
}

impl<B> http_body::Body for CatchPanicBody<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        if *this.panicked {
            return Poll::Ready(None);
        }
        let inner = this.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll_frame(cx))) {
            Ok(frame) => frame.map(|frame| frame.map(|frame| frame.map_err(Into::into))),
            Err(_) => {
                *this.panicked = true;
                Poll::Ready(Some(Err(BodyPanicked.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.panicked || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.panicked {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}
