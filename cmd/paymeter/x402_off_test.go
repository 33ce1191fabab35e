package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// A proxy without x402 networks answers a request that carries a payment
// with payments_not_accepted, on every proxy route and for both versions,
// also when a valid API key comes beside it: the client meant to pay with
// x402, so its key is not spent behind its back, and nothing reaches the
// upstream.
func TestX402Off_PaymentIsNotAccepted(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	payer, _ := crypto.GenerateKey()
	n := &x402.Network{Name: "base-sepolia", ChainID: 84532, Asset: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
		TokenName: "USDC", TokenVersion: "2", PayTo: common.HexToAddress("0x00000000000000000000000000000000000Fee01")}
	auth := x402.NewAuthorization(payer, n, 1000, time.Now(), time.Minute)
	sig, err := x402.Sign(payer, n, &auth)
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{
		x402.HeaderPaymentV1: x402.EncodePaymentV1(n, &auth, sig),
		x402.HeaderPaymentV2: x402.EncodePaymentV2(x402.Requirement{Scheme: "exact", Network: n.CAIP2()}, nil, &auth, sig),
	}
	for name, value := range headers {
		for _, path := range []string{"/v1/chat/completions", "/v1/responses", "/v1/embeddings"} {
			for _, withKey := range []bool{false, true} {
				req, _ := http.NewRequest(http.MethodPost, m.URL()+path, strings.NewReader(helloChat))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(name, value)
				if withKey {
					req.Header.Set("Authorization", "Bearer "+key)
				}
				e := mustError(t, do(t, req), http.StatusUnauthorized, meter.ECodePaymentsNotAccepted)
				if !strings.Contains(e.Error.Message, "does not accept x402 payments") {
					t.Fatalf("%s on %s: message %q", name, path, e.Error.Message)
				}
			}
		}
	}
	if len(up.seen()) != 0 {
		t.Fatalf("%d requests reached the upstream", len(up.seen()))
	}
	if got, err := m.Ledger.FindAccountByID(context.Background(), a.ID); err != nil || got.Balance != amt(t, "1") || got.Held != 0 {
		t.Fatalf("app account %+v %v, want untouched", got, err)
	}
	// Without a payment, no credential is still missing_credentials.
	mustError(t, post(t, m, "/v1/chat/completions", "", helloChat), http.StatusUnauthorized, meter.ECodeMissingCredentials)
}
