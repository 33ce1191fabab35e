package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// maxWriteOffReason bounds the reason an operator gives a write-off.
const maxWriteOffReason = 200

// runWriteOff implements `paymeter ledger write-off ID --reason TEXT`: it
// gives up on a failed upto authorization that can no longer settle, so
// that its payer is no longer refused for it (docs/design.md §5). Before
// the ledger decides (meter.UptoWriteOffRefused), the permit's nonce is
// read on its chain: a nonce spent there means the permit may have paid,
// and reconcile, not a write-off, is the answer. A network without an
// rpc_url is written off only with --unchecked.
func runWriteOff(ctx context.Context, args []string, stdout io.Writer, dial func(context.Context, string) (chain.Backend, error)) error {
	fs := newFlags("ledger write-off")
	var f dbFlags
	f.register(fs)
	reason := fs.String("reason", "", "why (required, printed in the authorization's reason)")
	unchecked := fs.Bool("unchecked", false, "write off without reading the permit's nonce on chain (a network without an rpc_url)")
	// The id comes first, or last after the flags.
	idArg, rest := "", args
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		idArg, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return usagef("ledger write-off: %v", err)
	}
	switch {
	case idArg == "" && fs.NArg() == 1:
		idArg = fs.Arg(0)
	case fs.NArg() > 0 || idArg == "":
		return usagef("ledger write-off: want one id of a failed upto authorization")
	}
	id, err := strconv.ParseInt(idArg, 10, 64)
	if err != nil || id <= 0 {
		return usagef("ledger write-off: %q is not an authorization id", clipArg(idArg))
	}
	if err := checkWriteOffReason(*reason); err != nil {
		return err
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	return withLedger(&f, func(l meter.Store) error {
		a, err := l.FindUpto(ctx, id)
		if err != nil {
			return err
		}
		// Refused here too, before the chain is asked; the ledger decides.
		if err := meter.UptoWriteOffRefused(a.ID, a.State, a.Deadline, time.Now()); err != nil {
			return err
		}
		if err := checkNonceUnspent(ctx, cfg, a, *unchecked, dial); err != nil {
			return err
		}
		if err := l.WriteOffUpto(ctx, id, *reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "written off: upto %d (%s); its payer is no longer refused for it\n", a.ID, describeUpto(a))
		return nil
	})
}

// checkWriteOffReason requires a reason of printable ASCII, bounded.
func checkWriteOffReason(reason string) error {
	if reason == "" || len(reason) > maxWriteOffReason {
		return usagef("ledger write-off: --reason must be 1 to %d characters", maxWriteOffReason)
	}
	for i := 0; i < len(reason); i++ {
		if c := reason[i]; c < 0x20 || c > 0x7e {
			return usagef("ledger write-off: --reason must be printable ASCII")
		}
	}
	return nil
}

// checkNonceUnspent refuses a write-off of a permit whose Permit2 nonce is
// spent on its chain (or cannot be read there).
func checkNonceUnspent(ctx context.Context, cfg *Config, a *meter.UptoAuthorization, unchecked bool,
	dial func(context.Context, string) (chain.Backend, error)) error {
	backends, err := dialNetworks(ctx, cfg, dial)
	if err != nil {
		return err
	}
	b, ok := backends[a.Network]
	if !ok {
		if unchecked {
			return nil
		}
		return fmt.Errorf("ledger write-off: network %s has no rpc_url, so the permit's nonce cannot be read on chain; write off with --unchecked only if you know it is unspent", a.Network)
	}
	p, err := x402.DecodeUptoJSON(a.Payload)
	if err != nil {
		return fmt.Errorf("ledger write-off: stored payment undecodable: %w", err)
	}
	n := &x402.Network{Name: a.Network, Asset: p.Permit.Token, PayTo: p.Permit.To}
	res, spent, err := (&chain.UptoChecker{Backend: b}).CheckUpto(ctx, n, p, a.Amount)
	switch {
	case err != nil:
		return fmt.Errorf("ledger write-off: the permit's nonce is unreadable on chain: %s", x402.Redact(err))
	case spent:
		return fmt.Errorf("ledger write-off: upto %d: its permit's nonce is spent on chain (%s %s); run paymeter ledger reconcile, the settler records what paid",
			a.ID, res.Outcome, orNone(res.Reason))
	}
	return nil
}

// clipArg shortens an argument quoted back in an error.
func clipArg(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
