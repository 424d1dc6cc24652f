//! Integration tests of dozen-backing, one module per area. Tests that need a server read
//! its URL from `TEST_POSTGRES_URL`, `TEST_MYSQL_URL` or `TEST_REDIS_URL` and are skipped
//! (with a notice) when it is unset, except under CI.

#[cfg(all(feature = "any", feature = "postgres", feature = "sqlite"))]
mod any;
mod driver_gets_what_was_parsed;
#[cfg(feature = "_sqlx")]
mod durations_bounded;
#[cfg(feature = "mysql")]
mod mysql;
mod no_secret_printed;
mod parsing_never_panics_nor_leaks;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
mod secrets_registered;
#[cfg(feature = "_sqlx")]
mod settings;
#[cfg(feature = "sqlite")]
mod sqlite;
mod url_props;
mod url_table;

/// Runs `f` inside a runtime of its own: sqlx's lazy pools want one.
pub(crate) fn in_runtime<T>(f: impl FnOnce() -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _enter = runtime.enter();
    f()
}

/// Log capture for the tests that check what connecting logs.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) mod logs {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Everything logged on this thread while the guard lives (tests run their runtime on
    /// the current thread).
    #[derive(Clone, Default)]
    pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

    impl Logs {
        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    impl Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    pub(crate) fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        use tracing_subscriber::util::SubscriberInitExt as _;
        let logs = Logs::default();
        let writer = logs.clone();
        let guard = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .set_default();
        (logs, guard)
    }
}

/// Connecting with a password to a port nothing listens on, until the deadline: every
/// attempt is logged, and neither a log line nor the error shows the password.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) async fn retries_never_show_the_password<DB: dozen_backing::Driver>(scheme: &str) {
    use std::time::Duration;

    let (logs, _guard) = logs::capture();
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let secret = "Pw-retry-s3cret";
    let url: dozen_backing::ServiceUrl = format!("{scheme}://app:{secret}@127.0.0.1:{port}/app")
        .parse()
        .unwrap();
    let mut settings = dozen_backing::PoolSettings::default();
    settings.database_connect_timeout = Duration::from_millis(1500);
    let error = dozen_backing::connect::<DB>(&url, &settings)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), dozen_backing::ErrorKind::Refused, "{error}");
    assert!(error.attempts() >= 2, "{error}");

    let logs = logs.text();
    assert!(logs.contains("yet, retrying"), "{logs}");
    assert!(logs.contains("giving up at the deadline"), "{logs}");
    assert!(logs.contains("app:***@"), "{logs}");
    assert!(error.to_string().contains("app:***@"), "{error}");
    for shown in [logs, error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
