package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/paymeter/paymeter/internal/meter"
)

// The payment-identifier of upto payments (migration 0011): claimed in
// ClaimUpto's transaction, in the one namespace per payer that exact
// payments use too (paymentids.go).

// checkUptoIdentifier refuses an authorization whose payer already claimed
// its identifier: as a replay when for this same permit (key), naming the
// first authorization, else as a conflict, an exact payment's id included.
// It runs first in ClaimUpto: a replay is answered, never refused for its
// nonce or the caps.
func (b *batch) checkUptoIdentifier(a *meter.UptoAuthorization) (outcome, err error) {
	o, err := b.identifierOwner(a.Payer, a.Identifier)
	switch {
	case err != nil || o == nil:
		return nil, err
	case o.uptoID != 0 && o.key == a.Key:
		return &meter.Error{Code: meter.ECodePaymentReplayed, Message: "this payment was already received under its payment identifier",
			Err: &meter.UptoReplay{UptoID: o.uptoID}}, nil
	}
	return identifierConflict(a.Identifier), nil
}

// claimUptoIdentifier records the identifier of authorization a, just
// claimed.
func (b *batch) claimUptoIdentifier(a *meter.UptoAuthorization, now int64) error {
	_, err := b.tx.ExecContext(b.ctx, `INSERT INTO payment_identifiers (payer, id, upto_id, created_at) VALUES (?, ?, ?, ?)`,
		a.Payer, a.Identifier, a.ID, now)
	if err != nil {
		return fmt.Errorf("claim payment identifier: %w", err)
	}
	return nil
}

// FindUptoByIdentifier returns the authorization payer claimed with id.
func (l *Ledger) FindUptoByIdentifier(ctx context.Context, payer, id string) (*meter.UptoAuthorization, error) {
	a, err := scanUpto(l.db.read.QueryRowContext(ctx, `SELECT `+uptoColumns+` FROM upto_authorizations
		WHERE id = (SELECT upto_id FROM payment_identifiers WHERE payer = ? AND id = ?)`, payer, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.Identifier = id
	return a, nil
}
