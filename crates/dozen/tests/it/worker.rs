//! `Service::worker`: the process type `worker` built from one function
//! that returns the app's `Worker`, on SQLite. It runs an enqueued job to
//! done, reads `JOBS_*` (a bad one exits 78 naming it; `config` and
//! `check_settings` list them), `jobs status` counts on the worker's own
//! backend with no second opener, and a SIGTERM while a job runs lets the
//! job finish and exits 0.
//!
//! The service runs in a child process: this test binary again, running
//! only [`child`].

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dozen::backing::{ServiceUrl, Sqlite};
use dozen::jobs::sql::{Dialect, SqlQueue};
use dozen::jobs::{Backend as _, Job, JobContext, Options, Worker};
use dozen::migrate::Migrator;
use dozen::service::{BoxError, Service};

#[derive(serde::Deserialize)]
struct Settings {
    /// `DATABASE_URL`.
    database_url: ServiceUrl,
    /// `ENQUEUE`: how many jobs the builder enqueues before it returns.
    #[serde(default)]
    enqueue: u32,
    /// `MARKS`: the folder where each job leaves `N.started` and
    /// `N.finished`.
    #[serde(default)]
    marks: Option<PathBuf>,
    /// `JOB_TAKES`: how long each job works between its two marks.
    #[serde(default, with = "humantime_serde")]
    job_takes: Duration,
}

/// A job that marks its start and its end in a folder.
#[derive(serde::Serialize, serde::Deserialize)]
struct Mark {
    n: u32,
}

impl Job for Mark {
    const NAME: &'static str = "mark";
}

/// A service with only the worker process type: its builder opens
/// dozen-jobs' SQLite queue on the attached database (migrated on start)
/// and handles [`Mark`]; it has no `with_jobs`.
fn service() -> Service<Settings> {
    Service::<Settings>::new("marker", "1.0.0")
        .with_database(|s: &Settings| &s.database_url)
        .with_migrations(|_url: &ServiceUrl| {
            let queue = dozen::jobs::sql::migrations(Dialect::Sqlite, 1)?;
            Ok::<_, BoxError>(Migrator::from_migrations(queue)?)
        })
        .worker(|ctx| async move {
            let queue = SqlQueue::<Sqlite>::new(ctx.database::<Sqlite>().await?);
            for n in 0..ctx.settings().enqueue {
                let _ = queue.enqueue(&Mark { n }, Options::new()).await?;
            }
            let marks = ctx.settings().marks.clone().unwrap_or_default();
            let takes = ctx.settings().job_takes;
            Ok::<_, BoxError>(Worker::new(queue).handle(move |_: JobContext, job: Mark| {
                let marks = marks.clone();
                async move {
                    std::fs::write(marks.join(format!("{}.started", job.n)), "")?;
                    tokio::time::sleep(takes).await;
                    std::fs::write(marks.join(format!("{}.finished", job.n)), "")?;
                    Ok::<_, std::io::Error>(())
                }
            }))
        })
}

#[test]
#[ignore = "the service of the other tests, run by them in a child process"]
fn child() {
    crate::run_child(service());
}

/// A fresh SQLite database in `dir`, and the environment of [`child`] on it.
fn env(dir: &Path) -> Vec<(String, String)> {
    let url = format!("sqlite://{}?mode=rwc", dir.join("queue.db").display());
    vec![
        ("DATABASE_URL".to_owned(), url),
        ("MARKS".to_owned(), dir.display().to_string()),
        ("JOBS_POLL_INTERVAL".to_owned(), "50ms".to_owned()),
    ]
}

fn command(args: &str, env: &[(String, String)], more: &[(&str, &str)]) -> Command {
    let mut command = crate::child_command("worker", args);
    command
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(more.iter().copied());
    command
}

/// `jobs status` on the database of `env`: its stdout.
fn status(env: &[(String, String)]) -> String {
    let out: Output = command("jobs status", env, &[]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    crate::command_stdout(&out.stdout)
}

/// Waits up to 30 s for `path` to exist.
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGTERM to `child` and waits for its exit code and its log lines.
fn terminate(mut child: std::process::Child) -> (Option<i32>, String) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let lines: Vec<String> = child
        .stdout
        .take()
        .map(|stdout| {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect()
        })
        .unwrap_or_default();
    let code = child.wait().expect("exits").code();
    (code, lines.join("\n"))
}

#[test]
fn the_worker_runs_a_job_to_done_with_jobs_from_the_environment() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let env = env(dir.path());
    // The command opens the queue through the worker's builder.
    assert!(status(&env).starts_with("pending 0"), "{}", status(&env));

    let child = command("", &env, &[("ENQUEUE", "1"), ("JOBS_CONCURRENCY", "3")])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starts");
    wait_for(&dir.path().join("0.finished"));
    let (code, logs) = terminate(child);
    assert_eq!(code, Some(0), "{logs}");
    // JOBS_CONCURRENCY reached the worker.
    let taking = logs
        .lines()
        .find(|line| line.contains("taking jobs"))
        .unwrap_or_else(|| panic!("no `taking jobs` line in\n{logs}"));
    assert!(taking.contains("\"concurrency\":3"), "{taking}");
    assert!(logs.contains("JOBS_CONCURRENCY=3"), "the report: {logs}");

    let counts = status(&env);
    assert!(
        counts.starts_with("pending 0") && counts.contains("done    1"),
        "{counts}"
    );
}

#[test]
fn sigterm_while_a_job_runs_lets_it_finish_and_exits_0() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let env = env(dir.path());
    let child = command("worker", &env, &[("ENQUEUE", "1"), ("JOB_TAKES", "2s")])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starts");
    wait_for(&dir.path().join("0.started"));
    let (code, logs) = terminate(child);
    assert_eq!(code, Some(0), "{logs}");
    assert!(
        dir.path().join("0.finished").exists(),
        "the job was not finished:\n{logs}"
    );
    let counts = status(&env);
    assert!(counts.contains("done    1"), "{counts}");
}

#[test]
fn a_bad_jobs_variable_exits_78_naming_it() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let env = env(dir.path());
    for args in ["", "worker", "jobs status"] {
        let mut child = command(args, &env, &[("JOBS_CONCURRENCY", "0")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        // Not refused, the worker would run until stopped.
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().expect("waits") {
                break status;
            }
            if Instant::now() > deadline {
                let (code, _) = terminate(child);
                panic!("{args}: still running after 20 s (then exited {code:?})");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut stderr)
            .expect("reads");
        assert_eq!(status.code(), Some(78), "{args}: {stderr}");
        assert!(stderr.contains("JOBS_CONCURRENCY: "), "{args}: {stderr}");
    }
    // Nothing connected: no database file.
    assert!(!dir.path().join("queue.db").exists());
}

#[test]
fn config_and_check_settings_list_jobs_variables() {
    let out = command("config worker", &[], &[]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stdout = crate::command_stdout(&out.stdout);
    for var in [
        "`DATABASE_URL`",
        "`JOB_TAKES`",
        "`JOBS_CONCURRENCY`",
        "`JOBS_LEASE`",
        "`HOSTNAME`",
        "`SHUTDOWN_TIMEOUT`",
    ] {
        assert!(stdout.contains(var), "{var} missing:\n{stdout}");
    }
    assert!(!stdout.contains("`PORT`"), "{stdout}");

    let vars = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let service = service();
    for process in ["worker", "jobs"] {
        let ok = vars(&[("DATABASE_URL", "sqlite::memory:")]);
        assert!(service.check_settings(process, ok).is_ok(), "{process}");
        let bad = vars(&[
            ("DATABASE_URL", "sqlite::memory:"),
            ("JOBS_CONCURRENCY", "many"),
            ("JOBS_LEASE", "0s"),
        ]);
        let problems: Vec<String> = service
            .check_settings(process, bad)
            .unwrap_err()
            .problems()
            .map(|p| p.var().to_owned())
            .collect();
        assert_eq!(problems, ["JOBS_CONCURRENCY", "JOBS_LEASE"], "{process}");
    }
}

#[test]
#[should_panic = "process type name \"worker\" is reserved or taken"]
fn a_process_named_worker_beside_the_worker_is_refused() {
    let _ = service().process("worker", |_| async {});
}

#[test]
#[should_panic = "process type name \"worker\" is reserved or taken"]
fn the_worker_beside_a_process_named_worker_is_refused() {
    let _ = Service::<Settings>::new("marker", "1.0.0")
        .process("worker", |_| async {})
        .worker(|_| async { Err::<Worker<SqlQueue<Sqlite>>, _>(std::io::Error::other("unused")) });
}

#[test]
#[should_panic = "process type name \"migrate\" is reserved or taken"]
fn a_process_named_like_an_admin_command_is_refused() {
    // `PROGRAM migrate` and `PROGRAM jobs` run the admin commands when the service has
    // them, which it may be given after the process: the names are never a process's.
    let _ = service().process("migrate", |_| async {});
}

#[test]
#[should_panic = "process type name \"jobs\" is reserved or taken"]
fn a_process_named_jobs_is_refused() {
    let _ = Service::<Settings>::new("marker", "1.0.0").process("jobs", |_| async {});
}
