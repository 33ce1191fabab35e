package x402_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/x402"
)

// recorded is what a facilitator was sent.
type recorded struct {
	path, contentType, apiKey string
	body                      []byte
}

// facilitator answers /verify and /settle with answer(path) (status, body)
// and records the calls.
func facilitator(t *testing.T, answer func(path string) (int, string)) (*httptest.Server, func() []recorded) {
	var mu sync.Mutex
	var calls []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, recorded{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("X-Api-Key"), body})
		mu.Unlock()
		status, out := answer(r.URL.Path)
		if status == http.StatusTemporaryRedirect {
			w.Header().Set("Location", "http://elsewhere.example"+r.URL.Path)
		}
		w.WriteHeader(status)
		io.WriteString(w, out)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return append([]recorded(nil), calls...)
	}
}

// settlement is a decoded, re-encoded payment of version and its requirement.
func settlement(t *testing.T, version int) *x402.Settlement {
	t.Helper()
	n := baseSepolia()
	key := mustKey(t)
	a := x402.NewAuthorization(key, n, 2500, testNow, 60*time.Second)
	sig, err := x402.Sign(key, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	ch := &x402.Challenge{Amount: 2500, MaxTimeoutSeconds: 60, Networks: []*x402.Network{n},
		Resource: x402.Resource{URL: "http://127.0.0.1/v1/chat/completions", Description: "inference: a <b> & c", MimeType: "application/json"}}
	header := x402.EncodePaymentV1(n, &a, sig)
	if version == 2 {
		header = x402.EncodePaymentV2(ch.Requirement(n), nil, &a, sig)
	}
	p, err := x402.DecodePayment(version, header)
	if err != nil {
		t.Fatal(err)
	}
	return &x402.Settlement{Payment: p, Network: n, Requirement: ch.RequirementJSON(version, n)}
}

// The facilitator is sent, for /verify and then /settle, the body
// json.Marshal makes of {x402Version, paymentPayload, paymentRequirements},
// byte for byte, with the operator's headers; its answer settles.
func TestFacilitatorSendsTheMarshaledRequest(t *testing.T) {
	srv, calls := facilitator(t, func(path string) (int, string) {
		if path == "/verify" {
			return 200, `{"isValid":true}`
		}
		return 200, `{"success":true,"transaction":"0xabc","network":"base-sepolia"}`
	})
	for _, version := range []int{1, 2} {
		f := &x402.Facilitator{URL: srv.URL + "/", Header: http.Header{"X-Api-Key": {"secret"}}}
		s := settlement(t, version)
		res, err := f.Settle(context.Background(), s)
		if err != nil || res.Outcome != x402.Settled || res.TxHash != "0xabc" {
			t.Fatalf("v%d: %+v, %v", version, res, err)
		}
		want, _ := json.Marshal(struct {
			X402Version         int             `json:"x402Version"`
			PaymentPayload      json.RawMessage `json:"paymentPayload"`
			PaymentRequirements json.RawMessage `json:"paymentRequirements"`
		}{version, s.Payment.JSON, s.Requirement})
		got := calls()
		got = got[len(got)-2:]
		for i, path := range []string{"/verify", "/settle"} {
			if c := got[i]; c.path != path || c.contentType != "application/json" || c.apiKey != "secret" || string(c.body) != string(want) {
				t.Fatalf("v%d call %d: %s %q %q %s\nwant %s %s", version, i, c.path, c.contentType, c.apiKey, c.body, path, want)
			}
		}
	}
}

// Answers that say nothing final leave the payment pending, with a
// reason that names the call; clear refusals fail it with theirs.
func TestFacilitatorAnswers(t *testing.T) {
	cases := []struct {
		name          string
		verify        [2]any
		settle        [2]any
		timeout       time.Duration
		outcome       x402.Outcome
		reason, calls string
	}{
		{"verify refuses", [2]any{400, `{"isValid":false,"invalidReason":"insufficient_funds"}`}, [2]any{200, ""}, 0,
			x402.Failed, "insufficient_funds", "/verify"},
		{"settle refuses", [2]any{200, `{"isValid":true}`}, [2]any{400, `{"success":false,"errorReason":"invalid_transaction_state"}`}, 0,
			x402.Failed, "invalid_transaction_state", "/verify /settle"},
		{"settle refuses, reason malformed", [2]any{200, `{"isValid":true}`}, [2]any{400, `{"success":false,"errorReason":"` + strings.Repeat("x", 100) + `"}`}, 0,
			x402.Failed, "unexpected_settle_error", "/verify /settle"},
		{"verify refuses, reason malformed", [2]any{400, `{"isValid":false,"invalidReason":"no such\nreason"}`}, [2]any{200, ""}, 0,
			x402.Failed, "unexpected_verify_error", "/verify"},
		{"settle pending", [2]any{200, `{"isValid":true}`}, [2]any{202, `{"success":false}`}, 0,
			x402.Pending, "facilitator settle: HTTP 202", "/verify /settle"},
		{"server error", [2]any{502, "bad gateway"}, [2]any{200, ""}, 0,
			x402.Pending, "facilitator verify: HTTP 502", "/verify"},
		{"redirect, not followed", [2]any{307, ""}, [2]any{200, ""}, 0,
			x402.Pending, "facilitator verify: HTTP 307", "/verify"},
		{"undecodable", [2]any{200, `{"isValid":`}, [2]any{200, ""}, 0,
			x402.Pending, "facilitator verify: facilitator /verify: HTTP 200, undecodable answer", "/verify"},
		{"too long", [2]any{200, `{"isValid":true,"x":"` + strings.Repeat("a", 70<<10) + `"}`}, [2]any{200, ""}, 0,
			x402.Pending, "facilitator verify: ", "/verify"},
		{"timeout", [2]any{200, "slow"}, [2]any{200, ""}, 50 * time.Millisecond,
			x402.Pending, "facilitator verify: timed out", "/verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := facilitator(t, func(path string) (int, string) {
				a := tc.settle
				if path == "/verify" {
					a = tc.verify
				}
				if a[1] == "slow" {
					time.Sleep(300 * time.Millisecond)
				}
				return a[0].(int), a[1].(string)
			})
			f := &x402.Facilitator{URL: srv.URL, Timeout: tc.timeout}
			res, err := f.Settle(context.Background(), settlement(t, 1))
			if err != nil || res.Outcome != tc.outcome || !strings.HasPrefix(res.Reason, tc.reason) {
				t.Fatalf("%+v, %v; want %v %q", res, err, tc.outcome, tc.reason)
			}
			var paths []string
			for _, c := range calls() {
				paths = append(paths, c.path)
			}
			if got := strings.Join(paths, " "); got != tc.calls {
				t.Fatalf("calls %q, want %q", got, tc.calls)
			}
		})
	}
}

// A retry goes to /settle alone, and a facilitator given an http.Client
// is called through it.
func TestFacilitatorRetryAndOwnClient(t *testing.T) {
	srv, calls := facilitator(t, func(string) (int, string) {
		return 200, `{"success":true,"transaction":"0xdef","network":"base-sepolia"}`
	})
	f := &x402.Facilitator{URL: srv.URL, Client: srv.Client()}
	s := settlement(t, 2)
	s.Retry = true
	res, err := f.Settle(context.Background(), s)
	if err != nil || res.Outcome != x402.Settled || res.TxHash != "0xdef" {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := calls(); len(got) != 1 || got[0].path != "/settle" {
		t.Fatalf("calls %+v, want /settle once", got)
	}
}

// A facilitator's reason is kept only when shaped like an x402 reason:
// it is stored, logged, counted in /metrics and sent on to clients.
func TestValidReason(t *testing.T) {
	for in, want := range map[string]bool{
		"insufficient_funds":                            true,
		"invalid_exact_evm_payload_authorization_value": true,
		strings.Repeat("a", 64):                         true,
		"":                                              false,
		strings.Repeat("a", 65):                         false,
		"Insufficient_Funds":                            false,
		"bad reason":                                    false,
		"evil\x1b[2Jreason":                             false,
		"reason\u202e":                                  false,
	} {
		if got := x402.ValidReason(in); got != want {
			t.Errorf("ValidReason(%q) = %v, want %v", in, got, want)
		}
	}
}
