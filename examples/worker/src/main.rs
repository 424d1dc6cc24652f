//! Run with: cargo run -p example-worker
//!
//! The worker process type (factor VIII): takes the reminder jobs the API
//! enqueues, from the same `DATABASE_URL`, with leases (see
//! `example_todo_api::jobs`).
//!
//! Factor IX: on SIGTERM it takes no new job, finishes the one it holds, or
//! gives it back when the job would outlive `SHUTDOWN_TIMEOUT`; on SIGKILL its
//! lease runs out (`JOB_LEASE`) and another worker takes the job. Delivery is
//! at least once and the handler is idempotent.
//!
//! Each process leases under an owner id of its own (`HOSTNAME`, the pid and
//! 64 random bits, so two containers whose workers are both pid 1 without a
//! `HOSTNAME` still differ), and every lease time is computed from the
//! database's clock, which all workers share.
//!
//! A SIGTERM during start-up (connecting with retry, waiting for the schema)
//! stops it there with exit 0; no job is taken.

use std::process::ExitCode;
use std::time::Duration;

use dozen::backing::Any;
use dozen::service::{BoxError, Service};
use dozen_shutdown::Shutdown;
use example_todo_api::config::{JobSettings, Worker};
use example_todo_api::db::{self, Db};
use example_todo_api::jobs::{self, Job};
use example_todo_api::{CLOSE_BUDGET, FLUSH_BUDGET};

fn main() -> ExitCode {
    Service::<Worker>::new("todo-worker", env!("CARGO_PKG_VERSION"))
        .with_validate(|(_, jobs): &Worker| jobs.problems())
        .with_database(|(database, _): &Worker| &database.database_url)
        .with_migrations(db::migrator)
        .process("worker", |ctx| async move {
            let (database, settings) = ctx.settings();
            let pool = ctx.database::<Any>().await?;
            let db = Db::from_pool(pool, &database.database_url)?;
            let owner = jobs::owner_id(std::env::var("HOSTNAME").ok().as_deref());
            tracing::info!(%owner, lease = ?settings.lease, "taking jobs");
            run(db, settings, owner, ctx.shutdown().clone()).await;
            Ok::<_, BoxError>(())
        })
        .run()
}

/// Takes jobs one at a time until draining starts.
async fn run(db: Db, settings: &JobSettings, owner: String, shutdown: Shutdown) {
    let mut draining = std::pin::pin!(shutdown.draining());
    loop {
        let claimed = tokio::select! {
            biased;
            () = &mut draining => break,
            claimed = jobs::claim(&db, &owner, settings.lease) => claimed,
        };
        let idle = match claimed {
            Ok(Some(job)) => {
                process(&db, &job, settings, &owner, &shutdown).await;
                continue;
            }
            Ok(None) => settings.poll_interval,
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "cannot claim a job"
                );
                settings.poll_interval.max(Duration::from_secs(1))
            }
        };
        tokio::select! {
            () = &mut draining => break,
            () = tokio::time::sleep(idle) => {}
        }
    }
    tracing::info!("taking no more jobs");
}

/// Works on `job`, extending its lease, until it is done, the lease is lost,
/// or shutdown leaves too little time to finish (then the job is given back).
async fn process(db: &Db, job: &Job, settings: &JobSettings, owner: &str, shutdown: &Shutdown) {
    tracing::info!(job_id = job.id, todo_id = job.todo_id, "job claimed");
    let work = async {
        // The reminder itself: a real app would send an e-mail here.
        tokio::time::sleep(settings.work_time).await;
        jobs::complete(db, job, owner).await
    };
    let mut work = std::pin::pin!(work);
    let mut heartbeat = tokio::time::interval(settings.lease / 3);
    heartbeat.tick().await;
    // After draining starts, keep working until shortly before the drain
    // budget (the deadline less the teardown budgets) runs out, leaving time
    // to give the job back.
    let give_back = async {
        shutdown.draining().await;
        let left = shutdown
            .remaining()
            .unwrap_or_default()
            .saturating_sub(FLUSH_BUDGET + CLOSE_BUDGET);
        tokio::time::sleep(left.saturating_sub(Duration::from_secs(1).min(left / 2))).await;
    };
    let mut give_back = std::pin::pin!(give_back);
    loop {
        tokio::select! {
            done = &mut work => {
                match done {
                    Ok(true) => tracing::info!(job_id = job.id, "job done"),
                    Ok(false) => tracing::warn!(job_id = job.id, "job done, but its lease had been lost: another worker may repeat it"),
                    Err(error) => tracing::warn!(job_id = job.id, error = &error as &dyn std::error::Error, "job failed; it will be retried when its lease runs out"),
                }
                return;
            }
            _ = heartbeat.tick() => match jobs::heartbeat(db, job, owner, settings.lease).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(job_id = job.id, "lease lost; leaving the job to another worker");
                    return;
                }
                Err(error) => tracing::warn!(job_id = job.id, error = &error as &dyn std::error::Error, "heartbeat failed"),
            },
            () = &mut give_back => {
                match jobs::release(db, job, owner).await {
                    Ok(()) => tracing::info!(job_id = job.id, "job given back before the shutdown deadline"),
                    Err(error) => tracing::warn!(job_id = job.id, error = &error as &dyn std::error::Error, "cannot give the job back; its lease will run out"),
                }
                return;
            }
        }
    }
}
