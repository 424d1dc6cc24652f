//! The serde `Deserializer` over the environment, and the driver that runs it.
//!
//! Modules, each using only those below it: `walk` (struct walking) →
//! `value` (one value) → `state` (what a load knows) → `source` (where the
//! text comes from), with `text` (parsing text) and `signal` (what the
//! loader and the tracer both hand visitors) as leaves.
//!
//! Collecting every error: a derived `Deserialize` stops at the first error it
//! sees. So the deserializer records each problem itself and hands the visitor
//! a placeholder that it accepts (`1` for an integer, `false`, a string from a
//! short list of candidates), and the visitor never sees an error of ours.
//! Where the placeholder cannot be chosen before the visitor has been consumed
//! (a string a foreign type rejects, a required field that was not yielded),
//! the load aborts with a private signal, remembers what it learned, and
//! starts again from the top. A load with nothing wrong runs exactly once.

pub(crate) mod signal;
mod source;
mod state;
mod text;
mod value;
mod walk;

use std::cell::RefCell;

use serde::de::DeserializeOwned;

use self::signal::DeError;
pub(crate) use self::source::{Map, Source};
use self::state::{Ctx, Run};
use self::walk::StructDe;
use crate::error::{Problem, ProblemKind};
use crate::names;
use crate::report::ReportEntry;

/// The outcome of a load: the value, or the problems; and the report entries.
pub(crate) struct Loaded<T> {
    pub(crate) result: Result<T, Vec<Problem>>,
    pub(crate) entries: Vec<ReportEntry>,
}

/// Loads `T` from `source`. `may_nest` tells whether a variable (relative to
/// the prefix) may have nested variables under it, from the type's shape.
pub(crate) fn load<T: DeserializeOwned>(
    source: &Source<'_>,
    prefix: &str,
    strict: bool,
    report: bool,
    may_nest: &dyn Fn(&str) -> bool,
) -> Loaded<T> {
    let ctx = Ctx {
        source,
        may_nest,
        prefix_len: prefix.len(),
        report,
        strict,
        memo: RefCell::default(),
        run: RefCell::default(),
        scratch: RefCell::default(),
    };
    // Each rerun learns at least one thing about a finite set of fields and
    // candidates; the bound only guards against a Deserialize impl that
    // behaves differently on every call.
    for _ in 0..1000 {
        let before = ctx.memo.borrow().changes;
        *ctx.run.borrow_mut() = Run::default();
        let result = T::deserialize(StructDe {
            ctx: &ctx,
            prefix: prefix.to_owned(),
        });
        let progressed = ctx.memo.borrow().changes != before;
        match result {
            Err(DeError::Abort) if progressed => continue,
            Ok(value) => {
                ctx.run.borrow_mut().complete = true;
                ctx.check_strict(prefix);
                let run = ctx.run.take();
                return Loaded {
                    result: if run.problems.is_empty() {
                        // Registered with dozen-redact so that a log line
                        // that echoes one (a driver's error, say) has it
                        // masked. Only the values of a load that succeeded:
                        // a failed one is not used.
                        for secret in &run.secrets {
                            dozen_redact::register(secret);
                        }
                        Ok(value)
                    } else {
                        Err(run.problems)
                    },
                    entries: run.entries,
                };
            }
            Err(err) => return give_up(&ctx, prefix, &err),
        }
    }
    give_up(&ctx, prefix, &DeError::Abort)
}

/// An error we could not place on a field.
fn give_up<T>(ctx: &Ctx<'_>, prefix: &str, err: &DeError) -> Loaded<T> {
    let mut run = ctx.run.take();
    if run.problems.is_empty() {
        // An error we could not place on a field: name the last variable
        // read, never the error's own text (it may quote the value).
        let var = if run.last_var.is_empty() {
            prefix.to_owned()
        } else {
            std::mem::take(&mut run.last_var)
        };
        let expected = match err {
            DeError::Other { expected, .. } => expected.as_deref().map(names::hint),
            _ => None,
        };
        run.problems.push(Problem::from_kind(
            var,
            ProblemKind::Invalid {
                expected: expected.unwrap_or_else(|| "a value this field accepts".into()),
                item: None,
            },
        ));
    }
    Loaded {
        result: Err(run.problems),
        entries: run.entries,
    }
}
