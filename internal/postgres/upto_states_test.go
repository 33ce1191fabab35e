package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
)

// A payer whose settlement failed (marked on one instance) is refused on
// every instance until it settles; other payers are not; the failed
// authorization stays in the total, out of the payer's open exposure.
func TestUpto_FailedPayerRefusedEverywhereUntilSettled(t *testing.T) {
	ss := uptoStores(t, 2)
	ctx := context.Background()
	a := claimCaptured(t, ss[0], uptoPayer, 1, 300)
	if err := ss[0].MarkUpto(ctx, a.ID, meter.UptoSettling, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := ss[0].MarkUpto(ctx, a.ID, meter.UptoFailed, "0xdead", "permit2_allowance_required"); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, ss[0].Ledger)
	err := ss[1].ClaimUpto(ctx, uptoPermit(uptoPayer, 2, 1), uptoRoomy)
	var me *meter.Error
	if !errors.As(err, &me) || me.Code != meter.ECodeUptoSettlementFailed || me.Details["failed"] != int64(1) {
		t.Fatalf("claim after a failure: %#v, want upto_settlement_failed with failed=1", err)
	}
	lim := uptoRoomy
	lim.Total = 301 // the failed 300 still counts in the total
	if err := ss[1].ClaimUpto(ctx, uptoPermit("0x0000000000000000000000000000000000000B0b", 1, 2), lim); meter.ErrorCode(err) != meter.ECodeUptoCapacity {
		t.Fatalf("another payer over the total: %v, want upto_capacity_reached", err)
	}
	if err := ss[1].ClaimUpto(ctx, uptoPermit("0x0000000000000000000000000000000000000B0b", 1, 1), lim); err != nil {
		t.Fatalf("another payer within the total: %v", err)
	}
	now := time.Now()
	due, err := ss[1].DueUpto(ctx, now, now.Add(time.Second), now, 10)
	if err != nil || len(due) != 1 || due[0].ID != a.ID || due[0].State != meter.UptoFailed || due[0].TxHash != "0xdead" ||
		due[0].Reason != "permit2_allowance_required" {
		t.Fatalf("due %+v (%v), want the failed one to retry", due, err)
	}
	if err := ss[1].BeginUpto(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := ss[0].FindUpto(ctx, a.ID); got.State != meter.UptoFailed || got.Attempts != 1 {
		t.Fatalf("begun failed one %+v, want still failed, 1 attempt", got)
	}
	if failed, err := ss[0].FailedUpto(ctx); err != nil || len(failed) != 1 || failed[0].ID != a.ID {
		t.Fatalf("failed %+v (%v), want %d", failed, err, a.ID)
	}
	if err := ss[0].SettleUpto(ctx, a.ID, "0xbeef"); err != nil {
		t.Fatal(err)
	}
	if err := ss[1].ClaimUpto(ctx, uptoPermit(uptoPayer, 3, 1), uptoRoomy); err != nil {
		t.Fatalf("claim once settled: %v", err)
	}
	mustUptoStats(t, ss[0], meter.UptoFailed, 0, 0)
	mustUptoStats(t, ss[0], meter.UptoClaimed, 2, 2)
	mustVerify(t, ss[1].Ledger)
}

// A zero capture and a release free the exposure; moves out of order are
// conflicts, an unknown id not found, stale claims listed.
func TestUpto_MovesAndRefusals(t *testing.T) {
	ss := uptoStores(t, 2)
	ctx := context.Background()
	lim := meter.UptoLimits{PerPayer: 500, Total: 500, Balance: 500, Allowance: 500}
	a, b := uptoPermit(uptoPayer, 1, 500), uptoPermit(uptoPayer, 2, 500)
	if err := ss[0].ClaimUpto(ctx, a, lim); err != nil {
		t.Fatal(err)
	}
	if err := ss[1].ClaimUpto(ctx, b, lim); meter.ErrorCode(err) != meter.ECodeUptoLimitReached {
		t.Fatalf("over the cap: %v", err)
	}
	if stale, err := ss[1].ClaimedUpto(ctx, time.Now().Add(time.Second)); err != nil || len(stale) != 1 || stale[0].ID != a.ID {
		t.Fatalf("claimed %+v (%v), want %d", stale, err, a.ID)
	}
	if err := ss[1].CaptureUpto(ctx, a.ID, meter.Charge{}, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := ss[0].FindUpto(ctx, a.ID); got.State != meter.UptoReleased {
		t.Fatalf("zero capture: %s, want released", got.State)
	}
	if err := ss[0].ClaimUpto(ctx, b, lim); err != nil {
		t.Fatalf("after a zero capture: %v", err)
	}
	if err := ss[1].ReleaseUpto(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	conflicts := []struct {
		name string
		err  error
		msg  string
	}{
		{"release twice", ss[0].ReleaseUpto(ctx, b.ID), "upto authorization 2 is released, not claimed"},
		{"capture released", ss[0].CaptureUpto(ctx, b.ID, meter.Charge{}, 1), "upto authorization 2 is released, not claimed"},
		{"mark released", ss[0].MarkUpto(ctx, b.ID, meter.UptoSettling, "", ""), "upto authorization 2 is released; it cannot become settling"},
		{"settle released", ss[0].SettleUpto(ctx, b.ID, "0x1"), "upto authorization 2 is released; it cannot be settled"},
		{"begin released", ss[0].BeginUpto(ctx, b.ID), "upto authorization 2 is not due, settling or failed"},
	}
	for _, c := range conflicts {
		var me *meter.Error
		if !errors.As(c.err, &me) || me.Code != meter.ECodeConflict || me.Message != c.msg {
			t.Errorf("%s: %v, want conflict %q", c.name, c.err, c.msg)
		}
	}
	if err := ss[0].SettleUpto(ctx, 99, "0x1"); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("settle unknown: %v, want not_found", err)
	}
	if _, err := ss[0].FindUpto(ctx, 99); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("find unknown: %v, want not_found", err)
	}
	mustUptoStats(t, ss[0], meter.UptoClaimed, 0, 0)
	mustVerify(t, ss[0].Ledger)
}

// 50 permits of one payer under one payment identifier at once, over 4
// instances: one claimed, the rest conflicts; the first permit again is
// its replay, naming it.
func TestUpto_IdentifierClaimedOnceAcrossInstances(t *testing.T) {
	ss := uptoStores(t, 4)
	ctx := context.Background()
	const id = "pay_upto_0123456789abcdef"
	won := make(chan *meter.UptoAuthorization, 1)
	codes := raceUpto(t, uptoClaims, func(i int) error {
		a := uptoPermit(uptoPayer, i, 100)
		a.Identifier = id
		err := ss[i%len(ss)].ClaimUpto(ctx, a, uptoRoomy)
		if err == nil {
			won <- a
		}
		return err
	})
	mustUptoCodes(t, "50 permits under one identifier", codes, map[string]int{"": 1, meter.ECodePaymentIDConflict: uptoClaims - 1})
	first := <-won
	again := uptoPermit(uptoPayer, 0, 100)
	again.Key, again.Identifier = first.Key, id
	err := ss[2].ClaimUpto(ctx, again, uptoRoomy)
	var replay *meter.PaymentReplay
	if meter.ErrorCode(err) != meter.ECodePaymentReplayed || !errors.As(err, &replay) || replay.PaymentID != first.ID {
		t.Fatalf("the first permit again: %v, want payment_replayed naming %d", err, first.ID)
	}
	got, err := ss[3].FindUptoByIdentifier(ctx, uptoPayer, id)
	if err != nil || got == nil || got.ID != first.ID || got.Identifier != id || got.Key != first.Key {
		t.Fatalf("find by identifier %+v (%v), want %d", got, err, first.ID)
	}
	if got, err := ss[3].FindUptoByIdentifier(ctx, "0x0000000000000000000000000000000000000B0b", id); got != nil || err != nil {
		t.Fatalf("another payer's identifier: %+v %v, want nil, nil", got, err)
	}
	mustUptoStats(t, ss[0], meter.UptoClaimed, 1, 100)
	mustVerify(t, ss[0].Ledger)
}

// Verify recomputes the exposure rows and the entries of settled
// authorizations, checks that only final ones are closed (migration
// 0016), and names what disagrees.
func TestUpto_VerifyFindsExposureAndBookingOff(t *testing.T) {
	dsn := pgtest.DSN(t)
	ss := uptoStoresOn(t, dsn, 1)
	ctx := context.Background()
	a := claimCaptured(t, ss[0], uptoPayer, 1, 300)
	if err := ss[0].SettleUpto(ctx, a.ID, "0xabc"); err != nil {
		t.Fatal(err)
	}
	claimed := uptoPermit(uptoPayer, 2, 700)
	if err := ss[0].ClaimUpto(ctx, claimed, uptoRoomy); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, ss[0].Ledger)
	pool := mustOpen(t, dsn).Pool()
	for _, q := range []string{
		`UPDATE upto_exposure SET open = open + 1, failed = 2 WHERE payer = '*'`,
		`UPDATE upto_authorizations SET amount = 299 WHERE id = 1`,
		// Claimed, marked closed: the settler would never see it.
		fmt.Sprintf(`UPDATE upto_authorizations SET closed_at = 1 WHERE id = %d`, claimed.ID),
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ss[0].Verify(ctx)
	want := []string{
		"account 0: upto exposure differs from its open authorizations (open, recomputed): 701, 700",
		"account 0: upto failures differ from its failed authorizations (failed, recomputed): 2, 0",
		fmt.Sprintf("account %d: upto authorization booked unlike its state (authorization id, entries): 1, 0", a.AccountID),
		fmt.Sprintf("account %d: upto authorization closed unlike its state (authorization id, 1 if marked open): %d, 0", claimed.AccountID, claimed.ID),
	}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("verify:\n%q (%v)\nwant\n%q", got, err, want)
	}
}
