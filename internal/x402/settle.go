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

// AuthorizationChecker reads a payment's authorization on chain. used
// reports whether it was spent, by anyone: then res is Settled with the
// transaction that spent it, or Pending while that is not found. With a
// checker, a retried settlement that is refused because the nonce is
// spent is recognised as our own earlier success.
type AuthorizationChecker interface {
	Check(ctx context.Context, n *Network, a *Authorization) (res Result, used bool, err error)
}
