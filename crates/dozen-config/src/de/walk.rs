//! Struct walking: the fields of a struct become variables (`APP_` +
//! `FIELD`, `APP_DB__` + `FIELD` for a nested struct), each yielded to the
//! derived code only if it is set, so that `#[serde(default)]` and `Option`
//! see absent fields as absent. A struct read as a map (`#[serde(flatten)]`,
//! a map at the top level) gets every name set under its prefix.
//!
//! serde's derived code stops at the first error, so errors are caught here:
//! a required field that was not yielded, or a flattened value of the wrong
//! kind, is remembered, and the run aborts to start again with it.

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

use super::signal::{CANDIDATES, DeError, SameLevel, Unexpected};
use super::state::{Ctx, Fetched, FlatKind};
use super::text::parse_bool;
use super::value::{Nest, ValueDe};
use crate::names;

/// The walker that values hand their nested variables to.
pub(crate) struct Walk;

impl Nest for Walk {
    fn structure<'de, V: Visitor<'de>>(
        ctx: &Ctx<'_>,
        prefix: String,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(StructDe { ctx, prefix }, name, fields, visitor)
    }

    fn map<'de, V: Visitor<'de>>(
        ctx: &Ctx<'_>,
        prefix: String,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        StructDe { ctx, prefix }.deserialize_map_mode(visitor)
    }
}

pub(crate) struct StructDe<'c, 's> {
    pub(crate) ctx: &'c Ctx<'s>,
    /// `APP_` at the top, `APP_DB__` for a nested struct.
    pub(crate) prefix: String,
}

impl StructDe<'_, '_> {
    /// A required field was not yielded: yield it next time.
    fn catch<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        match result {
            Err(DeError::MissingField(field)) => {
                self.ctx.force(names::join(&self.prefix, field), field);
                Err(DeError::Abort)
            }
            other => other,
        }
    }

    fn catch_flat<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        let result = self.catch(result);
        let Err(DeError::Other {
            expected: Some(expected),
            unexpected: Some(unexpected),
        }) = &result
        else {
            return result;
        };
        // A value handed out as a string under #[serde(flatten)] was not
        // what the type wanted: find which, and retry with the right kind
        // (or, if the type rejected it, with a placeholder).
        let ctx = self.ctx;
        let run = ctx.run.borrow();
        let mut memo = ctx.memo.borrow_mut();
        let matches = |var: &String, text: &String, plain: bool| {
            let state = memo
                .flat
                .get(var)
                .map(|(kind, _, rejected)| (*kind, *rejected));
            match (unexpected, state) {
                (Unexpected::Str(s), Some((FlatKind::Plain, _))) => plain && s == text,
                (Unexpected::Str(s), None | Some((FlatKind::Str, _))) => !plain && s == text,
                (Unexpected::Unsigned(n), Some((FlatKind::Int, false))) => {
                    text.trim().parse() == Ok(*n)
                }
                (Unexpected::Signed(n), Some((FlatKind::Int, false))) => {
                    text.trim().parse() == Ok(*n)
                }
                (Unexpected::Float, Some((FlatKind::Float, false))) => true,
                (Unexpected::Bool(b), Some((FlatKind::Bool, false))) => {
                    parse_bool(text.trim()) == Some(*b)
                }
                _ => false,
            }
        };
        // Several values may be equal: take the first that can still learn
        // something; a wrong guess is corrected by the next rejection.
        let culprit = [false, true].into_iter().find_map(|plain| {
            run.flat_yielded
                .iter()
                .find(|(var, text)| matches(var, text, plain))
                .map(|(var, _)| var.clone())
        });
        let mut found = false;
        if let Some(var) = culprit {
            let wanted = flat_kind(expected);
            let next = match memo.flat.get(&var).cloned() {
                None => Some((wanted, expected.clone(), wanted == FlatKind::Str)),
                Some((FlatKind::Plain, ..)) => Some((FlatKind::Str, expected.clone(), true)),
                Some((FlatKind::Str, ..)) => {
                    let next = memo.failed.get(&var).map_or(1, |n| n + 1);
                    if next < CANDIDATES.len() {
                        memo.failed.insert(var.clone(), next);
                        found = true;
                    }
                    None
                }
                Some((kind, _, _)) if kind == wanted => Some((kind, expected.clone(), true)),
                Some(_) if wanted == FlatKind::Str => {
                    Some((FlatKind::Plain, expected.clone(), false))
                }
                Some(_) => Some((wanted, expected.clone(), false)),
            };
            if let Some(next) = next {
                memo.flat.insert(var, next);
                found = true;
            }
            if found {
                memo.changes += 1;
            }
        }
        drop(memo);
        drop(run);
        if found { Err(DeError::Abort) } else { result }
    }

    fn deserialize_map_mode<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let ctx = self.ctx;
        let mut keys: Vec<(String, String)> = Vec::new(); // (key, var)
        {
            for name in &ctx.source.names_with_prefix(&self.prefix) {
                let rest = &name[self.prefix.len()..];
                // `X_FILE` is offered as itself, not as `X` read from the
                // file: serde does not say which variables a flattened type
                // reads, and reading the file of every `*_FILE` variable in
                // the environment (TF_CLI_CONFIG_FILE, SSL_CERT_FILE, ...)
                // would read other programs' files and fail on theirs. A
                // required `X` is learned from serde's missing-field error
                // and then fetched with its `X_FILE` (the `force` list below).
                let segment = match rest.find("__") {
                    Some(end) => &rest[..end],
                    None => rest,
                };
                if segment.is_empty() {
                    continue;
                }
                let var = format!("{}{segment}", self.prefix);
                if !keys.iter().any(|(_, v)| *v == var) {
                    keys.push((segment.to_lowercase(), var));
                }
            }
        }
        {
            let memo = ctx.memo.borrow();
            for (var, field) in &memo.force {
                if let Some(rest) = var.strip_prefix(self.prefix.as_str())
                    && !rest.contains("__")
                    && !keys.iter().any(|(k, _)| k == field)
                {
                    keys.push(((*field).to_owned(), var.clone()));
                }
            }
        }
        if ctx.strict {
            ctx.run.borrow_mut().open.push(self.prefix.clone());
        }
        let result = visitor.visit_map(FlatAccess {
            ctx,
            keys: keys.into_iter(),
            pending: None,
        });
        self.catch_flat(result)
    }
}

impl<'de> de::Deserializer<'de> for StructDe<'_, '_> {
    type Error = DeError;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = visitor.visit_map(Fields {
            ctx: self.ctx,
            prefix: &self.prefix,
            fields: fields.iter(),
            var: String::new(),
            pending: None,
        });
        self.catch(result)
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_map_mode(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    /// A tuple of structs where a struct is expected (at the top level): each
    /// reads the same prefix, so settings structs from several crates compose
    /// without `#[serde(flatten)]`, which hides their field names.
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_seq(SameLevel {
            left: len,
            next: || StructDe {
                ctx: self.ctx,
                prefix: self.prefix.clone(),
            },
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple_struct map enum
        identifier ignored_any
    }
}

/// The fields of a struct, each yielded only if its variable (or a nested
/// one) is set, so that `#[serde(default)]` and `Option` see absent fields
/// as absent.
struct Fields<'c, 's, 'p> {
    ctx: &'c Ctx<'s>,
    prefix: &'p str,
    fields: std::slice::Iter<'static, &'static str>,
    /// The variable of the current field: one buffer for all of them.
    var: String,
    pending: Option<Fetched<'s>>,
}

impl<'de> MapAccess<'de> for Fields<'_, '_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for field in self.fields.by_ref() {
            names::join_into(&mut self.var, self.prefix, field);
            let var = self.var.as_str();
            let fetched = self.ctx.fetch(var);
            let present = match fetched {
                Fetched::Absent => {
                    self.ctx.forced(var)
                        || ((self.ctx.may_nest)(&var[self.ctx.prefix_len..])
                            && self.ctx.source.has_children(var))
                }
                _ => true,
            };
            if present {
                self.pending = Some(fetched);
                return seed
                    .deserialize(de::value::BorrowedStrDeserializer::new(field))
                    .map(Some);
            }
            self.ctx.entry(var, &Fetched::Absent, false);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(fetched) = self.pending.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        let result = seed.deserialize(ValueDe::<Walk>::new(self.ctx, &self.var, fetched, None));
        self.ctx.after_value(result)
    }
}

/// The variables under a prefix, for a struct deserialized as a map
/// (`#[serde(flatten)]`) or a map at the top level.
struct FlatAccess<'c, 's> {
    ctx: &'c Ctx<'s>,
    keys: std::vec::IntoIter<(String, String)>,
    pending: Option<String>,
}

impl<'de> MapAccess<'de> for FlatAccess<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, var)) = self.keys.next() else {
            return Ok(None);
        };
        self.pending = Some(var);
        seed.deserialize(de::value::StringDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(var) = self.pending.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        let fetched = self.ctx.fetch(&var);
        let result = seed.deserialize(ValueDe::<Walk>::new(self.ctx, &var, fetched, None));
        self.ctx.after_value(result)
    }
}

fn flat_kind(expected: &str) -> FlatKind {
    match expected {
        "a boolean" => FlatKind::Bool,
        "f32" | "f64" => FlatKind::Float,
        "a sequence" => FlatKind::Seq,
        other if names::is_integer(other) => FlatKind::Int,
        _ => FlatKind::Str,
    }
}
