package x402

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
)

// Upto takes upto payments from their header to settled: decode, verify
// locally, read the payer's funds on chain, claim the authorization in
// the ledger within the caps, and serve (Authorize); record the metered
// cost when the request ends (UptoPayer.Capture); settle it in the
// background, in batches, retried until the chain decides (Run).
type Upto struct {
	Verifier *Verifier
	Ledger   meter.UptoLedger
	// Settlers settle per network, Checkers read its chain; a network
	// takes upto payments only with both.
	Settlers map[*Network]UptoSettler
	Checkers map[*Network]UptoChecker
	// MaxUnsettledPerPayer and MaxUnsettled cap what is served and not
	// yet settled, per payer and in all; MinAmount is the least settled
	// for a request that cost anything (meter.UptoSettleAmount).
	MaxUnsettledPerPayer, MaxUnsettled, MinAmount meter.USDC
	// MaxTimeoutSeconds is the requirements' maxTimeoutSeconds: how long
	// clients make their permits valid. MinValidity is the least a permit
	// must have left when it arrives: the longest request, plus the time
	// to settle it.
	MaxTimeoutSeconds int
	MinValidity       time.Duration
	// BatchInterval is how often due authorizations are settled (default
	// 2 s); BatchSize how many at most per round (default 64), Parallel
	// how many at once (default: the whole round; each mostly waits for its
	// receipt). SettleTimeout bounds one attempt
	// (default 30 s); RetryInterval spaces the retries of a failed one
	// (default 1 min).
	BatchInterval, SettleTimeout, RetryInterval time.Duration
	BatchSize, Parallel                         int
	// ClaimedTTL is how long an authorization may stay claimed (its
	// request running) before it is taken for dead and released; at least
	// the longest request (default 1 h). InFlight names the requests still
	// running here, never released.
	ClaimedTTL time.Duration
	InFlight   *meter.InFlight
	// ReplayWait bounds how long a payment sent again under its
	// payment-identifier waits for the first one's request to be metered
	// (default 30 s), as Processor.ReplayWait.
	ReplayWait time.Duration
	Observer   UptoObserver
	Logger     *slog.Logger

	wakeOnce  sync.Once
	wake      chan struct{}
	startedAt time.Time // of Run: what was settling before is a previous process's
}

// UptoObserver is told of settlements, for the metrics.
type UptoObserver interface {
	UptoSettled(amount meter.USDC, sinceClaim time.Duration)
	UptoFailed(reason string)
}

// Offers reports whether network n takes upto payments here, and who
// settles them.
func (u *Upto) Offers(n *Network) (common.Address, bool) {
	s, ok := u.Settlers[n]
	if !ok || u.Checkers[n] == nil {
		return common.Address{}, false
	}
	return s.Facilitator(n)
}

// Quote is what an upto payment of a request whose worst case is worst
// authorizes: the worst case, raised to MinAmount. ok is false when that
// is more than one payer may have unsettled: upto is not offered then.
func (u *Upto) Quote(worst meter.USDC) (meter.USDC, bool) {
	q := max(worst, u.MinAmount)
	return q, q > 0 && q <= u.MaxUnsettledPerPayer
}

// Offer is the upto side of a request's 402, or nil.
func (u *Upto) Offer(worst meter.USDC) *UptoOffer {
	q, ok := u.Quote(worst)
	if !ok {
		return nil
	}
	o := &UptoOffer{Amount: q, MaxTimeoutSeconds: u.MaxTimeoutSeconds, Facilitators: map[*Network]common.Address{}}
	for _, n := range u.Verifier.Networks {
		if a, ok := u.Offers(n); ok {
			o.Facilitators[n] = a
		}
	}
	if len(o.Facilitators) == 0 {
		return nil
	}
	return o
}

// Authorize verifies the upto payment in header for a request whose worst
// case is worst, checks the payer's funds on chain and claims it: once it
// returns, the request may be served. Refusals are *meter.Error: 402
// invalid_payment (with an x402 reason), 409 payment_already_used, the
// upto codes of a cap or a failed payer.
func (u *Upto) Authorize(ctx context.Context, header string, worst meter.USDC, requestID string) (*UptoPayer, error) {
	p, err := DecodeUpto(header)
	return u.AuthorizeHeader(ctx, &UptoHeader{payment: p, err: err}, worst, requestID)
}

// AuthorizeHeader is Authorize for a header ParseUptoHeader read.
func (u *Upto) AuthorizeHeader(ctx context.Context, h *UptoHeader, worst meter.USDC, requestID string) (*UptoPayer, error) {
	p, err := h.payment, h.err
	if err != nil {
		return nil, malformed(2, err) // 400 invalid_payment_payload (conform.go)
	}
	id, err := identifierOfJSON(p.JSON) // the 402's payment-identifier holds for upto too (upto_replay.go)
	if err != nil {
		return nil, malformed(2, err)
	}
	if id != "" {
		if err := u.sameAsBefore(ctx, p, id); err != nil {
			return nil, err
		}
	}
	quote, ok := u.Quote(worst)
	if !ok {
		return nil, Invalid(ReasonInvalidRequirements, "this request is not offered for upto: its worst case is above what one payer may owe")
	}
	n, _, err := u.Verifier.VerifyUpto(ctx, p, func(n *Network) (UptoTerms, bool) {
		f, ok := u.Offers(n)
		return UptoTerms{Amount: quote, Facilitator: f, MinValidity: u.MinValidity, MaxTimeoutSeconds: u.MaxTimeoutSeconds}, ok
	})
	if unknownNetwork(err) {
		return nil, malformed(2, err)
	}
	if err != nil {
		return nil, err
	}
	balance, allowance, err := u.Checkers[n].Funds(ctx, n, p.Permit.From)
	if err != nil {
		u.Logger.Warn("read an upto payer's funds", "network", n.Name, "payer", p.Permit.From.Hex(), "err", Redact(err))
		return nil, Invalid(ReasonUnexpectedVerify, "the payer's balance could not be read on chain; try again")
	}
	req, err := json.Marshal(p.Accepted) // verified equal to ours
	if err != nil {
		return nil, err
	}
	from := p.Permit.From.Hex() // a checksum is a keccak: once
	a := &meter.UptoAuthorization{
		Key: p.keyOf(from), Network: n.Name, Token: n.Asset.Hex(), Payer: from, Max: quote,
		RequestID: requestID, Deadline: time.Unix(p.Permit.Deadline.Int64(), 0), Payload: p.JSON, Requirement: req,
		Identifier: id,
	}
	lim := meter.UptoLimits{PerPayer: u.MaxUnsettledPerPayer, Total: u.MaxUnsettled, Balance: balance, Allowance: allowance}
	if err := u.Ledger.ClaimUpto(ctx, a, lim); err != nil {
		return nil, u.replayed(ctx, p, err)
	}
	return &UptoPayer{upto: u, auth: a, network: p.Network}, nil
}

// UptoPayer is the meter.Payer of a request paid with upto: its
// reservation is the authorized maximum; Capture records the cost, which
// the background settler settles.
type UptoPayer struct {
	upto    *Upto
	auth    *meter.UptoAuthorization
	network string // CAIP-2, for the receipt

	mu      sync.Mutex
	charged *meter.USDC
}

var (
	_ meter.Payer         = (*UptoPayer)(nil)
	_ meter.InFlightPayer = (*UptoPayer)(nil)
)

// Held is the authorized maximum.
func (p *UptoPayer) Held() meter.Amount { return p.auth.Max.Amount() }

// Capture records c.Cost to be settled, as meter.UptoSettleAmount rounds
// it, and returns that amount: what the payer pays. Durable on return.
func (p *UptoPayer) Capture(ctx context.Context, c meter.Charge) (meter.Amount, error) {
	amount := meter.UptoSettleAmount(c.Cost, p.upto.MinAmount, p.auth.Max)
	c.AccountID = p.auth.AccountID
	if err := p.upto.Ledger.CaptureUpto(ctx, p.auth.ID, c, amount); err != nil {
		return 0, err
	}
	p.mu.Lock()
	p.charged = &amount
	p.mu.Unlock()
	p.upto.Wake()
	return amount.Amount(), nil
}

// Release releases the authorization: nothing is settled.
func (p *UptoPayer) Release(ctx context.Context) error {
	zero := meter.USDC(0)
	p.mu.Lock()
	p.charged = &zero
	p.mu.Unlock()
	return p.upto.Ledger.ReleaseUpto(ctx, p.auth.ID)
}

// InFlightID is the authorization's key: the claimed sweep skips it.
func (p *UptoPayer) InFlightID() string { return p.auth.Key }

// String names the authorization in logs.
func (p *UptoPayer) String() string { return "upto " + strconv.FormatInt(p.auth.ID, 10) }

// Payer is the payer's checksummed address; AccountID its wallet account.
func (p *UptoPayer) Payer() string    { return p.auth.Payer }
func (p *UptoPayer) AccountID() int64 { return p.auth.AccountID }

// ReceiptHeaderValue is the PAYMENT-RESPONSE of the request: accepted,
// settled later (transaction ""), for amount once the request is metered
// (a stream's header goes before: its amount is X-Paymeter-Cost's trailer).
func (p *UptoPayer) ReceiptHeaderValue() string {
	r := UptoSettleResponse{Success: true, Network: p.network, Payer: p.auth.Payer}
	p.mu.Lock()
	if p.charged != nil {
		r.Amount = amountString(*p.charged)
	}
	p.mu.Unlock()
	return encodeJSON(r)
}

// Wake tells the settler that something is due, so that a quiet proxy
// settles within a round rather than waiting for the next tick.
func (u *Upto) Wake() {
	u.wakeOnce.Do(func() { u.wake = make(chan struct{}, 1) })
	select {
	case u.wake <- struct{}{}:
	default:
	}
}
