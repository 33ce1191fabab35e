package httpapi

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// siwxPrincipal verifies a SIGN-IN-WITH-X header (docs/design.md §3): the
// wallet that signed a challenge of one of our 402s pays from its balance.
// It is taken on the proxy routes and GET /api/v1/account only: the proof
// binds no request, so it buys no key management.
func (s *Server) siwxPrincipal(c *fiber.Ctx, header string) (*meter.Principal, error) {
	if s.SIWX == nil || s.SIWX.Origin() == "" {
		return nil, x402.InvalidSIWX("invalid_siwx_disabled",
			"this proxy does not take %s: authenticate with an API key or a wallet signature", x402.HeaderSIWX)
	}
	path := c.Path()
	if !strings.HasPrefix(path, "/v1/") && !(path == "/api/v1/account" && c.Method() == fiber.MethodGet) {
		return nil, x402.InvalidSIWX("invalid_siwx_route", "%s is taken on /v1/* and GET /api/v1/account only", x402.HeaderSIWX)
	}
	// A recovery costs what wallet headers' does: the same limit per address.
	if err := spend(c, s.walletIPs, s.clientKey(c), s.RateLimits.WalletPerIP); err != nil {
		return nil, err
	}
	return s.SIWX.Authenticate(c.UserContext(), header, s.clientIP(c).String())
}

// declareSIWX offers sign-in-with-x in the 402 of a proxy route, with a
// new challenge: a wallet with a balance spends it instead of paying.
func (s *Server) declareSIWX(c *fiber.Ctx, ch *x402.Challenge) {
	if s.SIWX == nil || s.SIWX.Origin() == "" || !strings.HasPrefix(c.Path(), "/v1/") {
		return
	}
	if ch.Extensions == nil {
		ch.Extensions = map[string]json.RawMessage{}
	}
	ch.Extensions[x402.ExtensionSIWX] = x402.DeclareSIWX(s.SIWX.Challenge(c.Path()), ch.Networks)
}
