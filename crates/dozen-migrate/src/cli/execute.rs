//! Dispatch: one function per command, each running the [`Migrator`] and
//! handing what it returns to [`output`](super::output).

use std::io::Write;
use std::time::Instant;

use refinery::SchemaVersion;

use super::args::Command;
use super::{exit, output};
use crate::database::Database;
use crate::error::{Error, ErrorKind};
use crate::migrator::{Migrator, Resolution};

/// Runs `command` on `db`; the exit code, or the error that ended it.
pub(super) async fn execute(
    migrator: &Migrator,
    db: Database,
    command: Command,
    out: &mut (dyn Write + Send),
) -> Result<u8, Error> {
    match command {
        Command::Help => Ok(exit::SUCCESS),
        Command::Apply { dry_run: true, .. } => dry_run(migrator, db, out).await,
        Command::Apply {
            dry_run: false,
            lock_timeout,
        } => match lock_timeout {
            Some(t) => apply(&migrator.clone().with_lock_timeout(t), db, out).await,
            None => apply(migrator, db, out).await,
        },
        Command::Status { check } => status(migrator, db, check, out).await,
        Command::Validate => validate(migrator, db, out).await,
        Command::Wait { timeout } => match timeout {
            Some(t) => wait(&migrator.clone().with_wait_timeout(t), db, out).await,
            None => wait(migrator, db, out).await,
        },
        Command::Repair {
            version,
            resolution,
        } => repair(migrator, db, version, resolution, out).await,
    }
}

async fn dry_run(m: &Migrator, db: Database, out: &mut dyn Write) -> Result<u8, Error> {
    let status = m.status(db).await?;
    if let Some(e) = status.problem() {
        return Err(e);
    }
    output::dry_run(out, &status);
    Ok(exit::SUCCESS)
}

async fn apply(m: &Migrator, db: Database, out: &mut (dyn Write + Send)) -> Result<u8, Error> {
    let start = Instant::now();
    let report = m
        .apply_with(db, |p| output::progress(out, &p))
        .await
        .inspect_err(|e| {
            if e.kind() == ErrorKind::MigrationFailed {
                output::failed(out);
            }
        })?;
    let version = report
        .applied
        .last()
        .map(|a| a.version)
        .or_else(|| m.migrations().last().map(refinery::Migration::version));
    output::applied(out, report.applied.len(), start.elapsed(), version);
    Ok(exit::SUCCESS)
}

async fn status(m: &Migrator, db: Database, check: bool, out: &mut dyn Write) -> Result<u8, Error> {
    let status = m.status(db).await?;
    output::status(out, &status);
    Ok(exit::of_status(&status, check))
}

async fn validate(m: &Migrator, db: Database, out: &mut dyn Write) -> Result<u8, Error> {
    let status = m.validate(db).await?;
    output::validated(out, &status);
    Ok(exit::SUCCESS)
}

async fn wait(m: &Migrator, db: Database, out: &mut dyn Write) -> Result<u8, Error> {
    let start = Instant::now();
    let status = m.wait(db).await?;
    output::waited(out, &status, start.elapsed());
    Ok(exit::SUCCESS)
}

async fn repair(
    m: &Migrator,
    db: Database,
    version: SchemaVersion,
    resolution: Resolution,
    out: &mut dyn Write,
) -> Result<u8, Error> {
    m.repair(db, version, resolution).await?;
    output::repaired(out, version, resolution);
    Ok(exit::SUCCESS)
}
