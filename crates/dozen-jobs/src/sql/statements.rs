//! Every statement the SQL backend runs, prepared once per dialect.
//!
//! The invariants they keep together:
//! - a job is settled (done, retried, dead, given back) only by the owner of
//!   its lease, and only while it is `queued`: each settling `UPDATE` says
//!   `WHERE id = ? AND lease_owner = ? AND state = 'queued'`;
//! - a claim takes due jobs (`run_at <= now`) and sets `run_at` to the end
//!   of its lease, so an expired lease makes the job due again with no
//!   sweeper;
//! - `active_key` holds the unique key exactly while the job is queued.

use super::dialect::{Dialect, Sql};

/// The columns a claim returns, in this order.
const CLAIMED: &str = "id, name, payload, attempts, max_attempts";

#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) dialect: Dialect,
    /// name, payload, priority, max_attempts, delay ms, unique_key, active_key.
    pub(crate) enqueue: Sql,
    /// PostgreSQL and SQLite: owner, lease ms, limit. MySQL: limit (the
    /// select to lock).
    pub(crate) claim: Sql,
    /// MySQL: owner, lease ms, id.
    pub(crate) claim_one: Sql,
    /// lease ms, id, owner.
    pub(crate) heartbeat: Sql,
    /// id, owner.
    pub(crate) complete: Sql,
    /// delay ms, error, id, owner.
    pub(crate) retry: Sql,
    /// error, id, owner.
    pub(crate) kill: Sql,
    /// id, owner.
    pub(crate) give_back: Sql,
    /// No parameter: (state label, count) rows.
    pub(crate) counts: Sql,
    /// limit.
    pub(crate) dead: Sql,
    /// id.
    pub(crate) retry_dead: Sql,
    /// No parameter: the ids of dead jobs.
    pub(crate) dead_ids: Sql,
    /// age ms.
    pub(crate) prune: Sql,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect) -> Self {
        let p = |sql: &str| dialect.prepare(sql);
        let now = dialect.now_ms_sql();
        let due = format!(
            "SELECT id FROM dozen_jobs WHERE state = 'queued' AND run_at <= {now} \
             ORDER BY priority DESC, run_at, id LIMIT ?"
        );
        Self {
            dialect,
            enqueue: p(&match dialect {
                Dialect::MySql => format!(
                    "INSERT IGNORE INTO dozen_jobs (name, payload, state, priority, attempts, \
                     max_attempts, run_at, unique_key, active_key, created_at) \
                     VALUES (?, ?, 'queued', ?, 0, ?, {now} + ?, ?, ?, {now}) RETURNING id"
                ),
                Dialect::Postgres | Dialect::Sqlite => format!(
                    "INSERT INTO dozen_jobs (name, payload, state, priority, attempts, \
                     max_attempts, run_at, unique_key, active_key, created_at) \
                     VALUES (?, ?, 'queued', ?, 0, ?, {now} + ?, ?, ?, {now}) \
                     ON CONFLICT DO NOTHING RETURNING id"
                ),
            }),
            claim: p(&match dialect {
                // One statement; other workers' claims skip the rows this one
                // has locked.
                Dialect::Postgres => format!(
                    "UPDATE dozen_jobs SET lease_owner = ?, run_at = {now} + ?, \
                     attempts = attempts + 1 WHERE id IN ({due} FOR UPDATE SKIP LOCKED) \
                     RETURNING {CLAIMED}"
                ),
                // SQLite serialises writers: one statement is atomic.
                Dialect::Sqlite => format!(
                    "UPDATE dozen_jobs SET lease_owner = ?, run_at = {now} + ?, \
                     attempts = attempts + 1 WHERE id IN ({due}) RETURNING {CLAIMED}"
                ),
                // No UPDATE ... RETURNING: lock the rows, then take each.
                Dialect::MySql => format!(
                    "SELECT {CLAIMED} FROM dozen_jobs WHERE state = 'queued' AND run_at <= {now} \
                     ORDER BY priority DESC, run_at, id LIMIT ? FOR UPDATE SKIP LOCKED"
                ),
            }),
            claim_one: p(&format!(
                "UPDATE dozen_jobs SET lease_owner = ?, run_at = {now} + ?, \
                 attempts = attempts + 1 WHERE id = ?"
            )),
            heartbeat: p(&format!(
                "UPDATE dozen_jobs SET run_at = {now} + ? \
                 WHERE id = ? AND lease_owner = ? AND state = 'queued'"
            )),
            complete: p(&format!(
                "UPDATE dozen_jobs SET state = 'done', active_key = NULL, lease_owner = NULL, \
                 last_error = NULL, finished_at = {now} \
                 WHERE id = ? AND lease_owner = ? AND state = 'queued'"
            )),
            retry: p(&format!(
                "UPDATE dozen_jobs SET run_at = {now} + ?, lease_owner = NULL, last_error = ? \
                 WHERE id = ? AND lease_owner = ? AND state = 'queued'"
            )),
            kill: p(&format!(
                "UPDATE dozen_jobs SET state = 'dead', active_key = NULL, lease_owner = NULL, \
                 last_error = ?, finished_at = {now} \
                 WHERE id = ? AND lease_owner = ? AND state = 'queued'"
            )),
            give_back: p(&format!(
                "UPDATE dozen_jobs SET run_at = {now}, lease_owner = NULL, attempts = attempts - 1 \
                 WHERE id = ? AND lease_owner = ? AND state = 'queued'"
            )),
            counts: p(&format!(
                "SELECT CASE WHEN state <> 'queued' THEN state \
                 WHEN lease_owner IS NOT NULL AND run_at > {now} THEN 'running' \
                 WHEN run_at <= {now} THEN 'due' ELSE 'later' END AS label, \
                 COUNT(*) AS n FROM dozen_jobs GROUP BY 1"
            )),
            dead: p(
                "SELECT id, name, attempts, last_error, payload FROM dozen_jobs \
                 WHERE state = 'dead' ORDER BY id LIMIT ?",
            ),
            retry_dead: p(&format!(
                "UPDATE dozen_jobs SET state = 'queued', attempts = 0, run_at = {now}, \
                 active_key = unique_key, finished_at = NULL WHERE id = ? AND state = 'dead'"
            )),
            dead_ids: p("SELECT id FROM dozen_jobs WHERE state = 'dead' ORDER BY id"),
            prune: p(&format!(
                "DELETE FROM dozen_jobs WHERE state = 'done' AND finished_at < {now} - ?"
            )),
        }
    }
}
