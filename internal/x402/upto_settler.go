package x402

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// The background settler of upto (docs/design.md §5). Each round takes the
// due authorizations, oldest first, and settles them in parallel (one
// transaction each: only the witness's facilitator may call settle, so
// nothing can batch them into one; the relayer's nonces are allocated one
// at a time, so concurrent transactions never collide). A round starts on
// every tick and as soon as a capture wakes it, but never two at once: what
// is captured during a round waits for the next, so rounds grow with load.

// Run settles due authorizations until ctx ends: every BatchInterval, and
// whenever a capture wakes it; and releases, every minute, authorizations
// left claimed by requests that died with a process.
func (u *Upto) Run(ctx context.Context) {
	u.wakeOnce.Do(func() { u.wake = make(chan struct{}, 1) })
	u.startedAt = time.Now()
	if _, err := u.SettleDue(ctx); err != nil && !errors.Is(err, context.Canceled) {
		u.Logger.Error("settle upto authorizations", "err", err)
	}
	tick := time.NewTicker(or(u.BatchInterval, 2*time.Second))
	defer tick.Stop()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-u.wake:
		case <-sweep.C:
			if _, err := u.ReleaseStale(ctx, time.Now().Add(-or(u.ClaimedTTL, time.Hour))); err != nil && !errors.Is(err, context.Canceled) {
				u.Logger.Error("release stale upto authorizations", "err", err)
			}
			continue
		}
		if _, err := u.SettleDue(ctx); err != nil && !errors.Is(err, context.Canceled) {
			u.Logger.Error("settle upto authorizations", "err", err)
		}
	}
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// SettleDue runs one round and returns how many authorizations settled.
func (u *Upto) SettleDue(ctx context.Context) (int, error) {
	now := time.Now()
	timeout := or(u.SettleTimeout, 30*time.Second)
	// A settlement in flight is retried once it is idle for two attempts,
	// or at once if a previous process sent it: nobody waits for it now.
	stale := now.Add(-2 * timeout)
	if u.startedAt.After(stale) {
		stale = u.startedAt
	}
	due, err := u.Ledger.DueUpto(ctx, stale, now.Add(-or(u.RetryInterval, time.Minute)), now, or(u.BatchSize, 64))
	if err != nil {
		return 0, err
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		settled int
		slots   = make(chan struct{}, or(u.Parallel, or(u.BatchSize, 64)))
	)
	for _, a := range due {
		if ctx.Err() != nil {
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			sctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			ok, err := u.settleOne(sctx, a)
			if err != nil {
				u.Logger.Error("settle upto authorization", "upto", a.ID, "err", err)
			}
			if ok {
				mu.Lock()
				settled++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return settled, nil
}

// settleOne makes one attempt at a and records what it learned.
func (u *Upto) settleOne(ctx context.Context, a *meter.UptoAuthorization) (bool, error) {
	p, err := DecodeUptoJSON(a.Payload)
	if err != nil {
		return false, err
	}
	n := u.network(p.ChainID)
	s, c := u.Settlers[n], u.Checkers[n]
	if n == nil || s == nil || c == nil {
		return false, errors.New("its network takes no upto payments any more: " + a.Network)
	}
	// A failed one stays failed until it settles: its payer stays refused.
	state, reason := meter.UptoSettling, ""
	if a.State == meter.UptoFailed {
		state, reason = meter.UptoFailed, a.Reason
	}
	if err := u.Ledger.BeginUpto(ctx, a.ID); meter.ErrorCode(err) == meter.ECodeConflict {
		// Another settler (another instance on the same database) began it
		// since it was listed: it is that one's to settle.
		return false, nil
	} else if err != nil {
		return false, err
	}
	var res Result
	if a.State != meter.UptoDue || a.Attempts > 0 || a.TxHash != "" {
		// An earlier attempt may have settled without our hearing of it.
		if used, spent, err := c.CheckUpto(ctx, n, p, a.Amount); err == nil && spent {
			res = used
		}
	}
	if res.TxHash == "" && res.Outcome == Pending {
		res, err = s.SettleUpto(ctx, &UptoSettlement{Payment: p, Network: n, Amount: a.Amount, TxHash: a.TxHash,
			Submitted: func(tx string) {
				a.TxHash = tx
				if err := u.Ledger.MarkUpto(context.WithoutCancel(ctx), a.ID, state, tx, reason); err != nil {
					u.Logger.Error("record upto settlement transaction", "upto", a.ID, "tx", tx, "err", err)
				}
			}})
		if err != nil {
			u.Logger.Error("settle upto", "upto", a.ID, "network", n.Name, "err", Redact(err))
			res = Result{Outcome: Pending, Reason: "settler error"}
		}
	}
	return u.record(context.WithoutCancel(ctx), a, n, p, state, res)
}

// record writes an attempt's outcome.
func (u *Upto) record(ctx context.Context, a *meter.UptoAuthorization, n *Network, p *UptoPayment, state meter.UptoState, res Result) (bool, error) {
	if res.TxHash == "" {
		res.TxHash = a.TxHash
	}
	switch res.Outcome {
	case Settled:
		if err := u.Ledger.SettleUpto(ctx, a.ID, res.TxHash); err != nil {
			return false, err
		}
		u.Checkers[n].Forget(n, p.Permit.From)
		if u.Observer != nil {
			u.Observer.UptoSettled(a.Amount, time.Since(a.CreatedAt))
		}
		u.Logger.Info("upto settled", "upto", a.ID, "payer", a.Payer, "amount", a.Amount.String(), "tx", res.TxHash)
		return true, nil
	case Failed:
		if u.Observer != nil {
			u.Observer.UptoFailed(res.Reason)
		}
		u.Logger.Warn("upto settlement failed; its payer is refused until it settles", "upto", a.ID, "payer", a.Payer,
			"reason", res.Reason, "tx", res.TxHash)
		return false, u.Ledger.MarkUpto(ctx, a.ID, meter.UptoFailed, res.TxHash, res.Reason)
	}
	u.Logger.Warn("upto settlement pending", "upto", a.ID, "tx", res.TxHash, "reason", res.Reason)
	if state == meter.UptoSettling && res.TxHash == "" {
		// Nothing was sent: due again, for the next round.
		return false, u.Ledger.MarkUpto(ctx, a.ID, meter.UptoDue, "", res.Reason)
	}
	return false, u.Ledger.MarkUpto(ctx, a.ID, state, res.TxHash, res.Reason)
}

func (u *Upto) network(chainID int64) *Network {
	for _, n := range u.Verifier.Networks {
		if n.ChainID == chainID {
			return n
		}
	}
	return nil
}

// ReleaseStale releases the authorizations claimed before `before` whose
// requests are not running here: they died with a process, unmetered, and
// nothing is settled for them (the loss is bounded by the caps).
func (u *Upto) ReleaseStale(ctx context.Context, before time.Time) (int, error) {
	stale, err := u.Ledger.ClaimedUpto(ctx, before)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range stale {
		if u.InFlight.Has(a.Key) {
			continue
		}
		if err := u.Ledger.ReleaseUpto(ctx, a.ID); err != nil {
			if meter.ErrorCode(err) == meter.ECodeConflict { // its request finished meanwhile
				continue
			}
			return n, err
		}
		u.Logger.Warn("upto authorization of a request that never finished released; nothing is settled", "upto", a.ID, "payer", a.Payer)
		n++
	}
	return n, nil
}
