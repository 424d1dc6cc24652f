-- dozen-jobs: the queue. A job is `queued` until it is `done` or `dead`;
-- `run_at` is when it may be claimed: its due time, or while a worker holds
-- it, the end of that worker's lease (`lease_owner`). Times are milliseconds
-- since the Unix epoch, from the database's clock.
CREATE TABLE dozen_jobs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    payload LONGTEXT NOT NULL,
    state VARCHAR(8) NOT NULL,
    priority BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lease_owner VARCHAR(128),
    unique_key VARCHAR(255),
    -- the unique key while the job is queued: no duplicate while one is
    -- pending or running
    active_key VARCHAR(255) UNIQUE,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    INDEX dozen_jobs_claim (state, priority DESC, run_at, id)
);
