//! Promise: what the driver is given means what was parsed. A fragment is rejected at
//! parse; every query parameter the driver reads reaches sqlx unchanged (a property test
//! round-trips random parameter sets through sqlx's own connect options); `sslmode` is
//! checked for PostgreSQL and MySQL; a parameter said twice is rejected; a secret the
//! driver does not read is rejected and never reaches sqlx's "ignoring unrecognized
//! connect parameter" warning, which is checked with a real subscriber during a real
//! connect; MySQL's `?password=`, which sqlx would ignore, is used.

use dozen_backing::{ErrorKind, ServiceUrl};
#[cfg(any(feature = "postgres", feature = "mysql"))]
use {crate::in_runtime, dozen_backing::PoolSettings, proptest::prelude::*};

/// A parameter name no driver reads and no secret-name rule matches. A secret-looking one
/// (`xpwd`, `xtoken`) is rejected instead, as the tests of rejection above show.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn unknown_name() -> impl Strategy<Value = String> {
    "x[a-z]{0,5}".prop_filter("secret-looking names are rejected, tested apart", |name| {
        !dozen_redact::is_secret_param(name)
    })
}

#[track_caller]
fn check_rejected(input: &str, message: &str) {
    let error = input.parse::<ServiceUrl>().expect_err(input);
    assert_eq!(error.kind(), ErrorKind::InvalidUrl);
    assert_eq!(error.to_string(), message, "{input}");
}

#[test]
fn a_fragment_is_rejected_at_parse() {
    const WHY: &str = "has a fragment (`#`), which no driver reads; write a `#` inside a password or a name as %23";
    // The case the issue reported: sqlx was handed `?s?sslmode=require`, so TLS was off.
    check_rejected(
        "postgres://h/d?sslmode=require#x",
        &format!("invalid postgres url: {WHY}"),
    );
    check_rejected(
        "postgres://app:Hunter2-s3cret@db/app#",
        &format!("invalid postgres url: {WHY}"),
    );
    check_rejected(
        "mysql://app:pa#Hunter2-s3cret@db/app",
        &format!("invalid mysql url: {WHY}"),
    );
    check_rejected("redis://cache/0#x", &format!("invalid redis url: {WHY}"));
    check_rejected("sqlite://a#b.db", &format!("invalid sqlite url: {WHY}"));
    check_rejected("foo://x/y#z", &format!("invalid service url: {WHY}"));
    // Written as %23 it is part of the password, and reaches the driver whole.
    let url: ServiceUrl = "postgres://app:pa%23ss@db/app".parse().unwrap();
    assert_eq!(url.expose(), "postgres://app:pa%23ss@db/app");
}

#[cfg(feature = "postgres")]
fn pg_options(input: &str) -> Result<sqlx::postgres::PgConnectOptions, dozen_backing::Error> {
    let url: ServiceUrl = input.parse()?;
    let pool = in_runtime(|| {
        dozen_backing::connect_lazy::<dozen_backing::Postgres>(&url, &PoolSettings::default())
    })?;
    Ok((*pool.connect_options()).clone())
}

#[cfg(feature = "mysql")]
fn my_options(input: &str) -> Result<sqlx::mysql::MySqlConnectOptions, dozen_backing::Error> {
    let url: ServiceUrl = input.parse()?;
    let pool = in_runtime(|| {
        dozen_backing::connect_lazy::<dozen_backing::MySql>(&url, &PoolSettings::default())
    })?;
    Ok((*pool.connect_options()).clone())
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_sslmode_reaches_the_driver() {
    for (written, mode) in [
        ("disable", "Disable"),
        ("allow", "Allow"),
        ("prefer", "Prefer"),
        ("require", "Require"),
        ("verify-ca", "VerifyCa"),
        ("verify-full", "VerifyFull"),
    ] {
        for input in [
            format!("postgres://h/d?sslmode={written}"),
            format!("pgsql://u:p@h:5433/d?application_name=a&sslmode={written}"),
            format!("postgres://h/d?x=1&ssl-mode={written}&options[search_path]=s"),
            format!("postgres://u@%2Frun%2Fpg/d?sslmode={written}"),
        ] {
            let options = pg_options(&input).unwrap();
            assert_eq!(format!("{:?}", options.get_ssl_mode()), mode, "{input}");
        }
    }
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_sslmode_reaches_the_driver() {
    for (written, mode) in [
        ("DISABLED", "Disabled"),
        ("preferred", "Preferred"),
        ("REQUIRED", "Required"),
        ("VERIFY_CA", "VerifyCa"),
        ("verify_identity", "VerifyIdentity"),
    ] {
        for input in [
            format!("mysql://h/d?ssl-mode={written}"),
            format!("mariadb://u:p@h:3307/d?charset=utf8mb4&sslmode={written}"),
            format!("mysql://h/d?x=1&ssl-mode={written}&timezone=%2B08:00"),
        ] {
            let options = my_options(&input).unwrap();
            assert_eq!(format!("{:?}", options.get_ssl_mode()), mode, "{input}");
        }
    }
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_parameters_said_twice_or_secret_are_rejected() {
    let check = |input: &str, reason: &str| {
        let error = pg_options(input).expect_err(input);
        assert_eq!(error.kind(), ErrorKind::InvalidUrl, "{input}");
        let message = error.to_string();
        assert!(message.ends_with(reason), "{input}: {message}");
        assert!(!message.contains("Hunter2"), "{message}");
    };
    check(
        "postgres://h/d?sslmode=disable&sslmode=require",
        "parameter `sslmode` is given more than once (as `sslmode` too); the driver would keep only the last",
    );
    check(
        "postgres://h/d?sslmode=require&ssl-mode=disable",
        "parameter `ssl-mode` is given more than once (as `sslmode` too); the driver would keep only the last",
    );
    check(
        "postgres://h/d?sslpassword=Hunter2-key",
        "parameter `sslpassword` holds a secret the postgres driver does not read; remove it",
    );
    check(
        "postgres://h/d?access_token=Hunter2-token",
        "parameter `access_token` holds a secret the postgres driver does not read; remove it",
    );
    check(
        "postgres://u:Hunter2-a@h/d?password=Hunter2-b",
        "`password` is given both in the URL and as `password=`; keep one",
    );
    check(
        "postgres://u@h/d?user=v",
        "`user` is given both in the URL and as `user=`; keep one",
    );
    check(
        "postgres://h:5433/d?port=5434",
        "`port` is given both in the URL and as `port=`; keep one",
    );
    check(
        "postgres://h/d?dbname=e",
        "`dbname` is given both in the URL and as `dbname=`; keep one",
    );
    // `options` is read every time and combined, so it may repeat.
    let options =
        pg_options("postgres://h/d?options=-c%20a%3D1&options[b]=2&options[c]=3").unwrap();
    assert_eq!(options.get_options(), Some("-c a=1 -c b=2 -c c=3"));
    // `password=` alone is the password, and reaches the driver.
    let options = pg_options("postgres://u@h/d?password=Hunter2+x%26y").unwrap();
    assert!(format!("{options:?}").contains(r#"password: Some("Hunter2 x&y")"#));
}

/// Each of `inputs` is refused by `options` (a pool's entry point) for `why`, without
/// its password.
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[track_caller]
fn check_refused<T>(
    options: fn(&str) -> Result<T, dozen_backing::Error>,
    inputs: &[&str],
    why: &str,
) {
    for input in inputs {
        let Err(error) = options(input) else {
            panic!("{input}: accepted");
        };
        assert_eq!(error.kind(), ErrorKind::InvalidUrl, "{input}");
        let message = error.to_string();
        assert!(message.ends_with(why), "{input}: {message}");
        assert!(!message.contains("Hunter2"), "{message}");
    }
}

/// sqlx-postgres lets `?host=` and `?hostaddr=` override the URL's host, so
/// `postgres://app:pw@db1/app?host=db2` would connect to db2 while `host()` says db1 (and
/// the logs, the redacted URL, every operator too): rejected, unless both name the same
/// place, as the socket form this crate builds for `user@/db?host=/dir` does.
#[cfg(feature = "postgres")]
#[test]
fn postgres_host_parameter_cannot_move_the_connection() {
    const WHY: &str = "`host=` or `hostaddr=` names another host than the URL, and the driver would connect there; keep one";
    let moved = [
        "postgres://app:Hunter2-pw@db1/app?host=db2",
        "postgres://app:Hunter2-pw@db1/app?sslmode=require&host=db2",
        "postgres://app@db1/app?hostaddr=10.0.0.9",
        "postgres://app@db1:5433/app?host=/var/run/postgresql",
        "postgres://app@[::1]/app?hostaddr=127.0.0.1",
        "postgres://app@%2Frun%2Fpg/app?host=/var/run/postgresql",
        "postgres://app@%2Frun%2Fpg/app?host=db2",
        "pgsql://app@db1/app?host=db2%2Fx",
    ];
    check_refused(pg_options, &moved, WHY);
    // The same place, or no host in the URL: the driver connects where `host()` and
    // `socket()` say.
    for (input, host, socket) in [
        ("postgres://app@db1/app?host=db1", Some("db1"), None),
        ("postgres://app@DB1/app?host=db1", Some("DB1"), None),
        (
            "postgres://app@10.0.0.9/app?hostaddr=10.0.0.9",
            Some("10.0.0.9"),
            None,
        ),
        ("postgres://app@[::1]/app?hostaddr=::1", Some("::1"), None),
        (
            "postgres://app:Hunter2-pw@/app?host=/cloudsql/p:r:i",
            None,
            Some("/cloudsql/p:r:i"),
        ),
        (
            "postgres:///app?host=/var/run/postgresql",
            None,
            Some("/var/run/postgresql"),
        ),
        (
            "postgres://app@%2Frun%2Fpg/app?host=%2Frun%2Fpg",
            None,
            Some("/run/pg"),
        ),
    ] {
        let parsed: ServiceUrl = input.parse().unwrap();
        assert_eq!(parsed.host(), host, "{input}");
        assert_eq!(parsed.socket().as_deref(), socket, "{input}");
        let options = pg_options(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        match socket {
            Some(dir) => {
                let socket = options.get_socket().map(|p| p.as_path());
                assert_eq!(socket, Some(std::path::Path::new(dir)), "{input}");
            }
            None => assert!(
                options.get_host().eq_ignore_ascii_case(host.unwrap()),
                "{input}: {}",
                options.get_host()
            ),
        }
    }
}

/// sqlx-mysql reads no `?host=` but connects to `?socket=` whatever the host, so
/// `mysql://app@db1/app?socket=/x` would not go to db1: rejected, unless the host is the
/// `localhost` a MySQL client reads as "the local socket" (the host this crate writes for
/// `user@/db?socket=/x`).
#[cfg(feature = "mysql")]
#[test]
fn mysql_socket_parameter_cannot_move_the_connection() {
    const WHY: &str = "`socket=` is given next to a host, and the driver would connect to the socket; write the host as localhost or leave it empty";
    let moved = [
        "mysql://app:Hunter2-pw@db1/shop?socket=/run/mysqld/mysqld.sock",
        "mariadb://app@127.0.0.1:3307/shop?socket=/run/mysqld/mysqld.sock",
    ];
    check_refused(my_options, &moved, WHY);
    for input in [
        "mysql://app@localhost/shop?socket=/run/mysqld/mysqld.sock",
        "mysql://app:Hunter2-pw@/shop?socket=/run/mysqld/mysqld.sock",
    ] {
        let options = my_options(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert!(
            format!("{options:?}").contains(r#"socket: Some("/run/mysqld/mysqld.sock")"#),
            "{input}"
        );
    }
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_password_parameter_is_used_not_ignored() {
    let options = my_options("mysql://u@h/d?password=Hunter2+x%26y%40z&charset=utf8mb4").unwrap();
    let debug = format!("{options:?}");
    assert!(
        debug.contains(r#"password: Some("Hunter2 x&y@z")"#),
        "{debug}"
    );
    assert_eq!(options.get_charset(), "utf8mb4");
    let error = my_options("mysql://u:Hunter2-a@h/d?password=Hunter2-b").unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("`password` is given both in the URL and as `password=`; keep one"),
        "{error}"
    );
    // Said twice, the driver would take the last and `ServiceUrl::param` the first.
    let error = my_options("mysql://u@h/d?password=Hunter2-a&password=Hunter2-b").unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("`password=` is given more than once; keep one"),
        "{error}"
    );
    assert!(
        !format!("{error} {error:?}").contains("Hunter2"),
        "{error:?}"
    );
    let error = my_options("mysql://h/d?token=Hunter2-t").unwrap_err();
    assert!(
        error.to_string().ends_with(
            "parameter `token` holds a secret the mysql driver does not read; remove it"
        ),
        "{error}"
    );
}

/// Percent-encodes everything but the unreserved characters, as a careful user would.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn enc(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(feature = "postgres")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random sets of the parameters sqlx-postgres reads, in random order, among unknown
    /// ones that are dropped: what sqlx's options end up with is what was parsed.
    #[test]
    fn postgres_parameters_survive_the_hand_over(
        scheme in proptest::sample::select(&["postgres", "postgresql", "pgsql"][..]),
        host in "[a-z][a-z0-9.-]{0,10}",
        port in proptest::option::of(1_u16..),
        user in proptest::option::of("[a-z][a-z0-9]{0,6}"),
        db in proptest::option::of("[a-z][a-z0-9_]{0,6}"),
        sslmode in proptest::option::of(proptest::sample::select(
            &["disable", "allow", "prefer", "require", "verify-ca", "verify-full"][..])),
        application_name in proptest::option::of("[ -~]{0,12}"),
        server_options in proptest::collection::btree_map("[a-z_]{1,8}", "[a-z0-9_]{1,8}", 0..3),
        unknown in proptest::collection::vec(unknown_name(), 0..3),
        // (`hostaddr=` must be an IP address, so it has its own table test.)
        host_param in proptest::option::of((
            Just("host"),
            prop_oneof![Just(None), "[a-z][a-z0-9.-]{0,10}".prop_map(Some)],
        )),
        order in any::<u64>(),
    ) {
        let mut params: Vec<String> = Vec::new();
        if let Some(mode) = sslmode {
            params.push(format!("sslmode={mode}"));
        }
        // `?host=` or `?hostaddr=`: the URL's own host (None) or another one.
        if let Some((name, other)) = &host_param {
            params.push(format!("{name}={}", other.as_deref().unwrap_or(&host)));
        }
        if let Some(name) = &application_name {
            params.push(format!("application_name={}", enc(name)));
        }
        for (k, v) in &server_options {
            params.push(format!("options[{k}]={v}"));
        }
        for k in &unknown {
            params.push(format!("{k}=1"));
        }
        // A random order; the driver appends `options[...]` in the order it reads them.
        let mut rest = params;
        fastrand::Rng::with_seed(order).shuffle(&mut rest);
        let userinfo = user.as_ref().map(|u| format!("{u}@")).unwrap_or_default();
        let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
        let path = db.as_deref().unwrap_or_default();
        let query = if rest.is_empty() { String::new() } else { format!("?{}", rest.join("&")) };
        let input = format!("{scheme}://{userinfo}{host}{port_text}/{path}{query}");

        let parsed: ServiceUrl = input.parse().map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
        let options = match pg_options(&input) {
            Err(e) if host_param.as_ref().is_some_and(|(_, other)| other.as_ref().is_some_and(|o| *o != host)) => {
                prop_assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{}", input);
                return Ok(());
            }
            options => options.map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?,
        };
        prop_assert_eq!(Some(options.get_host()), parsed.host(), "{}", input);
        prop_assert_eq!(Some(options.get_port()), parsed.port(), "{}", input);
        let database = parsed.database();
        prop_assert_eq!(options.get_database(), database.as_deref(), "{}", input);
        if let Some(user) = parsed.username() {
            prop_assert_eq!(options.get_username(), &*user);
        }
        prop_assert_eq!(
            format!("{:?}", options.get_ssl_mode()),
            format!("{:?}", parsed.param("sslmode").as_deref().unwrap_or("prefer")
                .parse::<sqlx::postgres::PgSslMode>().unwrap()),
            "{}", input
        );
        let application_name = parsed.param("application_name");
        prop_assert_eq!(options.get_application_name(), application_name.as_deref());
        let expected_options: Vec<String> = rest
            .iter()
            .filter_map(|p| p.strip_prefix("options["))
            .map(|p| {
                let (k, v) = p.split_once("]=").unwrap();
                format!("-c {k}={v}")
            })
            .collect();
        let expected_options = Some(expected_options.join(" ")).filter(|o| !o.is_empty());
        prop_assert_eq!(options.get_options(), expected_options.as_deref(), "{}", input);
    }
}

#[cfg(feature = "mysql")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The same for sqlx-mysql, `?password=` included.
    #[test]
    fn mysql_parameters_survive_the_hand_over(
        scheme in proptest::sample::select(&["mysql", "mariadb"][..]),
        host in "[a-z][a-z0-9.-]{0,10}",
        port in proptest::option::of(1_u16..),
        db in proptest::option::of("[a-z][a-z0-9_]{0,6}"),
        sslmode in proptest::option::of(proptest::sample::select(
            &["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"][..])),
        charset in proptest::option::of(proptest::sample::select(&["utf8mb4", "latin1", "utf8"][..])),
        collation in proptest::option::of("[a-z0-9_]{1,12}"),
        password in proptest::option::of("[ -~]{1,12}"),
        unknown in proptest::collection::vec(unknown_name(), 0..3),
        order in any::<u64>(),
    ) {
        let mut params: Vec<String> = Vec::new();
        if let Some(mode) = sslmode {
            params.push(format!("ssl-mode={mode}"));
        }
        if let Some(c) = charset {
            params.push(format!("charset={c}"));
        }
        if let Some(c) = &collation {
            params.push(format!("collation={c}"));
        }
        if let Some(p) = &password {
            params.push(format!("password={}", enc(p)));
        }
        for k in &unknown {
            params.push(format!("{k}=1"));
        }
        fastrand::Rng::with_seed(order).shuffle(&mut params);
        let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
        let path = db.as_deref().unwrap_or_default();
        let query = if params.is_empty() { String::new() } else { format!("?{}", params.join("&")) };
        let input = format!("{scheme}://app@{host}{port_text}/{path}{query}");

        let parsed: ServiceUrl = input.parse().map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
        let options = my_options(&input).map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
        prop_assert_eq!(Some(options.get_host()), parsed.host());
        prop_assert_eq!(Some(options.get_port()), parsed.port());
        let database = parsed.database();
        prop_assert_eq!(options.get_database(), database.as_deref());
        prop_assert_eq!(options.get_username(), "app");
        prop_assert_eq!(
            format!("{:?}", options.get_ssl_mode()),
            format!("{:?}", parsed.param("ssl-mode").as_deref().unwrap_or("PREFERRED")
                .parse::<sqlx::mysql::MySqlSslMode>().unwrap()),
            "{}", input
        );
        let charset = parsed.param("charset");
        prop_assert_eq!(options.get_charset(), charset.as_deref().unwrap_or("utf8mb4"));
        let collation = parsed.param("collation");
        prop_assert_eq!(options.get_collation(), collation.as_deref());
        let debug = format!("{options:?}");
        match parsed.param("password") {
            Some(p) => prop_assert!(debug.contains(&format!("password: Some({p:?})")), "{}", input),
            None => prop_assert!(debug.contains("password: None"), "{}", input),
        }
    }
}

/// A real connect to the local PostgreSQL with a password in the query and an unknown
/// parameter: sqlx's warnings, captured by a real subscriber, never carry the password;
/// a secret the driver does not read is refused before anything connects.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn no_secret_reaches_sqlx_warnings_during_a_real_connect() {
    let Some(base) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    const SECRET: &str = "Hunter2-warned";
    let mut settings = PoolSettings::default();
    settings.database_connect_timeout = std::time::Duration::from_secs(20);
    let (logs, _guard) = crate::logs::capture();
    let separator = if base.contains('?') { '&' } else { '?' };
    // The local server trusts every password, so this connects.
    let url: ServiceUrl =
        format!("{base}{separator}password={SECRET}&unknown_param={SECRET}x&sslmode=disable")
            .parse()
            .unwrap();
    let pool: dozen_backing::PgPool = dozen_backing::connect(&url, &settings).await.unwrap();
    pool.close().await;
    let refused: ServiceUrl = format!("{base}{separator}sslpassword={SECRET}")
        .parse()
        .unwrap();
    let error = dozen_backing::connect::<dozen_backing::Postgres>(&refused, &settings)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidUrl);
    let text = logs.text();
    assert!(
        text.contains("ignoring unrecognized connect parameter"),
        "{text}"
    );
    assert!(text.contains("parameter=unknown_param"), "{text}");
    for shown in [text, error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
}

/// A real connect to the local MariaDB, whose root has no password: a wrong
/// `?password=` is refused by the server, which proves sqlx was given it (it used to be
/// ignored), and no output shows it.
#[cfg(feature = "mysql")]
#[tokio::test]
async fn mysql_password_parameter_reaches_the_server() {
    let Some(base) = dozen_testkit::service_url(dozen_testkit::MYSQL) else {
        return;
    };
    const SECRET: &str = "Hunter2-mysql";
    let (logs, _guard) = crate::logs::capture();
    let separator = if base.contains('?') { '&' } else { '?' };
    let url: ServiceUrl = format!("{base}{separator}password={SECRET}&unknown_param={SECRET}x")
        .parse()
        .unwrap();
    let mut settings = PoolSettings::default();
    settings.database_connect_timeout = std::time::Duration::from_secs(20);
    let error = dozen_backing::connect::<dozen_backing::MySql>(&url, &settings)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadCredentials, "{error}");
    for shown in [logs.text(), error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
}
