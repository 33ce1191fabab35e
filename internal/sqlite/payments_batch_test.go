package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// Request payments applied all at once share batches (their entries one
// multi-row insert): each is applied once, whatever the number of
// concurrent applies of it, beside captures of holds of the same wallet;
// every balance and the journal add up.
func TestPayments_ConcurrentAppliesShareBatches(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	const payments, tries = 40, 3
	ids := make([]int64, payments)
	var wallet int64
	for i := range ids {
		p := newPayment(fmt.Sprintf("k-batch-%d", i), meter.PurposeRequest, 2500)
		if err := l.ClaimPayment(ctx, p); err != nil {
			t.Fatal(err)
		}
		a, err := l.SettlePayment(ctx, p.ID, "0x1")
		if err != nil {
			t.Fatal(err)
		}
		ids[i], wallet = p.ID, a.ID
	}
	// The wallet also has credit of its own, spent by holds beside them.
	if _, err := l.Credit(ctx, wallet, meter.EntryGrant, meter.Credit, "grant-batch"); err != nil {
		t.Fatal(err)
	}
	cost := amt(t, "0.001")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied = map[int64]int{}
	)
	for _, id := range ids {
		for range tries {
			wg.Add(2)
			go func() {
				defer wg.Done()
				charged, err := l.ApplyPayment(ctx, id, meter.Charge{Cost: cost, RequestID: "req_b"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && charged == cost:
					applied[id]++
				case meter.ErrorCode(err) != meter.ECodeConflict:
					t.Errorf("apply %d: %s %v", id, charged, err)
				}
			}()
			go func() {
				defer wg.Done()
				h, err := l.Hold(ctx, wallet, cost, 0)
				if err == nil {
					_, err = l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: wallet, Cost: cost})
				}
				if err != nil {
					t.Errorf("hold and capture: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	for _, id := range ids {
		if applied[id] != 1 {
			t.Fatalf("payment %d applied %d times, want once", id, applied[id])
		}
	}
	// Credit 1, minus payments*tries captures of cost; each payment's
	// 0.0025 paid 0.001 and left 0.0015 of change.
	want := meter.Credit - payments*tries*cost + payments*amt(t, "0.0015")
	if bal, _ := balances(t, l, wallet); bal != want {
		t.Fatalf("wallet balance %s, want %s", bal, want)
	}
	entries, err := l.FindEntries(ctx, meter.EntryFilter{AccountID: wallet, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[meter.EntryKind]int{}
	for _, e := range entries {
		kinds[e.Kind]++
	}
	if kinds[meter.EntryPayment] != payments || kinds[meter.EntryChange] != payments ||
		kinds[meter.EntryUsage] != payments+payments*tries || kinds[meter.EntryGrant] != 1 {
		t.Fatalf("journal kinds %v", kinds)
	}
	mustVerify(t, l)
}
