package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// An upto authorization's payment-identifier is claimed with it: the same
// permit (key) again under the id is a replay naming the first, decided
// before its nonce and its caps; another permit a conflict, and nothing
// claimed for it.
func TestUptoIdentifiers_ClaimedWithTheAuthorization(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	const id = "upto_0123456789abcdef"
	first := uptoAuth(uptoPayer, 5000)
	first.Identifier = id
	mustClaimUpto(t, l, first, roomy)

	again := *first
	again.ID = 0
	none := meter.UptoLimits{} // a replay is answered, never refused for the caps
	var rep *meter.PaymentReplay
	if err := l.ClaimUpto(ctx, &again, none); meter.ErrorCode(err) != meter.ECodePaymentReplayed || !errors.As(err, &rep) || rep.PaymentID != first.ID {
		t.Fatalf("replay: %v, want payment_replayed of authorization %d", err, first.ID)
	}
	other := uptoAuth(uptoPayer, 5000)
	other.Identifier = id
	if err := l.ClaimUpto(ctx, other, roomy); meter.ErrorCode(err) != meter.ECodePaymentIDConflict {
		t.Fatalf("conflict: %v", err)
	}
	if n := db.Count(t, `SELECT COUNT(*) FROM upto_authorizations`); n != 1 {
		t.Fatalf("%d authorizations, want 1", n)
	}
	// The same permit under another id is its nonce's replay, not a claim.
	renamed := *first
	renamed.Identifier = "upto_fedcba9876543210"
	if err := l.ClaimUpto(ctx, &renamed, roomy); meter.ErrorCode(err) != meter.ECodePaymentUsed {
		t.Fatalf("the same permit under a new id: %v", err)
	}
	// Another payer's id is its own.
	theirs := uptoAuth(payer, 5000)
	theirs.Identifier = id
	mustClaimUpto(t, l, theirs, roomy)

	got, err := l.FindUptoByIdentifier(ctx, uptoPayer, id)
	if err != nil || got == nil || got.ID != first.ID || got.Identifier != id || got.Key != first.Key {
		t.Fatalf("find: %+v %v", got, err)
	}
	if got, err := l.FindUptoByIdentifier(ctx, uptoPayer, "upto_unknown_0123456"); got != nil || err != nil {
		t.Fatalf("find unknown: %+v %v", got, err)
	}
	if n := db.Count(t, `SELECT COUNT(*) FROM upto_identifiers`); n != 2 {
		t.Fatalf("%d upto identifiers, want 2", n)
	}
	mustVerify(t, l)
}

// Exact and upto share one namespace of ids per payer: an id an exact
// payment claimed is a conflict for an upto authorization, and the
// reverse; neither finds the other's under the id.
func TestUptoIdentifiers_OneNamespaceWithExact(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	const exactID, uptoID = "exact_0123456789abcdef", "upto_0123456789abcdef"
	p := newPayment("k1", meter.PurposeRequest, 2500)
	p.Identifier = exactID
	if err := l.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	a := uptoAuth(payer, 5000)
	a.Identifier = exactID
	if err := l.ClaimUpto(ctx, a, roomy); meter.ErrorCode(err) != meter.ECodePaymentIDConflict {
		t.Fatalf("upto under an exact payment's id: %v", err)
	}
	a.Identifier = uptoID
	mustClaimUpto(t, l, a, roomy)
	q := newPayment("k2", meter.PurposeRequest, 2500)
	q.Identifier = uptoID
	if err := l.ClaimPayment(ctx, q); meter.ErrorCode(err) != meter.ECodePaymentIDConflict {
		t.Fatalf("exact under an upto authorization's id: %v", err)
	}
	// A payment whose key happened to be the authorization's is no replay of it.
	r := newPayment(a.Key, meter.PurposeRequest, 2500)
	r.Identifier = uptoID
	if err := l.ClaimPayment(ctx, r); meter.ErrorCode(err) != meter.ECodePaymentIDConflict {
		t.Fatalf("exact with the upto key under its id: %v", err)
	}
	if got, err := l.FindPaymentByIdentifier(ctx, payer, uptoID); got != nil || err != nil {
		t.Fatalf("the payment under an upto id: %+v %v", got, err)
	}
	if got, err := l.FindUptoByIdentifier(ctx, payer, exactID); got != nil || err != nil {
		t.Fatalf("the authorization under an exact id: %+v %v", got, err)
	}
	if n := db.Count(t, `SELECT COUNT(*) FROM payments`); n != 1 {
		t.Fatalf("%d payments, want 1", n)
	}
	mustVerify(t, l)
}

// Fifty claims of one permit under one id at once: one claims it, the
// others are its replays.
func TestUptoIdentifiers_FiftyAtOnce(t *testing.T) {
	l := MustOpenLedger(t, MustOpenDB(t))
	a := uptoAuth(uptoPayer, 5000)
	a.Identifier = "fifty_0123456789abcdef"
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		claimed  []int64
		replayed int
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := *a
			err := l.ClaimUpto(context.Background(), &c, roomy)
			var rep *meter.PaymentReplay
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				claimed = append(claimed, c.ID)
			case errors.As(err, &rep):
				replayed++
			default:
				t.Errorf("claim: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(claimed) != 1 || replayed != 49 {
		t.Fatalf("claimed %v, replayed %d; want one and 49", claimed, replayed)
	}
	mustVerify(t, l)
}

// A file at schema version 10 keeps its exact payments' identifiers
// through migration 0011: they are taken for upto payments too.
func TestMigration_PaymentIdentifiersFromVersion10(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "paymeter.db")
	if err := sqlite.MigrateTo(path, 10,
		`INSERT INTO payments (id, key, network, payer, wallet, amount, purpose, state, payload, requirement, created_at, updated_at)
		 VALUES (7, 'k_old', 'base-sepolia', '`+payer+`', '`+payer+`', 2500, 'request', 'claimed', '{}', '{}', 1, 1)`,
		`INSERT INTO payment_identifiers (payer, id, payment_id, created_at) VALUES ('`+payer+`', 'old_0123456789abcdef', 7, 1)`,
	); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := MustOpenLedger(t, db)
	if got, err := l.FindPaymentByIdentifier(ctx, payer, "old_0123456789abcdef"); err != nil || got == nil || got.ID != 7 {
		t.Fatalf("the old identifier: %+v %v", got, err)
	}
	a := uptoAuth(payer, 5000)
	a.Identifier = "old_0123456789abcdef"
	if err := l.ClaimUpto(ctx, a, roomy); meter.ErrorCode(err) != meter.ECodePaymentIDConflict {
		t.Fatalf("upto under the old exact id: %v", err)
	}
	a.Identifier = "new_0123456789abcdef"
	mustClaimUpto(t, l, a, roomy)
	if got, err := l.FindUptoByIdentifier(ctx, payer, a.Identifier); err != nil || got == nil || got.ID != a.ID {
		t.Fatalf("the new identifier: %+v %v", got, err)
	}
	mustVerify(t, l)
}
