package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.Payments = (*Store)(nil)

// x402 exact payments on PostgreSQL: SQLite's rules (internal/sqlite
// payments.go), with what is claimed once decided by the database. A
// payment's key is claimed by INSERT … ON CONFLICT (key) DO NOTHING;
// each later step locks the payment's row (FOR UPDATE) before its
// account, so that of the instances that settle or apply one payment at
// once, one moves money and the others find it done. No batch of the
// writer locks a payment, so payment-then-account never makes a cycle.

// ClaimPayment records a verified payment as claimed. A request payment's
// AccountID is set to its wallet's account, when the wallet has one (a
// first payment's is created when it settles).
func (s *Store) ClaimPayment(ctx context.Context, p *meter.Payment) error {
	switch {
	case p.Key == "" || p.Payer == "" || p.Wallet == "" || p.Network == "":
		return fmt.Errorf("claim payment: key, payer, wallet and network are required")
	case p.Amount <= 0:
		return fmt.Errorf("claim payment: amount must be positive, got %d", p.Amount)
	case p.Purpose != meter.PurposeRequest && p.Purpose != meter.PurposeTopup:
		return fmt.Errorf("claim payment: unknown purpose %q", p.Purpose)
	}
	now := s.Now().UnixMilli()
	var id, account int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		id, account = 0, 0
		if p.Identifier != "" {
			if err := lockPaymentIdentifier(ctx, tx, p.Payer, p.Identifier); err != nil {
				return err
			}
			if err := checkIdentifier(ctx, tx, p); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO payments
			(key, network, payer, wallet, amount, purpose, request_id, state, payload, requirement, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'claimed', $8, $9, $10, $10) ON CONFLICT (key) DO NOTHING RETURNING id`,
			p.Key, p.Network, p.Payer, p.Wallet, int64(p.Amount), string(p.Purpose), p.RequestID,
			string(p.Payload), string(p.Requirement), now).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return meter.Errorf(meter.ECodePaymentUsed, "this payment authorization was already used; sign a new one")
		}
		if err != nil {
			return fmt.Errorf("claim payment: %w", err)
		}
		if p.Purpose == meter.PurposeRequest { // the account its request runs for, if the wallet has one yet
			if account, err = findWallet(ctx, tx, p.Wallet); err != nil {
				return err
			}
		}
		if p.Identifier != "" {
			return claimIdentifier(ctx, tx, p, id, now)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if p.Purpose == meter.PurposeRequest {
		p.AccountID = account
	}
	at := time.UnixMilli(now).UTC()
	p.ID, p.State, p.CreatedAt, p.UpdatedAt = id, meter.PaymentClaimed, at, at
	return nil
}

// MarkPayment moves an open payment to settling or failed. A payment
// already final is left alone and reported as a conflict.
func (s *Store) MarkPayment(ctx context.Context, id int64, state meter.PaymentState, txHash, reason string) error {
	if state != meter.PaymentSettling && state != meter.PaymentFailed {
		return fmt.Errorf("mark payment: use SettlePayment to settle; %q is not a state to mark", state)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE payments
		SET state = $1, tx_hash = CASE WHEN $2 = '' THEN tx_hash ELSE $2 END, reason = $3,
		    attempts = attempts + CASE WHEN $1 = 'settling' THEN 1 ELSE 0 END, updated_at = $4
		WHERE id = $5 AND state IN ('claimed', 'settling')`, string(state), txHash, reason, s.Now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("mark payment %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return meter.Errorf(meter.ECodeConflict, "payment %d is not open", id)
	}
	return nil
}

// paymentRow is what settling and applying a payment read of it, under
// its row's lock.
type paymentRow struct {
	key, wallet, purpose, state string
	amount, accountID           int64
	applied                     *int64
}

// lockPayment reads payment id under a lock held until the transaction
// ends: the other instances' settlements and applications of it wait, then
// read what this one wrote.
func lockPayment(ctx context.Context, tx pgx.Tx, id int64) (*paymentRow, error) {
	var r paymentRow
	err := tx.QueryRow(ctx, `SELECT key, wallet, amount, purpose, state, COALESCE(account_id, 0), applied_at
		FROM payments WHERE id = $1 FOR UPDATE`, id).
		Scan(&r.key, &r.wallet, &r.amount, &r.purpose, &r.state, &r.accountID, &r.applied)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, meter.Errorf(meter.ECodeNotFound, "payment %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("lock payment %d: %w", id, err)
	}
	return &r, nil
}

// SettlePayment marks the payment settled and credits its payer, once
// whatever the instances do. The account it returns is what the
// transaction saw: its ID, address, balance and held total; its other
// fields are not read.
func (s *Store) SettlePayment(ctx context.Context, id int64, txHash string) (*meter.Account, error) {
	now := s.Now().UnixMilli()
	var acct *meter.Account
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		acct, err = settlePayment(ctx, tx, id, txHash, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return acct, nil
}

// settlePayment is SettlePayment's transaction.
func settlePayment(ctx context.Context, tx pgx.Tx, id int64, txHash string, now int64) (*meter.Account, error) {
	r, err := lockPayment(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if r.state == string(meter.PaymentFailed) {
		return nil, meter.Errorf(meter.ECodeConflict, "payment %d failed; it cannot be settled", id)
	}
	acct := &meter.Account{Kind: meter.AccountWallet, Address: r.wallet}
	if acct.ID, err = walletAccount(ctx, tx, r.wallet, now); err != nil {
		return nil, err
	}
	a, err := lockedAccount(ctx, tx, acct.ID)
	if err != nil {
		return nil, err
	}
	if r.state != string(meter.PaymentSettled) { // else settled and credited before: nothing more to do
		var applied *int64 // a top-up is applied by its credit; a request payment by its request
		if meter.PaymentPurpose(r.purpose) == meter.PurposeTopup {
			if err := creditEntry(ctx, tx, acct.ID, a, meter.EntryTopup, meter.USDC(r.amount).Amount(), r.key, meter.Charge{}, now); err != nil {
				return nil, fmt.Errorf("credit payment %d: %w", id, err)
			}
			applied = &now
		}
		if err := markSettled(ctx, tx, id, txHash, acct.ID, applied, now); err != nil {
			return nil, err
		}
		if err := saveAccount(ctx, tx, acct.ID, a); err != nil {
			return nil, err
		}
	}
	acct.Balance, acct.Held = a.balance, a.held
	return acct, nil
}

func markSettled(ctx context.Context, tx pgx.Tx, id int64, txHash string, accountID int64, applied *int64, now int64) error {
	_, err := tx.Exec(ctx, `UPDATE payments SET state = 'settled', tx_hash = $1, reason = '',
		account_id = $2, applied_at = $3, updated_at = $4 WHERE id = $5`, txHash, accountID, applied, now, id)
	if err != nil {
		return fmt.Errorf("settle payment %d: %w", id, err)
	}
	return nil
}

// lockedAccount is lockAccount that refuses an account that is not there.
func lockedAccount(ctx context.Context, tx pgx.Tx, id int64) (*accountRow, error) {
	a, err := lockAccount(ctx, tx, id)
	if err == nil && a == nil {
		err = accountNotFound(id)
	}
	return a, err
}

// creditEntry books one credit on the locked account a; a reference
// already booked for the kind is an error, as it means an invariant
// broke (payments are claimed once).
func creditEntry(ctx context.Context, tx pgx.Tx, id int64, a *accountRow, kind meter.EntryKind, amount meter.Amount, ref string, c meter.Charge, now int64) error {
	_, booked, err := bookEntry(ctx, tx, id, a, kind, amount, ref, c, now)
	if err == nil && !booked {
		err = fmt.Errorf("%s entry %s already exists", kind, ref)
	}
	return err
}

// ApplyPayment books a settled request payment against its request's cost.
func (s *Store) ApplyPayment(ctx context.Context, id int64, c meter.Charge) (meter.Amount, error) {
	if c.Cost < 0 {
		return 0, fmt.Errorf("apply payment: negative cost %s", c.Cost)
	}
	now := s.Now().UnixMilli()
	var charged meter.Amount
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		r, err := lockPayment(ctx, tx, id)
		if err != nil {
			return err
		}
		charged, err = applyLocked(ctx, tx, id, r, c, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	return charged, nil
}

// applyLocked is ApplyPayment's work on the payment r, locked.
func applyLocked(ctx context.Context, tx pgx.Tx, id int64, r *paymentRow, c meter.Charge, now int64) (meter.Amount, error) {
	paid := meter.USDC(r.amount).Amount()
	switch {
	case r.state != string(meter.PaymentSettled) || meter.PaymentPurpose(r.purpose) != meter.PurposeRequest:
		return 0, meter.Errorf(meter.ECodeConflict, "payment %d is not a settled request payment", id)
	case r.applied != nil:
		return lateApply(ctx, tx, id, r.accountID, r.key, min(c.Cost, paid), c, now)
	}
	a, err := lockedAccount(ctx, tx, r.accountID)
	if err != nil {
		return 0, err
	}
	cost, err := bookPayment(ctx, tx, a, r.accountID, id, paid, c, now)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET applied_at = $1 WHERE id = $2`, now, id); err != nil {
		return 0, fmt.Errorf("apply payment %d: %w", id, err)
	}
	return cost, saveAccount(ctx, tx, r.accountID, a)
}

// bookPayment books the request payment id of paid, never applied
// before, on the locked wallet account a: c.Cost (capped at paid: the
// quote was the worst case) as payment and usage, the rest as change. It
// returns the cost. The caller saves a.
func bookPayment(ctx context.Context, tx pgx.Tx, a *accountRow, acct, id int64, paid meter.Amount, c meter.Charge, now int64) (meter.Amount, error) {
	cost, ref := min(c.Cost, paid), requestRef(id)
	if cost > 0 {
		if err := creditEntry(ctx, tx, acct, a, meter.EntryPayment, cost, ref, meter.Charge{}, now); err != nil {
			return 0, err
		}
		if err := creditEntry(ctx, tx, acct, a, meter.EntryUsage, -cost, "x402:"+ref, c, now); err != nil {
			return 0, err
		}
	}
	if change := paid - cost; change > 0 {
		if err := creditEntry(ctx, tx, acct, a, meter.EntryChange, change, ref, meter.Charge{}, now); err != nil {
			return 0, err
		}
	}
	return cost, nil
}

// requestRef is the reference of the journal entries of request payment
// id (its payment and change; its usage entry's is "x402:" + requestRef),
// as SQLite writes it: "pay:" and the id, zero-padded, so that new
// references sort last. Top-ups, and request payments booked before this
// form, are referenced by the key; what joins entries to payments takes
// both.
func requestRef(id int64) string { return fmt.Sprintf("pay:%016d", id) }

// requestRefSQL is requestRef in SQL, of the payments row p.
const requestRefSQL = `'pay:' || lpad(p.id::text, 16, '0')`

// lateApply charges cost to the payer's wallet for a payment applied
// before its request was metered: whole, as change, by a sweep that took
// the request for dead (another instance's, say). The request was served
// all the same, so it is charged from the wallet's available balance,
// never below zero. A second apply by the request itself is refused by
// the usage entry's reference.
func lateApply(ctx context.Context, tx pgx.Tx, id, accountID int64, key string, cost meter.Amount, c meter.Charge, now int64) (meter.Amount, error) {
	conflict := meter.Errorf(meter.ECodeConflict, "payment %d was already applied", id)
	if cost <= 0 {
		return 0, conflict
	}
	a, err := lockedAccount(ctx, tx, accountID)
	if err != nil {
		return 0, err
	}
	cost = min(cost, max(0, a.balance-a.held))
	// A usage entry under the key was booked by an earlier version.
	var legacy int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM entries WHERE kind = 'usage' AND ref = $1`, "x402:"+key).Scan(&legacy); err != nil {
		return 0, fmt.Errorf("apply payment %d: %w", id, err)
	}
	if legacy > 0 {
		return 0, conflict
	}
	_, booked, err := bookEntry(ctx, tx, accountID, a, meter.EntryUsage, -cost, "x402:"+requestRef(id), c, now)
	if err != nil {
		return 0, err
	}
	if !booked {
		return 0, conflict
	}
	return cost, saveAccount(ctx, tx, accountID, a)
}

// UnappliedPayments lists settled request payments never applied.
func (s *Store) UnappliedPayments(ctx context.Context, before time.Time) ([]*meter.Payment, error) {
	return s.listPayments(ctx, `state = 'settled' AND purpose = 'request' AND applied_at IS NULL AND updated_at < $1`, before)
}

// walletAccount finds the wallet's account or creates it without free
// credits: a wallet first seen through a payment gets none, then or
// later. Of instances creating one wallet's account at once, one inserts
// it and the others, waiting on the address's unique index, read it.
func walletAccount(ctx context.Context, tx pgx.Tx, address string, now int64) (int64, error) {
	id, err := findWallet(ctx, tx, address)
	if err != nil || id != 0 {
		return id, err
	}
	err = tx.QueryRow(ctx, `INSERT INTO accounts (kind, address, created_at) VALUES ('wallet', $1, $2)
		ON CONFLICT (address) DO NOTHING RETURNING id`, address, now).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		if id, err = findWallet(ctx, tx, address); err == nil && id == 0 {
			err = fmt.Errorf("wallet account of %s: inserted by another and not found", address)
		}
		return id, err
	}
	if err != nil {
		return 0, fmt.Errorf("create wallet account: %w", err)
	}
	return id, nil
}

// findWallet returns the id of the wallet's account, 0 when it has none.
func findWallet(ctx context.Context, tx pgx.Tx, address string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE address = $1`, address).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find wallet account: %w", err)
	}
	return id, nil
}
