//! Shared pieces: the embedded migrations, fresh databases, child processes.

use std::io::Write as _;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dozen_migrate::{Cli, Database, Error, ErrorKind, Migrator, Progress};
use refinery::SchemaVersion;
use sqlx::Row as _;

pub(crate) mod embedded {
    pub(crate) mod postgres {
        refinery::embed_migrations!("tests/migrations/postgres");
    }
    pub(crate) mod mysql {
        refinery::embed_migrations!("tests/migrations/mysql");
    }
    pub(crate) mod sqlite {
        refinery::embed_migrations!("tests/migrations/sqlite");
    }
}

/// Which database a test or a child process works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Postgres,
    MySql,
    Sqlite,
}

/// A fresh, empty database that lives as long as this value.
pub(crate) struct Fresh {
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }

    fn from_name(name: &str) -> Self {
        match name {
            "postgres" => Self::Postgres,
            "mysql" => Self::MySql,
            "sqlite" => Self::Sqlite,
            other => panic!("unknown kind {other}"),
        }
    }

    /// The 20 test migrations for this database (V10 takes about a second).
    pub(crate) fn migrator(self) -> Migrator {
        let runner = match self {
            Self::Postgres => embedded::postgres::migrations::runner(),
            Self::MySql => embedded::mysql::migrations::runner(),
            Self::Sqlite => embedded::sqlite::migrations::runner(),
        };
        Migrator::new(&runner).expect("valid migrations")
    }

    /// The next release's migrator: the 20 test migrations and a 21st.
    pub(crate) fn newer_release(self) -> Migrator {
        let v21 = refinery::Migration::unapplied("V21__newer", "CREATE TABLE newer (id INTEGER)")
            .expect("valid name");
        Migrator::from_migrations(self.migrator().migrations().iter().cloned().chain([v21]))
            .expect("valid set")
    }

    /// A new empty database, or `None` (with a skip notice) when the server's
    /// variable is unset outside CI.
    pub(crate) async fn fresh(self, prefix: &str) -> Option<Fresh> {
        match self {
            Self::Postgres => {
                let url = dozen_testkit::service_url(dozen_testkit::POSTGRES)?;
                Some(Fresh {
                    url: dozen_testkit::fresh_postgres(&url, prefix).await,
                    _dir: None,
                })
            }
            Self::MySql => {
                let url = dozen_testkit::service_url(dozen_testkit::MYSQL)?;
                Some(Fresh {
                    url: dozen_testkit::fresh_mysql(&url, prefix).await,
                    _dir: None,
                })
            }
            Self::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join(format!("{prefix}.db"));
                Some(Fresh {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    _dir: Some(dir),
                })
            }
        }
    }
}

/// `SELECT version, count(*) FROM migration_log GROUP BY version`, as pairs.
pub(crate) async fn log_counts(db: &Database) -> Vec<(i64, i64)> {
    macro_rules! pairs {
        ($pool:expr, $version:literal) => {
            sqlx::query(concat!(
                "SELECT ",
                $version,
                ", COUNT(*) FROM migration_log GROUP BY version ORDER BY version"
            ))
            .fetch_all($pool)
            .await
            .expect("migration_log")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
        };
    }
    match db {
        Database::Postgres(p) => pairs!(p, "version::int8"),
        Database::MySql(p) => pairs!(p, "CAST(version AS SIGNED)"),
        Database::Sqlite(p) => pairs!(p, "version"),
        _ => unreachable!("all features are on in tests"),
    }
}

/// Runs `sql` (several statements at once are fine) on `db`.
pub(crate) async fn execute(db: &Database, sql: &'static str) {
    match db {
        Database::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(drop),
        Database::MySql(p) => sqlx::raw_sql(sql).execute(p).await.map(drop),
        Database::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(drop),
        _ => unreachable!("all features are on in tests"),
    }
    .expect("sql");
}

/// Advisory locks held in the pool's PostgreSQL database, by any session.
pub(crate) async fn advisory_locks(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(pool)
    .await
    .expect("pg_locks")
}

/// A pool for `url`, through dozen-backing.
pub(crate) async fn connect(url: &str) -> Database {
    Database::connect(&url.parse().expect("a valid URL"))
        .await
        .expect("connect")
}

/// FNV-1a over `parts` with a 0xff separator, as dozen-migrate names its
/// MySQL lock (deployed releases must agree on the name, so tests pin it).
pub(crate) fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        let sep: &[u8] = if i > 0 { &[0xff] } else { &[] };
        for b in sep.iter().chain(part.as_bytes()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The `GET_LOCK` name dozen-migrate takes for the default table in the
/// connection's database, computed as it does (pinned: deployed releases must
/// agree on it).
pub(crate) async fn mysql_lock_name<'c>(conn: impl sqlx::MySqlExecutor<'c>) -> String {
    let database: String = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(conn)
        .await
        .expect("db");
    format!(
        "dozen-migrate:{:016x}",
        fnv1a(&["dozen-migrate", &database, "refinery_schema_history"])
    )
}

/// Each of `1..=n` exactly once.
pub(crate) fn once_each(n: i64) -> Vec<(i64, i64)> {
    (1..=n).map(|v| (v, 1)).collect()
}

const ROLE: &str = "DOZEN_MIGRATE_TEST_ROLE";
const KIND: &str = "DOZEN_MIGRATE_TEST_KIND";
const URL: &str = "DOZEN_MIGRATE_TEST_URL";
const START_AT: &str = "DOZEN_MIGRATE_TEST_START_AT_MS";
const ARGS: &str = "DOZEN_MIGRATE_TEST_ARGS";

fn command(role: &str, kind: Kind, url: &str) -> Command {
    let exe = std::env::current_exe().expect("test executable");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "support::child_entry_point",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env(ROLE, role)
    .env(KIND, kind.name())
    .env(URL, url)
    .env("RUST_LOG", "off")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// A migrator in its own process; it starts applying at `start_at` (Unix ms),
/// printing `applying <v>`, `applied <v>` and finally `report applied=<n>`.
pub(crate) fn spawn_migrator(kind: Kind, url: &str, start_at: Option<u128>) -> Child {
    let mut cmd = command("migrate", kind, url);
    if let Some(t) = start_at {
        cmd.env(START_AT, t.to_string());
    }
    cmd.spawn().expect("spawn migrator")
}

/// The command-line piece in its own process: exit code and stdout.
pub(crate) fn run_cli(kind: Kind, url: &str, args: &str) -> (u8, String, String) {
    run_cli_with(kind, url, args, &[])
}

/// [`run_cli`] with `vars` added to the child's environment, which loads its
/// `PoolSettings` (`DATABASE_CONNECT_TIMEOUT`, ...) from it as an app does.
pub(crate) fn run_cli_with(
    kind: Kind,
    url: &str,
    args: &str,
    vars: &[(&str, &str)],
) -> (u8, String, String) {
    let out = command("cli", kind, url)
        .env(ARGS, args)
        .envs(vars.iter().copied())
        .output()
        .expect("run cli");
    let code = out.status.code().expect("exit code");
    // What the command printed, without the test harness's own lines before it.
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let marker = "test support::child_entry_point ... \n";
    let stdout = match stdout.find(marker) {
        Some(at) => stdout[at + marker.len()..].to_owned(),
        None => stdout,
    };
    (
        u8::try_from(code).expect("small exit code"),
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A migrator for `(name, sql)` pairs such as `("V1__a", "CREATE TABLE a (id INTEGER)")`.
pub(crate) fn set(sqls: &[(&str, &str)]) -> Migrator {
    Migrator::from_migrations(
        sqls.iter()
            .map(|(n, s)| refinery::Migration::unapplied(n, s).expect("valid name")),
    )
    .expect("valid set")
}

/// Runs each row's arguments in order on one database: the exit code, and a
/// fragment expected on stdout (or on stderr for failures).
pub(crate) fn check_cli_rows(kind: Kind, url: &str, rows: &[(&str, u8, &str)]) {
    for (args, code, fragment) in rows {
        let (got, stdout, stderr) = run_cli(kind, url, args);
        assert_eq!(
            got, *code,
            "{kind:?} `migrate {args}`\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(
            stdout.contains(fragment) || stderr.contains(fragment),
            "{kind:?} `migrate {args}` should print {fragment:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    }
}

pub(crate) fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis()
}

/// The child process's entry point; a no-op in a normal test run.
///
/// The parent runs this executable again with `--exact
/// support::child_entry_point` and the role in an environment variable.
#[test]
fn child_entry_point() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    // libtest printed "test ... " without a newline: start the output on a line of its own.
    println!();
    let kind = Kind::from_name(&std::env::var(KIND).expect("kind"));
    let url = std::env::var(URL).expect("url");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let code: u8 = rt.block_on(async {
        match role.as_str() {
            "migrate" => {
                if let Some(t) = std::env::var(START_AT)
                    .ok()
                    .and_then(|t| t.parse::<u128>().ok())
                {
                    let now = now_ms();
                    if t > now {
                        tokio::time::sleep(Duration::from_millis(
                            u64::try_from(t - now).unwrap_or(0),
                        ))
                        .await;
                    }
                }
                let db = match Database::connect(&url.parse().expect("a valid URL")).await {
                    Ok(db) => db,
                    Err(e) => {
                        // The whole chain: the driver's own error says why.
                        let mut text = e.to_string();
                        let mut source = std::error::Error::source(&e);
                        while let Some(cause) = source {
                            text = format!("{text}: {cause}");
                            source = cause.source();
                        }
                        println!("error {text}");
                        return 1;
                    }
                };
                let result = kind
                    .migrator()
                    .with_lock_timeout(Duration::from_secs(120))
                    .apply_with(&db, |p| {
                        let mut out = std::io::stdout().lock();
                        match p {
                            Progress::Applying { migration } => {
                                let _ = writeln!(out, "applying {}", migration.version());
                            }
                            Progress::Applied { migration, .. } => {
                                let _ = writeln!(out, "applied {}", migration.version());
                            }
                            _ => {}
                        }
                        let _ = out.flush();
                    })
                    .await;
                match result {
                    Ok(report) => {
                        println!("report applied={}", report.applied.len());
                        0
                    }
                    Err(e) => {
                        println!("error {e}");
                        1
                    }
                }
            }
            "cli" => {
                let args = std::env::var(ARGS).unwrap_or_default();
                let pool = dozen_config::from_env::<dozen_backing::PoolSettings>()
                    .expect("DATABASE_* settings");
                let code = Cli::new(kind.migrator())
                    .with_program_name("myapp migrate")
                    .with_pool_settings(pool)
                    .run(&url.parse().expect("a valid URL"), args.split_whitespace())
                    .await;
                (0..=255u8)
                    .find(|n| ExitCode::from(*n) == code)
                    .unwrap_or(255)
            }
            other => panic!("unknown role {other}"),
        }
    });
    let _ = std::io::stdout().flush();
    std::process::exit(i32::from(code));
}

/// Whether `err` is of `kind`, about migration `version`.
pub(crate) fn is(err: &Error, kind: ErrorKind, version: Option<SchemaVersion>) -> bool {
    err.kind() == kind && err.version() == version
}

/// Whether `result` failed with an error of `kind`, about migration `version`.
pub(crate) fn failed_with<T>(
    result: &Result<T, Error>,
    kind: ErrorKind,
    version: Option<SchemaVersion>,
) -> bool {
    result.as_ref().err().is_some_and(|e| is(e, kind, version))
}
