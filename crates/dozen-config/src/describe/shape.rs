//! The shape of a type, as the loader needs it: which fields may read
//! nested variables, traced once per type and process.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::de::DeserializeOwned;

use super::tracer::trace_nesting;

/// What the loader needs to know of a type: which fields may read nested
/// variables, so that only those send it looking for `X__*` when `X` is
/// absent (a look that needs a scan of the whole environment).
pub(crate) struct Shape {
    /// Whether every field was seen; if not, every absent field may nest.
    complete: bool,
    /// Variable names relative to the prefix: `DB`, `DB__POOL`.
    nested: HashSet<String>,
}

impl Shape {
    pub(crate) fn may_nest(&self, relative: &str) -> bool {
        !self.complete || self.nested.contains(relative)
    }
}

/// The shape of `T`, traced once per type and process.
pub(crate) fn shape<T: DeserializeOwned>() -> Arc<Shape> {
    static SHAPES: OnceLock<Mutex<HashMap<TypeId, Arc<Shape>>>> = OnceLock::new();
    let shapes = SHAPES.get_or_init(Mutex::default);
    let id = typeid::of::<T>();
    if let Some(shape) = shapes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
    {
        return Arc::clone(shape);
    }
    let (nested, complete) = trace_nesting::<T>();
    let shape = Arc::new(Shape { complete, nested });
    shapes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(id, Arc::clone(&shape));
    shape
}
