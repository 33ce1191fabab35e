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

const payer = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"

func newPayment(key string, purpose meter.PaymentPurpose, amount meter.USDC) *meter.Payment {
	return &meter.Payment{Key: key, Network: "base-sepolia", Payer: payer, Wallet: payer, Amount: amount, Purpose: purpose,
		RequestID: "req_1", Payload: []byte(`{"x402Version":1}`), Requirement: []byte(`{"scheme":"exact"}`)}
}

func TestPayments_ClaimedOnceUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	var (
		wg            sync.WaitGroup
		mu            sync.Mutex
		claimed, used int
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := l.ClaimPayment(ctx, newPayment("k1", meter.PurposeRequest, 2500))
			mu.Lock()
			defer mu.Unlock()
			switch meter.ErrorCode(err) {
			case "":
				claimed++
			case meter.ECodePaymentUsed:
				used++
			default:
				t.Errorf("claim: %v", err)
			}
		}()
	}
	wg.Wait()
	if claimed != 1 || used != 49 {
		t.Fatalf("claimed %d, refused %d; want 1 and 49", claimed, used)
	}
}

func TestPayments_SettleCreditsOnceWithoutFreeCredits(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	p := newPayment("topup-key", meter.PurposeTopup, 10_000_000)
	if err := l.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkPayment(ctx, p.ID, meter.PaymentSettling, "0xabc", ""); err != nil {
		t.Fatal(err)
	}
	a, err := l.SettlePayment(ctx, p.ID, "0xabc")
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != meter.AccountWallet || a.Address != payer || a.Balance != 10*meter.Credit || a.FreeGranted != 0 {
		t.Fatalf("account after top-up: %+v", a)
	}
	// Settling again (a retry after a lost answer) credits nothing more.
	again, err := l.SettlePayment(ctx, p.ID, "0xabc")
	if err != nil || again.ID != a.ID || again.Balance != 10*meter.Credit {
		t.Fatalf("second settle: %+v, %v", again, err)
	}
	// The wallet was created by a top-up: signing in later grants nothing.
	w, created, err := l.EnsureWallet(ctx, payer, meter.FreeGrant{Amount: 5 * meter.Credit})
	if err != nil || created || w.ID != a.ID || w.Balance != 10*meter.Credit {
		t.Fatalf("wallet after sign-in: %+v created=%v err=%v", w, created, err)
	}
	got, err := l.FindPayment(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != meter.PaymentSettled || got.TxHash != "0xabc" || got.AccountID != a.ID || got.Attempts != 1 ||
		string(got.Payload) != `{"x402Version":1}` {
		t.Fatalf("payment row: %+v", got)
	}
	if n := db.Count(t, `SELECT count(*) FROM entries WHERE kind = 'topup' AND ref = 'topup-key'`); n != 1 {
		t.Fatalf("%d topup entries, want 1", n)
	}
	// A final payment cannot be marked again.
	if err := l.MarkPayment(ctx, p.ID, meter.PaymentFailed, "", "x"); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("mark after settle: %v", err)
	}
	mustVerify(t, l)
}

func TestPayments_FailedIsNeverCredited(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	p := newPayment("k-fail", meter.PurposeRequest, 2500)
	if err := l.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkPayment(ctx, p.ID, meter.PaymentFailed, "", "insufficient_funds"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.SettlePayment(ctx, p.ID, "0x1"); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("settling a failed payment: %v", err)
	}
	if accts, _ := l.FindAccounts(ctx, meter.AccountWallet); len(accts) != 0 {
		t.Fatalf("a failed payment created %d accounts", len(accts))
	}
	if err := l.MarkPayment(ctx, p.ID, meter.PaymentSettled, "", ""); err == nil {
		t.Fatal("MarkPayment accepted settled")
	}
}

func TestPayments_OpenPaymentsAreListedForRetry(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	for i, state := range []meter.PaymentState{meter.PaymentClaimed, meter.PaymentSettling, meter.PaymentFailed, meter.PaymentSettled} {
		p := newPayment(fmt.Sprintf("k%d", i), meter.PurposeRequest, 1000)
		if err := l.ClaimPayment(ctx, p); err != nil {
			t.Fatal(err)
		}
		switch state {
		case meter.PaymentSettling, meter.PaymentFailed:
			if err := l.MarkPayment(ctx, p.ID, state, "", ""); err != nil {
				t.Fatal(err)
			}
		case meter.PaymentSettled:
			if _, err := l.SettlePayment(ctx, p.ID, "0x2"); err != nil {
				t.Fatal(err)
			}
		}
	}
	open, err := l.OpenPayments(ctx, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].Key != "k0" || open[1].Key != "k1" || open[1].State != meter.PaymentSettling {
		t.Fatalf("open payments: %+v", open)
	}
	if none, _ := l.OpenPayments(ctx, time.Now().Add(-time.Hour)); len(none) != 0 {
		t.Fatalf("payments touched just now listed as stale: %d", len(none))
	}
	var _ meter.Payments = (*sqlite.Ledger)(nil)
}

func TestPayments_RequestPaymentAppliedOnceWithChange(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	p := newPayment("k-req", meter.PurposeRequest, 2500) // 0.0025 credits
	if err := l.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ApplyPayment(ctx, p.ID, meter.Charge{Cost: 1}); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("applying an unsettled payment: %v", err)
	}
	a, err := l.SettlePayment(ctx, p.ID, "0x1")
	if err != nil || a.Balance != 0 {
		t.Fatalf("settled request payment: %+v %v, want an account with nothing credited yet", a, err)
	}
	if un, err := l.UnappliedPayments(ctx, time.Now().Add(time.Minute)); err != nil || len(un) != 1 || un[0].ID != p.ID {
		t.Fatalf("unapplied: %+v %v", un, err)
	}
	mustVerify(t, l)

	cost := amt(t, "0.001")
	charged, err := l.ApplyPayment(ctx, p.ID, meter.Charge{Cost: cost, RequestID: "req_1", Model: "m",
		Usage: meter.Usage{InputTokens: 3, OutputTokens: 4}})
	if err != nil || charged != cost {
		t.Fatalf("apply: %s %v", charged, err)
	}
	entries, err := l.FindEntries(ctx, meter.EntryFilter{AccountID: a.ID})
	if err != nil || len(entries) != 3 {
		t.Fatalf("entries %+v %v", entries, err)
	}
	change, usage, payment := entries[0], entries[1], entries[2]
	if payment.Kind != meter.EntryPayment || payment.Amount != cost ||
		usage.Kind != meter.EntryUsage || usage.Amount != -cost || usage.RequestID != "req_1" || usage.Usage.OutputTokens != 4 ||
		change.Kind != meter.EntryChange || change.Amount != amt(t, "0.0015") {
		t.Fatalf("journal: payment %+v, usage %+v, change %+v", payment, usage, change)
	}
	if bal, _ := balances(t, l, a.ID); bal != amt(t, "0.0015") {
		t.Fatalf("wallet balance %s, want the change 0.0015", bal)
	}
	if _, err := l.ApplyPayment(ctx, p.ID, meter.Charge{Cost: cost}); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("second apply: %v", err)
	}
	if un, _ := l.UnappliedPayments(ctx, time.Now().Add(time.Minute)); len(un) != 0 {
		t.Fatalf("still unapplied: %+v", un)
	}
	mustVerify(t, l)

	// A cost above the payment is charged only up to it; nothing is change.
	q := newPayment("k-req2", meter.PurposeRequest, 1000)
	if err := l.ClaimPayment(ctx, q); err != nil {
		t.Fatal(err)
	}
	if _, err := l.SettlePayment(ctx, q.ID, "0x2"); err != nil {
		t.Fatal(err)
	}
	if charged, err := l.ApplyPayment(ctx, q.ID, meter.Charge{Cost: meter.Credit}); err != nil || charged != meter.USDC(1000).Amount() {
		t.Fatalf("capped apply: %s %v", charged, err)
	}
	mustVerify(t, l)
}
