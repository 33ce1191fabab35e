package httpapi

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// payUpto takes the request's x402 upto payment (docs/design.md §5), when
// its PAYMENT-SIGNATURE (v2) names the upto scheme and upto is on: handled
// is false otherwise, and the payment goes the exact way. Once it returns,
// the request is served at once; its cost is settled after the response.
func (s *Server) payUpto(c *fiber.Ctx, version int, header string, worst meter.Amount, ch func() *x402.Challenge) (payer *x402.UptoPayer, handled bool, err error) {
	if version != 2 || s.X402.Upto == nil {
		return nil, false, nil
	}
	h, ok := x402.ParseUptoHeader(header) // decoded once, for both questions
	if !ok {
		return nil, false, nil
	}
	payer, err = s.X402.Upto.AuthorizeHeader(c.UserContext(), h, worst.USDCQuote(), requestID(c))
	if s.UptoMetrics != nil {
		s.UptoMetrics.observeAuthorize(err)
	}
	if err != nil {
		return nil, true, s.uptoRefused(c, err, ch)
	}
	c.Locals(localPaid, payer)
	return payer, true, nil
}

// uptoRefused answers a refused upto payment with the request's
// requirements, so that the client may pay otherwise (exact), and, for a
// cap that settlement will free, when to try again.
func (s *Server) uptoRefused(c *fiber.Ctx, err error, ch func() *x402.Challenge) error {
	var me *meter.Error
	if !errors.As(err, &me) {
		return err
	}
	switch me.Code {
	case meter.ECodeUptoLimitReached, meter.ECodeUptoCapacity:
		wait := max(s.X402.Upto.BatchInterval, time.Second)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		fallthrough
	case meter.ECodeUptoSettlementFailed:
		return &paymentRequired{err: me, challenge: ch()}
	}
	return s.askPayment(err, ch)
}

// uptoPrincipal is who a request paid with upto is: the payer's wallet.
func uptoPrincipal(p *x402.UptoPayer) *meter.Principal {
	return &meter.Principal{Kind: meter.PrincipalX402, AccountID: p.AccountID(), Scopes: meter.DefaultKeyScopes, Label: p.Payer()}
}

// uptoOffer adds the upto side to a request's 402 when upto is on.
func (s *Server) uptoOffer(ch *x402.Challenge) *x402.Challenge {
	if s.X402 != nil && s.X402.Upto != nil {
		ch.Upto = s.X402.Upto.Offer(ch.Amount)
	}
	return ch
}
