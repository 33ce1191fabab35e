package httpapi

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
)

// headerBalance is what the payer may still spend, set on a metered
// answer where it is known before the body (docs/design.md §2).
const headerBalance = "X-Paymeter-Balance"

// spendable is what the payer may still spend, as far as it may be told
// (meter.BalancePayer, docs/security.md M6): a request that paid for
// itself with x402 has no balance to tell. ok is false when there is
// nothing to tell.
func (s *Server) spendable(ctx context.Context, m *metered) (left meter.Amount, ok bool) {
	bp, isBalance := m.payer.(meter.BalancePayer)
	if !isBalance {
		return 0, false
	}
	left, ok, err := bp.Spendable(ctx)
	if err != nil {
		s.Logger.Warn("read the balance for X-Paymeter-Balance", "request_id", m.requestID, "err", err)
		return 0, false
	}
	return left, ok
}

// setBalance sets X-Paymeter-Balance: after the capture of a whole
// answer, what is left; at the start of a stream, what is left with the
// stream's worst case still held, a lower bound of what will be left.
func (s *Server) setBalance(c *fiber.Ctx, m *metered) {
	if left, ok := s.spendable(c.UserContext(), m); ok {
		c.Set(headerBalance, left.String())
	}
}

// withAffordable adds details.affordable_max_tokens to a refused hold:
// the largest max_tokens that what the principal may spend covers, with
// the request's worst-case input and choices, so that a client can retry
// smaller (0 when not even the input is covered; never above the
// request's own output bound). A sub-principal refused because the app's
// balance is short gets none, since it would disclose that balance (M6);
// one refused by its own cap gets it from what its cap leaves.
func (s *Server) withAffordable(ctx context.Context, err error, p *meter.Principal, r route, info upstream.RequestInfo, price meter.Price) error {
	var me *meter.Error
	if r.embeddings || r.api == upstream.APIImages || !errors.As(err, &me) {
		return err
	}
	var budget meter.Amount
	var lookup error
	switch {
	case me.Code == meter.ECodeSpendCapExceeded && p.Budget != nil:
		var use meter.BudgetUse
		use, lookup = s.Ledger.FindBudgetUse(ctx, p.AccountID, *p.Budget)
		budget = max(0, p.Budget.Cap-use.Spent-use.Held)
	case me.Code == meter.ECodeInsufficientCredit && p.Subject == "":
		budget, lookup = s.Ledger.Available(ctx, p.AccountID)
	default:
		return err
	}
	if lookup != nil {
		return err
	}
	n := price.AffordableOutput(price.WorstInput(info.InputBound(price)), max(info.N, 1), max(budget, 0))
	me.WithDetail("affordable_max_tokens", min(n, info.OutputBound(price)))
	return err
}
