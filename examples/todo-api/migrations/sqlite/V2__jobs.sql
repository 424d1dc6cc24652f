-- A work queue with leases: a claimed job is invisible to other workers until
-- lease_until passes; a live worker extends it, a dead one lets it lapse.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    todo_id INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER,
    done_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX jobs_pending ON jobs (done_at, lease_until, id);
-- The effect of a reminder job, keyed so a second delivery changes nothing.
CREATE TABLE reminders (
    todo_id INTEGER PRIMARY KEY,
    sent_at INTEGER NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1
);
