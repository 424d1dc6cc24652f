use std::fmt;
use std::time::{Duration, Instant};

use refinery::{Migration, Runner, SchemaVersion};

use crate::adopt::{self, Adopted, Adoption};
use crate::database::Database;
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Repr};
use crate::history::{self, Entry, State};
use crate::plan::{Plan, Step};
use crate::report::{Applied, Progress, Report};
use crate::session::Session;
use crate::settings::MigrateSettings;
use crate::status::Status;
use crate::table_name::TableName;
use crate::transaction::TransactionMode;

/// Runs a set of refinery migrations against a [`Database`], under a lock.
///
/// Built from the runner that refinery's `embed_migrations!` generates, then
/// configured as a builder: [`settings`](Self::settings) takes every field of
/// [`MigrateSettings`], and each `with_*` method overrides one field, whatever
/// the order of the calls. Every run that changes the database takes the
/// lock, re-reads the history under it, applies what is pending and releases
/// the lock, whatever happens.
#[derive(Clone)]
pub struct Migrator {
    migrations: Vec<Migration>,
    settings: MigrateSettings,
    overrides: Overrides,
}

/// The fields set one by one with `with_*`; each wins over [`MigrateSettings`].
#[derive(Clone, Debug, Default)]
struct Overrides {
    table: Option<TableName>,
    lock_timeout: Option<Duration>,
    wait_timeout: Option<Duration>,
    poll_interval: Option<Duration>,
    allow_newer: Option<bool>,
    /// Not a setting: the version a run stops at (`--target`).
    target: Option<SchemaVersion>,
    /// Not a setting: sqlx's history table for `adopt_sqlx` (`--sqlx-table`).
    sqlx_table: Option<TableName>,
}

impl fmt::Debug for Migrator {
    // The migrations' SQL is left out: it would drown everything else.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.migrations.len())
            .field("latest", &self.migrations.last().map(Migration::version))
            .field("table", self.table())
            .field("lock_timeout", &self.lock_timeout())
            .field("wait_timeout", &self.wait_timeout())
            .field("poll_interval", &self.poll_interval())
            .field("allow_newer", &self.allow_newer())
            .field("target", &self.overrides.target)
            .finish()
    }
}

/// How an operator resolved a half-applied migration, for [`Migrator::repair`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolution {
    /// Its changes are all in place (completed by hand): record it as applied.
    Applied,
    /// Its changes are all undone (by hand): the next run applies it again.
    NotApplied,
}

impl Migrator {
    /// The migrations of a refinery runner, usually `migrations::runner()` from
    /// `refinery::embed_migrations!`, with [`MigrateSettings::default`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::RepeatedVersion`] when two migrations share a version.
    pub fn new(runner: &Runner) -> Result<Self, Error> {
        Self::from_migrations(runner.get_migrations().iter().cloned())
    }

    /// The given migrations, in any order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::RepeatedVersion`] when two migrations share a version.
    pub fn from_migrations(migrations: impl IntoIterator<Item = Migration>) -> Result<Self, Error> {
        let mut migrations: Vec<Migration> = migrations.into_iter().collect();
        migrations.sort_by_key(Migration::version);
        if let Some(w) = migrations
            .windows(2)
            .find(|w| w[0].version() == w[1].version())
        {
            return Err(Error::from(Repr::RepeatedVersion {
                version: w[0].version(),
            }));
        }
        Ok(Self {
            migrations,
            settings: MigrateSettings::default(),
            overrides: Overrides::default(),
        })
    }

    /// Takes every field of `settings`; a field set with a `with_*` method,
    /// before or after, keeps its value.
    #[must_use]
    pub fn settings(mut self, settings: MigrateSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Uses another history table, as refinery's
    /// `Runner::set_migration_table_name` does (`MIGRATE_TABLE`).
    #[must_use]
    pub fn with_table_name(mut self, name: TableName) -> Self {
        self.overrides.table = Some(name);
        self
    }

    /// How long a run waits for another process's lock before giving up with
    /// [`ErrorKind::LockTimeout`] (`MIGRATE_LOCK_TIMEOUT`, `--lock-timeout`).
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.overrides.lock_timeout = Some(timeout);
        self
    }

    /// How long [`wait`](Self::wait) waits before giving up with
    /// [`ErrorKind::WaitTimeout`] (`MIGRATE_WAIT_TIMEOUT`, `wait --timeout`).
    #[must_use]
    pub fn with_wait_timeout(mut self, timeout: Duration) -> Self {
        self.overrides.wait_timeout = Some(timeout);
        self
    }

    /// How often [`wait`](Self::wait) reads the history
    /// (`MIGRATE_POLL_INTERVAL`; at least 10 ms are taken).
    #[must_use]
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.overrides.poll_interval = Some(interval);
        self
    }

    /// Whether applied migrations newer than every embedded one are accepted
    /// (`MIGRATE_ALLOW_NEWER`, `--allow-newer`): after a rollback, an older
    /// release meets the schema a newer one left. [`apply`](Self::apply) and
    /// [`validate`](Self::validate) then log them, still check the migrations
    /// both sides know, and succeed.
    #[must_use]
    pub fn with_allow_newer(mut self, allow: bool) -> Self {
        self.overrides.allow_newer = Some(allow);
        self
    }

    /// Applies migrations up to `version` only (`migrate --target V`), which
    /// must be embedded and not below the newest applied version. Also
    /// bounds [`plan`](Self::plan). Not a setting: a deploy migrates to the
    /// binary's own migrations.
    #[must_use]
    pub fn with_target(mut self, version: SchemaVersion) -> Self {
        self.overrides.target = Some(version);
        self
    }

    /// The table [`adopt_sqlx`](Self::adopt_sqlx) reads sqlx's history from,
    /// when sqlx was told another than `_sqlx_migrations` (`migrate
    /// adopt-sqlx --sqlx-table`). Not a setting: adoption happens once.
    #[must_use]
    pub fn with_sqlx_table(mut self, name: TableName) -> Self {
        self.overrides.sqlx_table = Some(name);
        self
    }

    /// The table [`adopt_sqlx`](Self::adopt_sqlx) reads: the one given to
    /// [`with_sqlx_table`](Self::with_sqlx_table), else `_sqlx_migrations`.
    #[must_use]
    pub fn sqlx_table_name(&self) -> &str {
        self.overrides
            .sqlx_table
            .as_ref()
            .map_or(adopt::DEFAULT_SQLX_TABLE, TableName::as_str)
    }

    /// Whether applied migrations newer than every embedded one are accepted.
    #[must_use]
    pub fn allow_newer(&self) -> bool {
        self.overrides
            .allow_newer
            .unwrap_or(self.settings.migrate_allow_newer)
    }

    /// The version runs stop at: the one given to
    /// [`with_target`](Self::with_target), else the newest embedded one.
    #[must_use]
    pub fn target(&self) -> Option<SchemaVersion> {
        self.overrides.target.or(self.latest())
    }

    fn latest(&self) -> Option<SchemaVersion> {
        self.migrations.last().map(Migration::version)
    }

    /// The target checked against the newest applied version `current`.
    fn checked_target(&self, current: Option<SchemaVersion>) -> Result<(), Error> {
        let Some(target) = self.overrides.target else {
            return Ok(());
        };
        if !self.migrations.iter().any(|m| m.version() == target) {
            return Err(Error::from(Repr::NotEmbedded { version: target }));
        }
        match current {
            Some(current) if current > target => {
                Err(Error::from(Repr::TargetBelowCurrent { target, current }))
            }
            _ => Ok(()),
        }
    }

    /// The history table's name.
    #[must_use]
    pub fn table_name(&self) -> &str {
        self.table().as_str()
    }

    fn table(&self) -> &TableName {
        self.overrides
            .table
            .as_ref()
            .unwrap_or(&self.settings.migrate_table)
    }

    /// How long a run waits for the lock.
    #[must_use]
    pub fn lock_timeout(&self) -> Duration {
        self.overrides
            .lock_timeout
            .unwrap_or(self.settings.migrate_lock_timeout)
    }

    /// How long [`wait`](Self::wait) waits.
    #[must_use]
    pub fn wait_timeout(&self) -> Duration {
        self.overrides
            .wait_timeout
            .unwrap_or(self.settings.migrate_wait_timeout)
    }

    /// How often [`wait`](Self::wait) reads the history.
    #[must_use]
    pub fn poll_interval(&self) -> Duration {
        self.overrides
            .poll_interval
            .unwrap_or(self.settings.migrate_poll_interval)
            .max(Duration::from_millis(10))
    }

    /// The embedded migrations, in version order.
    #[must_use]
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// Applies every pending migration. See [`apply_with`](Self::apply_with).
    ///
    /// # Errors
    ///
    /// As [`apply_with`](Self::apply_with).
    pub async fn apply(&self, db: impl Into<Database>) -> Result<Report, Error> {
        self.apply_with(db, |_| {}).await
    }

    /// Takes the lock, re-reads the history, refuses to run if a migration
    /// diverges, is unknown, out of order or half applied, then applies each
    /// pending migration (each in its own transaction where the database
    /// allows), calling `progress` along the way, and releases the lock.
    ///
    /// The lock is released on every path: on error, and when the returned
    /// future is dropped (the connection is then closed rather than returned to
    /// the pool, so the server ends the session that holds the lock).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LockTimeout`], [`ErrorKind::Divergent`], [`ErrorKind::UnknownVersion`],
    /// [`ErrorKind::OutOfOrder`], [`ErrorKind::Dirty`], [`ErrorKind::MigrationFailed`] (with
    /// the migrations before it applied and kept), [`ErrorKind::Database`].
    pub async fn apply_with<F>(
        &self,
        db: impl Into<Database>,
        mut progress: F,
    ) -> Result<Report, Error>
    where
        F: FnMut(Progress<'_>) + Send,
    {
        let db = db.into();
        let (mut session, lock_wait) = Session::lock(
            &db,
            self.table_name(),
            self.lock_timeout(),
            &mut |holder, waited| progress(Progress::Waiting { holder, waited }),
        )
        .await?;
        progress(Progress::Locked { waited: lock_wait });
        let result = self.apply_locked(&mut session, &mut progress).await;
        let unlocked = session.unlock().await;
        let (applied, newer) = result?;
        unlocked?;
        Ok(Report {
            applied,
            lock_wait,
            newer,
        })
    }

    async fn apply_locked<F>(
        &self,
        session: &mut Session,
        progress: &mut F,
    ) -> Result<(Vec<Applied>, Vec<SchemaVersion>), Error>
    where
        F: FnMut(Progress<'_>) + Send,
    {
        let applied = session.prepared_history().await?;
        let in_progress = session.conn().in_progress(self.table_name()).await?;
        if let Some(marker) = in_progress {
            let finished = applied.iter().any(|a| {
                a.version() == marker.version && a.checksum().to_string() == marker.checksum
            });
            if !finished {
                return Err(Error::from(Repr::Dirty {
                    version: marker.version,
                    name: marker.name,
                    started_on: marker.started_on,
                }));
            }
            // The history row was committed and only the marker's removal was
            // lost: the migration is complete.
            tracing::info!(
                version = marker.version,
                "clearing the in-progress marker of a completed migration"
            );
            session.resolve(None).await?;
        }
        let entries = history::compare(&applied, &self.migrations);
        if let Some(e) = history::blocking_error(&entries, self.latest(), self.allow_newer()) {
            return Err(e);
        }
        let newer: Vec<SchemaVersion> = history::newer(&entries, self.latest())
            .iter()
            .map(|e| e.version)
            .collect();
        if !newer.is_empty() {
            tracing::warn!(
                versions = ?newer,
                latest = ?self.latest(),
                "the database holds migrations newer than this binary (accepted: MIGRATE_ALLOW_NEWER)"
            );
        }
        self.checked_target(applied.iter().map(Migration::version).max())?;
        let target = self.target();
        let pending: Vec<&Migration> = self
            .migrations
            .iter()
            .filter(|m| target.is_some_and(|t| m.version() <= t))
            .filter(|m| {
                entries
                    .iter()
                    .any(|e| e.version == m.version() && e.state == State::Pending)
            })
            .collect();
        // A retried `CREATE INDEX CONCURRENTLY IF NOT EXISTS` would keep the
        // INVALID index a failed attempt left: refuse until it is dropped.
        let no_transaction = pending
            .iter()
            .any(|m| TransactionMode::of(m) == TransactionMode::NoTransaction);
        if no_transaction
            && let Some(index) = session.conn().invalid_indexes().await?.into_iter().next()
        {
            return Err(Error::from(Repr::InvalidIndex { index }));
        }
        let mut done = Vec::new();
        for m in pending {
            progress(Progress::Applying { migration: m });
            let start = Instant::now();
            session.apply(m).await?;
            let duration = start.elapsed();
            tracing::info!(
                version = m.version(),
                name = m.name(),
                duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
                "applied migration"
            );
            progress(Progress::Applied {
                migration: m,
                duration,
            });
            done.push(Applied {
                version: m.version(),
                name: m.name().to_owned(),
                duration,
            });
        }
        Ok((done, newer))
    }

    /// Compares the history with the embedded migrations, without a lock and
    /// without creating anything: applied, pending (the dry run), divergent,
    /// unknown, out of order, and on MySQL/MariaDB the half-applied one.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Database`] when the history cannot be read.
    pub async fn status(&self, db: impl Into<Database>) -> Result<Status, Error> {
        let db = db.into();
        let mut conn = db.acquire().await?;
        let in_progress = conn.in_progress(self.table_name()).await?;
        let applied = conn.history(self.table_name()).await?;
        // Only a non-transactional migration can leave an INVALID index
        // behind; a set without one spares the query.
        let invalid_indexes = if self
            .migrations
            .iter()
            .any(|m| TransactionMode::of(m) == TransactionMode::NoTransaction)
        {
            conn.invalid_indexes().await?
        } else {
            Vec::new()
        };
        let mut entries = history::compare(&applied, &self.migrations);
        if let Some(marker) = in_progress {
            let state = State::InProgress {
                started_on: marker.started_on,
            };
            match entries.iter_mut().find(|e| e.version == marker.version) {
                Some(e) if e.state == State::Pending => e.state = state,
                Some(_) => {} // recorded as applied: complete, the marker is stale
                None => {
                    entries.push(Entry {
                        version: marker.version,
                        name: marker.name,
                        state,
                    });
                    entries.sort_by_key(|e| e.version);
                }
            }
        }
        Ok(Status {
            entries,
            target: self.latest(),
            allow_newer: self.allow_newer(),
            invalid_indexes,
        })
    }

    /// Checks the applied migrations against the embedded ones (names and
    /// checksums); pending migrations are fine, and so are newer ones when
    /// [`allow_newer`](Self::allow_newer) is set.
    ///
    /// # Errors
    ///
    /// The first of [`ErrorKind::Dirty`], [`ErrorKind::Divergent`], [`ErrorKind::UnknownVersion`],
    /// [`ErrorKind::OutOfOrder`], [`ErrorKind::NewerVersions`], [`ErrorKind::InvalidIndex`]
    /// found, or [`ErrorKind::Database`].
    pub async fn validate(&self, db: impl Into<Database>) -> Result<Status, Error> {
        let status = self.status(db).await?;
        match status.problem() {
            Some(e) => Err(e),
            None => Ok(status),
        }
    }

    /// Blocks until every embedded migration is applied (by another process),
    /// for replicas that must not migrate themselves, at most
    /// [`wait_timeout`](Self::wait_timeout). Takes no lock.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WaitTimeout`] after the wait timeout; at once [`ErrorKind::Divergent`],
    /// [`ErrorKind::OutOfOrder`] or [`ErrorKind::Dirty`], which no waiting resolves.
    pub async fn wait(&self, db: impl Into<Database>) -> Result<Status, Error> {
        let db = db.into();
        let timeout = self.wait_timeout();
        let start = Instant::now();
        loop {
            let status = self.status(db.clone()).await?;
            // Migrations of a newer release are fine here; every other
            // problem is one that no amount of waiting resolves.
            let known = Status {
                entries: status
                    .entries
                    .iter()
                    .filter(|e| e.state != State::Unknown)
                    .cloned()
                    .collect(),
                invalid_indexes: Vec::new(),
                ..status.clone()
            };
            if let Some(e) = known.problem() {
                return Err(e);
            }
            if status.has_reached_target() {
                return Ok(status);
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(Error::from(Repr::WaitTimeout {
                    waited,
                    current: status.current_version(),
                    target: status.target.unwrap_or_default(),
                }));
            }
            tokio::time::sleep(self.poll_interval().min(timeout.saturating_sub(waited))).await;
        }
    }

    /// Resolves a migration that MySQL/MariaDB left half applied, after the
    /// operator completed or undid its statements by hand. `version` must be
    /// the one marked in progress.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotInProgress`] when `version` is not the marked one (always on
    /// PostgreSQL and SQLite, which roll a failed migration back),
    /// [`ErrorKind::NotEmbedded`], [`ErrorKind::LockTimeout`], [`ErrorKind::Database`].
    pub async fn repair(
        &self,
        db: impl Into<Database>,
        version: SchemaVersion,
        resolution: Resolution,
    ) -> Result<(), Error> {
        let db = db.into();
        let (mut session, _) =
            Session::lock(&db, self.table_name(), self.lock_timeout(), &mut |_, _| {}).await?;
        let result = async {
            let marker = session.conn().in_progress(self.table_name()).await?;
            if marker.as_ref().is_none_or(|m| m.version != version) {
                return Err(Error::from(Repr::NotInProgress {
                    version,
                    marked: marker.map(|m| m.version),
                }));
            }
            match resolution {
                Resolution::Applied => {
                    let m = self
                        .migrations
                        .iter()
                        .find(|m| m.version() == version)
                        .ok_or(Error::from(Repr::NotEmbedded { version }))?;
                    session.resolve(Some(m)).await
                }
                Resolution::NotApplied => session.resolve(None).await,
            }
        }
        .await;
        let unlocked = session.unlock().await;
        result?;
        unlocked
    }

    /// Adopts a database whose tables exist and whose history is empty:
    /// records every embedded migration up to `version` as applied, without
    /// running it, under the lock. The next [`apply`](Self::apply) starts
    /// after `version`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::HistoryExists`] when the history records any migration,
    /// [`ErrorKind::NotEmbedded`] when `version` is not embedded,
    /// [`ErrorKind::LockTimeout`], [`ErrorKind::Database`].
    pub async fn baseline(
        &self,
        db: impl Into<Database>,
        version: SchemaVersion,
    ) -> Result<Vec<SchemaVersion>, Error> {
        let db = db.into();
        let (mut session, _) =
            Session::lock(&db, self.table_name(), self.lock_timeout(), &mut |_, _| {}).await?;
        let result = async {
            let applied = session.prepared_history().await?;
            if let Some(current) = applied.iter().map(Migration::version).max() {
                return Err(Error::from(Repr::HistoryExists {
                    count: applied.len(),
                    current,
                }));
            }
            if !self.migrations.iter().any(|m| m.version() == version) {
                return Err(Error::from(Repr::NotEmbedded { version }));
            }
            let upto: Vec<&Migration> = self
                .migrations
                .iter()
                .filter(|m| m.version() <= version)
                .collect();
            session.record_all(&upto).await?;
            tracing::info!(version, count = upto.len(), "recorded the baseline");
            Ok(upto.iter().map(|m| m.version()).collect())
        }
        .await;
        let unlocked = session.unlock().await;
        let recorded = result?;
        unlocked?;
        Ok(recorded)
    }

    /// Adopts a database that sqlx's migrator (`sqlx::migrate!`) migrated:
    /// reads sqlx's history (`_sqlx_migrations`, or the table given to
    /// [`with_sqlx_table`](Self::with_sqlx_table)) and records the embedded
    /// migrations of the same versions as applied, without running them,
    /// under the lock. The next [`apply`](Self::apply) starts after sqlx's
    /// newest version. sqlx's table is only read, never changed.
    ///
    /// Every sqlx migration must have succeeded and be embedded under its
    /// version with the same SQL: sqlx's checksum must be the SHA-384 of the
    /// embedded SQL (file names and descriptions may differ). Every embedded
    /// migration up to sqlx's newest version must be in sqlx's history.
    ///
    /// Idempotent: when refinery's history already records every sqlx
    /// migration (an earlier adoption, whatever ran since), nothing is written
    /// and [`Adoption::already_adopted`] is set.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoSqlxHistory`] when sqlx's table is missing or empty,
    /// [`ErrorKind::SqlxFailed`] for a sqlx migration recorded as failed,
    /// [`ErrorKind::SqlxMismatch`] for a version on one side only, a sqlx
    /// version beyond refinery's `i32` versions (without refinery's
    /// `int8-versions` feature) or SQL that differs, each naming the version;
    /// [`ErrorKind::HistoryExists`] when refinery's history records other
    /// migrations, [`ErrorKind::LockTimeout`], [`ErrorKind::Database`].
    pub async fn adopt_sqlx(&self, db: impl Into<Database>) -> Result<Adoption, Error> {
        let db = db.into();
        let (mut session, _) =
            Session::lock(&db, self.table_name(), self.lock_timeout(), &mut |_, _| {}).await?;
        let result = async {
            let applied = session.prepared_history().await?;
            let table = self.sqlx_table_name();
            let Some(rows) = session.sqlx_history(table).await? else {
                return Err(Error::from(Repr::NoSqlxHistory {
                    table: table.to_owned(),
                    missing: true,
                }));
            };
            let matched = adopt::matched(table, &rows, &self.migrations)?;
            let migrations: Vec<Adopted> = matched
                .iter()
                .map(|(m, description)| Adopted {
                    version: m.version(),
                    name: m.name().to_owned(),
                    sqlx_description: description.clone(),
                })
                .collect();
            if let Some(current) = applied.iter().map(Migration::version).max() {
                let entries = history::compare(&applied, &self.migrations);
                let recorded = |v: SchemaVersion| {
                    entries
                        .iter()
                        .any(|e| e.version == v && matches!(e.state, State::Applied { .. }))
                };
                if !migrations.iter().all(|a| recorded(a.version)) {
                    return Err(Error::from(Repr::AdoptHistoryExists {
                        count: applied.len(),
                        current,
                    }));
                }
                return Ok(Adoption {
                    migrations,
                    already_adopted: true,
                });
            }
            let ms: Vec<&Migration> = matched.iter().map(|(m, _)| *m).collect();
            session.record_all(&ms).await?;
            tracing::info!(
                count = ms.len(),
                version = ms.last().map(|m| m.version()),
                "recorded sqlx's history as refinery's"
            );
            Ok(Adoption {
                migrations,
                already_adopted: false,
            })
        }
        .await;
        let unlocked = session.unlock().await;
        let adoption = result?;
        unlocked?;
        Ok(adoption)
    }

    /// What the next [`apply`](Self::apply) would run, in order, with each
    /// migration's SQL and [`TransactionMode`]; reads the history without a
    /// lock and changes nothing.
    ///
    /// # Errors
    ///
    /// Whatever would stop the run: as [`validate`](Self::validate), and
    /// [`ErrorKind::NotEmbedded`] or [`ErrorKind::TargetBelowCurrent`] for a
    /// [`with_target`](Self::with_target) that makes no sense.
    pub async fn plan(&self, db: impl Into<Database>) -> Result<Plan, Error> {
        let status = self.validate(db).await?;
        let current = status.current_version();
        self.checked_target(current)?;
        let target = self.target();
        let steps = status
            .pending()
            .filter(|e| target.is_some_and(|t| e.version <= t))
            .filter_map(|e| self.migrations.iter().find(|m| m.version() == e.version))
            .map(|m| Step {
                version: m.version(),
                name: m.name().to_owned(),
                mode: TransactionMode::of(m),
                sql: m.sql().unwrap_or_default().to_owned(),
            })
            .collect();
        Ok(Plan {
            current,
            target,
            steps,
        })
    }
}
