//! Dispatch: one function per command, each running the [`Migrator`] and
//! handing what it returns to [`output`](super::output) or
//! [`json`](super::json). The result goes to `out` (stdout), progress to
//! `err` (stderr).

use std::io::Write;
use std::time::Instant;

use refinery::SchemaVersion;

use super::args::{Command, Format};
use super::{exit, json, output};
use crate::database::Database;
use crate::error::Error;
use crate::migrator::{Migrator, Resolution};

/// Where a command prints: its result on `out`, progress on `err`.
pub(super) struct Streams<'a> {
    pub(super) out: &'a mut (dyn Write + Send),
    pub(super) err: &'a mut (dyn Write + Send),
}

/// Runs `command` on `db`; the exit code, or the error that ended it.
pub(super) async fn execute(
    migrator: &Migrator,
    db: Database,
    command: Command,
    io: Streams<'_>,
) -> Result<u8, Error> {
    let out = io.out;
    match command {
        Command::Help => Ok(exit::SUCCESS),
        Command::Apply {
            dry_run,
            lock_timeout,
            allow_newer,
            target,
        } => {
            let mut m = migrator.clone();
            if let Some(t) = lock_timeout {
                m = m.with_lock_timeout(t);
            }
            if allow_newer {
                m = m.with_allow_newer(true);
            }
            if let Some(v) = target {
                m = m.with_target(v);
            }
            if dry_run {
                let plan = m.plan(db).await?;
                output::dry_run(out, &plan);
                Ok(exit::SUCCESS)
            } else {
                apply(&m, db, out, io.err).await
            }
        }
        Command::Status {
            check,
            allow_newer,
            format,
        } => {
            let status = newer(migrator, allow_newer).status(db).await?;
            match format {
                Format::Text => output::status(out, &status),
                Format::Json => json::print(out, &json::status(&status)),
            }
            Ok(exit::of_status(&status, check))
        }
        Command::Validate {
            allow_newer,
            format,
        } => {
            let status = newer(migrator, allow_newer).status(db).await?;
            match (format, status.problem()) {
                (Format::Json, problem) => {
                    json::print(out, &json::validate(&status));
                    Ok(problem.map_or(exit::SUCCESS, |e| exit::of_error(&e)))
                }
                (Format::Text, Some(e)) => Err(e),
                (Format::Text, None) => {
                    output::validated(out, &status);
                    Ok(exit::SUCCESS)
                }
            }
        }
        Command::Plan {
            allow_newer,
            target,
            format,
        } => {
            let mut m = newer(migrator, allow_newer);
            if let Some(v) = target {
                m = m.with_target(v);
            }
            let plan = m.plan(db).await?;
            match format {
                Format::Text => output::plan(out, &plan),
                Format::Json => json::print(out, &json::plan(&plan)),
            }
            Ok(exit::SUCCESS)
        }
        Command::Wait { timeout } => {
            let m = match timeout {
                Some(t) => migrator.clone().with_wait_timeout(t),
                None => migrator.clone(),
            };
            let start = Instant::now();
            let status = m.wait(db).await?;
            output::waited(out, &status, start.elapsed());
            Ok(exit::SUCCESS)
        }
        Command::Baseline {
            version,
            lock_timeout,
        } => {
            let m = match lock_timeout {
                Some(t) => migrator.clone().with_lock_timeout(t),
                None => migrator.clone(),
            };
            let recorded = m.baseline(db, version).await?;
            output::baselined(out, &recorded);
            Ok(exit::SUCCESS)
        }
        Command::AdoptSqlx {
            sqlx_table,
            lock_timeout,
            format,
        } => {
            let mut m = migrator.clone();
            if let Some(t) = sqlx_table {
                m = m.with_sqlx_table(t);
            }
            if let Some(t) = lock_timeout {
                m = m.with_lock_timeout(t);
            }
            let adoption = m.adopt_sqlx(db).await?;
            match format {
                Format::Text => output::adopted(out, &adoption, m.sqlx_table_name()),
                Format::Json => json::print(out, &json::adoption(&adoption, m.sqlx_table_name())),
            }
            Ok(exit::SUCCESS)
        }
        Command::Repair {
            version,
            resolution,
        } => repair(migrator, db, version, resolution, out).await,
    }
}

/// The migrator, accepting newer migrations when the flag says so (the
/// setting applies otherwise).
fn newer(migrator: &Migrator, allow_newer: bool) -> Migrator {
    if allow_newer {
        migrator.clone().with_allow_newer(true)
    } else {
        migrator.clone()
    }
}

async fn apply(
    m: &Migrator,
    db: Database,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> Result<u8, Error> {
    let start = Instant::now();
    let report = m.apply_with(db, |p| output::progress(out, err, &p)).await?;
    let at = report
        .newer
        .last()
        .copied()
        .or(report.applied.last().map(|a| a.version))
        .or_else(|| m.target());
    output::applied(out, &report, start.elapsed(), at);
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
