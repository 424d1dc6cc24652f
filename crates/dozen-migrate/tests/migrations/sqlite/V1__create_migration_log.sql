CREATE TABLE migration_log (version INTEGER NOT NULL);
INSERT INTO migration_log (version) VALUES (1);
