package sqlite_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// MustOpenDB opens a fresh database file in a temporary directory with the
// production pragmas, and closes it when the test ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "paymeter.db"))
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustOpenLedger returns a ledger on db, closed when the test ends.
func MustOpenLedger(tb testing.TB, db *sqlite.DB) *sqlite.Ledger {
	tb.Helper()
	l, err := sqlite.NewLedger(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// mustApp creates an app account funded with credits.
func mustApp(tb testing.TB, l *sqlite.Ledger, credits string) *meter.Account {
	tb.Helper()
	ctx := context.Background()
	a := &meter.Account{Kind: meter.AccountApp, Name: "test app"}
	if err := l.CreateAccount(ctx, a); err != nil {
		tb.Fatal(err)
	}
	if amt := amt(tb, credits); amt > 0 {
		if _, err := l.Credit(ctx, a.ID, meter.EntryGrant, amt, ""); err != nil {
			tb.Fatal(err)
		}
	}
	return a
}

func amt(tb testing.TB, s string) meter.Amount {
	tb.Helper()
	a, err := meter.ParseAmount(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// mustVerify fails the test if the ledger has any invariant violation.
func mustVerify(tb testing.TB, l *sqlite.Ledger) {
	tb.Helper()
	v, err := l.Verify(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if len(v) > 0 {
		tb.Fatalf("ledger verify: %q", v)
	}
}

// balances returns the account's balance and held amounts as stored.
func balances(tb testing.TB, l *sqlite.Ledger, id int64) (balance, held meter.Amount) {
	tb.Helper()
	a, err := l.FindAccountByID(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return a.Balance, a.Held
}

// eventualBalances waits (briefly) until the stored held amount is wantHeld,
// then returns the balances: a hold is answered before its commit.
func eventualBalances(tb testing.TB, l *sqlite.Ledger, id int64, wantHeld meter.Amount) (balance, held meter.Amount) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		balance, held = balances(tb, l, id)
		if held == wantHeld || time.Now().After(deadline) {
			return balance, held
		}
		time.Sleep(time.Millisecond)
	}
}
