package httpapi

import (
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
	"github.com/valyala/fasthttp"
)

// metered is one request on its way through the proxy: who pays, at what
// price, and the payer that reserves its worst case.
type metered struct {
	principal *meter.Principal
	route     route
	upstream  *upstream.Client
	info      upstream.RequestInfo
	price     meter.Price
	// payer reserves the worst case and is charged the metered cost: a
	// credit balance's hold or the request's own x402 payment (meter.Payer).
	payer     meter.Payer
	requestID string
	// body is what is forwarded: the client's body with the held output
	// bound and, for streams, the usage request written in.
	body []byte
	// deadline ends the request (MaxRequestDuration); zero: none.
	deadline time.Time
	// end takes the request out of Server.InFlight once it is metered;
	// relayed says a stream's relay calls it, not the handler.
	end     func()
	relayed bool
}

// proxy serves a token-priced route: authorize, price the worst case, hold
// it, forward, then capture the actual cost (docs/design.md §2).
func (s *Server) proxy(c *fiber.Ctx, r route) error {
	start := time.Now()
	p := principalOf(c)
	if p != nil && !p.Scopes.Has(r.scope) {
		return meter.Errorf(meter.ECodeInsufficientScope, "this credential lacks the %q scope", r.scope)
	}
	info, err := upstream.InspectRequest(c.Body(), r.api)
	if err != nil {
		return err
	}
	if r.api == upstream.APIMessages {
		if err := upstream.CheckAnthropicBeta(c.Get("Anthropic-Beta")); err != nil {
			return err
		}
	}
	if p != nil && !p.AllowsModel(info.Model) {
		return meter.Errorf(meter.ECodeModelNotAllowed, "this credential may not use model %q", info.Model).
			WithDetail("model", info.Model)
	}
	price, ok := s.Prices[info.Model]
	if !ok {
		return meter.Errorf(meter.ECodeModelNotPriced, "model %q has no price on this proxy", info.Model).
			WithDetail("model", info.Model)
	}
	if r.api == upstream.APIImages { // priced per image, by size and quality (images.go)
		if price, err = imagePrice(info, price); err != nil {
			return err
		}
	} else if len(price.Images) > 0 {
		// An image model's token prices may well be 0: it is served on
		// the images route alone, or it would be served for nothing.
		return meter.Errorf(meter.ECodeUnsupportedAPI, "model %q is priced per image: use /v1/images/generations", info.Model).
			WithDetail("model", info.Model).WithDetail("api", "images")
	}
	if err := info.CheckPriced(price); err != nil {
		return err
	}
	up, err := s.upstreamOf(info.Model, r)
	if err != nil {
		return err
	}
	worst := price.Cost(info.WorstCase(price, r.embeddings))
	m := &metered{route: r, upstream: up, info: info, price: price, requestID: requestID(c), body: info.ForwardBody(c.Body(), price)}
	if upto, handled, err := s.payUpto(c, p, worst, info.Model); handled { // x402 upto (upto.go)
		if err != nil {
			return err
		}
		p = uptoPrincipal(upto)
		c.Locals(localPrincipal, p)
		m.payer = upto
	} else if p == nil { // no account: the request pays for itself
		paid, err := s.payForRequest(c, worst, info.Model)
		if err != nil {
			return err
		}
		p = &meter.Principal{Kind: meter.PrincipalX402, AccountID: paid.Account.ID, Scopes: meter.DefaultKeyScopes,
			Label: paid.Payment.Payer}
		c.Locals(localPrincipal, p)
		m.payer = &meter.PaymentPayer{Payments: s.X402.Processor.Ledger, Payment: paid.Payment}
	} else {
		hold, err := s.holdFor(c, p, r, info, price, worst)
		if err != nil {
			return err
		}
		m.payer = hold
	}
	m.principal = p
	s.begin(m, start)
	defer func() {
		if !m.relayed {
			m.end()
		}
	}()
	if info.Stream {
		return s.stream(c, m)
	}
	return s.forward(c, m)
}

// holdFor reserves worst on the principal's balance, within its spend
// cap if it has one; a refusal carries what it could afford and, with
// x402 on, the requirements to pay for the request instead.
func (s *Server) holdFor(c *fiber.Ctx, p *meter.Principal, r route, info upstream.RequestInfo, price meter.Price,
	worst meter.Amount) (*meter.HoldPayer, error) {
	var hold *meter.Hold
	var err error
	if p.Budget != nil {
		hold, err = s.Ledger.HoldWithin(c.UserContext(), p.AccountID, worst, s.HoldTTL, *p.Budget)
	} else {
		hold, err = s.Ledger.Hold(c.UserContext(), p.AccountID, worst, s.HoldTTL)
	}
	if err != nil && p.Subject != "" && meter.ErrorCode(err) == meter.ECodeInsufficientCredit {
		// A sub-principal without a cap is not told the balance of the
		// app that pays for it either (docs/security.md, M6).
		err = meter.Errorf(meter.ECodeInsufficientCredit, "insufficient credits: this request may cost up to %s", worst).
			WithDetail("required", worst.String())
	}
	if err != nil {
		err = s.withAffordable(c.UserContext(), err, p, r, info, price)
		return nil, s.askPayment(err, s.requestChallenge(c, worst, info.Model))
	}
	return &meter.HoldPayer{Ledger: s.Ledger, Hold: hold, Principal: p}, nil
}

// upstreamOf returns the upstream that serves model, refusing a route
// its upstream does not speak: paymeter never translates between API
// formats (docs/design.md §2).
func (s *Server) upstreamOf(model string, r route) (*upstream.Client, error) {
	up := s.ModelUpstreams[model]
	if up == nil {
		up = s.Upstream
	}
	if !up.Dialect.Speaks(r.api) {
		return nil, meter.Errorf(meter.ECodeUnsupportedAPI, "model %q is served by an %s upstream, which does not serve %s",
			model, up.Dialect, r.path).WithDetail("model", model).WithDetail("api", up.Dialect.String())
	}
	return up, nil
}

// forward sends a whole request upstream and answers only once the charge
// for it is durable. The upstream's response is read straight into the
// client's response, and copied once only, to write the cost into its
// usage object (upstream.WithCost).
func (s *Server) forward(c *fiber.Ctx, m *metered) error {
	resp := c.Response()
	start := time.Now()
	req := s.upstreamRequest(c, m.body)
	req.Deadline = m.deadline
	err := m.upstream.Do(req, resp)
	s.Metrics.observeUpstream(m.route.path, time.Since(start), upstreamErr(err, resp.StatusCode()))
	if err != nil {
		s.release(m)
		return err
	}
	status := resp.StatusCode()
	if status >= 300 {
		// The upstream refused or failed: nothing was consumed, nothing is charged.
		s.release(m)
		if hiddenStatus(status) {
			resp.Reset()
			return upstreamFailed(status)
		}
		keepAnswerHeaders(resp)
		return nil
	}
	usage, estimated := m.usageFrom(s, resp.Body())
	cost, err := s.capture(m, usage, estimated)
	if err != nil {
		resp.Reset()
		return err
	}
	keepAnswerHeaders(resp)
	if !estimated {
		if body, b := resp.Body(), upstream.WithCost(m.route.api, resp.Body(), cost); len(b) != len(body) {
			resp.SetBodyRaw(b)
		}
	}
	c.Locals(localCost, cost)
	c.Set("X-Paymeter-Cost", cost.String())
	s.setBalance(c, m)
	return nil
}

// usageFrom reads the usage a response reports, or estimates it
// (upstream.EstimateUsage) when the upstream sent none.
func (m *metered) usageFrom(s *Server, body []byte) (u meter.Usage, estimated bool) {
	u, model, ok := upstream.ParseResponse(m.route.api, body)
	s.checkModel(m, model)
	if ok {
		return imagesHeld(m, u), false
	}
	u = upstream.EstimateUsage(m.info, m.price, int64(len(body)))
	if m.route.embeddings {
		u.OutputTokens = 0
	}
	return u, true
}

// checkModel warns when the upstream says it answered with another model
// than the one priced: the price table or the upstream's routing is wrong,
// or a request reached a model it was not priced for.
func (s *Server) checkModel(m *metered, answered []byte) {
	if upstream.SameModel(m.info.Model, answered) {
		return
	}
	s.Logger.Warn("upstream answered with another model than the one priced", "request_id", m.requestID,
		"priced", m.info.Model, "answered", string(answered[:min(len(answered), 128)]))
}

func (s *Server) upstreamRequest(c *fiber.Ctx, body []byte) *upstream.Request {
	return &upstream.Request{
		Method: c.Method(),
		Path:   c.Path(),
		Header: ctxHeader{c},
		Body:   body,
	}
}

// ctxHeader reads the client's request headers for the upstream request.
// (One pointer: an interface holds it without allocating.)
type ctxHeader struct{ c *fiber.Ctx }

func (h ctxHeader) Get(name string) string { return h.c.Get(name) }

// capture books the actual cost with the payer, capped at its hold when
// the usage was only estimated, and returns what was charged.
func (s *Server) capture(m *metered, u meter.Usage, estimated bool) (meter.Amount, error) {
	cost := m.costOf(u, estimated)
	// Detached from the client's request: a client who leaves is still
	// charged. (The ledger completes every queued write regardless.)
	charged, err := m.payer.Capture(context.Background(), meter.Charge{
		AccountID: m.principal.AccountID, Cost: cost, RequestID: m.requestID,
		Model: m.info.Model, Usage: u, Estimated: estimated, Subject: m.principal.Subject,
	})
	if err == nil {
		s.Metrics.observeCharge(charged)
	}
	return charged, err
}

// costOf is what usage u of the request is charged, before the payer caps
// it at what it can pay (meter.Metered).
func (m *metered) costOf(u meter.Usage, estimated bool) meter.Amount {
	return meter.Metered(m.price, u, m.payer.Held(), estimated, m.principal.Budget != nil)
}

// upstreamErr is the outcome of an upstream call for the metrics: its
// error, or its 5xx status.
func upstreamErr(err error, status int) error {
	if err == nil && status >= 500 {
		return upstreamFailed(status)
	}
	return err
}

// release gives back the reservation of a request that consumed nothing
// (a payment becomes change). A failure is logged, not returned: the
// sweeps release a hold, or credit a payment, anyway.
func (s *Server) release(m *metered) {
	if err := m.payer.Release(context.Background()); err != nil {
		s.Logger.Error("release the request's payer", "request_id", m.requestID, "payer", payerName(m.payer), "err", err)
	}
}

// payerName names a payer in logs (its String, as the meter payers have
// one), never as a struct: that would log its ledger and principal.
func payerName(p meter.Payer) string {
	if s, ok := p.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", p)
}

func upstreamFailed(status int) error {
	return meter.Errorf(meter.ECodeUpstreamError, "the upstream failed (HTTP %d); nothing was charged", status).
		WithDetail("upstream_status", status)
}

// hiddenStatus reports whether an upstream answer with this status is
// replaced by paymeter's own upstream_error rather than passed on: a
// failure, a redirect, or a refusal of the operator's credentials or quota
// (401, 402, 403, 407, 429), whose body can name a masked form of the
// operator's key or its account. Other 4xx answers are about the client's
// request and pass through.
func hiddenStatus(status int) bool {
	switch status {
	case fiber.StatusUnauthorized, fiber.StatusPaymentRequired, fiber.StatusForbidden,
		fiber.StatusProxyAuthRequired, fiber.StatusTooManyRequests:
		return true
	}
	return status < 400 || status >= 500
}

// keepAnswerHeaders drops every header of the upstream's answer but its
// content type and encoding: the rest describe the upstream's connection,
// server or account (openai-organization, openai-project, rate limits of
// the operator's key, cookies), or are paymeter's own to set
// (X-Request-Id, X-Paymeter-Cost). An allowlist, so that a header nobody
// thought of stays behind too.
func keepAnswerHeaders(resp *fasthttp.Response) {
	h := &resp.Header
	var ctBuf, ceBuf [64]byte
	ct := append(ctBuf[:0], h.ContentType()...)
	ce := append(ceBuf[:0], h.ContentEncoding()...)
	status := h.StatusCode()
	h.Reset()
	h.SetStatusCode(status)
	h.SetContentTypeBytes(ct)
	if len(ce) > 0 {
		h.SetContentEncodingBytes(ce)
	}
}
