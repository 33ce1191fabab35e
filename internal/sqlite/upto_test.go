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

const uptoPayer = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"

var uptoSeq atomic.Int64

func uptoAuth(payer string, max meter.USDC) *meter.UptoAuthorization {
	n := uptoSeq.Add(1)
	return &meter.UptoAuthorization{Key: fmt.Sprintf("eip155:84532/permit2/%s/%d", payer, n), Network: "base-sepolia",
		Token: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Payer: payer, Max: max, RequestID: fmt.Sprintf("req-%d", n),
		Deadline: time.Now().Add(15 * time.Minute), Payload: []byte(`{}`), Requirement: []byte(`{}`)}
}

// roomy are limits that refuse nothing.
var roomy = meter.UptoLimits{PerPayer: 1_000_000_000, Total: 1_000_000_000, Balance: 1_000_000_000, Allowance: 1_000_000_000}

func mustClaimUpto(t *testing.T, l *sqlite.Ledger, a *meter.UptoAuthorization, lim meter.UptoLimits) {
	t.Helper()
	if err := l.ClaimUpto(context.Background(), a, lim); err != nil {
		t.Fatal(err)
	}
}

func TestUpto_SettledBooksPaymentAndUsageThatCancel(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := uptoAuth(uptoPayer, 5000)
	mustClaimUpto(t, l, a, roomy)
	if a.ID == 0 || a.AccountID == 0 {
		t.Fatalf("claimed %+v: no id or account", a)
	}
	charge := meter.Charge{Cost: 1_234_567, RequestID: a.RequestID, Model: "demo-small", Usage: meter.Usage{InputTokens: 7, OutputTokens: 9}}
	if err := l.CaptureUpto(ctx, a.ID, charge, meter.UptoSettleAmount(charge.Cost, 10, a.Max)); err != nil {
		t.Fatal(err)
	}
	got, err := l.FindUpto(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// 0.001234567 credits rounds up to 1235 atomic units.
	if got.State != meter.UptoDue || got.Amount != 1235 || got.Cost != 1_234_567 {
		t.Fatalf("after capture: %s amount %d cost %d, want due 1235 1234567", got.State, got.Amount, got.Cost)
	}
	if err := l.MarkUpto(ctx, a.ID, meter.UptoSettling, "0xabc", ""); err != nil {
		t.Fatal(err)
	}
	if err := l.SettleUpto(ctx, a.ID, "0xabc"); err != nil {
		t.Fatal(err)
	}
	if err := l.SettleUpto(ctx, a.ID, "0xabc"); err != nil { // twice books once
		t.Fatal(err)
	}
	entries, err := l.FindEntries(ctx, meter.EntryFilter{AccountID: a.AccountID})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Kind != meter.EntryUsage || entries[0].Amount != -1_235_000 ||
		entries[0].RequestID != a.RequestID || entries[0].Usage.OutputTokens != 9 ||
		entries[1].Kind != meter.EntryPayment || entries[1].Amount != 1_235_000 {
		t.Fatalf("entries %+v %+v", entries[0], entries[len(entries)-1])
	}
	if bal, held := balances(t, l, a.AccountID); bal != 0 || held != 0 {
		t.Fatalf("balance %s held %s, want 0 and 0: upto never makes a balance", bal, held)
	}
	mustVerify(t, l)
}

func TestUpto_ClaimRefusals(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := uptoAuth(uptoPayer, 400)
	mustClaimUpto(t, l, a, roomy)
	replay := *a
	if err := l.ClaimUpto(ctx, &replay, roomy); meter.ErrorCode(err) != meter.ECodePaymentUsed {
		t.Fatalf("replay: %v, want payment_already_used", err)
	}
	cases := []struct {
		name   string
		lim    meter.UptoLimits
		code   string
		reason string
	}{
		{"per payer", meter.UptoLimits{PerPayer: 799, Total: 1e9, Balance: 1e9, Allowance: 1e9}, meter.ECodeUptoLimitReached, ""},
		{"total", meter.UptoLimits{PerPayer: 1e9, Total: 799, Balance: 1e9, Allowance: 1e9}, meter.ECodeUptoCapacity, ""},
		{"balance", meter.UptoLimits{PerPayer: 1e9, Total: 1e9, Balance: 799, Allowance: 1e9}, meter.ECodeInvalidPayment, meter.UptoShortBalance},
		{"allowance", meter.UptoLimits{PerPayer: 1e9, Total: 1e9, Balance: 1e9, Allowance: 799}, meter.ECodeInvalidPayment, meter.UptoShortAllowance},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := l.ClaimUpto(ctx, uptoAuth(uptoPayer, 400), c.lim)
			var reason any
			if me, ok := err.(*meter.Error); ok {
				reason = me.Details["reason"]
			}
			if meter.ErrorCode(err) != c.code || (c.reason != "" && reason != c.reason) {
				t.Fatalf("err %v (reason %v), want %s %s", err, reason, c.code, c.reason)
			}
		})
	}
	// Exactly at the limits is allowed: 400 at risk, 400 more, limit 800.
	mustClaimUpto(t, l, uptoAuth(uptoPayer, 400), meter.UptoLimits{PerPayer: 800, Total: 800, Balance: 800, Allowance: 800})
	mustVerify(t, l)
}

func TestUpto_FailedPayerRefusedUntilSettled(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	a := uptoAuth(uptoPayer, 400)
	mustClaimUpto(t, l, a, roomy)
	if err := l.CaptureUpto(ctx, a.ID, meter.Charge{Cost: 300_000}, 300); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkUpto(ctx, a.ID, meter.UptoSettling, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkUpto(ctx, a.ID, meter.UptoFailed, "0xdead", "permit2_allowance_required"); err != nil {
		t.Fatal(err)
	}
	if err := l.ClaimUpto(ctx, uptoAuth(uptoPayer, 1), roomy); meter.ErrorCode(err) != meter.ECodeUptoSettlementFailed {
		t.Fatalf("claim after a failure: %v, want upto_settlement_failed", err)
	}
	mustClaimUpto(t, l, uptoAuth("0x0000000000000000000000000000000000000B0b", 1), roomy) // others are not refused
	due, err := l.DueUpto(ctx, time.Now(), time.Now().Add(time.Second), time.Now(), 10)
	if err != nil || len(due) != 1 || due[0].ID != a.ID || due[0].State != meter.UptoFailed || due[0].TxHash != "0xdead" {
		t.Fatalf("due %v %+v, want the failed one to retry", err, due)
	}
	if err := l.SettleUpto(ctx, a.ID, "0xbeef"); err != nil {
		t.Fatal(err)
	}
	mustClaimUpto(t, l, uptoAuth(uptoPayer, 1), roomy)
	mustVerify(t, l)
}

func TestUpto_ZeroCostAndReleaseFreeTheExposure(t *testing.T) {
	ctx := context.Background()
	l := MustOpenLedger(t, MustOpenDB(t))
	lim := meter.UptoLimits{PerPayer: 500, Total: 500, Balance: 500, Allowance: 500}
	a, b := uptoAuth(uptoPayer, 500), uptoAuth(uptoPayer, 500)
	mustClaimUpto(t, l, a, lim)
	if err := l.CaptureUpto(ctx, a.ID, meter.Charge{}, 0); err != nil {
		t.Fatal(err)
	}
	mustClaimUpto(t, l, b, lim)
	if err := l.ReleaseUpto(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := l.ReleaseUpto(ctx, b.ID); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("second release: %v, want conflict", err)
	}
	mustClaimUpto(t, l, uptoAuth(uptoPayer, 500), lim)
	for _, id := range []int64{a.ID, b.ID} {
		if got, _ := l.FindUpto(ctx, id); got.State != meter.UptoReleased {
			t.Fatalf("authorization %d is %s, want released", id, got.State)
		}
	}
	mustVerify(t, l)
}

// 50 claims of one payer at once: the cap holds exactly, whatever the
// interleaving, and every refusal says why.
func TestUpto_ConcurrentClaimsStayWithinThePayersCap(t *testing.T) {
	l := MustOpenLedger(t, MustOpenDB(t))
	lim := meter.UptoLimits{PerPayer: 1000, Total: 1_000_000, Balance: 1_000_000, Allowance: 1_000_000}
	var wg sync.WaitGroup
	var ok, refused atomic.Int64
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := l.ClaimUpto(context.Background(), uptoAuth(uptoPayer, 100), lim); meter.ErrorCode(err) {
			case "":
				ok.Add(1)
			case meter.ECodeUptoLimitReached:
				refused.Add(1)
			default:
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if ok.Load() != 10 || refused.Load() != 40 {
		t.Fatalf("%d claimed, %d refused; want 10 and 40 under a cap of 10 maxima", ok.Load(), refused.Load())
	}
	stats, err := l.FindUptoStats(context.Background())
	if err != nil || stats.Count[meter.UptoClaimed] != 10 || stats.Amount[meter.UptoClaimed] != 1000 {
		t.Fatalf("stats %+v %v", stats, err)
	}
	mustVerify(t, l)
}
