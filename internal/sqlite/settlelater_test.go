package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// claimed claims a request payment of 2500 atomic units and notes its
// settlement, unrecorded.
func claimed(t *testing.T, l *sqlite.Ledger, key string) *meter.Payment {
	t.Helper()
	p := newPayment(key, meter.PurposeRequest, 2500)
	if err := l.ClaimPayment(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	p.State, p.TxHash = meter.PaymentSettled, "0xfeed"
	l.SettleLater(p)
	return p
}

// A settlement noted for later is written with the request's cost, in
// one transaction: settled with its transaction, applied, the cost as
// payment and usage, the rest as change, on the wallet's account.
func TestSettleLater_RecordedWithTheApplication(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	p := claimed(t, l, "k-lazy")
	if got, _ := l.FindPayment(ctx, p.ID); got.State != meter.PaymentClaimed {
		t.Fatalf("state %s before the application, want claimed (nothing written)", got.State)
	}
	cost := amt(t, "0.001")
	charged, err := l.SettleApply(ctx, p, meter.Charge{Cost: cost, RequestID: "req_1"})
	if err != nil || charged != cost {
		t.Fatalf("settle and apply: %s %v", charged, err)
	}
	got, _ := l.FindPayment(ctx, p.ID)
	if got.State != meter.PaymentSettled || got.TxHash != "0xfeed" || got.AccountID == 0 {
		t.Fatalf("payment %+v, want settled by 0xfeed on the wallet's account", got)
	}
	if un, _ := l.UnappliedPayments(ctx, time.Now().Add(time.Minute)); len(un) != 0 {
		t.Fatalf("unapplied %+v", un)
	}
	if bal, _ := balances(t, l, got.AccountID); bal != amt(t, "0.0015") {
		t.Fatalf("wallet balance %s, want the change 0.0015", bal)
	}
	if _, err := l.SettleApply(ctx, p, meter.Charge{Cost: cost}); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("second apply: %v, want conflict", err)
	}
	mustVerify(t, l)
}

// A settlement its request has not applied within PersistAfter is written
// on its own (the request still runs): settled, unapplied, with its
// transaction; the request's application then finds it so.
func TestSettleLater_WrittenOnItsOwnAfterPersistAfter(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	l.PersistAfter = 0
	p := claimed(t, l, "k-long")
	if err := l.PersistSettlements(); err != nil {
		t.Fatal(err)
	}
	waitState(t, l, p.ID, meter.PaymentSettled)
	if un, _ := l.UnappliedPayments(ctx, time.Now().Add(time.Minute)); len(un) != 1 || un[0].TxHash != "0xfeed" {
		t.Fatalf("unapplied %+v, want the payment with its transaction", un)
	}
	if charged, err := l.SettleApply(ctx, p, meter.Charge{Cost: 1000}); err != nil || charged != 1000 {
		t.Fatalf("apply after: %s %v", charged, err)
	}
	mustVerify(t, l)
}

// Closing the ledger writes the settlements still unrecorded: after a
// restart the payment is settled and unapplied, for the change sweep.
func TestSettleLater_WrittenOnClose(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	p := claimed(t, l, "k-close")
	l.Close()
	again := MustOpenLedger(t, db)
	got, err := again.FindPayment(ctx, p.ID)
	if err != nil || got.State != meter.PaymentSettled || got.TxHash != "0xfeed" {
		t.Fatalf("after close: %+v %v, want settled", got, err)
	}
	if un, _ := again.UnappliedPayments(ctx, time.Now().Add(time.Minute)); len(un) != 1 {
		t.Fatalf("unapplied %+v, want the payment", un)
	}
}

// Applications racing the sweep that writes settlements on their own:
// each payment is settled and applied once, and the ledger adds up.
func TestSettleLater_ApplicationsRaceTheSweep(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	l.PersistAfter = 0
	const n = 60
	ps := make([]*meter.Payment, n)
	for i := range ps {
		ps[i] = claimed(t, l, fmt.Sprintf("k-race-%d", i))
	}
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%7 == 0 {
				l.PersistSettlements()
			}
			if charged, err := l.SettleApply(ctx, p, meter.Charge{Cost: 1000}); err != nil || charged != 1000 {
				t.Errorf("payment %d: %s %v", p.ID, charged, err)
			}
		}()
	}
	wg.Wait()
	for _, p := range ps {
		if got, _ := l.FindPayment(ctx, p.ID); got.State != meter.PaymentSettled || got.TxHash != "0xfeed" {
			t.Fatalf("payment %+v", got)
		}
	}
	if un, _ := l.UnappliedPayments(ctx, time.Now().Add(time.Minute)); len(un) != 0 {
		t.Fatalf("unapplied %d", len(un))
	}
	mustVerify(t, l)
}

func waitState(t *testing.T, l meter.Payments, id int64, want meter.PaymentState) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if p, err := l.FindPayment(context.Background(), id); err == nil && p.State == want {
			return
		}
	}
	t.Fatalf("payment %d never became %s", id, want)
}
