package httpapi

import (
	"hash/maphash"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"golang.org/x/time/rate"
)

// RateLimits are requests per minute by kind of caller (docs/design.md §2 step
// 4); 0 turns one off. An API key's own rate limit overrides APIKey.
// Session tokens spend from their parent key's bucket, at its limit, and
// first from one of their own, at Session but at most half the key's.
type RateLimits struct {
	APIKey, Session, Wallet, JWTUser int
	// IP limits requests without credentials (x402 payers, quotes,
	// top-ups) per client address.
	IP int
	// FailedAuth limits the refused guesses of credentials per client
	// address (limitFailedAuth).
	FailedAuth int
	// WalletPerIP limits wallet-signed requests per client address before
	// their signatures are checked: a valid signature of a fresh key
	// writes (its replay record, its account), so a per-wallet limit alone
	// would not bound the writes of one client with many keys.
	WalletPerIP int
}

// perMinute is the limit of a principal's bucket (RateKey), 0 for none:
// for a session token, its parent key's.
func (r RateLimits) perMinute(p *meter.Principal) int {
	if p.RateLimit > 0 {
		return p.RateLimit
	}
	switch p.Kind {
	case meter.PrincipalAPIKey, meter.PrincipalSession:
		return r.APIKey
	case meter.PrincipalWallet:
		return r.Wallet
	case meter.PrincipalUser:
		return r.JWTUser
	}
	return 0
}

// limiter keeps one token bucket (golang.org/x/time/rate) per caller: a
// burst of the per-minute limit, refilled evenly over the minute.
//
// Memory is bounded whatever the number of callers: the table holds at
// most maxEntries buckets. A full shard first drops the buckets that have
// refilled (forgetting a full bucket loses nothing: a new one is full
// too); if every bucket is in use, it drops an eighth of them, chosen
// arbitrarily. A flood of new callers can thus only reset other callers'
// buckets, never grow the process.
type limiter struct {
	seed     maphash.Seed
	perShard int
	shards   [limiterShards]limiterShard
}

const limiterShards = 64

type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// defaultMaxBuckets bounds the limiter: about 20 MB at most.
const defaultMaxBuckets = 100_000

func newLimiter(maxEntries int) *limiter {
	l := &limiter{seed: maphash.MakeSeed(), perShard: max(1, maxEntries/limiterShards)}
	for i := range l.shards {
		l.shards[i].buckets = make(map[string]*rate.Limiter)
	}
	return l
}

// rateState is one request's standing against its limit, for the
// X-RateLimit-* headers.
type rateState struct {
	limit, remaining int
	reset            time.Time     // when the bucket is full again
	retryAfter       time.Duration // > 0: refused, retry after this long
}

// take spends one request of key's perMinute budget.
func (l *limiter) take(key string, perMinute int, now time.Time) rateState {
	sh := &l.shards[maphash.String(l.seed, key)%limiterShards]
	every := time.Minute / time.Duration(perMinute)
	sh.mu.Lock()
	b := sh.buckets[key]
	if b == nil {
		if len(sh.buckets) >= l.perShard {
			sh.evict(now, l.perShard)
		}
		b = rate.NewLimiter(rate.Every(every), perMinute)
		sh.buckets[key] = b
	} else if old := b.Burst(); old != perMinute {
		// The key's limit was changed: a new bucket, as full in
		// proportion as the old one.
		spent := float64(old) - b.TokensAt(now)
		b = rate.NewLimiter(rate.Every(every), perMinute)
		b.ReserveN(now, int(spent*float64(perMinute)/float64(old)))
		sh.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay > 0 {
		r.CancelAt(now)
	}
	tokens := b.TokensAt(now)
	sh.mu.Unlock()

	st := rateState{limit: perMinute, remaining: max(0, int(tokens)), retryAfter: delay}
	st.reset = now.Add(time.Duration((float64(perMinute) - tokens) * float64(every)))
	return st
}

// wait is how long key's bucket needs to hold a whole request again: 0
// if it does, or if key has no bucket. It spends nothing.
func (l *limiter) wait(key []byte, now time.Time) time.Duration {
	sh := &l.shards[maphash.Bytes(l.seed, key)%limiterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.buckets[string(key)] // no allocation: a lookup by the bytes
	if b == nil {
		return 0
	}
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(b.Limit()) * float64(time.Second))
}

// evict makes room in a full shard; the caller holds its lock.
func (sh *limiterShard) evict(now time.Time, capacity int) {
	for k, b := range sh.buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(sh.buckets, k)
		}
	}
	if len(sh.buckets) < capacity {
		return
	}
	drop := max(1, capacity/8)
	for k := range sh.buckets { // map order: arbitrary
		delete(sh.buckets, k)
		if drop--; drop == 0 {
			return
		}
	}
}

// size is the number of buckets held.
func (l *limiter) size() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}

const localRate = "paymeter.rate"

// rateLimit limits the request's principal, or, without one, its client
// IP, and answers 429 rate_limited with Retry-After past the limit. The
// X-RateLimit-* headers are set on the response whatever it is
// (setRateHeaders).
func (s *Server) rateLimit(c *fiber.Ctx) error {
	var key string
	var perMinute int
	if p := principalOf(c); p != nil {
		key, perMinute = p.RateKey(), s.RateLimits.perMinute(p)
		if err := s.limitSession(c, p); err != nil {
			return err
		}
	} else {
		key, perMinute = "ip:"+s.clientKey(c), s.RateLimits.IP
	}
	return s.limitBy(c, s.limiter, key, perMinute)
}

// limitIP limits requests per client IP at perMinute, in a limiter of
// its own (prefix names it among the shared ones): for routes such as
// sign-in, open to anyone.
func (s *Server) limitIP(prefix string, perMinute int) fiber.Handler {
	l := s.newBucketLimiter(prefix)
	return func(c *fiber.Ctx) error { return s.limitBy(c, l, s.clientKey(c), perMinute) }
}

// limitSession spends one request of a session token's own bucket, before
// the key's bucket that all its sessions share: at rate_limits.session,
// and never more than half the key's limit, so that no one session (one
// browser user) can spend its key's whole minute and lock the key and its
// other sessions out (docs/security.md, M2).
func (s *Server) limitSession(c *fiber.Ctx, p *meter.Principal) error {
	if p.Kind != meter.PrincipalSession {
		return nil
	}
	limit := s.RateLimits.Session
	if key := s.RateLimits.perMinute(p); key > 0 && (limit <= 0 || limit > key/2) {
		limit = max(1, key/2)
	}
	return spend(c, s.limiter, "s"+strconv.FormatInt(p.SessionID, 10), limit)
}

func (s *Server) limitBy(c *fiber.Ctx, l bucketLimiter, key string, perMinute int) error {
	if err := spend(c, l, key, perMinute); err != nil {
		return err
	}
	return c.Next()
}

// spend takes one request from key's bucket, or returns 429 rate_limited.
// The X-RateLimit-* headers show the tightest bucket the request spent from.
func spend(c *fiber.Ctx, l bucketLimiter, key string, perMinute int) error {
	if perMinute <= 0 {
		return nil
	}
	st := l.take(key, perMinute, time.Now())
	if prev, ok := c.Locals(localRate).(rateState); !ok || st.retryAfter > 0 || st.remaining <= prev.remaining { // a tie shows the later, wider bucket
		c.Locals(localRate, st)
	}
	if st.retryAfter > 0 {
		secs := int((st.retryAfter + time.Second - 1) / time.Second)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return meter.Errorf(meter.ECodeRateLimited, "rate limit of %d requests per minute reached; retry in %d s", perMinute, secs).
			WithDetail("limit", perMinute).
			WithDetail("retry_after", secs)
	}
	return nil
}

// setRateHeaders writes the X-RateLimit-* headers of a limited request;
// it runs after the route, whose forwarded response replaces the headers
// set before it.
func setRateHeaders(c *fiber.Ctx) {
	st, ok := c.Locals(localRate).(rateState)
	if !ok {
		return
	}
	h := &c.Response().Header
	var buf [20]byte // SetBytesV copies: one buffer serves every header
	h.SetBytesV("X-RateLimit-Limit", strconv.AppendInt(buf[:0], int64(st.limit), 10))
	h.SetBytesV("X-RateLimit-Remaining", strconv.AppendInt(buf[:0], int64(st.remaining), 10))
	h.SetBytesV("X-RateLimit-Reset", strconv.AppendInt(buf[:0], st.reset.Unix(), 10))
	if st.retryAfter > 0 {
		h.SetBytesV(fiber.HeaderRetryAfter, strconv.AppendInt(buf[:0], int64((st.retryAfter+time.Second-1)/time.Second), 10))
	}
}
