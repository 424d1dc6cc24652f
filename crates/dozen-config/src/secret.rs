//! `Secret<T>`: a value that never shows itself.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

use dozen_redact::MARKER;

use crate::names::SECRET;

/// A value that deserializes like `T` but shows itself as `***` ([`dozen_redact::MARKER`]) in
/// `Debug`, `Display`, `Serialize` and the [`Report`](crate::Report).
///
/// Errors about a secret's variable are no different from any other: no
/// error of this crate ever contains a value.
///
/// ```
/// use dozen_config::Secret;
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Config {
///     api_token: Secret<String>,
/// }
///
/// let config: Config = dozen_config::from_iter([("API_TOKEN".to_string(), "t0k3n".to_string())])?;
/// assert_eq!(config.api_token.expose(), "t0k3n");
/// assert_eq!(format!("{config:?}"), "Config { api_token: *** }");
/// # Ok::<(), dozen_config::Error>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself.
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MARKER)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MARKER)
    }
}

impl<T> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(MARKER)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for SecretVisitor<T> {
            type Value = Secret<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret")
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<Self::Value, D::Error> {
                T::deserialize(deserializer).map(Secret)
            }
        }

        // The newtype name tells dozen-config's deserializer to redact the
        // value in its report; other deserializers pass straight through.
        deserializer.deserialize_newtype_struct(SECRET, SecretVisitor(PhantomData))
    }
}
