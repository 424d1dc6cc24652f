-- Two DDL statements around a one-second sleep: MariaDB commits the first
-- before the second runs, so a kill in between leaves it half applied.
CREATE TABLE t10a (id INTEGER);
DO SLEEP(1);
CREATE TABLE t10b (id INTEGER);
INSERT INTO migration_log (version) VALUES (10);
