//! Printing: the lines a command writes on stdout, and errors on stderr.
//! Every function takes what it prints; none runs anything.

use std::fmt;
use std::io::{self, Write};
use std::time::Duration;

use refinery::SchemaVersion;

use crate::adopt::Adoption;
use crate::error::Error;
use crate::history::{Entry, State};
use crate::migrator::Resolution;
use crate::plan::Plan;
use crate::report::{Progress, Report};
use crate::status::Status;
use crate::transaction::TransactionMode;

/// `error: ...` on stderr.
pub(super) fn error(e: &dyn fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "error: {e}");
}

/// An error with the chain of its causes, `what failed: cause: cause`.
pub(super) struct Chain<'a>(pub(super) &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

/// A usage error, then the usage text, on stderr.
pub(super) fn usage_error(e: &Error, usage: &str) {
    let _ = writeln!(io::stderr().lock(), "error: {e}\n\n{usage}");
}

/// The usage text asked for, on stdout.
pub(super) fn help(out: &mut dyn Write, usage: &str) {
    let _ = writeln!(out, "{usage}");
}

/// One progress event of `apply`: lock waits on `err`, and once a
/// migration is done, its whole line on `out`: `applied V1__x (0.012s)`.
pub(super) fn progress(out: &mut dyn Write, err: &mut dyn Write, p: &Progress<'_>) {
    let _ = match p {
        Progress::Waiting { holder, waited } => writeln!(
            err,
            "migrate: waiting for the migration lock for {}{}",
            secs(*waited),
            holder.map_or_else(String::new, |h| format!(" (held by {h})"))
        ),
        Progress::Locked { waited } if *waited >= Duration::from_millis(100) => {
            writeln!(
                err,
                "migrate: took the migration lock after {}",
                secs(*waited)
            )
        }
        Progress::Applied {
            migration,
            duration,
        } => match TransactionMode::of(migration) {
            TransactionMode::NoTransaction => writeln!(
                out,
                "applied {migration} ({}, outside a transaction)",
                secs(*duration)
            ),
            _ => writeln!(out, "applied {migration} ({})", secs(*duration)),
        },
        _ => Ok(()),
    };
    let _ = out.flush();
    let _ = err.flush();
}

/// The summary of `apply`.
pub(super) fn applied(
    out: &mut dyn Write,
    report: &Report,
    took: Duration,
    at: Option<SchemaVersion>,
) {
    let count = report.applied.len();
    let newer = if report.newer.is_empty() {
        String::new()
    } else {
        format!(
            "; accepted {} from a newer release",
            list(report.newer.iter().copied())
        )
    };
    let _ = match count {
        0 => writeln!(out, "migrate: nothing to apply; {}{newer}", schema_at(at)),
        n => writeln!(
            out,
            "migrate: applied {n} migration{} in {}; {}{newer}",
            plural(n),
            secs(took),
            schema_at(at)
        ),
    };
}

/// `apply --dry-run`: what would be applied.
pub(super) fn dry_run(out: &mut dyn Write, plan: &Plan) {
    for s in &plan.steps {
        let _ = writeln!(out, "would apply V{}__{}", s.version, s.name);
    }
    let _ = writeln!(
        out,
        "migrate: {} pending, nothing applied (dry run); {}",
        plan.steps.len(),
        schema_at(plan.current)
    );
}

/// `plan`: the SQL the next run would execute, each migration under a
/// comment naming it and its transaction mode; valid SQL as a whole.
pub(super) fn plan(out: &mut dyn Write, plan: &Plan) {
    for s in &plan.steps {
        let _ = writeln!(
            out,
            "-- V{}__{} ({})\n{}\n",
            s.version,
            s.name,
            s.mode.as_str(),
            s.sql.trim_end()
        );
    }
    let _ = writeln!(
        out,
        "-- migrate: {} pending up to {}; {}",
        plan.steps.len(),
        plan.target
            .map_or_else(|| String::from("no version"), |v| format!("V{v}")),
        schema_at(plan.current)
    );
}

/// `status`: one line per migration, then a summary.
pub(super) fn status(out: &mut dyn Write, status: &Status) {
    for e in status.entries() {
        entry(out, status, e);
    }
    for index in status.invalid_indexes() {
        let _ = writeln!(
            out,
            "{:<40} INVALID INDEX (a CREATE INDEX CONCURRENTLY failed or is running: drop it with \
             `DROP INDEX CONCURRENTLY {index}`, then run migrate again)",
            format!("index {index}")
        );
    }
    let _ = writeln!(
        out,
        "migrate: {}; this binary's latest is {}; {} pending{}",
        schema_at(status.current_version()),
        status
            .target_version()
            .map_or_else(|| String::from("none"), |v| format!("V{v}")),
        status.pending().count(),
        if status.problem().is_some() {
            "; see the lines in capitals"
        } else {
            ""
        }
    );
}

fn entry(out: &mut dyn Write, status: &Status, e: &Entry) {
    let label = format!("V{}__{}", e.version, e.name);
    let newer = status.newer().any(|n| n.version == e.version);
    let _ = match &e.state {
        State::Applied { applied_on } => writeln!(out, "{label:<40} applied {applied_on}"),
        State::Pending => writeln!(out, "{label:<40} pending"),
        State::Divergent { applied_name } => writeln!(
            out,
            "{label:<40} DIVERGENT (the database applied `{applied_name}` with another checksum)"
        ),
        State::Unknown if newer && status.allow_newer => {
            writeln!(out, "{label:<40} applied by a newer release (accepted)")
        }
        State::Unknown if newer => writeln!(
            out,
            "{label:<40} NEWER (applied by a newer release; accept it with --allow-newer)"
        ),
        State::Unknown => writeln!(out, "{label:<40} UNKNOWN (applied, not in this binary)"),
        State::OutOfOrder => writeln!(
            out,
            "{label:<40} OUT OF ORDER (older than the newest applied, never applied)"
        ),
        State::InProgress { started_on } => writeln!(
            out,
            "{label:<40} IN PROGRESS since {started_on} (possibly half applied: check, then `repair`)"
        ),
    };
}

/// `validate`: the applied migrations match.
pub(super) fn validated(out: &mut dyn Write, status: &Status) {
    let applied = status
        .entries()
        .iter()
        .filter(|e| matches!(e.state, State::Applied { .. }))
        .count();
    let newer = status.newer().count();
    let _ = writeln!(
        out,
        "migrate: {applied} applied migration{} match this binary; {} pending{}",
        plural(applied),
        status.pending().count(),
        match newer {
            0 => String::new(),
            n => format!("; {n} from a newer release accepted"),
        }
    );
}

/// `wait`: the schema arrived.
pub(super) fn waited(out: &mut dyn Write, status: &Status, took: Duration) {
    let _ = writeln!(
        out,
        "migrate: {} after waiting {}",
        schema_at(status.current_version()),
        secs(took)
    );
}

/// `baseline`: what was recorded.
pub(super) fn baselined(out: &mut dyn Write, versions: &[SchemaVersion]) {
    let _ = writeln!(
        out,
        "migrate: recorded {} migration{} as applied without running them; {}",
        versions.len(),
        plural(versions.len()),
        schema_at(versions.last().copied())
    );
}

/// `adopt-sqlx`: a line per migration adopted (with sqlx's description when
/// it differs from the name), then a summary.
pub(super) fn adopted(out: &mut dyn Write, adoption: &Adoption, sqlx_table: &str) {
    let at = schema_at(adoption.migrations.last().map(|a| a.version));
    let count = adoption.migrations.len();
    if adoption.already_adopted {
        let _ = writeln!(
            out,
            "migrate: already adopted: the history records the {count} migration{} of {sqlx_table}; {at}",
            plural(count)
        );
        return;
    }
    for a in &adoption.migrations {
        let label = format!("V{}__{}", a.version, a.name);
        let _ = if a.sqlx_description.replace(' ', "_") == a.name {
            writeln!(out, "adopted {label}")
        } else {
            writeln!(out, "adopted {label} (sqlx: {})", a.sqlx_description)
        };
    }
    let _ = writeln!(
        out,
        "migrate: recorded the {count} migration{} of {sqlx_table} as applied without running them; {at}",
        plural(count)
    );
}

/// `repair`: how the version was resolved.
pub(super) fn repaired(out: &mut dyn Write, version: SchemaVersion, resolution: Resolution) {
    let _ = writeln!(
        out,
        "migrate: V{version} marked {}",
        match resolution {
            Resolution::Applied => "applied",
            Resolution::NotApplied => "not applied; the next run applies it",
        }
    );
}

/// `the schema is at V3`, or `no migration is applied yet`.
fn schema_at(v: Option<SchemaVersion>) -> String {
    v.map_or_else(
        || String::from("no migration is applied yet"),
        |v| format!("the schema is at V{v}"),
    )
}

fn list(versions: impl Iterator<Item = SchemaVersion>) -> String {
    versions
        .map(|v| format!("V{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}
