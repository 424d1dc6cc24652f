//! The request-body size limit: a body that grows past the limit fails with
//! http-body-util's `LengthLimitError` (the error axum's body extractors
//! answer 413), and the connection's flag tells the response to become 413.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use ::axum::BoxError;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{LengthLimitError, Limited};
use pin_project_lite::pin_project;

pin_project! {
    /// A request body that fails once more than `max` bytes arrived: the
    /// part that would cross the limit is not passed on, so a reader sees at
    /// most `max` bytes, then the error.
    pub(super) struct LimitedBody<B> {
        #[pin]
        inner: Limited<B>,
        exceeded: Arc<AtomicBool>,
    }
}

impl<B> LimitedBody<B> {
    /// Wraps `inner`; `exceeded` is set when it grows past `max` bytes.
    pub(super) fn new(inner: B, max: u64, exceeded: Arc<AtomicBool>) -> Self {
        // On a 32-bit target a larger limit cannot be reached by a body held
        // in memory anyway.
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        Self {
            inner: Limited::new(inner, max),
            exceeded,
        }
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.project();
        let frame = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Err(error))) = &frame
            && error.is::<LengthLimitError>()
        {
            this.exceeded.store(true, Ordering::Release);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
