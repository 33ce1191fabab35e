package ledgertest

import (
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// durabilityTests prove that what a store acknowledged is committed:
// another store on the same database sees it at once, without the first
// one closing, and so does a store opened after both closed.
var durabilityTests = []test{
	{"AcknowledgedIsDurable", testAcknowledgedIsDurable},
}

// acked is what the first store acknowledged.
type acked struct {
	app, wallet         *meter.Account
	payment             *meter.Payment
	open                *meter.Payment
	upto                *meter.UptoAuthorization
	key                 *meter.Key
	secret              string
	messageHash         [32]byte
	signedAt, claimedAt time.Time
}

func testAcknowledgedIsDurable(t *testing.T, d *db) {
	first := d.open(t)
	w := acknowledge(t, first)

	// Another instance, the first still running: every acknowledged write
	// is there, and every claim holds against it.
	second := d.open(t)
	mustSeeAcked(t, second, w, "beside the first store")
	if ok, err := second.ConsumeNonce(ctx, "durable-live", time.Now()); !ok || err != nil {
		t.Fatalf("a nonce issued by the first store, consumed by the second: ok=%v %v, want true", ok, err)
	}

	// A restart: the holds still active at close are released, nothing
	// else changes.
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third := d.open(t)
	mustSeeAcked(t, third, w, "after a restart")
	if ok, err := third.ConsumeNonce(ctx, "durable-live", time.Now()); ok || err != nil {
		t.Fatalf("a nonce consumed before the restart: ok=%v %v, want false", ok, err)
	}
	if bal, held := balances(t, third, w.app.ID); bal != amt(t, "8.75") || held != 0 {
		t.Fatalf("app after a restart: balance=%s held=%s, want 8.75 and 0 (the open hold released at close)", bal, held)
	}
	mustAvailable(t, third, w.app.ID, amt(t, "8.75"))
	// Holds are decided from what is stored: exactly the balance fits.
	if _, err := third.Hold(ctx, w.app.ID, amt(t, "8.75"), time.Minute); err != nil {
		t.Fatalf("a hold of the whole balance after a restart: %v", err)
	}
	if _, err := third.Hold(ctx, w.app.ID, 1, time.Minute); meter.ErrorCode(err) != meter.ECodeInsufficientCredit {
		t.Fatalf("one nano-credit more: err=%v, want insufficient_credits", err)
	}
	mustVerify(t, third)
}

// acknowledge makes one of each durable write through s and returns what
// was acknowledged; one hold is left open.
func acknowledge(t *testing.T, s meter.Store) *acked {
	t.Helper()
	w := &acked{app: mustApp(t, s, "10"), messageHash: [32]byte{9}, signedAt: time.Now(), claimedAt: time.Now()}
	h, err := s.Hold(ctx, w.app.ID, amt(t, "3"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: w.app.ID, Cost: amt(t, "1.25"), RequestID: "req-d"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hold(ctx, w.app.ID, amt(t, "2"), time.Hour); err != nil { // left open
		t.Fatal(err)
	}
	w.payment = newPayment("durable-topup", meter.PurposeTopup, 3_000_000)
	if err := s.ClaimPayment(ctx, w.payment); err != nil {
		t.Fatal(err)
	}
	if w.wallet, err = s.SettlePayment(ctx, w.payment.ID, "0xd1"); err != nil {
		t.Fatal(err)
	}
	w.open = newPayment("durable-open", meter.PurposeRequest, 1000)
	if err := s.ClaimPayment(ctx, w.open); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptWalletMessage(ctx, alice, w.messageHash, w.signedAt, time.Now().Add(time.Hour), meter.FreeGrant{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptSIWXNonce(ctx, "durable-siwx", bob, w.claimedAt, time.Now().Add(time.Hour), meter.FreeGrant{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"durable-live", "durable-used"} {
		if err := s.CreateNonce(ctx, n, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := s.ConsumeNonce(ctx, "durable-used", time.Now()); !ok || err != nil {
		t.Fatalf("consume: ok=%v %v", ok, err)
	}
	w.key = &meter.Key{AccountID: w.app.ID, Name: "durable", Scopes: meter.DefaultKeyScopes}
	if w.secret, err = auth.IssueKey(ctx, s, w.key, false); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeKey(ctx, w.key.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.upto = uptoAuth(payer2, 4000)
	if err := s.ClaimUpto(ctx, w.upto, roomy); err != nil {
		t.Fatal(err)
	}
	if err := s.CaptureUpto(ctx, w.upto.ID, meter.Charge{Cost: 2_000_000, RequestID: w.upto.RequestID}, 2000); err != nil {
		t.Fatal(err)
	}
	return w
}

// mustSeeAcked checks, through s, that everything w acknowledged is there
// and that none of its claims can be made again.
func mustSeeAcked(t *testing.T, s meter.Store, w *acked, when string) {
	t.Helper()
	if bal, _ := balances(t, s, w.app.ID); bal != amt(t, "8.75") {
		t.Fatalf("%s: app balance=%s, want 8.75", when, bal)
	}
	if bal, _ := balances(t, s, w.wallet.ID); bal != 3*meter.Credit {
		t.Fatalf("%s: wallet balance=%s, want the top-up of 3", when, bal)
	}
	if err := s.ClaimPayment(ctx, newPayment("durable-topup", meter.PurposeTopup, 3_000_000)); meter.ErrorCode(err) != meter.ECodePaymentUsed {
		t.Fatalf("%s: a payment claimed again: err=%v, want payment_already_used", when, err)
	}
	if open, err := s.OpenPayments(ctx, time.Now().Add(time.Hour)); err != nil || len(open) != 1 || open[0].ID != w.open.ID {
		t.Fatalf("%s: open payments %+v (%v), want payment %d", when, open, err, w.open.ID)
	}
	if page, err := s.SettledPayments(ctx, 0, 10); err != nil || len(page) != 1 || page[0].ID != w.payment.ID || page[0].TxHash != "0xd1" {
		t.Fatalf("%s: settled payments %+v (%v), want payment %d by 0xd1", when, page, err, w.payment.ID)
	}
	if _, err := s.AcceptWalletMessage(ctx, alice, w.messageHash, w.signedAt, time.Now().Add(time.Hour), meter.FreeGrant{}); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
		t.Fatalf("%s: a wallet message accepted again: err=%v, want signature_replayed", when, err)
	}
	if _, err := s.AcceptSIWXNonce(ctx, "durable-siwx", alice, w.claimedAt, time.Now().Add(time.Hour), meter.FreeGrant{}); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
		t.Fatalf("%s: a SIWX nonce claimed again: err=%v, want signature_replayed", when, err)
	}
	if ok, err := s.ConsumeNonce(ctx, "durable-used", time.Now()); ok || err != nil {
		t.Fatalf("%s: a SIWE nonce consumed again: ok=%v %v, want false", when, ok, err)
	}
	keys := auth.NewKeyAuthenticator(s)
	if _, err := keys.Authenticate(ctx, w.secret); meter.ErrorCode(err) != meter.ECodeRevokedAPIKey {
		t.Fatalf("%s: a revoked key: err=%v, want revoked_api_key", when, err)
	}
	replay := uptoAuth(payer2, 4000)
	if err := s.ClaimUpto(ctx, replay, roomy); meter.ErrorCode(err) != meter.ECodePaymentUsed {
		t.Fatalf("%s: an upto authorization claimed again: err=%v, want payment_already_used", when, err)
	}
	if u, err := s.FindUpto(ctx, w.upto.ID); err != nil || u.State != meter.UptoDue || u.Amount != 2000 || u.Cost != 2_000_000 {
		t.Fatalf("%s: upto %+v (%v), want due 2000 for 2000000", when, u, err)
	}
	if entries, err := s.FindEntries(ctx, meter.EntryFilter{AccountID: w.app.ID}); err != nil || len(entries) != 2 {
		t.Fatalf("%s: app entries %d (%v), want the grant and one usage", when, len(entries), err)
	}
}
