CREATE TABLE todos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    -- 0 or 1: sqlx's Any driver, which runs the same code on all three
    -- databases, has no boolean type that SQLite and MariaDB map to.
    done INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
