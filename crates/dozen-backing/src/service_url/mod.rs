//! [`ServiceUrl`]: a backing service's URL that knows its kind and hides its password.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use dozen_redact::is_secret_param;
use percent_encoding::percent_decode_str;

use crate::error::Error;

mod kind;
pub(crate) mod query;
mod redact;

pub use kind::Kind;
use query::{decode, decode_value, raw_params};

/// The URL of a backing service (factor IV): a database, a cache, a broker.
///
/// It parses with [`FromStr`] or serde, knows its [`Kind`] from the scheme (aliases included),
/// and never shows its password: [`Display`](fmt::Display) and [`Debug`] print
/// `postgres://app:***@db:5432/app`. Query parameters show their values only when they are
/// well known and harmless (`sslmode`, `application_name`, `mode`, `db`, ...): any other
/// value, a `password=` or a misspelt `pasword=` alike, is shown as `***`. No [`Error`]
/// contains the password or the raw URL.
/// [`expose`](Self::expose) gives the full URL to hand to a driver.
///
/// Parsing registers every secret of the URL (the password, a token, the value of each
/// secret parameter, as written and as decoded) with [`dozen_redact::register`], so that
/// dozen-log masks it in any line. A URL with a fragment (`#...`) is an error: no driver
/// reads one, and a raw `#` in a password would cut it silently (write it as `%23`). So is
/// a URL without `scheme://` (`admin:pw@db/app`, in which no parser sees a password), SQLite's
/// paths aside, and one with whitespace or a control character inside, which the `url`
/// crate would encode or drop (write a space as `%20`; the ends are trimmed).
///
/// Accepted forms include the libpq Unix-socket ones (a percent-encoded host such as
/// `postgres://app@%2Fcloudsql%2Fproj%3Aregion%3Ainst/app`, or an empty host with
/// `?host=/dir`), IPv6 hosts (`postgres://[::1]:5432/app`), the SQLite paths as sqlx reads them
/// (`sqlite://todo.db?mode=rwc` is the relative file `todo.db`, `sqlite:///var/data/app.db` an
/// absolute one, `sqlite::memory:`), and the Redis Unix-socket forms
/// (`redis+unix:///run/redis.sock?db=2`).
///
/// ```
/// use dozen_backing::{Kind, ServiceUrl};
///
/// let url: ServiceUrl = "pgsql://app:s3cr%40t@db.internal/orders".parse()?;
/// assert_eq!(url.kind(), Kind::Postgres);
/// assert_eq!(url.host(), Some("db.internal"));
/// assert_eq!(url.port(), Some(5432));
/// assert_eq!(url.database().as_deref(), Some("orders"));
/// assert_eq!(url.to_string(), "pgsql://app:***@db.internal/orders");
/// // The scheme as drivers spell it, password included:
/// assert_eq!(url.expose(), "postgres://app:s3cr%40t@db.internal/orders");
/// # Ok::<(), dozen_backing::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServiceUrl {
    kind: Kind,
    repr: Repr,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Url(url::Url),
    /// sqlx reads a SQLite URL as a path, not as a URL (`sqlite://todo.db` is the relative
    /// file `todo.db`, not a host), so it is kept as text with the ranges of its parts.
    Sqlite {
        raw: Box<str>,
        path: Range<usize>,
        query: Option<Range<usize>>,
    },
}

/// The scheme of `input` as written, when it has the syntax of one.
fn scheme_of(input: &str) -> Option<&str> {
    let (scheme, _) = input.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// Why `input` (trimmed) cannot be read as written, if it cannot; one pass over its bytes.
///
/// - A `#` starts a fragment, dropped by the URL standard and by every driver, so a raw
///   `#` in a password would silently cut it (and, once, shifted what sqlx was handed).
/// - Whitespace or a control character inside: the `url` crate percent-encodes a space and
///   silently strips a tab or a line break, so the URL would not be the one written, and
///   redaction that ends a URL at whitespace (in a log line) would show the rest of it.
///   The trimmed ends are not inside: a trailing newline from a `_FILE` is fine.
///
/// The reasons say where, never what.
fn unwritable(input: &str) -> Option<&'static str> {
    const FRAGMENT: &str = "has a fragment (`#`), which no driver reads; write a `#` inside a password or a name as %23";
    const BLANK: &str = "contains whitespace or a control character, which the URL would not keep as written; percent-encode it (a space as %20)";
    // Every parse runs this: the first pass has no branch per byte, so that it vectorizes
    // (as cheap as the `memchr` for `#` alone), and the second runs only on a suspect.
    let suspect = input.bytes().fold(false, |suspect, b| {
        suspect | (b <= b' ') | (b == 0x7f) | (b == b'#') | (b >= 0x80)
    });
    if !suspect {
        return None;
    }
    if input.contains('#') {
        return Some(FRAGMENT);
    }
    // Non-ASCII whitespace (a no-break space, a line separator) and C1 controls too.
    input
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
        .then_some(BLANK)
}

impl ServiceUrl {
    /// Parses `input`; the same as [`str::parse`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidUrl`](crate::ErrorKind::InvalidUrl) when `input` is not a URL of
    /// its kind; the error names the scheme (when it is a known one) and the reason, never
    /// the URL itself.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let input = input.trim();
        let scheme = scheme_of(input);
        let kind = scheme.map_or(Kind::Other, Kind::from_scheme);
        let invalid = |reason: &str| {
            let scheme = if kind == Kind::Other { None } else { scheme };
            Error::invalid_url(scheme, reason)
        };
        let Some(scheme) = scheme else {
            return Err(invalid("missing scheme"));
        };
        if let Some(reason) = unwritable(input) {
            return Err(invalid(reason));
        }
        let this = if kind == Kind::Sqlite {
            Self::parse_sqlite(input, scheme.len()).map_err(invalid)?
        } else if !input[scheme.len() + 1..].starts_with("//") {
            // Without `//` the `url` crate reads no user info: `admin:pw@db/app` (a scheme
            // forgotten) or `jdbc:postgresql://app:pw@db/app` would keep its password in
            // the path, where neither `Display` nor the registered secrets could see it
            // (and `file:` or `http:` would have a `//` put in that was not written). No
            // backing service is addressed that way; SQLite's `sqlite:file.db` has its own
            // parser above.
            return Err(invalid("expected `scheme://`"));
        } else {
            Self::parse_url(input, kind, &invalid)?
        };
        this.register_secrets();
        Ok(this)
    }

    fn parse_url(input: &str, kind: Kind, invalid: &dyn Fn(&str) -> Error) -> Result<Self, Error> {
        let url = match url::Url::parse(input) {
            Ok(url) => url,
            Err(url::ParseError::EmptyHost) if matches!(kind, Kind::Postgres | Kind::MySql) => {
                Self::with_socket_host(input, kind).ok_or_else(|| {
                    invalid(if kind == Kind::Postgres {
                        "empty host (for a Unix socket, add ?host=/dir)"
                    } else {
                        "empty host (for a Unix socket, add ?socket=/path)"
                    })
                })?
            }
            Err(e) => return Err(invalid(&e.to_string())),
        };
        let this = ServiceUrl {
            kind,
            repr: Repr::Url(url),
        };
        if kind == Kind::Redis {
            if this.is_unix_redis() {
                if this.url_path().is_empty() {
                    return Err(invalid("missing socket path"));
                }
            } else if this.host().is_none() {
                return Err(invalid("missing host"));
            }
        }
        Ok(this)
    }

    /// Registers every secret of this URL with [`dozen_redact::register`], so that a log
    /// line that echoes one (a driver's error, say) is masked whoever writes it.
    fn register_secrets(&self) {
        for secret in self.secrets() {
            dozen_redact::register(&secret);
        }
    }

    /// `user:password@/db?host=/dir` (the form Cloud SQL documents) is valid for libpq but
    /// not for the URL standard, which refuses credentials without a host: the socket
    /// directory moves into the host, percent-encoded, which libpq and sqlx read the same way.
    fn with_socket_host(input: &str, kind: Kind) -> Option<url::Url> {
        let (_, query) = input.split_once('?')?;
        let key = if kind == Kind::Postgres {
            "host"
        } else {
            "socket"
        };
        let dir = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, v)| k == key && v.starts_with('/'))
            .map(|(_, v)| v)?;
        if kind == Kind::MySql {
            // MySQL reads the socket from the query; any host will do.
            let at = input.find("@/")?;
            return url::Url::parse(&format!("{}@localhost{}", &input[..at], &input[at + 1..]))
                .ok();
        }
        let at = input.find("@/")?;
        let host = percent_encoding::utf8_percent_encode(&dir, percent_encoding::NON_ALPHANUMERIC);
        url::Url::parse(&format!("{}@{host}{}", &input[..at], &input[at + 1..])).ok()
    }

    fn parse_sqlite(input: &str, scheme_len: usize) -> Result<Self, &'static str> {
        let after = &input[scheme_len + 1..];
        let prefix = scheme_len + 1 + if after.starts_with("//") { 2 } else { 0 };
        let rest = &input[prefix..];
        let (path_len, query) = match rest.find('?') {
            Some(q) => (q, Some(prefix + q + 1..input.len())),
            None => (rest.len(), None),
        };
        let path = prefix..prefix + path_len;
        let memory_mode = query.as_ref().is_some_and(|q| {
            url::form_urlencoded::parse(input[q.clone()].as_bytes())
                .any(|(k, v)| k == "mode" && v == "memory")
        });
        if path.is_empty() && !memory_mode {
            return Err("missing database file path");
        }
        if percent_decode_str(&input[path.clone()])
            .decode_utf8()
            .is_err()
        {
            return Err("database file path is not UTF-8 once percent-decoded");
        }
        Ok(ServiceUrl {
            kind: Kind::Sqlite,
            repr: Repr::Sqlite {
                // sqlx matches the scheme case-sensitively; the parts keep their offsets.
                raw: format!(
                    "{}{}",
                    input[..scheme_len].to_ascii_lowercase(),
                    &input[scheme_len..]
                )
                .into(),
                path,
                query,
            },
        })
    }

    /// The kind of service, from the scheme.
    #[must_use]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The scheme as written, in lower case (`pgsql`, `rediss`, `sqlite`).
    #[must_use]
    pub fn scheme(&self) -> &str {
        match &self.repr {
            Repr::Url(url) => url.scheme(),
            Repr::Sqlite { raw, .. } => raw.split(':').next().unwrap_or_default(),
        }
    }

    /// The network host, without the brackets of an IPv6 address; `None` for Unix sockets,
    /// SQLite and an empty host.
    #[must_use]
    pub fn host(&self) -> Option<&str> {
        let Repr::Url(url) = &self.repr else {
            return None;
        };
        if self.is_unix_redis() {
            return None;
        }
        let host = url.host_str().filter(|h| !h.is_empty())?;
        if self.kind == Kind::Postgres && decode(host).starts_with('/') {
            return None;
        }
        Some(
            host.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host),
        )
    }

    /// The port: the one in the URL, else the kind's default (5432, 3306, 6379, 5672 or 5671,
    /// 4222, 80 or 443); `None` for Unix sockets, SQLite and unknown schemes without one.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        let Repr::Url(url) = &self.repr else {
            return None;
        };
        if let Some(port) = url.port() {
            return Some(port);
        }
        if self.socket().is_some() {
            return None;
        }
        match (self.kind, url.scheme()) {
            (Kind::Postgres, _) => Some(5432),
            (Kind::MySql, _) => Some(3306),
            (Kind::Redis, _) => Some(6379),
            (Kind::Amqp, "amqps") => Some(5671),
            (Kind::Amqp, _) => Some(5672),
            (Kind::Nats, _) => Some(4222),
            _ => url.port_or_known_default(),
        }
    }

    /// The user name, percent-decoded; `None` when empty.
    #[must_use]
    pub fn username(&self) -> Option<Cow<'_, str>> {
        let Repr::Url(url) = &self.repr else {
            return None;
        };
        Some(url.username())
            .filter(|u| !u.is_empty())
            .map(|u| percent_decode_str(u).decode_utf8_lossy())
            .or_else(|| {
                (self.kind == Kind::Postgres)
                    .then(|| self.param("user"))
                    .flatten()
            })
    }

    /// Whether the URL carries a password or another secret: in its user info, as a NATS
    /// token, or in a query parameter such as `password` or `pass`.
    #[must_use]
    pub fn has_password(&self) -> bool {
        !self.secrets().is_empty()
    }

    /// The database: its name for PostgreSQL (`?dbname=` included) and MySQL, the file path
    /// for SQLite (`:memory:` for an in-memory database), the database number for Redis, the
    /// virtual host for AMQP; percent-decoded, `None` when absent.
    #[must_use]
    pub fn database(&self) -> Option<Cow<'_, str>> {
        match (&self.repr, self.kind) {
            (Repr::Sqlite { raw, path, .. }, _) => {
                let path = &raw[path.clone()];
                if path.is_empty() {
                    Some(Cow::Borrowed(":memory:"))
                } else {
                    Some(percent_decode_str(path).decode_utf8_lossy())
                }
            }
            (Repr::Url(_), Kind::Postgres) => self
                .param("dbname")
                .or_else(|| self.path_segment().map(decode)),
            (Repr::Url(_), Kind::MySql) => self.path_segment().map(decode),
            (Repr::Url(_), Kind::Redis) if self.is_unix_redis() => self.param("db"),
            (Repr::Url(_), Kind::Redis) => {
                self.path_segment().map(decode).or_else(|| self.param("db"))
            }
            (Repr::Url(url), Kind::Amqp) => {
                // An empty path is the default vhost "/"; "/%2f" names it explicitly.
                let path = url.path().strip_prefix('/').unwrap_or(url.path());
                Some(if path.is_empty() {
                    Cow::Borrowed("/")
                } else {
                    decode(path)
                })
            }
            _ => None,
        }
    }

    /// The Unix socket: the directory of a PostgreSQL server (a percent-encoded host or
    /// `?host=/dir`), MySQL's `?socket=`, or the socket path of a `redis+unix://` or `unix://`
    /// URL; percent-decoded.
    #[must_use]
    pub fn socket(&self) -> Option<Cow<'_, str>> {
        let Repr::Url(url) = &self.repr else {
            return None;
        };
        match self.kind {
            Kind::Postgres => {
                let host = url.host_str().map(decode);
                host.filter(|h| h.starts_with('/'))
                    .or_else(|| self.param("host").filter(|h| h.starts_with('/')))
            }
            Kind::MySql => self.param("socket"),
            Kind::Redis if self.is_unix_redis() => Some(decode(url.path())),
            _ => None,
        }
    }

    /// The first value of the query parameter `name`, percent-decoded.
    ///
    /// This may be a secret (`password`, `pass`): treat it like [`expose`](Self::expose).
    #[must_use]
    pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        let query = self.query()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The full URL, **password included**, to hand to a driver.
    ///
    /// The scheme is spelled the way the drivers expect: `pgsql` becomes `postgres` and
    /// `sqlite3` becomes `sqlite`; everything else is as parsed. Never log this.
    #[must_use]
    pub fn expose(&self) -> Cow<'_, str> {
        let (text, scheme_len) = match &self.repr {
            Repr::Url(url) => (url.as_str(), url.scheme().len()),
            Repr::Sqlite { raw, .. } => (&**raw, self.scheme().len()),
        };
        let canonical = match &text[..scheme_len] {
            s if s.eq_ignore_ascii_case("pgsql") => "postgres",
            s if s.eq_ignore_ascii_case("sqlite3") => "sqlite",
            _ => return Cow::Borrowed(text),
        };
        Cow::Owned(format!("{canonical}{}", &text[scheme_len..]))
    }

    /// The secrets in this URL, each as written and as a driver decodes it: the password
    /// and a lone user name that is a token (see [`Self::token`]) percent-decoded, the
    /// values of secret query parameters ([`is_secret_param`]) form-decoded (`+` is a
    /// space). For scrubbing driver messages and for [`dozen_redact::register`].
    pub(crate) fn secrets(&self) -> Vec<Cow<'_, str>> {
        let mut secrets: Vec<Cow<'_, str>> = Vec::new();
        let mut written: Vec<(&str, bool)> = Vec::new();
        if let Repr::Url(url) = &self.repr {
            if let Some(password) = url.password() {
                written.push((password, false));
            } else if self.token().is_some() {
                written.push((url.username(), false));
            }
        }
        if let Some(query) = self.query() {
            for (_, value, name) in raw_params(query) {
                if let Some(value) = value.filter(|v| !v.is_empty() && is_secret_param(&name)) {
                    written.push((value, true));
                }
            }
        }
        for (value, form) in written {
            secrets.push(Cow::Borrowed(value));
            let decoded = if form {
                Cow::Owned(decode_value(value))
            } else {
                percent_decode_str(value).decode_utf8_lossy()
            };
            if decoded != value {
                secrets.push(Cow::Owned(decoded.into_owned()));
            }
        }
        secrets
    }

    /// The lone user name of a URL whose scheme reads it as a token rather than a user
    /// (`nats://TOKEN@host`, and any scheme this crate does not know).
    fn token(&self) -> Option<&str> {
        let Repr::Url(url) = &self.repr else {
            return None;
        };
        let token_scheme = self.kind == Kind::Nats
            || (self.kind == Kind::Other
                && !["mongodb", "mongodb+srv", "ftp", "ssh"].contains(&url.scheme()));
        (token_scheme && url.password().is_none() && !url.username().is_empty())
            .then(|| url.username())
    }

    /// The parsed URL, for a URL that is not SQLite.
    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql", feature = "any")),
        allow(dead_code, reason = "used for the PostgreSQL and MySQL drivers")
    )]
    pub(crate) fn as_url(&self) -> Option<&url::Url> {
        match &self.repr {
            Repr::Url(url) => Some(url),
            Repr::Sqlite { .. } => None,
        }
    }

    /// The query string, without the `?`.
    pub(crate) fn query(&self) -> Option<&str> {
        match &self.repr {
            Repr::Url(url) => url.query(),
            Repr::Sqlite { raw, query, .. } => query.clone().map(|q| &raw[q]),
        }
    }

    /// The URL's path, for a URL that is not SQLite.
    fn url_path(&self) -> &str {
        match &self.repr {
            Repr::Url(url) => url.path(),
            Repr::Sqlite { .. } => "",
        }
    }

    /// The path without its leading `/`, when not empty.
    fn path_segment(&self) -> Option<&str> {
        let path = self.url_path();
        Some(path.strip_prefix('/').unwrap_or(path)).filter(|p| !p.is_empty())
    }

    fn is_unix_redis(&self) -> bool {
        self.kind == Kind::Redis && matches!(self.scheme(), "redis+unix" | "unix" | "valkey+unix")
    }
}

impl FromStr for ServiceUrl {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ServiceUrl {
    /// The URL with its password and secret parameters shown as `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Sqlite { raw, query, .. } => redact::write_sqlite(f, raw, query.as_ref()),
            Repr::Url(url) => redact::write_url(f, url, self.token().is_some()),
        }
    }
}

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted<'a>(&'a ServiceUrl);
        impl fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "\"{}\"", self.0)
            }
        }
        f.debug_struct("ServiceUrl")
            .field("kind", &self.kind)
            .field("url", &Redacted(self))
            .finish()
    }
}

impl<'de> serde::Deserialize<'de> for ServiceUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ServiceUrl;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a service url such as postgres://user:password@host/db")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ServiceUrl, E> {
                // The error names the scheme and the reason, never the value.
                ServiceUrl::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}
