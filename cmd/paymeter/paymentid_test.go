package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// withPaymentID adds the payment-identifier extension with id (any JSON
// value) to a v2 payment header, as @x402/extensions' client does.
func withPaymentID(t *testing.T, header string, id any) string {
	return reencode(t, header, func(v map[string]any) {
		v["extensions"] = map[string]any{x402.ExtensionPaymentIdentifier: map[string]any{
			"info": map[string]any{"required": false, "id": id}}}
	})
}

// idPayment is a fresh v2 payment of c by key, named id.
func idPayment(t *testing.T, key *ecdsa.PrivateKey, c *challenge402, id any) (header string, a x402.Authorization) {
	_, v, a := payment(t, key, c, 2)
	return withPaymentID(t, v, id), a
}

func nonceOf(a x402.Authorization) string { return fmt.Sprintf("0x%x", a.Nonce) }

func paymentIDConfig(t *testing.T, upURL, facURL string) *Config {
	cfg := x402Config(t, upURL, facURL)
	cfg.RateLimits.IP = 0 // 50 at once from one address
	return cfg
}

// answer is what a paid answer says about its payment.
type answer struct {
	status        int
	code          string
	receipt, cost string
}

func payWith(t *testing.T, m *Main, header string) answer {
	t.Helper()
	resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, header)
	a := answer{status: resp.StatusCode, receipt: resp.Header.Get(x402.HeaderResponseV2), cost: resp.Header.Get("X-Paymeter-Cost")}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
			t.Fatalf("error answer %d %s", resp.StatusCode, body)
		}
		a.code = e.Error.Code
	}
	return a
}

func TestPaymentID_ReplayConflictAndScope(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, paymentIDConfig(t, up.URL(), fac.URL))
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	decl, _ := c.V2.Extensions[x402.ExtensionPaymentIdentifier].(map[string]any)
	info, _ := decl["info"].(map[string]any)
	idSchema := decl["schema"].(map[string]any)["properties"].(map[string]any)["id"].(map[string]any)
	if info["required"] != false || idSchema["minLength"] != 16.0 || idSchema["maxLength"] != 128.0 {
		t.Fatalf("402 extensions %v, want payment-identifier declared optional, ids 16 to 128", c.V2.Extensions)
	}

	alice, _ := crypto.GenerateKey()
	const id = "pay_7d5d747be160e280504c099d984bcfe0"
	first, a := idPayment(t, alice, c, id)
	served := payWith(t, m, first)
	if served.status != http.StatusOK || served.receipt == "" || served.cost == "" {
		t.Fatalf("first payment: %+v", served)
	}
	// The same payment again: its first answer's receipt and charge, and
	// nothing served or settled.
	if got := payWith(t, m, first); got != (answer{http.StatusConflict, meter.ECodePaymentReplayed, served.receipt, served.cost}) {
		t.Fatalf("replay: %+v, want 409 with %+v's receipt and cost", got, served)
	}
	// Another payment under the same id: a conflict, not settled.
	other, b := idPayment(t, alice, c, id)
	if got := payWith(t, m, other); got != (answer{status: http.StatusConflict, code: meter.ECodePaymentIDConflict}) {
		t.Fatalf("conflict: %+v", got)
	}
	if fac.settlements(nonceOf(a)) != 1 || fac.settlements(nonceOf(b)) != 0 || len(up.seen()) != 1 {
		t.Fatalf("settled %d and %d, served %d; want 1, 0, 1", fac.settlements(nonceOf(a)), fac.settlements(nonceOf(b)), len(up.seen()))
	}

	// Scoped per payer: Mallory, who saw the id, neither blocks nor reads
	// Alice's payment. A payment "from" Alice that Mallory signed is
	// refused for its signature, never told the id is taken.
	mallory, _ := crypto.GenerateKey()
	forged := reencode(t, withPaymentID(t, func() string { _, v, _ := payment(t, mallory, c, 2); return v }(), id),
		func(v map[string]any) {
			v["payload"].(map[string]any)["authorization"].(map[string]any)["from"] = crypto.PubkeyToAddress(alice.PublicKey).Hex()
		})
	if got := payWith(t, m, forged); got.status != http.StatusPaymentRequired || got.code != meter.ECodeInvalidPayment || got.receipt != "" {
		t.Fatalf("forged payment under Alice's id: %+v", got)
	}
	own, _ := idPayment(t, mallory, c, id)
	if got := payWith(t, m, own); got.status != http.StatusOK || got.receipt == served.receipt {
		t.Fatalf("Mallory's own payment under Alice's id: %+v", got)
	}
	if got := payWith(t, m, first); got != (answer{http.StatusConflict, meter.ECodePaymentReplayed, served.receipt, served.cost}) {
		t.Fatalf("Alice's replay after Mallory's: %+v", got)
	}
	mustVerify(t, m)
}

func TestPaymentID_Malformed(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, paymentIDConfig(t, up.URL(), fac.URL))
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	key, _ := crypto.GenerateKey()
	for name, id := range map[string]any{
		"15 characters": strings.Repeat("a", 15), "129 characters": strings.Repeat("a", 129),
		"a space": "pay_0123456789 abcdef", "a dot": "pay_0123456789.abcdef", "non-ASCII": "pay_0123456789abcdé",
		"a number": 1234567890123456789, "empty": "",
	} {
		t.Run(name, func(t *testing.T) {
			h, _ := idPayment(t, key, c, id)
			resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, h)
			if e := mustError(t, resp, http.StatusBadRequest, meter.ECodeInvalidPaymentPayload); e.Error.Details["reason"] != x402.ReasonInvalidPaymentID {
				t.Fatalf("details %v", e.Error.Details)
			}
		})
	}
	t.Run("info not an object", func(t *testing.T) {
		_, v, _ := payment(t, key, c, 2)
		h := reencode(t, v, func(v map[string]any) {
			v["extensions"] = map[string]any{x402.ExtensionPaymentIdentifier: "pay_0123456789abcdef"}
		})
		mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, h), http.StatusBadRequest, meter.ECodeInvalidPaymentPayload)
	})
	// The bounds themselves are ids, and the declaration echoed without
	// an id is a payment without one.
	for _, id := range []string{strings.Repeat("A", 16), strings.Repeat("z_-9", 32)} {
		if h, _ := idPayment(t, key, c, id); payWith(t, m, h).status != http.StatusOK {
			t.Fatalf("id of %d characters refused", len(id))
		}
	}
	_, v, _ := payment(t, key, c, 2)
	echoed := reencode(t, v, func(v map[string]any) { v["extensions"] = c.V2.Extensions })
	if got := payWith(t, m, echoed); got.status != http.StatusOK {
		t.Fatalf("the declaration echoed without an id: %+v", got)
	}
	fac.mu.Lock()
	calls := fac.calls
	fac.mu.Unlock()
	if calls != 6 { // /verify and /settle of each of the three served
		t.Fatalf("facilitator calls %d, want 6", calls)
	}
}

// concurrently sends n payments at once and returns their answers.
func concurrently(t *testing.T, m *Main, headers []string) []answer {
	out := make([]answer, len(headers))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, h := range headers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = payWith(t, m, h)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func TestPaymentID_FiftyAtOnce(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, paymentIDConfig(t, up.URL(), fac.URL))
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)

	t.Run("the same payment", func(t *testing.T) {
		key, _ := crypto.GenerateKey()
		h, a := idPayment(t, key, c, "replay-0123456789abcdef")
		same := make([]string, 50)
		for i := range same {
			same[i] = h
		}
		var served *answer
		got := concurrently(t, m, same)
		for i := range got {
			if got[i].status == http.StatusOK {
				if served != nil {
					t.Fatal("served twice")
				}
				served = &got[i]
			}
		}
		if served == nil || served.receipt == "" || served.cost == "" {
			t.Fatalf("none served: %+v", got)
		}
		want := answer{http.StatusConflict, meter.ECodePaymentReplayed, served.receipt, served.cost}
		for _, g := range got {
			if g != *served && g != want {
				t.Fatalf("answer %+v, want %+v", g, want)
			}
		}
		if n := fac.settlements(nonceOf(a)); n != 1 || len(up.seen()) != 1 {
			t.Fatalf("settled %d times, served %d; want 1 and 1", n, len(up.seen()))
		}
	})
	t.Run("fifty payments, one id", func(t *testing.T) {
		key, _ := crypto.GenerateKey()
		headers := make([]string, 50)
		nonces := make([]string, 50)
		for i := range headers {
			var a x402.Authorization
			headers[i], a = idPayment(t, key, c, "conflict-0123456789abcdef")
			nonces[i] = nonceOf(a)
		}
		seen := len(up.seen())
		served, conflicts := 0, 0
		for _, g := range concurrently(t, m, headers) {
			switch {
			case g.status == http.StatusOK && g.receipt != "":
				served++
			case g == answer{status: http.StatusConflict, code: meter.ECodePaymentIDConflict}:
				conflicts++
			default:
				t.Fatalf("answer %+v", g)
			}
		}
		settled := 0
		for _, n := range nonces {
			settled += fac.settlements(n)
		}
		if served != 1 || conflicts != 49 || settled != 1 || len(up.seen()) != seen+1 {
			t.Fatalf("served %d, conflicts %d, settled %d, upstream %d; want 1, 49, 1, 1", served, conflicts, settled, len(up.seen())-seen)
		}
	})
	mustVerify(t, m)
}

// A restart between the payment and its replay changes nothing: the id
// and the first answer are in the ledger.
func TestPaymentID_ReplayAfterRestart(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	cfg := paymentIDConfig(t, up.URL(), fac.URL)
	m := NewMain(cfg, discardLogger()) // closed by hand, before the restart
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	key, _ := crypto.GenerateKey()
	h, a := idPayment(t, key, c, "restart_0123456789abcdef")
	served := payWith(t, m, h)
	if served.status != http.StatusOK {
		t.Fatalf("first: %+v", served)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := MustRunMain(t, cfg)
	if got := payWith(t, m2, h); got != (answer{http.StatusConflict, meter.ECodePaymentReplayed, served.receipt, served.cost}) {
		t.Fatalf("replay after restart: %+v, want the first answer's receipt and cost %+v", got, served)
	}
	other, _ := idPayment(t, key, c, "restart_0123456789abcdef")
	if got := payWith(t, m2, other); got.code != meter.ECodePaymentIDConflict {
		t.Fatalf("conflict after restart: %+v", got)
	}
	if fac.settlements(nonceOf(a)) != 1 || len(up.seen()) != 1 {
		t.Fatal("replayed after restart")
	}
	mustVerify(t, m2)
}
