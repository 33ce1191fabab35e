package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/postgres"
)

// noted claims a request payment of 2500 atomic units on s and notes its
// settlement, unrecorded.
func noted(t *testing.T, s *postgres.Store, key string) *meter.Payment {
	t.Helper()
	p := payment(key, meter.PurposeRequest, 2500)
	if err := s.ClaimPayment(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	p.State, p.TxHash = meter.PaymentSettled, "0xfeed"
	s.SettleLater(p)
	return p
}

// A settlement noted for later is written with the request's cost, in
// one transaction: settled with its transaction, applied, the cost as
// payment and usage, the rest as change; a second apply is a conflict.
func TestSettleLater_RecordedWithTheApplication(t *testing.T) {
	ctx := context.Background()
	s := stores(t, 1)[0]
	p := noted(t, s, "k-lazy")
	if got, _ := s.FindPayment(ctx, p.ID); got.State != meter.PaymentClaimed {
		t.Fatalf("state %s before the application, want claimed (nothing written)", got.State)
	}
	charged, err := s.SettleApply(ctx, p, meter.Charge{Cost: 1_000_000, RequestID: "req_1"})
	if err != nil || charged != 1_000_000 {
		t.Fatalf("settle and apply: %s %v", charged, err)
	}
	got, _ := s.FindPayment(ctx, p.ID)
	if got.State != meter.PaymentSettled || got.TxHash != "0xfeed" || got.AccountID == 0 {
		t.Fatalf("payment %+v, want settled by 0xfeed on the wallet's account", got)
	}
	if a, _ := s.FindAccountByID(ctx, got.AccountID); a.Balance != 1_500_000 || a.FreeGranted != 0 {
		t.Fatalf("wallet %+v, want the change 0.0015", a)
	}
	if _, err := s.SettleApply(ctx, p, meter.Charge{Cost: 1_000_000}); err == nil ||
		err.Error() != fmt.Sprintf("conflict: payment %d was already applied", p.ID) {
		t.Fatalf("second apply: %v, want conflict", err)
	}
	mustClean(t, s)
}

// A settlement not applied within PersistAfter is written on its own:
// settled, unapplied, with its transaction; its application, on another
// instance, then finds it so.
func TestSettleLater_WrittenOnItsOwnAfterPersistAfter(t *testing.T) {
	ctx := context.Background()
	ss := stores(t, 2)
	ss[0].PersistAfter = 0
	p := noted(t, ss[0], "k-long")
	if err := ss[0].PersistSettlements(ctx); err != nil {
		t.Fatal(err)
	}
	un, err := ss[1].UnappliedPayments(ctx, time.Now().Add(time.Minute))
	if err != nil || len(un) != 1 || un[0].ID != p.ID || un[0].TxHash != "0xfeed" || un[0].State != meter.PaymentSettled {
		t.Fatalf("unapplied %+v (%v), want the payment with its transaction", un, err)
	}
	if charged, err := ss[1].SettleApply(ctx, p, meter.Charge{Cost: 1000}); err != nil || charged != 1000 {
		t.Fatalf("apply after: %s %v", charged, err)
	}
	mustClean(t, ss[0])
}

// A settlement younger than PersistAfter is left for its application.
func TestSettleLater_NotWrittenBeforePersistAfter(t *testing.T) {
	ctx := context.Background()
	s := stores(t, 1)[0]
	s.PersistAfter = time.Hour
	p := noted(t, s, "k-young")
	if err := s.PersistSettlements(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindPayment(ctx, p.ID); got.State != meter.PaymentClaimed {
		t.Fatalf("state %s, want claimed", got.State)
	}
}

// Closing the store writes the settlements still unrecorded: the
// payment is settled and unapplied, for the change sweep.
func TestSettleLater_WrittenOnClose(t *testing.T) {
	ctx := context.Background()
	ss := stores(t, 2)
	p := noted(t, ss[0], "k-close")
	ss[0].Close()
	got, err := ss[1].FindPayment(ctx, p.ID)
	if err != nil || got.State != meter.PaymentSettled || got.TxHash != "0xfeed" {
		t.Fatalf("after close: %+v %v, want settled", got, err)
	}
	if un, _ := ss[1].UnappliedPayments(ctx, time.Now().Add(time.Minute)); len(un) != 1 {
		t.Fatalf("unapplied %+v, want the payment", un)
	}
}

// Applications racing the sweeps of two instances that write
// settlements on their own: each payment is settled and applied once.
func TestSettleLater_ApplicationsRaceTheSweep(t *testing.T) {
	ctx := context.Background()
	ss := stores(t, 2)
	ss[0].PersistAfter = 0
	const n = 40
	ps := make([]*meter.Payment, n)
	for i := range ps {
		ps[i] = noted(t, ss[0], fmt.Sprintf("k-race-%d", i))
	}
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%5 == 0 {
				if err := ss[0].PersistSettlements(ctx); err != nil {
					t.Error(err)
				}
			}
			if charged, err := ss[i%2].SettleApply(ctx, p, meter.Charge{Cost: 1000}); err != nil || charged != 1000 {
				t.Errorf("payment %d: %s %v", p.ID, charged, err)
			}
		}()
	}
	wg.Wait()
	if un, _ := ss[1].UnappliedPayments(ctx, time.Now().Add(time.Minute)); len(un) != 0 {
		t.Fatalf("unapplied %d, want 0", len(un))
	}
	got, _ := ss[1].FindPayment(ctx, ps[0].ID)
	if a, _ := ss[1].FindAccountByID(ctx, got.AccountID); a.Balance != n*(2_500_000-1000) {
		t.Fatalf("wallet balance %s, want %s", a.Balance, meter.Amount(n*(2_500_000-1000)))
	}
	mustClean(t, ss[0])
}
