package meter

import (
	"context"
	"strconv"
)

// Payer is what pays for one proxied request (docs/design.md §2): it
// reserves the request's worst case before the upstream is called, and
// then either books the metered cost or gives the reservation back. The
// proxy gets one Payer per request and never asks which kind it is:
//
//   - HoldPayer: an account's credit balance (an API key, a session, a
//     wallet signature), reserved by Ledger.Hold or HoldWithin;
//   - PaymentPayer: the request's own settled x402 `exact` payment, whose
//     unspent rest is credited to the payer's wallet as change;
//   - an x402 `upto` payer: a verified authorization of up to the worst
//     case, whose Capture records the cost to be settled in the background.
//
// Exactly one of Capture or Release is called, once, after the upstream
// answered (or failed); neither is called on a request refused before.
type Payer interface {
	// Held is the most this request may be charged: its worst case,
	// reserved. The charging rules (Metered) cap an estimate at it.
	Held() Amount
	// Capture books the metered cost c.Cost (the proxy fills in every
	// field of c but HoldID, which is the payer's own). It returns what
	// was charged, which is less than c.Cost when the payer cannot pay
	// more (an account's balance, a payment's amount). It must be durable
	// on return: the answer tells the client its cost.
	Capture(ctx context.Context, c Charge) (Amount, error)
	// Release gives the reservation back: the request consumed nothing.
	Release(ctx context.Context) error
}

// Optional extras, which the proxy asks of a Payer by type assertion, so
// that Payer stays the three calls above. A Payer implements those that
// apply to it; without one the proxy does without.

// InFlightPayer is a Payer whose reservation a sweep could undo while its
// request still runs (an expired hold released, a settled payment left
// unapplied credited as change): the proxy puts InFlightID in
// Server.InFlight for as long as the request runs, and the sweeps skip it
// (docs/security.md, H2). A hold's id, a payment's key.
type InFlightPayer interface {
	Payer
	InFlightID() string
}

// BalancePayer is a Payer that spends a balance the client may be told of
// (X-Paymeter-Balance, docs/security.md M6). Spendable is what is left:
// ok is false when there is nothing the client may be told. A payer that
// does not implement it (x402: the request paid for itself) tells nothing.
type BalancePayer interface {
	Payer
	Spendable(ctx context.Context) (left Amount, ok bool, err error)
}

// HoldPayer pays from an account's credit balance through a hold.
type HoldPayer struct {
	Ledger Ledger
	Hold   *Hold
	// Principal is who holds: its Budget and Subject decide what
	// Spendable may tell (docs/security.md, M6).
	Principal *Principal
}

// Held is the hold's amount.
func (h *HoldPayer) Held() Amount { return h.Hold.Amount }

// Capture charges c against the hold (Ledger.Capture).
func (h *HoldPayer) Capture(ctx context.Context, c Charge) (Amount, error) {
	c.HoldID = h.Hold.ID
	return h.Ledger.Capture(ctx, c)
}

// Release drops the hold. (Its expiry would too, later.)
func (h *HoldPayer) Release(ctx context.Context) error { return h.Ledger.Release(ctx, h.Hold.ID) }

// InFlightID is the hold's id, which the expiry sweep skips.
func (h *HoldPayer) InFlightID() string { return h.Hold.ID }

// String names the hold in logs.
func (h *HoldPayer) String() string { return "hold " + h.Hold.ID }

// Spendable is what the principal may still spend, as far as it may be
// told: a sub-principal with a cap (a session token, a JWT user) is told
// what its cap leaves, which may be more than the app that pays for it
// has; one without a cap is told nothing.
func (h *HoldPayer) Spendable(ctx context.Context) (Amount, bool, error) {
	p := h.Principal
	switch {
	case p.Budget != nil:
		use, err := h.Ledger.FindBudgetUse(ctx, p.AccountID, *p.Budget)
		if err != nil {
			return 0, false, err
		}
		return max(0, p.Budget.Cap-use.Spent-use.Held), true, nil
	case p.Subject != "":
		return 0, false, nil
	}
	left, err := h.Ledger.Available(ctx, p.AccountID)
	return left, err == nil, err
}

// PaymentPayer pays with the request's own settled x402 `exact` payment,
// which stands in for a hold: the cost is booked against it and the rest
// is change on the payer's wallet account (Payments.ApplyPayment).
type PaymentPayer struct {
	Payments Payments
	Payment  *Payment
	// Unrecorded says the payment's settlement is not recorded yet
	// (LazySettlement.SettleLater): the apply records it.
	Unrecorded bool
}

// Held is what the payment paid.
func (p *PaymentPayer) Held() Amount { return p.Payment.Amount.Amount() }

// Capture books c.Cost against the payment, the rest as change.
func (p *PaymentPayer) Capture(ctx context.Context, c Charge) (Amount, error) {
	return p.apply(ctx, c)
}

// Release credits the whole payment as change: nothing was consumed.
func (p *PaymentPayer) Release(ctx context.Context) error {
	_, err := p.apply(ctx, Charge{RequestID: p.Payment.RequestID})
	return err
}

func (p *PaymentPayer) apply(ctx context.Context, c Charge) (Amount, error) {
	if lazy, ok := p.Payments.(LazySettlement); ok && p.Unrecorded {
		return lazy.SettleApply(ctx, p.Payment, c)
	}
	return p.Payments.ApplyPayment(ctx, p.Payment.ID, c)
}

// InFlightID is the payment's key, which the unapplied-payment sweep skips.
func (p *PaymentPayer) InFlightID() string { return p.Payment.Key }

// String names the payment in logs.
func (p *PaymentPayer) String() string { return "payment " + strconv.FormatInt(p.Payment.ID, 10) }
