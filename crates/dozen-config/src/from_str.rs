//! Deserialize any `T: FromStr` from its text, with
//! `#[serde(with = "dozen_config::from_str")]`.
//!
//! For types that have no `Deserialize` impl, or whose impl does not read a
//! string. A value that does not parse is reported as
//! `APP_X: invalid value (a value that parses as <type>)`; the parse
//! error's own text is dropped, since it may quote the value.
//!
//! ```
//! use std::net::Ipv4Addr;
//!
//! #[derive(Debug, PartialEq)]
//! struct Level(u8);
//!
//! impl std::str::FromStr for Level {
//!     type Err = std::num::ParseIntError;
//!     fn from_str(s: &str) -> Result<Self, Self::Err> {
//!         s.strip_prefix("L").unwrap_or(s).parse().map(Level)
//!     }
//! }
//!
//! #[derive(serde::Deserialize)]
//! struct Config {
//!     #[serde(with = "dozen_config::from_str")]
//!     level: Level,
//!     #[serde(default, with = "dozen_config::from_str::option")]
//!     gateway: Option<Ipv4Addr>,
//! }
//!
//! let config: Config = dozen_config::from_iter([("LEVEL".to_string(), "L3".to_string())])?;
//! assert_eq!(config.level, Level(3));
//! assert_eq!(config.gateway, None);
//! # Ok::<(), dozen_config::Error>(())
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

/// Deserializes `T` from a string through `FromStr`.
///
/// # Errors
///
/// If the deserializer has no string, or the string does not parse.
pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
{
    deserializer.deserialize_str(FromStrVisitor(PhantomData))
}

/// Serializes `T` through `Display`, so that `with` also works on a struct
/// that derives `Serialize`.
///
/// # Errors
///
/// If the serializer fails.
pub fn serialize<S, T>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: fmt::Display,
{
    serializer.collect_str(value)
}

struct FromStrVisitor<T>(PhantomData<T>);

impl<T: FromStr> Visitor<'_> for FromStrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a value that parses as {}", std::any::type_name::<T>())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Other("text"), &self))
    }
}

/// The same for `Option<T>`: absent or empty is `None`. Pair it with
/// `#[serde(default)]` so that an absent variable is allowed.
pub mod option {
    use std::fmt;
    use std::str::FromStr;

    use serde::de::{Deserialize, Deserializer};
    use serde::ser::Serializer;

    struct Wrapped<T>(T);

    impl<'de, T: FromStr> Deserialize<'de> for Wrapped<T> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::deserialize(deserializer).map(Wrapped)
        }
    }

    /// Deserializes `Option<T>` from an optional string through `FromStr`.
    ///
    /// # Errors
    ///
    /// If the string is present and does not parse.
    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: FromStr,
    {
        Option::<Wrapped<T>>::deserialize(deserializer).map(|o| o.map(|w| w.0))
    }

    /// Serializes `Option<T>` through `Display`.
    ///
    /// # Errors
    ///
    /// If the serializer fails.
    pub fn serialize<S, T>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: fmt::Display,
    {
        match value {
            Some(v) => serializer.collect_str(v),
            None => serializer.serialize_none(),
        }
    }
}
