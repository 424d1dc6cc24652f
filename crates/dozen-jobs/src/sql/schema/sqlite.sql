-- dozen-jobs: the queue. A job is `queued` until it is `done` or `dead`;
-- `run_at` is when it may be claimed: its due time, or while a worker holds
-- it, the end of that worker's lease (`lease_owner`). Times are milliseconds
-- since the Unix epoch, from the database's clock.
CREATE TABLE dozen_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    priority INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    lease_owner TEXT,
    unique_key TEXT,
    -- the unique key while the job is queued: no duplicate while one is
    -- pending or running
    active_key TEXT UNIQUE,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX dozen_jobs_claim ON dozen_jobs (state, priority DESC, run_at, id);
