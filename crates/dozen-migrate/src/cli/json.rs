//! `--format json`: the documents `status`, `validate`, `plan` and `adopt-sqlx` print, in
//! the shape README.md documents. Keys are sorted; a field is never dropped,
//! only added.

use serde_json::{Value, json};

use crate::adopt::Adoption;
use crate::error::{Error, ErrorKind};
use crate::history::State;
use crate::plan::Plan;
use crate::status::Status;

/// `status --format json`.
pub(super) fn status(status: &Status) -> Value {
    let newer: Vec<_> = status.newer().map(|e| e.version).collect();
    let migrations: Vec<Value> = status
        .entries()
        .iter()
        .map(|e| {
            let mut m = json!({ "version": e.version, "name": e.name });
            let (state, extra) = match &e.state {
                State::Applied { applied_on } => ("applied", Some(("applied_on", applied_on))),
                State::Pending => ("pending", None),
                State::Divergent { applied_name } => {
                    ("divergent", Some(("applied_name", applied_name)))
                }
                State::Unknown if newer.contains(&e.version) => ("newer", None),
                State::Unknown => ("unknown", None),
                State::OutOfOrder => ("out_of_order", None),
                State::InProgress { started_on } => {
                    ("in_progress", Some(("started_on", started_on)))
                }
            };
            m["state"] = json!(state);
            if let Some((key, value)) = extra {
                m[key] = json!(value);
            }
            m
        })
        .collect();
    json!({
        "current": status.current_version(),
        "latest": status.target_version(),
        "up_to_date": status.is_up_to_date(),
        "pending": status.pending().count(),
        "allow_newer": status.allow_newer,
        "migrations": migrations,
        "invalid_indexes": status.invalid_indexes(),
        "problem": status.problem().as_ref().map(error),
    })
}

/// `validate --format json`, valid or not.
pub(super) fn validate(status: &Status) -> Value {
    let problem = status.problem();
    json!({
        "valid": problem.is_none(),
        "applied": status.entries().iter().filter(|e| matches!(e.state, State::Applied { .. })).count(),
        "pending": status.pending().count(),
        "newer": status.newer().map(|e| e.version).collect::<Vec<_>>(),
        "problem": problem.as_ref().map(error),
    })
}

/// `plan --format json`.
pub(super) fn plan(plan: &Plan) -> Value {
    json!({
        "current": plan.current,
        "target": plan.target,
        "steps": plan.steps.iter().map(|s| json!({
            "version": s.version,
            "name": s.name,
            "transaction": s.mode.as_str(),
            "sql": s.sql,
        })).collect::<Vec<_>>(),
    })
}

/// `adopt-sqlx --format json`.
pub(super) fn adoption(adoption: &Adoption, sqlx_table: &str) -> Value {
    json!({
        "sqlx_table": sqlx_table,
        "already_adopted": adoption.already_adopted,
        "current": adoption.migrations.last().map(|a| a.version),
        "adopted": adoption.migrations.iter().map(|a| json!({
            "version": a.version,
            "name": a.name,
            "sqlx_description": a.sqlx_description,
        })).collect::<Vec<_>>(),
    })
}

/// An error as `{"kind", "version", "message"}`.
pub(super) fn error(e: &Error) -> Value {
    json!({
        "kind": kind_name(e.kind()),
        "version": e.version(),
        "message": e.to_string(),
    })
}

/// The document of a command that an error ended before its result,
/// `{"error": {"kind", "message", "version"}}`, so that a program reading
/// stdout always gets one document.
pub(super) fn failed(e: &Error) -> Value {
    json!({ "error": error(e) })
}

/// [`failed`] for a connection the app's own `connect` could not make:
/// kind `connect`, no version.
pub(super) fn not_connected(message: &str) -> Value {
    json!({ "error": { "kind": kind_name(ErrorKind::Connect), "message": message, "version": null } })
}

/// The stable name of an error kind in JSON.
fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Connect => "connect",
        ErrorKind::UnsupportedScheme => "unsupported_scheme",
        ErrorKind::Database => "database",
        ErrorKind::MigrationFailed => "migration_failed",
        ErrorKind::RepeatedVersion => "repeated_version",
        ErrorKind::InvalidTableName => "invalid_table_name",
        ErrorKind::Divergent => "divergent",
        ErrorKind::UnknownVersion => "unknown_version",
        ErrorKind::OutOfOrder => "out_of_order",
        ErrorKind::Dirty => "dirty",
        ErrorKind::NotInProgress => "not_in_progress",
        ErrorKind::NotEmbedded => "not_embedded",
        ErrorKind::LockTimeout => "lock_timeout",
        ErrorKind::WaitTimeout => "wait_timeout",
        ErrorKind::Usage => "usage",
        ErrorKind::NewerVersions => "newer_versions",
        ErrorKind::InvalidIndex => "invalid_index",
        ErrorKind::HistoryExists => "history_exists",
        ErrorKind::TargetBelowCurrent => "target_below_current",
        ErrorKind::NoSqlxHistory => "no_sqlx_history",
        ErrorKind::SqlxFailed => "sqlx_failed",
        ErrorKind::SqlxMismatch => "sqlx_mismatch",
    }
}

/// Pretty-printed, with a final newline.
pub(super) fn print(out: &mut dyn std::io::Write, value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let _ = writeln!(out, "{text}");
}
