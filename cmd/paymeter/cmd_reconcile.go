package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// reconcileTally counts what `paymeter ledger reconcile` found.
type reconcileTally struct {
	checked, bad, unchecked, open int
}

// reconcile checks every credited (settled) payment against its chain: the
// transaction on record must hold this payment's own transfer to the payTo
// it was quoted (chain.Checker.Confirm). A credit without one is reported
// BAD; a payment on a network without rpc_url is reported UNCHECKED; a
// payment still open past the settle window is listed as OPEN, for the
// operator to resolve. Errors reading the chain are BAD too: a credit is
// good only with its evidence in hand.
func reconcile(ctx context.Context, cfg *Config, l meter.Store, dial func(context.Context, string) (chain.Backend, error), out io.Writer) (reconcileTally, error) {
	var t reconcileTally
	backends, err := dialNetworks(ctx, cfg, dial)
	if err != nil {
		return t, err
	}
	checkers := map[string]*chain.Checker{} // by network name
	for name, b := range backends {
		checkers[name] = &chain.Checker{Backend: b}
	}
	for after := int64(0); ; {
		page, err := l.SettledPayments(ctx, after, 500)
		if err != nil {
			return t, err
		}
		for _, mp := range page {
			after = mp.ID
			c, ok := checkers[mp.Network]
			if !ok {
				t.unchecked++
				fmt.Fprintf(out, "UNCHECKED payment %d (%s): network %s has no rpc_url\n", mp.ID, describePayment(mp), mp.Network)
				continue
			}
			t.checked++
			if why := confirmCredit(ctx, c, mp); why != "" {
				t.bad++
				fmt.Fprintf(out, "BAD payment %d (%s): %s\n", mp.ID, describePayment(mp), why)
			}
		}
		if len(page) < 500 {
			break
		}
	}
	open, err := l.OpenPayments(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		return t, err
	}
	for _, mp := range open {
		t.open++
		fmt.Fprintf(out, "OPEN payment %d (%s): %s after %d attempts: %s\n", mp.ID, describePayment(mp), mp.State, mp.Attempts, mp.Reason)
	}
	return t, nil
}

// confirmCredit returns why a credited payment lacks its evidence, or "".
func confirmCredit(ctx context.Context, c *chain.Checker, mp *meter.Payment) string {
	p, err := x402.DecodePaymentJSON(mp.Payload)
	if err != nil {
		return "stored payment undecodable: " + err.Error()
	}
	// The payTo and token it was quoted, as stored with it: a later change
	// of configuration does not move what an old payment had to pay.
	var req struct {
		PayTo string `json:"payTo"`
		Asset string `json:"asset"`
	}
	if err := json.Unmarshal(mp.Requirement, &req); err != nil || !common.IsHexAddress(req.PayTo) || !common.IsHexAddress(req.Asset) {
		return "stored requirement undecodable"
	}
	n := &x402.Network{Name: mp.Network, Asset: common.HexToAddress(req.Asset), PayTo: common.HexToAddress(req.PayTo)}
	if mp.TxHash == "" {
		return "credited without a transaction"
	}
	res, err := c.Confirm(ctx, n, &p.Authorization, mp.TxHash)
	switch {
	case err != nil:
		return "chain unreadable: " + x402.Redact(err)
	case res.Outcome == x402.Settled:
		return ""
	case res.Outcome == x402.Pending:
		return "transaction " + mp.TxHash + " not found on chain"
	}
	return fmt.Sprintf("transaction %s holds no transfer of %s units from %s to payTo %s (%s)",
		mp.TxHash, p.Authorization.Value, p.Authorization.From.Hex(), n.PayTo.Hex(), res.Reason)
}

func describePayment(mp *meter.Payment) string {
	return fmt.Sprintf("%s of %s USDC, wallet %s, tx %s", mp.Purpose, mp.Amount, mp.Wallet, orNone(mp.TxHash))
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "none"
	}
	return s
}

// runReconcile implements `paymeter ledger reconcile`: exit non-zero when
// any credit lacks its transfer to payTo.
func runReconcile(ctx context.Context, f *dbFlags, stdout io.Writer, dial func(context.Context, string) (chain.Backend, error)) error {
	cfg, err := f.load()
	if err != nil {
		return err
	}
	return withLedger(f, func(l meter.Store) error {
		t, err := reconcile(ctx, cfg, l, dial, stdout)
		if err != nil {
			return fmt.Errorf("ledger reconcile: %w", err)
		}
		fmt.Fprintf(stdout, "reconcile: %d credited payments checked on chain, %d without their transfer to payTo, %d unchecked (no rpc_url), %d open\n",
			t.checked, t.bad, t.unchecked, t.open)
		u, err := reconcileUpto(ctx, cfg, l, dial, stdout) // cmd_reconcile_upto.go
		if err != nil {
			return fmt.Errorf("ledger reconcile: %w", err)
		}
		fmt.Fprintf(stdout, "reconcile: %d settled upto authorizations checked on chain, %d without their transfer to payTo, %d unchecked (no rpc_url), %d failed (payers refused), %d due or settling\n",
			u.checked, u.bad, u.unchecked, u.failed, u.open)
		if t.bad > 0 {
			return fmt.Errorf("ledger reconcile: %d credit(s) without their transfer to payTo", t.bad)
		}
		if u.bad > 0 {
			return fmt.Errorf("ledger reconcile: %d upto settlement(s) without their transfer to payTo", u.bad)
		}
		return nil
	})
}

// dialNetworks connects to the chain of each configured network that has
// an rpc_url, once per URL, and returns the backends by network name.
func dialNetworks(ctx context.Context, cfg *Config, dial func(context.Context, string) (chain.Backend, error)) (map[string]chain.Backend, error) {
	byName, byURL := map[string]chain.Backend{}, map[string]chain.Backend{}
	for _, nc := range cfg.X402.Networks {
		if nc.RPCURL == "" {
			continue
		}
		b, ok := byURL[nc.RPCURL]
		if !ok {
			var err error
			if b, err = dial(ctx, nc.RPCURL); err != nil {
				return nil, fmt.Errorf("connect to %s: %s", x402.RedactURL(nc.RPCURL), x402.Redact(err))
			}
			byURL[nc.RPCURL] = b
		}
		byName[nc.Name] = b
	}
	return byName, nil
}
