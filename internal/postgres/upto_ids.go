package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

// The payment-identifier of upto payments (migration 0011): one namespace
// per payer with exact's (payment_identifiers), so that a request retried
// under its id is never served twice, whichever scheme pays it.

// lockPaymentIdentifier takes, until the transaction ends, the advisory
// lock of payer's payment identifier id, the one namespace both schemes
// share: a claim holding it sees every claim of that identifier committed
// before, in either table. Exact's claims must take the same lock (this
// key) for the two schemes never to claim one identifier at once; upto
// claims of one payer are serialized by its exposure row already.
func lockPaymentIdentifier(ctx context.Context, tx pgx.Tx, payer, id string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('payment-identifier:' || $1 || '/' || $2, 0))`,
		payer, id); err != nil {
		return fmt.Errorf("lock payment identifier: %w", err)
	}
	return nil
}

// checkUptoIdentifier refuses an upto authorization whose payer already
// used its identifier: as a replay (the first's row id in the error) for
// the same permit, else, or when an exact payment holds it, as a conflict.
func checkUptoIdentifier(ctx context.Context, tx pgx.Tx, a *meter.UptoAuthorization) error {
	if err := lockPaymentIdentifier(ctx, tx, a.Payer, a.Identifier); err != nil {
		return err
	}
	var firstID int64
	var firstKey string
	err := tx.QueryRow(ctx, `SELECT u.id, u.key FROM upto_identifiers i
		JOIN upto_authorizations u ON u.id = i.upto_id WHERE i.payer = $1 AND i.id = $2`, a.Payer, a.Identifier).Scan(&firstID, &firstKey)
	switch {
	case err == nil && firstKey == a.Key:
		return &meter.Error{Code: meter.ECodePaymentReplayed, Message: "this payment was already received under its payment identifier",
			Err: &meter.PaymentReplay{PaymentID: firstID}}
	case err == nil:
		return uptoIDConflict(a.Identifier)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("check upto payment identifier: %w", err)
	}
	var exact bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payment_identifiers WHERE payer = $1 AND id = $2)`,
		a.Payer, a.Identifier).Scan(&exact); err != nil {
		return fmt.Errorf("check payment identifier: %w", err)
	}
	if exact {
		return uptoIDConflict(a.Identifier)
	}
	return nil
}

// uptoIDConflict is SQLite's idConflict (internal/sqlite/paymentids.go).
func uptoIDConflict(id string) error {
	return meter.Errorf(meter.ECodePaymentIDConflict,
		"payment identifier %q was already used for another payment of this payer; use a new one for a new payment", id).
		WithDetail("payment_identifier", id)
}

// claimUptoIdentifier records the identifier of authorization a, just
// claimed as upto_id; the primary key refuses a second claim that got
// past the checks.
func claimUptoIdentifier(ctx context.Context, tx pgx.Tx, a *meter.UptoAuthorization, uptoID, now int64) error {
	res, err := tx.Exec(ctx, `INSERT INTO upto_identifiers (payer, id, upto_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (payer, id) DO NOTHING`, a.Payer, a.Identifier, uptoID, now)
	if err != nil {
		return fmt.Errorf("claim upto payment identifier: %w", err)
	}
	if res.RowsAffected() == 0 {
		return uptoIDConflict(a.Identifier)
	}
	return nil
}

// FindUptoByIdentifier returns the authorization payer claimed with id.
func (l *Ledger) FindUptoByIdentifier(ctx context.Context, payer, id string) (*meter.UptoAuthorization, error) {
	a, err := scanUpto(l.pool.QueryRow(ctx, `SELECT `+uptoColumns+` FROM upto_authorizations
		WHERE id = (SELECT upto_id FROM upto_identifiers WHERE payer = $1 AND id = $2)`, payer, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.Identifier = id
	return a, nil
}
