package sqlite_test

import (
	"context"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// A capture writes its charge to upto_charges, leaving the
// authorization's row its size; an authorization captured before
// migration 0013, with its charge on the row, still shows and settles
// with it.
func TestUpto_ChargeKeptBesideTheAuthorization(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	a := uptoAuth(uptoPayer, 5000)
	mustClaimUpto(t, l, a, roomy)
	charge := meter.Charge{Cost: 1_234_567, RequestID: a.RequestID, Model: "demo-small", Usage: meter.Usage{InputTokens: 7, OutputTokens: 9}}
	if err := l.CaptureUpto(ctx, a.ID, charge, 1235); err != nil {
		t.Fatal(err)
	}
	if n := db.Count(t, `SELECT count(*) FROM upto_charges WHERE upto_id = ?`, a.ID); n != 1 {
		t.Fatalf("upto_charges rows for the capture: %d, want 1", n)
	}
	if n := db.Count(t, `SELECT length(charge) FROM upto_authorizations WHERE id = ?`, a.ID); n != 0 {
		t.Fatalf("charge on the authorization's row: %d bytes, want none", n)
	}
	got, err := l.FindUpto(ctx, a.ID)
	if err != nil || got.Charge.Model != "demo-small" || got.Charge.Usage.OutputTokens != 9 || got.Charge.Cost != 1_234_567 {
		t.Fatalf("found %+v %v, want its charge", got, err)
	}

	// Captured before migration 0013: the charge, as the capture wrote
	// it, is on the row.
	old := uptoAuth(uptoPayer, 5000)
	mustClaimUpto(t, l, old, roomy)
	if err := db.Exec(`UPDATE upto_authorizations SET state = 'due', cost = 2000000, amount = 2000, updated_at = 1,
		charge = replace(replace((SELECT charge FROM upto_charges WHERE upto_id = ?), 'demo-small', 'demo-large'), ?, 'req-old')
		WHERE id = ?`, a.ID, a.RequestID, old.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`UPDATE upto_exposure SET open = open - 5000 + 2000 WHERE payer IN (?, '*')`, uptoPayer); err != nil {
		t.Fatal(err)
	}
	got, err = l.FindUpto(ctx, old.ID)
	if err != nil || got.Charge.Model != "demo-large" || got.Charge.RequestID != "req-old" {
		t.Fatalf("found legacy %+v %v, want the charge on its row", got, err)
	}
	if err := l.MarkUpto(ctx, old.ID, meter.UptoSettling, "0xold", ""); err != nil {
		t.Fatal(err)
	}
	if err := l.SettleUpto(ctx, old.ID, "0xold"); err != nil {
		t.Fatal(err)
	}
	entries, err := l.FindEntries(ctx, meter.EntryFilter{AccountID: old.AccountID})
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %+v %v, want the legacy payment and its usage", entries, err)
	}
	if u := entries[0]; u.Kind != meter.EntryUsage || u.Model != "demo-large" || u.RequestID != "req-old" || u.Amount != -2_000_000 {
		t.Fatalf("usage entry %+v, want the legacy charge booked", u)
	}
	mustVerify(t, l)
}
