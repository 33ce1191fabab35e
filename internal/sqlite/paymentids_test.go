package sqlite_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

func TestPaymentIdentifiers_ClaimedWithThePayment(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	const id = "pay_0123456789abcdef"
	first := newPayment("k1", meter.PurposeRequest, 2500)
	first.Identifier = id
	if err := l.ClaimPayment(ctx, first); err != nil {
		t.Fatal(err)
	}
	// The same payment key again: a replay naming the first payment.
	again := newPayment("k1", meter.PurposeRequest, 2500)
	again.Identifier = id
	var rep *meter.PaymentReplay
	if err := l.ClaimPayment(ctx, again); meter.ErrorCode(err) != meter.ECodePaymentReplayed || !errors.As(err, &rep) || rep.PaymentID != first.ID {
		t.Fatalf("replay: %v, want payment_replayed of payment %d", err, first.ID)
	}
	// Another payment under the id: a conflict, and nothing claimed.
	other := newPayment("k2", meter.PurposeRequest, 2500)
	other.Identifier = id
	if err := l.ClaimPayment(ctx, other); meter.ErrorCode(err) != meter.ECodePaymentIDConflict {
		t.Fatalf("conflict: %v", err)
	}
	if n := db.Count(t, `SELECT COUNT(*) FROM payments WHERE key = 'k2'`); n != 0 {
		t.Fatalf("a conflicting payment was claimed (%d rows)", n)
	}
	// Another payer's id is its own.
	theirs := newPayment("k3", meter.PurposeRequest, 2500)
	theirs.Payer, theirs.Identifier = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", id
	if err := l.ClaimPayment(ctx, theirs); err != nil {
		t.Fatalf("another payer's payment under the same id: %v", err)
	}
	// A payment claimed without the id keeps its key: the id cannot claim it.
	plain := newPayment("k4", meter.PurposeRequest, 2500)
	if err := l.ClaimPayment(ctx, plain); err != nil {
		t.Fatal(err)
	}
	late := newPayment("k4", meter.PurposeRequest, 2500)
	late.Identifier = "pay_fedcba9876543210"
	if err := l.ClaimPayment(ctx, late); meter.ErrorCode(err) != meter.ECodePaymentUsed {
		t.Fatalf("a used key under a new id: %v", err)
	}
	if n := db.Count(t, `SELECT COUNT(*) FROM payment_identifiers`); n != 2 {
		t.Fatalf("%d identifiers, want 2", n)
	}

	got, err := l.FindPaymentByIdentifier(ctx, payer, id)
	if err != nil || got == nil || got.ID != first.ID || got.Identifier != id {
		t.Fatalf("find: %+v %v", got, err)
	}
	if got, err := l.FindPaymentByIdentifier(ctx, payer, "pay_unknown_0123456"); got != nil || err != nil {
		t.Fatalf("find unknown: %+v %v", got, err)
	}
	// Its charge is known once its request is metered.
	if _, metered, err := l.PaymentCharge(ctx, first.ID); metered || err != nil {
		t.Fatalf("charge before settling: metered %v %v", metered, err)
	}
	if _, err := l.SettlePayment(ctx, first.ID, "0xabc"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ApplyPayment(ctx, first.ID, meter.Charge{Cost: 1234, RequestID: "req_1", Model: "m"}); err != nil {
		t.Fatal(err)
	}
	if cost, metered, err := l.PaymentCharge(ctx, first.ID); cost != 1234 || !metered || err != nil {
		t.Fatalf("charge %s metered %v %v, want 1234 nano-credits", cost, metered, err)
	}
	mustVerify(t, l)
}
