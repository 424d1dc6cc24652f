//! Promise: connecting to PostgreSQL waits for what may come and gives up on what will
//! not. The pool has its settings; an unknown database fails at once; a server that starts
//! late (a proxy that opens after a while) and "too many connections" are retried until
//! they pass; the deadline is kept when nothing ever listens; the `pgsql` alias and a Unix
//! socket connect; an unknown parameter is dropped and only its name is logged; a password
//! shows in no retry's log line nor in the error.

use std::time::{Duration, Instant};

use dozen_backing::{ErrorKind, PgPool, PoolSettings, Postgres, ServiceUrl};
use tokio::net::{TcpListener, TcpStream};

use crate::logs;

fn settings(connect_timeout: Duration) -> PoolSettings {
    let mut settings = PoolSettings::default();
    settings.database_max_connections = 4;
    settings.database_min_connections = 1;
    settings.database_acquire_timeout = Duration::from_secs(5);
    settings.database_idle_timeout = Some(Duration::from_secs(30));
    settings.database_connect_timeout = connect_timeout;
    settings
}

/// The server's `host:port`, from the test URL.
fn server_addr(url: &str) -> String {
    let url: ServiceUrl = url.parse().unwrap();
    format!("{}:{}", url.host().unwrap(), url.port().unwrap())
}

/// `url` pointed at 127.0.0.1:`port`.
fn via(url: &str, port: u16) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(port)).unwrap();
    url.into()
}

/// A port on 127.0.0.1 on which nothing listens (now).
async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_pool_connects_with_its_settings() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let url: ServiceUrl = dozen_testkit::fresh_postgres(&url, "backing")
        .await
        .parse()
        .unwrap();
    let pool: PgPool = dozen_backing::connect(&url, &settings(Duration::from_secs(10)))
        .await
        .unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(Some(database.as_str()), url.database().as_deref());
    let options = pool.options();
    assert_eq!(options.get_max_connections(), 4);
    assert_eq!(options.get_min_connections(), 1);
    assert_eq!(options.get_acquire_timeout(), Duration::from_secs(5));
    assert_eq!(options.get_idle_timeout(), Some(Duration::from_secs(30)));
    assert!(pool.size() >= 1);
    dozen_backing::ping(&pool, Duration::from_secs(2))
        .await
        .unwrap();

    // A closed pool is not healthy.
    pool.close().await;
    let error = dozen_backing::ping(&pool, Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("health check failed"),
        "{error}"
    );
}

#[tokio::test]
async fn an_unknown_database_fails_at_once() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let name = dozen_testkit::unique_name("missing");
    let url: ServiceUrl = dozen_testkit::with_database(&url, &name).parse().unwrap();
    let started = Instant::now();
    let error = dozen_backing::connect::<Postgres>(&url, &settings(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnknownDatabase, "{error}");
    assert_eq!(error.attempts(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot connect to {url}: unknown database:"))
    );
}

#[tokio::test]
async fn connect_waits_for_a_server_that_starts_late() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let (logs, _guard) = logs::capture();
    let upstream = server_addr(&url);
    let port = free_port().await;
    let proxy_url: ServiceUrl = via(&url, port).parse().unwrap();

    // Nothing listens on `port` until 2 s after the connect starts; then a TCP proxy to the
    // real server does.
    let proxy = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        loop {
            let (mut inbound, _) = listener.accept().await.unwrap();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut outbound = TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });

    let started = Instant::now();
    let pool: PgPool = dozen_backing::connect(&proxy_url, &settings(Duration::from_secs(20)))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    // Not before the proxy opened, and well within the deadline.
    assert!(elapsed >= Duration::from_millis(1900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    pool.close().await;
    proxy.abort();

    let logs = logs.text();
    let retries = logs
        .matches("cannot connect to the database yet, retrying")
        .count();
    assert!(retries >= 2, "{logs}");
    assert!(
        logs.contains("error.class=\"connection refused\""),
        "{logs}"
    );
    assert!(logs.contains(&format!("url={proxy_url}")), "{logs}");
    assert!(logs.contains("connected to the database"), "{logs}");
}

#[tokio::test]
async fn the_deadline_is_kept_when_nothing_ever_listens() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let port = free_port().await;
    let url: ServiceUrl = via(&url, port).parse().unwrap();
    let started = Instant::now();
    let error = dozen_backing::connect::<Postgres>(&url, &settings(Duration::from_millis(1500)))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), ErrorKind::Refused, "{error}");
    assert!(error.attempts() >= 3, "{error}");
    // The deadline, plus a margin for a loaded 2-core machine.
    assert!(elapsed >= Duration::from_millis(1400), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert!(
        error.to_string().starts_with(&format!(
            "cannot connect to {url} within 1.5s: connection refused:"
        )),
        "{error}"
    );
}

/// Needs no server: nothing listens on the port.
#[tokio::test]
async fn retries_never_show_the_password() {
    crate::retries_never_show_the_password::<Postgres>("postgres").await;
}

#[tokio::test]
async fn an_unknown_parameter_is_dropped_and_its_value_never_logged() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let (logs, _guard) = logs::capture();
    let separator = if url.contains('?') { '&' } else { '?' };
    let url: ServiceUrl = format!("{url}{separator}application_name=dozen&search_pth=s3cret-value")
        .parse()
        .unwrap();
    let pool: PgPool = dozen_backing::connect(&url, &settings(Duration::from_secs(10)))
        .await
        .unwrap();
    let name: String = sqlx::query_scalar("SELECT current_setting('application_name')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "dozen");
    pool.close().await;
    let logs = logs.text();
    assert!(
        logs.contains("ignoring unrecognized connect parameter"),
        "{logs}"
    );
    assert!(logs.contains("search_pth"), "{logs}");
    assert!(!logs.contains("s3cret"), "{logs}");
}

#[tokio::test]
async fn a_pgsql_alias_and_a_unix_socket_connect() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let parsed: ServiceUrl = url.parse().unwrap();
    let database = parsed.database().unwrap_or_default().into_owned();
    let user = parsed.username().unwrap_or_default().into_owned();
    let alias: ServiceUrl = url.replacen("postgres://", "pgsql://", 1).parse().unwrap();
    let pool: PgPool = dozen_backing::connect(&alias, &settings(Duration::from_secs(10)))
        .await
        .unwrap();
    pool.close().await;

    // The server's socket directory, as libpq would be given it.
    let dirs = ["/var/run/postgresql", "/tmp"];
    let Some(dir) = dirs.iter().find(|d| {
        std::path::Path::new(&format!("{d}/.s.PGSQL.{}", parsed.port().unwrap())).exists()
    }) else {
        eprintln!("skipped: no PostgreSQL Unix socket on this machine");
        return;
    };
    for socket_url in [
        format!("postgres://{user}@/{database}?host={dir}"),
        format!("postgres://{user}@{}/{database}", dir.replace('/', "%2F")),
    ] {
        let socket_url: ServiceUrl = socket_url.parse().unwrap();
        assert_eq!(socket_url.socket().as_deref(), Some(*dir));
        let pool: PgPool = dozen_backing::connect(&socket_url, &settings(Duration::from_secs(10)))
            .await
            .unwrap_or_else(|e| panic!("{socket_url}: {e}"));
        dozen_backing::ping(&pool, Duration::from_secs(2))
            .await
            .unwrap();
        pool.close().await;
    }
}

#[tokio::test]
async fn too_many_connections_is_retried_until_a_slot_frees() {
    use sqlx::Connection as _;
    let Some(admin_url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let (logs, _guard) = logs::capture();
    let role = dozen_testkit::unique_name("limited");
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE ROLE \"{role}\" LOGIN CONNECTION LIMIT 1"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_username(&role).unwrap();
    let url: ServiceUrl = url.as_str().parse().unwrap();

    // The role's one slot is taken, and freed a second after the connect starts.
    let held = sqlx::PgConnection::connect(&url.expose()).await.unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        held.close().await.unwrap();
    });
    let mut settings = settings(Duration::from_secs(15));
    settings.database_max_connections = 1;
    settings.database_min_connections = 0;
    let started = Instant::now();
    let result = dozen_backing::connect::<Postgres>(&url, &settings).await;
    let elapsed = started.elapsed();
    release.await.unwrap();
    if let Ok(pool) = &result {
        pool.close().await;
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE \"{role}\"")))
        .execute(&mut admin)
        .await
        .unwrap();

    result.unwrap();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(12), "{elapsed:?}");
    let logs = logs.text();
    assert!(
        logs.contains("error.class=\"too many connections\""),
        "{logs}"
    );
}

/// A probe answers for the database, not for the pool: with every pooled
/// connection held, `ping` times out while the probe passes; a probe whose
/// connection the server killed fails once and passes again on a new one.
#[tokio::test]
async fn a_probe_answers_for_the_database_whatever_the_pool_is_doing() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let url: ServiceUrl = dozen_testkit::fresh_postgres(&url, "backing_probe")
        .await
        .parse()
        .unwrap();
    let mut settings = settings(Duration::from_secs(10));
    settings.database_max_connections = 1;
    let pool: PgPool = dozen_backing::connect(&url, &settings).await.unwrap();
    let probe = dozen_backing::Probe::new(&pool, Duration::from_millis(500));
    probe.check().await.unwrap();

    let held = pool.acquire().await.unwrap();
    let error = dozen_backing::ping(&pool, Duration::from_millis(500))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TimedOut, "{error}");
    probe.check().await.unwrap();
    drop(held);

    // The server ends every other connection to the database: the probe's.
    let killed: i64 = sqlx::query_scalar(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(killed, 1);
    assert!(probe.check().await.is_err());
    probe.check().await.unwrap();
    probe.close().await;
    pool.close().await;
}

/// A health check keeps the driver's message, which may quote what the server echoed: the
/// secrets every `ServiceUrl` registered are hidden in it, as `connect` hides the URL's
/// password. Here the server echoes the database name, registered as a secret would be.
#[tokio::test]
async fn a_health_check_error_hides_registered_secrets() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let echoed = "Pr0beEch0edSecret7";
    assert!(dozen_redact::register(echoed));
    let mut url = url::Url::parse(&url).unwrap();
    url.set_path(echoed);
    let url: ServiceUrl = url.as_str().parse().unwrap();
    let pool: PgPool =
        dozen_backing::connect_lazy(&url, &settings(Duration::from_secs(5))).unwrap();
    let probe = dozen_backing::Probe::new(&pool, Duration::from_secs(5));
    let error = probe.check().await.unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(text.contains("does not exist"), "{text}");
    assert!(!text.contains(echoed), "{text}");
    let error = dozen_backing::ping(&pool, Duration::from_secs(5))
        .await
        .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains(echoed), "{text}");
}
