//! A work queue with leases in the application's own database.
//!
//! The API enqueues a `reminder` job in the transaction that creates a todo; a
//! worker claims it with a lease (`lease_until`), extends the lease while it
//! works (the heartbeat), and marks it done. A worker that dies stops extending
//! its leases, so its jobs become claimable again when they run out: delivery is
//! at least once, and the handler is idempotent (the reminder is keyed by todo;
//! a second delivery only counts itself in `reminders.deliveries`).
//!
//! Lease times are computed in SQL from the database's clock, which all
//! workers share: a worker whose clock is off can neither steal a live lease
//! nor keep a dead one. Each worker process has an owner id of its own
//! ([`owner_id`]).

use std::time::Duration;

use sqlx::Row as _;

use crate::db::{Db, Dialect};

/// A job this worker holds a lease on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job's id.
    pub id: i64,
    /// The todo it reminds of.
    pub todo_id: i64,
}

/// A lease in milliseconds, bounded so that the database's `now + lease`
/// cannot overflow a BIGINT (a lease of 100 years is far more than enough).
fn ms(d: Duration) -> i64 {
    const MAX_LEASE_MS: i64 = 100 * 365 * 24 * 3600 * 1000;
    i64::try_from(d.as_millis()).map_or(MAX_LEASE_MS, |ms| ms.min(MAX_LEASE_MS))
}

/// The longest host name part of an owner id (`lease_owner` holds 128 bytes).
const MAX_HOST: usize = 64;

/// A lease owner id unique to this process: `HOSTNAME` (or `worker`), the
/// process id, and 64 bits from a hasher keyed by the operating system's
/// random source (std's `RandomState`), mixed with the time. The host and pid
/// alone collide when `HOSTNAME` is unset and every container's worker is
/// pid 1.
#[must_use]
pub fn owner_id(hostname: Option<&str>) -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let host: String = hostname
        .filter(|h| !h.is_empty())
        .unwrap_or("worker")
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(MAX_HOST)
        .collect();
    let mut random = std::collections::hash_map::RandomState::new().build_hasher();
    random.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    random.write_u32(std::process::id());
    format!("{host}-{}-{:016x}", std::process::id(), random.finish())
}

/// Claims the oldest job that is neither done nor leased, for `lease`.
///
/// # Errors
///
/// The database failed.
pub async fn claim(db: &Db, owner: &str, lease: Duration) -> Result<Option<Job>, sqlx::Error> {
    let lease = ms(lease);
    if db.dialect == Dialect::Sqlite {
        let row = sqlx::query(db.sql.claim_select.q())
            .bind(owner.to_owned())
            .bind(lease)
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
        .bind(lease)
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
    let result = sqlx::query(db.sql.heartbeat.q())
        .bind(ms(lease))
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
    let mut tx = db.pool.begin().await?;
    sqlx::query(db.sql.record_reminder.q())
        .bind(job.todo_id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query(db.sql.complete_job.q())
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
