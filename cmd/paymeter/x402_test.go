package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
	"github.com/paymeter/paymeter/internal/x402"
)

// The x402 tests run paymeter against a facilitator stub that speaks the
// spec's /verify and /settle (the facilitator lies outside the product);
// chain_test.go settles on a real EVM instead.

var (
	testAsset = common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")
	testPayTo = common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")
)

const chatBody = `{"model":"demo-small","messages":[{"role":"user","content":"hello"}],"max_tokens":100}`

// facilitatorStub answers /verify and /settle. It checks what it is sent
// with paymeter's own verifier (the signature, the amount), counts
// settlements per authorization nonce, and misbehaves as Mode says.
type facilitatorStub struct {
	*httptest.Server
	verifier *x402.Verifier

	mu      sync.Mutex
	Mode    string // "", "fail", "timeout", "pending", "error"
	settled map[string]int
	calls   int
	// Resettle is how /settle answers for a nonce it settled before:
	// "idempotent" with the same transaction, else with a refusal, as a
	// facilitator that re-simulates the transfer does.
	Resettle string
}

func newFacilitatorStub(t *testing.T) *facilitatorStub {
	f := &facilitatorStub{settled: map[string]int{}}
	f.verifier = &x402.Verifier{Networks: []*x402.Network{testNetwork()}, Skew: 5 * time.Second}
	if err := f.verifier.Init(); err != nil {
		t.Fatal(err)
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func testNetwork() *x402.Network {
	return &x402.Network{Name: "base-sepolia", ChainID: 84532, Asset: testAsset, TokenName: "USDC", TokenVersion: "2", PayTo: testPayTo}
}

func (f *facilitatorStub) setMode(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Mode = mode
}

func (f *facilitatorStub) settlements(nonce string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settled[nonce]
}

func (f *facilitatorStub) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		X402Version         int             `json:"x402Version"`
		PaymentPayload      json.RawMessage `json:"paymentPayload"`
		PaymentRequirements json.RawMessage `json:"paymentRequirements"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	p, err := x402.DecodePaymentJSON(req.PaymentPayload)
	if err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	nonce := fmt.Sprintf("0x%x", p.Authorization.Nonce)
	var amount struct {
		MaxAmountRequired string `json:"maxAmountRequired"`
		Amount            string `json:"amount"`
	}
	json.Unmarshal(req.PaymentRequirements, &amount)
	quoted, _ := strconv.ParseInt(amount.MaxAmountRequired+amount.Amount, 10, 64)
	f.mu.Lock()
	mode := f.Mode
	f.calls++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/verify":
		if f.settlements(nonce) > 0 { // as a real one would: the nonce is spent on chain
			json.NewEncoder(w).Encode(map[string]any{"isValid": false, "invalidReason": "invalid_exact_evm_nonce_already_used"})
			return
		}
		if _, err := f.verifier.Verify(r.Context(), p, meter.USDC(quoted), 60); err != nil {
			json.NewEncoder(w).Encode(map[string]any{"isValid": false, "invalidReason": "invalid_exact_evm_payload_signature"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"isValid": true, "payer": p.Authorization.From.Hex()})
	case "/settle":
		switch mode {
		case "fail":
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(x402.SettleResponse{Success: false, ErrorReason: x402.ReasonInsufficientFunds, Network: "base-sepolia"})
			return
		case "timeout":
			// Settles, but answers after the facilitator timeout of the
			// test config: paymeter never hears of it.
			f.mu.Lock()
			f.settled[nonce]++
			f.mu.Unlock()
			time.Sleep(2 * time.Second)
			return
		case "pending":
			w.WriteHeader(http.StatusAccepted)
			json.NewEncoder(w).Encode(x402.SettleResponse{Success: false, ErrorReason: "settlement_pending", Network: "base-sepolia"})
			return
		case "error":
			http.Error(w, "upstream node down", http.StatusBadGateway)
			return
		}
		f.mu.Lock()
		again, resettle := f.settled[nonce] > 0, f.Resettle
		if !again {
			f.settled[nonce]++
		}
		f.mu.Unlock()
		if again && resettle != "idempotent" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(x402.SettleResponse{Success: false, ErrorReason: x402.ReasonTransactionState, Network: "base-sepolia"})
			return
		}
		json.NewEncoder(w).Encode(x402.SettleResponse{Success: true, Transaction: "0x" + strings.Repeat("ab", 32),
			Network: "base-sepolia", Payer: p.Authorization.From.Hex()})
	default:
		http.NotFound(w, r)
	}
}

// x402Config is testConfig with x402 on, settled by the facilitator.
func x402Config(t *testing.T, upstreamURL, facilitatorURL string) *Config {
	cfg := testConfig(t, upstreamURL)
	cfg.X402.Facilitator.URL = facilitatorURL
	cfg.X402.Facilitator.Timeout = Duration(500 * time.Millisecond)
	cfg.X402.SettleTimeout = Duration(time.Second)
	cfg.X402.Networks = []NetworkConfig{{Name: "base-sepolia", Asset: testAsset.Hex(), TokenName: "USDC", TokenVersion: "2",
		PayTo: testPayTo.Hex(), Settlement: "facilitator"}}
	return cfg
}

// challenge402 is a 402 as both protocol versions read it.
type challenge402 struct {
	V1 struct {
		X402Version int                  `json:"x402Version"`
		Error       apiErrorFields       `json:"error"`
		Accepts     []x402.RequirementV1 `json:"accepts"`
	}
	V2 *x402.PaymentRequired
}

type apiErrorFields struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

func mustChallenge(t *testing.T, resp *http.Response, code string) *challenge402 {
	t.Helper()
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("status %d, want 402; body %s", resp.StatusCode, body)
	}
	var c challenge402
	if err := json.Unmarshal(body, &c.V1); err != nil {
		t.Fatalf("402 body %s: %v", body, err)
	}
	if c.V1.X402Version != 1 || c.V1.Error.Code != code || len(c.V1.Accepts) == 0 {
		t.Fatalf("402 body %s, want x402Version 1, code %s and requirements", body, code)
	}
	v2, err := x402.ParseChallengeV2(resp.Header.Get(x402.HeaderRequired))
	if err != nil {
		t.Fatalf("%s header: %v", x402.HeaderRequired, err)
	}
	c.V2 = v2
	return &c
}

// payment signs what a 402 asks for, as a v1 or v2 client would.
func payment(t *testing.T, key *ecdsa.PrivateKey, c *challenge402, version int) (header, value string, a x402.Authorization) {
	t.Helper()
	n := testNetwork()
	amount, err := strconv.ParseInt(c.V1.Accepts[0].MaxAmountRequired, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	a = x402.NewAuthorization(key, n, amount, time.Now(), 60*time.Second)
	sig, err := x402.Sign(key, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	if version == 1 {
		return x402.HeaderPaymentV1, x402.EncodePaymentV1(n, &a, sig), a
	}
	return x402.HeaderPaymentV2, x402.EncodePaymentV2(c.V2.Accepts[0], &c.V2.Resource, &a, sig), a
}

func postWith(t *testing.T, m *Main, path, body string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, m.URL()+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func walletOf(t *testing.T, m *Main, addr common.Address) *meter.Account {
	t.Helper()
	wallets, err := m.Ledger.FindAccounts(context.Background(), meter.AccountWallet)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wallets {
		if w.Address == addr.Hex() {
			return waitSettled(t, m, w.ID)
		}
	}
	return nil
}

func TestX402_UnpaidRequestGets402InBothVersions(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, x402Config(t, up.URL(), newFacilitatorStub(t).URL))

	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	r1 := c.V1.Accepts[0]
	// The quote is the worst case of chatBody, rounded up to USDC units.
	info, err := upstream.InspectRequest([]byte(chatBody), upstream.APIChat)
	if err != nil {
		t.Fatal(err)
	}
	price := m.Server.Prices["demo-small"]
	worst := price.Cost(info.WorstCase(price, false))
	if want := strconv.FormatInt(int64(worst.USDCQuote()), 10); r1.MaxAmountRequired != want || worst.USDCQuote().Amount() < worst {
		t.Fatalf("maxAmountRequired %s, want %s (worst case %s)", r1.MaxAmountRequired, want, worst)
	}
	if r1.Scheme != "exact" || r1.Network != "base-sepolia" || r1.Asset != testAsset.Hex() || r1.PayTo != testPayTo.Hex() ||
		r1.Resource != m.URL()+"/v1/chat/completions" || r1.MimeType != "application/json" || r1.Description == "" ||
		r1.MaxTimeoutSeconds != 60 || r1.Extra == nil || r1.Extra.Name != "USDC" || r1.Extra.Version != "2" {
		t.Fatalf("v1 requirement: %+v", r1)
	}
	r2 := c.V2.Accepts[0]
	if c.V2.X402Version != 2 || r2.Network != "eip155:84532" || r2.Amount != r1.MaxAmountRequired ||
		c.V2.Resource.URL != r1.Resource || r2.Asset != r1.Asset || r2.PayTo != r1.PayTo {
		t.Fatalf("v2 requirements: %+v", c.V2)
	}
	if n, err := strconv.ParseInt(r1.MaxAmountRequired, 10, 64); err != nil || n <= 0 {
		t.Fatalf("maxAmountRequired %q", r1.MaxAmountRequired)
	}
	if len(up.seen()) != 0 {
		t.Fatal("an unpaid request reached the upstream")
	}
	// Routes that cost nothing still want a credential.
	req, _ := http.NewRequest(http.MethodGet, m.URL()+"/v1/models", nil)
	mustError(t, do(t, req), http.StatusUnauthorized, meter.ECodeMissingCredentials)

	// An app out of credit is offered the same way out.
	_, key := mustApp(t, m, "0.000001", meter.DefaultKeyScopes)
	c = mustChallenge(t, post(t, m, "/v1/chat/completions", key, chatBody), meter.ECodeInsufficientCredit)
	if c.V1.Accepts[0].MaxAmountRequired != r1.MaxAmountRequired {
		t.Fatalf("insufficient_credits quotes %s, the unpaid request %s", c.V1.Accepts[0].MaxAmountRequired, r1.MaxAmountRequired)
	}
}

func TestX402_PaidRequestKeepsTheChange(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			up := newFixtureUpstream(t)
			fac := newFacilitatorStub(t)
			m := MustRunMain(t, x402Config(t, up.URL(), fac.URL))
			key, _ := crypto.GenerateKey()
			payer := crypto.PubkeyToAddress(key.PublicKey)

			c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
			h, v, a := payment(t, key, c, version)
			resp := postWith(t, m, "/v1/chat/completions", chatBody, h, v)
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("paid request: %d %s", resp.StatusCode, body)
			}
			receiptHeader := map[int]string{1: x402.HeaderResponseV1, 2: x402.HeaderResponseV2}[version]
			receipt, err := x402.DecodeReceipt(resp.Header.Get(receiptHeader))
			if err != nil || !receipt.Success || receipt.Payer != payer.Hex() || receipt.Transaction == "" {
				t.Fatalf("%s: %+v %v", receiptHeader, receipt, err)
			}
			if other := map[int]string{1: x402.HeaderResponseV2, 2: x402.HeaderResponseV1}[version]; resp.Header.Get(other) != "" {
				t.Fatalf("answered %s to a v%d payment", other, version)
			}
			if fac.settlements(fmt.Sprintf("0x%x", a.Nonce)) != 1 {
				t.Fatal("not settled exactly once")
			}
			// The upstream saw neither the payment nor any credential of the client's.
			seen := up.seen()
			if len(seen) != 1 || seen[0].Header.Get(h) != "" {
				t.Fatalf("upstream saw %d requests / the payment header", len(seen))
			}
			paid := meter.USDC(a.Value.Int64()).Amount()
			cost, err := meter.ParseAmount(resp.Header.Get("X-Paymeter-Cost"))
			if err != nil || cost <= 0 || cost >= paid {
				t.Fatalf("cost %q of a payment of %s", resp.Header.Get("X-Paymeter-Cost"), paid)
			}
			w := walletOf(t, m, payer)
			if w == nil || w.Balance != paid-cost || w.Held != 0 || w.FreeGranted != 0 {
				t.Fatalf("payer's wallet %+v, want the change %s and no free credits", w, paid-cost)
			}
			// The journal: the payment covers the usage, the rest is change.
			entries, err := m.Ledger.FindEntries(context.Background(), meter.EntryFilter{AccountID: w.ID})
			if err != nil || len(entries) != 3 {
				t.Fatalf("journal %v %v", entries, err)
			}
			change, usage, pay := entries[0], entries[1], entries[2]
			if pay.Kind != meter.EntryPayment || pay.Amount != cost ||
				usage.Kind != meter.EntryUsage || usage.Amount != -cost || usage.Model != "demo-small" || usage.Usage.OutputTokens == 0 ||
				change.Kind != meter.EntryChange || change.Amount != paid-cost {
				t.Fatalf("journal payment %+v, usage %+v, change %+v; want +%s, -%s, +%s", pay, usage, change, cost, cost, paid-cost)
			}
			mustVerify(t, m)
		})
	}
}

func TestX402_ReplayedPaymentServedOnce(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, x402Config(t, up.URL(), fac.URL))
	key, _ := crypto.GenerateKey()
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	h, v, a := payment(t, key, c, 1)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		codes    = map[string]int{}
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(chatBody))
			req.Header.Set(h, v)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			var e apiError
			json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			codes[e.Error.Code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[200] != 1 || statuses[409] != 49 || codes[meter.ECodePaymentUsed] != 49 {
		t.Fatalf("statuses %v codes %v, want one 200 and 49 × 409 payment_already_used", statuses, codes)
	}
	if n := fac.settlements(fmt.Sprintf("0x%x", a.Nonce)); n != 1 {
		t.Fatalf("settled %d times", n)
	}
	if len(up.seen()) != 1 {
		t.Fatalf("upstream served %d requests", len(up.seen()))
	}
	mustVerify(t, m)
}

func TestX402_InvalidPaymentsRefusedLocally(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, x402Config(t, up.URL(), fac.URL))
	key, _ := crypto.GenerateKey()
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)

	// Paying for a smaller request's quote.
	small := *c
	small.V1.Accepts = []x402.RequirementV1{c.V1.Accepts[0]}
	small.V1.Accepts[0].MaxAmountRequired = "1"
	h, v, _ := payment(t, key, &small, 1)
	e := mustChallenge(t, postWith(t, m, "/v1/chat/completions", chatBody, h, v), meter.ECodeInvalidPayment)
	if e.V1.Error.Details["reason"] != x402.ReasonValue {
		t.Fatalf("underpayment: %+v", e.V1.Error)
	}
	// Garbage.
	e = mustChallenge(t, postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV1, "bm90IGpzb24="), meter.ECodeInvalidPayment)
	if e.V1.Error.Details["reason"] != x402.ReasonInvalidPayload {
		t.Fatalf("garbage: %+v", e.V1.Error)
	}
	// An expired authorization.
	n := testNetwork()
	a := x402.NewAuthorization(key, n, 1, time.Now().Add(-time.Hour), time.Minute)
	amount, _ := strconv.ParseInt(c.V1.Accepts[0].MaxAmountRequired, 10, 64)
	a.Value = big.NewInt(amount)
	sig, _ := x402.Sign(key, n, &a)
	e = mustChallenge(t, postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV1, x402.EncodePaymentV1(n, &a, sig)),
		meter.ECodeInvalidPayment)
	if e.V1.Error.Details["reason"] != x402.ReasonValidBefore {
		t.Fatalf("expired: %+v", e.V1.Error)
	}
	fac.mu.Lock()
	calls := fac.calls
	fac.mu.Unlock()
	if calls != 0 || len(up.seen()) != 0 {
		t.Fatalf("invalid payments reached the facilitator (%d calls) or the upstream (%d)", calls, len(up.seen()))
	}
}

func TestX402_FacilitatorFaults(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, x402Config(t, up.URL(), fac.URL))
	ctx := context.Background()

	t.Run("success false", func(t *testing.T) {
		fac.setMode("fail")
		defer fac.setMode("")
		key, _ := crypto.GenerateKey()
		c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
		h, v, _ := payment(t, key, c, 1)
		e := mustChallenge(t, postWith(t, m, "/v1/chat/completions", chatBody, h, v), meter.ECodeInvalidPayment)
		if e.V1.Error.Details["reason"] != x402.ReasonInsufficientFunds {
			t.Fatalf("reason %v", e.V1.Error.Details["reason"])
		}
		if w := walletOf(t, m, crypto.PubkeyToAddress(key.PublicKey)); w != nil {
			t.Fatalf("a failed payment created a wallet account: %+v", w)
		}
		// The authorization is spent for paymeter: sending it again is a replay.
		mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, h, v), http.StatusConflict, meter.ECodePaymentUsed)
	})

	for _, mode := range []string{"pending", "error"} {
		t.Run(mode, func(t *testing.T) {
			fac.setMode(mode)
			key, _ := crypto.GenerateKey()
			payer := crypto.PubkeyToAddress(key.PublicKey)
			c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
			h, v, a := payment(t, key, c, 2)
			mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, h, v), http.StatusPaymentRequired, meter.ECodePaymentPending)
			if w := walletOf(t, m, payer); w != nil {
				t.Fatalf("credited before settling: %+v", w)
			}
			// Retried while still unsettled: nothing changes.
			if _, err := m.Payments.RetryOpen(ctx, time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if w := walletOf(t, m, payer); w != nil {
				t.Fatalf("credited while pending: %+v", w)
			}
			// Once the facilitator settles, the sweep credits the whole
			// payment (its request was never served) to the payer's wallet.
			fac.setMode("")
			if n, err := m.Payments.RetryOpen(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
				t.Fatalf("retry settled %d, err %v", n, err)
			}
			w := walletOf(t, m, payer)
			if w == nil || w.Balance != meter.USDC(a.Value.Int64()).Amount() {
				t.Fatalf("wallet after settlement: %+v, want %s", w, meter.USDC(a.Value.Int64()).Amount())
			}
			if n, _ := m.Payments.RetryOpen(ctx, time.Now().Add(time.Minute)); n != 0 {
				t.Fatalf("a settled payment was retried again")
			}
			if fac.settlements(fmt.Sprintf("0x%x", a.Nonce)) != 1 {
				t.Fatal("settled more than once")
			}
			mustVerify(t, m)
		})
	}

	// M4: the facilitator settles but its answer is lost. The retry asks
	// /settle again, not /verify, which would refuse the spent nonce: a
	// facilitator that answers a repeated /settle with its transaction gets
	// the payment credited.
	t.Run("answer lost, settle repeated", func(t *testing.T) {
		fac.setMode("timeout")
		key, _ := crypto.GenerateKey()
		c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
		h, v, a := payment(t, key, c, 2)
		mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, h, v), http.StatusPaymentRequired, meter.ECodePaymentPending)
		fac.mu.Lock()
		fac.Mode, fac.Resettle = "", "idempotent"
		fac.mu.Unlock()
		defer func() { fac.mu.Lock(); fac.Resettle = ""; fac.mu.Unlock() }()
		if n, err := m.Payments.RetryOpen(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
			t.Fatalf("retry settled %d, err %v; want the payment whose answer was lost", n, err)
		}
		w := walletOf(t, m, crypto.PubkeyToAddress(key.PublicKey))
		if want := meter.USDC(a.Value.Int64()).Amount(); w == nil || w.Balance != want {
			t.Fatalf("wallet %+v, want the unserved payment's %s as change", w, want)
		}
		if fac.settlements(fmt.Sprintf("0x%x", a.Nonce)) != 1 {
			t.Fatal("settled more than once")
		}
		mustVerify(t, m)
	})

	// A facilitator that refuses the repeated /settle leaves nothing to go
	// on without a chain: the payment stays open, neither credited nor
	// failed, also once its attempts run out (the tokens may have moved;
	// the operator reconciles it), and is no longer sent.
	t.Run("answer lost, settle refused", func(t *testing.T) {
		fac.setMode("timeout")
		key, _ := crypto.GenerateKey()
		c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
		h, v, a := payment(t, key, c, 1)
		e := mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, h, v), http.StatusPaymentRequired, meter.ECodePaymentPending)
		fac.setMode("")
		for range 3 {
			if n, err := m.Payments.RetryOpen(ctx, time.Now().Add(time.Minute)); err != nil || n != 0 {
				t.Fatalf("retry finished %d payments, err %v", n, err)
			}
		}
		if w := walletOf(t, m, crypto.PubkeyToAddress(key.PublicKey)); w != nil {
			t.Fatalf("credited on a refusal: %+v", w)
		}
		open, err := m.Ledger.OpenPayments(ctx, time.Now().Add(time.Minute))
		if err != nil || len(open) != 1 || open[0].RequestID != e.Error.RequestID {
			t.Fatalf("open payments %+v %v, want the one whose answer was lost", open, err)
		}
		m.Payments.MaxAttempts = 2
		defer func() { m.Payments.MaxAttempts = 0 }()
		fac.mu.Lock()
		calls := fac.calls
		fac.mu.Unlock()
		for range 2 {
			if n, err := m.Payments.RetryOpen(ctx, time.Now().Add(time.Minute)); err != nil || n != 0 {
				t.Fatalf("a round past the attempts finished %d, err %v", n, err)
			}
		}
		p, _ := m.Ledger.FindPayment(ctx, open[0].ID)
		if p.State != meter.PaymentSettling {
			t.Fatalf("payment state %s after its attempts ran out, want it left open (settling)", p.State)
		}
		fac.mu.Lock()
		calls = fac.calls - calls
		fac.mu.Unlock()
		if calls != 0 {
			t.Fatalf("the facilitator was called %d times past the attempts", calls)
		}
		if fac.settlements(fmt.Sprintf("0x%x", a.Nonce)) != 1 {
			t.Fatal("settled more than once")
		}
		mustVerify(t, m)
	})
	if len(up.seen()) != 0 {
		t.Fatalf("unsettled payments reached the upstream %d times", len(up.seen()))
	}
}

func TestX402_Topup(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, x402Config(t, up.URL(), fac.URL))
	payerKey, _ := crypto.GenerateKey()
	beneficiary := common.HexToAddress("0x00000000000000000000000000000000000000b0")
	named := fmt.Sprintf(`{"walletAddress":%q}`, strings.ToLower(beneficiary.Hex()))

	mustError(t, postWith(t, m, "/api/v1/topup/10", ""), http.StatusBadRequest, meter.ECodeBadRequest)
	mustError(t, postWith(t, m, "/api/v1/topup/10", `{"walletAddress":"0x123"}`), http.StatusBadRequest, meter.ECodeBadRequest)
	mustError(t, postWith(t, m, "/api/v1/topup/7", named), http.StatusBadRequest, meter.ECodeBadRequest)

	c := mustChallenge(t, postWith(t, m, "/api/v1/topup/10", named), meter.ECodePaymentRequired)
	if c.V1.Accepts[0].MaxAmountRequired != "10000000" || c.V1.Accepts[0].Resource != m.URL()+"/api/v1/topup/10" {
		t.Fatalf("top-up requirement %+v", c.V1.Accepts[0])
	}
	h, v, _ := payment(t, payerKey, c, 1)
	resp := postWith(t, m, "/api/v1/topup/10", named, h, v)
	var got struct {
		Success       bool   `json:"success"`
		Amount        string `json:"amount"`
		WalletAddress string `json:"walletAddress"`
		Balance       string `json:"balance"`
		Transaction   string `json:"transaction"`
	}
	body := readAll(t, resp)
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("top-up: %d %s", resp.StatusCode, body)
	}
	if !got.Success || got.Amount != "10" || got.WalletAddress != beneficiary.Hex() || got.Balance != "10" || got.Transaction == "" {
		t.Fatalf("top-up answer %+v", got)
	}
	if r, err := x402.DecodeReceipt(resp.Header.Get(x402.HeaderResponseV1)); err != nil || !r.Success {
		t.Fatalf("receipt %+v %v", r, err)
	}
	// The same payment again: refused, credited once.
	mustError(t, postWith(t, m, "/api/v1/topup/10", named, h, v), http.StatusConflict, meter.ECodePaymentUsed)
	if w := walletOf(t, m, beneficiary); w.Balance != 10*meter.Credit || w.FreeGranted != 0 {
		t.Fatalf("beneficiary %+v, want 10 credits and no free ones", w)
	}
	if w := walletOf(t, m, crypto.PubkeyToAddress(payerKey.PublicKey)); w != nil {
		t.Fatalf("the payer was credited instead of the named wallet: %+v", w)
	}

	// Signed with wallet headers: the signer is credited, and a wallet the
	// top-up created never gets free credits, not even when it signs later.
	walletKey, _ := crypto.GenerateKey()
	signer := crypto.PubkeyToAddress(walletKey.PublicKey)
	unpaid := signedRequest(t, m, walletKey, "Paymeter", "/api/v1/topup/50", "")
	c = mustChallenge(t, do(t, unpaid), meter.ECodePaymentRequired)
	paid := signedRequest(t, m, walletKey, "Paymeter", "/api/v1/topup/50", "")
	h, v, _ = payment(t, payerKey, c, 2)
	paid.Header.Set(h, v)
	resp = do(t, paid)
	if body := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(string(body), signer.Hex()) {
		t.Fatalf("signed top-up: %d %s", resp.StatusCode, body)
	}
	if r, err := x402.DecodeReceipt(resp.Header.Get(x402.HeaderResponseV2)); err != nil || !r.Success {
		t.Fatalf("v2 receipt %+v %v", r, err)
	}
	resp = do(t, signedRequest(t, m, walletKey, "Paymeter", "/v1/chat/completions", chatBody))
	if body := readAll(t, resp); resp.StatusCode != 200 {
		t.Fatalf("signed request after the top-up: %d %s", resp.StatusCode, body)
	}
	w := walletOf(t, m, signer)
	if w.FreeGranted != 0 || w.Balance >= 50*meter.Credit || w.Balance < 49*meter.Credit {
		t.Fatalf("signer's wallet %+v, want 50 credits less one request and no free credits", w)
	}

	// A failed settlement credits nothing.
	fac.setMode("fail")
	c = mustChallenge(t, postWith(t, m, "/api/v1/topup/100", named), meter.ECodePaymentRequired)
	h, v, _ = payment(t, payerKey, c, 1)
	mustChallenge(t, postWith(t, m, "/api/v1/topup/100", named, h, v), meter.ECodeInvalidPayment)
	if w := walletOf(t, m, beneficiary); w.Balance != 10*meter.Credit {
		t.Fatalf("failed top-up changed the balance: %+v", w)
	}
	mustVerify(t, m)
}

// A paid request the upstream fails, and one whose process died before it
// was metered, leave the whole payment as change on the payer's wallet.
func TestX402_UnservedPaymentBecomesChange(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, x402Config(t, up.URL(), newFacilitatorStub(t).URL))
	ctx := context.Background()
	key, _ := crypto.GenerateKey()
	payer := crypto.PubkeyToAddress(key.PublicKey)

	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	up.Status = http.StatusInternalServerError
	h, v, a := payment(t, key, c, 1)
	resp := postWith(t, m, "/v1/chat/completions", chatBody, h, v)
	mustError(t, resp, http.StatusBadGateway, meter.ECodeUpstreamError)
	if r, err := x402.DecodeReceipt(resp.Header.Get(x402.HeaderResponseV1)); err != nil || !r.Success {
		t.Fatalf("the failed request carries no receipt of its settled payment: %+v %v", r, err)
	}
	paid := meter.USDC(a.Value.Int64()).Amount()
	w := walletOf(t, m, payer)
	if w == nil || w.Balance != paid {
		t.Fatalf("wallet %+v, want the whole payment %s back as change", w, paid)
	}
	entries, _ := m.Ledger.FindEntries(ctx, meter.EntryFilter{AccountID: w.ID})
	if len(entries) != 1 || entries[0].Kind != meter.EntryChange {
		t.Fatalf("journal %+v, want one change entry", entries)
	}

	// Settled by a process that died before metering its request.
	p := &meter.Payment{Key: "eip155:84532/stale", Network: "base-sepolia", Payer: payer.Hex(), Wallet: payer.Hex(),
		Amount: 5000, Purpose: meter.PurposeRequest, Payload: []byte("{}"), Requirement: []byte("{}")}
	if err := m.Ledger.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Ledger.SettlePayment(ctx, p.ID, "0x1"); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Payments.ApplyStale(ctx, time.Now().Add(-time.Minute)); err != nil || n != 0 {
		t.Fatalf("a fresh payment was applied as stale: %d %v", n, err)
	}
	if n, err := m.Payments.ApplyStale(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("stale payments applied: %d %v", n, err)
	}
	if w := walletOf(t, m, payer); w.Balance != paid+meter.USDC(5000).Amount() {
		t.Fatalf("wallet %+v after the stale payment", w)
	}
	mustVerify(t, m)
}
