package x402

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// Processor takes a payment from its header to a credit: decode, verify
// locally, claim its key in the ledger, settle, and credit the wallet, in
// that order, so that nothing is settled or credited that was not verified
// and claimed first, and nothing is credited before it is settled.
type Processor struct {
	Verifier *Verifier
	Ledger   meter.Payments
	// Settlers settle per network.
	Settlers map[*Network]Settler
	// Checkers read authorizations on chain, for the networks paymeter
	// can reach over JSON-RPC: they tell a retry's "nonce already used"
	// from a real refusal.
	Checkers map[*Network]AuthorizationChecker
	// MaxAttempts bounds how often an open payment on a network without a
	// chain to check is retried; then it is left open, unresolved, for the
	// operator to reconcile, never failed: its tokens may have moved
	// (default 20). With a chain, retries go on until the chain decides.
	MaxAttempts int
	// ApplyAfter is how long a settled request payment may wait for its
	// request to be metered before the sweep credits it whole as change
	// (its request died with a crash); at least the longest request.
	ApplyAfter time.Duration
	// SettleTimeout bounds how long a request waits for its settlement;
	// past it the payment stays open and the sweep finishes it.
	SettleTimeout time.Duration
	// ReplayWait bounds how long a payment sent again under its
	// payment-identifier waits for the first one's request to be metered
	// (default 30s).
	ReplayWait time.Duration
	Logger     *slog.Logger
	// InFlight names, by key, the payments whose requests this process
	// is still serving: ApplyStale leaves them to their requests.
	InFlight *meter.InFlight
}

// Paid is a settled payment and the wallet account it credited.
type Paid struct {
	Payment *meter.Payment
	Account *meter.Account
	// Version and Receipt answer the client in its protocol version.
	Version int
	Receipt SettleResponse
	// Unrecorded says the settlement is to be recorded with the request's
	// cost (meter.LazySettlement); Account then has only the ID of the
	// wallet's account, 0 when its first payment creates it.
	Unrecorded bool
}

// Pay verifies, claims and settles the payment in header (of the given
// version) against the challenge, for wallet, or the payer when wallet is
// empty: a top-up is credited to it at once, a request payment once its
// request is metered (ApplyPayment).
func (pr *Processor) Pay(ctx context.Context, version int, header string, ch *Challenge,
	purpose meter.PaymentPurpose, wallet, requestID string) (*Paid, error) {
	p, err := DecodePayment(version, header)
	if err != nil {
		return nil, malformed(version, err)
	}
	id, err := identifierOf(p)
	if err != nil {
		return nil, malformed(version, err)
	}
	if id != "" {
		if err := pr.sameAsBefore(ctx, p, id); err != nil {
			return nil, err
		}
	}
	n, err := pr.Verifier.Verify(ctx, p, ch.Amount, ch.MaxTimeoutSeconds)
	if unknownNetwork(err) {
		return nil, malformed(version, err)
	}
	if err != nil {
		return nil, err
	}
	if wallet == "" {
		wallet = p.PayerHex()
	}
	mp := &meter.Payment{
		Key: p.Key(n.Asset), Network: n.Name, Payer: p.PayerHex(), Wallet: wallet,
		Amount: ch.Amount, Purpose: purpose, RequestID: requestID,
		Payload: p.JSON, Requirement: ch.RequirementJSON(p.Version, n), Identifier: id,
	}
	if err := pr.Ledger.ClaimPayment(ctx, mp); err != nil {
		return nil, pr.claimRefused(ctx, p, err)
	}
	settleCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pr.settleTimeout())
	defer cancel()
	res, err := pr.settle(settleCtx, mp, p, n, true)
	if err != nil {
		return nil, err
	}
	receipt := SettleResponse{Success: res.Outcome == Settled, Transaction: res.TxHash, Network: p.Network, Payer: mp.Payer}
	switch res.Outcome {
	case Failed:
		return nil, Invalid(res.Reason, "the payment did not settle: %s", res.Reason).WithDetail("transaction", res.TxHash)
	case Pending:
		return nil, pending(ch.Amount, wallet, res.TxHash)
	}
	if lazy, ok := pr.Ledger.(meter.LazySettlement); ok && purpose == meter.PurposeRequest {
		// Recorded with the request's cost, in the commit that books it
		// (meter.LazySettlement): the request is served now.
		mp.State, mp.TxHash = meter.PaymentSettled, res.TxHash
		lazy.SettleLater(mp)
		return &Paid{Payment: mp, Account: &meter.Account{ID: mp.AccountID, Kind: meter.AccountWallet, Address: wallet},
			Version: p.Version, Receipt: receipt, Unrecorded: true}, nil
	}
	acct, err := pr.Ledger.SettlePayment(context.WithoutCancel(ctx), mp.ID, res.TxHash)
	if err != nil {
		return nil, err
	}
	mp.State, mp.TxHash, mp.AccountID = meter.PaymentSettled, res.TxHash, acct.ID
	return &Paid{Payment: mp, Account: acct, Version: p.Version, Receipt: receipt}, nil
}

// settle runs one settlement attempt and records what it learned: the
// transaction once sent, a final failure. A settled result is booked by
// the caller, with its credit. A retry (not first) is counted first; the
// first attempt needs no write of its own, as "claimed" says as much.
func (pr *Processor) settle(ctx context.Context, mp *meter.Payment, p *Payment, n *Network, first bool) (Result, error) {
	s, ok := pr.Settlers[n]
	if !ok {
		return Result{}, fmt.Errorf("no settler for network %s", n.Name)
	}
	checker := pr.Checkers[n]
	if !first {
		if err := pr.Ledger.MarkPayment(ctx, mp.ID, meter.PaymentSettling, mp.TxHash, ""); err != nil {
			return Result{}, err
		}
		mp.Attempts++
		// An earlier attempt may have settled without our hearing of it.
		if checker != nil {
			if res, used, err := checker.Check(ctx, n, &p.Authorization); err == nil && used {
				return pr.record(ctx, mp, res)
			}
		}
	}
	res, err := s.Settle(ctx, &Settlement{
		Payment: p, Network: n, Requirement: mp.Requirement, TxHash: mp.TxHash, Retry: !first,
		Submitted: func(tx string) {
			mp.TxHash = tx
			if err := pr.Ledger.MarkPayment(context.WithoutCancel(ctx), mp.ID, meter.PaymentSettling, tx, ""); err != nil {
				pr.Logger.Error("record settlement transaction", "payment", mp.ID, "tx", tx, "err", err)
			}
		},
	})
	if err != nil {
		pr.Logger.Error("settle payment", "payment", mp.ID, "network", n.Name, "err", Redact(err))
		res = Result{Outcome: Pending, Reason: "settler error"}
	}
	if res.Outcome == Failed {
		// A refusal may be for a nonce already spent, by our own earlier
		// attempt whose answer was lost: then PayTo was paid. Only the
		// chain can say, by the transaction that spent it (Check). Without
		// a chain, a refusal is final only on the first attempt, before
		// anything could have spent the nonce; a retry's refusal leaves the
		// payment open, neither credited nor failed, for reconciliation.
		switch {
		case checker != nil:
			if used, ok, err := checker.Check(ctx, n, &p.Authorization); err != nil {
				res = Result{Outcome: Pending, TxHash: res.TxHash, Reason: "check authorization: " + Redact(err)}
			} else if ok {
				res = used
			}
		case first:
		default:
			res = Result{Outcome: Pending, TxHash: res.TxHash, Reason: "refused on retry (" + res.Reason + "); an earlier attempt may have settled"}
			if mp.Attempts >= pr.maxAttempts() {
				pr.Logger.Error("payment unresolved after retries: reconcile it by hand (paymeter ledger reconcile); the authorization may have been spent",
					"payment", mp.ID, "key", mp.Key, "reason", res.Reason)
			}
		}
	}
	return pr.record(ctx, mp, res)
}

// record writes what an attempt learned: a final failure, or the
// transaction of a pending one. A settled result is booked by the caller.
func (pr *Processor) record(ctx context.Context, mp *meter.Payment, res Result) (Result, error) {
	if res.TxHash == "" {
		res.TxHash = mp.TxHash
	}
	if res.Outcome == Failed {
		if err := pr.Ledger.MarkPayment(context.WithoutCancel(ctx), mp.ID, meter.PaymentFailed, res.TxHash, res.Reason); err != nil {
			return Result{}, err
		}
	} else if res.Outcome == Pending {
		pr.Logger.Warn("payment settlement pending", "payment", mp.ID, "tx", res.TxHash, "reason", res.Reason)
		if res.TxHash != mp.TxHash {
			pr.Ledger.MarkPayment(context.WithoutCancel(ctx), mp.ID, meter.PaymentSettling, res.TxHash, res.Reason)
		}
	}
	return res, nil
}

func (pr *Processor) maxAttempts() int {
	if pr.MaxAttempts <= 0 {
		return 20
	}
	return pr.MaxAttempts
}

func (pr *Processor) settleTimeout() time.Duration {
	if pr.SettleTimeout <= 0 {
		return 30 * time.Second
	}
	return pr.SettleTimeout
}

// RetryOpen finishes the payments left open (settlement pending, or cut
// off by a crash) that were last touched before `before`: each is settled
// again — with the transaction it already sent, if any — and credited once
// settled. A payment for a request that was never served is credited all
// the same: it becomes balance of the payer's wallet. It returns how many
// reached a final state. On a ledger several instances share
// (SweepLocker) it runs in one instance at a time, and returns 0 at once
// in the others (sweeplock.go).
func (pr *Processor) RetryOpen(ctx context.Context, before time.Time) (int, error) {
	unlock, ok, err := pr.lockSweep(ctx)
	if err != nil || !ok {
		return 0, err // another instance is sweeping (sweeplock.go)
	}
	defer unlock()
	open, err := pr.Ledger.OpenPayments(ctx, pr.sharedCutoff(before, 2*pr.settleTimeout()))
	if err != nil {
		return 0, err
	}
	done := 0
	for _, mp := range open {
		if ctx.Err() != nil {
			break
		}
		p, err := DecodePaymentJSON(mp.Payload)
		if err != nil {
			pr.Logger.Error("stored payment undecodable", "payment", mp.ID, "err", err)
			continue
		}
		n := pr.Verifier.Network(p)
		if n == nil {
			pr.Logger.Error("stored payment's network is no longer configured", "payment", mp.ID, "network", mp.Network)
			continue
		}
		if pr.InFlight.Has(mp.Key) {
			// Its request still runs here: its settlement is being
			// recorded with its cost (meter.LazySettlement).
			continue
		}
		if mp.Attempts >= pr.maxAttempts() && pr.Checkers[n] == nil {
			// Out of attempts with no chain to ask: left open, unresolved,
			// for the operator (paymeter ledger reconcile lists it).
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, pr.settleTimeout())
		res, err := pr.settle(sctx, mp, p, n, false)
		cancel()
		if err != nil {
			// One payment's trouble (a conflict with a request that just
			// finished it) does not hold up the others.
			pr.Logger.Error("retry payment", "payment", mp.ID, "err", err)
			continue
		}
		switch res.Outcome {
		case Settled:
			if _, err := pr.Ledger.SettlePayment(ctx, mp.ID, res.TxHash); err != nil {
				pr.Logger.Error("credit settled payment", "payment", mp.ID, "err", err)
				continue
			}
			if mp.Purpose == meter.PurposeRequest {
				// Its request was answered long ago, unserved: all of it is change.
				if _, err := pr.Ledger.ApplyPayment(ctx, mp.ID, meter.Charge{RequestID: mp.RequestID}); err != nil {
					pr.Logger.Error("credit unserved payment as change", "payment", mp.ID, "err", err)
					continue
				}
			}
			pr.Logger.Info("open payment settled", "payment", mp.ID, "tx", res.TxHash, "wallet", mp.Wallet)
			done++
		case Failed:
			pr.Logger.Warn("open payment failed", "payment", mp.ID, "reason", res.Reason)
			done++
		}
	}
	return done, nil
}

// ApplyStale credits, whole, as change, the settled request payments whose
// requests were never metered (the process died while they ran), settled
// before `before`. A payment whose request is still running here
// (InFlight) is not stale: its request books it when it ends, and making
// it change under it would serve the request for free. It returns how
// many it applied. On a shared ledger it runs under RetryOpen's lock.
func (pr *Processor) ApplyStale(ctx context.Context, before time.Time) (int, error) {
	unlock, ok, err := pr.lockSweep(ctx)
	if err != nil || !ok {
		return 0, err // another instance is sweeping (sweeplock.go)
	}
	defer unlock()
	stale, err := pr.Ledger.UnappliedPayments(ctx, pr.sharedCutoff(before, pr.applyAfter()))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, mp := range stale {
		if pr.InFlight.Has(mp.Key) {
			continue
		}
		if _, err := pr.Ledger.ApplyPayment(ctx, mp.ID, meter.Charge{RequestID: mp.RequestID}); err != nil {
			if meter.ErrorCode(err) == meter.ECodeConflict { // its request finished meanwhile
				continue
			}
			return n, err
		}
		pr.Logger.Warn("payment of an unmetered request credited as change", "payment", mp.ID, "wallet", mp.Wallet)
		n++
	}
	return n, nil
}

func (pr *Processor) applyAfter() time.Duration {
	if pr.ApplyAfter <= 0 {
		return time.Hour
	}
	return pr.ApplyAfter
}

// Sweep runs RetryOpen every interval until ctx ends, for payments idle
// for twice the settle timeout (so that it never races a request still
// waiting for its own settlement), and ApplyStale.
func (pr *Processor) Sweep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := pr.RetryOpen(ctx, time.Now().Add(-2*pr.settleTimeout())); err != nil && !errors.Is(err, context.Canceled) {
			pr.Logger.Error("retry open payments", "err", err)
		}
		if _, err := pr.ApplyStale(ctx, time.Now().Add(-pr.applyAfter())); err != nil && !errors.Is(err, context.Canceled) {
			pr.Logger.Error("apply stale payments", "err", err)
		}
	}
}

// ReceiptHeaderValue is the receipt of a settled payment, for its header.
func (p *Paid) ReceiptHeaderValue() string { return EncodeReceipt(p.Receipt) }
