-- The rate limits' buckets, shared by every instance on this database
-- (docs/design.md §2 step 4): one row per bucket key (a principal, a
-- client address, under the limiter's namespace), holding its theoretical
-- arrival time (GCRA) in Unix nanoseconds: the time the bucket is full
-- again. A bucket whose tat has passed is full, so those rows are purged.
-- Written with synchronous_commit off: a bucket lost in a crash only
-- refills early.
CREATE TABLE rate_buckets (
    key TEXT   PRIMARY KEY CHECK (octet_length(key) <= 128),
    tat BIGINT NOT NULL
);
