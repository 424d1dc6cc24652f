//! OpenTelemetry's ids for a line: the trace id, span id and sampled flag of the OpenTelemetry
//! span that tracing-opentelemetry keeps for an event's span, and the remote parent the request
//! layer gives a request's span. A leaf.

use opentelemetry::trace::TraceContextExt as _;
use std::sync::OnceLock;

use tracing::dispatcher::WeakDispatch;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::fields::TraceParts;

/// The ids of the OpenTelemetry span of `event`'s span, when tracing-opentelemetry's layer is
/// in the subscriber and follows that span.
///
/// Called with no span extensions locked: tracing-opentelemetry locks them itself.
/// `dispatch` is the subscriber the layer was registered with (the current default is not
/// reachable while an event is being dispatched).
pub(crate) fn event_trace<S>(
    event: &Event<'_>,
    ctx: &Context<'_, S>,
    dispatch: &OnceLock<WeakDispatch>,
) -> Option<TraceParts>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let id = ctx.event_span(event)?.id();
    let dispatch = dispatch.get()?.upgrade()?;
    let cx = tracing_opentelemetry::get_otel_context(&id, &dispatch)?;
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return None;
    }
    Some(TraceParts {
        trace_id: sc.trace_id().to_bytes(),
        span_id: Some(sc.span_id().to_bytes()),
        sampled: Some(sc.is_sampled()),
    })
}

/// Makes the caller's trace context the remote parent of `span`'s OpenTelemetry span, so the
/// trace continues across the request.
#[cfg(feature = "http")]
pub(crate) fn set_remote_parent(span: &tracing::Span, parent: &crate::trace::TraceContext) {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    let flags = if parent.sampled() {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let remote = SpanContext::new(
        TraceId::from_bytes(parent.trace_id()),
        SpanId::from_bytes(parent.span_id()),
        flags,
        true,
        TraceState::default(),
    );
    // Without tracing-opentelemetry's layer there is no OpenTelemetry span to parent.
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
}
