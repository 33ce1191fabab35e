package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// The payment-identifier the 402 declares holds for upto as for exact
// (docs/design.md §5): a client that retries a request under its id with
// a fresh permit (as @x402/fetch does, signing anew for each 402) is
// answered 409 payment_identifier_conflict, neither served nor charged a
// second time; the same permit again is 409 payment_replayed with the
// first request's charge; an id used with one scheme is taken for the
// other; a malformed id is 400, before anything is claimed.
func TestUpto_PaymentIdentifier(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	cfg := uptoConfig(t, up.URL(), c, "1", "100")
	cfg.RateLimits.IP = 0
	m := mustRunChainMain(t, cfg, c)
	key, payer := uptoPayer(t, c, 1_000_000)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	const id = "pay_upto_0123456789abcdef"
	permit := func(id any) string {
		return withPaymentID(t, signUpto(t, key, ch, req, uptoPermit(t, key, req, nil)), id)
	}

	first := permit(id)
	if got := payWith(t, m, first); got.status != http.StatusOK || got.cost != chatSettled.Amount().String() {
		t.Fatalf("first upto payment: %+v", got)
	}
	replay := payWith(t, m, first)
	var rc x402.UptoSettleResponse
	if raw, err := base64.StdEncoding.DecodeString(replay.receipt); err != nil || json.Unmarshal(raw, &rc) != nil {
		t.Fatalf("replay receipt %q", replay.receipt)
	}
	if replay.status != http.StatusConflict || replay.code != meter.ECodePaymentReplayed || replay.cost != chatSettled.Amount().String() ||
		!rc.Success || rc.Amount != "34" || rc.Payer != payer.Hex() || rc.Network != req.Network {
		t.Fatalf("the same permit again: %+v, receipt %+v; want 409 %s with the first charge %s", replay, rc, meter.ECodePaymentReplayed, chatSettled.Amount())
	}
	if got := payWith(t, m, permit(id)); got != (answer{status: http.StatusConflict, code: meter.ECodePaymentIDConflict}) {
		t.Fatalf("a fresh permit under the id: %+v, want 409 %s", got, meter.ECodePaymentIDConflict)
	}
	exactPayment := func(id string) string {
		n := c.network()
		amount, err := strconv.ParseInt(ch.V2.Accepts[0].Amount, 10, 64)
		if err != nil || ch.V2.Accepts[0].Scheme != x402.SchemeExact {
			t.Fatalf("accepts[0] %+v", ch.V2.Accepts[0])
		}
		a := x402.NewAuthorization(key, n, amount, time.Now(), time.Minute)
		sig, err := x402.Sign(key, n, &a)
		if err != nil {
			t.Fatal(err)
		}
		return withPaymentID(t, x402.EncodePaymentV2(ch.V2.Accepts[0], &ch.V2.Resource, &a, sig), id)
	}
	exact := exactPayment(id)
	if got := payWith(t, m, exact); got != (answer{status: http.StatusConflict, code: meter.ECodePaymentIDConflict}) {
		t.Fatalf("an exact payment under the upto payment's id: %+v", got)
	}
	exactID := "pay_exact_0123456789abcdef"
	exactFirst := exactPayment(exactID)
	if got := payWith(t, m, exactFirst); got.status != http.StatusOK {
		t.Fatalf("exact payment: %+v", got)
	}
	if got := payWith(t, m, permit(exactID)); got != (answer{status: http.StatusConflict, code: meter.ECodePaymentIDConflict}) {
		t.Fatalf("an upto payment under an exact payment's id: %+v", got)
	}
	for name, bad := range map[string]any{"15 characters": strings.Repeat("a", 15), "a dot": "pay_0123456789.abcdef", "a number": 12345678901234567} {
		t.Run(name, func(t *testing.T) {
			resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, permit(bad))
			if e := mustError(t, resp, http.StatusBadRequest, meter.ECodeInvalidPaymentPayload); e.Error.Details["reason"] != x402.ReasonInvalidPaymentID {
				t.Fatalf("details %v", e.Error.Details)
			}
		})
	}
	if n := len(up.seen()); n != 2 {
		t.Fatalf("the upstream served %d requests, want 2 (one upto, one exact)", n)
	}
	if a := uptoAuthorizations(t, m); len(a) != 1 {
		t.Fatalf("%d upto authorizations claimed, want 1", len(a))
	}

	// Fifty fresh permits under one id at once: one served.
	key2, _ := uptoPayer(t, c, 1_000_000)
	headers := make([]string, 50)
	for i := range headers {
		headers[i] = withPaymentID(t, signUpto(t, key2, ch, req, uptoPermit(t, key2, req, nil)), "pay_fifty_0123456789abcdef")
	}
	served := 0
	for _, g := range concurrently(t, m, headers) {
		switch {
		case g.status == http.StatusOK:
			served++
		case g != (answer{status: http.StatusConflict, code: meter.ECodePaymentIDConflict}):
			t.Fatalf("answer %+v", g)
		}
	}
	if a := uptoAuthorizations(t, m); served != 1 || len(a) != 2 || len(up.seen()) != 3 {
		t.Fatalf("served %d, %d authorizations, upstream %d; want 1, 2, 3", served, len(a), len(up.seen()))
	}
	waitUptoSettled(t, m)
	mustVerifyLedger(t, m)
}
