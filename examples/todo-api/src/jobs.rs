//! A work queue with leases in the application's own database.
//!
//! The API enqueues a `reminder` job in the transaction that creates a todo; a
//! worker claims it with a lease (`lease_until`), extends the lease while it
//! works (the heartbeat), and marks it done. A worker that dies stops extending
//! its leases, so its jobs become claimable again when they run out: delivery is
//! at least once, and the handler is idempotent (the reminder is keyed by todo;
//! a second delivery only counts itself in `reminders.deliveries`).

use std::time::Duration;

use sqlx::Row as _;

use crate::db::{Db, Dialect, now_ms};

/// A job this worker holds a lease on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job's id.
    pub id: i64,
    /// The todo it reminds of.
    pub todo_id: i64,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Claims the oldest job that is neither done nor leased, for `lease`.
///
/// # Errors
///
/// The database failed.
pub async fn claim(db: &Db, owner: &str, lease: Duration) -> Result<Option<Job>, sqlx::Error> {
    let now = now_ms();
    let until = now.saturating_add(ms(lease));
    if db.dialect == Dialect::Sqlite {
        let row = sqlx::query(db.sql.claim_select.q())
            .bind(owner.to_owned())
            .bind(until)
            .bind(now)
            .fetch_optional(&db.pool)
            .await?;
        return row
            .map(|r| {
                Ok(Job {
                    id: r.try_get("id")?,
                    todo_id: r.try_get("todo_id")?,
                })
            })
            .transpose();
    }
    let mut tx = db.pool.begin().await?;
    let Some(row) = sqlx::query(db.sql.claim_select.q())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
    else {
        tx.rollback().await?;
        return Ok(None);
    };
    let job = Job {
        id: row.try_get("id")?,
        todo_id: row.try_get("todo_id")?,
    };
    sqlx::query(db.sql.claim_update.q())
        .bind(owner.to_owned())
        .bind(until)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(job))
}

/// Extends the lease on `job`; `false` when this worker no longer holds it.
///
/// # Errors
///
/// The database failed.
pub async fn heartbeat(
    db: &Db,
    job: &Job,
    owner: &str,
    lease: Duration,
) -> Result<bool, sqlx::Error> {
    let until = now_ms().saturating_add(ms(lease));
    let result = sqlx::query(db.sql.heartbeat.q())
        .bind(until)
        .bind(job.id)
        .bind(owner.to_owned())
        .execute(&db.pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Records the reminder for `job` and marks the job done, in one transaction;
/// `false` when the lease was lost meanwhile (the effect is idempotent, so
/// another worker's delivery of the same job changes nothing).
///
/// # Errors
///
/// The database failed.
pub async fn complete(db: &Db, job: &Job, owner: &str) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    sqlx::query(db.sql.record_reminder.q())
        .bind(job.todo_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query(db.sql.complete_job.q())
        .bind(now)
        .bind(job.id)
        .bind(owner.to_owned())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Gives `job` back, so another worker can take it at once.
///
/// # Errors
///
/// The database failed.
pub async fn release(db: &Db, job: &Job, owner: &str) -> Result<(), sqlx::Error> {
    sqlx::query(db.sql.release_job.q())
        .bind(job.id)
        .bind(owner.to_owned())
        .execute(&db.pool)
        .await?;
    Ok(())
}
