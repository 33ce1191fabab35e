package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/paymeter/paymeter/internal/meter"
)

// The payment-identifier of upto payments (migration 0011): one namespace
// per payer with exact's (paymentids.go), so that a request retried under
// its id is never served twice, whichever scheme pays it.

// uptoIdentifierTaken returns the upto authorization payer claimed with
// id (its row id and key), or nil.
func (b *batch) uptoIdentifierTaken(payer, id string) (*meter.UptoAuthorization, error) {
	var a meter.UptoAuthorization
	err := b.tx.QueryRowContext(b.ctx, `SELECT u.id, u.key FROM upto_identifiers i
		JOIN upto_authorizations u ON u.id = i.upto_id WHERE i.payer = ? AND i.id = ?`, payer, id).Scan(&a.ID, &a.Key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("check upto payment identifier: %w", err)
	}
	return &a, nil
}

// checkUptoIdentifier refuses an upto authorization whose payer already
// used its identifier: as a replay (the first's row id in the error) for
// the same permit, else, or when an exact payment holds it, as a conflict.
func (b *batch) checkUptoIdentifier(a *meter.UptoAuthorization) (outcome, err error) {
	first, err := b.uptoIdentifierTaken(a.Payer, a.Identifier)
	switch {
	case err != nil:
		return nil, err
	case first != nil && first.Key == a.Key:
		return &meter.Error{Code: meter.ECodePaymentReplayed, Message: "this payment was already received under its payment identifier",
			Err: &meter.PaymentReplay{PaymentID: first.ID}}, nil
	case first != nil:
		return idConflict(a.Identifier), nil
	}
	var n int
	if err := b.tx.QueryRowContext(b.ctx, `SELECT COUNT(*) FROM payment_identifiers WHERE payer = ? AND id = ?`,
		a.Payer, a.Identifier).Scan(&n); err != nil {
		return nil, fmt.Errorf("check payment identifier: %w", err)
	}
	if n > 0 {
		return idConflict(a.Identifier), nil
	}
	return nil, nil
}

// claimUptoIdentifier records the identifier of authorization a, just
// claimed.
func (b *batch) claimUptoIdentifier(a *meter.UptoAuthorization, now int64) error {
	if _, err := b.tx.ExecContext(b.ctx, `INSERT INTO upto_identifiers (payer, id, upto_id, created_at) VALUES (?, ?, ?, ?)`,
		a.Payer, a.Identifier, a.ID, now); err != nil {
		return fmt.Errorf("claim upto payment identifier: %w", err)
	}
	return nil
}

// FindUptoByIdentifier returns the authorization payer claimed with id.
func (l *Ledger) FindUptoByIdentifier(ctx context.Context, payer, id string) (*meter.UptoAuthorization, error) {
	a, err := scanUpto(l.db.read.QueryRowContext(ctx, `SELECT `+uptoColumns+` FROM upto_authorizations
		WHERE id = (SELECT upto_id FROM upto_identifiers WHERE payer = ? AND id = ?)`, payer, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.Identifier = id
	return a, nil
}
