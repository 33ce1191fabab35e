package main

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// payment-identifier on upto payments (docs/design.md §5), over real HTTP
// on the simulated chain with its relayer settling: the same permit under
// its id is answered 409 payment_replayed with the first answer's receipt
// (PAYMENT-RESPONSE: success, network, payer, the amount settled) and its
// X-Paymeter-Cost, never served or settled twice; another payment under
// the id, exact or upto, is 409 payment_identifier_conflict. Settlement is
// counted by the payer's token balance on chain.

// uptoIDConfig is uptoConfig with room for one address's 50 requests at once.
func uptoIDConfig(t *testing.T, upstreamURL string, c *simChain) *Config {
	cfg := uptoConfig(t, upstreamURL, c, "1", "100")
	cfg.RateLimits.IP = 0
	return cfg
}

// uptoIDPayment is a fresh upto permit of key for ch's upto requirement,
// named id.
func uptoIDPayment(t *testing.T, key *ecdsa.PrivateKey, ch *challenge402, id any) string {
	t.Helper()
	req := uptoOffered(t, ch)
	return withPaymentID(t, signUpto(t, key, ch, req, uptoPermit(t, key, req, nil)), id)
}

// exactIDPayment is a fresh v2 exact payment of key on c's token for ch's
// exact requirement, named id.
func exactIDPayment(t *testing.T, c *simChain, key *ecdsa.PrivateKey, ch *challenge402, id string) string {
	t.Helper()
	n := c.network()
	a := x402.NewAuthorization(key, n, mustAtoi(t, ch.V2.Accepts[0].Amount), time.Now(), 60*time.Second)
	sig, err := x402.Sign(key, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	return withPaymentID(t, x402.EncodePaymentV2(ch.V2.Accepts[0], &ch.V2.Resource, &a, sig), id)
}

// wantUptoServed checks a served upto answer: 200, the receipt of the
// metered 34 units for payer, and their cost.
func wantUptoServed(t *testing.T, got answer, payer common.Address) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(got.receipt)
	var r x402.UptoSettleResponse
	if err == nil {
		err = json.Unmarshal(raw, &r)
	}
	want := x402.UptoSettleResponse{Success: true, Network: "eip155:84532", Payer: payer.Hex(), Amount: "34"}
	if got.status != http.StatusOK || err != nil || r != want || got.cost != chatSettled.Amount().String() {
		t.Fatalf("served %+v (receipt %+v %v), want 200, receipt %+v, cost %s", got, r, err, want, chatSettled.Amount())
	}
}

func replayOf(served answer) answer {
	return answer{http.StatusConflict, meter.ECodePaymentReplayed, served.receipt, served.cost}
}

var idConflict = answer{status: http.StatusConflict, code: meter.ECodePaymentIDConflict}

func TestUptoPaymentID_ReplayConflictAndScope(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, uptoIDConfig(t, up.URL(), c), c)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	alice, aliceAddr := uptoPayer(t, c, 1_000_000)
	const id = "upto_7d5d747be160e280504c099d984bcfe0"

	first := uptoIDPayment(t, alice, ch, id)
	served := payWith(t, m, first)
	wantUptoServed(t, served, aliceAddr)
	if got := payWith(t, m, first); got != replayOf(served) {
		t.Fatalf("replay: %+v, want %+v", got, replayOf(served))
	}
	// The same permit, its bytes changed (another extension beside the
	// id): verified, then known by its permit as the same payment.
	edited := reencode(t, first, func(v map[string]any) {
		v["extensions"].(map[string]any)["x-other"] = map[string]any{"info": map[string]any{}}
	})
	if got := payWith(t, m, edited); got != replayOf(served) {
		t.Fatalf("the same permit re-encoded: %+v, want %+v", got, replayOf(served))
	}
	// Another permit under the id: a conflict, neither served nor settled.
	if got := payWith(t, m, uptoIDPayment(t, alice, ch, id)); got != idConflict {
		t.Fatalf("another permit: %+v, want %+v", got, idConflict)
	}
	// Scoped per payer: a permit "from" Alice that Mallory signed is
	// refused for its signature, never told the id is taken; Mallory's own
	// permit under Alice's id is its own payment.
	mallory, malloryAddr := uptoPayer(t, c, 1_000_000)
	req := uptoOffered(t, ch)
	forged := withPaymentID(t, signUpto(t, mallory, ch, req, uptoPermit(t, mallory, req, func(a *x402.Permit2Authorization) {
		a.From = aliceAddr
	})), id)
	if got := payWith(t, m, forged); got.status != http.StatusPaymentRequired || got.code != meter.ECodeInvalidPayment || got.receipt != "" {
		t.Fatalf("forged permit under Alice's id: %+v", got)
	}
	wantUptoServed(t, payWith(t, m, uptoIDPayment(t, mallory, ch, id)), malloryAddr)

	waitUptoSettled(t, m)
	if got := payWith(t, m, first); got != replayOf(served) {
		t.Fatalf("replay once settled: %+v, want %+v", got, replayOf(served))
	}
	for who, addr := range map[string]common.Address{"alice": aliceAddr, "mallory": malloryAddr} {
		if paid := 1_000_000 - c.balance(t, addr); paid != int64(chatSettled) {
			t.Fatalf("%s paid %d units, want %d once", who, paid, chatSettled)
		}
	}
	if auths, seen := uptoAuthorizations(t, m), len(up.seen()); len(auths) != 2 || seen != 2 {
		t.Fatalf("%d authorizations, %d served; want 2 and 2", len(auths), seen)
	}
	mustVerifyLedger(t, m)
}

// One namespace of ids per payer across exact and upto: an id an exact
// payment used is a conflict for an upto permit, and the reverse; each
// first payment's replay is still answered as its own.
func TestUptoPaymentID_OneNamespaceWithExact(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, uptoIDConfig(t, up.URL(), c), c)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	key, addr := uptoPayer(t, c, 1_000_000)
	quote := mustAtoi(t, ch.V2.Accepts[0].Amount)

	const exactFirst, uptoFirst = "exact_then_upto_0123456789", "upto_then_exact_0123456789"
	ex := exactIDPayment(t, c, key, ch, exactFirst)
	exServed := payWith(t, m, ex)
	if exServed.status != http.StatusOK || exServed.receipt == "" {
		t.Fatalf("exact: %+v", exServed)
	}
	if got := payWith(t, m, uptoIDPayment(t, key, ch, exactFirst)); got != idConflict {
		t.Fatalf("upto under the exact payment's id: %+v, want %+v", got, idConflict)
	}
	upto := uptoIDPayment(t, key, ch, uptoFirst)
	uptoServed := payWith(t, m, upto)
	wantUptoServed(t, uptoServed, addr)
	if got := payWith(t, m, exactIDPayment(t, c, key, ch, uptoFirst)); got != idConflict {
		t.Fatalf("exact under the upto permit's id: %+v, want %+v", got, idConflict)
	}
	if got := payWith(t, m, ex); got != replayOf(exServed) {
		t.Fatalf("exact replay: %+v, want %+v", got, replayOf(exServed))
	}
	if got := payWith(t, m, upto); got != replayOf(uptoServed) {
		t.Fatalf("upto replay: %+v, want %+v", got, replayOf(uptoServed))
	}
	waitUptoSettled(t, m)
	// The exact payment paid its quote (its change is on the wallet), the
	// upto one its metered cost; the conflicts paid nothing.
	if paid := 1_000_000 - c.balance(t, addr); paid != quote+int64(chatSettled) {
		t.Fatalf("paid %d units, want the exact quote %d and %d", paid, quote, chatSettled)
	}
	if len(up.seen()) != 2 || len(uptoAuthorizations(t, m)) != 1 {
		t.Fatalf("served %d, %d upto authorizations; want 2 and 1", len(up.seen()), len(uptoAuthorizations(t, m)))
	}
	mustVerifyLedger(t, m)
}

// 50 copies of one permit under one id at once, while the first is still
// being served (the upstream takes 300 ms): one is served; the 49 others
// wait for it and get its receipt and cost; one settlement on chain.
func TestUptoPaymentID_FiftyCopiesAtOnce(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	up.Delay = 300 * time.Millisecond
	m := mustRunChainMain(t, uptoIDConfig(t, up.URL(), c), c)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	key, addr := uptoPayer(t, c, 1_000_000)
	payToBefore := c.balance(t, c.payTo)
	h := uptoIDPayment(t, key, ch, "fifty_0123456789abcdef")
	same := make([]string, 50)
	for i := range same {
		same[i] = h
	}
	got := concurrently(t, m, same)
	var served *answer
	for i := range got {
		if got[i].status == http.StatusOK {
			if served != nil {
				t.Fatal("served twice")
			}
			served = &got[i]
		}
	}
	if served == nil {
		t.Fatalf("none served: %+v", got)
	}
	wantUptoServed(t, *served, addr)
	replays := 0
	for _, g := range got {
		if g != *served {
			if g != replayOf(*served) {
				t.Fatalf("answer %+v, want %+v", g, replayOf(*served))
			}
			replays++
		}
	}
	waitUptoSettled(t, m)
	if paid, recv := 1_000_000-c.balance(t, addr), c.balance(t, c.payTo)-payToBefore; paid != int64(chatSettled) || recv != paid {
		t.Fatalf("the payer paid %d units, payTo received %d; want %d once", paid, recv, chatSettled)
	}
	auths := uptoAuthorizations(t, m)
	if replays != 49 || len(auths) != 1 || auths[0].State != meter.UptoSettled || auths[0].Attempts != 1 || len(up.seen()) != 1 {
		t.Fatalf("replays %d, authorizations %+v, served %d; want 49, one settled in one attempt, 1", replays, auths, len(up.seen()))
	}
	fams := scrape(t, m)
	if v := metricValue(t, fams, "paymeter_upto_payments_total", map[string]string{"result": meter.ECodePaymentReplayed}); v != 49 {
		t.Fatalf("paymeter_upto_payments_total{payment_replayed} %v, want 49", v)
	}
	mustVerifyLedger(t, m)
}

// A restart between serving and settling changes nothing: the id and the
// first answer are in the ledger; the next process settles it once, and a
// replay is answered the same before and after.
func TestUptoPaymentID_ReplayAfterRestart(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	cfg := uptoIDConfig(t, up.URL(), c)
	m := startUpto(t, cfg, c, true)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	key, addr := uptoPayer(t, c, 1_000_000)
	const id = "restart_0123456789abcdef"
	h := uptoIDPayment(t, key, ch, id)
	served := payWith(t, m, h)
	wantUptoServed(t, served, addr)
	http.DefaultClient.CloseIdleConnections()
	m.Close()

	m = startUpto(t, cfg, c, false)
	defer m.Close()
	if got := payWith(t, m, h); got != replayOf(served) {
		t.Fatalf("replay after restart: %+v, want %+v", got, replayOf(served))
	}
	if got := payWith(t, m, uptoIDPayment(t, key, ch, id)); got != idConflict {
		t.Fatalf("another permit after restart: %+v, want %+v", got, idConflict)
	}
	waitUptoSettled(t, m)
	if got := payWith(t, m, h); got != replayOf(served) {
		t.Fatalf("replay once settled: %+v, want %+v", got, replayOf(served))
	}
	if paid := 1_000_000 - c.balance(t, addr); paid != int64(chatSettled) || len(up.seen()) != 1 || len(uptoAuthorizations(t, m)) != 1 {
		t.Fatalf("paid %d units, served %d, %d authorizations; want %d, 1, 1", paid, len(up.seen()), len(uptoAuthorizations(t, m)), chatSettled)
	}
	mustVerifyLedger(t, m)
}

// A malformed id is 400 invalid_payment_payload (reason
// invalid_payment_identifier): nothing is verified, claimed or served.
func TestUptoPaymentID_Malformed(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, uptoIDConfig(t, up.URL(), c), c)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	key, addr := uptoPayer(t, c, 1_000_000)
	for name, id := range map[string]any{
		"15 characters": strings.Repeat("a", 15), "129 characters": strings.Repeat("a", 129),
		"a space": "pay_0123456789 abcdef", "a slash": "pay_0123456789/abcdef", "non-ASCII": "pay_0123456789abcdé",
		"a number": 1234567890123456789, "empty": "",
	} {
		t.Run(name, func(t *testing.T) {
			resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, uptoIDPayment(t, key, ch, id))
			if e := mustError(t, resp, http.StatusBadRequest, meter.ECodeInvalidPaymentPayload); e.Error.Details["reason"] != x402.ReasonInvalidPaymentID {
				t.Fatalf("details %v", e.Error.Details)
			}
		})
	}
	if n, seen := len(uptoAuthorizations(t, m)), len(up.seen()); n != 0 || seen != 0 {
		t.Fatalf("%d authorizations claimed, %d served for malformed ids", n, seen)
	}
	// The declaration echoed without an id is a permit without one.
	req := uptoOffered(t, ch)
	echoed := reencode(t, signUpto(t, key, ch, req, uptoPermit(t, key, req, nil)), func(v map[string]any) { v["extensions"] = ch.V2.Extensions })
	wantUptoServed(t, payWith(t, m, echoed), addr)
}
