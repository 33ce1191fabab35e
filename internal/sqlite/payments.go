package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.Payments = (*Ledger)(nil)

// runFunc runs fn in the writer's next batch and waits until it is durable.
func (l *Ledger) runFunc(fn func(b *batch) (outcome, err error)) error {
	o := newOp(opFunc)
	defer o.free()
	o.fn = fn
	return l.submit(o)
}

// ClaimPayment records a verified payment as claimed. A request payment's
// AccountID is set to its wallet's account, when the wallet has one (a
// first payment's is created when it settles).
func (l *Ledger) ClaimPayment(ctx context.Context, p *meter.Payment) error {
	switch {
	case p.Key == "" || p.Payer == "" || p.Wallet == "" || p.Network == "":
		return fmt.Errorf("claim payment: key, payer, wallet and network are required")
	case p.Amount <= 0:
		return fmt.Errorf("claim payment: amount must be positive, got %d", p.Amount)
	case p.Purpose != meter.PurposeRequest && p.Purpose != meter.PurposeTopup:
		return fmt.Errorf("claim payment: unknown purpose %q", p.Purpose)
	}
	now := l.db.Now()
	return l.runFunc(func(b *batch) (outcome, err error) {
		if p.Identifier != "" {
			if o, err := b.checkIdentifier(p); o != nil || err != nil {
				return o, err
			}
		}
		res, err := b.stmt("claimPayment").ExecContext(b.ctx,
			p.Key, p.Network, p.Payer, p.Wallet, int64(p.Amount), string(p.Purpose), p.RequestID,
			string(p.Payload), string(p.Requirement), now.UnixMilli(), now.UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("claim payment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return meter.Errorf(meter.ECodePaymentUsed, "this payment authorization was already used; sign a new one"), nil
		}
		p.ID, _ = res.LastInsertId()
		if p.Purpose == meter.PurposeRequest { // the account its request runs for, if the wallet has one yet
			if p.AccountID, err = b.lookupWallet(p.Wallet); err != nil {
				return nil, err
			}
		}
		if p.Identifier != "" {
			if err := b.claimIdentifier(p, now.UnixMilli()); err != nil {
				return nil, err
			}
		}
		p.State, p.CreatedAt, p.UpdatedAt = meter.PaymentClaimed, now, now
		return nil, nil
	})
}

// MarkPayment moves an open payment to settling or failed. A payment
// already final is left alone and reported as a conflict.
func (l *Ledger) MarkPayment(ctx context.Context, id int64, state meter.PaymentState, txHash, reason string) error {
	if state != meter.PaymentSettling && state != meter.PaymentFailed {
		return fmt.Errorf("mark payment: use SettlePayment to settle; %q is not a state to mark", state)
	}
	now := l.db.Now().UnixMilli()
	return l.runFunc(func(b *batch) (outcome, err error) {
		res, err := b.stmt("markPayment").ExecContext(b.ctx, string(state), txHash, txHash, reason, string(state), now, id)
		if err != nil {
			return nil, fmt.Errorf("mark payment %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return meter.Errorf(meter.ECodeConflict, "payment %d is not open", id), nil
		}
		return nil, nil
	})
}

// SettlePayment marks the payment settled and credits its payer. The
// account it returns is what the transaction saw: its ID, address, and
// balance and held total once committed (with the holds kept in memory,
// as FindAccountByID counts them), without a read of its own afterwards;
// its other fields are not read.
func (l *Ledger) SettlePayment(ctx context.Context, id int64, txHash string) (*meter.Account, error) {
	now := l.db.Now().UnixMilli()
	acct := &meter.Account{Kind: meter.AccountWallet}
	err := l.runFunc(func(b *batch) (outcome, err error) { return b.settlePayment(id, txHash, now, acct) })
	if err != nil {
		return nil, err
	}
	if held, ok := l.book.held(acct.ID); ok {
		acct.Held = held
	}
	return acct, nil
}

// settlePayment is SettlePayment's work in a batch; it fills in acct.
func (b *batch) settlePayment(id int64, txHash string, now int64, acct *meter.Account) (outcome, err error) {
	var (
		key, purpose, state string
		amount              int64
	)
	err = b.stmt("selectSettle").QueryRowContext(b.ctx, id).Scan(&key, &acct.Address, &amount, &purpose, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return meter.Errorf(meter.ECodeNotFound, "payment %d not found", id), nil
	}
	if err != nil {
		return nil, fmt.Errorf("settle payment %d: %w", id, err)
	}
	if state == string(meter.PaymentFailed) {
		return meter.Errorf(meter.ECodeConflict, "payment %d failed; it cannot be settled", id), nil
	}
	if acct.ID, _, err = b.walletAccountID(acct.Address, now); err != nil {
		return nil, err
	}
	// The balance as the batch leaves it (a retried batch reads it
	// anew): read here, so that nobody reads the account afterwards.
	a, err := b.account(acct.ID)
	if err != nil || a == nil {
		return accountNotFound(acct.ID), err
	}
	defer func() { acct.Balance, acct.Held = a.balance, a.held }()
	if state == string(meter.PaymentSettled) {
		return nil, nil // settled and credited before: nothing more to do
	}
	applied := any(nil) // a top-up is applied by its credit; a request payment by its request
	if meter.PaymentPurpose(purpose) == meter.PurposeTopup {
		if err := b.creditEntry(acct.ID, meter.EntryTopup, meter.USDC(amount).Amount(), key, meter.Charge{}, now); err != nil {
			return nil, fmt.Errorf("credit payment %d: %w", id, err)
		}
		applied = now
	}
	if _, err := b.stmt("settlePayment").ExecContext(b.ctx, txHash, acct.ID, applied, now, id); err != nil {
		return nil, fmt.Errorf("settle payment %d: %w", id, err)
	}
	return nil, nil
}

// ApplyPayment books a settled request payment against its request's cost.
func (l *Ledger) ApplyPayment(ctx context.Context, id int64, c meter.Charge) (meter.Amount, error) {
	if c.Cost < 0 {
		return 0, fmt.Errorf("apply payment: negative cost %s", c.Cost)
	}
	now := l.db.Now().UnixMilli()
	var charged meter.Amount
	err := l.runFunc(func(b *batch) (outcome, err error) { return b.applyPayment(id, c, now, &charged) })
	return charged, err
}

// applyPayment is ApplyPayment's work in a batch.
func (b *batch) applyPayment(id int64, c meter.Charge, now int64, charged *meter.Amount) (outcome, err error) {
	var (
		key, purpose, state string
		amount, acct        int64
		applied             sql.NullInt64
	)
	err = b.stmt("selectApply").QueryRowContext(b.ctx, id).Scan(&key, &amount, &purpose, &state, &acct, &applied)
	if errors.Is(err, sql.ErrNoRows) {
		return meter.Errorf(meter.ECodeNotFound, "payment %d not found", id), nil
	}
	if err != nil {
		return nil, fmt.Errorf("apply payment %d: %w", id, err)
	}
	switch {
	case state != string(meter.PaymentSettled) || meter.PaymentPurpose(purpose) != meter.PurposeRequest:
		return meter.Errorf(meter.ECodeConflict, "payment %d is not a settled request payment", id), nil
	case applied.Valid:
		return b.lateApply(id, acct, key, min(c.Cost, meter.USDC(amount).Amount()), c, now, charged)
	}
	a, err := b.account(acct)
	if err != nil || a == nil {
		return accountNotFound(acct), err
	}
	cost := b.bookPayment(a, acct, id, key, meter.USDC(amount).Amount(), c, now)
	if _, err := b.stmt("applyPayment").ExecContext(b.ctx, now, id); err != nil {
		return nil, fmt.Errorf("apply payment %d: %w", id, err)
	}
	*charged = cost
	return nil, nil
}

// bookPayment books the request payment id of paid, never applied
// before, on the wallet account a: c.Cost (capped at paid: the quote was
// the worst case) as payment and usage, the rest as change. It returns the
// cost. Not applied before (applied_at), none of these entries can be
// booked yet: they join the batch's one multi-row insert.
func (b *batch) bookPayment(a *acctState, acct, id int64, key string, paid meter.Amount, c meter.Charge, now int64) meter.Amount {
	cost, ref := min(c.Cost, paid), requestRef(id)
	if cost > 0 {
		b.queueEntry(a, acct, meter.EntryPayment, cost, ref, meter.Charge{}, now)
		b.queueEntry(a, acct, meter.EntryUsage, -cost, "x402:"+ref, c, now)
	}
	if change := paid - cost; change > 0 {
		b.queueEntry(a, acct, meter.EntryChange, change, ref, meter.Charge{}, now)
	}
	return cost
}

// requestRef is the reference of the journal entries of request payment
// id (its payment and change; its usage entry's is "x402:" + requestRef):
// "pay:" and the id, zero-padded. Ids grow, so each new reference sorts
// last and booking a payment appends to the journal's (kind, ref) index;
// under the payment's key, whose nonce is random, each booking wrote
// index pages at random and cost several times its hold's (docs/design.md
// §8). Top-ups, and request payments booked before this form, are
// referenced by the key; what joins entries to payments (ledger verify, a
// replayed payment's charge, a late apply) takes both.
func requestRef(id int64) string { return fmt.Sprintf("pay:%016d", id) }

// requestRefSQL is requestRef in SQL, of the payments row p.
const requestRefSQL = `printf('pay:%016d', p.id)`

// lateApply charges cost to the payer's wallet for a payment applied
// before its request was metered: whole, as change, by a sweep that took
// the request for dead (another process's, say). The request was served
// all the same, so it is charged from the wallet's available balance, never
// below zero, and never free while the balance lasts. A second apply by
// the request itself is refused by the usage entry's reference.
func (b *batch) lateApply(id, accountID int64, key string, cost meter.Amount, c meter.Charge, now int64, charged *meter.Amount) (outcome, err error) {
	conflict := meter.Errorf(meter.ECodeConflict, "payment %d was already applied", id)
	if cost <= 0 {
		return conflict, nil
	}
	a, err := b.account(accountID)
	if err != nil || a == nil {
		return accountNotFound(accountID), err
	}
	cost = min(cost, max(0, b.available(accountID, a)))
	ref := "x402:" + requestRef(id)
	if _, queued := b.refs[ref]; queued { // applied in this very batch
		return conflict, nil
	}
	// A usage entry under the key was booked by an earlier version.
	var legacy int
	if err := b.stmt("countUsageRef").QueryRowContext(b.ctx, "x402:"+key).Scan(&legacy); err != nil || legacy > 0 {
		return conflict, err
	}
	_, booked, err := b.entry(a, accountID, meter.EntryUsage, -cost, ref, c, now)
	if err != nil || !booked {
		return conflict, err
	}
	*charged = cost
	return nil, nil
}

// queueEntry adds one journal entry of the account a (loaded by
// b.account) to the batch's multi-row insert (insertUsage) and moves its
// balance: for entries that cannot be booked yet, as a reference already
// booked fails the whole batch (which is then retried op by op).
func (b *batch) queueEntry(a *acctState, accountID int64, kind meter.EntryKind, amount meter.Amount, ref string, c meter.Charge, now int64) {
	b.usage = appendEntry(b.usage, accountID, kind, amount, ref, &c, now)
	if kind == meter.EntryUsage {
		b.refs[ref] = struct{}{}
	}
	a.balance += amount
	a.dirty = true
}

// creditEntry inserts one journal entry on the account and moves its
// balance; a reference already booked for the kind fails the batch, as it
// means an invariant broke (payments are claimed once).
func (b *batch) creditEntry(accountID int64, kind meter.EntryKind, amount meter.Amount, ref string, c meter.Charge, now int64) error {
	a, err := b.account(accountID)
	if err != nil {
		return err
	}
	if a == nil {
		return fmt.Errorf("account %d not found", accountID)
	}
	_, booked, err := b.entry(a, accountID, kind, amount, ref, c, now)
	if err == nil && !booked {
		err = fmt.Errorf("%s entry %s already exists", kind, ref)
	}
	return err
}

// UnappliedPayments lists settled request payments never applied.
func (l *Ledger) UnappliedPayments(ctx context.Context, before time.Time) ([]*meter.Payment, error) {
	return l.listPayments(ctx, `state = 'settled' AND purpose = 'request' AND applied_at IS NULL AND updated_at < ?`, before)
}

// walletAccountID finds the wallet's account or creates it without free
// credits: a wallet first seen through a payment gets none, then or later.
func (b *batch) walletAccountID(address string, now int64) (id int64, created bool, err error) {
	id, created, _, err = b.walletAccount(address, now)
	return id, created, err
}

// walletAccount is walletAccountID that also says why an existing
// account's free credits were refused, if they were ("" otherwise).
func (b *batch) walletAccount(address string, now int64) (id int64, created bool, denied string, err error) {
	if id, ok := b.wallets.known[address]; ok {
		return id, false, "", nil
	}
	err = b.stmt("walletAccount").QueryRowContext(b.ctx, address).Scan(&id, &denied)
	if err == nil {
		if denied == "" {
			b.wallets.seen(address, id)
		}
		return id, false, denied, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, "", fmt.Errorf("find wallet account: %w", err)
	}
	res, err := b.stmt("insertWallet").ExecContext(b.ctx, address, now)
	if err != nil {
		return 0, false, "", fmt.Errorf("create wallet account: %w", err)
	}
	id, _ = res.LastInsertId()
	return id, true, "", nil
}

// lookupWallet returns the id of the wallet's account, 0 when it has none.
func (b *batch) lookupWallet(address string) (int64, error) {
	if id, ok := b.wallets.known[address]; ok {
		return id, nil
	}
	var id int64
	var denied string
	err := b.stmt("walletAccount").QueryRowContext(b.ctx, address).Scan(&id, &denied)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find wallet account: %w", err)
	}
	if denied == "" {
		b.wallets.seen(address, id)
	}
	return id, nil
}

const paymentColumns = `id, key, network, payer, wallet, amount, purpose, request_id, state, tx_hash, reason, attempts,
	payload, requirement, COALESCE(account_id, 0), created_at, updated_at`

func scanPayment(row interface{ Scan(...any) error }) (*meter.Payment, error) {
	var (
		p                        meter.Payment
		amount, created, updated int64
		purpose, state           string
		payload, requirement     string
	)
	if err := row.Scan(&p.ID, &p.Key, &p.Network, &p.Payer, &p.Wallet, &amount, &purpose, &p.RequestID, &state, &p.TxHash,
		&p.Reason, &p.Attempts, &payload, &requirement, &p.AccountID, &created, &updated); err != nil {
		return nil, err
	}
	p.Amount, p.Purpose, p.State = meter.USDC(amount), meter.PaymentPurpose(purpose), meter.PaymentState(state)
	p.Payload, p.Requirement = []byte(payload), []byte(requirement)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &p, nil
}

// FindPayment returns one payment.
func (l *Ledger) FindPayment(ctx context.Context, id int64) (*meter.Payment, error) {
	p, err := scanPayment(l.db.read.QueryRowContext(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, meter.Errorf(meter.ECodeNotFound, "payment %d not found", id)
	}
	return p, err
}

// OpenPayments lists the payments still claimed or settling, untouched
// since before.
func (l *Ledger) OpenPayments(ctx context.Context, before time.Time) ([]*meter.Payment, error) {
	return l.listPayments(ctx, `state IN ('claimed', 'settling') AND updated_at < ?`, before)
}

func (l *Ledger) listPayments(ctx context.Context, where string, before time.Time) ([]*meter.Payment, error) {
	return l.queryPayments(ctx, `SELECT `+paymentColumns+` FROM payments WHERE `+where+` ORDER BY id LIMIT 1000`,
		before.UnixMilli())
}

func (l *Ledger) queryPayments(ctx context.Context, query string, args ...any) ([]*meter.Payment, error) {
	rows, err := l.db.read.QueryContext(ctx, query, args...)
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
func (l *Ledger) SettledPayments(ctx context.Context, afterID int64, limit int) ([]*meter.Payment, error) {
	return l.queryPayments(ctx, `SELECT `+paymentColumns+` FROM payments WHERE state = 'settled' AND id > ? ORDER BY id LIMIT ?`,
		afterID, limit)
}
