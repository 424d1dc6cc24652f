-- dozen-jobs: the queue. A job is `queued` until it is `done` or `dead`;
-- `run_at` is when it may be claimed: its due time, or while a worker holds
-- it, the end of that worker's lease (`lease_owner`). Times are milliseconds
-- since the Unix epoch, from the database's clock.
-- utf8mb4 whatever the database's default (latin1 on many servers would turn
-- a payload's other characters into `?`), compared byte for byte; the keys
-- are VARBINARY, since a unique index on a `_bin` VARCHAR still ignores
-- trailing spaces, and on the default `_ci` collations case too: `A` and `a`
-- would be one key, and the second job dropped as a duplicate.
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
    unique_key VARBINARY(255),
    -- the unique key while the job is queued: no duplicate while one is
    -- pending or running
    active_key VARBINARY(255) UNIQUE,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    INDEX dozen_jobs_claim (state, priority DESC, run_at, id)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
