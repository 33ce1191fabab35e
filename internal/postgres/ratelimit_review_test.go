package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

// A flood of concurrent requests (one attacker, one bucket key) makes the
// shared limiter's calls wait for one of the pool's few connections
// (pgxpool's default: max(4, NumCPU)), shared with the ledger, past
// httpapi's sharedTimeout (250 ms). Every such error switches the whole
// server (all namespaces, sharedHealth) to per-instance buckets for a
// second: N instances then allow N times the limit, and the attacker can
// keep it so.
func TestReview_RateLimiterFailsOpenUnderFlood(t *testing.T) {
	t.Skip("KNOWN, docs/deploy.md: a flood that outruns the database makes the shared limiter time out, and each instance then limits with its own buckets (at most N × the limit) until it answers again")
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var stores []*postgres.Store
	for range 2 {
		s, err := postgres.OpenStore(ctx, dsn, quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	t.Logf("pool max conns per instance: %d", stores[0].Pool().Config().MaxConns)
	var calls, timeouts atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(1500 * time.Millisecond)
	for _, s := range stores {
		rl := s.RateLimiter()
		for range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					c, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
					_, err := rl.Take(c, "failed-auth/ip:203.0.113.7", 60, time.Now())
					cancel()
					calls.Add(1)
					if err != nil {
						timeouts.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	t.Logf("%d calls, %d failed (each one a second of per-instance limits)", calls.Load(), timeouts.Load())
	if timeouts.Load() > 0 {
		t.Fatalf("%d of %d shared-limiter calls passed the 250 ms timeout: the server fails open", timeouts.Load(), calls.Load())
	}
}
