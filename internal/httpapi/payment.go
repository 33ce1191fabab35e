package httpapi

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// X402 is the server's x402 configuration: where payments go and how they
// are settled (docs/design.md §5).
type X402 struct {
	Processor *x402.Processor
	Networks  []*x402.Network
	// MaxTimeoutSeconds is how long an authorization may stay valid.
	MaxTimeoutSeconds int
	// PublicURL is the base of the absolute resource URLs in requirements
	// ("https://api.example.com"); empty uses the request's scheme and host.
	PublicURL string
	// TopupAmounts are the credit amounts POST /api/v1/topup/{amount} sells.
	TopupAmounts []meter.Amount
	// Upto takes x402 upto payments on proxy routes; nil: upto is off.
	Upto *x402.Upto
	// PendingRetryAfter is the Retry-After of a payment_pending answer:
	// when the settlement sweep next tries (x402.sweep_interval).
	PendingRetryAfter time.Duration
}

const localPaid = "paymeter.paid"

// paymentRequired is a 402 (or an error answered as one) that carries the
// requirements of this request, so that the client can pay for it.
type paymentRequired struct {
	err       *meter.Error
	challenge *x402.Challenge
	// retryAfter, when set, is the answer's Retry-After (payment_pending).
	retryAfter time.Duration
}

func (e *paymentRequired) Error() string { return e.err.Error() }
func (e *paymentRequired) Unwrap() error { return e.err }

// paymentHeader returns the x402 payment a request carries, preferring v2.
func paymentHeader(c *fiber.Ctx) (version int, header string) {
	if h := c.Get(x402.HeaderPaymentV2); h != "" {
		return 2, h
	}
	if h := c.Get(x402.HeaderPaymentV1); h != "" {
		return 1, h
	}
	return 0, ""
}

// challenge is the 402 of this request for amount.
func (s *Server) challenge(c *fiber.Ctx, amount meter.USDC, description string) *x402.Challenge {
	ch := s.requirements(c, amount, description)
	ch.Extensions = declaredExtensions()
	s.declareSIWX(c, ch)
	return ch
}

// requirements is the challenge without the extensions a 402 declares:
// what a payment is verified against and settled for.
func (s *Server) requirements(c *fiber.Ctx, amount meter.USDC, description string) *x402.Challenge {
	base := s.X402.PublicURL
	if base == "" {
		base = c.BaseURL()
	}
	return &x402.Challenge{
		Amount:            amount,
		Resource:          x402.Resource{URL: base + c.Path(), Description: description, MimeType: fiber.MIMEApplicationJSON},
		MaxTimeoutSeconds: s.X402.MaxTimeoutSeconds,
		Networks:          s.X402.Networks,
	}
}

// requestChallenge builds, when called, the 402 of a proxy request whose
// worst case is worst.
func (s *Server) requestChallenge(c *fiber.Ctx, worst meter.Amount, model string) func() *x402.Challenge {
	return func() *x402.Challenge { return s.uptoOffer(s.challenge(c, worst.USDCQuote(), "inference: "+model)) }
}

// askPayment attaches a challenge to err when x402 is on and err is one a
// payment answers: payment_required, insufficient_credits, invalid_payment;
// and, with nothing to pay, payment_pending (pending.go).
func (s *Server) askPayment(err error, ch func() *x402.Challenge) error {
	if s.X402 == nil {
		return err
	}
	switch code := meter.ErrorCode(err); code {
	case meter.ECodePaymentRequired, meter.ECodeInsufficientCredit, meter.ECodeInvalidPayment, meter.ECodePaymentPending:
		var me *meter.Error
		if !errors.As(err, &me) {
			me = meter.Errorf(code, "%v", err)
		}
		pr := &paymentRequired{err: me, challenge: ch()}
		if code == meter.ECodePaymentPending {
			s.pendingAnswer(pr)
		}
		return pr
	}
	return err
}

// payForRequest settles the x402 payment of a request whose worst case is
// worst, and returns its payer (meter.PaymentPayer: the payer's wallet
// account receives the change once the request is metered) and the
// principal it stands for. Without a payment it is a 402 with the
// requirements.
func (s *Server) payForRequest(c *fiber.Ctx, worst meter.Amount, model string) (meter.Payer, *meter.Principal, error) {
	ch := s.requestChallenge(c, worst, model)
	if s.X402 == nil {
		return nil, nil, missingCredentials()
	}
	version, header := paymentHeader(c)
	if header == "" {
		return nil, nil, s.askPayment(meter.Errorf(meter.ECodePaymentRequired,
			"pay for this request with x402, or send an API key or wallet signature"), ch)
	}
	if upto, handled, err := s.payUpto(c, version, header, worst, ch); handled { // x402 upto (upto.go)
		if err != nil {
			return nil, nil, err
		}
		return upto, uptoPrincipal(upto), nil
	}
	// Paid against the requirements alone: a new sign-in-with-x challenge
	// (an HMAC, a JSON encoding) is for a 402, not for a payment.
	quote := s.requirements(c, worst.USDCQuote(), "inference: "+model)
	paid, err := s.X402.Processor.Pay(c.UserContext(), version, header, quote, meter.PurposeRequest, "", requestID(c))
	s.Metrics.observePayment(meter.PurposeRequest, err)
	if err != nil {
		return nil, nil, s.askPayment(err, ch)
	}
	c.Locals(localPaid, paid)
	p := &meter.Principal{Kind: meter.PrincipalX402, AccountID: paid.Account.ID, Scopes: meter.DefaultKeyScopes,
		Label: paid.Payment.Payer}
	return &meter.PaymentPayer{Payments: s.X402.Processor.Ledger, Payment: paid.Payment, Unrecorded: paid.Unrecorded}, p, nil
}

// setReceipt adds the x402 receipt of a paid request to its response,
// whatever the response turned out to be: the client paid either way.
func setReceipt(c *fiber.Ctx) {
	switch paid := c.Locals(localPaid).(type) {
	case *x402.Paid:
		c.Set(x402.ReceiptHeader(paid.Version), paid.ReceiptHeaderValue())
	case *x402.UptoPayer: // upto.go
		c.Set(x402.HeaderResponseV2, paid.ReceiptHeaderValue())
	}
}

type topupRequest struct {
	WalletAddress string `json:"walletAddress"`
}

type topupResponse struct {
	Success       bool         `json:"success"`
	Amount        meter.Amount `json:"amount"`
	WalletAddress string       `json:"walletAddress"`
	Balance       meter.Amount `json:"balance"`
	Transaction   string       `json:"transaction"`
}

// topup serves POST /api/v1/topup/{amount}: sells credits over x402 to
// the wallet that signs the request, or else to the wallet the body names.
func (s *Server) topup(c *fiber.Ctx) error {
	if s.X402 == nil {
		return meter.Errorf(meter.ECodeNotFound, "top-ups need x402, which this proxy has not configured")
	}
	amount, err := meter.ParseAmount(c.Params("amount"))
	if err != nil || !slices.Contains(s.X402.TopupAmounts, amount) {
		return meter.Errorf(meter.ECodeBadRequest, "top-up amounts are %v credits", s.X402.TopupAmounts).
			WithDetail("amounts", s.X402.TopupAmounts)
	}
	// Who is credited: checked before asking for payment, but a wallet
	// signature is verified (and used up) only once there is a payment, so
	// that the client can send the same signed request again with it.
	signed := c.Get(auth.HeaderWalletAddress) != "" || c.Get(auth.HeaderTimestamp) != "" || c.Get(auth.HeaderWalletSignature) != ""
	var wallet string
	if !signed {
		var req topupRequest
		if len(c.Body()) > 0 {
			if err := json.Unmarshal(c.Body(), &req); err != nil {
				return meter.Errorf(meter.ECodeBadRequest, "the body must be JSON: {\"walletAddress\": \"0x…\"}")
			}
		}
		if req.WalletAddress == "" {
			return meter.Errorf(meter.ECodeBadRequest, "name the wallet to credit: {\"walletAddress\": \"0x…\"}, or sign the request with it")
		}
		if !common.IsHexAddress(req.WalletAddress) {
			return meter.Errorf(meter.ECodeBadRequest, "walletAddress %q is not an Ethereum address", req.WalletAddress)
		}
		wallet = common.HexToAddress(req.WalletAddress).Hex()
	}
	ch := func() *x402.Challenge {
		return s.challenge(c, amount.USDCQuote(), "paymeter credits: "+amount.String())
	}
	version, header := paymentHeader(c)
	if header == "" {
		return s.askPayment(meter.Errorf(meter.ECodePaymentRequired, "pay %s USDC with x402 to top up %s credits",
			amount.USDCQuote(), amount), ch)
	}
	if signed {
		p, err := s.walletPrincipal(c, true)
		if err != nil {
			return err
		}
		wallet = p.Label
	}
	paid, err := s.X402.Processor.Pay(c.UserContext(), version, header, ch(), meter.PurposeTopup, wallet, requestID(c))
	s.Metrics.observePayment(meter.PurposeTopup, err)
	if err != nil {
		return s.askPayment(err, ch)
	}
	c.Locals(localPaid, paid)
	return c.JSON(topupResponse{Success: true, Amount: amount, WalletAddress: wallet, Balance: paid.Account.Balance,
		Transaction: paid.Receipt.Transaction})
}
