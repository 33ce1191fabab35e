package main

import (
	"context"
	"flag"
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
// that its payer is no longer refused for it (docs/design.md §5). The
// chain has the last word, before the ledger decides
// (meter.UptoWriteOffRefused). A nonce spent by a settlement that paid
// payTo settles the authorization instead, at any time. Else the chain's
// latest block must be past the permit's deadline and the margin (Permit2
// then refuses the permit in any later block), and the nonce, read there,
// unspent, or invalidated by its owner (it can never pay); one spent by
// nothing the node shows is written off only with --unchecked, as is an
// authorization of a network without an rpc_url.
func runWriteOff(ctx context.Context, args []string, stdout io.Writer, dial func(context.Context, string) (chain.Backend, error)) error {
	fs := newFlags("ledger write-off")
	var f dbFlags
	f.register(fs)
	reason := fs.String("reason", "", "why (required, printed in the authorization's reason)")
	unchecked := fs.Bool("unchecked", false, "write off without the chain's proof: a network without an rpc_url, or a nonce spent by nothing the node shows")
	idArg, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(idArg, 10, 64)
	if err != nil || id <= 0 || strings.HasPrefix(idArg, "+") {
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
		if a.State != meter.UptoFailed { // before the chain is asked; the ledger decides again
			return meter.UptoWriteOffRefused(a.ID, a.State, a.Deadline, time.Now())
		}
		settledBy, note, err := chainVerdict(ctx, cfg, a, *unchecked, dial)
		if err != nil {
			return err
		}
		if settledBy != "" {
			if err := l.SettleUpto(ctx, id, settledBy); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "not written off: upto %d settled on chain by %s, now booked (%s)\n", a.ID, settledBy, describeUpto(a))
			return nil
		}
		if err := l.WriteOffUpto(ctx, id, *reason+note); err != nil {
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

// parseWithID parses args, flags before, after or around one id, and
// returns the id.
func parseWithID(fs *flag.FlagSet, args []string) (string, error) {
	var ids []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", usagef("ledger write-off: %v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		ids = append(ids, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(ids) != 1 {
		return "", usagef("ledger write-off: want one id of a failed upto authorization, got %d", len(ids))
	}
	return ids[0], nil
}

// chainVerdict asks the chain of a's network about its permit: the
// transaction that settled it, if one paid payTo; else nil when it can be
// written off, with a note for the reason when the chain was not asked or
// its owner invalidated the nonce.
func chainVerdict(ctx context.Context, cfg *Config, a *meter.UptoAuthorization, unchecked bool,
	dial func(context.Context, string) (chain.Backend, error)) (settledBy, note string, err error) {
	rpc := ""
	for _, nc := range cfg.X402.Networks {
		if nc.Name == a.Network {
			rpc = nc.RPCURL
		}
	}
	if rpc == "" {
		if unchecked {
			return "", " (unchecked: no rpc_url)", nil
		}
		return "", "", fmt.Errorf("ledger write-off: network %s has no rpc_url, so the chain cannot say the permit is dead; write off with --unchecked only if you know it did not pay", a.Network)
	}
	b, err := dial(ctx, rpc)
	if err != nil {
		return "", "", fmt.Errorf("ledger write-off: connect to %s: %s", x402.RedactURL(rpc), x402.Redact(err))
	}
	// Chain time, not this host's: only a block past the deadline proves
	// that no later one can carry the permit. The head is read before the
	// nonce, so that the nonce is read in that block or a later one.
	head, err := b.HeaderByNumber(ctx, nil)
	if err != nil {
		return "", "", fmt.Errorf("ledger write-off: the chain's head is unreadable: %s", x402.Redact(err))
	}
	p, err := x402.DecodeUptoJSON(a.Payload)
	if err != nil {
		return "", "", fmt.Errorf("ledger write-off: stored payment undecodable: %w", err)
	}
	n := &x402.Network{Name: a.Network, Asset: p.Permit.Token, PayTo: p.Permit.To}
	res, spent, err := (&chain.UptoChecker{Backend: b}).CheckUpto(ctx, n, p, a.Amount)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("ledger write-off: the permit's nonce is unreadable on chain: %s", x402.Redact(err))
	case spent && res.Outcome == x402.Settled: // it paid payTo: settle it, whatever the time
		return res.TxHash, "", nil
	}
	if err := meter.UptoWriteOffRefused(a.ID, a.State, a.Deadline, time.Unix(int64(head.Time), 0)); err != nil {
		return "", "", fmt.Errorf("%w (by the chain's latest block, %d)", err, head.Number)
	}
	switch {
	case !spent:
		return "", "", nil
	case res.Outcome == x402.Failed: // its owner invalidated the nonce: it can never pay
		return "", " (nonce invalidated on chain by " + res.TxHash + ")", nil
	case unchecked:
		return "", " (unchecked: nonce spent on chain, no transfer to payTo found)", nil
	}
	return "", "", fmt.Errorf("ledger write-off: upto %d: its permit's nonce is spent on chain, but by no transfer to payTo this node shows (%s); if you know it did not pay, write off with --unchecked",
		a.ID, orNone(res.Reason))
}

// clipArg shortens an argument quoted back in an error.
func clipArg(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
