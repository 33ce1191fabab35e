package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.PaymentIdentifiers = (*Ledger)(nil)

// checkIdentifier refuses a payment whose payer already claimed its
// identifier: as a replay when it claimed it for this same payment key
// (the first payment's id travels in the error), else as a conflict. It
// runs in ClaimPayment's transaction, before the payment's own claim.
func (b *batch) checkIdentifier(p *meter.Payment) (outcome, err error) {
	var id int64
	var key string
	err = b.tx.QueryRowContext(b.ctx, `SELECT i.payment_id, p.key FROM payment_identifiers i
		JOIN payments p ON p.id = i.payment_id WHERE i.payer = ? AND i.id = ?`, p.Payer, p.Identifier).Scan(&id, &key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// An upto payment's id is taken for exact too (one namespace).
		if taken, err := b.uptoIdentifierTaken(p.Payer, p.Identifier); taken == nil || err != nil {
			return nil, err
		}
		return idConflict(p.Identifier), nil
	case err != nil:
		return nil, fmt.Errorf("check payment identifier: %w", err)
	case key == p.Key:
		return &meter.Error{Code: meter.ECodePaymentReplayed, Message: "this payment was already received under its payment identifier",
			Err: &meter.PaymentReplay{PaymentID: id}}, nil
	}
	return idConflict(p.Identifier), nil
}

// idConflict refuses a payment under an identifier its payer already
// used for another payment.
func idConflict(id string) error {
	return meter.Errorf(meter.ECodePaymentIDConflict,
		"payment identifier %q was already used for another payment of this payer; use a new one for a new payment", id).
		WithDetail("payment_identifier", id)
}

// claimIdentifier records the identifier of payment p, just claimed.
func (b *batch) claimIdentifier(p *meter.Payment, now int64) error {
	_, err := b.tx.ExecContext(b.ctx, `INSERT INTO payment_identifiers (payer, id, payment_id, created_at) VALUES (?, ?, ?, ?)`,
		p.Payer, p.Identifier, p.ID, now)
	if err != nil {
		return fmt.Errorf("claim payment identifier: %w", err)
	}
	return nil
}

// FindPaymentByIdentifier returns the payment payer claimed with id.
func (l *Ledger) FindPaymentByIdentifier(ctx context.Context, payer, id string) (*meter.Payment, error) {
	p, err := scanPayment(l.db.read.QueryRowContext(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE id = (SELECT payment_id FROM payment_identifiers WHERE payer = ? AND id = ?)`, payer, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.Identifier = id
	return p, nil
}

// PaymentCharge returns what a request payment's request was charged: its
// usage entry, or 0 without one (a request that consumed nothing).
func (l *Ledger) PaymentCharge(ctx context.Context, id int64) (meter.Amount, bool, error) {
	var (
		key, purpose string
		acct         int64
		applied      sql.NullInt64
	)
	err := l.db.read.QueryRowContext(ctx, `SELECT key, purpose, COALESCE(account_id, 0), applied_at FROM payments WHERE id = ?`, id).
		Scan(&key, &purpose, &acct, &applied)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, meter.Errorf(meter.ECodeNotFound, "payment %d not found", id)
	}
	if err != nil || meter.PaymentPurpose(purpose) != meter.PurposeRequest || !applied.Valid {
		return 0, false, err
	}
	var amount int64
	err = l.db.read.QueryRowContext(ctx, `SELECT amount FROM entries WHERE kind = 'usage' AND ref IN (?, ?) AND account_id = ?`,
		"x402:"+requestRef(id), "x402:"+key, acct).Scan(&amount)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, err
	}
	return meter.Amount(-amount), true, nil
}
