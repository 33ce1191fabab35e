package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// Review (i15-perf2): a lazily recorded settlement raced by everything
// that may write the same payment — the background writer
// (PersistSettlements), and a sweep that takes the payment for dead
// (SettlePayment then ApplyPayment as change, as RetryOpen does in a
// process that does not see the request in its InFlight) — is credited
// once and charged once: the wallet ends with paid-cost, the ledger adds
// up, and nothing is left claimed or unapplied.
func TestSettleLaterReview_RacesCreditOnce(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	l.PersistAfter = 0
	cost := amt(t, "0.001")
	paid := meter.USDC(2500).Amount()
	const n = 40
	ps := make([]*meter.Payment, n)
	for i := range ps {
		ps[i] = claimed(t, l, fmt.Sprintf("k-review-%d", i))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	charges := map[int64]meter.Amount{}
	for i, p := range ps {
		wg.Add(3)
		go func() { defer wg.Done(); l.PersistSettlements() }()
		go func() { // the sweep of a process that does not see the request
			defer wg.Done()
			if i%2 == 0 {
				time.Sleep(time.Millisecond)
			}
			if _, err := l.SettlePayment(ctx, p.ID, "0xfeed"); err != nil {
				t.Errorf("sweep settle %d: %v", p.ID, err)
				return
			}
			c, err := l.ApplyPayment(ctx, p.ID, meter.Charge{RequestID: p.RequestID})
			if err != nil && meter.ErrorCode(err) != meter.ECodeConflict {
				t.Errorf("sweep apply %d: %v", p.ID, err)
			}
			mu.Lock()
			charges[p.ID] += c
			mu.Unlock()
		}()
		go func() {
			defer wg.Done()
			c, err := l.SettleApply(ctx, p, meter.Charge{Cost: cost, RequestID: p.RequestID})
			if err != nil && meter.ErrorCode(err) != meter.ECodeConflict {
				t.Errorf("request %d: %v", p.ID, err)
			}
			mu.Lock()
			charges[p.ID] += c
			mu.Unlock()
		}()
	}
	wg.Wait()
	var acct int64
	for _, p := range ps {
		got, _ := l.FindPayment(ctx, p.ID)
		if got.State != meter.PaymentSettled || got.AccountID == 0 {
			t.Fatalf("payment %+v, want settled on the wallet", got)
		}
		acct = got.AccountID
		if charges[p.ID] != cost {
			t.Errorf("payment %d charged %s in all, want %s once", p.ID, charges[p.ID], cost)
		}
	}
	if un, _ := l.UnappliedPayments(ctx, time.Now().Add(time.Minute)); len(un) != 0 {
		t.Fatalf("unapplied %d", len(un))
	}
	if open, _ := l.OpenPayments(ctx, time.Now().Add(time.Minute)); len(open) != 0 {
		t.Fatalf("open %d", len(open))
	}
	if bal, _ := balances(t, l, acct); bal != n*(paid-cost) {
		t.Fatalf("wallet balance %s, want %s (each payment credited once, charged once)", bal, n*(paid-cost))
	}
	mustVerify(t, l)
}

// Review: a settlement noted and never applied (the request died before
// metering: an error path that neither captures nor releases) is written
// on its own, settled and unapplied, so that the change sweep credits it:
// the payer is never left without the credit while the process lives.
func TestSettleLaterReview_AbandonedIsWritten(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	l.PersistAfter = 0
	p := claimed(t, l, "k-abandoned")
	if err := l.PersistSettlements(); err != nil {
		t.Fatal(err)
	}
	waitState(t, l, p.ID, meter.PaymentSettled)
	if un, _ := l.UnappliedPayments(ctx, time.Now().Add(time.Minute)); len(un) != 1 {
		t.Fatalf("unapplied %+v, want the abandoned payment for the change sweep", un)
	}
	if c, err := l.ApplyPayment(ctx, p.ID, meter.Charge{RequestID: p.RequestID}); err != nil || c != 0 {
		t.Fatalf("change sweep: %s %v", c, err)
	}
	got, _ := l.FindPayment(ctx, p.ID)
	if bal, _ := balances(t, l, got.AccountID); bal != meter.USDC(2500).Amount() {
		t.Fatalf("balance %s, want the whole payment as change", bal)
	}
	mustVerify(t, l)
}
