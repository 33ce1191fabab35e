package sqlite_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// A request payment's entries are referenced by its zero-padded id
// (payment and change "pay:…", usage "x402:pay:…"); a ledger whose
// payments were booked under their key alone, as before, still verifies
// clean, and still answers a replay with what its request was charged.
func TestPayments_EntryReferences(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	p := newPayment("k-new", meter.PurposeRequest, 2500)
	if err := l.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	a, err := l.SettlePayment(ctx, p.ID, "0x1")
	if err != nil {
		t.Fatal(err)
	}
	cost := amt(t, "0.001")
	if _, err := l.ApplyPayment(ctx, p.ID, meter.Charge{Cost: cost, RequestID: "req_1"}); err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("pay:%016d", p.ID)
	for kind, want := range map[string]string{"payment": ref, "usage": "x402:" + ref, "change": ref} {
		if n := db.Count(t, `SELECT count(*) FROM entries WHERE kind = ? AND ref = ? AND account_id = ?`, kind, want, a.ID); n != 1 {
			t.Errorf("%s entries referenced %q: %d, want 1", kind, want, n)
		}
	}
	if got, ok, err := l.PaymentCharge(ctx, p.ID); err != nil || !ok || got != cost {
		t.Fatalf("charge of the payment: %s %v %v, want %s", got, ok, err, cost)
	}
	mustVerify(t, l)

	// A payment booked by the earlier version: the same three entries,
	// referenced by the key.
	old := newPayment("k-old", meter.PurposeRequest, 2500)
	if err := l.ClaimPayment(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := l.SettlePayment(ctx, old.ID, "0x2"); err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		kind, ref string
		amount    meter.Amount
	}{{"payment", "k-old", cost}, {"usage", "x402:k-old", -cost}, {"change", "k-old", amt(t, "0.0015")}} {
		if err := db.Exec(`INSERT INTO entries (account_id, kind, amount, ref, created_at) VALUES (?, ?, ?, ?, 0)`,
			a.ID, e.kind, int64(e.amount), e.ref); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Exec(`UPDATE accounts SET balance = balance + ? WHERE id = ?`, int64(amt(t, "0.0015")), a.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`UPDATE payments SET applied_at = 1 WHERE id = ?`, old.ID); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, l)
	if got, ok, err := l.PaymentCharge(ctx, old.ID); err != nil || !ok || got != cost {
		t.Fatalf("charge of the legacy payment: %s %v %v, want %s", got, ok, err, cost)
	}
	// Its request cannot be charged again under the new reference.
	if _, err := l.ApplyPayment(ctx, old.ID, meter.Charge{Cost: cost}); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("late apply of the legacy payment: %v, want a conflict", err)
	}
	// Tampering is still found: the legacy payment's change is removed.
	if err := db.Exec(`DROP TRIGGER entries_no_delete`); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`DELETE FROM entries WHERE kind = 'change' AND ref = 'k-old'`); err != nil {
		t.Fatal(err)
	}
	problems, err := l.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("account %d: applied payment's credits differ from its amount (payment id, credits): %d, %d",
		a.ID, old.ID, int64(cost))
	if !slices.Contains(problems, want) {
		t.Fatalf("verify after removing a legacy change entry: %q, want %q among them", problems, want)
	}
}
