//! Promise: a URL parses, is classified and is shown redacted as the table says. Each row
//! gives the input, its kind, its `Display`, host, port, database and socket; invalid URLs
//! are reported without the URL; `expose` spells the scheme as the driver expects; the
//! accessors decode; every scheme alias maps to its kind.

use dozen_backing::{ErrorKind, Kind, ServiceUrl};

/// The secret in every row; it must never appear in `Display`, `Debug` or an error.
const SECRET: &str = "s3cret";

struct Row {
    input: &'static str,
    kind: Kind,
    display: &'static str,
    host: Option<&'static str>,
    port: Option<u16>,
    database: Option<&'static str>,
    socket: Option<&'static str>,
}

#[track_caller]
fn check(row: &Row) {
    let url: ServiceUrl = row
        .input
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", row.input));
    assert_eq!(url.kind(), row.kind, "kind of {}", row.input);
    assert_eq!(url.to_string(), row.display, "display of {}", row.input);
    assert_eq!(url.host(), row.host, "host of {}", row.input);
    assert_eq!(url.port(), row.port, "port of {}", row.input);
    assert_eq!(
        url.database().as_deref(),
        row.database,
        "database of {}",
        row.input
    );
    assert_eq!(
        url.socket().as_deref(),
        row.socket,
        "socket of {}",
        row.input
    );
    let debug = format!("{url:?}");
    assert!(
        debug.contains(row.display),
        "debug of {}: {debug}",
        row.input
    );
    for shown in [url.to_string(), debug] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(!shown.contains("p%40ss"), "{shown}");
    }
    // What the driver gets still holds the secret, whenever there is one.
    if row.input.contains(SECRET) {
        assert!(url.expose().contains(SECRET), "expose of {}", row.input);
        assert!(url.has_password(), "has_password of {}", row.input);
    }
}

macro_rules! row {
    ($input:expr, $kind:ident, $display:expr, $host:expr, $port:expr, $db:expr, $socket:expr) => {
        Row {
            input: $input,
            kind: Kind::$kind,
            display: $display,
            host: $host,
            port: $port,
            database: $db,
            socket: $socket,
        }
    };
}

/// The table: input, kind, `Display`, host, port, database, socket.
#[rustfmt::skip]
fn rows() -> Vec<Row> {
    vec![
        // PostgreSQL and its aliases.
        row!("postgres://app:s3cret@db:5432/app", Postgres, "postgres://app:***@db:5432/app", Some("db"), Some(5432), Some("app"), None),
        row!("postgresql://app:s3cret@db.internal/orders", Postgres, "postgresql://app:***@db.internal/orders", Some("db.internal"), Some(5432), Some("orders"), None),
        row!("pgsql://app:s3cret@db/app", Postgres, "pgsql://app:***@db/app", Some("db"), Some(5432), Some("app"), None),
        row!("POSTGRES://app:s3cret@db/app", Postgres, "postgres://app:***@db/app", Some("db"), Some(5432), Some("app"), None),
        row!("  postgres://app:s3cret@db/app\n", Postgres, "postgres://app:***@db/app", Some("db"), Some(5432), Some("app"), None),
        // Passwords with reserved characters, percent-encoded as they should be ...
        row!("postgres://app:p%40ss%3Aw%2Fo%3Fr%23d%25s3cret@db/app", Postgres, "postgres://app:***@db/app", Some("db"), Some(5432), Some("app"), None),
        row!("mysql://app:%40%3A%2F%3F%23%25s3cret@db/shop", MySql, "mysql://app:***@db/shop", Some("db"), Some(3306), Some("shop"), None),
        // ... and the ones that still parse when they are not.
        row!("postgres://app:p@ss@s3cret@db/app", Postgres, "postgres://app:***@db/app", Some("db"), Some(5432), Some("app"), None),
        row!("postgres://app:pa:s3cret@db/app", Postgres, "postgres://app:***@db/app", Some("db"), Some(5432), Some("app"), None),
        row!("redis://:p%25s3cret@cache", Redis, "redis://:***@cache", Some("cache"), Some(6379), None, None),
        // IPv6.
        row!("postgres://app:s3cret@[::1]:5433/app", Postgres, "postgres://app:***@[::1]:5433/app", Some("::1"), Some(5433), Some("app"), None),
        row!("postgres://app@[2001:db8:0:0::1]/app", Postgres, "postgres://app@[2001:db8::1]/app", Some("2001:db8::1"), Some(5432), Some("app"), None),
        row!("redis://:s3cret@[fe80::2]:6380/3", Redis, "redis://:***@[fe80::2]:6380/3", Some("fe80::2"), Some(6380), Some("3"), None),
        // Unix sockets, libpq style.
        row!("postgres://app@%2Fcloudsql%2Fproj%3Aregion%3Ainst/app", Postgres, "postgres://app@%2Fcloudsql%2Fproj%3Aregion%3Ainst/app", None, None, Some("app"), Some("/cloudsql/proj:region:inst")),
        row!("postgres:///app?host=/var/run/postgresql", Postgres, "postgres:///app?host=/var/run/postgresql", None, None, Some("app"), Some("/var/run/postgresql")),
        row!("postgres://app:s3cret@/app?host=/cloudsql/p:r:i", Postgres, "postgres://app:***@%2Fcloudsql%2Fp%3Ar%3Ai/app?host=/cloudsql/p:r:i", None, None, Some("app"), Some("/cloudsql/p:r:i")),
        row!("mysql://app:s3cret@localhost/shop?socket=/run/mysqld/mysqld.sock", MySql, "mysql://app:***@localhost/shop?socket=/run/mysqld/mysqld.sock", Some("localhost"), None, Some("shop"), Some("/run/mysqld/mysqld.sock")),
        row!("mysql://app:s3cret@/shop?socket=/run/mysqld/mysqld.sock", MySql, "mysql://app:***@localhost/shop?socket=/run/mysqld/mysqld.sock", Some("localhost"), None, Some("shop"), Some("/run/mysqld/mysqld.sock")),
        row!("redis+unix:///run/redis.sock?db=1&pass=s3cret", Redis, "redis+unix:///run/redis.sock?db=1&pass=***", None, None, Some("1"), Some("/run/redis.sock")),
        row!("unix:///run/redis.sock", Redis, "unix:///run/redis.sock", None, None, None, Some("/run/redis.sock")),
        // Passwords and other secrets in the query.
        row!("postgres://db/app?password=s3cret&sslmode=disable", Postgres, "postgres://db/app?password=***&sslmode=disable", Some("db"), Some(5432), Some("app"), None),
        row!("postgres://db/app?dbname=other&user=app&sslpassword=s3cret", Postgres, "postgres://db/app?dbname=other&user=app&sslpassword=***", Some("db"), Some(5432), Some("other"), None),
        row!("postgres://app@db/app?sslmode=require&application_name=web", Postgres, "postgres://app@db/app?sslmode=require&application_name=web", Some("db"), Some(5432), Some("app"), None),
        // MySQL / MariaDB.
        row!("mysql://root:s3cret@127.0.0.1:3306/test", MySql, "mysql://root:***@127.0.0.1:3306/test", Some("127.0.0.1"), Some(3306), Some("test"), None),
        row!("mariadb://app:s3cret@db/shop", MySql, "mariadb://app:***@db/shop", Some("db"), Some(3306), Some("shop"), None),
        row!("mysql://app@db", MySql, "mysql://app@db", Some("db"), Some(3306), None, None),
        // SQLite, read as sqlx reads it: a path, not a host.
        row!("sqlite::memory:", Sqlite, "sqlite::memory:", None, None, Some(":memory:"), None),
        row!("sqlite://?mode=memory", Sqlite, "sqlite://?mode=memory", None, None, Some(":memory:"), None),
        row!("sqlite://todo.db?mode=rwc", Sqlite, "sqlite://todo.db?mode=rwc", None, None, Some("todo.db"), None),
        row!("sqlite:todo.db", Sqlite, "sqlite:todo.db", None, None, Some("todo.db"), None),
        row!("sqlite://relative/path.db", Sqlite, "sqlite://relative/path.db", None, None, Some("relative/path.db"), None),
        row!("sqlite:///var/data/app.db", Sqlite, "sqlite:///var/data/app.db", None, None, Some("/var/data/app.db"), None),
        row!("SQLite://data/app.db", Sqlite, "sqlite://data/app.db", None, None, Some("data/app.db"), None),
        row!("sqlite3://data/app.db", Sqlite, "sqlite3://data/app.db", None, None, Some("data/app.db"), None),
        row!("sqlite://my%20db.sqlite", Sqlite, "sqlite://my%20db.sqlite", None, None, Some("my db.sqlite"), None),
        row!("sqlite://enc.db?key=s3cret", Sqlite, "sqlite://enc.db?key=***", None, None, Some("enc.db"), None),
        // Redis.
        row!("redis://127.0.0.1:6379", Redis, "redis://127.0.0.1:6379", Some("127.0.0.1"), Some(6379), None, None),
        row!("redis://:s3cret@cache:6379/2", Redis, "redis://:***@cache:6379/2", Some("cache"), Some(6379), Some("2"), None),
        row!("redis://default:s3cret@cache/0", Redis, "redis://default:***@cache/0", Some("cache"), Some(6379), Some("0"), None),
        row!("rediss://user:s3cret@cache.example.com:6380", Redis, "rediss://user:***@cache.example.com:6380", Some("cache.example.com"), Some(6380), None, None),
        row!("valkey://cache", Redis, "valkey://cache", Some("cache"), Some(6379), None, None),
        // AMQP.
        row!("amqp://guest:s3cret@127.0.0.1:5672/%2f", Amqp, "amqp://guest:***@127.0.0.1:5672/%2f", Some("127.0.0.1"), Some(5672), Some("/"), None),
        row!("amqps://app:s3cret@mq.example.com/prod", Amqp, "amqps://app:***@mq.example.com/prod", Some("mq.example.com"), Some(5671), Some("prod"), None),
        row!("amqp://mq", Amqp, "amqp://mq", Some("mq"), Some(5672), Some("/"), None),
        // NATS: a lone user name is a token.
        row!("nats://127.0.0.1:4222", Nats, "nats://127.0.0.1:4222", Some("127.0.0.1"), Some(4222), None, None),
        row!("nats://s3cret@nats:4222", Nats, "nats://***@nats:4222", Some("nats"), Some(4222), None, None),
        row!("nats://user:s3cret@nats", Nats, "nats://user:***@nats", Some("nats"), Some(4222), None, None),
        row!("tls://nats.example.com:4443", Nats, "tls://nats.example.com:4443", Some("nats.example.com"), Some(4443), None, None),
        // HTTP and the rest.
        row!("http://user:s3cret@example.com/path?token=s3cret&x=1", Http, "http://user:***@example.com/path?token=***&x=***", Some("example.com"), Some(80), None, None),
        row!("https://example.com", Http, "https://example.com/", Some("example.com"), Some(443), None, None),
        row!("mongodb://app:s3cret@mongo:27017/app?authSource=admin", Other, "mongodb://app:***@mongo:27017/app?authSource=admin", Some("mongo"), Some(27017), None, None),
    ]
}

#[test]
fn urls_parse_classify_and_redact() {
    let rows = rows();
    assert!(rows.len() >= 40);
    for row in &rows {
        check(row);
    }
}

#[track_caller]
fn check_error(input: &str, message: &str) {
    let error = input.parse::<ServiceUrl>().expect_err(input);
    assert_eq!(error.kind(), ErrorKind::InvalidUrl, "{input}");
    assert_eq!(error.to_string(), message, "{input}");
    assert!(!format!("{error:?}").contains(SECRET), "{input}");
    // The same through serde, as a configuration loader sees it.
    let json = serde_json::to_string(input).unwrap();
    let serde_error = serde_json::from_str::<ServiceUrl>(&json).expect_err(input);
    assert!(
        serde_error.to_string().starts_with(message),
        "{serde_error}"
    );
    assert!(!serde_error.to_string().contains(SECRET), "{serde_error}");
}

#[test]
fn invalid_urls_are_reported_without_the_url() {
    check_error("s3cret", "invalid service url: missing scheme");
    check_error("://s3cret", "invalid service url: missing scheme");
    check_error(
        "postgres://app:pa/s3cret@db/app",
        "invalid postgres url: invalid port number",
    );
    check_error(
        "postgres://app:pa#s3cret@db/app",
        "invalid postgres url: has a fragment (`#`), which no driver reads; write a `#` inside a password or a name as %23",
    );
    check_error(
        "postgres://app:pa?s3cret@db/app",
        "invalid postgres url: invalid port number",
    );
    check_error(
        "postgres://app:s3cret@db:99999/app",
        "invalid postgres url: invalid port number",
    );
    check_error(
        "mysql://app:s3cret@[::1/app",
        "invalid mysql url: invalid IPv6 address",
    );
    check_error(
        "postgres://app:s3cret@/app",
        "invalid postgres url: empty host (for a Unix socket, add ?host=/dir)",
    );
    check_error(
        "mysql://app:s3cret@/app",
        "invalid mysql url: empty host (for a Unix socket, add ?socket=/path)",
    );
    check_error(
        "postgres:s3cret",
        "invalid postgres url: expected `scheme://`",
    );
    // No `//`: the `url` crate would read no user info, so the password would sit in
    // the path, shown and unregistered. A forgotten scheme, a `jdbc:` prefix, an unknown
    // scheme: the error names the scheme when known, never the text.
    check_error(
        "admin:s3cret@localhost/orders",
        "invalid service url: expected `scheme://`",
    );
    check_error(
        "app:s3cret@db.internal:5432/app",
        "invalid service url: expected `scheme://`",
    );
    check_error(
        "jdbc:postgresql://app:s3cret@db/app",
        "invalid service url: expected `scheme://`",
    );
    check_error(
        "foo:s3cret@db/app",
        "invalid service url: expected `scheme://`",
    );
    check_error(
        "mongodb:/app:s3cret@db/app",
        "invalid service url: expected `scheme://`",
    );
    check_error(
        "nats:s3cret@nats:4222",
        "invalid nats url: expected `scheme://`",
    );
    // Whitespace or a control character inside: the `url` crate would encode a space and
    // drop a tab or a line break, so the URL would not be the one written.
    const BLANK: &str = "contains whitespace or a control character, which the URL would not keep as written; percent-encode it (a space as %20)";
    for inside in [
        " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\u{0}", "\u{7f}", "\u{85}", "\u{a0}", "\u{2028}",
        "\u{3000}",
    ] {
        check_error(
            &format!("postgres://app:s3cret{inside}22@db/app"),
            &format!("invalid postgres url: {BLANK}"),
        );
        check_error(
            &format!("sqlite://my{inside}db.db?key=s3cret"),
            &format!("invalid sqlite url: {BLANK}"),
        );
        check_error(
            &format!("foo://app:s3cret@db/a{inside}b"),
            &format!("invalid service url: {BLANK}"),
        );
    }
    check_error("redis://", "invalid redis url: missing host");
    check_error(
        "redis+unix://",
        "invalid redis+unix url: missing socket path",
    );
    check_error(
        "sqlite://",
        "invalid sqlite url: missing database file path",
    );
    check_error("http://", "invalid http url: empty host");
    // An unknown scheme is not echoed: it could be the start of a pasted secret.
    check_error(
        "s3cret://x:99999999",
        "invalid service url: invalid port number",
    );
}

/// Whitespace around the URL is not inside it: a value read from a `_FILE` ends with a
/// newline, and an environment value may be padded. What is left is what was written.
#[test]
fn whitespace_around_the_url_is_trimmed() {
    for input in [
        "postgres://app:s3cret@db/app\n",
        "  postgres://app:s3cret@db/app\r\n",
        "\tpostgres://app:s3cret@db/app ",
    ] {
        let url: ServiceUrl = input.parse().unwrap();
        assert_eq!(url.expose(), "postgres://app:s3cret@db/app", "{input:?}");
    }
    // Percent-encoded, a space is part of the password, as sqlx decodes it.
    let url: ServiceUrl = "postgres://app:s3cret%2022@db/my%20db".parse().unwrap();
    assert_eq!(url.database().as_deref(), Some("my db"));
    let url: ServiceUrl = "sqlite://my%20app.db".parse().unwrap();
    assert_eq!(url.database().as_deref(), Some("my app.db"));
}

#[test]
fn expose_spells_the_scheme_for_the_driver() {
    let check = |input: &str, exposed: &str| {
        let url: ServiceUrl = input.parse().unwrap();
        assert_eq!(url.expose(), exposed, "{input}");
    };
    check("pgsql://app:s3cret@db/app", "postgres://app:s3cret@db/app");
    check(
        "postgresql://app:s3cret@db/app",
        "postgresql://app:s3cret@db/app",
    );
    check("sqlite3://data/app.db", "sqlite://data/app.db");
    check("sqlite::memory:", "sqlite::memory:");
    check(
        "mariadb://app:s3cret@db/shop",
        "mariadb://app:s3cret@db/shop",
    );
    check(
        "postgres://app:p%40ss@db/app",
        "postgres://app:p%40ss@db/app",
    );
}

#[test]
fn accessors_decode() {
    let url: ServiceUrl =
        "postgres://app%20user:s3cret@db/my%20db?user=other&application_name=a%26b"
            .parse()
            .unwrap();
    assert_eq!(url.username().as_deref(), Some("app user"));
    assert_eq!(url.database().as_deref(), Some("my db"));
    assert_eq!(url.param("application_name").as_deref(), Some("a&b"));
    assert_eq!(url.param("missing"), None);
    assert_eq!(url.scheme(), "postgres");
    let url: ServiceUrl = "postgres://db/app?user=app".parse().unwrap();
    assert_eq!(url.username().as_deref(), Some("app"));
    assert!(!url.has_password());
}

#[test]
fn schemes_map_to_kinds() {
    let check = |scheme: &str, kind: Kind| assert_eq!(Kind::from_scheme(scheme), kind, "{scheme}");
    check("postgres", Kind::Postgres);
    check("PostgreSQL", Kind::Postgres);
    check("pgsql", Kind::Postgres);
    check("mysql", Kind::MySql);
    check("mariadb", Kind::MySql);
    check("sqlite3", Kind::Sqlite);
    check("rediss", Kind::Redis);
    check("redis+unix", Kind::Redis);
    check("unix", Kind::Redis);
    check("amqps", Kind::Amqp);
    check("tls", Kind::Nats);
    check("https", Kind::Http);
    check("ftp", Kind::Other);
    assert_eq!(Kind::MySql.to_string(), "mysql");
}
