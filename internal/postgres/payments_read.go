package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

const paymentColumns = `id, key, network, payer, wallet, amount, purpose, request_id, state, tx_hash, reason, attempts,
	payload, requirement, COALESCE(account_id, 0), created_at, updated_at`

func scanPayment(row pgx.Row) (*meter.Payment, error) {
	var (
		p                                 meter.Payment
		amount, attempts, created, update int64
		purpose, state                    string
		payload, requirement              string
	)
	if err := row.Scan(&p.ID, &p.Key, &p.Network, &p.Payer, &p.Wallet, &amount, &purpose, &p.RequestID, &state, &p.TxHash,
		&p.Reason, &attempts, &payload, &requirement, &p.AccountID, &created, &update); err != nil {
		return nil, err
	}
	p.Amount, p.Purpose, p.State, p.Attempts = meter.USDC(amount), meter.PaymentPurpose(purpose), meter.PaymentState(state), int(attempts)
	p.Payload, p.Requirement = []byte(payload), []byte(requirement)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(update).UTC()
	return &p, nil
}

// FindPayment returns one payment.
func (s *Store) FindPayment(ctx context.Context, id int64) (*meter.Payment, error) {
	p, err := scanPayment(s.pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, meter.Errorf(meter.ECodeNotFound, "payment %d not found", id)
	}
	return p, err
}

// OpenPayments lists the payments still claimed or settling, untouched
// since before.
func (s *Store) OpenPayments(ctx context.Context, before time.Time) ([]*meter.Payment, error) {
	return s.listPayments(ctx, `state IN ('claimed', 'settling') AND updated_at < $1`, before)
}

func (s *Store) listPayments(ctx context.Context, where string, before time.Time) ([]*meter.Payment, error) {
	return s.queryPayments(ctx, `SELECT `+paymentColumns+` FROM payments WHERE `+where+` ORDER BY id LIMIT 1000`,
		before.UnixMilli())
}

func (s *Store) queryPayments(ctx context.Context, query string, args ...any) ([]*meter.Payment, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*meter.Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SettledPayments lists settled payments by id, from the one after
// afterID, at most limit: the credits `paymeter ledger reconcile` checks.
func (s *Store) SettledPayments(ctx context.Context, afterID int64, limit int) ([]*meter.Payment, error) {
	return s.queryPayments(ctx, `SELECT `+paymentColumns+` FROM payments WHERE state = 'settled' AND id > $1 ORDER BY id LIMIT $2`,
		afterID, limit)
}
