package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// reencode decodes a base64 JSON payment header, lets mutate change it,
// and encodes it again.
func reencode(t *testing.T, header string, mutate func(map[string]any)) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	mutate(v)
	out, _ := json.Marshal(v)
	return base64.StdEncoding.EncodeToString(out)
}

func accepted(v map[string]any) map[string]any { return v["accepted"].(map[string]any) }

// A v2 payment that cannot be read is 400 invalid_payment_payload (the v2
// HTTP transport): no requirements, nothing verified, claimed or settled.
// The same in a v1 X-PAYMENT stays 402 invalid_payment with the
// requirements, as v1 servers answer.
func TestX402Conformance_MalformedPayment(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, x402Config(t, up.URL(), fac.URL))
	key, _ := crypto.GenerateKey()
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	_, good, _ := payment(t, key, c, 2)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, header, reason string
	}{
		{"not base64", "%%%not-base64%%%", x402.ReasonInvalidPayload},
		{"not JSON", b64("x402Version=2"), x402.ReasonInvalidPayload},
		{"wrong shape", b64(`{"x402Version":2,"accepted":"exact","payload":[]}`), x402.ReasonInvalidPayload},
		{"a key twice", b64(`{"x402Version":2,"x402Version":2}`), x402.ReasonInvalidPayload},
		{"x402Version 1 in PAYMENT-SIGNATURE", reencode(t, good, func(v map[string]any) { v["x402Version"] = 1 }), x402.ReasonInvalidVersion},
		{"x402Version 3", reencode(t, good, func(v map[string]any) { v["x402Version"] = 3 }), x402.ReasonInvalidVersion},
		{"unknown scheme", reencode(t, good, func(v map[string]any) { accepted(v)["scheme"] = "streaming" }), x402.ReasonUnsupportedScheme},
		{"non-EVM network", reencode(t, good, func(v map[string]any) { accepted(v)["network"] = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" }), x402.ReasonInvalidNetwork},
		{"network not offered", reencode(t, good, func(v map[string]any) { accepted(v)["network"] = "eip155:1" }), x402.ReasonInvalidNetwork},
		{"nonce not hex", reencode(t, good, func(v map[string]any) {
			v["payload"].(map[string]any)["authorization"].(map[string]any)["nonce"] = "0xzz"
		}), x402.ReasonInvalidPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, tc.header)
			e := mustError(t, resp, http.StatusBadRequest, meter.ECodeInvalidPaymentPayload)
			if e.Error.Details["reason"] != tc.reason {
				t.Fatalf("details %v, want reason %s", e.Error.Details, tc.reason)
			}
			if h := resp.Header.Get(x402.HeaderRequired); h != "" {
				t.Fatalf("a 400 carries %s %s", x402.HeaderRequired, h)
			}
		})
	}
	t.Run("v1 stays 402", func(t *testing.T) {
		e := mustChallenge(t, postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV1, "%%%"), meter.ECodeInvalidPayment)
		if e.V1.Error.Details["reason"] != x402.ReasonInvalidPayload || e.V2.Error != x402.ReasonInvalidPayload {
			t.Fatalf("v1 details %v, v2 error %q", e.V1.Error.Details, e.V2.Error)
		}
	})
	fac.mu.Lock()
	calls := fac.calls
	fac.mu.Unlock()
	if calls != 0 || len(up.seen()) != 0 {
		t.Fatalf("a malformed payment reached the facilitator (%d calls) or the upstream (%d)", calls, len(up.seen()))
	}
	if w := walletOf(t, m, crypto.PubkeyToAddress(key.PublicKey)); w != nil {
		t.Fatalf("a malformed payment created a wallet: %+v", w)
	}
	mustVerify(t, m)
}

// No credential, a balance too low, a payment refused and a payment
// pending are told apart by the body's code and by the v2
// PAYMENT-REQUIRED error; a pending one offers nothing to pay and says
// when to come back.
func TestX402Conformance_RefusalsAreDistinct(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	cfg := x402Config(t, up.URL(), fac.URL)
	cfg.X402.SweepInterval = Duration(7 * time.Second)
	m := MustRunMain(t, cfg)
	n := testNetwork()

	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	if c.V2.Error != meter.ECodePaymentRequired {
		t.Fatalf("no credential: v2 error %q", c.V2.Error)
	}
	_, appKey := mustApp(t, m, "0.000001", meter.DefaultKeyScopes)
	if low := mustChallenge(t, post(t, m, "/v1/chat/completions", appKey, chatBody), meter.ECodeInsufficientCredit); low.V2.Error != meter.ECodeInsufficientCredit {
		t.Fatalf("balance too low: v2 error %q", low.V2.Error)
	}
	amount := int64(0)
	if err := json.Unmarshal([]byte(c.V2.Accepts[0].Amount), &amount); err != nil {
		t.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	sign := func(a x402.Authorization) string {
		sig, err := x402.Sign(key, n, &a)
		if err != nil {
			t.Fatal(err)
		}
		return x402.EncodePaymentV2(c.V2.Accepts[0], &c.V2.Resource, &a, sig)
	}
	badSig := func() string {
		a := x402.NewAuthorization(key, n, amount, time.Now(), time.Minute)
		sig, _ := x402.Sign(key, n, &a)
		sig[10] ^= 1
		return x402.EncodePaymentV2(c.V2.Accepts[0], &c.V2.Resource, &a, sig)
	}
	for _, tc := range []struct{ name, header, reason string }{
		{"bad signature", badSig(), x402.ReasonSignature},
		{"wrong amount", sign(x402.NewAuthorization(key, n, amount+1, time.Now(), time.Minute)), x402.ReasonValue},
		{"expired", sign(x402.NewAuthorization(key, n, amount, time.Now().Add(-2*time.Minute), time.Minute)), x402.ReasonValidBefore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustChallenge(t, postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, tc.header), meter.ECodeInvalidPayment)
			if e.V2.Error != tc.reason || e.V1.Error.Details["reason"] != tc.reason || len(e.V2.Accepts) != 1 {
				t.Fatalf("v2 error %q, v1 details %v, %d accepts; want %s and the requirements", e.V2.Error, e.V1.Error.Details, len(e.V2.Accepts), tc.reason)
			}
		})
	}

	fac.setMode("pending")
	for _, version := range []int{1, 2} {
		h, v, _ := payment(t, key, c, version)
		resp := postWith(t, m, "/v1/chat/completions", chatBody, h, v)
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusPaymentRequired || resp.Header.Get("Retry-After") != "7" {
			t.Fatalf("v%d pending: status %d, Retry-After %q; body %s", version, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		var v1 struct {
			X402Version int             `json:"x402Version"`
			Error       apiErrorFields  `json:"error"`
			Accepts     json.RawMessage `json:"accepts"`
		}
		if err := json.Unmarshal(body, &v1); err != nil {
			t.Fatal(err)
		}
		payer := crypto.PubkeyToAddress(key.PublicKey).Hex()
		if v1.X402Version != 1 || v1.Error.Code != meter.ECodePaymentPending || string(v1.Accepts) != "[]" ||
			v1.Error.Details["wallet"] != payer || v1.Error.Details["amount"] != meter.USDC(amount).String() {
			t.Fatalf("v%d pending body %s", version, body)
		}
		v2, err := x402.ParseChallengeV2(resp.Header.Get(x402.HeaderRequired))
		if err != nil || v2.Error != meter.ECodePaymentPending || len(v2.Accepts) != 0 || v2.Accepts == nil {
			t.Fatalf("v%d pending %s: %+v %v; want error payment_pending and nothing to pay", version, x402.HeaderRequired, v2, err)
		}
	}
	if len(up.seen()) != 0 {
		t.Fatal("an unsettled payment was served")
	}
}
