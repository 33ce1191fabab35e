package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// Four serve processes on one database share one bucket per key: 200
// concurrent requests of one key at 60 per minute, spread over them, are
// served 60 times in total (not 60 per instance, 240), the others refused
// 429 rate_limited with a Retry-After; the headers show the one bucket.
func TestInstances_RateLimitHoldsInTotal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four processes")
	}
	dsn := pgtest.DSN(t)
	up := newFixtureUpstream(t)
	mustCLI(t, "apps", "create", "--name", "acme", "--db", dsn)
	mustCLI(t, "credits", "grant", "--db", dsn, "--account", "1", "--amount", "10", "--ref", "seed")
	key := keyPattern.FindString(mustCLI(t, "keys", "create", "--db", dsn, "--app", "1", "--name", "limited"))
	warm := keyPattern.FindString(mustCLI(t, "keys", "create", "--db", dsn, "--app", "1", "--name", "warm-up"))
	ins := startInstances(t, 4, dsn, up.URL(), "PAYMETER_RATE_LIMITS_API_KEY=60")
	for _, in := range ins { // connections open, caches warm, the limited key's bucket untouched
		if status, _, b, err := postTo(in.url, warm, helloChat); err != nil || status != http.StatusOK {
			t.Fatalf("warm-up: %d %v %s", status, err, b)
		}
	}

	var served, limited atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, h, b, err := postTo(ins[i%len(ins)].url, key, helloChat)
			switch {
			case err == nil && status == http.StatusOK && h.Get("X-RateLimit-Limit") == "60":
				served.Add(1)
			case err == nil && status == http.StatusTooManyRequests && strings.Contains(string(b), `"rate_limited"`) &&
				h.Get("Retry-After") == "1" && h.Get("X-RateLimit-Remaining") == "0":
				limited.Add(1)
			default:
				t.Errorf("request %d: %d %v %v %s", i, status, err, h, b)
			}
		}()
	}
	wg.Wait()
	// The bucket refills one request a second: the burst is exact while
	// the 200 are answered within that second.
	took := time.Since(start)
	if served.Load() != 60 || limited.Load() != 140 {
		t.Fatalf("served %d, limited %d in %s; want 60 and 140", served.Load(), limited.Load(), took)
	}
}

// The shared limiter is PostgreSQL's on a PostgreSQL store, and none
// (the in-process buckets) on SQLite.
func TestSharedRateLimiter_ByEngine(t *testing.T) {
	lite, err := sqlite.OpenStore(t.TempDir()+"/paymeter.db", discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if l := sharedRateLimiter(lite); l != nil {
		t.Fatalf("SQLite: shared limiter %T, want none", l)
	}
	pg, err := postgres.OpenStore(context.Background(), pgtest.DSN(t), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	l := sharedRateLimiter(pg)
	if l == nil {
		t.Fatal("PostgreSQL: no shared limiter")
	}
	now := time.Unix(1_800_000_000, 0)
	ctx := context.Background()
	if st, err := l.Take(ctx, "r:k", 1, now); err != nil || st.Limit != 1 || st.Remaining != 0 || st.RetryAfter != 0 || !st.Reset.Equal(now.Add(time.Minute)) {
		t.Fatalf("first take: %+v %v", st, err)
	}
	if st, err := l.Take(ctx, "r:k", 1, now); err != nil || st.RetryAfter != time.Minute {
		t.Fatalf("second take: %+v %v, want refused for a minute", st, err)
	}
	if d, err := l.Wait(ctx, "r:k", 1, now.Add(15*time.Second)); err != nil || d != 45*time.Second {
		t.Fatalf("wait: %v %v, want 45s", d, err)
	}
}

// Guessed credentials are limited per client address across instances
// too: 8 guesses per minute allowed in total over four processes, then
// every instance refuses the address before checking a credential.
func TestInstances_FailedAuthLimitedInTotal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four processes")
	}
	dsn := pgtest.DSN(t)
	up := newFixtureUpstream(t)
	ins := startInstances(t, 4, dsn, up.URL(), "PAYMETER_RATE_LIMITS_FAILED_AUTH_PER_IP=8")
	guess := "pm_live_" + strings.Repeat("a", 40)
	for i := range 8 {
		status, _, b, err := postTo(ins[i%len(ins)].url, guess, helloChat)
		if err != nil || status != http.StatusUnauthorized || !strings.Contains(string(b), `"invalid_api_key"`) {
			t.Fatalf("guess %d: %d %v %s, want 401 invalid_api_key", i, status, err, b)
		}
	}
	for i, in := range ins {
		status, h, b, err := postTo(in.url, guess, helloChat)
		if err != nil || status != http.StatusTooManyRequests || !strings.Contains(string(b), `"rate_limited"`) || h.Get("Retry-After") == "" {
			t.Fatalf("instance %d after 8 guesses in total: %d %v %v %s, want 429 rate_limited", i, status, err, h, b)
		}
	}
}

// When the shared buckets fail (here their table is gone) while the
// ledger still answers, serve fails open to each instance's own buckets:
// paid requests are served, still limited per instance, the error logged
// once per second and counted in paymeter_ratelimit_shared_errors_total;
// once the table is back, its buckets count again.
func TestServeOnPostgres_RateLimitFailsOpenPerInstance(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.Database = pgtest.DSN(t)
	cfg.RateLimits.APIKey = 3
	logs := &syncBuffer{}
	m := MustRunMain(t, cfg, func(m *Main) { m.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	pool := m.Ledger.(*postgres.Store).Pool()
	if _, err := pool.Exec(context.Background(), `ALTER TABLE rate_buckets RENAME TO rate_buckets_away`); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
		resp := post(t, m, "/v1/chat/completions", key, helloChat)
		if readAll(t, resp); resp.StatusCode != want || resp.Header.Get("X-RateLimit-Limit") != "3" {
			t.Fatalf("request %d with the buckets' table gone: %d (limit %q), want %d", i, resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"), want)
		}
	}
	if n := sharedErrors(t, m); n != 1 {
		t.Fatalf("shared limiter errors counted: %v, want 1 (then a second of local buckets)", n)
	}
	if n := strings.Count(logs.String(), "shared rate limiter failed"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, logs.String())
	}
	if _, err := pool.Exec(context.Background(), `ALTER TABLE rate_buckets_away RENAME TO rate_buckets`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the backoff
	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	if readAll(t, resp); resp.StatusCode != http.StatusOK || resp.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("the table back: %d, remaining %q; want 200 and the shared bucket's 2", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM rate_buckets`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d shared buckets %v, want the key's one", n, err)
	}
}

func sharedErrors(t *testing.T, m *Main) float64 {
	t.Helper()
	families, err := m.Server.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "paymeter_ratelimit_shared_errors_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no paymeter_ratelimit_shared_errors_total series")
	return 0
}
