// Package postgres is paymeter's PostgreSQL engine, for more than one
// paymeter instance on one database (docs/design.md). This part opens the
// database and keeps its schema: embedded numbered migrations that mirror
// internal/sqlite's one for one (the same number has the same tables and
// meaning on both engines), applied exactly once however many instances
// start at the same time.
//
// Money is BIGINT nano-credits, as meter.Amount is an int64; times are
// BIGINT Unix milliseconds, as in SQLite (but rate_buckets.tat: Unix
// nanoseconds, the in-process rate limiter's resolution).
package postgres
