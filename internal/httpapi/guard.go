package httpapi

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
)

// refuseEncodedBody answers 415 unsupported_content_encoding to a request
// whose body is sent with a Content-Encoding other than identity. fiber's
// Ctx.Body() would otherwise inflate gzip, deflate and br, stacked, with
// no limit on the output, before any credential is checked: one 1 MB
// request could take gigabytes (docs/security.md). The header is then
// deleted, so that Body() has nothing it could decode, on any route.
func refuseEncodedBody(c *fiber.Ctx) error {
	h := &c.Request().Header
	var encoding []byte
	h.VisitAll(func(k, v []byte) {
		if encoding == nil && bytes.EqualFold(k, contentEncoding) && !isIdentity(v) {
			encoding = v
		}
	})
	if encoding != nil {
		return meter.Errorf(meter.ECodeUnsupportedEncoding,
			"request bodies are not decompressed: send the body uncompressed, without Content-Encoding").
			WithDetail("content_encoding", truncate(string(encoding), 64))
	}
	h.Del(fiber.HeaderContentEncoding)
	return c.Next()
}

var contentEncoding = []byte(fiber.HeaderContentEncoding)

// isIdentity reports whether a Content-Encoding value names no coding:
// empty, or identity only.
func isIdentity(v []byte) bool {
	for _, coding := range bytes.Split(v, []byte(",")) {
		if coding = bytes.TrimSpace(coding); len(coding) > 0 && !bytes.EqualFold(coding, []byte("identity")) {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// recoverPanic turns a panic in a route into 500 internal, with the
// request id, and logs it with its stack; the process keeps serving.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.Logger.LogAttrs(c.UserContext(), slog.LevelError, "panic serving request",
				slog.String("request_id", requestID(c)), slog.String("panic", fmt.Sprint(r)),
				slog.String("stack", string(debug.Stack())))
			err = &meter.Error{Code: meter.ECodeInternal, Message: "internal error", Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	return c.Next()
}

// inFlightWait is how long a request waits for an upstream slot before it
// is refused: long enough to ride out a burst, short enough that a client
// is told at once to come back when the proxy is full.
const inFlightWait = 100 * time.Millisecond

const localInFlight = "paymeter.in_flight"

// inFlightSlot is a request's place among those forwarded upstream.
type inFlightSlot struct {
	slots    chan struct{}
	owners   *inFlightOwners
	owner    inFlightOwner
	released atomic.Bool
	kept     bool // handed to the response body stream, released when it closes
}

// done frees the slot, once.
func (sl *inFlightSlot) done() {
	if sl.released.CompareAndSwap(false, true) {
		sl.owners.release(sl.owner)
		<-sl.slots
	}
}

// inFlightOwner is who holds slots: the principal that pays (its API key,
// with all its sessions; its wallet; its JWT user) or, without one (x402
// payers), the client's address. Comparable, so counting allocates nothing.
type inFlightOwner struct {
	kind byte
	id   int64
	sub  string
	ip   netip.Addr
}

func (s *Server) inFlightOwner(c *fiber.Ctx) inFlightOwner {
	p := principalOf(c)
	switch {
	case p == nil:
		a := s.clientIP(c)
		if a.Is6() {
			pfx, _ := a.Prefix(64)
			a = pfx.Addr()
		}
		return inFlightOwner{kind: 'i', ip: a}
	case p.Kind == meter.PrincipalAPIKey || p.Kind == meter.PrincipalSession:
		return inFlightOwner{kind: 'k', id: p.KeyID}
	case p.Kind == meter.PrincipalUser:
		return inFlightOwner{kind: 'u', id: p.AccountID, sub: p.Subject}
	}
	return inFlightOwner{kind: 'w', id: p.AccountID}
}

// inFlightOwners counts the slots each owner holds, so that no one owner
// takes them all (MaxInFlightPerOwner); nil counts nothing.
type inFlightOwners struct {
	max int
	mu  sync.Mutex
	n   map[inFlightOwner]int
}

func (o *inFlightOwners) acquire(k inFlightOwner) bool {
	if o == nil {
		return true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n[k] >= o.max {
		return false
	}
	o.n[k]++
	return true
}

func (o *inFlightOwners) release(k inFlightOwner) {
	if o == nil {
		return
	}
	o.mu.Lock()
	if o.n[k]--; o.n[k] <= 0 {
		delete(o.n, k)
	}
	o.mu.Unlock()
}

// limitInFlight bounds the requests being forwarded upstream at once
// (MaxInFlight). A request that finds no slot within inFlightWait is
// answered 503 overloaded, before any hold or payment. A stream keeps its
// slot until it ends (keepInFlight).
func (s *Server) limitInFlight(c *fiber.Ctx) error {
	if s.inFlight == nil {
		return c.Next()
	}
	owner := s.inFlightOwner(c)
	if !s.inFlightOwners.acquire(owner) {
		c.Set(fiber.HeaderRetryAfter, "1")
		return meter.Errorf(meter.ECodeOverloaded, "this credential has as many requests in flight as one may (%d); retry in 1 s", s.inFlightOwners.max).
			WithDetail("retry_after", 1)
	}
	select {
	case s.inFlight <- struct{}{}:
	default:
		t := time.NewTimer(inFlightWait)
		select {
		case s.inFlight <- struct{}{}:
			t.Stop()
		case <-t.C:
			s.inFlightOwners.release(owner)
			c.Set(fiber.HeaderRetryAfter, "1")
			return meter.Errorf(meter.ECodeOverloaded, "the proxy is serving as many requests as it may (%d); retry in 1 s", cap(s.inFlight)).
				WithDetail("retry_after", 1)
		}
	}
	sl := &inFlightSlot{slots: s.inFlight, owners: s.inFlightOwners, owner: owner}
	c.Locals(localInFlight, sl)
	defer func() {
		if !sl.kept {
			sl.done()
		}
	}()
	return c.Next()
}

// keepInFlight hands the request's upstream slot over to its streamed
// response: the returned func, called when the stream closes, frees it.
func keepInFlight(c *fiber.Ctx) func() {
	sl, ok := c.Locals(localInFlight).(*inFlightSlot)
	if !ok {
		return func() {}
	}
	sl.kept = true
	return sl.done
}

// guessed are the refusals a guessed credential gets. A request with no
// credential, a replayed or expired signature, an expired or revoked key
// (which is real) and an upstream's own 401 are not guesses, and count
// for nothing: a legitimate client retrying must not lock out its address.
var guessed = map[string]bool{
	meter.ECodeInvalidAPIKey:    true,
	meter.ECodeInvalidSignature: true,
	meter.ECodeInvalidToken:     true,
	meter.ECodeInvalidNonce:     true,
}

// limitFailedAuth slows a client that guesses credentials: every refusal
// of a guessed credential (guessed) answered to its IP spends a token of a bucket of FailedAuth per minute,
// and while the bucket is empty the IP's requests are refused 429 before
// any credential is checked, so a guess cannot even be tested.
func (s *Server) limitFailedAuth(c *fiber.Ctx) error {
	perMinute := s.RateLimits.FailedAuth
	if perMinute <= 0 {
		return c.Next()
	}
	var buf [48]byte // an IPv6 /64 prefix fits: every request checks, few fail
	key := appendIPKey(buf[:0], s.clientIP(c))
	if wait := s.failedAuth.waitAt(key, perMinute, time.Now()); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return meter.Errorf(meter.ECodeRateLimited, "too many failed authentications from this address; retry in %d s", secs).
			WithDetail("limit", perMinute).
			WithDetail("retry_after", secs)
	}
	err := c.Next()
	if guessed[meter.ErrorCode(err)] {
		s.failedAuth.take(string(key), perMinute, time.Now())
	}
	return err
}
