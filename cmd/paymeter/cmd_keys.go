package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// runKeys implements `paymeter keys create|list|revoke|rotate`. A secret
// is printed once, when it is made; listings show the first 12 characters.
func runKeys(ctx context.Context, args []string, stdout io.Writer) error {
	verb, rest, err := subcommand("keys", args, "create", "list", "revoke", "rotate")
	if err != nil {
		return err
	}
	fs := newFlags("keys " + verb)
	var f dbFlags
	f.register(fs)
	app := fs.Int64("app", 0, "account id of the app that owns the key")
	name := fs.String("name", "default", "key name (create)")
	scopes := fs.String("scopes", meter.DefaultKeyScopes.String(), "comma-separated scopes (create)")
	days := fs.Int("expires-in-days", 0, "expiry, 1–3650 days; 0 never expires (create)")
	test := fs.Bool("test", false, "make a pm_test_ key (create)")
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	var id int64
	if verb == "revoke" || verb == "rotate" {
		if fs.NArg() != 1 {
			return usagef("keys %s: want exactly one key id", verb)
		}
		if id, err = strconv.ParseInt(fs.Arg(0), 10, 64); err != nil {
			return usagef("keys %s: %q is not a key id", verb, fs.Arg(0))
		}
	}
	return withLedger(&f, func(keys meter.Store) error {
		switch verb {
		case "create":
			k, err := newKeySpec(*app, *name, *scopes, *days)
			if err != nil {
				return err
			}
			secret, err := auth.IssueKey(ctx, keys, k, *test)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created key %d %q for account %d (scopes %s)\n%s\n\nThis is the only time the key is shown; store it now.\n",
				k.ID, k.Name, k.AccountID, k.Scopes, secret)
		case "list":
			list, err := keys.FindKeys(ctx, *app)
			if err != nil {
				return err
			}
			printKeys(stdout, list)
		case "revoke":
			if err := keys.RevokeKey(ctx, id, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked key %d; it stops working within a second\n", id)
		case "rotate":
			secret, k, err := auth.RotateKey(ctx, keys, id, time.Now(), nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "rotated key %d into key %d; the old secret stops working within a second\n%s\n", id, k.ID, secret)
		}
		return nil
	})
}

// newKeySpec validates the flags of `keys create`.
func newKeySpec(app int64, name, scopeList string, days int) (*meter.Key, error) {
	if app <= 0 {
		return nil, usagef("keys create: --app is required")
	}
	scopes, err := meter.ParseScopes(scopeList)
	if err != nil {
		return nil, usagef("keys create: --scopes: %v", err)
	}
	if scopes == 0 {
		return nil, usagef("keys create: --scopes: at least one scope is required")
	}
	k := &meter.Key{AccountID: app, Name: name, Scopes: scopes}
	if days != 0 {
		if days < 1 || days > 3650 {
			return nil, usagef("keys create: --expires-in-days must be 1–3650, got %d", days)
		}
		exp := time.Now().Add(time.Duration(days) * 24 * time.Hour).UTC().Truncate(time.Millisecond)
		k.ExpiresAt = &exp
	}
	return k, nil
}

func printKeys(w io.Writer, keys []*meter.Key) {
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tACCOUNT\tNAME\tKEY\tSCOPES\tCREATED\tLAST USED\tEXPIRES\tSTATUS")
	now := time.Now()
	for _, k := range keys {
		status, expires, used := "active", "never", "never"
		if k.LastUsedAt != nil {
			used = k.LastUsedAt.Format(time.RFC3339)
		}
		if k.ExpiresAt != nil {
			expires = k.ExpiresAt.Format(time.RFC3339)
			if !now.Before(*k.ExpiresAt) {
				status = "expired"
			}
		}
		if k.RevokedAt != nil {
			status = "revoked"
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.AccountID, k.Name, k.Prefix, k.Scopes,
			k.CreatedAt.Format(time.RFC3339), used, expires, status)
	}
	tw.Flush()
}
