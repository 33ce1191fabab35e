package payclient

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
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

// viaName sends every connection of c to s, whatever host the URL names:
// a server that is not on loopback, as a man in the middle sees it.
func viaName(c *Client, s *server) {
	c.HTTP = NewHTTPClient()
	tr := c.HTTP.Transport.(*http.Transport)
	tr.Proxy = nil
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, s.Listener.Addr().String())
	}
}

// Over plain http to a host that is not loopback, anyone on the way can
// rewrite the 402's payTo, or take a wallet signature or a sign-in (an
// API key for the whole wallet): nothing is signed there unless asked
// for with InsecureHTTP. Loopback (the demo) and https are signed.
func TestDo_NoSigningOverCleartext(t *testing.T) {
	ch := challenge(1000)
	var walletHeaders int
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(auth.HeaderWalletSignature) != "" {
			walletHeaders++
		}
		if r.URL.Path == "/api/auth/siwe/nonce" {
			json.NewEncoder(w).Encode(auth.NonceResponse{Nonce: "abcdefgh12345678", Domain: "paymeter.example", URI: "http://paymeter.example",
				Version: "1", ChainID: 84532, Statement: "Sign in."})
			return
		}
		write402(w, ch.HeaderV2("payment_required"), v1Of(ch, "payment_required"))
	})
	ctx := context.Background()
	c := newClient(t)
	viaName(c, s)
	req, _ := http.NewRequest(http.MethodPost, "http://paymeter.example/v1/chat/completions", strings.NewReader(`{}`))
	if _, err := c.Do(ctx, req); !errors.Is(err, ErrCleartext) ||
		err.Error() != "refusing to sign over plain http to paymeter.example: anyone on the way could take or redirect it; use https (or allow it with --insecure-http); nothing was signed" {
		t.Fatalf("x402: %v, want ErrCleartext", err)
	}
	req, _ = http.NewRequest(http.MethodGet, "http://paymeter.example/v1/models", nil)
	if _, err := c.DoWallet(ctx, req); !errors.Is(err, ErrCleartext) {
		t.Fatalf("wallet: %v, want ErrCleartext", err)
	}
	if _, err := c.TopUp(ctx, "http://paymeter.example", meter.Credit); !errors.Is(err, ErrCleartext) {
		t.Fatalf("top-up: %v, want ErrCleartext", err)
	}
	if _, err := c.SignIn(ctx, "http://paymeter.example"); !errors.Is(err, ErrCleartext) {
		t.Fatalf("sign-in: %v, want ErrCleartext", err)
	}
	if req, pay := s.counts(); req != 1 || pay != 0 || walletHeaders != 0 {
		t.Fatalf("%d requests, %d payments, %d wallet signatures; want 1, 0, 0", req, pay, walletHeaders)
	}

	// Allowed, the payment goes out (and this server refuses it).
	c.InsecureHTTP = true
	req, _ = http.NewRequest(http.MethodPost, "http://paymeter.example/v1/chat/completions", strings.NewReader(`{}`))
	if _, err := c.Do(ctx, req); !errors.As(err, new(*RejectedError)) {
		t.Fatalf("allowed: %v, want the payment sent", err)
	}
	// Loopback needs no permission.
	c2 := newClient(t)
	for _, u := range []string{s.URL, strings.Replace(s.URL, "127.0.0.1", "localhost", 1)} {
		req, _ = http.NewRequest(http.MethodPost, u+"/v1/chat/completions", strings.NewReader(`{}`))
		if _, err := c2.Do(ctx, req); !errors.As(err, new(*RejectedError)) {
			t.Fatalf("loopback %s: %v, want the payment sent", u, err)
		}
	}
	if _, pay := s.counts(); pay != 3 {
		t.Fatalf("%d payments, want 3", pay)
	}
}

// A redirect, before or after paying, is answered as it is: neither the
// payment nor the wallet headers follow it to where the server points.
func TestDo_RedirectNotFollowed(t *testing.T) {
	var elsewhere int
	other := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) { elsewhere++ })
	ch := challenge(1000)
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			write402(w, ch.HeaderV2("payment_required"), "")
			return
		}
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	res, err := post(t, newClient(t), s.URL)
	if err != nil || res.Response.StatusCode != http.StatusTemporaryRedirect || res.Paid == nil {
		t.Fatalf("paid then redirected: %v %+v", err, res)
	}
	res.Response.Body.Close()
	c := newClient(t)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/models", nil)
	if res, err = c.DoWallet(context.Background(), req); err != nil || res.Response.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("wallet, redirected: %v %+v", err, res)
	}
	res.Response.Body.Close()
	if _, pay := s.counts(); pay != 1 || elsewhere != 0 {
		t.Fatalf("%d payments, %d requests elsewhere; want 1 and 0", pay, elsewhere)
	}
}
