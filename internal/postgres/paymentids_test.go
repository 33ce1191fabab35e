package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/postgres"
)

// One payment under one payment identifier, claimed by 50 callers over 4
// instances: one claim; the 49 others are replays naming it (not merely
// payment_already_used), whatever instance they reached.
func TestPaymentIdentifiers_ClaimedOnceAcrossInstances(t *testing.T) {
	ss := stores(t, instances)
	ctx := context.Background()
	const id = "pay_0123456789abcdef"
	first := make(chan int64, 1)
	replays := make(chan int64, callers)
	codes := race(t, ss, func(s *postgres.Store, i int) error {
		p := payment("k-same", meter.PurposeRequest, 2500)
		p.Identifier = id
		err := s.ClaimPayment(ctx, p)
		var rep *meter.PaymentReplay
		switch {
		case err == nil:
			first <- p.ID
		case errors.As(err, &rep):
			replays <- rep.PaymentID
		}
		return err
	})
	mustCodes(t, "50 copies under one identifier", codes, map[string]int{"": 1, meter.ECodePaymentReplayed: callers - 1})
	firstID := <-first
	close(replays)
	for named := range replays {
		if named != firstID {
			t.Fatalf("a replay names payment %d, want %d", named, firstID)
		}
	}
	// Other payments under the claimed identifier conflict, with it in
	// the details.
	codes = race(t, ss, func(s *postgres.Store, i int) error {
		p := payment(fmt.Sprintf("k-other-%d", i), meter.PurposeRequest, 2500)
		p.Identifier = id
		err := s.ClaimPayment(ctx, p)
		var e *meter.Error
		if errors.As(err, &e) && (e.Details["payment_identifier"] != id || e.Message !=
			`payment identifier "pay_0123456789abcdef" was already used for another payment of this payer; use a new one for a new payment`) {
			t.Errorf("conflict %+v", e)
		}
		return err
	})
	mustCodes(t, "50 other payments under it", codes, map[string]int{meter.ECodePaymentIDConflict: callers})
	// None of the refused claims left a payment behind.
	if open, err := ss[0].OpenPayments(ctx, ss[0].Now().Add(1e12)); err != nil || len(open) != 1 || open[0].ID != firstID {
		t.Fatalf("payments %d (%v), want only the first", len(open), err)
	}
	got, err := ss[2].FindPaymentByIdentifier(ctx, payer, id)
	if err != nil || got == nil || got.ID != firstID || got.Identifier != id || got.Key != "k-same" {
		t.Fatalf("find by identifier: %+v %v, want payment %d", got, err, firstID)
	}
	if got, err := ss[3].FindPaymentByIdentifier(ctx, payer, "pay_unknown_0123456"); got != nil || err != nil {
		t.Fatalf("an unknown identifier: %+v %v, want nil, nil", got, err)
	}
	// Another payer's identifier is its own.
	theirs := payment("k-theirs", meter.PurposeRequest, 2500)
	theirs.Payer, theirs.Wallet, theirs.Identifier = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", id
	if err := ss[1].ClaimPayment(ctx, theirs); err != nil {
		t.Fatalf("another payer under the same identifier: %v", err)
	}
	if c, metered, err := ss[0].PaymentCharge(ctx, firstID); err != nil || metered || c != 0 {
		t.Fatalf("charge of an unapplied payment: %s %v %v, want 0, not metered", c, metered, err)
	}
	mustClean(t, ss[0])
}

// Exact payments and upto permits racing for one identifier of one payer
// over 4 instances (one namespace, both claims under the identifier's
// advisory lock): exactly one of the 50 wins, the rest conflict.
func TestPaymentIdentifiers_OneNamespaceWithUpto(t *testing.T) {
	ss := stores(t, instances)
	ctx := context.Background()
	const id = "pay_shared_0123456789"
	var exactWon, uptoWon int
	var mu sync.Mutex
	codes := race(t, ss, func(s *postgres.Store, i int) error {
		var err error
		if i%2 == 0 {
			p := payment(fmt.Sprintf("k-exact-%d", i), meter.PurposeRequest, 2500)
			p.Identifier = id
			err = s.ClaimPayment(ctx, p)
		} else {
			u := uptoPermit(payer, i, 400)
			u.Identifier = id
			err = s.ClaimUpto(ctx, u, uptoRoomy)
		}
		if err == nil {
			mu.Lock()
			if i%2 == 0 {
				exactWon++
			} else {
				uptoWon++
			}
			mu.Unlock()
		}
		return err
	})
	mustCodes(t, "50 exact and upto claims of one identifier", codes, map[string]int{"": 1, meter.ECodePaymentIDConflict: callers - 1})
	exact, err := ss[1].FindPaymentByIdentifier(ctx, payer, id)
	if err != nil {
		t.Fatal(err)
	}
	upto, err := ss[2].FindUptoByIdentifier(ctx, payer, id)
	if err != nil || (exact != nil) != (exactWon == 1) || (upto != nil) != (uptoWon == 1) {
		t.Fatalf("found exact %v upto %v (%v), want the one that won (exact %d, upto %d)", exact != nil, upto != nil, err, exactWon, uptoWon)
	}
	mustClean(t, ss[0])
}
