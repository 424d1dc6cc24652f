CREATE TABLE todos (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    title TEXT NOT NULL,
    -- 0 or 1: sqlx's Any driver, which runs the same code on all three
    -- databases, has no boolean type that SQLite and MariaDB map to.
    done BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
