package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

// testPool is the pool of a fresh, migrated database.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return mustOpen(t, pgtest.DSN(t)).Pool()
}

func mustApp(t testing.TB, l *postgres.Ledger, credit meter.Amount) *meter.Account {
	t.Helper()
	ctx := context.Background()
	a := &meter.Account{Kind: meter.AccountApp, Name: "app"}
	if err := l.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if credit > 0 {
		if _, err := l.Credit(ctx, a.ID, meter.EntryGrant, credit, fmt.Sprintf("seed-%d", a.ID)); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func mustVerify(t testing.TB, l *postgres.Ledger) {
	t.Helper()
	v, err := l.Verify(context.Background())
	if err != nil || len(v) != 0 {
		t.Fatalf("verify: %q %v", v, err)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Two ledgers on one database stand for two instances: 500 concurrent
// holds of one credit against 100 credits, spread over both, leave
// exactly 100 held, whatever the interleaving, and never less than zero
// available.
func TestLedger_HoldsAcrossInstancesNeverOverspend(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	a1, a2 := postgres.NewLedger(pool, quiet), postgres.NewLedger(pool, quiet)
	defer a1.Close()
	defer a2.Close()
	acct := mustApp(t, a1, 100*meter.Credit)
	var ok, short atomic.Int64
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := a1
			if i%2 == 1 {
				l = a2
			}
			_, err := l.Hold(ctx, acct.ID, meter.Credit, time.Minute)
			switch meter.ErrorCode(err) {
			case "":
				ok.Add(1)
			case meter.ECodeInsufficientCredit:
				short.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 100 || short.Load() != 400 {
		t.Fatalf("holds granted %d, refused %d; want 100 and 400", ok.Load(), short.Load())
	}
	got, err := a2.FindAccountByID(ctx, acct.ID)
	if err != nil || got.Balance != 100*meter.Credit || got.Held != 100*meter.Credit {
		t.Fatalf("account %+v %v, want balance 100 held 100", got, err)
	}
	if av, _ := a1.Available(ctx, acct.ID); av != 0 {
		t.Fatalf("available %s, want 0", av)
	}
	mustVerify(t, a1)
}

func TestLedger_CaptureAndRelease(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	l := postgres.NewLedger(pool, quiet)
	defer l.Close()
	acct := mustApp(t, l, 10*meter.Credit)

	h, err := l.Hold(ctx, acct.ID, 2*meter.Credit, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	usage := meter.Usage{InputTokens: 3, OutputTokens: 4, CachedInputTokens: 5, ReasoningTokens: 1, Images: 2}
	charged, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, Cost: meter.Credit, RequestID: "req_1", Model: "m", Usage: usage})
	if err != nil || charged != meter.Credit {
		t.Fatalf("capture below the hold: %s %v, want 1", charged, err)
	}
	if _, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: acct.ID, Cost: meter.Credit}); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("second capture: %v, want conflict", err)
	}
	entries, err := l.FindEntries(ctx, meter.EntryFilter{AccountID: acct.ID})
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %+v %v", entries, err)
	}
	if e := entries[0]; e.Kind != meter.EntryUsage || e.Amount != -meter.Credit || e.Ref != h.ID || e.RequestID != "req_1" ||
		e.Model != "m" || e.Usage != usage {
		t.Fatalf("usage entry %+v", e)
	}

	// Above its hold, a cost is charged as far as the balance reaches.
	big, err := l.Hold(ctx, acct.ID, meter.Credit, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.Hold(ctx, acct.ID, 3*meter.Credit, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	charged, err = l.Capture(ctx, meter.Charge{HoldID: big.ID, Cost: 100 * meter.Credit})
	// 9 left, 3 held by the other hold: at most 6 can be charged.
	if err != nil || charged != 6*meter.Credit {
		t.Fatalf("capture above the hold: %s %v, want 6", charged, err)
	}
	if err := l.Release(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, other.ID); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("second release: %v, want not_found", err)
	}
	got, _ := l.FindAccountByID(ctx, acct.ID)
	if got.Balance != 3*meter.Credit || got.Held != 0 {
		t.Fatalf("account %+v, want balance 3 held 0", got)
	}
	// A hold gone (released here) charges the account from what it has.
	charged, err = l.Capture(ctx, meter.Charge{HoldID: other.ID, AccountID: acct.ID, Cost: 5 * meter.Credit})
	if err != nil || charged != 3*meter.Credit {
		t.Fatalf("capture of a released hold: %s %v, want 3 (all there is)", charged, err)
	}
	mustVerify(t, l)
}

func TestLedger_CreditOncePerReference(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	l1, l2 := postgres.NewLedger(pool, quiet), postgres.NewLedger(pool, quiet)
	defer l1.Close()
	defer l2.Close()
	acct := mustApp(t, l1, 0)
	var ok, conflict atomic.Int64
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := l1
			if i%2 == 1 {
				l = l2
			}
			_, err := l.Credit(ctx, acct.ID, meter.EntryTopup, meter.Credit, "topup-1")
			switch meter.ErrorCode(err) {
			case "":
				ok.Add(1)
			case meter.ECodeConflict:
				conflict.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != 49 {
		t.Fatalf("credits booked %d, refused %d; want 1 and 49", ok.Load(), conflict.Load())
	}
	got, _ := l2.FindAccountByID(ctx, acct.ID)
	if got.Balance != meter.Credit {
		t.Fatalf("balance %s, want 1", got.Balance)
	}
	mustVerify(t, l1)
}

// A hold of an instance that died (killed: it released nothing) is
// released by another once expired.
func TestLedger_ExpiredHoldsReleasedByAnyInstance(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	alive := postgres.NewLedger(pool, quiet)
	defer alive.Close()
	acct := mustApp(t, alive, 5*meter.Credit)
	// The dead instance's hold, as its batch left it.
	if _, err := pool.Exec(ctx, `INSERT INTO holds (id, account_id, amount, created_at, expires_at) VALUES ('h_dead', $1, $2, $3, $4)`,
		acct.ID, int64(2*meter.Credit), time.Now().UnixMilli(), time.Now().Add(time.Second).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE accounts SET held = held + $2 WHERE id = $1`, acct.ID, int64(2*meter.Credit)); err != nil {
		t.Fatal(err)
	}
	keep, err := alive.Hold(ctx, acct.ID, meter.Credit, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := alive.ReleaseExpired(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("released %d %v before expiry, want 0", n, err)
	}
	if n, err := alive.ReleaseExpired(ctx, time.Now().Add(2*time.Second)); err != nil || n != 1 {
		t.Fatalf("released %d %v after expiry, want 1", n, err)
	}
	got, _ := alive.FindAccountByID(ctx, acct.ID)
	if got.Held != meter.Credit {
		t.Fatalf("held %s, want the live hold's 1", got.Held)
	}
	if _, err := alive.Capture(ctx, meter.Charge{HoldID: keep.ID, Cost: meter.Credit}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, alive)
}

// A budget's cap holds across instances: 40 holds of 0.25 under a cap of
// 1, spread over two ledgers on one database, grant exactly 4; once one is
// captured at 0.5, the subject has 0.5 spent and 0.75 held, and a fifth
// hold is refused.
func TestLedger_BudgetAcrossInstances(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	l1, l2 := postgres.NewLedger(pool, quiet), postgres.NewLedger(pool, quiet)
	defer l1.Close()
	defer l2.Close()
	acct := mustApp(t, l1, 10*meter.Credit)
	quarter := meter.Credit / 4
	budget := meter.Budget{Subject: "session-1", Since: time.Now().Add(-time.Hour), Cap: meter.Credit}
	var (
		mu    sync.Mutex
		holds []*meter.Hold
		short atomic.Int64
		wg    sync.WaitGroup
	)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := l1
			if i%2 == 1 {
				l = l2
			}
			h, err := l.HoldWithin(ctx, acct.ID, quarter, time.Minute, budget)
			switch meter.ErrorCode(err) {
			case "":
				mu.Lock()
				holds = append(holds, h)
				mu.Unlock()
			case meter.ECodeSpendCapExceeded:
				short.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(holds) != 4 || short.Load() != 36 {
		t.Fatalf("budget holds granted %d, refused %d; want 4 and 36", len(holds), short.Load())
	}
	if _, err := l2.Capture(ctx, meter.Charge{HoldID: holds[0].ID, Cost: 2 * quarter, Subject: "session-1"}); err != nil {
		t.Fatal(err)
	}
	use, err := l1.FindBudgetUse(ctx, acct.ID, budget)
	if err != nil || use.Spent != 2*quarter || use.Held != 3*quarter {
		t.Fatalf("budget use %+v %v, want spent 0.5 held 0.75", use, err)
	}
	if _, err := l1.HoldWithin(ctx, acct.ID, 1, time.Minute, budget); meter.ErrorCode(err) != meter.ECodeSpendCapExceeded {
		t.Fatalf("a hold past the cap: %v, want spend_cap_exceeded", err)
	}
	// Outside the budget the account's credit is still there.
	if _, err := l2.Hold(ctx, acct.ID, 8*meter.Credit, time.Minute); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, l1)
}

// Maintain's purge deletes replay records, claims and nonces past their
// window, and keeps those still in it.
func TestLedger_PurgeExpired(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	l := postgres.NewLedger(pool, quiet)
	defer l.Close()
	now := time.Now()
	past, future := now.Add(-time.Minute).UnixMilli(), now.Add(time.Hour).UnixMilli()
	for _, q := range []string{
		`INSERT INTO wallet_messages (signed_at, key, expires_at) VALUES (1, decode(repeat('aa', 32), 'hex'), $1), (2, decode(repeat('bb', 32), 'hex'), $2)`,
		`INSERT INTO siwx_claims (issued_at, nonce, address, expires_at) VALUES (1, 'old', 'a', $1), (2, 'new', 'a', $2)`,
		`INSERT INTO siwe_nonces (nonce, expires_at) VALUES ('old', $1), ('new', $2)`,
	} {
		if _, err := pool.Exec(ctx, q, past, future); err != nil {
			t.Fatal(err)
		}
	}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.Maintain(lctx, time.Hour); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM wallet_messages) + (SELECT count(*) FROM siwx_claims) + (SELECT count(*) FROM siwe_nonces)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records left, want the 3 still in their window", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	var key []byte
	if err := pool.QueryRow(ctx, `SELECT key FROM wallet_messages`).Scan(&key); err != nil || key[0] != 0xbb {
		t.Fatalf("kept %x %v, want the unexpired message", key, err)
	}
}

// An instance's close releases the holds it still has, and only those:
// another instance's running requests keep theirs.
func TestLedger_CloseReleasesItsOwnHolds(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	leaving, staying := postgres.NewLedger(pool, quiet), postgres.NewLedger(pool, quiet)
	defer staying.Close()
	acct := mustApp(t, staying, 10*meter.Credit)
	for range 3 {
		if _, err := leaving.Hold(ctx, acct.ID, meter.Credit, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	captured, err := leaving.Hold(ctx, acct.ID, meter.Credit, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaving.Capture(ctx, meter.Charge{HoldID: captured.ID, Cost: meter.Credit / 2}); err != nil {
		t.Fatal(err)
	}
	kept, err := staying.Hold(ctx, acct.ID, 2*meter.Credit, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaving.Close()
	got, _ := staying.FindAccountByID(ctx, acct.ID)
	if got.Held != 2*meter.Credit || got.Balance != 10*meter.Credit-meter.Credit/2 {
		t.Fatalf("after one instance closed: balance %s held %s, want 9.5 and the other's 2", got.Balance, got.Held)
	}
	if _, err := staying.Capture(ctx, meter.Charge{HoldID: kept.ID, Cost: meter.Credit}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, staying)
}
