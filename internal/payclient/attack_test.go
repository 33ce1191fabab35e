package payclient

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/x402"
)

// Reviews of the payer against a hostile server (docs/security.md):
// each test is a server trying to get more signed than it shows.

// cbBTC is an EIP-3009 token with 8 decimals: 1,000,000 of its units are
// 0.01 BTC, not 1 USDC. A 402 naming it (or any token that is not USDC)
// at "1 credit" must not be signed: --max counts USDC units.
func TestDo_RefusesTokenOtherThanUSDC(t *testing.T) {
	cbBTC := x402.Network{Name: "base", ChainID: 8453, Asset: common.HexToAddress("0xcbB7C0000aB88B473b1f5aFd9ef808440eed33Bf"),
		TokenName: "Coinbase Wrapped BTC", TokenVersion: "2", PayTo: payTo}
	ch := challenge(1_000_000)
	ch.Networks = []*x402.Network{&cbBTC}
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		write402(w, ch.HeaderV2("payment_required"), v1Of(ch, "payment_required"))
	})
	_, err := post(t, newClient(t), s.URL)
	var bad *MalformedError
	want := `token "Coinbase Wrapped BTC" is not USDC (its EIP-712 name must be "USDC" or "USD Coin")`
	if !errors.As(err, &bad) || !strings.Contains(bad.Reason, "v2: accepts[0]: "+want) || !strings.Contains(bad.Reason, "v1: accepts[0]: "+want) {
		t.Fatalf("err %v, want malformed: %s", err, want)
	}
	if req, pay := s.counts(); req != 1 || pay != 0 {
		t.Fatalf("%d requests, %d payments; want 1 and 0", req, pay)
	}

	// Offered next to USDC, the other token is passed over and USDC paid.
	both := challenge(1_000_000)
	both.Networks = []*x402.Network{&cbBTC, network()}
	s = newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			write402(w, both.HeaderV2("payment_required"), "")
			return
		}
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "payment_already_used", "message": "x"}})
	})
	_, err = post(t, newClient(t), s.URL)
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.Requirement.Asset != asset || rej.Requirement.TokenName != "USDC" {
		t.Fatalf("err %v, want the USDC requirement paid (and refused)", err)
	}
	if req, pay := s.counts(); req != 2 || pay != 1 {
		t.Fatalf("%d requests, %d payments; want 2 and 1", req, pay)
	}
}
