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
//!   backlog, closes the listener, and closes every connection that has no
//!   request in flight at once: idle keep-alive ones, and half-open ones
//!   whose client has not finished sending its headers. Busy ones close
//!   after their response.
//! - The drain ends when every connection is closed, or at the drain budget,
//!   when the connections still open are dropped.
//!
//! At all times it bounds what slow or numerous clients can hold, as set by
//! [`HttpSettings`]: a header-read timeout, a request-body read timeout
//! (answered `408 Request Timeout`), a maximum number of connections
//! (one more is closed as soon as it is accepted) and a maximum request-body
//! size (answered `413 Payload Too Large`, before the handler runs when the
//! body declares its length).
//!
//! A streaming response would keep its connection busy until the drain
//! budget runs out. Server-sent event streams (`content-type:
//! text/event-stream`) end by themselves when draining starts; wrap other
//! long-lived bodies (a long poll, an NDJSON tail) in [`close_on_drain`]. A
//! WebSocket handler should select on [`Shutdown::draining`] and send a close
//! frame.
//!
//! A panic while answering a request ends only that request: a handler's
//! panic is answered `500`, a body's panic ends its connection, and the
//! process keeps serving (see [`CatchPanicLayer`]).

mod body_limit;
mod body_timeout;
mod catch_panic;
mod serve;
mod settings;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::axum::Router;
use ::axum::body::{Body, Bytes};
use ::axum::extract::State;
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::get;
use http::StatusCode;
use http_body::Frame;
use pin_project_lite::pin_project;

pub use catch_panic::{CatchPanic, CatchPanicFuture, CatchPanicLayer};
pub use serve::{Serve, serve};
pub use settings::{
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONNECTIONS, HttpSettings,
};

use crate::{Readiness, Shutdown};

/// A router with `GET /readyz` and `GET /livez`, to merge into an app.
///
/// `/readyz` answers `200 ready` while [`Readiness::Ready`], `503 starting`
/// before it, and `503 draining` or `503 stopping` after it; `/livez` answers `200 live`
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

/// The `/readyz` handler: 200 while ready, 503 while starting and once
/// shutdown has started.
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
    let draining = shutdown.draining();
    response.into_response().map(|body| {
        Body::new(UntilDraining {
            body,
            draining: Box::pin(draining),
            done: false,
        })
    })
}

pin_project! {
    struct UntilDraining {
        #[pin]
        body: Body,
        draining: Pin<Box<dyn Future<Output = ()> + Send>>,
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
        if this.draining.as_mut().poll(cx).is_ready() {
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
