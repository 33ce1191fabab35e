-- The rate limits' buckets of the PostgreSQL engine, shared by every
-- instance on one database (docs/design.md §2 step 4): one row per bucket
-- key, holding its theoretical arrival time (GCRA) in Unix nanoseconds.
-- SQLite does not use this table: one instance keeps its buckets in
-- memory. It is here so that migration 15 means the same on both engines.
CREATE TABLE rate_buckets (
    key TEXT    PRIMARY KEY CHECK (length(CAST(key AS BLOB)) <= 128),
    tat INTEGER NOT NULL
) WITHOUT ROWID;
