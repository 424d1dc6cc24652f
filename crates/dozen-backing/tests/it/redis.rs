//! Promise: Redis connects the way the databases do. `redis::connect` connects and
//! `redis::ping` answers; a refused password fails at once with the password hidden;
//! nothing listening is retried until the deadline; a URL of another kind is refused.

use std::time::{Duration, Instant};

use dozen_backing::{ErrorKind, ServiceUrl};

#[tokio::test]
async fn connects_and_pings() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::REDIS) else {
        return;
    };
    let url: ServiceUrl = url.parse().unwrap();
    let mut conn = dozen_backing::redis::connect(&url, Duration::from_secs(10))
        .await
        .unwrap();
    let key = dozen_testkit::unique_name("backing");
    let () = redis::cmd("SET")
        .arg(&key)
        .arg("v")
        .arg("EX")
        .arg(60)
        .query_async(&mut conn)
        .await
        .unwrap();
    let value: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, "v");
    dozen_backing::redis::ping(&mut conn, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(dozen_backing::redis::client(&url).is_ok());
}

#[tokio::test]
async fn a_refused_password_fails_at_once_and_redacted() {
    let Some(url) = dozen_testkit::service_url(dozen_testkit::REDIS) else {
        return;
    };
    // The test server has no password for `default` and no user `dozen`: AUTH fails.
    let mut parsed = url::Url::parse(&url).unwrap();
    parsed.set_username("dozen").unwrap();
    parsed.set_password(Some("Wr0ng-s3cret")).unwrap();
    let url: ServiceUrl = parsed.as_str().parse().unwrap();
    let started = Instant::now();
    let error = dozen_backing::redis::connect(&url, Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(!error.is_transient(), "{error}");
    assert_eq!(error.attempts(), 1, "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!error.to_string().contains("Wr0ng"), "{error}");
    assert!(error.to_string().contains("dozen:***@"), "{error}");
}

#[tokio::test]
async fn nothing_listening_is_retried_until_the_deadline() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url: ServiceUrl = format!("redis://:s3cret@127.0.0.1:{port}/0")
        .parse()
        .unwrap();
    let started = Instant::now();
    let error = dozen_backing::redis::connect(&url, Duration::from_millis(800))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), ErrorKind::Refused, "{error}");
    assert!(error.attempts() >= 2, "{error}");
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

#[test]
fn other_kinds_are_refused() {
    let url: ServiceUrl = "amqp://guest:s3cret@mq/%2f".parse().unwrap();
    let error = dozen_backing::redis::client(&url).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WrongKind);
    assert_eq!(
        error.to_string(),
        "a redis client cannot connect to a amqp url: amqp://guest:***@mq/%2f"
    );
}
