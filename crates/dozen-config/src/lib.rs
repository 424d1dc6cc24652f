#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod de;
mod describe;
mod error;
pub mod from_str;
mod names;
mod report;
mod secret;
mod suggest;

#[cfg(feature = "dotenv")]
use std::path::PathBuf;

use serde::de::DeserializeOwned;

pub use crate::describe::{Description, Requirement, VarDoc};
pub use crate::error::{Error, Problem, ProblemKind};
pub use crate::report::{Report, ReportEntry, SetOnly, ValueSource};
pub use crate::secret::Secret;

/// Loads `T` from the process environment: field `database_url` reads
/// `DATABASE_URL`, field `db: Db` reads `DB__HOST`, `DB__PORT`, ...
///
/// # Errors
///
/// Every missing, empty or invalid variable, in field order.
pub fn from_env<T: DeserializeOwned>() -> Result<T, Error> {
    Loader::new().from_env()
}

/// Loads `T` from these `(name, value)` pairs instead of the process
/// environment, with the same rules as [`from_env`]. No process variable is
/// read, so a test needs neither to set nor to clear one; an `X_FILE` pair
/// still reads its file.
///
/// # Errors
///
/// As [`from_env`].
pub fn from_iter<Iter, T>(iter: Iter) -> Result<T, Error>
where
    T: DeserializeOwned,
    Iter: IntoIterator<Item = (String, String)>,
{
    Loader::new().from_iter(iter)
}

/// Loads `T` from the process environment, with a [`Report`] of what was read.
///
/// # Errors
///
/// As [`from_env`].
pub fn from_env_with_report<T: DeserializeOwned>() -> Result<(T, Report), Error> {
    Loader::new().from_env_with_report()
}

/// A loader whose variables all start with `prefix`: with `"APP_"`, field
/// `database_url` reads `APP_DATABASE_URL`.
pub fn prefixed(prefix: impl Into<String>) -> Loader {
    Loader {
        prefix: prefix.into(),
        ..Loader::new()
    }
}

/// Every variable `T` reads, derived from the type: see [`Description`].
#[must_use]
pub fn describe<T: DeserializeOwned>() -> Description {
    Loader::new().describe::<T>()
}

/// How to load: a prefix, strict mode, `.env` files.
///
/// Made by [`prefixed`] or [`Loader::new`] (no prefix).
#[derive(Debug, Clone, Default)]
pub struct Loader {
    prefix: String,
    strict: bool,
    #[cfg(feature = "dotenv")]
    dotenv: Vec<(PathBuf, bool)>,
}

impl Loader {
    /// A loader without a prefix.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Strict mode: every variable that starts with the prefix but matches
    /// no field is an error, with a suggestion within edit distance 2
    /// (`APP_DATABSE_URL: unknown variable (did you mean APP_DATABASE_URL?)`).
    ///
    /// Variables under a struct read as a map (`#[serde(flatten)]`, or a map
    /// at the top level) are accepted as they are.
    #[must_use]
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Also reads `.env` in the current directory, if there is one.
    ///
    /// Its variables only fill in what the environment does not set; the
    /// process environment itself is not changed.
    #[cfg(feature = "dotenv")]
    #[cfg_attr(docsrs, doc(cfg(feature = "dotenv")))]
    #[must_use]
    pub fn dotenv(mut self) -> Self {
        self.dotenv.push((PathBuf::from(".env"), false));
        self
    }

    /// Also reads this `.env`-style file, which must exist. Files added
    /// earlier take precedence over later ones; the environment over all.
    #[cfg(feature = "dotenv")]
    #[cfg_attr(docsrs, doc(cfg(feature = "dotenv")))]
    #[must_use]
    pub fn dotenv_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.dotenv.push((path.into(), true));
        self
    }

    /// Loads `T` from the process environment.
    ///
    /// # Errors
    ///
    /// Every missing, empty or invalid variable (and in strict mode every
    /// unknown one), in field order.
    pub fn from_env<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.load(true, std::iter::empty(), false)
            .map(|(value, _)| value)
    }

    /// Loads `T` from these `(name, value)` pairs instead of the process
    /// environment, with the same rules as [`Loader::from_env`]: no process
    /// variable is read, and only names under the prefix are seen.
    ///
    /// # Errors
    ///
    /// As [`Loader::from_env`].
    pub fn from_iter<Iter, T>(&self, iter: Iter) -> Result<T, Error>
    where
        T: DeserializeOwned,
        Iter: IntoIterator<Item = (String, String)>,
    {
        self.load(false, iter, false).map(|(value, _)| value)
    }

    /// [`Loader::from_env`], with a [`Report`] of what was read.
    ///
    /// # Errors
    ///
    /// As [`Loader::from_env`].
    pub fn from_env_with_report<T: DeserializeOwned>(&self) -> Result<(T, Report), Error> {
        self.load(true, std::iter::empty(), true)
    }

    /// [`Loader::from_iter`], with a [`Report`] of what was read.
    ///
    /// # Errors
    ///
    /// As [`Loader::from_env`].
    pub fn from_iter_with_report<Iter, T>(&self, iter: Iter) -> Result<(T, Report), Error>
    where
        T: DeserializeOwned,
        Iter: IntoIterator<Item = (String, String)>,
    {
        self.load(false, iter, true)
    }

    /// Every variable `T` reads under this prefix: see [`Description`].
    #[must_use]
    pub fn describe<T: DeserializeOwned>(&self) -> Description {
        describe::describe::<T>(&self.prefix)
    }

    fn load<T: DeserializeOwned>(
        &self,
        process: bool,
        iter: impl IntoIterator<Item = (String, String)>,
        report: bool,
    ) -> Result<(T, Report), Error> {
        let mut map = self.dotenv_entries()?;
        // Only names under the prefix can be read, even in strict mode.
        let prefix = self.prefix.as_str();
        let iter = iter.into_iter();
        map.reserve(iter.size_hint().0);
        map.extend(iter.filter(|(name, _)| name.starts_with(prefix)));
        let source = de::Source::new(process, prefix, map);
        let shape = describe::shape::<T>();
        let may_nest = |relative: &str| shape.may_nest(relative);
        let loaded = de::load::<T>(&source, prefix, self.strict, report, &may_nest);
        match loaded.result {
            Ok(value) => Ok((value, Report::new(loaded.entries))),
            Err(problems) => Err(Error::new(problems)),
        }
    }

    #[cfg(not(feature = "dotenv"))]
    #[allow(
        clippy::unnecessary_wraps,
        reason = "the same signature as with the dotenv feature"
    )]
    fn dotenv_entries(&self) -> Result<de::Map, Error> {
        Ok(de::Map::default())
    }

    #[cfg(feature = "dotenv")]
    fn dotenv_entries(&self) -> Result<de::Map, Error> {
        let mut map = de::Map::default();
        let mut problems = Vec::new();
        for (path, required) in &self.dotenv {
            let dotenv_problem = |entry| {
                Problem::from_kind(
                    "",
                    ProblemKind::Dotenv {
                        path: path.clone(),
                        entry,
                    },
                )
            };
            let iter = match dotenvy::from_path_iter(path) {
                Ok(iter) => iter,
                Err(e) if !required && e.not_found() => continue,
                Err(_) => {
                    problems.push(dotenv_problem(None));
                    continue;
                }
            };
            for (n, item) in iter.enumerate() {
                match item {
                    // Earlier files win, like the environment over all.
                    Ok((key, value)) => {
                        map.entry(key).or_insert(value);
                    }
                    Err(_) => {
                        problems.push(dotenv_problem(Some(n + 1)));
                        break;
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(map)
        } else {
            Err(Error::new(problems))
        }
    }
}
