package ledgertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// ledgerTests are the invariants of credit, holds and captures.
var ledgerTests = []test{
	{"BalanceIsTheSumOfEntries", testBalanceIsTheSumOfEntries},
	{"CreditOncePerRef", testCreditOncePerRef},
	{"ConcurrentHoldsNeverOverspend", testConcurrentHoldsNeverOverspend},
	{"HoldsAcrossInstancesNeverOverspend", testHoldsAcrossInstancesNeverOverspend},
	{"CaptureChargesExactly", testCaptureChargesExactly},
	{"CaptureAboveTheHold", testCaptureAboveTheHold},
	{"ReleaseReturnsTheHold", testReleaseReturnsTheHold},
	{"ExpiredHoldReleased", testExpiredHoldReleased},
	{"BudgetCapsASubject", testBudgetCapsASubject},
}

// Every kind of movement lands in the journal, and the balance is their
// sum: grants and top-ups add, captures subtract, holds move nothing.
func testBalanceIsTheSumOfEntries(t *testing.T, d *db) {
	s := d.open(t)
	a := mustApp(t, s, "10")
	if _, err := s.Credit(ctx, a.ID, meter.EntryTopup, amt(t, "2.5"), "topup-1"); err != nil {
		t.Fatal(err)
	}
	for i, cost := range []string{"0.25", "1.000000001", "0"} {
		h, err := s.Hold(ctx, a.ID, amt(t, "2"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		charged, err := s.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: amt(t, cost), RequestID: "req", Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if charged != amt(t, cost) {
			t.Fatalf("capture %d: charged=%s, want %s", i, charged, cost)
		}
	}
	if bal, held := balances(t, s, a.ID); bal != amt(t, "11.249999999") || held != 0 {
		t.Fatalf("balance=%s held=%s, want 11.249999999 and 0", bal, held)
	}
	entries, err := s.FindEntries(ctx, meter.EntryFilter{AccountID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: the three usage entries, the top-up, the grant.
	want := []struct {
		kind   meter.EntryKind
		amount string
	}{{meter.EntryUsage, "-0"}, {meter.EntryUsage, "-1.000000001"}, {meter.EntryUsage, "-0.25"},
		{meter.EntryTopup, "2.5"}, {meter.EntryGrant, "10"}}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(entries), len(want))
	}
	for i, w := range want {
		if e := entries[i]; e.Kind != w.kind || e.Amount != amt(t, w.amount) || e.AccountID != a.ID {
			t.Fatalf("entry %d: %s %s of account %d, want %s %s of %d", i, e.Kind, e.Amount, e.AccountID, w.kind, w.amount, a.ID)
		}
	}
	mustVerify(t, s)
}

// One ref books once per kind, however many callers race with it; a
// non-positive amount books nothing.
func testCreditOncePerRef(t *testing.T, d *db) {
	s := d.open(t)
	a := mustApp(t, s, "0")
	codes := race(t, 50, func(int) error {
		_, err := s.Credit(ctx, a.ID, meter.EntryTopup, amt(t, "10"), "payment-abc")
		return err
	})
	mustCodes(t, "50 credits of one ref", codes, map[string]int{"": 1, meter.ECodeConflict: 49})
	for _, bad := range []meter.Amount{0, -1} {
		if _, err := s.Credit(ctx, a.ID, meter.EntryGrant, bad, ""); meter.ErrorCode(err) != meter.ECodeBadRequest {
			t.Fatalf("credit of %s: err=%v, want bad_request", bad, err)
		}
	}
	if bal, _ := balances(t, s, a.ID); bal != amt(t, "10") {
		t.Fatalf("balance=%s, want 10", bal)
	}
	mustVerify(t, s)
}

// 500 concurrent holds of 1 against credit for 100: exactly 100 fit, the
// rest are refused, and available never goes below zero. Capturing half
// and releasing the other half leaves exactly what was not charged.
func testConcurrentHoldsNeverOverspend(t *testing.T, d *db) {
	s := d.open(t)
	a := mustApp(t, s, "100")
	holds := make(chan *meter.Hold, 500)
	codes := race(t, 500, func(int) error {
		h, err := s.Hold(ctx, a.ID, amt(t, "1"), time.Minute)
		if err == nil {
			holds <- h
		}
		return err
	})
	close(holds)
	mustCodes(t, "500 holds of 1 against 100", codes, map[string]int{"": 100, meter.ECodeInsufficientCredit: 400})
	mustAvailable(t, s, a.ID, 0)
	mustEventualHeld(t, s, a.ID, amt(t, "100"))
	mustVerify(t, s)

	var all []*meter.Hold
	for h := range holds {
		all = append(all, h)
	}
	codes = race(t, len(all), func(i int) error {
		if i%2 == 0 {
			return s.Release(ctx, all[i].ID)
		}
		_, err := s.Capture(ctx, meter.Charge{HoldID: all[i].ID, AccountID: a.ID, Cost: all[i].Amount})
		return err
	})
	mustCodes(t, "50 captures and 50 releases", codes, map[string]int{"": 100})
	if bal, held := balances(t, s, a.ID); bal != amt(t, "50") || held != 0 {
		t.Fatalf("balance=%s held=%s, want 50 and 0", bal, held)
	}
	mustAvailable(t, s, a.ID, amt(t, "50"))
	mustVerify(t, s)
}

// 500 concurrent holds of 1 spread over four stores on one database,
// against credit for 100: exactly 100 fit, whichever store took them.
func testHoldsAcrossInstancesNeverOverspend(t *testing.T, d *db) {
	if !d.engine.SharedHolds {
		t.Skip("holds are decided in one store's memory: one instance only")
	}
	ss := d.instances(t, 4)
	a := mustApp(t, ss[0], "100")
	codes := race(t, 500, func(i int) error {
		_, err := ss[i%len(ss)].Hold(ctx, a.ID, amt(t, "1"), time.Minute)
		return err
	})
	mustCodes(t, "500 holds of 1 against 100 over four stores", codes, map[string]int{"": 100, meter.ECodeInsufficientCredit: 400})
	for _, s := range ss {
		mustAvailable(t, s, a.ID, 0)
	}
	mustEventualHeld(t, ss[1], a.ID, amt(t, "100"))
	mustVerify(t, ss[2])
}

// A capture charges its cost exactly, records what the request was, and
// releases the rest of the hold; a hold is captured once.
func testCaptureChargesExactly(t *testing.T, d *db) {
	s := d.open(t)
	a := mustApp(t, s, "10")
	h, err := s.Hold(ctx, a.ID, amt(t, "3"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if h.AccountID != a.ID || h.Amount != amt(t, "3") || h.ID == "" {
		t.Fatalf("hold %+v, want 3 on account %d", h, a.ID)
	}
	mustAvailable(t, s, a.ID, amt(t, "7"))
	c := meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: amt(t, "1.25"), RequestID: "req1", Model: "m",
		Usage: meter.Usage{InputTokens: 10, OutputTokens: 20}, Subject: "user-1"}
	charged, err := s.Capture(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if charged != amt(t, "1.25") {
		t.Fatalf("charged=%s, want 1.25", charged)
	}
	if bal, held := balances(t, s, a.ID); bal != amt(t, "8.75") || held != 0 {
		t.Fatalf("after capture: balance=%s held=%s, want 8.75 and 0", bal, held)
	}
	mustAvailable(t, s, a.ID, amt(t, "8.75"))
	entries, err := s.FindEntries(ctx, meter.EntryFilter{AccountID: a.ID, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d entries, want 1", len(entries))
	}
	if e := entries[0]; e.Kind != meter.EntryUsage || e.Amount != -amt(t, "1.25") || e.RequestID != "req1" ||
		e.Model != "m" || e.Usage.InputTokens != 10 || e.Usage.OutputTokens != 20 || e.Subject != "user-1" {
		t.Fatalf("usage entry %+v, want -1.25 for req1 of user-1 with 10/20 tokens", e)
	}
	if _, err := s.Capture(ctx, c); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("second capture: err=%v, want conflict", err)
	}
	if bal, _ := balances(t, s, a.ID); bal != amt(t, "8.75") {
		t.Fatalf("after a second capture: balance=%s, want 8.75", bal)
	}
	mustVerify(t, s)
}

// A cost above its hold is charged as far as the available balance
// reaches, never below zero (meter.Ledger.Capture).
func testCaptureAboveTheHold(t *testing.T, d *db) {
	s := d.open(t)
	a := mustApp(t, s, "10")
	for _, tt := range []struct {
		name, hold, cost, wantCharged, wantBalance string
	}{
		{"within available", "1", "5", "5", "5"},
		{"capped at the balance", "1", "50", "5", "0"},
		{"nothing left", "0", "1", "0", "0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var holdID string
			if hold := amt(t, tt.hold); hold > 0 {
				h, err := s.Hold(ctx, a.ID, hold, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				holdID = h.ID
			} else {
				holdID = "h_gone" // a hold that expired while its request ran
			}
			charged, err := s.Capture(ctx, meter.Charge{HoldID: holdID, AccountID: a.ID, Cost: amt(t, tt.cost)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := charged, amt(t, tt.wantCharged); got != want {
				t.Fatalf("charged=%s, want %s", got, want)
			}
			if bal, held := balances(t, s, a.ID); bal != amt(t, tt.wantBalance) || held != 0 {
				t.Fatalf("balance=%s held=%s, want %s and 0", bal, held, tt.wantBalance)
			}
			mustVerify(t, s)
		})
	}
}

// A release gives the whole hold back, once; a refused hold says what
// was available.
func testReleaseReturnsTheHold(t *testing.T, d *db) {
	s := d.open(t)
	a := mustApp(t, s, "1")
	h, err := s.Hold(ctx, a.ID, amt(t, "0.75"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Hold(ctx, a.ID, amt(t, "0.5"), time.Minute)
	var me *meter.Error
	if !errors.As(err, &me) || me.Code != meter.ECodeInsufficientCredit {
		t.Fatalf("second hold: err=%v, want insufficient_credits", err)
	}
	if got, want := me.Details["available"], "0.25"; got != want {
		t.Fatalf("details.available=%v, want %s", got, want)
	}
	if err := s.Release(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, h.ID); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("second release: err=%v, want not_found", err)
	}
	mustAvailable(t, s, a.ID, amt(t, "1"))
	if bal, held := balances(t, s, a.ID); bal != amt(t, "1") || held != 0 {
		t.Fatalf("after release: balance=%s held=%s, want 1 and 0", bal, held)
	}
	if _, err := s.Hold(ctx, a.ID+1000, amt(t, "1"), time.Minute); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("hold on a missing account: err=%v, want not_found", err)
	}
	mustVerify(t, s)
}

// A hold whose request died is released by the store's background work
// once it expires: its credit is not locked forever, nothing is charged,
// and a hold still within its time is left alone.
func testExpiredHoldReleased(t *testing.T, d *db) {
	s := d.open(t)
	a := mustApp(t, s, "5")
	if _, err := s.Hold(ctx, a.ID, amt(t, "2"), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hold(ctx, a.ID, amt(t, "1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	mustAvailable(t, s, a.ID, amt(t, "2"))
	bg, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Maintain(bg, 50*time.Millisecond)
	}()
	defer func() { stop(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := s.Available(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got == amt(t, "4") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("available=%s 5s after the hold of 2 expired, want 4", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustEventualHeld(t, s, a.ID, amt(t, "1"))
	if bal, _ := balances(t, s, a.ID); bal != amt(t, "5") {
		t.Fatalf("after expiry: balance=%s, want 5", bal)
	}
	mustVerify(t, s)
}

// A budget keeps its subject's holds and spending within its cap, while
// the account's other credit stays spendable by others.
func testBudgetCapsASubject(t *testing.T, d *db) {
	s := d.open(t)
	a := mustApp(t, s, "10")
	budget := meter.Budget{Subject: "session-1", Since: time.Now().Add(-time.Hour), Cap: amt(t, "1")}
	codes := race(t, 20, func(int) error {
		_, err := s.HoldWithin(ctx, a.ID, amt(t, "0.25"), time.Minute, budget)
		return err
	})
	mustCodes(t, "20 holds of 0.25 within a cap of 1", codes, map[string]int{"": 4, meter.ECodeSpendCapExceeded: 16})
	use, err := s.FindBudgetUse(ctx, a.ID, budget)
	if err != nil {
		t.Fatal(err)
	}
	if use.Spent != 0 || use.Held != amt(t, "1") {
		t.Fatalf("budget use %+v, want spent 0 held 1", use)
	}
	if _, err := s.Hold(ctx, a.ID, amt(t, "9"), time.Minute); err != nil {
		t.Fatalf("a hold outside the budget: %v", err)
	}
	mustAvailable(t, s, a.ID, 0)
	mustVerify(t, s)
}
