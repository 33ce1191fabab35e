package httpapi

import (
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"golang.org/x/time/rate"
)

// ipLimiter limits requests per client IP on unauthenticated routes, so
// that nobody can mint nonces without bound. Memory is bounded: idle
// entries are swept once the table is large.
type ipLimiter struct {
	perMinute int
	mu        sync.Mutex
	clients   map[string]*ipClient
}

type ipClient struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxTrackedIPs bounds the table; past it, entries idle for a minute go.
const maxTrackedIPs = 100_000

func newIPLimiter(perMinute int) *ipLimiter {
	return &ipLimiter{perMinute: perMinute, clients: make(map[string]*ipClient)}
}

// middleware answers 429 rate_limited, with Retry-After, past the limit,
// and sets X-RateLimit-* on every response it limits.
func (l *ipLimiter) middleware(c *fiber.Ctx) error {
	now := time.Now()
	l.mu.Lock()
	cl := l.clients[c.IP()]
	if cl == nil {
		if len(l.clients) >= maxTrackedIPs {
			for ip, x := range l.clients {
				if now.Sub(x.seen) > time.Minute {
					delete(l.clients, ip)
				}
			}
		}
		cl = &ipClient{lim: rate.NewLimiter(rate.Every(time.Minute/time.Duration(l.perMinute)), l.perMinute)}
		l.clients[string([]byte(c.IP()))] = cl
	}
	cl.seen = now
	r := cl.lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay > 0 {
		r.CancelAt(now)
	}
	remaining := int(cl.lim.TokensAt(now))
	l.mu.Unlock()

	c.Set("X-RateLimit-Limit", strconv.Itoa(l.perMinute))
	c.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, remaining)))
	c.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Minute/time.Duration(l.perMinute)*time.Duration(l.perMinute-max(0, remaining))).Unix(), 10))
	if delay > 0 {
		secs := int((delay + time.Second - 1) / time.Second)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return meter.Errorf(meter.ECodeRateLimited, "too many requests from this address; retry in %d s", secs)
	}
	return c.Next()
}
