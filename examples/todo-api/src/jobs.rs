//! The reminder job: enqueued by the API in the transaction that creates a
//! todo, run by the worker on dozen-jobs.
//!
//! Its effect, a row in `reminders`, lands in the same transaction that
//! marks the job done (`complete_in`), committed only while the worker holds
//! the job's lease: a worker killed mid-job leaves neither, and the next
//! worker's attempt is the only one whose effect lands. (The `reminders`
//! upsert still counts a second delivery in `deliveries`, which therefore
//! stays at 1.) A real reminder that sends an e-mail would be at least once
//! for the e-mail, and should carry an idempotency key.

use std::time::Duration;

use dozen::jobs::{Job, JobContext};
use dozen::service::BoxError;

use crate::db::Db;

/// Remind of a todo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reminder {
    /// The todo to remind of.
    pub todo_id: i64,
}

impl Job for Reminder {
    const NAME: &'static str = "reminder";
}

/// Sends the reminder (here: waits `work_time`, as a mail server would
/// take), then records it and completes the job in one transaction.
///
/// # Errors
///
/// The database failed; the job is retried after a backoff.
pub async fn remind(
    db: &Db,
    ctx: &JobContext,
    reminder: Reminder,
    work_time: Duration,
) -> Result<(), BoxError> {
    tracing::info!(todo_id = reminder.todo_id, "reminding");
    tokio::time::sleep(work_time).await;
    let mut tx = db.pool.begin().await?;
    sqlx::query(db.sql.record_reminder.q())
        .bind(reminder.todo_id)
        .execute(&mut *tx)
        .await?;
    if db.jobs.complete_in(&mut tx, ctx).await? {
        tx.commit().await?;
    } else {
        tracing::warn!("lease lost before the reminder landed; another worker has it");
        tx.rollback().await?;
    }
    Ok(())
}
