//! The SQL backend: the queue in the app's own database (PostgreSQL,
//! MySQL/MariaDB or SQLite), through sqlx.
//!
//! - **Tables** ship as migrations ([`migrations`]) for the app's own set.
//! - **Claims** take due jobs in one `UPDATE ... RETURNING` over a
//!   `FOR UPDATE SKIP LOCKED` select (PostgreSQL), a locked select and an
//!   update per row in one transaction (MariaDB), or one `UPDATE ...
//!   RETURNING` (SQLite, which serialises writers). Workers never wait on
//!   each other's rows.
//! - **Idle workers wake on enqueue** on PostgreSQL: the table's insert
//!   trigger notifies `dozen_jobs` when the enqueuing transaction commits,
//!   and the queue listens (one connection per queue, opened by the first
//!   idle worker). Elsewhere, and as a fallback, workers poll every
//!   `JOBS_POLL_INTERVAL`.
//! - **Every time** (due times, leases, backoffs) is computed in SQL from
//!   the database's clock, which every worker shares: a worker whose clock is
//!   off can neither steal a live lease nor keep a dead one.
//! - **Transactional enqueue:** [`SqlQueue::enqueue_in`] adds a job in the
//!   caller's transaction, so it exists exactly when the business write
//!   commits; a rollback leaves no job.
//! - **Exactly-once effects on one database:** a handler that writes its
//!   effect to the same database calls [`SqlQueue::complete_in`] in the same
//!   transaction and commits only when it answers `true`. The job is then
//!   done exactly when its effect is committed: a worker killed before the
//!   commit leaves neither, and the next worker's attempt is the only one
//!   whose effect lands. (Effects outside the database, an e-mail or an
//!   HTTP call, stay at least once: make them idempotent.)

mod dialect;
mod migrations;
mod statements;
#[cfg(feature = "postgres")]
mod wake;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Row as _;

pub use dialect::{Dialect, Sql};
pub use migrations::migrations;

use crate::backend::{Admin, Backend, Claimed, Counts, DeadJob, encode};
use crate::context::JobContext;
use crate::error::Error;
use crate::job::{Enqueued, Job, JobId, Options, ms};
use statements::Statements;

/// A queue in a SQL database: a [`Backend`] for the worker runtime and for
/// enqueuing, and an [`Admin`] for the `jobs` commands. Cheap to clone.
pub struct SqlQueue<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    sql: Arc<Statements>,
    /// On PostgreSQL, what wakes idle workers when a job is enqueued.
    #[cfg(feature = "postgres")]
    wake: Option<Arc<wake::Wake>>,
}

impl<DB: sqlx::Database> Clone for SqlQueue<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            sql: Arc::clone(&self.sql),
            #[cfg(feature = "postgres")]
            wake: self.wake.clone(),
        }
    }
}

impl<DB: sqlx::Database> std::fmt::Debug for SqlQueue<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlQueue")
            .field("dialect", &self.sql.dialect)
            .finish_non_exhaustive()
    }
}

impl<DB: sqlx::Database> SqlQueue<DB> {
    fn with_dialect(pool: sqlx::Pool<DB>, dialect: Dialect) -> Self {
        Self {
            pool,
            sql: Arc::new(Statements::new(dialect)),
            #[cfg(feature = "postgres")]
            wake: None,
        }
    }

    /// Sleeps `idle`, or less when PostgreSQL says a job was enqueued.
    async fn wait(&self, idle: Duration) {
        #[cfg(feature = "postgres")]
        if let Some(wake) = &self.wake {
            return wake.idle(idle).await;
        }
        tokio::time::sleep(idle).await;
    }

    /// The pool the queue runs on.
    #[must_use]
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// The queue's SQL dialect.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        self.sql.dialect
    }
}

/// The lease of a job claimed from a [`SqlQueue`]. It is held under
/// [`Claimed::owner`], an id made for the one claim that took the job: the
/// worker's owner id and the claim's number in this process (`{owner}/{n}`).
/// A worker that claims its own job again (the lease ran out while it still
/// ran it) holds the new claim under another id, so the old attempt can no
/// longer renew or settle it.
#[derive(Debug)]
pub struct SqlLease {
    _private: (),
}

/// Claims made by this process, numbering each claim's lease owner id.
static CLAIMS: AtomicU64 = AtomicU64::new(0);

/// The longest owner id a claim stores: the `lease_owner` column holds 128
/// bytes, and a claim adds `/` and its number (up to 20 digits).
const MAX_OWNER: usize = 128 - 21;

/// The lease owner id of a new claim by `owner`: see [`SqlLease`]. An
/// `owner` longer than [`MAX_OWNER`] is refused whatever the claim's number,
/// so a worker that claims once claims for good.
fn claim_owner(owner: &str) -> Result<Arc<str>, Error> {
    if owner.len() > MAX_OWNER {
        return Err(Error::invalid(format!(
            "claim jobs: the worker's owner id is {} bytes long; at most {MAX_OWNER} are stored with a claim",
            owner.len(),
        )));
    }
    let n = CLAIMS.fetch_add(1, Ordering::Relaxed);
    Ok(Arc::from(format!("{owner}/{n}")))
}

fn id_of(id: i64) -> JobId {
    JobId(u64::try_from(id).unwrap_or_default())
}

fn sql_id(id: JobId) -> i64 {
    i64::try_from(id.0).unwrap_or(i64::MAX)
}

fn attempts(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// The `jobs retry` refusal for a job whose unique key a queued job holds.
fn retry_error(id: JobId, e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::invalid(format!(
            "job {id}: a queued job holds its unique key; retry it once that one is done"
        )),
        _ => Error::backend(format!("retry dead job {id}"), e),
    }
}

/// The Backend, Admin and transaction methods for one sqlx database type;
/// the code is the same text for each, with the concrete type in place
/// (sqlx's generic bounds would say no more and read far worse).
macro_rules! sql_backend {
    ($db:ty, $feature:literal) => {
        #[cfg(feature = $feature)]
        #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
        impl SqlQueue<$db> {
            /// Adds `job` in the caller's transaction (`&mut *tx`): it exists
            /// once the transaction commits, and never if it rolls back.
            ///
            /// # Errors
            ///
            /// The options or the payload were refused, or the database
            /// failed (the transaction should then be rolled back).
            pub async fn enqueue_in<J: Job>(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                job: &J,
                options: Options,
            ) -> Result<Enqueued, Error> {
                options.check(J::NAME).map_err(Error::invalid)?;
                let payload = encode(job)?;
                self.insert(&mut *conn, J::NAME, &payload, &options).await
            }

            /// Marks the job of `ctx` done in the caller's transaction, the
            /// one that writes the job's effect. Commit only on `true`:
            /// `false` means this worker's lease was lost and another worker
            /// has the job, so this attempt's effect must not land.
            ///
            /// # Errors
            ///
            /// The database failed.
            pub async fn complete_in(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                ctx: &JobContext,
            ) -> Result<bool, Error> {
                let done = sqlx::query(self.sql.complete.q())
                    .bind(sql_id(ctx.id()))
                    .bind(ctx.owner().to_owned())
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| Error::backend(format!("complete job {}", ctx.id()), e))?;
                let held = done.rows_affected() == 1;
                if held {
                    ctx.mark_settled();
                }
                Ok(held)
            }

            /// Deletes done jobs finished more than `age` ago; answers how
            /// many. Dead jobs are kept until retried or deleted by hand.
            ///
            /// # Errors
            ///
            /// The database failed.
            pub async fn prune_done(&self, age: Duration) -> Result<u64, Error> {
                let pruned = sqlx::query(self.sql.prune.q())
                    .bind(ms(age))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| Error::backend("prune done jobs", e))?;
                Ok(pruned.rows_affected())
            }

            async fn insert(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                name: &str,
                payload: &str,
                options: &Options,
            ) -> Result<Enqueued, Error> {
                let row = sqlx::query(self.sql.enqueue.q())
                    .bind(name.to_owned())
                    .bind(payload.to_owned())
                    .bind(i64::from(options.priority))
                    .bind(options.max_attempts_i64())
                    .bind(options.delay_ms())
                    .bind(options.unique_key.clone())
                    .bind(options.unique_key.clone())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(|e| Error::backend(format!("enqueue job {name}"), e))?;
                match row {
                    Some(row) => {
                        let id: i64 = row
                            .try_get(0)
                            .map_err(|e| Error::backend(format!("enqueue job {name}"), e))?;
                        Ok(Enqueued::Created(id_of(id)))
                    }
                    None => Ok(Enqueued::Duplicate),
                }
            }

            async fn settle(
                &self,
                what: &str,
                query: sqlx::query::Query<'_, $db, <$db as sqlx::Database>::Arguments>,
                id: JobId,
            ) -> Result<bool, Error> {
                let result = query
                    .execute(&self.pool)
                    .await
                    .map_err(|e| Error::backend(format!("{what} job {id}"), e))?;
                Ok(result.rows_affected() == 1)
            }
        }

        #[cfg(feature = $feature)]
        impl Backend for SqlQueue<$db> {
            type Lease = SqlLease;

            async fn idle(&self, idle: Duration) {
                self.wait(idle).await;
            }

            async fn enqueue_raw(
                &self,
                name: &str,
                payload: &str,
                options: &Options,
            ) -> Result<Enqueued, Error> {
                let mut conn = self
                    .pool
                    .acquire()
                    .await
                    .map_err(|e| Error::backend(format!("enqueue job {name}"), e))?;
                self.insert(&mut *conn, name, payload, options).await
            }

            async fn claim(
                &self,
                owner: &str,
                limit: usize,
                lease: Duration,
            ) -> Result<Vec<Claimed<SqlLease>>, Error> {
                let failed = |e| Error::backend("claim jobs", e);
                let owner = claim_owner(owner)?;
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let lease = ms(lease);
                let rows = if self.sql.dialect == Dialect::MySql {
                    let mut tx = self.pool.begin().await.map_err(failed)?;
                    let rows = sqlx::query(self.sql.claim.q())
                        .bind(limit)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(failed)?;
                    for row in &rows {
                        let id: i64 = row.try_get(0).map_err(failed)?;
                        sqlx::query(self.sql.claim_one.q())
                            .bind(owner.to_string())
                            .bind(lease)
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(failed)?;
                    }
                    tx.commit().await.map_err(failed)?;
                    rows
                } else {
                    sqlx::query(self.sql.claim.q())
                        .bind(owner.to_string())
                        .bind(lease)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(failed)?
                };
                // MariaDB's rows were read before the update counted the
                // attempt.
                let counted = i64::from(self.sql.dialect == Dialect::MySql);
                rows.iter()
                    .map(|row| {
                        Ok(Claimed {
                            id: id_of(row.try_get(0)?),
                            name: row.try_get(1)?,
                            payload: row.try_get(2)?,
                            attempt: attempts(row.try_get::<i64, _>(3)? + counted),
                            max_attempts: attempts(row.try_get(4)?),
                            owner: Arc::clone(&owner),
                            lease: SqlLease { _private: () },
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()
                    .map_err(failed)
            }

            async fn heartbeat(
                &self,
                job: &Claimed<SqlLease>,
                lease: Duration,
            ) -> Result<bool, Error> {
                let query = sqlx::query(self.sql.heartbeat.q())
                    .bind(ms(lease))
                    .bind(sql_id(job.id))
                    .bind(job.owner.to_string());
                self.settle("renew the lease of", query, job.id).await
            }

            async fn complete(&self, job: &Claimed<SqlLease>) -> Result<bool, Error> {
                let query = sqlx::query(self.sql.complete.q())
                    .bind(sql_id(job.id))
                    .bind(job.owner.to_string());
                self.settle("complete", query, job.id).await
            }

            async fn retry(
                &self,
                job: &Claimed<SqlLease>,
                delay: Duration,
                error: &str,
            ) -> Result<bool, Error> {
                let query = sqlx::query(self.sql.retry.q())
                    .bind(ms(delay))
                    .bind(error.to_owned())
                    .bind(sql_id(job.id))
                    .bind(job.owner.to_string());
                self.settle("retry", query, job.id).await
            }

            async fn kill(&self, job: &Claimed<SqlLease>, error: &str) -> Result<bool, Error> {
                let query = sqlx::query(self.sql.kill.q())
                    .bind(error.to_owned())
                    .bind(sql_id(job.id))
                    .bind(job.owner.to_string());
                self.settle("mark dead", query, job.id).await
            }

            async fn give_back(&self, job: &Claimed<SqlLease>) -> Result<bool, Error> {
                let query = sqlx::query(self.sql.give_back.q())
                    .bind(sql_id(job.id))
                    .bind(job.owner.to_string());
                self.settle("give back", query, job.id).await
            }
        }

        #[cfg(feature = $feature)]
        impl Admin for SqlQueue<$db> {
            async fn counts(&self) -> Result<Counts, Error> {
                let failed = |e| Error::backend("count jobs", e);
                let rows = sqlx::query(self.sql.counts.q())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed)?;
                let mut counts = Counts::default();
                for row in rows {
                    let label: String = row.try_get(0).map_err(failed)?;
                    let n = u64::try_from(row.try_get::<i64, _>(1).map_err(failed)?)
                        .unwrap_or_default();
                    match label.as_str() {
                        "due" => {
                            counts.pending += n;
                            counts.due += n;
                        }
                        "later" => counts.pending += n,
                        "running" => counts.running += n,
                        "done" => counts.done += n,
                        "dead" => counts.dead += n,
                        _ => {}
                    }
                }
                Ok(counts)
            }

            async fn dead(&self, limit: usize) -> Result<Vec<DeadJob>, Error> {
                let failed = |e| Error::backend("list dead jobs", e);
                let rows = sqlx::query(self.sql.dead.q())
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed)?;
                rows.iter()
                    .map(|row| {
                        Ok(DeadJob {
                            id: id_of(row.try_get(0)?),
                            name: row.try_get(1)?,
                            attempts: attempts(row.try_get(2)?),
                            last_error: row.try_get(3)?,
                            payload: row.try_get(4)?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()
                    .map_err(failed)
            }

            async fn retry_dead(&self, id: JobId) -> Result<(), Error> {
                let result = sqlx::query(self.sql.retry_dead.q())
                    .bind(sql_id(id))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| retry_error(id, e))?;
                if result.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err(Error::not_found(format!("job {id}: no dead job with this id")))
                }
            }

            async fn retry_all_dead(&self) -> Result<u64, Error> {
                let ids = sqlx::query(self.sql.dead_ids.q())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| Error::backend("list dead jobs", e))?;
                let mut retried = 0;
                for row in ids {
                    let id = id_of(row.try_get(0).map_err(|e| Error::backend("list dead jobs", e))?);
                    match self.retry_dead(id).await {
                        Ok(()) => retried += 1,
                        // Retried meanwhile, or its key is held: skip it.
                        Err(e) if e.kind() != crate::ErrorKind::Backend => {
                            tracing::warn!(job_id = id.0, error = %e, "dead job not retried");
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(retried)
            }
        }
    };
}

sql_backend!(sqlx::Postgres, "postgres");
sql_backend!(sqlx::MySql, "mysql");
sql_backend!(sqlx::Sqlite, "sqlite");
sql_backend!(sqlx::Any, "any");

#[cfg(feature = "postgres")]
impl SqlQueue<sqlx::Postgres> {
    /// A queue on a PostgreSQL pool.
    #[must_use]
    pub fn new(pool: sqlx::PgPool) -> Self {
        let source = wake::Source::Pool(pool.clone());
        let mut queue = Self::with_dialect(pool, Dialect::Postgres);
        queue.wake = Some(Arc::new(wake::Wake::new(source)));
        queue
    }
}

#[cfg(feature = "mysql")]
impl SqlQueue<sqlx::MySql> {
    /// A queue on a MySQL/MariaDB pool.
    #[must_use]
    pub fn new(pool: sqlx::MySqlPool) -> Self {
        Self::with_dialect(pool, Dialect::MySql)
    }
}

#[cfg(feature = "sqlite")]
impl SqlQueue<sqlx::Sqlite> {
    /// A queue on a SQLite pool.
    #[must_use]
    pub fn new(pool: sqlx::SqlitePool) -> Self {
        Self::with_dialect(pool, Dialect::Sqlite)
    }
}

#[cfg(feature = "any")]
impl SqlQueue<sqlx::Any> {
    /// A queue on an `AnyPool`, in the dialect of `url`, the URL the pool
    /// was connected to.
    ///
    /// # Errors
    ///
    /// `url` is not a PostgreSQL, MySQL/MariaDB or SQLite URL.
    pub fn new(pool: sqlx::AnyPool, url: &dozen_backing::ServiceUrl) -> Result<Self, Error> {
        let dialect = dialect::of(url)?;
        #[cfg(feature = "postgres")]
        let source = (dialect == Dialect::Postgres)
            .then(|| wake::Source::Url(pool.connect_options().database_url.to_string()));
        #[cfg_attr(not(feature = "postgres"), allow(unused_mut))]
        let mut queue = Self::with_dialect(pool, dialect);
        #[cfg(feature = "postgres")]
        {
            queue.wake = source.map(|source| Arc::new(wake::Wake::new(source)));
        }
        Ok(queue)
    }
}
