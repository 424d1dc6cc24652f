//! The tracer: a second `Deserializer` that walks a type instead of the
//! environment, in the manner of serde-reflection. `deserialize_struct`
//! gives the field names, the method a field's `Deserialize` calls gives its
//! kind, and a visitor's `expecting` text gives the rest (`a duration`, `a
//! string representing an URL`).
//!
//! It shares the loader's signals (its error type, the placeholder strings,
//! the common `Deserializer` methods) and nothing else of it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::de::signal::{CANDIDATES, DeError, SameLevel, Unexpected, common_methods};
use crate::names::{self, SECRET, type_hint};

/// What the tracer saw of one variable.
pub(crate) struct Traced {
    pub(crate) name: String,
    pub(crate) hint: String,
    pub(crate) secret: bool,
    /// An `Option`, or inside one.
    pub(crate) optional: bool,
    /// Loading fails without it.
    pub(crate) required: bool,
}

/// Every variable `T` reads under `prefix`, in field order.
///
/// A first pass yields every field to learn the types; a second pass yields
/// none, so that serde names each required field through `missing_field`,
/// one run at a time, as the loader does.
pub(crate) fn trace_vars<T: DeserializeOwned>(prefix: &str) -> Vec<Traced> {
    let ctx = Tracer::default();
    for phase_b in [false, true] {
        ctx.memo.borrow_mut().phase_b = phase_b;
        for _ in 0..1000 {
            let before = ctx.memo.borrow().changes;
            ctx.item_hint.borrow_mut().take();
            let result = T::deserialize(TStruct {
                ctx: &ctx,
                prefix: prefix.to_owned(),
                optional: false,
            });
            if result.is_ok() || ctx.memo.borrow().changes == before {
                break;
            }
        }
    }
    let memo = ctx.memo.into_inner();
    let mut docs = ctx.docs.into_inner();
    let undetermined_from = memo
        .blocked
        .as_ref()
        .and_then(|var| docs.iter().position(|d| d.name == *var))
        .map_or(docs.len(), |at| at + 1);
    for (i, traced) in docs.iter_mut().enumerate() {
        traced.required = memo.required.contains(&traced.name)
            || (i >= undetermined_from && !traced.optional && !memo.refused.contains(&traced.name));
    }
    docs
}

/// The fields of `T` that may read nested variables (`DB`, `DB__POOL`,
/// relative to the prefix), and whether every field was seen.
pub(crate) fn trace_nesting<T: DeserializeOwned>() -> (HashSet<String>, bool) {
    let ctx = Tracer::default();
    let mut complete = false;
    for _ in 0..1000 {
        let before = ctx.memo.borrow().changes;
        let result = T::deserialize(TStruct {
            ctx: &ctx,
            prefix: String::new(),
            optional: false,
        });
        if result.is_ok() {
            complete = true;
            break;
        }
        if ctx.memo.borrow().changes == before {
            break;
        }
    }
    (ctx.nested.into_inner(), complete)
}

#[derive(Default)]
struct Tracer {
    memo: RefCell<TraceMemo>,
    /// Fields that may read nested variables (`X__*`): structs, maps,
    /// untyped values.
    nested: RefCell<HashSet<String>>,
    /// In the order first seen.
    docs: RefCell<Vec<Traced>>,
    item_hint: RefCell<Option<String>>,
    /// An item of the list or map being traced is a `Secret`: the list is one.
    item_secret: Cell<bool>,
    /// How many `Secret`s the trace is inside: each variable of a secret struct or map is
    /// a secret.
    secret_scope: Cell<u32>,
}

#[derive(Default)]
struct TraceMemo {
    phase_b: bool,
    required: HashSet<String>,
    /// Fields of structs read as maps (`#[serde(flatten)]`): (prefix, field).
    flat_fields: Vec<(String, &'static str)>,
    /// Untyped values (under flatten): what the type turned out to expect.
    flat: HashMap<String, String>,
    candidates: HashMap<String, usize>,
    /// Variables whose value refused every placeholder in a check of its own
    /// (a `deserialize_with` that accepts only some words): recorded, then
    /// left out of later runs so that the fields after them are traced too.
    refused: HashSet<String>,
    /// A required variable that was refused: serde names missing fields in
    /// field order, so the requirement of the fields after it cannot be
    /// learned (they are listed as required, the safe side).
    blocked: Option<String>,
    changes: u64,
}

impl Tracer {
    fn record(&self, var: &str, hint: String, optional: bool, secret: bool) {
        if self.memo.borrow().phase_b {
            return;
        }
        let mut docs = self.docs.borrow_mut();
        let traced = Traced {
            name: var.to_owned(),
            hint,
            secret: secret || self.secret_scope.get() > 0,
            optional,
            required: false,
        };
        match docs.iter_mut().find(|d| d.name == var) {
            Some(slot) => *slot = traced,
            None => docs.push(traced),
        }
    }

    fn nested(&self, var: &str) {
        self.nested.borrow_mut().insert(var.to_owned());
    }

    fn change(&self, f: impl FnOnce(&mut TraceMemo) -> bool) {
        let mut memo = self.memo.borrow_mut();
        if f(&mut memo) {
            memo.changes += 1;
        }
    }
}

struct TStruct<'c> {
    ctx: &'c Tracer,
    prefix: String,
    optional: bool,
}

impl TStruct<'_> {
    fn catch<T>(&self, result: Result<T, DeError>, flat: bool) -> Result<T, DeError> {
        match result {
            Err(DeError::MissingField(field)) => {
                let var = names::join(&self.prefix, field);
                let prefix = self.prefix.clone();
                {
                    let mut memo = self.ctx.memo.borrow_mut();
                    if memo.phase_b && memo.refused.contains(&var) && memo.blocked.is_none() {
                        memo.blocked = Some(var.clone());
                    }
                }
                self.ctx.change(|memo| {
                    let new = memo.required.insert(var);
                    if flat
                        && !memo
                            .flat_fields
                            .iter()
                            .any(|(p, f)| *p == prefix && *f == field)
                    {
                        memo.flat_fields.push((prefix, field));
                        return true;
                    }
                    new
                });
                Err(DeError::Abort)
            }
            Err(DeError::Other {
                expected: Some(expected),
                unexpected: Some(Unexpected::Str(var)),
            }) if flat => {
                // Our marker: an untyped value is handed out as its own
                // variable name, so a rejection says whose it was.
                self.ctx
                    .change(|memo| memo.flat.insert(var, expected).is_none());
                Err(DeError::Abort)
            }
            other => other,
        }
    }
}

impl<'de> de::Deserializer<'de> for TStruct<'_> {
    type Error = DeError;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let phase_b = self.ctx.memo.borrow().phase_b;
        let keys: Vec<(&'static str, String)> = fields
            .iter()
            .map(|field| (*field, names::join(&self.prefix, field)))
            .filter(|(_, var)| {
                let memo = self.ctx.memo.borrow();
                !memo.refused.contains(var) && (!phase_b || memo.required.contains(var))
            })
            .collect();
        let result = visitor.visit_map(TFields {
            ctx: self.ctx,
            keys: keys.into_iter(),
            pending: None,
            optional: self.optional,
        });
        self.catch(result, false)
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let keys: Vec<(&'static str, String)> = self
            .ctx
            .memo
            .borrow()
            .flat_fields
            .iter()
            .filter(|(prefix, _)| *prefix == self.prefix)
            .map(|(prefix, field)| (*field, names::join(prefix, field)))
            .collect();
        let result = visitor.visit_map(TFields {
            ctx: self.ctx,
            keys: keys.into_iter(),
            pending: None,
            optional: self.optional,
        });
        self.catch(result, true)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    /// A top-level tuple of structs, all read at the same prefix (as the
    /// loader reads them).
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_seq(SameLevel {
            left: len,
            next: || TStruct {
                ctx: self.ctx,
                prefix: self.prefix.clone(),
                optional: self.optional,
            },
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple_struct map enum
        identifier ignored_any
    }
}

struct TFields<'c> {
    ctx: &'c Tracer,
    keys: std::vec::IntoIter<(&'static str, String)>,
    pending: Option<String>,
    optional: bool,
}

impl<'de> MapAccess<'de> for TFields<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((field, var)) = self.keys.next() else {
            return Ok(None);
        };
        self.pending = Some(var);
        seed.deserialize(de::value::BorrowedStrDeserializer::new(field))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(var) = self.pending.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        let result = seed.deserialize(TValue {
            ctx: self.ctx,
            var: var.clone(),
            optional: self.optional,
            secret: false,
            item: false,
        });
        match result {
            // The value's own check refused the placeholder it was given (the
            // tracer's refusals are `Abort`, a nested struct's missing field
            // is caught where it arose): leave the variable out from now on.
            Err(DeError::Other { .. }) => {
                self.ctx.change(|memo| memo.refused.insert(var));
                Err(DeError::Abort)
            }
            other => other,
        }
    }
}

struct TValue<'c> {
    ctx: &'c Tracer,
    var: String,
    optional: bool,
    secret: bool,
    item: bool,
}

macro_rules! traced {
    ($($method:ident $visit:ident $value:expr, $hint:expr;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.record($hint.into());
            visitor.$visit($value)
        }
    )*};
}

impl TValue<'_> {
    fn record(&self, hint: String) {
        if self.item {
            *self.ctx.item_hint.borrow_mut() = Some(hint);
        } else {
            self.ctx.record(&self.var, hint, self.optional, self.secret);
        }
    }

    fn key(&self) -> String {
        if self.item {
            format!("{}#", self.var)
        } else {
            self.var.clone()
        }
    }

    fn string<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.record(type_hint(&(&visitor as &dyn de::Expected).to_string()));
        self.offer_string(visitor)
    }

    /// Offers the string candidates in turn, one per run, until the visitor
    /// accepts one.
    fn offer_string<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let key = self.key();
        let index = self
            .ctx
            .memo
            .borrow()
            .candidates
            .get(&key)
            .copied()
            .unwrap_or(0);
        let Some(placeholder) = CANDIDATES.get(index) else {
            // The value's own check refused every placeholder (a duration
            // with a lower bound above 0): an error, not an abort, so that
            // the variable is left out from now on and tracing goes on.
            return Err(de::Error::custom("every placeholder was refused"));
        };
        match visitor.visit_str(placeholder) {
            Ok(value) => Ok(value),
            Err(DeError::Abort) => Err(DeError::Abort),
            Err(_) => {
                self.ctx.change(|memo| {
                    memo.candidates.insert(key, index + 1);
                    true
                });
                Err(DeError::Abort)
            }
        }
    }

    fn inner_hint(&self) -> String {
        self.ctx
            .item_hint
            .borrow_mut()
            .take()
            .unwrap_or_else(|| "value".into())
    }
}

impl<'de> de::Deserializer<'de> for TValue<'_> {
    type Error = DeError;

    common_methods!();

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.ctx.nested(&self.var);
        let learned = self.ctx.memo.borrow().flat.get(&self.var).cloned();
        match learned.as_deref() {
            None => {
                self.record("string".into());
                visitor.visit_string(self.var)
            }
            Some(expected) => {
                self.record(type_hint(expected));
                match type_hint(expected).as_str() {
                    "bool" => visitor.visit_bool(false),
                    "integer" => visitor.visit_u64(1),
                    "number" => visitor.visit_f64(1.0),
                    "list" => visitor
                        .visit_seq(de::value::SeqDeserializer::new(std::iter::empty::<String>())),
                    _ => self.offer_string(visitor),
                }
            }
        }
    }

    traced! {
        deserialize_bool visit_bool false, "bool";
        deserialize_i8 visit_i8 1, "integer";
        deserialize_i16 visit_i16 1, "integer";
        deserialize_i32 visit_i32 1, "integer";
        deserialize_i64 visit_i64 1, "integer";
        deserialize_i128 visit_i128 1, "integer";
        deserialize_u8 visit_u8 1, "integer";
        deserialize_u16 visit_u16 1, "integer";
        deserialize_u32 visit_u32 1, "integer";
        deserialize_u64 visit_u64 1, "integer";
        deserialize_u128 visit_u128 1, "integer";
        deserialize_f32 visit_f32 1.0, "number";
        deserialize_f64 visit_f64 1.0, "number";
        deserialize_char visit_char 'a', "char";
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        self.optional = true;
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name != SECRET {
            return visitor.visit_newtype_struct(self);
        }
        self.secret = true;
        if self.item {
            self.ctx.item_secret.set(true);
        }
        let ctx = self.ctx;
        ctx.secret_scope.set(ctx.secret_scope.get() + 1);
        let inner = visitor.visit_newtype_struct(self);
        ctx.secret_scope.set(ctx.secret_scope.get() - 1);
        inner
    }

    fn deserialize_seq<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        self.ctx.item_secret.set(false);
        let value = visitor.visit_seq(OneItem {
            ctx: self.ctx,
            var: &self.var,
            done: false,
        })?;
        self.secret |= self.ctx.item_secret.replace(false);
        let hint = format!("list of {}", self.inner_hint());
        self.record(hint);
        Ok(value)
    }

    fn deserialize_map<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        self.ctx.nested(&self.var);
        self.ctx.item_secret.set(false);
        let value = visitor.visit_map(OnePair {
            ctx: self.ctx,
            var: &self.var,
            state: 0,
        })?;
        self.secret |= self.ctx.item_secret.replace(false);
        let hint = format!("map of key={}", self.inner_hint());
        self.record(hint);
        Ok(value)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.ctx.nested(&self.var);
        TStruct {
            ctx: self.ctx,
            prefix: format!("{}__", self.var),
            optional: self.optional,
        }
        .deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.record(format!("one of {}", variants.join(", ")));
        let Some(first) = variants.first() else {
            return Err(DeError::Abort);
        };
        visitor.visit_enum(de::value::BorrowedStrDeserializer::new(first))
    }
}

/// A list of one item, to learn the item's type.
struct OneItem<'c, 'v> {
    ctx: &'c Tracer,
    var: &'v str,
    done: bool,
}

impl<'de> SeqAccess<'de> for OneItem<'_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        seed.deserialize(TValue {
            ctx: self.ctx,
            var: self.var.to_owned(),
            optional: false,
            secret: false,
            item: true,
        })
        .map(Some)
    }
}

/// A map of one pair, to learn the value's type.
struct OnePair<'c, 'v> {
    ctx: &'c Tracer,
    var: &'v str,
    state: u8,
}

impl<'de> MapAccess<'de> for OnePair<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        if self.state > 0 {
            return Ok(None);
        }
        self.state = 1;
        seed.deserialize(de::value::BorrowedStrDeserializer::new("key"))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        seed.deserialize(TValue {
            ctx: self.ctx,
            var: self.var.to_owned(),
            optional: false,
            secret: false,
            item: true,
        })
    }
}
