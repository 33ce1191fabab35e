package httpapi

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"golang.org/x/time/rate"
)

func TestLimiter_TakeCountsDownAndRefills(t *testing.T) {
	l := newLimiter(1000)
	now := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		st := l.take("k", 3, now)
		if st.retryAfter != 0 || st.limit != 3 || st.remaining != 2-i {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", i, st, 2-i)
		}
	}
	st := l.take("k", 3, now)
	// 3 per minute: one request refills in 20 s; the bucket is full 60 s on.
	if st.retryAfter != 20*time.Second || st.remaining != 0 || !st.reset.Equal(now.Add(time.Minute)) {
		t.Fatalf("fourth request: %+v, want refused for 20 s, reset in 60 s", st)
	}
	// A refused request spends nothing: 20 s later exactly one fits.
	if st := l.take("k", 3, now.Add(20*time.Second)); st.retryAfter != 0 || st.remaining != 0 {
		t.Fatalf("after 20 s: %+v, want allowed with 0 remaining", st)
	}
	// Another key has its own bucket, and a changed limit applies at once.
	if st := l.take("other", 3, now); st.retryAfter != 0 || st.remaining != 2 {
		t.Fatalf("other key: %+v", st)
	}
	// A raised limit applies at once, the bucket as full in proportion:
	// 2.95 of 3 spent is 98 of 100 spent.
	if st := l.take("k", 100, now.Add(21*time.Second)); st.limit != 100 || st.retryAfter != 0 || st.remaining != 1 {
		t.Fatalf("raised limit: %+v, want allowed under 100", st)
	}
}

// A million distinct callers cannot grow the table past its bound, and the
// heap stays small.
func TestLimiter_MemoryBoundedWithAMillionCallers(t *testing.T) {
	const maxBuckets = 10_000
	l := newLimiter(maxBuckets)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	now := time.Unix(1_800_000_000, 0)
	callers := 1_000_000
	if raceEnabled {
		callers = 200_000 // still 20 times the bound
	}
	for i := range callers {
		// Every caller spends its bucket: none is idle, so eviction must
		// drop buckets in use.
		l.take("caller-"+strconv.Itoa(i), 1, now)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := l.size(); n > maxBuckets {
		t.Fatalf("%d buckets held, want at most %d", n, maxBuckets)
	}
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 16<<20 {
		t.Fatalf("heap grew %d MB for a table of %d buckets, want under 16 MB", grown>>20, maxBuckets)
	}
}

// A full shard drops refilled buckets, which loses nothing, before any in use.
func TestLimiter_EvictsIdleBucketsFirst(t *testing.T) {
	l := newLimiter(4 * limiterShards)
	now := time.Unix(1_800_000_000, 0)
	sh := &l.shards[0]
	sh.buckets = map[string]*rate.Limiter{}
	for _, k := range []string{"idle1", "idle2", "idle3", "busy"} {
		sh.buckets[k] = rate.NewLimiter(rate.Every(time.Second), 10)
	}
	sh.buckets["busy"].ReserveN(now, 5)
	sh.evict(now, 4)
	if _, ok := sh.buckets["busy"]; !ok || len(sh.buckets) != 1 {
		t.Fatalf("after eviction: %d buckets (busy kept: %v), want only the busy one", len(sh.buckets), ok)
	}
}

func TestRateLimits_PerKindAndOverride(t *testing.T) {
	r := RateLimits{APIKey: 1, Session: 2, Wallet: 3, JWTUser: 4, IP: 5}
	for _, tt := range []struct {
		p    meter.Principal
		want int
	}{
		{meter.Principal{Kind: meter.PrincipalAPIKey}, 1},
		{meter.Principal{Kind: meter.PrincipalAPIKey, RateLimit: 9}, 9},
		// A session spends from its parent key's bucket, at the key's limit.
		{meter.Principal{Kind: meter.PrincipalSession}, 1},
		{meter.Principal{Kind: meter.PrincipalSession, RateLimit: 9}, 9},
		{meter.Principal{Kind: meter.PrincipalWallet}, 3},
		{meter.Principal{Kind: meter.PrincipalUser}, 4},
	} {
		if got := r.perMinute(&tt.p); got != tt.want {
			t.Errorf("%s (override %d): %d, want %d", tt.p.Kind, tt.p.RateLimit, got, tt.want)
		}
	}
	// Rate keys never collide across kinds, but a session's is its key's.
	keys := map[string]bool{}
	for _, p := range []meter.Principal{{Kind: meter.PrincipalAPIKey, KeyID: 1, AccountID: 1}, {Kind: meter.PrincipalSession, KeyID: 2, SessionID: 1, AccountID: 1},
		{Kind: meter.PrincipalWallet, AccountID: 1}, {Kind: meter.PrincipalUser, AccountID: 1, Subject: "user:1"}} {
		keys[p.RateKey()] = true
	}
	if len(keys) != 4 {
		t.Fatalf("rate keys %v, want 4 distinct", keys)
	}
	parent, session := meter.Principal{Kind: meter.PrincipalAPIKey, KeyID: 7}, meter.Principal{Kind: meter.PrincipalSession, KeyID: 7, SessionID: 3}
	if parent.RateKey() != session.RateKey() {
		t.Fatalf("session rate key %q, want its parent key's %q", session.RateKey(), parent.RateKey())
	}
}

// BenchmarkLimiterTake is the cost rate limiting adds to each request,
// from many goroutines over a thousand callers.
func BenchmarkLimiterTake(b *testing.B) {
	l := newLimiter(defaultMaxBuckets)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.take(keys[i%len(keys)], 1_000_000, time.Now())
			i++
		}
	})
}
