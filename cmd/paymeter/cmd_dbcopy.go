package main

import (
	"context"
	"fmt"
	"io"

	"github.com/paymeter/paymeter/internal/dbcopy"
	"github.com/paymeter/paymeter/internal/postgres"
)

// runDB runs `paymeter db copy --from FILE --to postgres://…`: the SQLite
// ledger moved to a new PostgreSQL database, exactly (internal/dbcopy).
func runDB(ctx context.Context, args []string, stdout io.Writer) error {
	_, rest, err := subcommand("db", args, "copy")
	if err != nil {
		return err
	}
	fs := newFlags("db copy")
	from := fs.String("from", "", "the SQLite ledger file to copy (only read)")
	to := fs.String("to", "", "the new PostgreSQL database: a postgres:// URL")
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("db copy: unexpected argument %q", fs.Arg(0))
	case *from == "" || *to == "":
		return usagef("db copy: --from FILE and --to postgres://… are both required")
	case !postgres.IsDSN(*to):
		return usagef("db copy: --to must be a postgres:// URL")
	case postgres.IsDSN(*from):
		return usagef("db copy: --from must be a SQLite file")
	}
	res, err := dbcopy.Copy(ctx, *from, *to)
	if err != nil {
		// Whatever the error quotes, never the target's password.
		return postgres.Scrub(err, *to)
	}
	fmt.Fprintf(stdout, "copied sqlite %s to %s:\n", *from, postgres.Redact(*to))
	for _, t := range res.Tables {
		fmt.Fprintf(stdout, "  %-22s %d rows\n", t.Name, t.Rows)
	}
	fmt.Fprintln(stdout, "verified: row counts, every account's balance and held total, and ledger verify on both sides")
	return nil
}
