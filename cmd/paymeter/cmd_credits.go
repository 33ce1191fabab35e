package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// runCredits implements `paymeter credits grant|balance|history`.
func runCredits(ctx context.Context, args []string, stdout io.Writer) error {
	verb, rest, err := subcommand("credits", args, "grant", "balance", "history")
	if err != nil {
		return err
	}
	fs := newFlags("credits " + verb)
	var f dbFlags
	f.register(fs)
	account := fs.Int64("account", 0, "account id")
	amount := fs.String("amount", "", "credits, as a decimal (grant)")
	ref := fs.String("ref", "", "unique reference; granting twice with one ref books once (grant)")
	limit := fs.Int("limit", 20, "entries to show (history)")
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if *account <= 0 {
		return usagef("credits %s: --account is required", verb)
	}
	return withLedger(&f, func(l meter.Store) error {
		switch verb {
		case "grant":
			amt, err := meter.ParseAmount(*amount)
			if err != nil {
				return usagef("credits grant: --amount: %v", err)
			}
			e, err := l.Credit(ctx, *account, meter.EntryGrant, amt, *ref)
			if err != nil {
				return err
			}
			a, err := l.FindAccountByID(ctx, *account)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "granted %s credits to account %d (entry %d); balance %s\n", e.Amount, a.ID, e.ID, a.Balance)
		case "balance":
			a, err := l.FindAccountByID(ctx, *account)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "account %d: balance %s, held %s, available %s\n", a.ID, a.Balance, a.Held, a.Available())
		case "history":
			entries, err := l.FindEntries(ctx, meter.EntryFilter{AccountID: *account, Limit: *limit})
			if err != nil {
				return err
			}
			tw := newTable(stdout)
			fmt.Fprintln(tw, "ID\tTIME\tKIND\tAMOUNT\tMODEL\tTOKENS IN/OUT\tREF")
			for _, e := range entries {
				tokens := ""
				if e.Kind == meter.EntryUsage {
					tokens = usageTokens(e.Usage)
					if e.Estimated {
						tokens += " (est.)"
					}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.CreatedAt.Format(time.RFC3339), e.Kind, e.Amount, e.Model, tokens, e.Ref)
			}
			return tw.Flush()
		}
		return nil
	})
}

// usageTokens shows a usage entry's tokens: input (uncached) and output,
// then each other part it has.
func usageTokens(u meter.Usage) string {
	s := fmt.Sprintf("%d/%d", u.InputTokens, u.OutputTokens)
	var parts []string
	for _, p := range []struct {
		name string
		n    int64
	}{{"cached", u.CachedInputTokens}, {"cache write", u.CacheWriteTokens}, {"cache write 1h", u.CacheWrite1hTokens},
		{"reasoning", u.ReasoningTokens}, {"images", u.Images}} {
		if p.n != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", p.name, p.n))
		}
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}
