package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

func TestLedger_HoldCapture(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := mustApp(t, l, "10")

	h, err := l.Hold(ctx, a.ID, amt(t, "3"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// A hold is answered when applied; readers see it once its batch commits.
	if bal, held := eventualBalances(t, l, a.ID, amt(t, "3")); bal != amt(t, "10") || held != amt(t, "3") {
		t.Fatalf("after hold: balance=%s held=%s, want 10 and 3", bal, held)
	}
	charged, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: amt(t, "1.25"), RequestID: "req1",
		Model: "m", Usage: meter.Usage{InputTokens: 10, OutputTokens: 20}})
	if err != nil {
		t.Fatal(err)
	}
	if charged != amt(t, "1.25") {
		t.Fatalf("charged=%s, want 1.25", charged)
	}
	if bal, held := balances(t, l, a.ID); bal != amt(t, "8.75") || held != 0 {
		t.Fatalf("after capture: balance=%s held=%s, want 8.75 and 0", bal, held)
	}
	entries, err := l.FindEntries(ctx, meter.EntryFilter{AccountID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("entries=%d, want 2", len(entries))
	}
	if e := entries[0]; e.Kind != meter.EntryUsage || e.Amount != -amt(t, "1.25") || e.Ref != h.ID ||
		e.RequestID != "req1" || e.Usage.OutputTokens != 20 {
		t.Fatalf("usage entry=%+v, want usage of -1.25 for hold %s", e, h.ID)
	}
	if _, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: amt(t, "1")}); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("second capture err=%v, want conflict", err)
	}
	mustVerify(t, l)
}

func TestLedger_CaptureAboveHold(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := mustApp(t, l, "10")

	for _, tt := range []struct {
		name        string
		hold, cost  string
		wantCharged string
		wantBalance string
	}{
		{"within available", "1", "5", "5", "5"},
		{"capped at balance", "1", "50", "5", "0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := l.Hold(ctx, a.ID, amt(t, tt.hold), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			charged, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: amt(t, tt.cost)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := charged, amt(t, tt.wantCharged); got != want {
				t.Fatalf("charged=%s, want %s", got, want)
			}
			if bal, _ := balances(t, l, a.ID); bal != amt(t, tt.wantBalance) {
				t.Fatalf("balance=%s, want %s", bal, tt.wantBalance)
			}
		})
	}
	mustVerify(t, l)
}

func TestLedger_InsufficientAndRelease(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := mustApp(t, l, "1")

	h, err := l.Hold(ctx, a.ID, amt(t, "0.75"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Hold(ctx, a.ID, amt(t, "0.5"), time.Minute)
	var me *meter.Error
	if !errors.As(err, &me) || me.Code != meter.ECodeInsufficientCredit {
		t.Fatalf("second hold err=%v, want insufficient_credits", err)
	}
	if got, want := me.Details["available"], "0.25"; got != want {
		t.Fatalf("details.available=%v, want %s", got, want)
	}
	if err := l.Release(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, h.ID); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("second release err=%v, want not_found", err)
	}
	if bal, held := balances(t, l, a.ID); bal != amt(t, "1") || held != 0 {
		t.Fatalf("after release: balance=%s held=%s, want 1 and 0", bal, held)
	}
	if _, err := l.Hold(ctx, 999, amt(t, "1"), time.Minute); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("hold on missing account err=%v, want not_found", err)
	}
	mustVerify(t, l)
}

func TestLedger_CreditOncePerRef(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := mustApp(t, l, "0")

	var wg sync.WaitGroup
	var ok, conflicts atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.Credit(ctx, a.ID, meter.EntryTopup, amt(t, "10"), "payment-abc")
			switch meter.ErrorCode(err) {
			case "":
				ok.Add(1)
			case meter.ECodeConflict:
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || conflicts.Load() != 19 {
		t.Fatalf("ok=%d conflicts=%d, want 1 and 19", ok.Load(), conflicts.Load())
	}
	if bal, _ := balances(t, l, a.ID); bal != amt(t, "10") {
		t.Fatalf("balance=%s, want 10", bal)
	}
	if _, err := l.Credit(ctx, a.ID, meter.EntryGrant, -1, ""); meter.ErrorCode(err) != meter.ECodeBadRequest {
		t.Fatalf("negative credit err=%v, want bad_request", err)
	}
	mustVerify(t, l)
}

// Many concurrent requests against a small balance: each hold either fits
// or is refused; the available balance never goes below zero.
func TestLedger_ConcurrentHoldsNeverOverspend(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := mustApp(t, l, "1") // room for exactly 100 holds of 0.01

	var wg sync.WaitGroup
	var held, refused atomic.Int32
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := l.Hold(ctx, a.ID, amt(t, "0.01"), time.Minute)
			if meter.ErrorCode(err) == meter.ECodeInsufficientCredit {
				refused.Add(1)
				return
			} else if err != nil {
				t.Error(err)
				return
			}
			held.Add(1)
			// Half release, half capture at the hold.
			if i%2 == 0 {
				err = l.Release(ctx, h.ID)
			} else {
				_, err = l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: h.Amount})
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if held.Load()+refused.Load() != 500 || held.Load() < 100 {
		t.Fatalf("held=%d refused=%d, want at least 100 held and 500 in all", held.Load(), refused.Load())
	}
	bal, h := balances(t, l, a.ID)
	if bal < 0 || h != 0 {
		t.Fatalf("balance=%s held=%s, want ≥0 and 0", bal, h)
	}
	mustVerify(t, l)
}

func TestLedger_ExpiredHoldsReleased(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	now := time.Unix(1_700_000_000, 0)
	db.Now = func() time.Time { return now }
	l := MustOpenLedger(t, db)
	a := mustApp(t, l, "5")

	h, err := l.Hold(ctx, a.ID, amt(t, "2"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	l.PersistAfter = 0 // store the hold now, as Maintain would after a second
	if err := l.PersistHolds(); err != nil {
		t.Fatal(err)
	}
	if n, err := l.ReleaseExpired(ctx, now.Add(59*time.Second)); err != nil || n != 0 {
		t.Fatalf("before expiry: released=%d err=%v, want 0", n, err)
	}
	if n, err := l.ReleaseExpired(ctx, now.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("at expiry: released=%d err=%v, want 1", n, err)
	}
	if _, held := balances(t, l, a.ID); held != 0 {
		t.Fatalf("held=%s, want 0", held)
	}
	// A request that outlived its hold is still charged, within what the account has.
	charged, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: amt(t, "1.5")})
	if err != nil || charged != amt(t, "1.5") {
		t.Fatalf("late capture charged=%s err=%v, want 1.5", charged, err)
	}
	mustVerify(t, l)
}

// Holds survive a restart and are released by the expiry sweep after it.
func TestLedger_HoldsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/restart.db"
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	l, err := sqlite.NewLedger(db, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	a := mustApp(t, l, "5")
	// A TTL far longer than the test, however slow the machine: the hold
	// must still be there after the restart.
	if _, err := l.Hold(ctx, a.ID, amt(t, "2"), time.Minute); err != nil {
		t.Fatal(err)
	}
	l.PersistAfter = 0
	if err := l.PersistHolds(); err != nil {
		t.Fatal(err)
	}
	// The hold is written in the background: wait until it is on disk
	// (the book answers at once, whether or not it is stored).
	for deadline := time.Now().Add(5 * time.Second); db.Count(t, `SELECT COUNT(*) FROM holds`) != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the hold was never stored")
		}
	}
	// The process dies: what is on disk now is all a restart finds (a
	// clean Close would release the hold).
	path = crashImage(t, path)
	l.Close()
	db.Close()

	db = sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l = MustOpenLedger(t, db)
	if _, held := balances(t, l, a.ID); held != amt(t, "2") {
		t.Fatalf("held after restart=%s, want 2", held)
	}
	if n, err := l.ReleaseExpired(ctx, time.Now().Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("released=%d err=%v, want 1", n, err)
	}
	mustVerify(t, l)
}

func TestLedger_CloseRefusesNewWrites(t *testing.T) {
	l := MustOpenLedger(t, MustOpenDB(t))
	a := mustApp(t, l, "1")
	l.Close()
	if _, err := l.Hold(context.Background(), a.ID, 1, time.Minute); !errors.Is(err, sqlite.ErrClosed) {
		t.Fatalf("hold after close err=%v, want ErrClosed", err)
	}
}

// A hold settled within PersistAfter is never written; one that lives
// longer is stored, and settling it removes the row.
func TestLedger_OnlyLongHoldsAreStored(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	now := time.Unix(1_700_000_000, 0)
	db.Now = func() time.Time { return now }
	l := MustOpenLedger(t, db)
	a := mustApp(t, l, "5")

	short, err := l.Hold(ctx, a.ID, amt(t, "1"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	long, err := l.Hold(ctx, a.ID, amt(t, "2"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Capture(ctx, meter.Charge{HoldID: short.ID, AccountID: a.ID, Cost: amt(t, "0.5")}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(l.PersistAfter)
	if err := l.PersistHolds(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, "h_sync"); meter.ErrorCode(err) != meter.ECodeNotFound { // a barrier: the hold write is applied
		t.Fatalf("release of an unknown hold err=%v, want not_found", err)
	}
	if n := db.Count(t, `SELECT COUNT(*) FROM holds`); n != 1 {
		t.Fatalf("stored holds=%d, want only the long one", n)
	}
	if n := db.Count(t, `SELECT held FROM accounts WHERE id = ?`, a.ID); n != int64(amt(t, "2")) {
		t.Fatalf("stored held=%d, want the long hold's 2 credits", n)
	}
	if _, err := l.Capture(ctx, meter.Charge{HoldID: long.ID, AccountID: a.ID, Cost: amt(t, "1")}); err != nil {
		t.Fatal(err)
	}
	if n := db.Count(t, `SELECT COUNT(*) FROM holds`); n != 0 {
		t.Fatalf("stored holds=%d after capture, want 0", n)
	}
	if bal, held := balances(t, l, a.ID); bal != amt(t, "3.5") || held != 0 {
		t.Fatalf("balance=%s held=%s, want 3.5 and 0", bal, held)
	}
	mustVerify(t, l)
}

// crashImage copies a live database's files (the main file and its
// write-ahead log) as a crash would leave them, and returns the copy's path.
func crashImage(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "crashed.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
