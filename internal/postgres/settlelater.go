package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.LazySettlement = (*Store)(nil)

// Settlements recorded with their application (meter.LazySettlement), as
// on SQLite (docs/design.md §5): a request payment's settlement is noted
// in the instance that settled it and written by the transaction that
// applies its request's cost; one still unwritten after PersistAfter (a
// long request) is written on its own. What a crash can lose is the
// record of a settlement of the last PersistAfter: its payment stays
// claimed, and the settlement sweep settles it again. Every write locks
// the payment's row first, so that the sweep of any instance, the
// request's application and a retried settlement record it once.

// defaultPersistAfter is Store.PersistAfter unless set.
const defaultPersistAfter = time.Second

// persistInterval is how often Maintain writes the settlements due.
const persistInterval = 250 * time.Millisecond

// SettleLater notes that the request payment p (p.ID, p.TxHash) has
// settled. Its settlement is written by SettleApply, or, if that has not
// come within PersistAfter, by PersistSettlements.
func (s *Store) SettleLater(p *meter.Payment) {
	s.unrecorded.Put(p.ID, meter.UnrecordedSettlement{TxHash: p.TxHash, At: s.Now().UnixMilli()})
}

// SettleApply records the settlement of p (p.ID, p.TxHash), unless it is
// recorded already, and applies it with c, in one transaction: what
// SettlePayment and then ApplyPayment do.
func (s *Store) SettleApply(ctx context.Context, p *meter.Payment, c meter.Charge) (meter.Amount, error) {
	if c.Cost < 0 {
		return 0, fmt.Errorf("apply payment: negative cost %s", c.Cost)
	}
	now := s.Now().UnixMilli()
	var charged meter.Amount
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		charged, err = settleApply(ctx, tx, p.ID, p.TxHash, c, now)
		return err
	})
	// Forgotten only once written (or refused for good): until then
	// Close, or PersistSettlements, writes it as well, which is harmless,
	// as both settle at most once.
	var answer *meter.Error
	if err == nil || errors.As(err, &answer) {
		s.unrecorded.Take(p.ID)
	}
	if err != nil {
		return 0, err
	}
	return charged, nil
}

// settleApply is SettleApply's transaction: one read and one write of the
// payment, under its lock, for both the settlement and the application.
func settleApply(ctx context.Context, tx pgx.Tx, id int64, txHash string, c meter.Charge, now int64) (meter.Amount, error) {
	r, err := lockPayment(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	switch {
	case r.state == string(meter.PaymentSettled): // recorded meanwhile, on its own
		return applyLocked(ctx, tx, id, r, c, now)
	case r.state == string(meter.PaymentFailed) || meter.PaymentPurpose(r.purpose) != meter.PurposeRequest:
		return 0, meter.Errorf(meter.ECodeConflict, "payment %d is not a request payment to settle", id)
	}
	acct, err := walletAccount(ctx, tx, r.wallet, now)
	if err != nil {
		return 0, err
	}
	a, err := lockedAccount(ctx, tx, acct)
	if err != nil {
		return 0, err
	}
	cost, err := bookPayment(ctx, tx, a, acct, id, meter.USDC(r.amount).Amount(), c, now)
	if err != nil {
		return 0, err
	}
	if err := markSettled(ctx, tx, id, txHash, acct, &now, now); err != nil {
		return 0, err
	}
	return cost, saveAccount(ctx, tx, acct, a)
}

// PersistSettlements writes, each in a transaction of its own, the
// settlements noted by SettleLater more than PersistAfter ago whose
// requests have not been applied yet: from then on they survive a crash.
func (s *Store) PersistSettlements(ctx context.Context) error {
	return s.persistSettlements(ctx, s.Now().Add(-s.PersistAfter).UnixMilli())
}

// persistSettlements writes the settlements noted at or before cutoff.
// One the database could not take (not a refusal) is noted again, to be
// written by the next round.
func (s *Store) persistSettlements(ctx context.Context, cutoff int64) error {
	var first error
	for id, u := range s.unrecorded.Due(cutoff) {
		now := s.Now().UnixMilli()
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			_, err := settlePayment(ctx, tx, id, u.TxHash, now)
			return err
		})
		var refused *meter.Error
		if err != nil && !errors.As(err, &refused) {
			s.unrecorded.Put(id, u)
			if first == nil {
				first = fmt.Errorf("record settlement of payment %d: %w", id, err)
			}
		}
	}
	return first
}

// persistAll writes every settlement still unrecorded: the store closes.
func (s *Store) persistAll() {
	if err := s.persistSettlements(context.Background(), math.MaxInt64); err != nil {
		s.logger.Error("record settlements on close", "err", err)
	}
}

// Maintain is the ledger's Maintain (expired holds) and, every
// persistInterval, PersistSettlements, until ctx ends.
func (s *Store) Maintain(ctx context.Context, expiryInterval time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Ledger.Maintain(ctx, expiryInterval)
	}()
	t := time.NewTicker(persistInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			<-done
			return
		case <-t.C:
			if err := s.PersistSettlements(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("record settlements", "err", err)
			}
		}
	}
}
