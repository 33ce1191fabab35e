package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// 100 concurrent holds against a budget with room for 10: at most 10 are
// held at once, the charges never pass the cap, and a new ledger on the
// same file (a restart) reads what was spent back from the journal.
func TestLedger_BudgetCapsConcurrentSpending(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	a := mustApp(t, l, "100") // the account is rich; the budget binds
	budget := meter.Budget{Subject: "session:1", Cap: amt(t, "1")}

	var wg sync.WaitGroup
	var captured, capped atomic.Int32
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := l.HoldWithin(ctx, a.ID, amt(t, "0.1"), time.Minute, budget)
			if meter.ErrorCode(err) == meter.ECodeSpendCapExceeded {
				capped.Add(1)
				return
			} else if err != nil {
				t.Error(err)
				return
			}
			// Charge the whole hold for half, a part for the rest: both
			// count against the cap once captured.
			cost := h.Amount
			if i%2 == 0 {
				cost = amt(t, "0.05")
			}
			if _, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: cost, Subject: budget.Subject}); err != nil {
				t.Error(err)
				return
			}
			captured.Add(1)
		}()
	}
	wg.Wait()
	spent := subjectSpent(t, l, a.ID, budget.Subject)
	if spent > budget.Cap {
		t.Fatalf("spent %s under a cap of %s", spent, budget.Cap)
	}
	if captured.Load() < 10 || captured.Load()+capped.Load() != 100 {
		t.Fatalf("captured=%d capped=%d, want at least 10 captured and 100 in all", captured.Load(), capped.Load())
	}
	if bal, _ := balances(t, l, a.ID); bal != amt(t, "100")-spent {
		t.Fatalf("balance=%s, want 100 - %s", bal, spent)
	}

	// What is left is exactly cap - spent: a hold of it fits, a hair more does not.
	left := budget.Cap - spent
	if _, err := l.HoldWithin(ctx, a.ID, left+1, time.Minute, budget); meter.ErrorCode(err) != meter.ECodeSpendCapExceeded {
		t.Fatalf("hold past the cap err=%v, want spend_cap_exceeded", err)
	}
	if left > 0 {
		h, err := l.HoldWithin(ctx, a.ID, left, time.Minute, budget)
		if err != nil {
			t.Fatalf("hold of the rest of the cap: %v", err)
		}
		if err := l.Release(ctx, h.ID); err != nil {
			t.Fatal(err)
		}
	}

	// Another subject, or the same one counted from a later start, has its own room.
	if _, err := l.HoldWithin(ctx, a.ID, amt(t, "1"), time.Minute, meter.Budget{Subject: "session:2", Cap: amt(t, "1")}); err != nil {
		t.Fatalf("other subject: %v", err)
	}
	later := budget
	later.Since = time.Now().Add(time.Hour)
	if _, err := l.HoldWithin(ctx, a.ID, amt(t, "1"), time.Minute, later); err != nil {
		t.Fatalf("later start: %v", err)
	}

	// A restart reads the spending back from the journal.
	l2, err := sqlite.NewLedger(db, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if _, err := l2.HoldWithin(ctx, a.ID, left+1, time.Minute, budget); meter.ErrorCode(err) != meter.ECodeSpendCapExceeded {
		t.Fatalf("after restart, hold past the cap err=%v, want spend_cap_exceeded", err)
	}
	mustVerify(t, l)
}

// A hold whose budget is released, or expires, gives its room back.
func TestLedger_BudgetRoomComesBack(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := mustApp(t, l, "10")
	budget := meter.Budget{Subject: "user:alice", Cap: amt(t, "1")}

	h, err := l.HoldWithin(ctx, a.ID, amt(t, "1"), time.Minute, budget)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.HoldWithin(ctx, a.ID, 1, time.Minute, budget); meter.ErrorCode(err) != meter.ECodeSpendCapExceeded {
		t.Fatalf("second hold err=%v, want spend_cap_exceeded", err)
	}
	if err := l.Release(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	// Written to the database, then expired by the sweep.
	if _, err := l.HoldWithin(ctx, a.ID, amt(t, "1"), time.Millisecond, budget); err != nil {
		t.Fatalf("after release: %v", err)
	}
	l.PersistAfter = 0
	time.Sleep(5 * time.Millisecond)
	if err := l.PersistHolds(); err != nil {
		t.Fatal(err)
	}
	if _, held := eventualBalances(t, l, a.ID, amt(t, "1")); held != amt(t, "1") {
		t.Fatalf("held=%s, want the hold written", held)
	}
	if n, err := l.ReleaseExpired(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("released %d (%v), want 1", n, err)
	}
	if _, err := l.HoldWithin(ctx, a.ID, amt(t, "1"), time.Minute, budget); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}

// subjectSpent sums the subject's usage entries.
func subjectSpent(t *testing.T, l *sqlite.Ledger, accountID int64, subject string) meter.Amount {
	t.Helper()
	entries, err := l.FindEntries(context.Background(), meter.EntryFilter{AccountID: accountID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var spent meter.Amount
	for _, e := range entries {
		if e.Kind == meter.EntryUsage && e.Subject == subject {
			spent -= e.Amount
		}
	}
	return spent
}

// Ping commits a write through the writer; a closed ledger fails it.
func TestLedger_Ping(t *testing.T) {
	l := MustOpenLedger(t, MustOpenDB(t))
	if err := l.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := l.Ping(context.Background()); err == nil {
		t.Fatal("a closed ledger answered the ping")
	}
}

// Closing the ledger releases the holds of requests still in flight, in
// memory or stored: none outlives the process.
func TestLedger_CloseReleasesAbandonedHolds(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l, err := sqlite.NewLedger(db, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	a := mustApp(t, l, "10")
	if _, err := l.Hold(ctx, a.ID, amt(t, "1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	l.PersistAfter = 0
	if err := l.PersistHolds(); err != nil {
		t.Fatal(err)
	}
	if _, held := eventualBalances(t, l, a.ID, amt(t, "1")); held != amt(t, "1") {
		t.Fatalf("held=%s, want the stored hold", held)
	}
	if _, err := l.Hold(ctx, a.ID, amt(t, "2"), time.Hour); err != nil { // in memory only
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := MustOpenLedger(t, db)
	acct, err := l2.FindAccountByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if acct.Balance != amt(t, "10") || acct.Held != 0 {
		t.Fatalf("after close: balance=%s held=%s, want 10 and nothing held", acct.Balance, acct.Held)
	}
	if _, err := l2.Hold(ctx, a.ID, amt(t, "10"), time.Minute); err != nil {
		t.Fatalf("the whole balance is available again: %v", err)
	}
	mustVerify(t, l2)
}

// A subject's entries page newest first without a gap or a repeat, even
// when many share one millisecond (paged by time, then id), and never
// include another subject's; FindBudgetUse counts what the book counts.
func TestLedger_SubjectEntriesAndBudgetUse(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	frozen := time.Now()
	db.Now = func() time.Time { return frozen }
	l := MustOpenLedger(t, db)
	a := mustApp(t, l, "10")
	alice := meter.Budget{Subject: "user:alice", Cap: amt(t, "1")}
	var want []int64
	for i := range 12 {
		subject := "user:bob"
		if i%3 != 0 {
			subject = alice.Subject
		}
		h, err := l.HoldWithin(ctx, a.ID, amt(t, "0.01"), time.Minute, meter.Budget{Subject: subject, Cap: amt(t, "1")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: amt(t, "0.01"), Subject: subject}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := l.FindEntries(ctx, meter.EntryFilter{AccountID: a.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if e.Subject == alice.Subject {
			want = append(want, e.ID)
		}
	}
	var got []int64
	for cursor := int64(0); ; {
		page, err := l.FindEntries(ctx, meter.EntryFilter{AccountID: a.ID, Subject: alice.Subject, BeforeID: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if e.Subject != alice.Subject {
				t.Fatalf("alice's page holds %+v", e)
			}
			got = append(got, e.ID)
		}
		if len(page) < 3 {
			break
		}
		cursor = page[len(page)-1].ID
	}
	if len(want) != 8 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("alice's pages %v, want %v", got, want)
	}

	h, err := l.HoldWithin(ctx, a.ID, amt(t, "0.2"), time.Minute, alice)
	if err != nil {
		t.Fatal(err)
	}
	use, err := l.FindBudgetUse(ctx, a.ID, alice)
	if err != nil || use.Spent != amt(t, "0.08") || use.Held != amt(t, "0.2") {
		t.Fatalf("use=%+v err=%v, want 0.08 spent and 0.2 held", use, err)
	}
	if err := l.Release(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	// A budget the book never saw is read from the journal.
	use, err = l.FindBudgetUse(ctx, a.ID, meter.Budget{Subject: "user:bob", Since: frozen.Add(-time.Hour)})
	if err != nil || use.Spent != amt(t, "0.04") || use.Held != 0 {
		t.Fatalf("bob's use=%+v err=%v, want 0.04 spent", use, err)
	}
}
