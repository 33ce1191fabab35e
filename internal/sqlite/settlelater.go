package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.LazySettlement = (*Ledger)(nil)

// Settlements recorded with their application (meter.LazySettlement).
// An x402 `exact` request payment used to cost three durable commits, one
// after the other: the claim before settling, the settlement before
// forwarding, the application before answering. The claim must come
// first (nothing is settled that is not claimed); the settlement's record
// need not stand alone: the application's transaction records it too, and
// a request still running after PersistAfter has it recorded on its own,
// without waiting, as its hold would be stored. What a crash can lose is
// the record of a settlement of the last PersistAfter: its payment stays
// claimed, and the settlement sweep settles it again (a chain says it
// paid; a facilitator answers again, or, refusing a spent authorization
// without a chain to ask, leaves it for `paymeter ledger reconcile`).

// SettleLater notes that the request payment p (p.ID, p.TxHash) has
// settled. Its settlement is written by SettleApply, or, if that has not
// come within PersistAfter, by PersistSettlements.
func (l *Ledger) SettleLater(p *meter.Payment) {
	l.unrecorded.Put(p.ID, meter.UnrecordedSettlement{TxHash: p.TxHash, At: l.db.Now().UnixMilli()})
}

// SettleApply records the settlement of p (p.ID, p.TxHash), unless it is
// recorded already, and applies it with c, in one transaction: what
// SettlePayment and then ApplyPayment do.
func (l *Ledger) SettleApply(ctx context.Context, p *meter.Payment, c meter.Charge) (meter.Amount, error) {
	if c.Cost < 0 {
		return 0, fmt.Errorf("apply payment: negative cost %s", c.Cost)
	}
	// Forgotten only once written (or refused for good): until then the
	// ledger's close, or PersistSettlements, writes it as well, which is
	// harmless, as both writes settle at most once.
	now := l.db.Now().UnixMilli()
	var charged meter.Amount
	err := l.runFunc(func(b *batch) (outcome, err error) { return b.settleApply(p.ID, p.TxHash, c, now, &charged) })
	var answer *meter.Error
	if err == nil || errors.As(err, &answer) {
		l.unrecorded.Take(p.ID)
	}
	return charged, err
}

// settleApply is SettleApply's work in a batch: one read and one write
// of the payment for both the settlement and the application.
func (b *batch) settleApply(id int64, txHash string, c meter.Charge, now int64, charged *meter.Amount) (outcome, err error) {
	var (
		key, wallet, purpose, state string
		amount                      int64
	)
	err = b.stmt("selectSettle").QueryRowContext(b.ctx, id).Scan(&key, &wallet, &amount, &purpose, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return meter.Errorf(meter.ECodeNotFound, "payment %d not found", id), nil
	}
	if err != nil {
		return nil, fmt.Errorf("settle payment %d: %w", id, err)
	}
	switch {
	case state == string(meter.PaymentSettled): // recorded meanwhile, on its own
		return b.applyPayment(id, c, now, charged)
	case state == string(meter.PaymentFailed) || meter.PaymentPurpose(purpose) != meter.PurposeRequest:
		return meter.Errorf(meter.ECodeConflict, "payment %d is not a request payment to settle", id), nil
	}
	acct, _, err := b.walletAccountID(wallet, now)
	if err != nil {
		return nil, err
	}
	a, err := b.account(acct)
	if err != nil || a == nil {
		return accountNotFound(acct), err
	}
	cost := b.bookPayment(a, acct, id, key, meter.USDC(amount).Amount(), c, now)
	if _, err := b.stmt("settlePayment").ExecContext(b.ctx, txHash, acct, now, now, id); err != nil {
		return nil, fmt.Errorf("settle payment %d: %w", id, err)
	}
	*charged = cost
	return nil, nil
}

// PersistSettlements writes, without anyone waiting, the settlements
// noted by SettleLater more than PersistAfter ago whose requests have
// not been applied yet: from then on they survive a crash.
func (l *Ledger) PersistSettlements() error {
	return l.persistSettlements(l.db.Now().Add(-l.PersistAfter).UnixMilli())
}

func (l *Ledger) persistSettlements(cutoff int64) error {
	due := l.unrecorded.Due(cutoff)
	for id, s := range due {
		o := newOp(opFunc)
		o.async = true
		now := l.db.Now().UnixMilli()
		o.fn = func(b *batch) (outcome, err error) { return b.settlePayment(id, s.TxHash, now, &meter.Account{}) }
		if err := l.send(o); err != nil {
			o.free()
			for id, s := range due { // not sent: still to be written
				l.unrecorded.Put(id, s)
			}
			return err
		}
		delete(due, id)
	}
	return nil
}
