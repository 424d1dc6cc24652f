//! The signals shared by the loader and the tracer: the private error type
//! visitors see (and the `Abort` that starts a run again), the placeholder
//! strings offered to a visitor, and the `Deserializer` parts both
//! deserializers have in common.

use std::fmt;

use serde::de::{self, DeserializeSeed, Expected, SeqAccess};

/// Strings offered to a visitor that rejected (or never got) the real value,
/// in order, until one is accepted.
pub(crate) const CANDIDATES: &[&str] = &[
    "0",
    // A duration with a lower bound above zero (a lease of at least 1s).
    "1s",
    "a",
    "",
    "false",
    "0.0.0.0",
    "0.0.0.0:0",
    "http://localhost/",
    "00000000-0000-0000-0000-000000000000",
    "1970-01-01T00:00:00Z",
];

/// What the derived code and foreign `Deserialize` impls get from us.
///
/// It never carries a custom message, which may quote the value; the value a
/// visitor reports as unexpected is kept only to tell which variable a
/// `#[serde(flatten)]` failure belongs to, and never shown.
pub(crate) enum DeError {
    /// Stop this run; the driver starts again with what the memo learned.
    Abort,
    MissingField(&'static str),
    Other {
        expected: Option<String>,
        unexpected: Option<Unexpected>,
    },
}

pub(crate) enum Unexpected {
    Str(String),
    /// `de::Unexpected::Other`: a description a field's own check chose.
    Other(String),
    Unsigned(u64),
    Signed(i64),
    Float,
    Bool(bool),
}

impl fmt::Debug for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::Abort => f.write_str("configuration load restarted"),
            DeError::MissingField(field) => write!(f, "missing field `{field}`"),
            DeError::Other {
                expected: Some(expected),
                ..
            } => write!(f, "invalid value ({expected})"),
            DeError::Other { expected: None, .. } => f.write_str("invalid value"),
        }
    }
}

impl std::error::Error for DeError {}

impl DeError {
    fn from_unexpected(unexp: de::Unexpected<'_>, exp: &dyn Expected) -> Self {
        let unexpected = match unexp {
            de::Unexpected::Str(s) => Some(Unexpected::Str(s.to_owned())),
            de::Unexpected::Unsigned(n) => Some(Unexpected::Unsigned(n)),
            de::Unexpected::Signed(n) => Some(Unexpected::Signed(n)),
            de::Unexpected::Float(_) => Some(Unexpected::Float),
            de::Unexpected::Bool(b) => Some(Unexpected::Bool(b)),
            de::Unexpected::Other(what) => Some(Unexpected::Other(what.to_owned())),
            _ => None,
        };
        DeError::Other {
            expected: Some(exp.to_string()),
            unexpected,
        }
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        DeError::Other {
            expected: None,
            unexpected: None,
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::from_unexpected(unexp, exp)
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::from_unexpected(unexp, exp)
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::MissingField(field)
    }
}

/// The structs of a top-level tuple, all read at the same prefix: `left`
/// elements, each deserialized from what `next` makes (the loader's and the
/// tracer's struct deserializers alike).
pub(crate) struct SameLevel<F> {
    pub(crate) left: usize,
    pub(crate) next: F,
}

impl<'de, F, D> SeqAccess<'de> for SameLevel<F>
where
    F: FnMut() -> D,
    D: de::Deserializer<'de, Error = DeError>,
{
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize((self.next)()).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// The `Deserializer` methods that the loader and the tracer implement alike:
/// every string-like method goes through `self.string`, tuples are lists,
/// and units need no value.
macro_rules! common_methods {
    () => {
        fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            visitor.visit_unit()
        }

        fn deserialize_unit_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, DeError> {
            visitor.visit_unit()
        }

        fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            visitor.visit_unit()
        }

        fn deserialize_tuple<V: Visitor<'de>>(
            self,
            _len: usize,
            visitor: V,
        ) -> Result<V::Value, DeError> {
            self.deserialize_seq(visitor)
        }

        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _len: usize,
            visitor: V,
        ) -> Result<V::Value, DeError> {
            self.deserialize_seq(visitor)
        }
    };
}
pub(crate) use common_methods;
