package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

// `paymeter db copy`: a ledger made by the operator commands moves to
// PostgreSQL with its balances; the target's password is never shown; a
// mistake in the command line is a usage error that copies nothing.
func TestDBCopy(t *testing.T) {
	const pw = "hunter2-Secret"
	path := filepath.Join(t.TempDir(), "ops.db")
	mustCLI(t, "apps", "create", "--name", "acme", "--db", path)
	mustCLI(t, "credits", "grant", "--account", "1", "--amount", "12.5", "--ref", "first", "--db", path)
	dsn := pgtest.DSN(t)
	secret := withPassword(dsn, "postgres:"+pw)

	var usage usageError
	for _, args := range [][]string{
		{"db", "copy", "--from", path},
		{"db", "copy", "--to", secret},
		{"db", "copy", "--from", path, "--to", path},
		{"db", "copy", "--from", secret, "--to", secret},
		{"db", "move", "--from", path, "--to", secret},
	} {
		out, err := cli(t, args...)
		if !errors.As(err, &usage) || strings.Contains(out+err.Error(), pw) {
			t.Fatalf("paymeter %s: %v, want a usage error without the password\n%s", strings.Join(args, " "), err, out)
		}
	}

	out := mustCLI(t, "db", "copy", "--from", path, "--to", secret)
	if strings.Contains(out, pw) || !strings.HasPrefix(out, "copied sqlite "+path+" to "+postgres.Redact(dsn)+":\n") ||
		!strings.Contains(out, "  accounts               1 rows\n") || !strings.Contains(out, "  entries                1 rows\n") ||
		!strings.HasSuffix(out, "verified: row counts, every account's balance and held total, and ledger verify on both sides\n") {
		t.Fatalf("db copy printed:\n%s", out)
	}
	s, err := postgres.OpenStore(context.Background(), dsn, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.FindAccountByID(context.Background(), 1)
	if err != nil || a.Name != "acme" || a.Balance != 12*meter.Credit+meter.Credit/2 {
		t.Fatalf("the copied app: %+v %v, want acme with 12.5", a, err)
	}
	// Again into the same database: refused, and the password not shown.
	out, err = cli(t, "db", "copy", "--from", path, "--to", secret)
	if err == nil || !strings.Contains(err.Error(), "is not empty: copy into a new database") || strings.Contains(out+err.Error(), pw) {
		t.Fatalf("a second copy: %v\n%s", err, out)
	}
}
