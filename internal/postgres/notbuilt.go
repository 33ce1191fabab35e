package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// The parts of meter.Store the PostgreSQL engine does not have yet (issue
// 16, being built): each refuses with errNotBuilt, and `serve` refuses a
// PostgreSQL database until none is left. Each group is replaced, in a
// file of its own, by the part that builds it.

func errNotBuilt(method string) error {
	return fmt.Errorf("postgres: %s is not available on PostgreSQL yet", method)
}

// x402 exact payments, their identifiers, and their reconciliation.

func (s *Store) ClaimPayment(ctx context.Context, p *meter.Payment) error {
	return errNotBuilt("ClaimPayment")
}
func (s *Store) MarkPayment(ctx context.Context, id int64, state meter.PaymentState, txHash, reason string) error {
	return errNotBuilt("MarkPayment")
}
func (s *Store) SettlePayment(ctx context.Context, id int64, txHash string) (*meter.Account, error) {
	return nil, errNotBuilt("SettlePayment")
}
func (s *Store) ApplyPayment(ctx context.Context, id int64, c meter.Charge) (meter.Amount, error) {
	return 0, errNotBuilt("ApplyPayment")
}
func (s *Store) UnappliedPayments(ctx context.Context, before time.Time) ([]*meter.Payment, error) {
	return nil, errNotBuilt("UnappliedPayments")
}
func (s *Store) FindPayment(ctx context.Context, id int64) (*meter.Payment, error) {
	return nil, errNotBuilt("FindPayment")
}
func (s *Store) OpenPayments(ctx context.Context, before time.Time) ([]*meter.Payment, error) {
	return nil, errNotBuilt("OpenPayments")
}
func (s *Store) SettleLater(p *meter.Payment) {}
func (s *Store) SettleApply(ctx context.Context, p *meter.Payment, c meter.Charge) (meter.Amount, error) {
	return 0, errNotBuilt("SettleApply")
}
func (s *Store) FindPaymentByIdentifier(ctx context.Context, payer, id string) (*meter.Payment, error) {
	return nil, errNotBuilt("FindPaymentByIdentifier")
}
func (s *Store) PaymentCharge(ctx context.Context, id int64) (meter.Amount, bool, error) {
	return 0, false, errNotBuilt("PaymentCharge")
}
func (s *Store) SettledPayments(ctx context.Context, afterID int64, limit int) ([]*meter.Payment, error) {
	return nil, errNotBuilt("SettledPayments")
}
