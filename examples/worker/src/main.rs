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

fn main() -> ExitCode {
    example_todo_api::service::worker().run()
}
