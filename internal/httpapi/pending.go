package httpapi

import (
	"math"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
)

// A payment whose settlement did not finish in time (payment_pending) is
// answered 402, not 5xx: SDKs retry a 5xx on their own, and a retry
// through an x402 client pays again. Its 402 offers nothing to pay (empty
// accepts, in v1 and v2), so that a standard x402 client cannot pay twice
// for it, and its Retry-After says when the sweep next tries to settle it.
// Once settled, the payment is credited to the payer's wallet, which
// spends it with a wallet signature (README "Errors").

// pendingAnswer makes pr the 402 of a pending payment.
func (s *Server) pendingAnswer(pr *paymentRequired) {
	pr.challenge.Networks = nil
	pr.retryAfter = s.X402.PendingRetryAfter
}

// setRetryAfter sets Retry-After to d in whole seconds, rounded up; not
// at all for d <= 0.
func setRetryAfter(c *fiber.Ctx, d time.Duration) {
	if d <= 0 {
		return
	}
	c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10))
}
