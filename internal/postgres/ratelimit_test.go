package postgres_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paymeter/paymeter/internal/httpapi"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

var rateEpoch = time.Unix(1_800_000_000, 0)

type take struct {
	at        time.Duration // after rateEpoch
	key       string
	perMinute int
}

func asState(b postgres.Bucket) httpapi.RateState {
	return httpapi.RateState{Limit: b.Limit, Remaining: b.Remaining, Reset: b.Reset, RetryAfter: b.RetryAfter}
}

// The shared limiter answers what the in-process one answers, take for
// take: the same limit, remaining, reset and retry-after, and the same
// waits.
func TestRateLimiter_AnswersAsInProcess(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := time.Second
	for _, tt := range []struct {
		name  string
		takes []take
	}{
		{"burst then refused", []take{{0, "a", 3}, {0, "a", 3}, {0, "a", 3}, {0, "a", 3}, {0, "a", 3}}},
		{"refill after time passes", []take{{0, "a", 3}, {0, "a", 3}, {0, "a", 3}, {0, "a", 3},
			{20 * s, "a", 3}, {20 * s, "a", 3}, {50 * s, "a", 3}, {3 * time.Minute, "a", 3}, {3 * time.Minute, "a", 3}}},
		{"retry-after shrinks", []take{{0, "a", 2}, {0, "a", 2}, {10 * s, "a", 2}, {29*s + 500*time.Millisecond, "a", 2}, {30 * s, "a", 2}, {31 * s, "a", 2}}},
		{"a raised limit", []take{{0, "a", 60}, {0, "a", 60}, {0, "a", 60}, {0, "a", 60}, {0, "a", 120}, {s, "a", 120}}},
		{"a lowered limit", []take{{0, "a", 60}, {0, "a", 60}, {0, "a", 60}, {0, "a", 60}, {0, "a", 30}, {0, "a", 30}}},
		{"an interval not a whole ms", []take{{0, "a", 7}, {0, "a", 7}, {0, "a", 7}, {0, "a", 7}, {0, "a", 7}, {0, "a", 7}, {0, "a", 7}, {0, "a", 7},
			{9 * s, "a", 7}, {9 * s, "a", 7}, {17*s + 142857142, "a", 7}}},
		{"keys apart", []take{{0, "a", 1}, {0, "b", 1}, {0, "a", 1}, {0, "b", 1}, {60 * s, "a", 1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			shared, local := postgres.NewRateLimiter(pool), httpapi.NewLocalRateLimiter()
			prefix := strings.ReplaceAll(tt.name, " ", "-") + ":"
			for i, tk := range tt.takes {
				now := rateEpoch.Add(tk.at)
				want, _ := local.Take(ctx, tk.key, tk.perMinute, now)
				b, err := shared.Take(ctx, prefix+tk.key, tk.perMinute, now)
				if err != nil {
					t.Fatal(err)
				}
				if got := asState(b); !sameState(got, want) {
					t.Errorf("take %d (%v, %s, %d/min): shared %+v, in-process %+v", i, tk.at, tk.key, tk.perMinute, got, want)
				}
				wantWait, _ := local.Wait(ctx, tk.key, tk.perMinute, now)
				gotWait, err := shared.Wait(ctx, prefix+tk.key, tk.perMinute, now)
				if err != nil || !sameWait(gotWait, wantWait) {
					t.Errorf("wait after take %d: shared %v %v, in-process %v", i, gotWait, err, wantWait)
				}
			}
		})
	}
}

// sameState is equality, but for the in-process limiter's float
// rounding of waits (x/time/rate counts tokens in float64): within 1 µs,
// and the same Retry-After in whole seconds.
func sameState(a, b httpapi.RateState) bool {
	return a.Limit == b.Limit && a.Remaining == b.Remaining && a.Reset.Equal(b.Reset) && sameWait(a.RetryAfter, b.RetryAfter)
}

func sameWait(a, b time.Duration) bool {
	ceil := func(d time.Duration) time.Duration { return (d + time.Second - 1) / time.Second }
	return (a-b).Abs() <= time.Microsecond && ceil(a) == ceil(b)
}

// Four instances (four pools, four limiters) on one database share one
// bucket: 200 concurrent requests against 60 per minute, spread over
// them, are allowed exactly 60 times.
func TestRateLimiter_SharedAcrossInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	var limiters []*postgres.RateLimiter
	for range 4 {
		limiters = append(limiters, postgres.NewRateLimiter(mustOpen(t, dsn).Pool()))
	}
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := limiters[i%4].Take(context.Background(), "k:1", 60, rateEpoch)
			switch {
			case err != nil:
				t.Error(err)
			case b.RetryAfter > 0:
				// Whatever snapshot a refusal read: the full-spent
				// bucket's answer, a token back in one interval.
				if b.RetryAfter != time.Second || b.Remaining != 0 || !b.Reset.Equal(rateEpoch.Add(time.Minute)) {
					t.Errorf("refused: %+v, want retry in 1s, 0 remaining, full at +60s", b)
				}
				refused.Add(1)
			default:
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 60 || refused.Load() != 140 {
		t.Fatalf("allowed %d, refused %d; want 60 and 140", allowed.Load(), refused.Load())
	}
	// The 61st, from any instance, waits one interval.
	b, err := limiters[3].Take(context.Background(), "k:1", 60, rateEpoch)
	if err != nil || b.Remaining != 0 || b.RetryAfter != time.Second || !b.Reset.Equal(rateEpoch.Add(time.Minute)) {
		t.Fatalf("61st take: %+v %v, want 0 remaining, retry in 1s, full at +60s", b, err)
	}
	// Another key is a bucket of its own.
	b, err = limiters[0].Take(context.Background(), "k:2", 60, rateEpoch)
	if err != nil || b.Remaining != 59 || b.RetryAfter != 0 {
		t.Fatalf("another key: %+v %v, want 59 remaining", b, err)
	}
}

// Keys are attacker-chosen: a huge one, or one PostgreSQL's TEXT cannot
// hold (NUL, invalid UTF-8), is stored as its hash, keeps a bucket of its
// own, and is never confused with a key that shares its first bytes.
func TestRateLimiter_HostileKeys(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	l := postgres.NewRateLimiter(pool)
	huge := "ip:" + strings.Repeat("x", 10_000)
	for _, tt := range []struct {
		key       string
		remaining int
	}{
		{huge, 1}, {huge, 0}, {huge + "y", 1}, {"nul\x00", 1}, {"bad\xff", 1}, {"bad\xff", 0}, {"#" + strings.Repeat("0", 64), 1}, {"'; DROP TABLE rate_buckets; --", 1},
	} {
		b, err := l.Take(ctx, tt.key, 2, rateEpoch)
		if err != nil || b.Remaining != tt.remaining || b.RetryAfter != 0 {
			t.Fatalf("key %.20q: %+v %v, want %d remaining", tt.key, b, err, tt.remaining)
		}
	}
	var n, longest int
	if err := pool.QueryRow(ctx, `SELECT count(*), max(octet_length(key)) FROM rate_buckets`).Scan(&n, &longest); err != nil {
		t.Fatal(err)
	}
	if n != 6 || longest != 65 {
		t.Fatalf("%d buckets, longest key %d bytes; want 6 and 65 (# and a SHA-256 in hex)", n, longest)
	}
	if b, err := l.Take(ctx, huge, 2, rateEpoch); err != nil || b.RetryAfter != 30*time.Second {
		t.Fatalf("huge key's third take: %+v %v, want refused for 30s", b, err)
	}
}

// The purge deletes the buckets that are full again, and only those.
func TestRateLimiter_PurgeDropsFullBuckets(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	l := postgres.NewRateLimiter(pool)
	for _, k := range []string{"a", "b"} {
		if _, err := l.Take(ctx, k, 60, rateEpoch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Take(ctx, "b", 60, rateEpoch.Add(500*time.Millisecond)); err != nil { // b full at +2s
		t.Fatal(err)
	}
	if err := postgres.PurgeRateBuckets(ctx, pool, rateEpoch.Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var keys string
	if err := pool.QueryRow(ctx, `SELECT string_agg(key, ',' ORDER BY key) FROM rate_buckets`).Scan(&keys); err != nil || keys != "b" {
		t.Fatalf("buckets left %q %v, want only b", keys, err)
	}
}

// A database that does not answer is an error, promptly, never a panic
// or an answer (the server then limits per instance: httpapi's tests).
func TestRateLimiter_DatabaseDown(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	l := postgres.NewRateLimiter(pool)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if b, err := l.Take(ctx, "k", 60, rateEpoch); err == nil || b != (postgres.Bucket{}) {
		t.Fatalf("take with the database down: %+v %v, want an error and no answer", b, err)
	}
	if d, err := l.Wait(ctx, "k", 60, rateEpoch); err == nil || d != 0 {
		t.Fatalf("wait with the database down: %v %v, want an error", d, err)
	}
}

// A take turns synchronous_commit off for its own transaction only (SET
// LOCAL's effect): inside the transaction it ran in, off; after, as it was.
func TestRateLimiter_SynchronousCommitOffLocally(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewRateLimiterOn(tx).Take(ctx, "k", 60, rateEpoch); err != nil {
		t.Fatal(err)
	}
	var inside, after string
	if err := tx.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&inside); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if inside != "off" || after != "on" {
		t.Fatalf("synchronous_commit %q in the take's transaction, %q after; want off and on", inside, after)
	}
}
