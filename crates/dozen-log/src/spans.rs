//! Span-field storage: each span's fields, serialized once when recorded, kept in its
//! extensions as a [`FieldSet`] for every event inside it. Both layers store them the same way.

use tracing::Subscriber;
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::fields::FieldSet;

/// Records a new span's fields into its extensions.
pub(crate) fn record_new_span<S>(attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    // The values are formatted before the span's lock is taken: a `Debug` that panics must not
    // leave the panic hook waiting on a lock this thread holds.
    let mut set = FieldSet::new();
    attrs.record(&mut set.recorder(true));
    let mut ext = span.extensions_mut();
    if ext.get_mut::<FieldSet>().is_none() {
        ext.insert(set);
    }
}

/// Merges values recorded later (`span.record`) into the span's stored fields.
pub(crate) fn record_span_values<S>(id: &Id, values: &Record<'_>, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    // As in `record_new_span`: no user code runs under the span's lock.
    let mut recorded = FieldSet::new();
    values.record(&mut recorded.recorder(true));
    let mut ext = span.extensions_mut();
    if let Some(set) = ext.get_mut::<FieldSet>() {
        set.merge(&recorded);
    }
}

/// Runs `f` with the stored fields of each span in `scope` that has some, innermost first.
pub(crate) fn for_each_stored<'a, R: LookupSpan<'a> + 'a>(
    scope: impl Iterator<Item = SpanRef<'a, R>>,
    mut f: impl FnMut(&FieldSet),
) {
    for span in scope {
        let ext = span.extensions();
        if let Some(set) = ext.get::<FieldSet>() {
            f(set);
        }
    }
}
