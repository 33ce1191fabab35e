package postgres

import "github.com/jackc/pgx/v5"

// PurgeRateBuckets is purgeRateBuckets, for the tests of the rate limiter.
var PurgeRateBuckets = purgeRateBuckets

// NewRateLimiterOn is a rate limiter that runs in tx, to see what its
// statements leave in their transaction.
func NewRateLimiterOn(tx pgx.Tx) *RateLimiter { return &RateLimiter{db: tx} }
