//! How a URL is shown: its password, token and every query value not known to be harmless
//! replaced by `***`. A leaf: it is handed the parts to write.

use std::fmt;
use std::ops::Range;

use dozen_redact::is_secret_param;

use super::query::raw_params;

/// Writes a SQLite URL kept as text, `query` the range of its query string.
pub(super) fn write_sqlite(
    f: &mut fmt::Formatter<'_>,
    raw: &str,
    query: Option<&Range<usize>>,
) -> fmt::Result {
    let end = query.map_or(raw.len(), |q| q.start - 1);
    f.write_str(&raw[..end])?;
    if let Some(q) = query {
        write_query(f, &raw[q.clone()])?;
    }
    Ok(())
}

/// Writes `url` with its password hidden, and its lone user name too when `user_is_token`
/// (a NATS token).
pub(super) fn write_url(
    f: &mut fmt::Formatter<'_>,
    url: &url::Url,
    user_is_token: bool,
) -> fmt::Result {
    let text = url.as_str();
    let mut pos = 0;
    if url.has_authority() {
        // `scheme://` then the user info exactly as `username()` and `password()` give
        // it, then `@`.
        let start = url.scheme().len() + 3;
        let user = url.username();
        f.write_str(&text[..start])?;
        pos = start;
        match url.password() {
            Some(password) => {
                write!(f, "{user}:***@")?;
                pos += user.len() + 1 + password.len() + 1;
            }
            None if user_is_token => {
                f.write_str("***@")?;
                pos += user.len() + 1;
            }
            None => {}
        }
    }
    let rest = &text[pos..];
    let (before_fragment, fragment) = match url.fragment() {
        Some(frag) => rest.split_at(rest.len() - frag.len() - 1),
        None => (rest, ""),
    };
    match url.query() {
        Some(query) => {
            let split = before_fragment.len() - query.len() - 1;
            f.write_str(&before_fragment[..split])?;
            write_query(f, query)?;
        }
        None => f.write_str(before_fragment)?,
    }
    // A fragment has no meaning to a driver and could hold anything.
    if !fragment.is_empty() {
        f.write_str("#***")?;
    }
    Ok(())
}

/// Whether a query parameter's value is shown by `Display`: only those of well-known,
/// harmless parameters are; any other value, a misspelt `pasword=` included, is `***`.
fn is_public_param(name: &str) -> bool {
    const PUBLIC: &[&str] = &[
        // PostgreSQL (libpq and sqlx)
        "sslmode",
        "ssl-mode",
        "sslrootcert",
        "ssl-root-cert",
        "ssl-ca",
        "sslcert",
        "ssl-cert",
        "sslkey",
        "ssl-key",
        "application_name",
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "options",
        "statement-cache-capacity",
        "connect_timeout",
        "target_session_attrs",
        // MySQL / MariaDB
        "sslca",
        "charset",
        "collation",
        "socket",
        "timezone",
        "time-zone",
        // SQLite
        "mode",
        "cache",
        "immutable",
        "vfs",
        // Redis, AMQP, NATS, MongoDB
        "db",
        "protocol",
        "heartbeat",
        "connection_timeout",
        "channel_max",
        "frame_max",
        "authsource",
        "authmechanism",
        "replicaset",
        "tls",
        "retrywrites",
        "w",
    ];
    !is_secret_param(name) && PUBLIC.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// Writes `?query` with the value of every parameter that is not known to be harmless
/// replaced by `***`.
fn write_query(f: &mut fmt::Formatter<'_>, query: &str) -> fmt::Result {
    f.write_str("?")?;
    for (i, (pair, value, name)) in raw_params(query).enumerate() {
        if i > 0 {
            f.write_str("&")?;
        }
        match value {
            None => f.write_str(pair)?,
            Some(_) if is_public_param(&name) => f.write_str(pair)?,
            Some(_) => {
                let key = &pair[..pair.len() - value.map_or(0, str::len) - 1];
                write!(f, "{key}=***")?;
            }
        }
    }
    Ok(())
}
