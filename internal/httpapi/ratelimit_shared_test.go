package httpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeShared records the keys it is asked for and fails while failing.
type fakeShared struct {
	mu      sync.Mutex
	keys    []string
	failing bool
	local   *LocalRateLimiter
}

func (f *fakeShared) Take(ctx context.Context, key string, perMinute int, now time.Time) (RateState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	if f.failing {
		return RateState{}, errors.New("connection refused")
	}
	return f.local.Take(ctx, key, perMinute, now)
}

func (f *fakeShared) Wait(ctx context.Context, key string, perMinute int, now time.Time) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, "wait "+key)
	if f.failing {
		return 0, errors.New("connection refused")
	}
	return f.local.Wait(ctx, key, perMinute, now)
}

// Without a shared limiter the server keeps its buckets in process, as
// before; with one, each limiter spends under a namespace of its own.
func TestServer_SharedLimiterNamespaces(t *testing.T) {
	s := &Server{}
	if _, ok := s.newBucketLimiter("r:").(*limiter); !ok {
		t.Fatal("no shared limiter: want the in-process one")
	}
	f := &fakeShared{local: NewLocalRateLimiter()}
	s = &Server{SharedRateLimiter: f}
	now := time.Unix(1_800_000_000, 0)
	r, w := s.newBucketLimiter("r:"), s.newBucketLimiter("w:")
	if st := r.take("k1", 2, now); st.remaining != 1 || st.limit != 2 {
		t.Fatalf("first take: %+v", st)
	}
	if st := w.take("k1", 2, now); st.remaining != 1 {
		t.Fatalf("another namespace's first take: %+v, want a bucket of its own", st)
	}
	r.take("k1", 2, now)
	if st := r.take("k1", 2, now); st.retryAfter != 30*time.Second {
		t.Fatalf("third take: %+v, want refused for 30 s", st)
	}
	if d := r.waitAt([]byte("k1"), 2, now); d != 30*time.Second {
		t.Fatalf("wait %v, want 30s", d)
	}
	if got, want := strings.Join(f.keys, ","), "r:k1,w:k1,r:k1,r:k1,wait r:k1"; got != want {
		t.Fatalf("keys asked %q, want %q", got, want)
	}
}

// When the shared limiter fails, the server fails open to its own
// buckets: requests are still limited, per instance; the error is
// counted and logged once per backoff, and the database is not asked
// again until the backoff ends.
func TestServer_SharedLimiterFailsOpenToLocalBuckets(t *testing.T) {
	var logs bytes.Buffer
	f := &fakeShared{local: NewLocalRateLimiter(), failing: true}
	s := &Server{SharedRateLimiter: f, Metrics: NewMetrics(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	l := s.newBucketLimiter("r:")
	now := time.Unix(1_800_000_000, 0)
	for i, want := range []rateState{
		{limit: 2, remaining: 1, reset: now.Add(30 * time.Second)},
		{limit: 2, remaining: 0, reset: now.Add(time.Minute)},
		{limit: 2, remaining: 0, reset: now.Add(time.Minute), retryAfter: 30 * time.Second},
	} {
		if st := l.take("k", 2, now); st != want {
			t.Fatalf("take %d with the database down: %+v, want %+v", i, st, want)
		}
	}
	if d := l.waitAt([]byte("k"), 2, now); d != 30*time.Second {
		t.Fatalf("wait with the database down: %v, want the local bucket's 30s", d)
	}
	if len(f.keys) != 1 {
		t.Fatalf("shared limiter asked %d times within the backoff, want once", len(f.keys))
	}
	if n := testutil.ToFloat64(s.sharedHealth.errors); n != 1 {
		t.Fatalf("errors counted %v, want 1", n)
	}
	if n := strings.Count(logs.String(), "shared rate limiter failed"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, logs.String())
	}
	// After the backoff the database is asked again; once it answers,
	// its buckets count again.
	f.failing = false
	later := now.Add(sharedBackoff)
	if st := l.take("k", 2, later); st.remaining != 1 || len(f.keys) != 2 {
		t.Fatalf("after the backoff: %+v, asked %d times; want the shared bucket's answer", st, len(f.keys))
	}
}
