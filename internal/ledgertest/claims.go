package ledgertest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// claimTests are the things claimed once whatever the concurrency: each
// is raced by 50 callers spread over two stores on one database (two
// instances), of which exactly one wins.
var claimTests = []test{
	{"PaymentClaimedOnce", testPaymentClaimedOnce},
	{"RequestPaymentAppliedOnce", testRequestPaymentAppliedOnce},
	{"PaymentIdentifierClaimedOnce", testPaymentIdentifierClaimedOnce},
	{"SIWENonceConsumedOnce", testSIWENonceConsumedOnce},
	{"WalletMessageAcceptedOnce", testWalletMessageAcceptedOnce},
	{"SIWXNonceClaimedOnce", testSIWXNonceClaimedOnce},
	{"UptoClaimedOnce", testUptoClaimedOnce},
	{"UptoReplayAtCapAnsweredAsUsed", testUptoReplayAtCapAnsweredAsUsed},
	{"UptoWriteOff", testUptoWriteOff},
	{"UptoSettlerSharesItsBatch", testUptoSettlerSharesItsBatch},
	{"LazySettlementAppliedOnce", testLazySettlementAppliedOnce},
	{"RevokedKeyRefused", testRevokedKeyRefused},
}

const (
	payer  = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
	payer2 = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
	alice  = "0x00000000000000000000000000000000000A11cE"
	bob    = "0x0000000000000000000000000000000000000B0b"
)

// parallel is how many callers race for one claim.
const parallel = 50

func newPayment(key string, purpose meter.PaymentPurpose, amount meter.USDC) *meter.Payment {
	return &meter.Payment{Key: key, Network: "base-sepolia", Payer: payer, Wallet: payer, Amount: amount, Purpose: purpose,
		RequestID: "req_1", Payload: []byte(`{"x402Version":1}`), Requirement: []byte(`{"scheme":"exact"}`)}
}

// An x402 exact payment is claimed once; its top-up, settled twice,
// credits once, to a wallet account without free credits.
func testPaymentClaimedOnce(t *testing.T, d *db) {
	ss := d.instances(t, 2)
	s := ss[0]
	ids := make(chan int64, parallel)
	codes := race(t, parallel, func(i int) error {
		s := ss[i%len(ss)]
		p := newPayment("eip155:84532/usdc/payer/nonce-1", meter.PurposeTopup, 10_000_000)
		err := s.ClaimPayment(ctx, p)
		if err == nil {
			ids <- p.ID
		}
		return err
	})
	mustCodes(t, "50 claims of one payment", codes, map[string]int{"": 1, meter.ECodePaymentUsed: parallel - 1})
	id := <-ids
	for range 2 { // a retry after a lost answer settles again
		a, err := s.SettlePayment(ctx, id, "0xabc")
		if err != nil {
			t.Fatal(err)
		}
		if a.Kind != meter.AccountWallet || a.Address != payer || a.Balance != 10*meter.Credit || a.FreeGranted != 0 {
			t.Fatalf("wallet after top-up: %+v, want %s with 10 credits and no free credits", a, payer)
		}
	}
	got, err := s.FindPayment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != meter.PaymentSettled || got.TxHash != "0xabc" || got.Amount != 10_000_000 || got.Purpose != meter.PurposeTopup ||
		string(got.Payload) != `{"x402Version":1}` || string(got.Requirement) != `{"scheme":"exact"}` {
		t.Fatalf("payment %+v, want settled 10 USDC top-up by 0xabc with its payload", got)
	}
	if err := s.MarkPayment(ctx, id, meter.PaymentFailed, "", "x"); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("marking a settled payment: err=%v, want conflict", err)
	}
	if open, err := s.OpenPayments(ctx, time.Now().Add(time.Hour)); err != nil || len(open) != 0 {
		t.Fatalf("open payments %d (%v), want 0", len(open), err)
	}
	mustVerify(t, s)
}

// A settled request payment is applied once, with its cost charged and
// the rest credited to the payer's wallet as change.
func testRequestPaymentAppliedOnce(t *testing.T, d *db) {
	ss := d.instances(t, 2)
	s := ss[0]
	p := newPayment("k-req", meter.PurposeRequest, 2500) // 0.0025 credits
	if err := s.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPayment(ctx, p.ID, meter.Charge{Cost: 1}); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("applying an unsettled payment: err=%v, want conflict", err)
	}
	a, err := s.SettlePayment(ctx, p.ID, "0x1")
	if err != nil || a.Balance != 0 {
		t.Fatalf("settled request payment: %+v %v, want a wallet with nothing credited yet", a, err)
	}
	if un, err := s.UnappliedPayments(ctx, time.Now().Add(time.Minute)); err != nil || len(un) != 1 || un[0].ID != p.ID {
		t.Fatalf("unapplied %+v (%v), want payment %d", un, err, p.ID)
	}
	cost := amt(t, "0.001")
	codes := race(t, parallel, func(i int) error {
		s := ss[i%len(ss)]
		charged, err := s.ApplyPayment(ctx, p.ID, meter.Charge{Cost: cost, RequestID: "req_1", Model: "m"})
		if err == nil && charged != cost {
			t.Errorf("charged %s, want %s", charged, cost)
		}
		return err
	})
	mustCodes(t, "50 applications of one payment", codes, map[string]int{"": 1, meter.ECodeConflict: parallel - 1})
	if bal, held := balances(t, s, a.ID); bal != amt(t, "0.0015") || held != 0 {
		t.Fatalf("wallet balance=%s held=%s, want the change 0.0015 and 0", bal, held)
	}
	if c, metered, err := s.PaymentCharge(ctx, p.ID); err != nil || !metered || c != cost {
		t.Fatalf("payment charge %s metered=%v (%v), want 0.001 metered", c, metered, err)
	}
	mustVerify(t, s)
}

// A payment identifier is claimed once: copies of one payment under it
// are replays naming the first; other payments under it conflict.
func testPaymentIdentifierClaimedOnce(t *testing.T, d *db) {
	ss := d.instances(t, 2)
	s := ss[0]
	const id = "pay_0123456789abcdef"
	first := make(chan int64, 1)
	codes := race(t, parallel, func(i int) error {
		s := ss[i%len(ss)]
		p := newPayment("k-same", meter.PurposeRequest, 2500)
		p.Identifier = id
		err := s.ClaimPayment(ctx, p)
		if err == nil {
			first <- p.ID
		}
		return err
	})
	mustCodes(t, "50 copies of one payment under one identifier", codes, map[string]int{"": 1, meter.ECodePaymentReplayed: parallel - 1})
	firstID := <-first
	again := newPayment("k-same", meter.PurposeRequest, 2500)
	again.Identifier = id
	var rep *meter.PaymentReplay
	if err := s.ClaimPayment(ctx, again); !errors.As(err, &rep) || rep.PaymentID != firstID {
		t.Fatalf("a replay: err=%v, want a replay of payment %d", err, firstID)
	}
	codes = race(t, parallel, func(i int) error {
		s := ss[i%len(ss)]
		p := newPayment(fmt.Sprintf("k-other-%d", i), meter.PurposeRequest, 2500)
		p.Identifier = id
		return s.ClaimPayment(ctx, p)
	})
	mustCodes(t, "50 other payments under a claimed identifier", codes, map[string]int{meter.ECodePaymentIDConflict: parallel})
	// Another payer's identifier is its own.
	theirs := newPayment("k-theirs", meter.PurposeRequest, 2500)
	theirs.Payer, theirs.Wallet, theirs.Identifier = payer2, payer2, id
	if err := s.ClaimPayment(ctx, theirs); err != nil {
		t.Fatalf("another payer's payment under the same identifier: %v", err)
	}
	got, err := s.FindPaymentByIdentifier(ctx, payer, id)
	if err != nil || got == nil || got.ID != firstID || got.Identifier != id {
		t.Fatalf("find by identifier: %+v %v, want payment %d", got, err, firstID)
	}
	if got, err := s.FindPaymentByIdentifier(ctx, payer, "pay_unknown_0123456"); got != nil || err != nil {
		t.Fatalf("find an unknown identifier: %+v %v, want nil, nil", got, err)
	}
	// An upto authorization cannot take an exact payment's identifier.
	u := uptoAuth(payer, 400)
	u.Identifier = id
	if err := s.ClaimUpto(ctx, u, roomy); meter.ErrorCode(err) != meter.ECodePaymentIDConflict {
		t.Fatalf("upto under an exact payment's identifier: err=%v, want payment_identifier_conflict", err)
	}
	mustVerify(t, s)
}

// A SIWE nonce signs in once; an expired one never.
func testSIWENonceConsumedOnce(t *testing.T, d *db) {
	ss := d.instances(t, 2)
	s := ss[0]
	now := time.Now()
	if err := s.CreateNonce(ctx, "nonce-live", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateNonce(ctx, "nonce-old", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	codes := race(t, parallel, func(i int) error {
		s := ss[i%len(ss)]
		ok, err := s.ConsumeNonce(ctx, "nonce-live", now)
		if err == nil && !ok {
			return meter.Errorf(meter.ECodeInvalidNonce, "consumed")
		}
		return err
	})
	mustCodes(t, "50 sign-ins with one nonce", codes, map[string]int{"": 1, meter.ECodeInvalidNonce: parallel - 1})
	if ok, err := s.ConsumeNonce(ctx, "nonce-old", now.Add(2*time.Second)); ok || err != nil {
		t.Fatalf("an expired nonce: ok=%v %v, want false", ok, err)
	}
	if ok, err := s.ConsumeNonce(ctx, "nonce-never", now); ok || err != nil {
		t.Fatalf("a nonce never issued: ok=%v %v, want false", ok, err)
	}
}

// A wallet message is accepted once per signer; the wallet's first
// message creates its account with the free credits, once.
func testWalletMessageAcceptedOnce(t *testing.T, d *db) {
	ss := d.instances(t, 2)
	s := ss[0]
	now := time.Now()
	hash := [32]byte{1, 2, 3}
	free := meter.FreeGrant{Amount: 5 * meter.Credit, Client: "192.0.2.1"}
	accounts := make(chan *meter.Account, parallel)
	codes := race(t, parallel, func(i int) error {
		s := ss[i%len(ss)]
		a, err := s.AcceptWalletMessage(ctx, alice, hash, now, now.Add(time.Minute), free)
		if err == nil {
			accounts <- a
		}
		return err
	})
	mustCodes(t, "50 copies of one wallet message", codes, map[string]int{"": 1, meter.ECodeSignatureReplayed: parallel - 1})
	a := <-accounts
	if a.Kind != meter.AccountWallet || a.Address != alice || a.FreeGranted != 5*meter.Credit {
		t.Fatalf("account %+v, want alice's with 5 free credits", a)
	}
	// The same text signed by another wallet is that wallet's message.
	b, err := s.AcceptWalletMessage(ctx, bob, hash, now, now.Add(time.Minute), free)
	if err != nil || b.ID == a.ID {
		t.Fatalf("bob's message: %+v %v, want bob's own account", b, err)
	}
	// Alice's next message finds her account, without a second grant.
	again, err := s.AcceptWalletMessage(ctx, alice, [32]byte{4}, now, now.Add(time.Minute), free)
	if err != nil || again.ID != a.ID || again.FreeGranted != 0 {
		t.Fatalf("alice's second message: %+v %v, want account %d and no new grant", again, err, a.ID)
	}
	w, created, err := s.EnsureWallet(ctx, alice, free)
	if err != nil || created || w.ID != a.ID || w.Balance != 5*meter.Credit {
		t.Fatalf("ensure alice: %+v created=%v %v, want account %d with 5", w, created, err, a.ID)
	}
	if bal, _ := balances(t, s, a.ID); bal != 5*meter.Credit {
		t.Fatalf("alice's balance %s, want the one grant of 5", bal)
	}
	mustVerify(t, s)
}

// A sign-in-with-x nonce is claimed once, by whichever wallet; the key
// of the nonces' tags is one.
func testSIWXNonceClaimedOnce(t *testing.T, d *db) {
	ss := d.instances(t, 2)
	s := ss[0]
	now := time.Now()
	free := meter.FreeGrant{Amount: 2 * meter.Credit, Client: "192.0.2.7"}
	codes := race(t, parallel, func(i int) error {
		s := ss[i%len(ss)]
		who := alice
		if i%2 == 1 {
			who = bob
		}
		_, err := s.AcceptSIWXNonce(ctx, "siwx-n1", who, now, now.Add(time.Minute), free)
		return err
	})
	mustCodes(t, "50 claims of one SIWX nonce", codes, map[string]int{"": 1, meter.ECodeSignatureReplayed: parallel - 1})
	a, err := s.AcceptSIWXNonce(ctx, "siwx-n2", alice, now, now.Add(time.Minute), free)
	if err != nil || a.Address != alice {
		t.Fatalf("a second nonce: %+v %v", a, err)
	}
	key, err := s.SIWXKey(ctx)
	if err != nil || len(key) != 32 {
		t.Fatalf("SIWX key %x (%v), want 32 bytes", key, err)
	}
	if again, err := s.SIWXKey(ctx); err != nil || string(again) != string(key) {
		t.Fatalf("SIWX key asked again %x (%v), want %x", again, err, key)
	}
	mustVerify(t, s)
}

var roomy = meter.UptoLimits{PerPayer: 1_000_000_000, Total: 1_000_000_000, Balance: 1_000_000_000, Allowance: 1_000_000_000}

func uptoAuth(payer string, max meter.USDC) *meter.UptoAuthorization {
	return &meter.UptoAuthorization{Key: "eip155:84532/permit2/" + payer + "/1", Network: "base-sepolia",
		Token: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Payer: payer, Max: max, RequestID: "req-upto",
		Deadline: time.Now().Add(15 * time.Minute), Payload: []byte(`{}`), Requirement: []byte(`{}`)}
}

// An upto authorization is claimed once; settled, its payment and usage
// cancel out, twice settled booking once.
func testUptoClaimedOnce(t *testing.T, d *db) {
	ss := d.instances(t, 2)
	s := ss[0]
	claimed := make(chan *meter.UptoAuthorization, 1)
	codes := race(t, parallel, func(i int) error {
		s := ss[i%len(ss)]
		a := uptoAuth(payer, 5000)
		err := s.ClaimUpto(ctx, a, roomy)
		if err == nil {
			claimed <- a
		}
		return err
	})
	mustCodes(t, "50 claims of one upto authorization", codes, map[string]int{"": 1, meter.ECodePaymentUsed: parallel - 1})
	a := <-claimed
	if a.ID == 0 || a.AccountID == 0 {
		t.Fatalf("claimed %+v: no id or account", a)
	}
	charge := meter.Charge{Cost: 1_234_567, RequestID: a.RequestID, Model: "m", Usage: meter.Usage{InputTokens: 7, OutputTokens: 9}}
	if err := s.CaptureUpto(ctx, a.ID, charge, 1235); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginUpto(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUpto(ctx, a.ID, meter.UptoSettling, "0xabc", ""); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.SettleUpto(ctx, a.ID, "0xabc"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FindUpto(ctx, a.ID)
	if err != nil || got.State != meter.UptoSettled || got.Amount != 1235 || got.Cost != 1_234_567 || got.TxHash != "0xabc" {
		t.Fatalf("upto %+v (%v), want settled 1235 for 1234567 by 0xabc", got, err)
	}
	entries, err := s.FindEntries(ctx, meter.EntryFilter{AccountID: a.AccountID})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Kind != meter.EntryUsage || entries[0].Amount != -1_235_000 ||
		entries[1].Kind != meter.EntryPayment || entries[1].Amount != 1_235_000 {
		t.Fatalf("entries %+v, want a payment and a usage of 0.001235", entries)
	}
	if bal, held := balances(t, s, a.AccountID); bal != 0 || held != 0 {
		t.Fatalf("balance=%s held=%s, want 0 and 0: upto never makes a balance", bal, held)
	}
	if page, err := s.SettledUpto(ctx, 0, 10); err != nil || len(page) != 1 || page[0].ID != a.ID {
		t.Fatalf("settled upto %+v (%v), want %d", page, err, a.ID)
	}
	mustVerify(t, s)
}

// A key revoked, or rotated, through one store is refused through
// another on the same database (another instance).
func testRevokedKeyRefused(t *testing.T, d *db) {
	s, other := d.open(t), d.open(t)
	a := mustApp(t, s, "1")
	k := &meter.Key{AccountID: a.ID, Name: "k", Scopes: meter.DefaultKeyScopes}
	secret, err := auth.IssueKey(ctx, s, k, false)
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.NewKeyAuthenticator(other)
	keys.CacheTTL = 0
	p, err := keys.Authenticate(ctx, secret)
	if err != nil || p.AccountID != a.ID || p.KeyID != k.ID {
		t.Fatalf("a live key: %+v %v, want account %d key %d", p, err, a.ID, k.ID)
	}
	newSecret, rotated, err := auth.RotateKey(ctx, s, k.ID, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Authenticate(ctx, secret); meter.ErrorCode(err) != meter.ECodeRevokedAPIKey {
		t.Fatalf("a rotated key: err=%v, want revoked_api_key", err)
	}
	if p, err := keys.Authenticate(ctx, newSecret); err != nil || p.KeyID != rotated.ID {
		t.Fatalf("its replacement: %+v %v, want key %d", p, err, rotated.ID)
	}
	if err := s.RevokeKey(ctx, rotated.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Authenticate(ctx, newSecret); meter.ErrorCode(err) != meter.ECodeRevokedAPIKey {
		t.Fatalf("a revoked key: err=%v, want revoked_api_key", err)
	}
	list, err := other.FindKeys(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].RevokedAt == nil || list[1].RevokedAt == nil {
		t.Fatalf("keys %+v (%v), want two, both revoked", list, err)
	}
}

// A request payment whose settlement is noted (SettleLater) is settled
// and applied by one SettleApply; the others, racing, change nothing.
func testLazySettlementAppliedOnce(t *testing.T, d *db) {
	s := d.open(t)
	p := newPayment("k-lazy", meter.PurposeRequest, 2500)
	if err := s.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.TxHash = "0xlazy"
	s.SettleLater(p)
	cost := amt(t, "0.002")
	codes := race(t, parallel, func(int) error {
		charged, err := s.SettleApply(ctx, p, meter.Charge{Cost: cost, RequestID: "req_1", Model: "m"})
		if err == nil && charged != cost {
			t.Errorf("charged %s, want %s", charged, cost)
		}
		return err
	})
	mustCodes(t, "50 settle-and-apply of one payment", codes, map[string]int{"": 1, meter.ECodeConflict: parallel - 1})
	got, err := s.FindPayment(ctx, p.ID)
	if err != nil || got.State != meter.PaymentSettled || got.TxHash != "0xlazy" || got.AccountID == 0 {
		t.Fatalf("payment %+v (%v), want settled by 0xlazy", got, err)
	}
	if bal, held := balances(t, s, got.AccountID); bal != amt(t, "0.0005") || held != 0 {
		t.Fatalf("wallet balance=%s held=%s, want the change 0.0005 and 0", bal, held)
	}
	if c, metered, err := s.PaymentCharge(ctx, p.ID); err != nil || !metered || c != cost {
		t.Fatalf("payment charge %s metered=%v (%v), want 0.002 metered", c, metered, err)
	}
	mustVerify(t, s)
}

// A permit replayed by a payer whose claims fill its cap is answered as
// used (409), not as the cap (429, whose Retry-After asks for the same
// permit again), on every engine.
func testUptoReplayAtCapAnsweredAsUsed(t *testing.T, d *db) {
	s := d.instances(t, 1)[0]
	a := uptoAuth(payer2, 5000)
	if err := s.ClaimUpto(ctx, a, roomy); err != nil {
		t.Fatal(err)
	}
	full := roomy
	full.PerPayer = 5000 // the claim above fills it
	replay := *a
	if err := s.ClaimUpto(ctx, &replay, full); meter.ErrorCode(err) != meter.ECodePaymentUsed {
		t.Fatalf("replay at the cap: %v, want %s", err, meter.ECodePaymentUsed)
	}
	fresh := uptoAuth(payer2, 5000)
	fresh.Key = "eip155:84532/permit2/" + payer2 + "/2"
	if err := s.ClaimUpto(ctx, fresh, full); meter.ErrorCode(err) != meter.ECodeUptoLimitReached {
		t.Fatalf("a new permit at the cap: %v, want %s", err, meter.ECodeUptoLimitReached)
	}
	mustVerify(t, s)
}

// A failed authorization past its deadline and the margin is written off
// once: its payer is refused no more, the total no longer counts it, and
// nothing is booked; anything else is refused.
func testUptoWriteOff(t *testing.T, d *db) {
	s := d.instances(t, 1)[0]
	recent := failedUpto(t, s, alice, "10", time.Now().Add(-meter.UptoWriteOffMargin/2))
	old := failedOf(t, s, payer, "11")
	if err := s.WriteOffUpto(ctx, recent.ID, "gone"); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("write-off within the margin of its deadline: %v, want %s", err, meter.ECodeConflict)
	}
	if err := s.ClaimUpto(ctx, uptoAuthKey(alice, "12"), roomy); meter.ErrorCode(err) != meter.ECodeUptoSettlementFailed {
		t.Fatalf("a payer with failed settlements claims: %v, want %s", err, meter.ECodeUptoSettlementFailed)
	}
	if err := s.WriteOffUpto(ctx, old.ID, "payer revoked its allowance"); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindUpto(ctx, old.ID)
	if err != nil || got.State != meter.UptoReleased || got.Reason != "written off: payer revoked its allowance" {
		t.Fatalf("written off: %+v, %v", got, err)
	}
	if err := s.WriteOffUpto(ctx, old.ID, "again"); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("a second write-off: %v, want %s", err, meter.ECodeConflict)
	}
	// One failure left (alice's, recent): still counted.
	stats, err := s.FindUptoStats(ctx)
	if err != nil || stats.Count[meter.UptoFailed] != 1 || stats.Amount[meter.UptoFailed] != 1235 {
		t.Fatalf("failed after one write-off: %+v, %v; want 1 of 1235", stats, err)
	}
	// A payer whose only failure is written off is served again.
	if err := s.WriteOffUpto(ctx, failedOf(t, s, payer2, "14").ID, "funds moved"); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimUpto(ctx, uptoAuthKey(payer2, "15"), roomy); err != nil {
		t.Fatalf("a payer whose failure was written off claims: %v", err)
	}
	mustVerify(t, s)
	due := uptoAuthKey(bob, "13")
	due.Deadline = time.Now().Add(-time.Hour)
	if err := s.ClaimUpto(ctx, due, roomy); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteOffUpto(ctx, due.ID, "x"); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("write-off of a claimed one: %v, want %s", err, meter.ECodeConflict)
	}
}

func uptoAuthKey(payer, key string) *meter.UptoAuthorization {
	a := uptoAuth(payer, 5000)
	a.Key = "eip155:84532/permit2/" + payer + "/" + key
	return a
}

// failedOf is failedUpto with a deadline an hour ago.
func failedOf(t *testing.T, s meter.Store, payer, key string) *meter.UptoAuthorization {
	return failedUpto(t, s, payer, key, time.Now().Add(-time.Hour))
}

// failedUpto claims, captures and fails an authorization of payer.
func failedUpto(t *testing.T, s meter.Store, payer, key string, deadline time.Time) *meter.UptoAuthorization {
	t.Helper()
	a := uptoAuthKey(payer, key)
	a.Deadline = deadline
	if err := s.ClaimUpto(ctx, a, roomy); err != nil {
		t.Fatal(err)
	}
	if err := s.CaptureUpto(ctx, a.ID, meter.Charge{Cost: 1_234_567, RequestID: a.RequestID, Model: "m"}, 1235); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUpto(ctx, a.ID, meter.UptoFailed, "0xabc", "allowance revoked"); err != nil {
		t.Fatal(err)
	}
	return a
}

// The settler's batch is shared: a crowd of failed permits retried, all
// claimed before it, does not keep a due one from being listed before its
// deadline, nor a crowd of due ones the retries.
func testUptoSettlerSharesItsBatch(t *testing.T, d *db) {
	s := d.instances(t, 1)[0]
	const limit = 8
	later := time.Now().Add(time.Hour) // every failed one is due for a retry
	for i := range 2 * limit {
		failedUpto(t, s, fmt.Sprintf("0x%040x", 0xf00+i), "1", time.Now().Add(30*time.Minute))
	}
	due := uptoAuthKey(bob, "20")
	if err := s.ClaimUpto(ctx, due, roomy); err != nil {
		t.Fatal(err)
	}
	if err := s.CaptureUpto(ctx, due.ID, meter.Charge{Cost: 1_234_567, RequestID: due.RequestID, Model: "m"}, 1235); err != nil {
		t.Fatal(err)
	}
	work, err := s.DueUpto(ctx, later, later, time.Now(), limit)
	if err != nil || len(work) != limit || !slices.ContainsFunc(work, func(a *meter.UptoAuthorization) bool { return a.ID == due.ID }) {
		t.Fatalf("batch of %d behind %d failed: %d listed (%v), the due one among them: %v",
			limit, 2*limit, len(work), err, slices.ContainsFunc(work, func(a *meter.UptoAuthorization) bool { return a.ID == due.ID }))
	}
	for i := range 2 * limit {
		a := uptoAuthKey(fmt.Sprintf("0x%040x", 0xe00+i), "1")
		if err := s.ClaimUpto(ctx, a, roomy); err != nil {
			t.Fatal(err)
		}
		if err := s.CaptureUpto(ctx, a.ID, meter.Charge{Cost: 1, RequestID: a.RequestID, Model: "m"}, 1); err != nil {
			t.Fatal(err)
		}
	}
	work, err = s.DueUpto(ctx, later, later, time.Now(), limit)
	var retries int
	for _, a := range work {
		if a.State == meter.UptoFailed {
			retries++
		}
	}
	if err != nil || len(work) != limit || retries != limit/4 {
		t.Fatalf("batch of %d among %d due and %d failed: %d listed, %d retries (%v); want %d retries",
			limit, 2*limit+1, 2*limit, len(work), retries, err, limit/4)
	}
	mustVerify(t, s)
}
