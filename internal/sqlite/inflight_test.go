package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// The hold of a request still running (in Ledger.InFlight) is renewed by
// the expiry sweep, in the database too, never released; once the request
// has ended, it expires as any other.
func TestLedger_HoldsInFlightAreRenewed(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	now := time.Unix(1_700_000_000, 0)
	db.Now = func() time.Time { return now }
	l := MustOpenLedger(t, db)
	l.InFlight = &meter.InFlight{}
	a := mustApp(t, l, "5")

	running, err := l.Hold(ctx, a.ID, amt(t, "2"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := l.Hold(ctx, a.ID, amt(t, "1"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	end := l.InFlight.Begin(running.ID)
	l.PersistAfter = 0
	if err := l.PersistHolds(); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if n, err := l.ReleaseExpired(ctx, now); err != nil || n != 1 {
		t.Fatalf("released=%d err=%v, want only the hold whose request is gone", n, err)
	}
	if got, want := db.Count(t, `SELECT expires_at FROM holds WHERE id = ?`, running.ID), now.Add(time.Minute).UnixMilli(); got != want {
		t.Fatalf("stored expiry %d, want it renewed to %d", got, want)
	}
	if _, held := balances(t, l, a.ID); held != amt(t, "2") {
		t.Fatalf("held=%s, want the running request's 2", held)
	}
	// The request goes on for an hour: its hold with it.
	for range 60 {
		now = now.Add(time.Minute)
		if n, err := l.ReleaseExpired(ctx, now); err != nil || n != 0 {
			t.Fatalf("released=%d err=%v while the request runs", n, err)
		}
	}
	if charged, err := l.Capture(ctx, meter.Charge{HoldID: running.ID, AccountID: a.ID, Cost: amt(t, "1.5")}); err != nil || charged != amt(t, "1.5") {
		t.Fatalf("capture after an hour: %s %v", charged, err)
	}
	end()
	if bal, held := balances(t, l, a.ID); bal != amt(t, "3.5") || held != 0 {
		t.Fatalf("balance=%s held=%s, want 3.5 and 0", bal, held)
	}
	if err := l.Release(ctx, dead.ID); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("release of the expired hold: %v, want not_found", err)
	}
	mustVerify(t, l)

	// Ended without being metered (a bug): it expires.
	leak, err := l.Hold(ctx, a.ID, amt(t, "1"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	l.InFlight.Begin(leak.ID)()
	if err := l.PersistHolds(); err != nil {
		t.Fatal(err)
	}
	if n, err := l.ReleaseExpired(ctx, now.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("released=%d err=%v, want the hold of the ended request", n, err)
	}
	mustVerify(t, l)
}

// A capture whose hold is gone is charged and counted against its
// subject's budget: the cap still binds the next hold.
func TestLedger_LateCaptureCountsAgainstBudget(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := mustApp(t, l, "100")
	budget := meter.Budget{Subject: "session:1", Cap: amt(t, "1"), Since: time.Now().Add(-time.Hour)}

	h, err := l.HoldWithin(ctx, a.ID, amt(t, "0.6"), time.Minute, budget)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, h.ID); err != nil { // gone, by whatever means
		t.Fatal(err)
	}
	charged, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: amt(t, "0.5"), Subject: budget.Subject})
	if err != nil || charged != amt(t, "0.5") {
		t.Fatalf("late capture: %s %v, want 0.5", charged, err)
	}
	_, err = l.HoldWithin(ctx, a.ID, amt(t, "0.6"), time.Minute, budget)
	if meter.ErrorCode(err) != meter.ECodeSpendCapExceeded {
		t.Fatalf("hold of 0.6 after 0.5 spent under a cap of 1: %v, want spend_cap_exceeded", err)
	}
	if _, err := l.HoldWithin(ctx, a.ID, amt(t, "0.5"), time.Minute, budget); err != nil {
		t.Fatalf("hold of what is left: %v", err)
	}
	mustVerify(t, l)
}

// A request payment applied whole as change before its request was
// metered (by a sweep that took the request for dead) is still charged
// when the request is: from the wallet's balance, once.
func TestPayments_LateApplyIsCharged(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	p := newPayment("k-late", meter.PurposeRequest, 2500) // 0.0025 credits
	if err := l.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	a, err := l.SettlePayment(ctx, p.ID, "0x1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.ApplyPayment(ctx, p.ID, meter.Charge{RequestID: "req_1"}); err != nil { // the sweep: all change
		t.Fatal(err)
	}
	cost := amt(t, "0.001")
	charged, err := l.ApplyPayment(ctx, p.ID, meter.Charge{Cost: cost, RequestID: "req_1", Model: "m"})
	if err != nil || charged != cost {
		t.Fatalf("late apply: %s %v, want %s", charged, err, cost)
	}
	if _, err := l.ApplyPayment(ctx, p.ID, meter.Charge{Cost: cost}); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("second late apply: %v, want conflict", err)
	}
	if bal, _ := balances(t, l, a.ID); bal != amt(t, "0.0025")-cost {
		t.Fatalf("wallet balance %s, want 0.0025 - %s", bal, cost)
	}
	mustVerify(t, l)
}
