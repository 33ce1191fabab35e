package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// Locals keys.
const (
	localRequestID = "paymeter.request_id"
	localPrincipal = "paymeter.principal"
	localCost      = "paymeter.cost"
)

// requestIDs are a random per-process prefix and a counter: unique,
// sortable within a process, and far cheaper than a random id per request.
var (
	requestIDPrefix = func() string {
		var b [6]byte
		rand.Read(b[:])
		return "req_" + hex.EncodeToString(b[:]) + "_"
	}()
	requestCounter atomic.Uint64
)

func newRequestID() string {
	return requestIDPrefix + strconv.FormatUint(requestCounter.Add(1), 36)
}

// validRequestID accepts a client's X-Request-Id only if it is short and
// plain, so that it can go into logs and headers unescaped.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func (s *Server) withRequestID(c *fiber.Ctx) error {
	id := c.Get("X-Request-Id")
	if validRequestID(id) {
		id = string([]byte(id)) // c.Get's string aliases a reused buffer
	} else {
		id = newRequestID()
	}
	c.Locals(localRequestID, id)
	err := c.Next()
	// Set last: a forwarded response replaces the headers set before it.
	c.Set("X-Request-Id", id)
	setReceipt(c)
	setRateHeaders(c)
	return err
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

func principalOf(c *fiber.Ctx) *meter.Principal {
	p, _ := c.Locals(localPrincipal).(*meter.Principal)
	return p
}

// withAccessLog writes one JSON line per request: never a secret, only the
// principal's label (a key's first 12 characters).
func (s *Server) withAccessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
	}
	s.Metrics.observeRequest(c, time.Since(start))
	if !s.Logger.Enabled(c.UserContext(), slog.LevelInfo) {
		return nil
	}
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs,
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.Int("status", c.Response().StatusCode()),
		slog.Duration("duration", time.Since(start)),
	)
	if p := principalOf(c); p != nil {
		attrs = append(attrs, slog.String("auth", string(p.Kind)), slog.String("principal", p.Label), slog.Int64("account", p.AccountID))
	}
	if cost, ok := c.Locals(localCost).(meter.Amount); ok {
		attrs = append(attrs, slog.String("cost", cost.String()))
	}
	s.Logger.LogAttrs(c.UserContext(), slog.LevelInfo, "request", attrs...)
	return nil
}

// authenticate finds the principal of a request to an account route; a
// request without credentials is refused.
func (s *Server) authenticate(c *fiber.Ctx) error {
	p, err := s.principal(c)
	if err != nil {
		return err
	}
	if p == nil {
		return missingCredentials()
	}
	c.Locals(localPrincipal, p)
	return c.Next()
}

// authenticateOrPay is authenticate for the proxy routes, where a request
// without an account may pay for itself with x402: it goes on with no
// principal, and the route quotes and settles it (payForRequest).
func (s *Server) authenticateOrPay(c *fiber.Ctx) error {
	p, err := s.principal(c)
	if err != nil {
		return err
	}
	if p == nil && s.X402 == nil {
		if _, h := paymentHeader(c); h != "" {
			// An x402 client sent a payment to a proxy that takes none:
			// say so, rather than that no credential came.
			return meter.Errorf(meter.ECodePaymentsNotAccepted,
				"this proxy does not accept x402 payments (%s/%s): nothing was charged; authenticate with an API key or a wallet signature instead",
				x402.HeaderPaymentV2, x402.HeaderPaymentV1)
		}
		return missingCredentials()
	}
	if p != nil {
		c.Locals(localPrincipal, p)
	}
	return c.Next()
}

// principal finds who pays, trying the credentials in the order of
// docs/design.md §2: the first present decides, and a bad one is final. It
// returns nil when the request has no credential or an x402 payment.
func (s *Server) principal(c *fiber.Ctx) (*meter.Principal, error) {
	if c.Get(auth.HeaderWalletAddress) != "" || c.Get(auth.HeaderTimestamp) != "" || c.Get(auth.HeaderWalletSignature) != "" {
		if err := spend(c, s.walletIPs, s.clientKey(c), s.RateLimits.WalletPerIP); err != nil {
			return nil, err
		}
		return s.walletPrincipal(c, false)
	}
	if _, h := paymentHeader(c); h != "" {
		return nil, nil
	}
	if h := c.Get(x402.HeaderSIWX); h != "" {
		return s.siwxPrincipal(c, h)
	}
	token, ok, err := auth.BearerToken(c.Get(fiber.HeaderAuthorization), c.Get("X-API-Key"))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	switch {
	case auth.IsKeyShaped(token) || auth.IsSessionShaped(token):
		return s.Keys.Authenticate(c.UserContext(), token)
	case auth.IsJWTShaped(token):
		if s.JWT == nil {
			return nil, meter.Errorf(meter.ECodeInvalidToken, "JWT users are not enabled on this proxy")
		}
		return s.JWT.Authenticate(token)
	}
	return nil, meter.Errorf(meter.ECodeInvalidAPIKey, "unrecognised credential: API keys start with pm_live_ or pm_test_, session tokens with pm_sess_")
}

// walletPrincipal verifies the wallet headers. noFreeCredits creates a new
// wallet's account without free credits (a top-up creates it).
func (s *Server) walletPrincipal(c *fiber.Ctx, noFreeCredits bool) (*meter.Principal, error) {
	addr, ts, sig := c.Get(auth.HeaderWalletAddress), c.Get(auth.HeaderTimestamp), c.Get(auth.HeaderWalletSignature)
	if addr == "" || ts == "" || sig == "" {
		return nil, meter.Errorf(meter.ECodeInvalidSignature, "send %s, %s and %s together",
			auth.HeaderWalletAddress, auth.HeaderTimestamp, auth.HeaderWalletSignature)
	}
	uri := c.Request().URI()
	return s.Wallets.Authenticate(c.UserContext(), &auth.WalletRequest{
		Address: addr, Timestamp: ts, Signature: sig, Method: c.Method(),
		Path: string(uri.PathOriginal()), Query: string(uri.QueryString()), Body: c.Request().Body(), NoFreeCredits: noFreeCredits,
		ClientIP: s.clientIP(c).String(),
	})
}

func missingCredentials() error {
	return meter.Errorf(meter.ECodeMissingCredentials,
		"send an API key as \"Authorization: Bearer pm_live_…\" or \"X-API-Key\", or sign the request with a wallet")
}
