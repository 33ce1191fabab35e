package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// uptoTally counts what reconcile found of x402 upto authorizations.
type uptoTally struct {
	checked, bad, unchecked, failed, open int
}

// reconcileUpto checks every settled upto authorization against its
// chain: the transaction on record must hold the permit's own transfer of
// the settled amount from the payer to the payTo it signed, through the
// upto proxy (chain.UptoChecker.ConfirmUpto). It lists, too, the failed
// ones (their payers are refused until they settle) and those due or
// settling for more than an hour.
func reconcileUpto(ctx context.Context, cfg *Config, l meter.Store, dial func(context.Context, string) (chain.Backend, error), out io.Writer) (uptoTally, error) {
	var t uptoTally
	backends, err := dialNetworks(ctx, cfg, dial)
	if err != nil {
		return t, err
	}
	checkers := map[string]*chain.UptoChecker{} // by network name
	for name, b := range backends {
		checkers[name] = &chain.UptoChecker{Backend: b}
	}
	for after := int64(0); ; {
		page, err := l.SettledUpto(ctx, after, 500)
		if err != nil {
			return t, err
		}
		for _, a := range page {
			after = a.ID
			c, ok := checkers[a.Network]
			if !ok {
				t.unchecked++
				fmt.Fprintf(out, "UNCHECKED upto %d (%s): network %s has no rpc_url\n", a.ID, describeUpto(a), a.Network)
				continue
			}
			t.checked++
			if why := confirmUpto(ctx, c, a); why != "" {
				t.bad++
				fmt.Fprintf(out, "BAD upto %d (%s): %s\n", a.ID, describeUpto(a), why)
			}
		}
		if len(page) < 500 {
			break
		}
	}
	failed, err := l.FailedUpto(ctx)
	if err != nil {
		return t, err
	}
	for _, a := range failed {
		t.failed++
		fmt.Fprintf(out, "FAILED upto %d (%s): %s; its payer is refused until it settles (deadline %s)\n",
			a.ID, describeUpto(a), a.Reason, a.Deadline.Format(time.RFC3339))
	}
	stats, err := l.FindUptoStats(ctx)
	if err != nil {
		return t, err
	}
	for _, st := range []meter.UptoState{meter.UptoDue, meter.UptoSettling} {
		t.open += int(stats.Count[st])
	}
	return t, nil
}

// confirmUpto returns why a settled upto authorization lacks its
// evidence on chain, or "".
func confirmUpto(ctx context.Context, c *chain.UptoChecker, a *meter.UptoAuthorization) string {
	p, err := x402.DecodeUptoJSON(a.Payload)
	if err != nil {
		return "stored payment undecodable: " + err.Error()
	}
	if a.TxHash == "" {
		return "settled without a transaction"
	}
	// The token and payTo it signed, as stored with it: a later change of
	// configuration does not move what an old permit paid.
	n := &x402.Network{Name: a.Network, Asset: p.Permit.Token, PayTo: p.Permit.To}
	if !common.IsHexAddress(a.Token) || common.HexToAddress(a.Token) != p.Permit.Token {
		return "stored token differs from the permit's"
	}
	res, err := c.ConfirmUpto(ctx, n, p, a.Amount, a.TxHash)
	switch {
	case err != nil:
		return "chain unreadable: " + x402.Redact(err)
	case res.Outcome == x402.Settled:
		return ""
	case res.Outcome == x402.Pending:
		return "transaction " + a.TxHash + " not found on chain"
	}
	return fmt.Sprintf("transaction %s holds no transfer of %s USDC from %s to payTo %s through the upto proxy (%s)",
		a.TxHash, a.Amount, a.Payer, p.Permit.To.Hex(), res.Reason)
}

func describeUpto(a *meter.UptoAuthorization) string {
	return fmt.Sprintf("%s USDC of at most %s, payer %s, request %s, tx %s", a.Amount, a.Max, a.Payer, orNone(a.RequestID), orNone(a.TxHash))
}
