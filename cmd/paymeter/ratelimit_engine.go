package main

import (
	"context"
	"time"

	"github.com/paymeter/paymeter/internal/httpapi"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/postgres"
)

// sharedRateLimiter is the rate limiter every instance on store's
// database spends from: PostgreSQL's rate_buckets, so that a limit of 60
// per minute holds in total across instances rather than per instance.
// It is nil on SQLite, whose one instance keeps its buckets in memory.
func sharedRateLimiter(store meter.Store) httpapi.SharedRateLimiter {
	pg, ok := store.(interface{ RateLimiter() *postgres.RateLimiter })
	if !ok {
		return nil
	}
	return pgRateLimiter{pg.RateLimiter()}
}

// pgRateLimiter is postgres.RateLimiter seen as httpapi's
// SharedRateLimiter (the postgres package does not import httpapi).
type pgRateLimiter struct{ l *postgres.RateLimiter }

func (p pgRateLimiter) Take(ctx context.Context, key string, perMinute int, now time.Time) (httpapi.RateState, error) {
	b, err := p.l.Take(ctx, key, perMinute, now)
	return httpapi.RateState{Limit: b.Limit, Remaining: b.Remaining, Reset: b.Reset, RetryAfter: b.RetryAfter}, err
}

func (p pgRateLimiter) Wait(ctx context.Context, key string, perMinute int, now time.Time) (time.Duration, error) {
	return p.l.Wait(ctx, key, perMinute, now)
}
