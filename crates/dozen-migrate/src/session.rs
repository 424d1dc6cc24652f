//! The locked session a run holds: one connection with the migration lock,
//! released on every path.

use std::time::{Duration, Instant};

use refinery::Migration;

use crate::adopt::SqlxRow;
use crate::database::{Conn, Database};
#[cfg(feature = "mysql")]
use crate::driver::mysql;
#[cfg(feature = "postgres")]
use crate::driver::postgres;
#[cfg(feature = "sqlite")]
use crate::driver::sqlite;
use crate::error::{Error, Repr};
use crate::transaction::TransactionMode;

/// A connection holding the migration lock. Dropped while locked (an error
/// path that could not unlock, or a cancelled future), it closes the
/// connection instead of returning it to the pool, so the database server
/// ends the session and with it the lock.
pub(crate) struct Session {
    conn: Conn,
    table: String,
    /// Set before a lock attempt is sent, cleared only once the lock is known
    /// not to be held: a cancellation between the two errs on the safe side.
    maybe_locked: bool,
    #[cfg(feature = "mysql")]
    lock_name: String,
    /// PostgreSQL: the advisory lock key, resolved once the connection is taken.
    #[cfg(feature = "postgres")]
    pg_key: i64,
    /// SQLite: the connection's own busy timeout while this session has
    /// replaced it with a short one for polling; `None` once restored.
    #[cfg(feature = "sqlite")]
    busy_timeout: Option<i64>,
}

impl Drop for Session {
    fn drop(&mut self) {
        #[cfg(feature = "sqlite")]
        let modified = self.busy_timeout.is_some();
        #[cfg(not(feature = "sqlite"))]
        let modified = false;
        if self.maybe_locked || modified {
            tracing::warn!(
                "migration run ended without unlocking; closing its connection to release the lock"
            );
            match &mut self.conn {
                #[cfg(feature = "postgres")]
                Conn::Pg(c) => c.close_on_drop(),
                #[cfg(feature = "mysql")]
                Conn::My(c) => c.close_on_drop(),
                #[cfg(feature = "sqlite")]
                Conn::Lite(c) => c.close_on_drop(),
            }
        }
    }
}

/// How often a run waiting for the lock says so.
pub(crate) const WAIT_REPORT_EVERY: Duration = Duration::from_secs(5);

impl Session {
    /// Takes a connection and the lock, waiting at most `timeout`.
    /// Every [`WAIT_REPORT_EVERY`] of waiting, `on_wait` hears who holds the
    /// lock (where the database can tell) and how long the wait has lasted.
    pub(crate) async fn lock(
        db: &Database,
        table: &str,
        timeout: Duration,
        on_wait: &mut (dyn FnMut(Option<&str>, Duration) + Send),
    ) -> Result<(Self, Duration), Error> {
        let start = Instant::now();
        let mut s = Self {
            conn: db.acquire().await?,
            table: table.to_owned(),
            maybe_locked: false,
            #[cfg(feature = "mysql")]
            lock_name: String::new(),
            #[cfg(feature = "postgres")]
            pg_key: 0,
            #[cfg(feature = "sqlite")]
            busy_timeout: None,
        };
        match &mut s.conn {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => {
                s.pg_key = postgres::lock_key(c, table)
                    .await
                    .map_err(Error::db("naming the migration lock"))?;
            }
            #[cfg(feature = "mysql")]
            Conn::My(c) => {
                s.lock_name = mysql::lock_name(c, table)
                    .await
                    .map_err(Error::db("naming the migration lock"))?;
            }
            #[cfg(feature = "sqlite")]
            Conn::Lite(c) => {
                let t = sqlite::busy_timeout(c)
                    .await
                    .map_err(Error::db("reading busy_timeout"))?;
                // From here until it is restored, the connection is not fit
                // to go back to the pool as it is.
                s.busy_timeout = Some(t);
                sqlite::set_busy_timeout(c, 200)
                    .await
                    .map_err(Error::db("setting busy_timeout"))?;
            }
            #[allow(unreachable_patterns, reason = "one arm per enabled database")]
            _ => {}
        }
        let mut delay = Duration::from_millis(25);
        let mut last_log: Option<Instant> = None;
        loop {
            let remaining = timeout.saturating_sub(start.elapsed());
            s.maybe_locked = true;
            if s.try_lock(remaining).await? {
                s.restore_settings().await?;
                return Ok((s, start.elapsed()));
            }
            s.maybe_locked = false;
            let waited = start.elapsed();
            if waited >= timeout {
                let holder = s.holder().await.unwrap_or(None);
                s.restore_settings().await?;
                return Err(Error::from(Repr::LockTimeout { waited, holder }));
            }
            // The first report comes after one period, not at once: a lock
            // held for a moment is not worth a line.
            let due = last_log.map_or(waited >= WAIT_REPORT_EVERY, |t| {
                t.elapsed() >= WAIT_REPORT_EVERY
            });
            if due {
                last_log = Some(Instant::now());
                let holder = s.holder().await.unwrap_or(None);
                tracing::info!(
                    table = %s.table,
                    holder = holder.as_deref().unwrap_or("unknown"),
                    waited_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                    "waiting for the migration lock"
                );
                on_wait(holder.as_deref(), waited);
            }
            if s.blocks_in_try(remaining) {
                continue;
            }
            tokio::time::sleep(delay.min(timeout.saturating_sub(waited))).await;
            delay = delay.saturating_mul(2).min(Duration::from_millis(250));
        }
    }

    /// Gives the connection its own settings back (SQLite's busy timeout).
    async fn restore_settings(&mut self) -> Result<(), Error> {
        #[cfg(feature = "sqlite")]
        if let (Conn::Lite(c), Some(t)) = (&mut self.conn, self.busy_timeout) {
            sqlite::set_busy_timeout(c, t)
                .await
                .map_err(Error::db("restoring busy_timeout"))?;
            self.busy_timeout = None;
        }
        Ok(())
    }

    /// Whether `try_lock` itself waited (MySQL's `GET_LOCK` timeout, SQLite's
    /// busy timeout), so that no extra sleep is needed.
    fn blocks_in_try(&self, remaining: Duration) -> bool {
        let _ = remaining; // unused with some features
        match &self.conn {
            #[cfg(feature = "postgres")]
            Conn::Pg(_) => false,
            #[cfg(feature = "mysql")]
            Conn::My(_) => remaining >= Duration::from_secs(1),
            #[cfg(feature = "sqlite")]
            Conn::Lite(_) => true,
        }
    }

    async fn try_lock(&mut self, remaining: Duration) -> Result<bool, Error> {
        let lock = Error::db("taking the migration lock");
        match &mut self.conn {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => {
                let _ = remaining;
                postgres::try_lock(c, self.pg_key).await.map_err(lock)
            }
            #[cfg(feature = "mysql")]
            Conn::My(c) => {
                let secs = i64::from(remaining >= Duration::from_secs(1));
                mysql::get_lock(c, &self.lock_name, secs)
                    .await
                    .map_err(lock)
            }
            #[cfg(feature = "sqlite")]
            Conn::Lite(c) => {
                let _ = remaining;
                sqlite::try_begin_immediate(c).await.map_err(lock)
            }
        }
    }

    async fn holder(&mut self) -> Result<Option<String>, sqlx::Error> {
        match &mut self.conn {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => postgres::holder(c, self.pg_key).await,
            #[cfg(feature = "mysql")]
            Conn::My(c) => mysql::holder(c, &self.lock_name).await,
            #[cfg(feature = "sqlite")]
            Conn::Lite(_) => Ok(Some(String::from("another connection's write transaction"))),
        }
    }

    /// Releases the lock; on SQLite that commits the run's transaction.
    pub(crate) async fn unlock(mut self) -> Result<(), Error> {
        let unlock = Error::db("releasing the migration lock");
        match &mut self.conn {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => {
                postgres::unlock(c, self.pg_key).await.map_err(unlock)?;
            }
            #[cfg(feature = "mysql")]
            Conn::My(c) => {
                mysql::release_lock(c, &self.lock_name)
                    .await
                    .map_err(unlock)?;
            }
            #[cfg(feature = "sqlite")]
            Conn::Lite(c) => sqlite::commit(c).await.map_err(unlock)?,
        }
        self.maybe_locked = false;
        Ok(())
    }

    pub(crate) fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// The history, creating the tables it needs first when they are missing
    /// (the common case, an existing history, costs one query).
    pub(crate) async fn prepared_history(&mut self) -> Result<Vec<Migration>, Error> {
        let read = Error::db("reading the migration history");
        let create = Error::db("creating the history table");
        let table = self.table.as_str();
        match &mut self.conn {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => match postgres::read_history(c, table).await.map_err(read)? {
                Some(h) => Ok(h),
                None => postgres::create_table(c, table)
                    .await
                    .map(|()| Vec::new())
                    .map_err(create),
            },
            // The in-progress table too, which a database migrated by
            // refinery's own driver does not have yet.
            #[cfg(feature = "mysql")]
            Conn::My(c) => {
                mysql::ensure_tables(c, table).await.map_err(create)?;
                let h = mysql::read_history(c, table).await.map_err(read)?;
                Ok(h.unwrap_or_default())
            }
            #[cfg(feature = "sqlite")]
            Conn::Lite(c) => match sqlite::read_history(c, table).await.map_err(read)? {
                Some(h) => Ok(h),
                None => sqlite::ensure_table(c, table)
                    .await
                    .map(|()| Vec::new())
                    .map_err(create),
            },
        }
    }

    pub(crate) async fn apply(&mut self, m: &Migration) -> Result<(), Error> {
        let mode = TransactionMode::of(m);
        let result = match &mut self.conn {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => postgres::apply(c, &self.table, m, mode).await,
            #[cfg(feature = "mysql")]
            Conn::My(c) => mysql::apply(c, &self.table, m, mode).await,
            #[cfg(feature = "sqlite")]
            Conn::Lite(c) => sqlite::apply(c, &self.table, m, mode).await,
        };
        result.map_err(|source| {
            Error::from(Repr::MigrationFailed {
                version: m.version(),
                name: m.name().to_owned(),
                source,
            })
        })
    }

    /// Records `ms` as applied without running them (`baseline`).
    pub(crate) async fn record_all(&mut self, ms: &[&Migration]) -> Result<(), Error> {
        let table = self.table.as_str();
        match &mut self.conn {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => {
                async {
                    let mut tx = sqlx::Connection::begin(&mut **c).await?;
                    postgres::record_all(&mut tx, table, ms).await?;
                    tx.commit().await
                }
                .await
            }
            #[cfg(feature = "mysql")]
            Conn::My(c) => {
                async {
                    let mut tx = sqlx::Connection::begin(&mut **c).await?;
                    mysql::record_all(&mut tx, table, ms).await?;
                    tx.commit().await
                }
                .await
            }
            // Inside the run's own transaction, which is the lock.
            #[cfg(feature = "sqlite")]
            Conn::Lite(c) => sqlite::record_all(c, table, ms).await,
        }
        .map_err(Error::db("recording migrations without running them"))
    }

    /// sqlx's history in `table`, or `None` when there is no such table
    /// (`adopt-sqlx`).
    pub(crate) async fn sqlx_history(
        &mut self,
        table: &str,
    ) -> Result<Option<Vec<SqlxRow>>, Error> {
        match &mut self.conn {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => postgres::read_sqlx_history(c, table).await,
            #[cfg(feature = "mysql")]
            Conn::My(c) => mysql::read_sqlx_history(c, table).await,
            #[cfg(feature = "sqlite")]
            Conn::Lite(c) => sqlite::read_sqlx_history(c, table).await,
        }
        .map_err(Error::db("reading sqlx's migration history"))
    }

    /// Clears the in-progress marker; with `m`, records it as applied first.
    pub(crate) async fn resolve(&mut self, m: Option<&Migration>) -> Result<(), Error> {
        match &mut self.conn {
            #[cfg(feature = "mysql")]
            Conn::My(c) => match m {
                Some(m) => mysql::record_applied(c, &self.table, m).await,
                None => mysql::clear_marker(c, &self.table).await,
            }
            .map_err(Error::db("resolving the in-progress marker")),
            #[allow(unreachable_patterns, reason = "only MySQL keeps a marker")]
            _ => {
                let _ = m;
                Ok(())
            }
        }
    }
}
