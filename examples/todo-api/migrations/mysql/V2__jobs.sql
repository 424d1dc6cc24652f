-- A work queue with leases: a claimed job is invisible to other workers until
-- lease_until passes; a live worker extends it, a dead one lets it lapse.
CREATE TABLE jobs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind VARCHAR(64) NOT NULL,
    todo_id BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner VARCHAR(128),
    lease_until BIGINT,
    done_at BIGINT,
    created_at BIGINT NOT NULL,
    INDEX jobs_pending (done_at, lease_until, id)
);
-- The effect of a reminder job, keyed so a second delivery changes nothing.
CREATE TABLE reminders (
    todo_id BIGINT NOT NULL PRIMARY KEY,
    sent_at BIGINT NOT NULL,
    deliveries BIGINT NOT NULL DEFAULT 1
);
