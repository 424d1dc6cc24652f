-- The reminder jobs move to dozen-jobs' queue (V3): the pending ones are
-- carried over, then the app's own work queue goes.
INSERT INTO dozen_jobs (name, payload, state, priority, attempts, max_attempts, run_at, created_at)
SELECT 'reminder', '{"todo_id":' || todo_id || '}', 'queued', 0, 0, 20, created_at, created_at
FROM jobs WHERE done_at IS NULL;
DROP TABLE jobs;
