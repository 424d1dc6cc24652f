//! Documentation from the type: every variable a type reads, and the shape
//! the loader needs (which fields may read nested variables). Both come from
//! the tracer, which walks the type instead of the environment.

mod shape;
mod tracer;

use std::fmt::{self, Write as _};

use serde::de::DeserializeOwned;

pub(crate) use self::shape::shape;
use self::tracer::trace_vars;

/// Every variable a type reads: name, type hint, whether it is required,
/// whether it is a secret. Made by [`describe`](crate::describe) or
/// [`Loader::describe`](crate::Loader::describe).
///
/// ```
/// use std::time::Duration;
///
/// #[derive(serde::Deserialize)]
/// struct Config {
///     port: u16,
///     #[serde(default, with = "humantime_serde")]
///     timeout: Option<Duration>,
///     password: dozen_config::Secret<String>,
/// }
///
/// let description = dozen_config::prefixed("APP_").describe::<Config>();
/// assert_eq!(
///     description.markdown(),
///     "\
/// | Variable | Type | Required | Secret |
/// |---|---|---|---|
/// | `APP_PORT` | integer | required | no |
/// | `APP_TIMEOUT` | duration | optional | no |
/// | `APP_PASSWORD` | string | required | yes |
/// ",
/// );
/// assert_eq!(
///     description.env_example(),
///     "\
/// ## integer, required
/// APP_PORT=
/// ## duration, optional
/// ## APP_TIMEOUT=
/// ## string, required, secret (or APP_PASSWORD_FILE=/path/to/file)
/// APP_PASSWORD=
/// ",
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    vars: Vec<VarDoc>,
}

/// One variable of a [`Description`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarDoc {
    name: String,
    hint: String,
    requirement: Requirement,
    secret: bool,
}

impl VarDoc {
    /// The full name, such as `APP_DB__PORT`.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it holds: `integer`, `bool`, `duration`, `url`, `list of string`, ...
    #[must_use]
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// Whether it must be set.
    #[must_use]
    pub fn requirement(&self) -> Requirement {
        self.requirement
    }

    /// Whether the field is a [`Secret`](crate::Secret).
    #[must_use]
    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

/// Whether a variable must be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// Loading fails without it.
    Required,
    /// An `Option`, or inside one: absent is `None`.
    Optional,
    /// The field (or a struct around it) has a `#[serde(default)]`.
    Default,
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Requirement::Required => "required",
            Requirement::Optional => "optional",
            Requirement::Default => "has a default",
        })
    }
}

impl Description {
    /// The variables, in field order.
    pub fn vars(&self) -> impl ExactSizeIterator<Item = &VarDoc> + '_ {
        self.vars.iter()
    }

    /// A Markdown table: variable, type, required, secret.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut out = String::from("| Variable | Type | Required | Secret |\n|---|---|---|---|\n");
        for var in &self.vars {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                var.name,
                var.hint.replace('|', "\\|"),
                var.requirement,
                if var.secret { "yes" } else { "no" }
            );
        }
        out
    }

    /// A `.env.example`: each variable under a comment with its type;
    /// required ones uncommented and empty, the others commented out.
    #[must_use]
    pub fn env_example(&self) -> String {
        let mut out = String::new();
        for var in &self.vars {
            let _ = write!(out, "# {}, {}", var.hint, var.requirement);
            if var.secret {
                let _ = write!(out, ", secret (or {}_FILE=/path/to/file)", var.name);
            }
            let comment = if var.requirement == Requirement::Required {
                ""
            } else {
                "# "
            };
            let _ = writeln!(out, "\n{comment}{}=", var.name);
        }
        out
    }
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.markdown())
    }
}

/// Every variable `T` reads under `prefix`, in field order.
pub(crate) fn describe<T: DeserializeOwned>(prefix: &str) -> Description {
    let vars = trace_vars::<T>(prefix)
        .into_iter()
        .map(|traced| VarDoc {
            requirement: if traced.optional {
                Requirement::Optional
            } else if traced.required {
                Requirement::Required
            } else {
                Requirement::Default
            },
            name: traced.name,
            hint: traced.hint,
            secret: traced.secret,
        })
        .collect();
    Description { vars }
}
