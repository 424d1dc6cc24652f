//! Promise: a MariaDB/MySQL pool is what its settings say, and a failure that waiting
//! cannot mend fails at once. The pool connects with its sizes and timeouts; a wrong
//! password and an unknown database are not retried, and the error shows neither the
//! password nor the raw URL; nor do the error and the logs of a connect retried until its
//! deadline.

use std::time::{Duration, Instant};

use dozen_backing::{ErrorKind, MySql, MySqlPool, PoolSettings, ServiceUrl};
use sqlx::Connection as _;

fn settings() -> PoolSettings {
    let mut settings = PoolSettings::default();
    settings.database_max_connections = 2;
    settings.database_min_connections = 1;
    settings.database_acquire_timeout = Duration::from_secs(4);
    settings.database_connect_timeout = Duration::from_secs(30);
    settings
}

/// `url` with its user info replaced.
fn with_user(url: &str, user: &str, password: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_username(user).unwrap();
    url.set_password(Some(password)).unwrap();
    url.into()
}

#[tokio::test]
async fn a_pool_connects_with_its_settings() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::MYSQL) else {
        return;
    };
    let url: ServiceUrl = dozen_testkit::fresh_mysql(&url, "backing")
        .await
        .parse()
        .unwrap();
    let pool: MySqlPool = dozen_backing::connect(&url, &settings()).await.unwrap();
    let database: String = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(Some(database.as_str()), url.database().as_deref());
    assert_eq!(pool.options().get_max_connections(), 2);
    assert_eq!(pool.options().get_min_connections(), 1);
    assert_eq!(pool.options().get_acquire_timeout(), Duration::from_secs(4));
    dozen_backing::ping(&pool, Duration::from_secs(2))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE `{database}`")))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn a_wrong_password_fails_at_once_and_redacted() {
    let Some(admin_url) = dozen_testkit::service_url(dozen_testkit::MYSQL) else {
        return;
    };
    let user = dozen_testkit::unique_name("u");
    let mut admin = sqlx::MySqlConnection::connect(&admin_url).await.unwrap();
    for host in ["%", "localhost", "127.0.0.1"] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE USER '{user}'@'{host}' IDENTIFIED BY 'Right-Pass:1'"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "GRANT ALL ON *.* TO '{user}'@'{host}'"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }

    // The right password works, so the failure below is the password's alone.
    let right: ServiceUrl = with_user(&admin_url, &user, "Right-Pass:1")
        .parse()
        .unwrap();
    let pool: MySqlPool = dozen_backing::connect(&right, &settings()).await.unwrap();
    pool.close().await;

    let (logs, _guard) = crate::logs::capture();
    let wrong_password = "Wr0ng@P:ss/w?rd#%";
    let wrong: ServiceUrl = with_user(&admin_url, &user, wrong_password)
        .parse()
        .unwrap();
    let started = Instant::now();
    let error = dozen_backing::connect::<MySql>(&wrong, &settings())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();

    for host in ["%", "localhost", "127.0.0.1"] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP USER '{user}'@'{host}'")))
            .execute(&mut admin)
            .await
            .unwrap();
    }

    assert_eq!(error.kind(), ErrorKind::BadCredentials, "{error}");
    assert_eq!(error.attempts(), 1, "{error}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("cannot connect to {wrong}: bad credentials:")),
        "{message}"
    );
    assert!(message.contains(":***@"), "{message}");
    let encoded = wrong.expose();
    let encoded_password = &encoded[encoded.find(&format!("{user}:")).unwrap() + user.len() + 1
        ..encoded.find("@127").unwrap()];
    for shown in [message, format!("{error:?}"), logs.text()] {
        assert!(!shown.contains(wrong_password), "{shown}");
        assert!(!shown.contains(encoded_password), "{shown}");
        assert!(!shown.contains("Wr0ng"), "{shown}");
        assert!(!shown.contains("yet, retrying"), "{shown}");
    }
}

#[tokio::test]
async fn an_unknown_database_fails_at_once() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::MYSQL) else {
        return;
    };
    let url: ServiceUrl =
        dozen_testkit::with_database(&url, &dozen_testkit::unique_name("missing"))
            .parse()
            .unwrap();
    let error = dozen_backing::connect::<MySql>(&url, &settings())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnknownDatabase, "{error}");
    assert_eq!(error.attempts(), 1);
}

/// Needs no server: nothing listens on the port.
#[tokio::test]
async fn retries_never_show_the_password() {
    crate::retries_never_show_the_password::<MySql>("mysql").await;
}
