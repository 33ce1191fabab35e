package x402

import (
	"context"
	"encoding/json"
)

// Outcome is what a settlement attempt learned.
type Outcome int

// Outcomes. Pending means the result is not known yet (a timeout, a
// transaction not yet mined, a facilitator that said so): the payment is
// neither credited nor refused, and the attempt is repeated later.
const (
	Pending Outcome = iota
	Settled
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Settled:
		return "settled"
	case Failed:
		return "failed"
	}
	return "pending"
}

// Settlement is one verified payment to settle.
type Settlement struct {
	Payment *Payment
	Network *Network
	// Requirement is what the payment paid, in the payment's version's
	// JSON shape (RequirementV1 or Requirement): facilitators want it.
	Requirement json.RawMessage
	// TxHash is the transaction an earlier attempt sent, if any: a retry
	// waits for it instead of sending another.
	TxHash string
	// Retry is set on every attempt after the first: an earlier one may
	// have spent the nonce already (its answer lost), so a check that
	// refuses spent nonces (a facilitator's /verify) must not be asked.
	Retry bool
	// Submitted, if set, is called with the transaction hash as soon as it
	// is sent and before waiting for it, so that it is recorded before a
	// crash could lose it.
	Submitted func(txHash string)
}

// Result is the outcome of one attempt.
type Result struct {
	Outcome Outcome
	TxHash  string
	// Reason is the x402 reason of a failure.
	Reason string
}

// Settler settles payments: moves the authorized tokens to PayTo. Settle
// returns a Pending result, not an error, when the outcome is unknown; an
// error is a failure to even try (a bug, a closed settler), also retried.
type Settler interface {
	Settle(ctx context.Context, s *Settlement) (Result, error)
}

// RequirementJSON returns the requirement p paid, in its version's shape.
func (c *Challenge) RequirementJSON(version int, n *Network) json.RawMessage {
	var v any
	if version == 1 {
		for _, r := range c.AcceptsV1() {
			if r.Network == n.Name {
				v = r
			}
		}
	} else {
		v = c.Requirement(n)
	}
	b, _ := json.Marshal(v) // plain structs: cannot fail
	return b
}

// AuthorizationChecker reads a payment's authorization on chain. A used
// nonce is no proof of payment: only a transaction that holds this very
// authorization's transfer to PayTo is (docs/design.md §4, "Evidence of
// payment").
type AuthorizationChecker interface {
	// Check reports whether a's nonce is spent, by anyone: then res is
	// Settled with the transaction that paid PayTo, Failed when the nonce
	// was canceled or spent on another transfer, or Pending while that
	// transaction is not found.
	Check(ctx context.Context, n *Network, a *Authorization) (res Result, used bool, err error)
	// Confirm checks that transaction txHash, which someone else (a
	// facilitator) says settled a, did pay PayTo: Settled, Failed, or
	// Pending while its receipt is not found.
	Confirm(ctx context.Context, n *Network, a *Authorization, txHash string) (Result, error)
}

// ConfirmOnChain is a Settler whose word alone is not proof of payment (a
// facilitator): each settlement it reports is confirmed on chain by
// Checker before it counts.
type ConfirmOnChain struct {
	Settler Settler
	Checker AuthorizationChecker
}

// Settle implements Settler.
func (c *ConfirmOnChain) Settle(ctx context.Context, s *Settlement) (Result, error) {
	res, err := c.Settler.Settle(ctx, s)
	if err != nil || res.Outcome != Settled {
		return res, err
	}
	confirmed, err := c.Checker.Confirm(ctx, s.Network, &s.Payment.Authorization, res.TxHash)
	if err != nil {
		return Result{Outcome: Pending, TxHash: res.TxHash, Reason: "confirm on chain: " + Redact(err)}, nil
	}
	return confirmed, nil
}
