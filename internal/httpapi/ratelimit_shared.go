package httpapi

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// bucketLimiter is what spend and limitFailedAuth need of a limiter: the
// in-process limiter (one instance, SQLite) or a SharedRateLimiter behind
// sharedLimiter (every instance on one PostgreSQL database).
type bucketLimiter interface {
	// take spends one request of key's perMinute budget at now.
	take(key string, perMinute int, now time.Time) rateState
	// waitAt is how long key's bucket of perMinute needs to hold a whole
	// request again, spending nothing: 0 if it does or does not exist.
	waitAt(key []byte, perMinute int, now time.Time) time.Duration
}

// waitAt is wait: the in-process bucket knows its own limit.
func (l *limiter) waitAt(key []byte, _ int, now time.Time) time.Duration { return l.wait(key, now) }

// RateState is one request's standing against a bucket: what the
// X-RateLimit-* headers and a 429's Retry-After show.
type RateState struct {
	Limit, Remaining int
	Reset            time.Time     // when the bucket is full again
	RetryAfter       time.Duration // > 0: refused, retry after this long
}

// SharedRateLimiter keeps buckets that every instance of a deployment
// spends from (docs/design.md §2 step 4): a bucket of perMinute requests,
// full at first, refilled at perMinute per minute, with the answers of the
// in-process limiter. Keys arrive namespaced by the server; they are
// attacker-chosen strings (addresses, IPs) and the implementation must
// bound and quote them itself.
type SharedRateLimiter interface {
	// Take spends one request of key's perMinute budget at now, or
	// refuses it (RetryAfter > 0) spending nothing.
	Take(ctx context.Context, key string, perMinute int, now time.Time) (RateState, error)
	// Wait is how long key's bucket of perMinute needs to hold a whole
	// request again, spending nothing: 0 if it does or does not exist.
	Wait(ctx context.Context, key string, perMinute int, now time.Time) (time.Duration, error)
}

// sharedTimeout bounds one call to the shared limiter unless the server
// sets its own (SharedRateTimeout); sharedBackoff is how long the local
// buckets stand in after an error, so that a database that hangs costs
// one request in many that timeout, not every request.
const (
	sharedTimeout = 250 * time.Millisecond
	sharedBackoff = time.Second
)

// sharedLimiter spends from a SharedRateLimiter under a namespace of its
// own. When the shared limiter fails, it fails open to local, the
// in-process buckets (docs/security.md): the limits still hold per
// instance, the error is logged (at most once per sharedBackoff) and
// counted (paymeter_ratelimit_shared_errors_total), and no paying caller
// is refused because of a table that only protects capacity. Money does
// not depend on it: holds are decided by the ledger, which fails closed.
type sharedLimiter struct {
	shared  SharedRateLimiter
	prefix  string
	local   *limiter
	health  *sharedHealth
	timeout time.Duration
}

// sharedHealth is the state the namespaces of one server share: when
// the shared limiter last failed, and the error counter.
type sharedHealth struct {
	logger    *slog.Logger
	errors    prometheus.Counter // nil without metrics
	downUntil atomic.Int64       // Unix ns: use the local buckets until then
}

func (h *sharedHealth) failed(err error, now time.Time) {
	if h.errors != nil {
		h.errors.Inc()
	}
	if prev := h.downUntil.Swap(now.Add(sharedBackoff).UnixNano()); prev < now.UnixNano() && h.logger != nil {
		h.logger.Error("shared rate limiter failed; limiting per instance", "err", err, "for", sharedBackoff)
	}
}

func (h *sharedHealth) down(now time.Time) bool { return now.UnixNano() < h.downUntil.Load() }

func (l *sharedLimiter) take(key string, perMinute int, now time.Time) rateState {
	if !l.health.down(now) {
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		st, err := l.shared.Take(ctx, l.prefix+key, perMinute, now)
		cancel()
		if err == nil {
			return rateState{limit: st.Limit, remaining: st.Remaining, reset: st.Reset, retryAfter: st.RetryAfter}
		}
		l.health.failed(err, now)
	}
	return l.local.take(key, perMinute, now)
}

func (l *sharedLimiter) waitAt(key []byte, perMinute int, now time.Time) time.Duration {
	if !l.health.down(now) {
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		d, err := l.shared.Wait(ctx, l.prefix+string(key), perMinute, now)
		cancel()
		if err == nil {
			return d
		}
		l.health.failed(err, now)
	}
	return l.local.wait(key, now)
}

// newBucketLimiter is the limiter of one namespace: the in-process one,
// or, with a SharedRateLimiter, the shared one under prefix.
func (s *Server) newBucketLimiter(prefix string) bucketLimiter {
	local := newLimiter(defaultMaxBuckets)
	if s.SharedRateLimiter == nil {
		return local
	}
	if s.sharedHealth == nil {
		s.sharedHealth = &sharedHealth{logger: s.Logger}
		if s.Metrics != nil {
			c := prometheus.NewCounter(prometheus.CounterOpts{
				Name: "paymeter_ratelimit_shared_errors_total",
				Help: "Calls to the shared rate limiter that failed; the instance limited by its own buckets instead.",
			})
			s.Metrics.Registry.MustRegister(c)
			s.sharedHealth.errors = c
		}
	}
	timeout := s.SharedRateTimeout
	if timeout <= 0 {
		timeout = sharedTimeout
	}
	return &sharedLimiter{shared: s.SharedRateLimiter, prefix: prefix, local: local, health: s.sharedHealth, timeout: timeout}
}

// LocalRateLimiter is the in-process limiter seen as a SharedRateLimiter:
// the reference a shared implementation's answers are tested against.
type LocalRateLimiter struct{ l *limiter }

// NewLocalRateLimiter is an empty in-process limiter.
func NewLocalRateLimiter() *LocalRateLimiter {
	return &LocalRateLimiter{l: newLimiter(defaultMaxBuckets)}
}

// Take spends one request of key's perMinute budget at now.
func (l *LocalRateLimiter) Take(_ context.Context, key string, perMinute int, now time.Time) (RateState, error) {
	st := l.l.take(key, perMinute, now)
	return RateState{Limit: st.limit, Remaining: st.remaining, Reset: st.reset, RetryAfter: st.retryAfter}, nil
}

// Wait is how long key's bucket needs to hold a whole request again.
func (l *LocalRateLimiter) Wait(_ context.Context, key string, _ int, now time.Time) (time.Duration, error) {
	return l.l.wait([]byte(key), now), nil
}
