-- About a second of work inside the migration (SQLite has no sleep).
CREATE TABLE t10 AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) AS n FROM c;
INSERT INTO migration_log (version) VALUES (10);
