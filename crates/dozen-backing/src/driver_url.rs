//! The URL handed to sqlx's PostgreSQL and MySQL drivers, built so that it means what
//! [`ServiceUrl`] parsed.
//!
//! Invariants, each held by a test in `tests/it/driver_gets_what_was_parsed.rs`:
//! - every parameter the driver reads reaches it unchanged (the query is re-serialized by
//!   the `url` crate from the parsed pairs as written, never cut from text by offsets);
//! - a parameter the driver would read twice (`sslmode` then `ssl-mode`, say) is rejected,
//!   since the driver keeps the last one and [`ServiceUrl::param`] the first;
//! - a parameter the driver does not read is dropped, its name (never its value) logged,
//!   because sqlx's PostgreSQL driver logs the *value* of an unknown parameter; a secret
//!   one (`sslpassword=`, `token=`) is rejected, since dropping it would silently connect
//!   without it;
//! - `?password=`, which sqlx's MySQL driver ignores without a word, is moved into the
//!   user info; a password given both ways is rejected;
//! - a parameter that would make the driver connect elsewhere than [`ServiceUrl::host`]
//!   (PostgreSQL's `?host=` and `?hostaddr=`, MySQL's `?socket=`, next to another host in
//!   the URL) is rejected.

use std::borrow::Cow;

use dozen_redact::is_secret_param;

use crate::error::{Error, ErrorKind};
use crate::service_url::query::{decode, decode_value, raw_params};
use crate::service_url::{Kind, ServiceUrl};

/// The parameters one driver reads, each group a name and its aliases.
struct Known {
    groups: &'static [&'static [&'static str]],
    /// Parameters the driver reads more than once and combines (PostgreSQL `options`).
    repeatable: fn(&str) -> bool,
}

/// What sqlx-postgres 0.9 reads (`PgConnectOptions::parse_from_url`).
const POSTGRES: Known = Known {
    groups: &[
        &["sslmode", "ssl-mode"],
        &["sslrootcert", "ssl-root-cert", "ssl-ca"],
        &["sslcert", "ssl-cert"],
        &["sslkey", "ssl-key"],
        &["statement-cache-capacity"],
        &["host", "hostaddr"],
        &["port"],
        &["dbname"],
        &["user"],
        &["password"],
        &["application_name"],
        &["options"],
    ],
    repeatable: |name| name == "options" || is_postgres_option(name),
};

/// What sqlx-mysql 0.9 reads (`MySqlConnectOptions::parse_from_url`); it ignores any other
/// parameter without a word, `password` included.
const MYSQL: Known = Known {
    groups: &[
        &["sslmode", "ssl-mode"],
        &["sslca", "ssl-ca"],
        &["charset"],
        &["collation"],
        &["sslcert", "ssl-cert"],
        &["sslkey", "ssl-key"],
        &["statement-cache-capacity"],
        &["socket"],
        &["timezone", "time-zone"],
    ],
    repeatable: |_| false,
};

/// `options[search_path]=s`: one server option, read by sqlx-postgres.
fn is_postgres_option(name: &str) -> bool {
    name.starts_with("options[") && name.ends_with(']')
}

impl Known {
    /// The group of `name`, as an index; `usize::MAX` for a repeatable parameter, which
    /// has no group to clash in.
    fn group(&self, name: &str) -> Option<usize> {
        if (self.repeatable)(name) {
            return Some(usize::MAX);
        }
        self.groups.iter().position(|group| group.contains(&name))
    }
}

/// The URL to hand to sqlx for a PostgreSQL or MySQL `url`, password included: never log
/// it. See the module documentation for what is kept, moved, dropped and rejected.
pub(crate) fn driver_url(url: &ServiceUrl) -> Result<String, Error> {
    let known = match url.kind() {
        Kind::MySql => &MYSQL,
        _ => &POSTGRES,
    };
    let Some(parsed) = url.as_url() else {
        return Ok(url.expose().into_owned());
    };
    let reject = |reason: String| {
        Error::new(
            ErrorKind::InvalidUrl,
            format!("invalid {} url {url}: {reason}", url.kind()),
        )
    };
    let mut kept: Vec<&str> = Vec::new();
    let mut seen: Vec<(usize, Cow<'_, str>)> = Vec::new();
    let mut query_password = None;
    for (pair, value, name) in raw_params(parsed.query().unwrap_or_default()) {
        if let Some(group) = known.group(&name) {
            if let Some(reason) = elsewhere(url, &name, value.unwrap_or_default()) {
                return Err(reject(reason.to_owned()));
            }
            if group != usize::MAX {
                if let Some((_, first)) = seen.iter().find(|(g, _)| *g == group) {
                    return Err(reject(format!(
                        "parameter `{name}` is given more than once (as `{first}` too); the driver would keep only the last"
                    )));
                }
                seen.push((group, name.clone()));
            }
            kept.push(pair);
        } else if name == "password" {
            if query_password.is_some() {
                return Err(reject(
                    "`password=` is given more than once; keep one".to_owned(),
                ));
            }
            query_password = Some(decode_value(value.unwrap_or_default()));
        } else if is_secret_param(&name) {
            return Err(reject(format!(
                "parameter `{name}` holds a secret the {} driver does not read; remove it",
                url.kind()
            )));
        } else {
            tracing::warn!(url = %url, parameter = %name, "ignoring unrecognized connect parameter");
        }
    }
    // What the URL says outside the query, which the driver reads first and the query
    // then overrides: the same thing said twice is rejected rather than resolved.
    let in_url: [(&str, bool); 4] = [
        ("password", parsed.password().is_some()),
        ("user", !parsed.username().is_empty()),
        ("dbname", !parsed.path().trim_start_matches('/').is_empty()),
        ("port", parsed.port().is_some()),
    ];
    for (name, given) in in_url {
        if given && seen.iter().any(|(_, n)| n == name) && known.group(name).is_some() {
            return Err(reject(format!(
                "`{name}` is given both in the URL and as `{name}=`; keep one"
            )));
        }
    }
    if query_password.is_some() && parsed.password().is_some() {
        return Err(reject(
            "`password` is given both in the URL and as `password=`; keep one".to_owned(),
        ));
    }
    let mut handed = parsed.clone();
    handed.set_fragment(None);
    let query = kept.join("&");
    handed.set_query(Some(&query).filter(|q| !q.is_empty()).map(|q| q.as_str()));
    if let Some(password) = query_password {
        // Encoded here: the `url` crate leaves a `%` in user info as it is, and sqlx
        // percent-decodes it.
        let encoded =
            percent_encoding::utf8_percent_encode(&password, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        handed
            .set_password(Some(&encoded))
            .map_err(|()| reject("cannot carry a password".to_owned()))?;
    }
    Ok(canonical_scheme(handed.as_str()))
}

/// Why the parameter `name=value` would make the driver connect somewhere else than the
/// host of `url` ([`ServiceUrl::host`]), if it would.
///
/// sqlx-postgres lets `?host=` (a name, or a socket directory when it starts with `/`) and
/// `?hostaddr=` override the URL's host; sqlx-mysql connects to `?socket=` whatever the
/// host (it reads no `?host=`). Either is fine when the URL has no host of its own, or when
/// both name the same place: the socket directory that [`ServiceUrl`] moves into the host
/// for `user@/db?host=/dir` (Cloud SQL's form), or MySQL's `localhost`, the host a MySQL
/// client reads as "the local socket". The reasons name the parameter, never its value.
fn elsewhere(url: &ServiceUrl, name: &str, value: &str) -> Option<&'static str> {
    let parsed = url.as_url()?;
    let host = parsed.host_str().filter(|h| !h.is_empty())?;
    match (url.kind(), name) {
        (Kind::Postgres, "host" | "hostaddr") => {
            let host = decode(host);
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(&host);
            let value = decode_value(value);
            // A socket directory is a path, whose case matters; a host name's does not.
            let same = if value.starts_with('/') {
                value == host
            } else {
                value.eq_ignore_ascii_case(host)
            };
            (!same).then_some(
                "`host=` or `hostaddr=` names another host than the URL, and the driver would connect there; keep one",
            )
        }
        (Kind::MySql, "socket") => (!host.eq_ignore_ascii_case("localhost")).then_some(
            "`socket=` is given next to a host, and the driver would connect to the socket; write the host as localhost or leave it empty",
        ),
        _ => None,
    }
}

/// `text` with a `pgsql` scheme spelt `postgres`, as sqlx expects.
fn canonical_scheme(text: &str) -> String {
    match text.split_once(':') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("pgsql") => format!("postgres:{rest}"),
        _ => text.to_owned(),
    }
}
