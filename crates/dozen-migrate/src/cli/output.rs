//! Printing: the lines a command writes on stdout, and errors on stderr.
//! Every function takes what it prints; none runs anything.

use std::fmt;
use std::io::{self, Write};
use std::time::Duration;

use refinery::SchemaVersion;

use crate::error::Error;
use crate::history::{Entry, State};
use crate::migrator::Resolution;
use crate::report::Progress;
use crate::status::Status;

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

/// One progress event of `apply`: `applying V1__x ... ok (0.012s)`.
pub(super) fn progress(out: &mut dyn Write, p: &Progress<'_>) {
    match p {
        Progress::Locked { waited } if *waited >= Duration::from_millis(100) => {
            let _ = writeln!(out, "migrate: lock taken after {}", secs(*waited));
        }
        Progress::Applying { migration } => {
            let _ = write!(out, "applying {migration} ... ");
            let _ = out.flush();
        }
        Progress::Applied { duration, .. } => {
            let _ = writeln!(out, "ok ({})", secs(*duration));
        }
        _ => {}
    }
}

/// Ends the `applying ...` line of the migration that failed.
pub(super) fn failed(out: &mut dyn Write) {
    let _ = writeln!(out, "FAILED");
}

/// The summary of `apply`.
pub(super) fn applied(
    out: &mut dyn Write,
    count: usize,
    took: Duration,
    version: Option<SchemaVersion>,
) {
    let _ = match count {
        0 => writeln!(
            out,
            "migrate: nothing to apply; schema at {}",
            version_text(version)
        ),
        n => writeln!(
            out,
            "migrate: applied {n} migration{} in {}; schema at {}",
            if n == 1 { "" } else { "s" },
            secs(took),
            version_text(version)
        ),
    };
}

/// `apply --dry-run`: what would be applied.
pub(super) fn dry_run(out: &mut dyn Write, status: &Status) {
    let mut n = 0_usize;
    for e in status.pending() {
        n += 1;
        let _ = writeln!(out, "would apply V{}__{}", e.version, e.name);
    }
    let _ = writeln!(
        out,
        "migrate: {n} pending, nothing applied (dry run); schema at {}",
        version_text(status.current_version())
    );
}

/// `status`: one line per migration, then a summary.
pub(super) fn status(out: &mut dyn Write, status: &Status) {
    for e in status.entries() {
        entry(out, e);
    }
    let _ = writeln!(
        out,
        "migrate: schema at {} of {}; {} pending{}",
        version_text(status.current_version()),
        version_text(status.target_version()),
        status.pending().count(),
        if status.problem().is_some() {
            "; see the lines in capitals"
        } else {
            ""
        }
    );
}

fn entry(out: &mut dyn Write, e: &Entry) {
    let label = format!("V{}__{}", e.version, e.name);
    let _ = match &e.state {
        State::Applied { applied_on } => writeln!(out, "{label:<40} applied {applied_on}"),
        State::Pending => writeln!(out, "{label:<40} pending"),
        State::Divergent { applied_name } => writeln!(
            out,
            "{label:<40} DIVERGENT (the database applied `{applied_name}` with another checksum)"
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
    let _ = writeln!(
        out,
        "migrate: {applied} applied migrations match this binary; {} pending",
        status.pending().count()
    );
}

/// `wait`: the schema arrived.
pub(super) fn waited(out: &mut dyn Write, status: &Status, took: Duration) {
    let _ = writeln!(
        out,
        "migrate: schema at {} after {}",
        version_text(status.current_version()),
        secs(took)
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

fn version_text(v: Option<SchemaVersion>) -> String {
    v.map_or_else(|| String::from("no version"), |v| format!("version {v}"))
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}
