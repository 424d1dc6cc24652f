//! Run with: cargo run -p example-worker
//!
//! The worker process type (factor VIII): runs the reminder jobs the API
//! enqueues, from the same `DATABASE_URL`, on dozen-jobs (`JOBS_*`).
//!
//! Factor IX: on SIGTERM it takes no new job, finishes the ones it holds, or
//! gives each back when it would outlive `SHUTDOWN_TIMEOUT`; on SIGKILL its
//! leases run out (`JOBS_LEASE`) and another worker takes the jobs. Each
//! reminder lands exactly once: its effect commits with the job's completion.
//!
//! `worker jobs status|dead|retry` inspects the queue; a SIGTERM during
//! start-up (connecting with retry, waiting for the schema) stops it there
//! with exit 0, and no job is taken.

use std::process::ExitCode;

use dozen::backing::Any;
use dozen::jobs::{JobContext, Worker};
use dozen::service::{BoxError, Context, Service};
use example_todo_api::config::Worker as Settings;
use example_todo_api::db::{self, Db};
use example_todo_api::jobs::{Reminder, remind};

fn main() -> ExitCode {
    Service::<Settings>::new("todo-worker", env!("CARGO_PKG_VERSION"))
        .with_database(|(database, ..): &Settings| &database.database_url)
        .with_migrations(db::migrator)
        .with_jobs(|ctx| async move { open(&ctx).await.map(|db| db.jobs) })
        .process("worker", |ctx| async move {
            let db = open(&ctx).await?;
            let (_, jobs, reminders) = ctx.settings();
            let work_time = reminders.job_work_time;
            Worker::new(db.jobs.clone())
                .settings(jobs.clone())
                .handle(move |job: JobContext, reminder: Reminder| {
                    let db = db.clone();
                    async move { remind(&db, &job, reminder, work_time).await }
                })
                .run(ctx.shutdown())
                .await;
            Ok::<_, BoxError>(())
        })
        .run()
}

/// The database, connected and migrated (or waited for) by the entry point.
async fn open(ctx: &Context<Settings>) -> Result<Db, BoxError> {
    let pool = ctx.database::<Any>().await?;
    Ok(Db::from_pool(pool, &ctx.settings().0.database_url)?)
}
