package payclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// The refusals are tested against httptest servers that play a hostile
// or refusing paymeter (the real one is in cmd/paymeter/pay_test.go):
// each counts the requests and the payment headers it ever receives.

var (
	asset = common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")
	payTo = common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")
)

func network() *x402.Network {
	return &x402.Network{Name: "base-sepolia", ChainID: 84532, Asset: asset, TokenName: "USDC", TokenVersion: "2", PayTo: payTo}
}

func challenge(units meter.USDC) *x402.Challenge {
	return &x402.Challenge{Amount: units, MaxTimeoutSeconds: 60, Networks: []*x402.Network{network()},
		Resource: x402.Resource{URL: "http://paymeter.test/v1/chat/completions", Description: "inference", MimeType: "application/json"}}
}

// v1Of is the v1 402 body of ch, in paymeter's shape.
func v1Of(ch *x402.Challenge, code string) string {
	b, _ := json.Marshal(map[string]any{"x402Version": 1, "error": map[string]string{"code": code, "message": "pay"}, "accepts": ch.AcceptsV1()})
	return string(b)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// server answers each request with reply(n, r), n counting from 1, and
// counts the payment headers it received.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	payments []string // every payment header value received, of either version
	bodies   []string
}

func newServer(t *testing.T, reply func(n int, w http.ResponseWriter, r *http.Request)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests++
		n := s.requests
		for _, h := range []string{x402.HeaderPaymentV1, x402.HeaderPaymentV2} {
			if v := r.Header.Get(h); v != "" {
				s.payments = append(s.payments, v)
			}
		}
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		reply(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) counts() (requests, payments int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, len(s.payments)
}

func write402(w http.ResponseWriter, header, body string) {
	if header != "" {
		w.Header().Set(x402.HeaderRequired, header)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusPaymentRequired)
	io.WriteString(w, body)
}

func newClient(t *testing.T) *Client {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &Client{Key: key}
}

func post(t *testing.T, c *Client, url string) (*Result, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(`{"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c.Do(ctx, req)
}

func TestDo_OverMaxSignsNothing(t *testing.T) {
	ch := challenge(1_000_001) // one unit above 1 credit
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		write402(w, ch.HeaderV2("payment_required"), v1Of(ch, "payment_required"))
	})
	_, err := post(t, newClient(t), s.URL)
	var over *OverMaxError
	if !errors.As(err, &over) || over.Requirement.Units != 1_000_001 || over.Max != meter.Credit || over.Requirement.Version != 2 {
		t.Fatalf("err %v (%#v), want over max at 1000001 units, max 1 credit", err, over)
	}
	want := "the price, 1000001 USDC units (1.000001 credits) on eip155:84532, is above the maximum of 1 credits; nothing was signed"
	if err.Error() != want {
		t.Fatalf("message %q\nwant    %q", err, want)
	}
	if req, pay := s.counts(); req != 1 || pay != 0 {
		t.Fatalf("%d requests, %d payments; want 1 and 0", req, pay)
	}
	// Exactly at the maximum it pays.
	c := newClient(t)
	c.Max = meter.USDC(1_000_001).Amount()
	if _, err := post(t, c, s.URL); !errors.As(err, new(*RejectedError)) {
		t.Fatalf("at the maximum: %v, want the payment sent (and refused by this server)", err)
	}
	if req, pay := s.counts(); req != 3 || pay != 1 {
		t.Fatalf("%d requests, %d payments; want 3 and 1", req, pay)
	}
}

// Hostile and broken 402s: each is refused as malformed, nothing signed,
// nothing sent again.
func TestDo_Malformed402(t *testing.T) {
	good := challenge(1000).Requirement(network())
	v2 := func(mut func(r *x402.Requirement)) string {
		r := good
		dom := *good.Extra
		r.Extra = &dom
		mut(&r)
		b, _ := json.Marshal(x402.PaymentRequired{X402Version: 2, Resource: x402.Resource{URL: "http://x/"}, Accepts: []x402.Requirement{r}})
		return b64(string(b))
	}
	v1 := func(mut func(r *x402.RequirementV1)) string {
		r := challenge(1000).AcceptsV1()[0]
		mut(&r)
		b, _ := json.Marshal(map[string]any{"x402Version": 1, "error": "payment required", "accepts": []x402.RequirementV1{r}})
		return string(b)
	}
	for _, tt := range []struct{ name, header, body, reason string }{
		{"nothing", "", `{"error":{"code":"payment_required","message":"pay"}}`, "it carries no x402 requirements"},
		{"not base64", "%%%not base64%%%", "", "v2: PAYMENT-REQUIRED is not base64 JSON"},
		{"trailing data", b64(`{"x402Version":2,"accepts":[]} {}`), "", "v2: PAYMENT-REQUIRED is not base64 JSON"},
		{"version 3", b64(`{"x402Version":3,"accepts":[]}`), "", "v2: PAYMENT-REQUIRED says x402Version 3, not 2"},
		{"empty accepts", b64(`{"x402Version":2,"accepts":[]}`), "", "v2: accepts is empty"},
		{"negative", v2(func(r *x402.Requirement) { r.Amount = "-1000" }), "", `amount "-1000" is not a plain decimal integer`},
		{"exponent", v2(func(r *x402.Requirement) { r.Amount = "1e3" }), "", `amount "1e3" is not a plain decimal integer`},
		{"fraction", v2(func(r *x402.Requirement) { r.Amount = "10.5" }), "", `amount "10.5" is not a plain decimal integer`},
		{"hex amount", v2(func(r *x402.Requirement) { r.Amount = "0x10" }), "", `amount "0x10" is not a positive integer`},
		{"zero", v2(func(r *x402.Requirement) { r.Amount = "0" }), "", `amount "0" is not a positive integer`},
		{"huge", v2(func(r *x402.Requirement) { r.Amount = strings.Repeat("9", 78) }), "", "is not a positive integer of at most 18 digits"},
		{"scheme", v2(func(r *x402.Requirement) { r.Scheme = "deferred" }), "", `scheme "deferred" is not "exact"`},
		{"network", v2(func(r *x402.Requirement) { r.Network = "solana:mainnet" }), "", `network "solana:mainnet" is not an eip155 network`},
		{"asset", v2(func(r *x402.Requirement) { r.Asset = "USDC" }), "", "asset is not an address"},
		{"payTo zero", v2(func(r *x402.Requirement) { r.PayTo = common.Address{}.Hex() }), "", "payTo is not an address"},
		{"no extra", v2(func(r *x402.Requirement) { r.Extra = nil }), "", "extra lacks the token's EIP-712 name and version"},
		{"timeout", v2(func(r *x402.Requirement) { r.MaxTimeoutSeconds = 0 }), "", "maxTimeoutSeconds 0 is outside"},
		{"v1 network", "", v1(func(r *x402.RequirementV1) { r.Network = "mainnet-of-mars" }), `v1: accepts[0]: network "mainnet-of-mars" is not`},
		{"v1 amount", "", v1(func(r *x402.RequirementV1) { r.MaxAmountRequired = "+5" }), `v1: accepts[0]: amount "+5" is not`},
		{"header too long", strings.Repeat("A", 17<<10), "", "is longer than 16384 bytes"},
		{"body too long", "", `{"x402Version":1,"accepts":[` + strings.Repeat(" ", 70<<10) + `]}`, "the answer is longer than 65536 bytes"},
		{"body not JSON", "", `<html>402</html>`, "v1: the body is not an x402 v1 JSON object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) { write402(w, tt.header, tt.body) })
			_, err := post(t, newClient(t), s.URL)
			var bad *MalformedError
			if !errors.As(err, &bad) || !strings.Contains(bad.Reason, tt.reason) {
				t.Fatalf("err %v, want malformed with %q", err, tt.reason)
			}
			if req, pay := s.counts(); req != 1 || pay != 0 {
				t.Fatalf("%d requests, %d payments; want 1 and 0", req, pay)
			}
		})
	}
}

// A server that never asks for a payment: its answer comes back as it is.
func TestDo_NoPaymentAsked(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":"missing_credentials","message":"send an API key"}}`)
	})
	res, err := post(t, newClient(t), s.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Response.Body)
	res.Response.Body.Close()
	if res.Response.StatusCode != http.StatusUnauthorized || res.Paid != nil || res.Receipt != nil ||
		string(body) != `{"error":{"code":"missing_credentials","message":"send an API key"}}` {
		t.Fatalf("%d paid=%v receipt=%v body %s", res.Response.StatusCode, res.Paid, res.Receipt, body)
	}
	if req, pay := s.counts(); req != 1 || pay != 0 {
		t.Fatalf("%d requests, %d payments; want 1 and 0", req, pay)
	}
}

// After paying, a 402 (invalid_payment, or another challenge) or a 409
// is the payment refused: reported with the server's code, never signed
// again.
func TestDo_PaymentRejected(t *testing.T) {
	ch := challenge(1234)
	for _, tt := range []struct {
		name    string
		status  int
		code    string
		message string
	}{
		{"invalid_payment", http.StatusPaymentRequired, "invalid_payment", "the signature does not recover to authorization.from"},
		{"replay", http.StatusConflict, "payment_already_used", "this payment authorization was already used; sign a new one"},
		{"second 402", http.StatusPaymentRequired, "payment_required", "pay for this request with x402"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				body := v1Of(ch, "payment_required")
				if n > 1 {
					b, _ := json.Marshal(map[string]any{"x402Version": 1, "accepts": ch.AcceptsV1(),
						"error": map[string]string{"code": tt.code, "message": tt.message}})
					body = string(b)
				}
				w.Header().Set(x402.HeaderRequired, ch.HeaderV2(tt.code))
				w.WriteHeader(map[bool]int{true: http.StatusPaymentRequired, false: tt.status}[n == 1])
				io.WriteString(w, body)
			})
			_, err := post(t, newClient(t), s.URL)
			var rej *RejectedError
			if !errors.As(err, &rej) || rej.Status != tt.status || rej.Code != tt.code || rej.Message != tt.message ||
				rej.Requirement.Units != 1234 || rej.Requirement.Version != 2 {
				t.Fatalf("err %v (%+v), want rejected %d %s", err, rej, tt.status, tt.code)
			}
			if req, pay := s.counts(); req != 2 || pay != 1 {
				t.Fatalf("%d requests, %d payments; want 2 and 1", req, pay)
			}
			if s.bodies[1] != `{"model":"m"}` {
				t.Fatalf("the paid request's body was %q, want it replayed", s.bodies[1])
			}
		})
	}
}
