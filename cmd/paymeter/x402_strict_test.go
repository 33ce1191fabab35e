package main

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// x402 JSON is decoded by exact field names: a key in another case, or a
// key given twice, could be read one way by paymeter's verifier and
// another by a facilitator's parser. Such a payment is refused before
// anything is claimed or sent; a clean one reaches the facilitator
// re-encoded, with only the fields paymeter verified.
func TestX402_PaymentJSONDecodedByExactNames(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, x402Config(t, up.URL(), fac.URL))
	attacker := "0x000000000000000000000000000000000000bEEF"
	for _, tc := range []struct {
		name   string
		mangle func(js string) string
	}{
		{"payload in another case", func(js string) string { return strings.Replace(js, `"payload"`, `"Payload"`, 1) }},
		{"value in capitals", func(js string) string { return strings.Replace(js, `"value"`, `"VALUE"`, 1) }},
		{"scheme with a long s", func(js string) string { return strings.Replace(js, `"scheme"`, `"ſcheme"`, 1) }},
		{"recipient twice", func(js string) string {
			return strings.Replace(js, `"to":`, `"to":"`+attacker+`","to":`, 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, _ := crypto.GenerateKey()
			c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
			h, v, _ := payment(t, key, c, 1)
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			mangled := tc.mangle(string(raw))
			if mangled == string(raw) {
				t.Fatal("the mangling changed nothing")
			}
			fac.mu.Lock()
			calls := fac.calls
			fac.mu.Unlock()
			e := mustChallenge(t, postWith(t, m, "/v1/chat/completions", chatBody, h, base64.StdEncoding.EncodeToString([]byte(mangled))),
				meter.ECodeInvalidPayment)
			if e.V1.Error.Details["reason"] != x402.ReasonInvalidPayload {
				t.Fatalf("reason %v, want %s", e.V1.Error.Details["reason"], x402.ReasonInvalidPayload)
			}
			fac.mu.Lock()
			calls = fac.calls - calls
			fac.mu.Unlock()
			if calls != 0 {
				t.Fatalf("a payment with ambiguous JSON reached the facilitator (%d calls)", calls)
			}
			// The same payment, clean, is not spent by the refusal.
			if resp := postWith(t, m, "/v1/chat/completions", chatBody, h, v); resp.StatusCode != http.StatusOK {
				t.Fatalf("the clean payment after the mangled one: %d %s", resp.StatusCode, readAll(t, resp))
			}
		})
	}
	if n := len(up.seen()); n != 4 {
		t.Fatalf("upstream served %d requests, want the 4 clean ones", n)
	}
}

// A credential in the facilitator's URL (as hosted facilitators and RPC
// providers put API keys in the path or query) reaches neither a log line
// nor the reason stored with a payment when a call to it fails.
func TestX402_FacilitatorURLCredentialRedacted(t *testing.T) {
	up := newFixtureUpstream(t)
	const secret = "sk-facilitator-SECRET-123"
	cfg := x402Config(t, up.URL(), strings.TrimSuffix(closedPortURL(t), "/v1")+"/"+secret+"?apikey="+secret)
	logs := &syncBuffer{}
	m := MustRunMain(t, cfg, func(m *Main) { m.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
	key, _ := crypto.GenerateKey()
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	h, v, _ := payment(t, key, c, 2)
	resp := postWith(t, m, "/v1/chat/completions", chatBody, h, v)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("status %d %s, want 402 payment_pending while the facilitator is down", resp.StatusCode, body)
	}
	open, err := m.Ledger.OpenPayments(context.Background(), time.Now().Add(time.Minute))
	if err != nil || len(open) != 1 {
		t.Fatalf("open payments %v %v", open, err)
	}
	if _, err := m.Payments.RetryOpen(context.Background(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p, err := m.Ledger.FindPayment(context.Background(), open[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "127.0.0.1") {
		t.Fatalf("the logs do not show the failing call at all:\n%s", logs.String())
	}
	for what, s := range map[string]string{"log": logs.String(), "stored reason": p.Reason, "answer": string(body)} {
		if strings.Contains(s, secret) {
			t.Errorf("the %s holds the facilitator URL's credential:\n%s", what, s)
		}
	}
}
