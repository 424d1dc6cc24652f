//! Value parsing: one variable (or one item of a list or map) handed to the
//! visitor of its field's type, with every problem recorded and a
//! placeholder offered instead of a bad value, so the load goes on to the
//! next field.
//!
//! A value whose variables are nested under it (`X__*`: a struct, a map
//! given as variables, an untyped value under `#[serde(flatten)]`) is handed
//! to the walker `N` it was made with. This file never names the struct
//! walker: the walker names it.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Expected, MapAccess, SeqAccess, Visitor};

use super::signal::{CANDIDATES, DeError, common_methods};
use super::state::{Ctx, Fetched, FlatKind};
use super::text::{parse_bool, parse_char, split_list, split_pair};
use crate::error::ProblemKind;
use crate::names::{SECRET, hint};
use crate::report::ValueSource;

/// How a value reaches the variables under `prefix` (`X__`): as a struct
/// with these fields, or as a map of whatever names are set.
pub(crate) trait Nest {
    fn structure<'de, V: Visitor<'de>>(
        ctx: &Ctx<'_>,
        prefix: String,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError>;

    fn map<'de, V: Visitor<'de>>(
        ctx: &Ctx<'_>,
        prefix: String,
        visitor: V,
    ) -> Result<V::Value, DeError>;
}

fn expecting(visitor: &dyn Expected) -> String {
    hint(&visitor.to_string())
}

pub(crate) struct ValueDe<'c, 's, 'v, N> {
    ctx: &'c Ctx<'s>,
    /// Borrowed: the walker keeps one buffer for its fields' names, and the
    /// items of a list share their variable's.
    var: &'v str,
    fetched: Fetched<'s>,
    /// The position in a list or map.
    item: Option<usize>,
    pub(crate) secret: bool,
    nest: PhantomData<N>,
}

macro_rules! integers {
    ($($method:ident $ty:ident $visit:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let parsed = self.scalar(&visitor, |s| s.parse::<$ty>().ok());
            self.offer(parsed, 1, |v| visitor.$visit(v))
        }
    )*};
}

impl<'c, 's, 'v, N: Nest> ValueDe<'c, 's, 'v, N> {
    pub(crate) fn new(
        ctx: &'c Ctx<'s>,
        var: &'v str,
        fetched: Fetched<'s>,
        item: Option<usize>,
    ) -> Self {
        let secret = {
            let mut run = ctx.run.borrow_mut();
            var.clone_into(&mut run.last_var);
            run.secret_scope > 0
        };
        if secret && let Fetched::Value { text, .. } = &fetched {
            ctx.note_secret(text);
        }
        Self {
            ctx,
            var,
            fetched,
            item,
            secret,
            nest: PhantomData,
        }
    }

    /// Item `i` of a list or map (a key or a value), noted as a secret if
    /// the whole is one.
    fn item(ctx: &'c Ctx<'s>, var: &'v str, i: usize, text: String, secret: bool) -> Self {
        if secret {
            ctx.note_secret(&text);
        }
        let mut item = Self::new(
            ctx,
            var,
            Fetched::Value {
                text: Cow::Owned(text),
                from: ValueSource::Environment,
            },
            Some(i),
        );
        item.secret = secret;
        item
    }

    fn key(&self) -> String {
        match self.item {
            Some(i) => format!("{}#{i}", self.var),
            None => self.var.to_owned(),
        }
    }

    fn entry(&self) {
        if self.item.is_none() {
            self.ctx.entry(self.var, &self.fetched, self.secret);
        }
    }

    fn problem(&self, kind: ProblemKind) {
        self.ctx.problem(self.var, kind);
    }

    fn invalid(&self, expected: String) {
        let refused = self.ctx.memo.borrow().refused.get(&self.key()).cloned();
        // A check that names what the visitor itself expects is the visitor
        // saying the text does not parse (`Unexpected::Other("text")`).
        if let Some((reason, check)) = refused
            && hint(&check) != expected
            && !self.quotes_value(&reason)
            && !self.quotes_value(&check)
        {
            return self.problem(ProblemKind::Refused {
                reason,
                expected: check,
                item: self.item,
            });
        }
        self.problem(ProblemKind::Invalid {
            expected,
            item: self.item,
        });
    }

    /// Whether a text from a field's own check contains the value, which
    /// then must not be shown.
    fn quotes_value(&self, text: &str) -> bool {
        match &self.fetched {
            Fetched::Value { text: value, .. } => {
                let value = value.trim();
                !value.is_empty() && text.contains(value)
            }
            Fetched::Absent | Fetched::Bad => false,
        }
    }

    /// Parses a scalar, recording a problem (and returning `None`) if it is
    /// absent, empty or invalid, or if the visitor rejected it before.
    fn scalar<T>(&self, visitor: &dyn Expected, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        match &self.fetched {
            Fetched::Value { text, .. } => {
                self.entry();
                let text = text.trim();
                if text.is_empty() {
                    self.problem(ProblemKind::Empty {
                        expected: expecting(visitor),
                    });
                    return None;
                }
                match parse(text) {
                    Some(_)
                        if self.ctx.any_failed() && self.ctx.candidate(&self.key()).is_some() =>
                    {
                        self.invalid(expecting(visitor));
                        None
                    }
                    Some(value) => Some(value),
                    None => {
                        self.invalid(expecting(visitor));
                        None
                    }
                }
            }
            Fetched::Absent => {
                self.problem(ProblemKind::Missing);
                None
            }
            Fetched::Bad => None,
        }
    }

    /// Hands the parsed value (or the placeholder) to the visitor. If the
    /// visitor rejects a parsed value (a `NonZeroU16` given 0, a range check
    /// in a `TryFrom`), the value is remembered as failed and the load runs
    /// again, recording the problem and using the placeholder.
    fn offer<T, R>(
        &self,
        parsed: Option<T>,
        placeholder: T,
        visit: impl FnOnce(T) -> Result<R, DeError>,
    ) -> Result<R, DeError> {
        let was_parsed = parsed.is_some();
        match visit(parsed.unwrap_or(placeholder)) {
            Ok(value) => Ok(value),
            Err(DeError::Abort) => Err(DeError::Abort),
            Err(err) if was_parsed => {
                self.ctx.note_refusal(&self.key(), &err);
                self.ctx.set_candidate(self.key(), 0);
                Err(DeError::Abort)
            }
            // The placeholder itself was rejected: the problem is recorded,
            // but nothing more can be learned from this field.
            Err(_) => Err(DeError::Abort),
        }
    }

    /// A string for the visitor: the value, or (if it was rejected before, or
    /// is absent) a candidate it may accept, after recording the problem.
    fn string<'de, V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        let candidate = if self.ctx.any_failed() {
            self.ctx.candidate(&self.key())
        } else {
            None
        };
        if candidate.is_none() && matches!(self.fetched, Fetched::Value { .. }) {
            self.entry();
        }
        if let (Fetched::Value { text, .. }, None) = (&mut self.fetched, candidate) {
            // An owned text (a list item, a value from a file) is handed over
            // rather than copied again by a `String` field.
            let result = match std::mem::take(text) {
                Cow::Owned(text) => visitor.visit_string(text),
                Cow::Borrowed(text) => visitor.visit_str(text),
            };
            return match result {
                Ok(value) => Ok(value),
                Err(DeError::Abort) => Err(DeError::Abort),
                Err(err) => {
                    self.ctx.note_refusal(&self.key(), &err);
                    self.ctx.set_candidate(self.key(), 0);
                    Err(DeError::Abort)
                }
            };
        }
        match &self.fetched {
            Fetched::Value { text, .. } if text.trim().is_empty() => {
                self.entry();
                self.problem(ProblemKind::Empty {
                    expected: expecting(&visitor),
                });
            }
            Fetched::Value { .. } => {
                self.entry();
                self.invalid(expecting(&visitor));
            }
            Fetched::Absent => self.problem(ProblemKind::Missing),
            Fetched::Bad => {}
        }
        let index = candidate.unwrap_or(0);
        let Some(placeholder) = CANDIDATES.get(index) else {
            return Err(DeError::Abort);
        };
        match visitor.visit_str::<DeError>(placeholder) {
            Ok(value) => Ok(value),
            Err(_) => {
                self.ctx.set_candidate(self.key(), index + 1);
                Err(DeError::Abort)
            }
        }
    }

    /// A value handed out without a type (`deserialize_any`): under
    /// `#[serde(flatten)]` serde buffers it before it knows the type, so the
    /// kind learned from an earlier run decides how it is offered.
    ///
    /// Its type is unknown here, so is whether it is a [`crate::Secret`]:
    /// the report shows it redacted.
    fn untyped<'de, V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        self.secret = true;
        if matches!(self.fetched, Fetched::Absent) && self.ctx.source.has_children(self.var) {
            return N::map(self.ctx, format!("{}__", self.var), visitor);
        }
        let flat = self.ctx.memo.borrow().flat.get(self.var).cloned();
        let flat = flat.filter(|(kind, ..)| *kind != FlatKind::Plain);
        let Some((kind, expected, rejected)) = flat else {
            if let Fetched::Value { text, .. } = &self.fetched
                && self.item.is_none()
            {
                self.ctx
                    .run
                    .borrow_mut()
                    .flat_yielded
                    .push((self.var.to_owned(), text.to_string()));
            }
            return self.string(visitor);
        };
        let expected = hint(&expected);
        let text = match &self.fetched {
            Fetched::Value { text, .. } => {
                self.entry();
                Some(text.trim())
            }
            Fetched::Absent => {
                self.problem(ProblemKind::Missing);
                None
            }
            Fetched::Bad => None,
        };
        if text.is_some_and(str::is_empty) && kind != FlatKind::Seq {
            self.problem(ProblemKind::Empty {
                expected: expected.clone(),
            });
        } else if rejected && text.is_some() {
            self.invalid(expected.clone());
        }
        let text = text.filter(|t| !t.is_empty() && !rejected);
        let remember = |text: &str| {
            self.ctx
                .run
                .borrow_mut()
                .flat_yielded
                .push((self.var.to_owned(), text.to_owned()));
        };
        if matches!(kind, FlatKind::Bool | FlatKind::Int | FlatKind::Float) {
            remember(text.unwrap_or(""));
        }
        match kind {
            FlatKind::Bool => match text.map(parse_bool) {
                Some(Some(b)) => visitor.visit_bool(b),
                Some(None) => {
                    self.invalid(expected);
                    visitor.visit_bool(false)
                }
                None => visitor.visit_bool(false),
            },
            FlatKind::Int => match text.map(|t| (t.parse::<u64>().ok(), t.parse::<i64>().ok())) {
                Some((Some(n), _)) => visitor.visit_u64(n),
                Some((None, Some(n))) => visitor.visit_i64(n),
                Some((None, None)) => {
                    self.invalid(expected);
                    visitor.visit_u64(1)
                }
                None => visitor.visit_u64(1),
            },
            FlatKind::Float => match text.map(str::parse::<f64>) {
                Some(Ok(n)) => visitor.visit_f64(n),
                Some(Err(_)) => {
                    self.invalid(expected);
                    visitor.visit_f64(1.0)
                }
                None => visitor.visit_f64(1.0),
            },
            FlatKind::Seq => {
                let items = text.map(split_list).unwrap_or_default();
                visitor.visit_seq(de::value::SeqDeserializer::new(items.into_iter()))
            }
            FlatKind::Str | FlatKind::Plain => {
                let index = self.ctx.candidate(self.var).unwrap_or(0);
                let placeholder = CANDIDATES.get(index).copied().unwrap_or("");
                remember(placeholder);
                visitor.visit_str(placeholder)
            }
        }
    }
}

impl<'de, N: Nest> de::Deserializer<'de> for ValueDe<'_, '_, '_, N> {
    type Error = DeError;

    common_methods!();

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.untyped(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let parsed = self.scalar(&visitor, parse_bool);
        self.offer(parsed, false, |v| visitor.visit_bool(v))
    }

    integers! {
        deserialize_i8 i8 visit_i8
        deserialize_i16 i16 visit_i16
        deserialize_i32 i32 visit_i32
        deserialize_i64 i64 visit_i64
        deserialize_i128 i128 visit_i128
        deserialize_u8 u8 visit_u8
        deserialize_u16 u16 visit_u16
        deserialize_u32 u32 visit_u32
        deserialize_u64 u64 visit_u64
        deserialize_u128 u128 visit_u128
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let parsed = self.scalar(&visitor, |s| s.parse::<f32>().ok());
        self.offer(parsed, 1.0, |v| visitor.visit_f32(v))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let parsed = self.scalar(&visitor, |s| s.parse::<f64>().ok());
        self.offer(parsed, 1.0, |v| visitor.visit_f64(v))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let parsed = self.scalar(&visitor, parse_char);
        self.offer(parsed, 'a', |v| visitor.visit_char(v))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.fetched {
            Fetched::Value { text, .. } if text.is_empty() => {
                self.entry();
                visitor.visit_none()
            }
            Fetched::Value { .. } => visitor.visit_some(self),
            Fetched::Absent if self.item.is_none() && self.ctx.source.has_children(self.var) => {
                visitor.visit_some(self)
            }
            Fetched::Absent | Fetched::Bad => visitor.visit_none(),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SECRET {
            self.secret = true;
            self.ctx.mark_secret(self.var);
            if let Fetched::Value { text, .. } = &self.fetched {
                self.ctx.note_secret(text);
            } else {
                // A struct or a map given as nested variables (`X__USER`, `X__PASSWORD`):
                // each of its values is as secret as the whole.
                let ctx = self.ctx;
                ctx.run.borrow_mut().secret_scope += 1;
                let inner = visitor.visit_newtype_struct(self);
                ctx.run.borrow_mut().secret_scope -= 1;
                return inner;
            }
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items = match &self.fetched {
            Fetched::Value { text, .. } if self.item.is_none() => {
                self.entry();
                split_list(text)
            }
            Fetched::Value { .. } => {
                self.invalid("a single value (lists do not nest)".into());
                Vec::new()
            }
            Fetched::Absent => {
                self.problem(ProblemKind::Missing);
                Vec::new()
            }
            Fetched::Bad => Vec::new(),
        };
        visitor.visit_seq(Items {
            ctx: self.ctx,
            var: self.var,
            items: items.into_iter().enumerate(),
            secret: self.secret,
            nest: PhantomData::<N>,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.fetched {
            Fetched::Value { text, .. } if self.item.is_none() => {
                self.entry();
                self.ctx.mark_map(self.var);
                let mut pairs = Vec::new();
                for (i, item) in split_list(text).into_iter().enumerate() {
                    match split_pair(&item) {
                        Some((k, v)) => pairs.push((i, k, v)),
                        None => self.problem(ProblemKind::Invalid {
                            expected: "key=value".into(),
                            item: Some(i),
                        }),
                    }
                }
                visitor.visit_map(Pairs {
                    ctx: self.ctx,
                    var: self.var,
                    pairs: pairs.into_iter(),
                    value: None,
                    secret: self.secret,
                    nest: PhantomData::<N>,
                })
            }
            Fetched::Value { .. } => {
                self.invalid("a single value (maps do not nest in lists)".into());
                visitor.visit_map(de::value::MapDeserializer::new(std::iter::empty::<(
                    String,
                    String,
                )>()))
            }
            // A struct with #[serde(flatten)] inside, or a map given as
            // nested variables.
            Fetched::Absent | Fetched::Bad => N::map(self.ctx, format!("{}__", self.var), visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if self.item.is_some() {
            self.invalid("a single value (structs do not nest in lists)".into());
            return Err(DeError::Abort);
        }
        N::structure(self.ctx, format!("{}__", self.var), name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let expected = || match variants {
            [one] => format!("`{one}`"),
            _ => format!("one of {}", variants.join(", ")),
        };
        let chosen = match &self.fetched {
            Fetched::Value { text, .. } => {
                self.entry();
                let text = text.trim();
                if let Some(v) = variants.iter().find(|v| **v == text) {
                    Some(*v)
                } else if text.is_empty() {
                    self.problem(ProblemKind::Empty {
                        expected: expected(),
                    });
                    None
                } else {
                    self.invalid(expected());
                    None
                }
            }
            Fetched::Absent => {
                self.problem(ProblemKind::Missing);
                None
            }
            Fetched::Bad => None,
        };
        let Some(variant) = chosen.or_else(|| variants.first().copied()) else {
            return Err(DeError::Abort);
        };
        visitor.visit_enum(de::value::BorrowedStrDeserializer::new(variant))
    }
}

struct Items<'c, 's, 'v, N> {
    ctx: &'c Ctx<'s>,
    var: &'v str,
    items: std::iter::Enumerate<std::vec::IntoIter<String>>,
    secret: bool,
    nest: PhantomData<N>,
}

impl<'de, N: Nest> SeqAccess<'de> for Items<'_, '_, '_, N> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some((i, text)) = self.items.next() else {
            return Ok(None);
        };
        let item = ValueDe::<N>::item(self.ctx, self.var, i, text, self.secret);
        seed.deserialize(item).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Pairs<'c, 's, 'v, N> {
    ctx: &'c Ctx<'s>,
    var: &'v str,
    pairs: std::vec::IntoIter<(usize, String, String)>,
    value: Option<(usize, String)>,
    secret: bool,
    nest: PhantomData<N>,
}

impl<'de, N: Nest> MapAccess<'de> for Pairs<'_, '_, '_, N> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((i, key, value)) = self.pairs.next() else {
            return Ok(None);
        };
        self.value = Some((i, value));
        seed.deserialize(ValueDe::<N>::item(self.ctx, self.var, i, key, self.secret))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((i, text)) = self.value.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        seed.deserialize(ValueDe::<N>::item(self.ctx, self.var, i, text, self.secret))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len())
    }
}
