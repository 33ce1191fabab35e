package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// runApps implements `paymeter apps create|list`.
func runApps(ctx context.Context, args []string, stdout io.Writer) error {
	verb, rest, err := subcommand("apps", args, "create", "list")
	if err != nil {
		return err
	}
	fs := newFlags("apps " + verb)
	var f dbFlags
	f.register(fs)
	name := fs.String("name", "", "app name")
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	return withLedger(&f, func(l meter.Store) error {
		switch verb {
		case "create":
			if *name == "" {
				return usagef("apps create: --name is required")
			}
			a := &meter.Account{Kind: meter.AccountApp, Name: *name}
			if err := l.CreateAccount(ctx, a); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created app %d %q\n", a.ID, a.Name)
			return nil
		default:
			accounts, err := l.FindAccounts(ctx, "")
			if err != nil {
				return err
			}
			tw := newTable(stdout)
			fmt.Fprintln(tw, "ID\tKIND\tNAME\tBALANCE\tHELD\tCREATED")
			for _, a := range accounts {
				label := a.Name
				if a.Kind == meter.AccountWallet {
					label = a.Address
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Kind, label, a.Balance, a.Held, a.CreatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		}
	})
}
