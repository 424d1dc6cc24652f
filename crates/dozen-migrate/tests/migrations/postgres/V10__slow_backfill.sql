-- Sleeps one second inside the migration's transaction.
CREATE TABLE t10 (id INTEGER);
SELECT pg_sleep(1);
INSERT INTO migration_log (version) VALUES (10);
