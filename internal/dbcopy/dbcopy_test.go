package dbcopy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/dbcopy"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
	"github.com/paymeter/paymeter/internal/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const wallet = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"

// seedLedger writes a ledger the way paymeter does (apps, keys, credits,
// captured and open holds, a wallet with its grant, an x402 payment
// settled and applied, an upto authorization settled), then a million
// journal entries on one account, and returns the file and that account.
func seedLedger(t *testing.T, bulk int) (path string, bulkAccount int64) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "paymeter.db")
	s, err := sqlite.OpenStore(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	app := &meter.Account{Kind: meter.AccountApp, Name: "app"}
	if err := s.CreateAccount(ctx, app); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Credit(ctx, app.ID, meter.EntryGrant, 50*meter.Credit, "seed"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		h, err := s.Hold(ctx, app.ID, meter.Credit, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: app.ID, Cost: meter.Amount(i+1) * 1000, RequestID: "r", Model: "m",
			Usage: meter.Usage{InputTokens: 10, OutputTokens: int64(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateKey(ctx, &meter.Key{AccountID: app.ID, Name: "k", Hash: sha256.Sum256([]byte("pm_live_x")), Prefix: "pm_live_x", Scopes: meter.DefaultKeyScopes}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.EnsureWallet(ctx, wallet, meter.FreeGrant{Amount: meter.Credit, Client: "203.0.113.7", FreeLimits: meter.FreeLimits{PerClientPerDay: 3, DailyBudget: 100 * meter.Credit}}); err != nil {
		t.Fatal(err)
	}
	p := &meter.Payment{Key: "eip155:84532/token/" + wallet + "/0x01", Network: "base-sepolia", Payer: wallet, Wallet: wallet,
		Amount: 2500, Purpose: meter.PurposeRequest, RequestID: "req_1", Payload: []byte(`{"x402Version":2}`), Requirement: []byte(`{}`)}
	if err := s.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SettlePayment(ctx, p.ID, "0xabc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPayment(ctx, p.ID, meter.Charge{Cost: meter.Credit / 1000, RequestID: "req_1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateNonce(ctx, "siwe-nonce-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The million entries, written in bulk on the app's account.
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO entries (account_id, kind, amount, ref, created_at) SELECT ?, 'grant', 1, 'bulk-' || i, 0 FROM seq`, bulk, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE accounts SET balance = balance + ? WHERE id = ?`, bulk, app.ID); err != nil {
		t.Fatal(err)
	}
	return path, app.ID
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// A ledger of a million entries copies exactly: every table's rows, every
// balance, verify clean on both sides, the source untouched; the copy then
// takes new writes with fresh ids, and a second copy into it is refused.
func TestCopy_MillionEntries(t *testing.T) {
	ctx := context.Background()
	path, bulkAccount := seedLedger(t, 1_000_000)
	before := fileHash(t, path)
	dsn := pgtest.DSN(t)
	res, err := dbcopy.Copy(ctx, path, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if after := fileHash(t, path); !bytes.Equal(before[:], after[:]) {
		t.Fatal("the source file changed")
	}
	rows := map[string]int64{}
	for _, tb := range res.Tables {
		rows[tb.Name] = tb.Rows
	}
	// 1 seed, 3 usage, the wallet's grant, the payment's 3: 8 besides the bulk.
	for name, want := range map[string]int64{"entries": 1_000_008, "accounts": 2, "api_keys": 1, "payments": 1, "siwe_nonces": 1, "holds": 0} {
		if rows[name] != want {
			t.Errorf("%s: %d rows copied, want %d", name, rows[name], want)
		}
	}
	if i, j := indexOf(res, "accounts"), indexOf(res, "entries"); i < 0 || j < 0 || i > j {
		t.Errorf("tables copied in the order %v: accounts must come before entries", res.Tables)
	}

	s, err := postgres.OpenStore(ctx, dsn, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.FindAccountByID(ctx, bulkAccount)
	want := 50*meter.Credit - 6000 + 1_000_000
	if err != nil || a.Balance != want || a.Held != 0 {
		t.Fatalf("the app's account in the copy: %+v %v, want balance %s", a, err, want)
	}
	entries, err := s.FindEntries(ctx, meter.EntryFilter{AccountID: bulkAccount, Limit: 1})
	if err != nil || len(entries) != 1 {
		t.Fatal(entries, err)
	}
	last := entries[0].ID
	// New writes on the copy get ids past the source's.
	h, err := s.Hold(ctx, bulkAccount, meter.Credit, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Capture(ctx, meter.Charge{HoldID: h.ID, Cost: 1}); err != nil {
		t.Fatal(err)
	}
	entries, _ = s.FindEntries(ctx, meter.EntryFilter{AccountID: bulkAccount, Limit: 1})
	if entries[0].ID <= last {
		t.Fatalf("a new entry got id %d, not past the copied %d", entries[0].ID, last)
	}
	if v, err := s.Verify(ctx); err != nil || len(v) != 0 {
		t.Fatalf("verify of the copy: %q %v", v, err)
	}
	// The target is no longer empty: a second copy is refused, whole.
	if _, err := dbcopy.Copy(ctx, path, dsn); err == nil || !strings.Contains(err.Error(), "is not empty: copy into a new database") {
		t.Fatalf("second copy: %v, want a refusal", err)
	}
}

func indexOf(res *dbcopy.Result, name string) int {
	for i, t := range res.Tables {
		if t.Name == name {
			return i
		}
	}
	return -1
}

// A source that does not verify is not copied; nor is one at another
// migration.
func TestCopy_RefusesABrokenOrOlderSource(t *testing.T) {
	ctx := context.Background()
	path, acct := seedLedger(t, 10)
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE accounts SET balance = balance + 1 WHERE id = ?`, acct); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)
	if _, err := dbcopy.Copy(ctx, path, dsn); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("copy of a ledger whose balance is off: %v, want a refusal", err)
	}
	if _, err := db.Exec(`UPDATE accounts SET balance = balance - 1 WHERE id = ?`, acct); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := dbcopy.Copy(ctx, path, dsn); err == nil || !strings.Contains(err.Error(), "run paymeter migrate on it first") {
		t.Fatalf("copy of an older ledger: %v, want a refusal", err)
	}
	// Nothing was written to the target by either refusal.
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	var n int
	if err := pg.Pool().QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("target accounts after the refusals: %d %v, want 0", n, err)
	}
}
