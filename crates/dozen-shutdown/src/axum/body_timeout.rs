//! The request-body read timeout: a body that waits too long for its next
//! part fails, and the connection's flag tells the response to become 408.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use ::axum::BoxError;
use ::axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

/// What the request body reports when the client stalled.
#[derive(Debug)]
pub(super) struct BodyReadTimeout;

impl std::fmt::Display for BodyReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the client stopped sending the request body (HTTP_BODY_READ_TIMEOUT)")
    }
}

impl std::error::Error for BodyReadTimeout {}

pin_project! {
    /// A request body that fails when no part of it arrives for `idle`.
    ///
    /// The timer starts when a read finds nothing to read, and restarts
    /// after every part that arrives: a body arriving at a steady pace, however
    /// slow overall, is never cut. The sleep is allocated once per body, and
    /// only if a read ever has to wait.
    pub(super) struct TimedBody {
        #[pin]
        inner: Incoming,
        idle: Option<Duration>,
        timer: Option<Pin<Box<Sleep>>>,
        armed: bool,
        timed_out: Arc<AtomicBool>,
    }
}

impl TimedBody {
    /// Wraps `inner`; `timed_out` is set when the timeout fires. With no
    /// `idle` timeout it only passes the body on.
    pub(super) fn new(inner: Incoming, idle: Option<Duration>, timed_out: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            idle,
            timer: None,
            armed: false,
            timed_out,
        }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            *this.armed = false;
            return Poll::Ready(frame.map(|result| result.map_err(BoxError::from)));
        }
        let Some(idle) = *this.idle else {
            return Poll::Pending;
        };
        if !*this.armed {
            // `idle` is at most an hour (see `HttpSettings`): no overflow.
            let deadline = Instant::now()
                .checked_add(idle)
                .unwrap_or_else(Instant::now);
            match this.timer.as_mut() {
                Some(timer) => timer.as_mut().reset(deadline),
                None => *this.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
            *this.armed = true;
        }
        let Some(timer) = this.timer.as_mut() else {
            return Poll::Pending;
        };
        if timer.as_mut().poll(cx).is_ready() {
            this.timed_out.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(BoxError::from(BodyReadTimeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
