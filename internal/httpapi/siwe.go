package httpapi

import (
	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
)

// siweEnabled answers 404 on the sign-in routes while SignIn has no
// domain: messages must name this site, and a guessed name (the listen
// address) would let a signature phished elsewhere sign in here.
func (s *Server) siweEnabled(c *fiber.Ctx) error {
	if s.SignIn == nil || s.SignIn.Domain == "" {
		return meter.Errorf(meter.ECodeNotFound, "Sign-In with Ethereum is off: set siwe.domain (and siwe.uri) to this site's host and origin")
	}
	return c.Next()
}
