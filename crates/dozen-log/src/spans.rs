//! Span-field storage: each span's fields, serialized once when recorded, kept in its
//! extensions as a [`FieldSet`] for every event inside it. Both layers store them the same way.

use tracing::Subscriber;
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use std::cell::RefCell;

use crate::fields::{FieldSet, KeyCache};

thread_local! {
    /// The keys of the span fields recorded last on this thread.
    static SPAN_KEYS: RefCell<KeyCache> = const { RefCell::new(KeyCache::for_spans()) };
}

/// Records `record`'s values into `set` with this thread's span keys, or without a cache when
/// they are in use (a value's `Debug` that makes a span) or gone (thread teardown).
fn record_into(set: &mut FieldSet, record: impl FnOnce(&mut dyn tracing::field::Visit)) {
    let mut record = Some(record);
    let _ = SPAN_KEYS.try_with(|keys| {
        if let Ok(mut keys) = keys.try_borrow_mut()
            && let Some(record) = record.take()
        {
            record(&mut set.cached_recorder(&mut keys));
        }
    });
    if let Some(record) = record {
        record(&mut set.recorder(true));
    }
}

/// Records a new span's fields into its extensions.
pub(crate) fn record_new_span<S>(attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    // The values are formatted before the span's lock is taken: a `Debug` that panics must not
    // leave the panic hook waiting on a lock this thread holds.
    let mut set = FieldSet::new();
    record_into(&mut set, |visit| attrs.record(visit));
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
    record_into(&mut recorded, |visit| values.record(visit));
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
