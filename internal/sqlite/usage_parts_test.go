package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// allParts is a usage with every part set, each to a different count.
var allParts = meter.Usage{InputTokens: 11, CachedInputTokens: 2222, CacheWriteTokens: 333, CacheWrite1hTokens: 44,
	OutputTokens: 5555, ReasoningTokens: 4096, Images: 3}

// TestJournal_UsagePartsRoundTrip books charges with every usage part, by
// each way a usage entry is written (a capture of an active hold, in the
// batch's multi-row insert; one whose hold was gone, alone; an x402
// payment's), and reads them back exactly, through a reopened file.
func TestJournal_UsagePartsRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "paymeter.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	l := MustOpenLedger(t, db)
	a := mustApp(t, l, "10")
	h, err := l.Hold(ctx, a.ID, amt(t, "1"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	held := meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: 1234, RequestID: "req_held", Model: "m", Usage: allParts,
		Subject: "user:alice"}
	if _, err := l.Capture(ctx, held); err != nil {
		t.Fatal(err)
	}
	gone := meter.Charge{HoldID: "gone", AccountID: a.ID, Cost: 56, RequestID: "req_gone", Model: "m", Usage: allParts,
		Estimated: true}
	gone.Usage.Images = 0
	if _, err := l.Capture(ctx, gone); err != nil {
		t.Fatal(err)
	}
	p := newPayment("parts", meter.PurposeRequest, 2500)
	if err := l.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := l.SettlePayment(ctx, p.ID, "0xabc"); err != nil {
		t.Fatal(err)
	}
	paid := meter.Charge{Cost: 789, RequestID: "req_paid", Model: "m", Usage: allParts}
	paid.Usage.ReasoningTokens = 1
	if _, err := l.ApplyPayment(ctx, p.ID, paid); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, l)
	l.Close()
	db.Close()

	db = sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l = MustOpenLedger(t, db)
	byRequest := usageEntries(t, l, meter.EntryFilter{AccountID: a.ID})
	for _, want := range []meter.Charge{held, gone} {
		e := byRequest[want.RequestID]
		if e == nil {
			t.Fatalf("no usage entry of %s", want.RequestID)
		}
		if e.Usage != want.Usage || e.Amount != -want.Cost || e.Estimated != want.Estimated || e.Subject != want.Subject {
			t.Fatalf("%s: entry usage=%+v amount=%d estimated=%t subject=%q, want %+v %d %t %q", want.RequestID,
				e.Usage, e.Amount, e.Estimated, e.Subject, want.Usage, -want.Cost, want.Estimated, want.Subject)
		}
	}
	// A sub-principal's own journal (FindEntries by subject) reads them too.
	if e := usageEntries(t, l, meter.EntryFilter{AccountID: a.ID, Subject: "user:alice"})["req_held"]; e == nil || e.Usage != allParts {
		t.Fatalf("subject's entry=%+v, want usage %+v", e, allParts)
	}
	wallet, err := l.FindAccounts(ctx, meter.AccountWallet)
	if err != nil || len(wallet) != 1 {
		t.Fatalf("wallets=%v, %v", wallet, err)
	}
	if e := usageEntries(t, l, meter.EntryFilter{AccountID: wallet[0].ID})["req_paid"]; e == nil || e.Usage != paid.Usage {
		t.Fatalf("x402 entry=%+v, want usage %+v", e, paid.Usage)
	}
}

// usageEntries returns the usage entries f selects by request id.
func usageEntries(t *testing.T, l *sqlite.Ledger, f meter.EntryFilter) map[string]*meter.Entry {
	t.Helper()
	entries, err := l.FindEntries(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*meter.Entry{}
	for _, e := range entries {
		if e.Kind == meter.EntryUsage {
			out[e.RequestID] = e
		}
	}
	return out
}

// TestMigration_UsagePartsFromVersion6 opens a file a paymeter at schema
// version 6 left, with a usage entry in it: the entry keeps its tokens and
// reads 0 for every new part; new entries record theirs.
func TestMigration_UsagePartsFromVersion6(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "paymeter.db")
	if err := sqlite.MigrateTo(path, 6,
		`INSERT INTO accounts (id, kind, name, balance, created_at) VALUES (1, 'app', 'old', 999000, 1)`,
		`INSERT INTO entries (account_id, kind, amount, ref, created_at) VALUES (1, 'grant', 1000000, 'g', 1)`,
		`INSERT INTO entries (account_id, kind, amount, ref, request_id, model, input_tokens, output_tokens, subject, created_at)
		 VALUES (1, 'usage', -1000, 'h_old', 'req_old', 'm', 70, 30, 'user:bob', 2)`,
	); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.Count(t, `SELECT MAX(version) FROM schema_migrations`); got < 7 { // later migrations come after 7
		t.Fatalf("schema version=%d, want 7 or later", got)
	}
	l := MustOpenLedger(t, db)
	mustVerify(t, l)
	old := usageEntries(t, l, meter.EntryFilter{AccountID: 1})["req_old"]
	if want := (meter.Usage{InputTokens: 70, OutputTokens: 30}); old == nil || old.Usage != want || old.Amount != -1000 {
		t.Fatalf("old entry=%+v, want usage %+v, amount -1000", old, want)
	}
	if e := usageEntries(t, l, meter.EntryFilter{AccountID: 1, Subject: "user:bob"})["req_old"]; e == nil || e.Usage != old.Usage {
		t.Fatalf("old entry by subject=%+v", e)
	}
	h, err := l.Hold(ctx, 1, 500, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: 1, Cost: 400, RequestID: "req_new", Usage: allParts}); err != nil {
		t.Fatal(err)
	}
	if e := usageEntries(t, l, meter.EntryFilter{AccountID: 1})["req_new"]; e == nil || e.Usage != allParts {
		t.Fatalf("new entry=%+v, want usage %+v", e, allParts)
	}
	mustVerify(t, l)
}

// BenchmarkAvailable is the cost of X-Paymeter-Balance's read, once per
// metered answer: the book, no database read.
func BenchmarkAvailable(b *testing.B) {
	l := MustOpenLedger(b, MustOpenDB(b))
	a := mustApp(b, l, "10")
	ctx := context.Background()
	if _, err := l.Hold(ctx, a.ID, 1, time.Minute); err != nil { // enters the account in the book
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Available(ctx, a.ID); err != nil {
			b.Fatal(err)
		}
	}
}
