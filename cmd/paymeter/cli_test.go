package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// cli runs a command line and returns its output and error.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := cli(t, args...)
	if err != nil {
		t.Fatalf("paymeter %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var keyPattern = regexp.MustCompile(`pm_(live|test)_[0-9A-Za-z]{49}`)

func TestCLI_OperatorFlow(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ops.db")

	if out := mustCLI(t, "apps", "create", "--db", db, "--name", "acme"); !strings.Contains(out, "created app 1") {
		t.Fatalf("apps create: %q", out)
	}
	out := mustCLI(t, "keys", "create", "--db", db, "--app", "1", "--name", "ci", "--scopes", "chat,models", "--expires-in-days", "30")
	secret := keyPattern.FindString(out)
	if secret == "" {
		t.Fatalf("keys create printed no key: %q", out)
	}
	if out := mustCLI(t, "credits", "grant", "--db", db, "--account", "1", "--amount", "2.5", "--ref", "invoice-7"); !strings.Contains(out, "balance 2.5") {
		t.Fatalf("credits grant: %q", out)
	}
	if _, err := cli(t, "credits", "grant", "--db", db, "--account", "1", "--amount", "2.5", "--ref", "invoice-7"); err == nil || !strings.Contains(err.Error(), "already booked") {
		t.Fatalf("second grant with one ref: err=%v, want already booked", err)
	}
	if out := mustCLI(t, "credits", "balance", "--db", db, "--account", "1"); !strings.Contains(out, "balance 2.5, held 0, available 2.5") {
		t.Fatalf("credits balance: %q", out)
	}
	if out := mustCLI(t, "credits", "history", "--db", db, "--account", "1"); !strings.Contains(out, "grant") || !strings.Contains(out, "invoice-7") {
		t.Fatalf("credits history: %q", out)
	}
	list := mustCLI(t, "keys", "list", "--db", db)
	if !strings.Contains(list, secret[:12]) || strings.Contains(list, secret[12:]) || !strings.Contains(list, "chat,models") {
		t.Fatalf("keys list shows %q; want the first 12 characters and scopes, never the rest", list)
	}
	rotated := keyPattern.FindString(mustCLI(t, "keys", "rotate", "--db", db, "1"))
	if rotated == "" || rotated == secret {
		t.Fatal("keys rotate printed no new key")
	}
	mustCLI(t, "keys", "revoke", "--db", db, "2")
	if list := mustCLI(t, "keys", "list", "--db", db); strings.Count(list, "revoked") != 2 {
		t.Fatalf("after rotate and revoke, keys list=%q, want two revoked keys", list)
	}
	if out := mustCLI(t, "apps", "list", "--db", db); !strings.Contains(out, "acme") || !strings.Contains(out, "2.5") {
		t.Fatalf("apps list: %q", out)
	}
	if out := mustCLI(t, "ledger", "verify", "--db", db); !strings.Contains(out, "ledger ok") {
		t.Fatalf("ledger verify: %q", out)
	}

	// Tamper behind the ledger's back: verify must notice and fail.
	raw, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE accounts SET balance = balance + 1 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	out, err = cli(t, "ledger", "verify", "--db", db)
	if err == nil || !strings.Contains(out, "VIOLATION") {
		t.Fatalf("ledger verify after tampering: err=%v out=%q, want a violation and an error", err, out)
	}
}

func TestCLI_UsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "u.db")
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"keys"},
		{"keys", "create", "--db", db},
		{"keys", "create", "--db", db, "--app", "1", "--scopes", "chat,root"},
		{"keys", "create", "--db", db, "--app", "1", "--expires-in-days", "4000"},
		{"keys", "revoke", "--db", db, "abc"},
		{"credits", "grant", "--db", db, "--account", "1", "--amount", "1.0000000001"},
		{"credits", "balance", "--db", db},
		{"serve", "--no-such-flag"},
	} {
		_, err := cli(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("paymeter %q: err=%v, want a usage error", args, err)
		}
	}
	if out := mustCLI(t, "version"); !strings.HasPrefix(out, "paymeter ") {
		t.Fatalf("version: %q", out)
	}
}
