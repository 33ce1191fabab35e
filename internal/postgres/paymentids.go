package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.PaymentIdentifiers = (*Store)(nil)

// checkIdentifier refuses a payment whose payer already claimed its
// identifier: as a replay when it claimed it for this same payment key
// (the first payment's id travels in the error), else as a conflict. It
// runs in ClaimPayment's transaction, under lockPaymentIdentifier (the
// lock upto's claims of the identifier take too: one namespace, claims
// of it on every instance in turn, each seeing the ones before), before
// the payment's own claim.
func checkIdentifier(ctx context.Context, tx pgx.Tx, p *meter.Payment) error {
	var id int64
	var key string
	err := tx.QueryRow(ctx, `SELECT i.payment_id, p.key FROM payment_identifiers i
		JOIN payments p ON p.id = i.payment_id WHERE i.payer = $1 AND i.id = $2`, p.Payer, p.Identifier).Scan(&id, &key)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// An upto payment's id is taken for exact too (one namespace).
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM upto_identifiers WHERE payer = $1 AND id = $2)`,
			p.Payer, p.Identifier).Scan(&taken); err != nil {
			return fmt.Errorf("check upto payment identifier: %w", err)
		}
		if taken {
			return idConflict(p.Identifier)
		}
		return nil
	case err != nil:
		return fmt.Errorf("check payment identifier: %w", err)
	case key == p.Key:
		return &meter.Error{Code: meter.ECodePaymentReplayed, Message: "this payment was already received under its payment identifier",
			Err: &meter.PaymentReplay{PaymentID: id}}
	}
	return idConflict(p.Identifier)
}

// idConflict refuses a payment under an identifier its payer already
// used for another payment.
func idConflict(id string) error {
	return meter.Errorf(meter.ECodePaymentIDConflict,
		"payment identifier %q was already used for another payment of this payer; use a new one for a new payment", id).
		WithDetail("payment_identifier", id)
}

// claimIdentifier records the identifier of payment p, just claimed as
// paymentID. Should a claim that did not take the lock have taken the
// identifier meanwhile, the primary key refuses this one, and it is
// refused as checkIdentifier would (the transaction rolls back).
func claimIdentifier(ctx context.Context, tx pgx.Tx, p *meter.Payment, paymentID, now int64) error {
	tag, err := tx.Exec(ctx, `INSERT INTO payment_identifiers (payer, id, payment_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (payer, id) DO NOTHING`, p.Payer, p.Identifier, paymentID, now)
	if err != nil {
		return fmt.Errorf("claim payment identifier: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if err := checkIdentifier(ctx, tx, p); err != nil {
			return err
		}
		return idConflict(p.Identifier)
	}
	return nil
}

// FindPaymentByIdentifier returns the payment payer claimed with id.
func (s *Store) FindPaymentByIdentifier(ctx context.Context, payer, id string) (*meter.Payment, error) {
	p, err := scanPayment(s.pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE id = (SELECT payment_id FROM payment_identifiers WHERE payer = $1 AND id = $2)`, payer, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
func (s *Store) PaymentCharge(ctx context.Context, id int64) (meter.Amount, bool, error) {
	var (
		key, purpose string
		acct         int64
		applied      *int64
	)
	err := s.pool.QueryRow(ctx, `SELECT key, purpose, COALESCE(account_id, 0), applied_at FROM payments WHERE id = $1`, id).
		Scan(&key, &purpose, &acct, &applied)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, meter.Errorf(meter.ECodeNotFound, "payment %d not found", id)
	}
	if err != nil || meter.PaymentPurpose(purpose) != meter.PurposeRequest || applied == nil {
		return 0, false, err
	}
	var amount int64
	err = s.pool.QueryRow(ctx, `SELECT amount FROM entries WHERE kind = 'usage' AND ref IN ($1, $2) AND account_id = $3`,
		"x402:"+requestRef(id), "x402:"+key, acct).Scan(&amount)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, err
	}
	return meter.Amount(-amount), true, nil
}
