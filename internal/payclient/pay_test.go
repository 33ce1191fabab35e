package payclient

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// What is signed is what the 402 asked for and what is shown, checked by
// paymeter's own verifier; v2 is preferred, v1 paid when forced. The 402
// shows a different payTo in its v1 body than in its v2 header: the
// payment goes to the one of the requirement paid, which is the one shown.
func TestDo_PaysWhatItShows(t *testing.T) {
	ch := challenge(1234)
	other := *network()
	other.PayTo = common.HexToAddress("0x00000000000000000000000000000000000bad01")
	chV1 := challenge(1234)
	chV1.Networks = []*x402.Network{&other}
	for _, version := range []int{2, 1} {
		// One verifier per version: both networks are base-sepolia.
		v := &x402.Verifier{Networks: []*x402.Network{network()}}
		if version == 1 {
			v.Networks = []*x402.Network{&other}
		}
		if err := v.Init(); err != nil {
			t.Fatal(err)
		}
		var verified *x402.Network
		s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				write402(w, ch.HeaderV2("payment_required"), v1Of(chV1, "payment_required"))
				return
			}
			ver, h := 2, r.Header.Get(x402.HeaderPaymentV2)
			if h == "" {
				ver, h = 1, r.Header.Get(x402.HeaderPaymentV1)
			}
			p, err := x402.DecodePayment(ver, h)
			if err == nil {
				verified, err = v.Verify(r.Context(), p, 1234, 60)
			}
			if err != nil {
				w.WriteHeader(http.StatusPaymentRequired)
				io.WriteString(w, `{"error":{"code":"invalid_payment","message":"`+err.Error()+`"}}`)
				return
			}
			w.Header().Set(x402.ReceiptHeader(ver), x402.EncodeReceipt(x402.SettleResponse{Success: true,
				Transaction: "0x" + strings.Repeat("ab", 32), Network: p.Network, Payer: p.Authorization.From.Hex()}))
			w.Header().Set("Trailer", "X-Paymeter-Cost")
			io.WriteString(w, "answer")
			w.Header().Set("X-Paymeter-Cost", "0.000045")
		})
		c := newClient(t)
		c.Version = version
		res, err := post(t, c, s.URL)
		if err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		body, _ := io.ReadAll(res.Response.Body)
		res.Response.Body.Close()
		cost, ok := res.Cost()
		wantPayTo, wantNet := payTo, "eip155:84532"
		if version == 1 {
			wantPayTo, wantNet = other.PayTo, "base-sepolia"
		}
		if string(body) != "answer" || res.Paid.Version != version || res.Paid.PayTo != wantPayTo || res.Paid.Network != wantNet ||
			res.Paid.Units != 1234 || res.Paid.Credits() != meter.USDC(1234).Amount() || verified.PayTo != wantPayTo ||
			!ok || cost.String() != "0.000045" {
			t.Fatalf("v%d: body %q paid %+v verified %+v cost %v %v", version, body, res.Paid, verified, cost, ok)
		}
		if res.Receipt == nil || res.Receipt.Transaction != "0x"+strings.Repeat("ab", 32) || res.Receipt.Payer != c.Address().Hex() {
			t.Fatalf("v%d: receipt %+v (%v)", version, res.Receipt, res.ReceiptErr)
		}
		if req, pay := s.counts(); req != 2 || pay != 1 || s.bodies[1] != `{"model":"m"}` {
			t.Fatalf("v%d: %d requests, %d payments, bodies %q", version, req, pay, s.bodies)
		}
	}
}

// A sign-in for another site than the one asked is refused before
// anything is signed or sent: a hostile server cannot use this client to
// phish a sign-in elsewhere. A statement smuggling lines is refused too.
func TestSignIn_RefusesAnotherSite(t *testing.T) {
	for _, tt := range []struct{ name, domain, uri, statement, want string }{
		{"domain", "bank.example", "http://HOST", "Sign in.", `the server asks to sign in to "bank.example"`},
		{"uri", "HOST", "https://bank.example", "Sign in.", `the server asks to sign in to "HOST" ("https://bank.example")`},
		{"statement", "HOST", "http://HOST", "Sign in.\n\nURI: https://bank.example", "do not make a valid message"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var host string
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				fix := func(s string) string { return strings.ReplaceAll(s, "HOST", host) }
				b := `{"nonce":"abcdefgh12345678","domain":` + quote(fix(tt.domain)) + `,"uri":` + quote(fix(tt.uri)) +
					`,"chainId":84532,"version":"1","statement":` + quote(tt.statement) + `}`
				io.WriteString(w, b)
			})
			host = strings.TrimPrefix(s.URL, "http://")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := newClient(t).SignIn(ctx, s.URL)
			if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(tt.want, "HOST", host)) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if req, _ := s.counts(); req != 1 {
				t.Fatalf("%d requests, want the nonce only", req)
			}
		})
	}
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// Wallet headers sign the five-line message over the query and body; each
// signature is a new message, also within one millisecond.
func TestSignWallet(t *testing.T) {
	c := newClient(t)
	at := time.UnixMilli(1_700_000_000_000)
	c.Now = func() time.Time { return at }
	req, _ := http.NewRequest(http.MethodPost, "https://x/v1/chat/completions?b=2&a=1", nil)
	if err := c.SignWallet(req, []byte("body")); err != nil {
		t.Fatal(err)
	}
	msg := auth.WalletMessage(auth.DefaultRealm, "1700000000000", "POST", "/v1/chat/completions", auth.PayloadHash("a=1&b=2", []byte("body")))
	if got := recoverWallet(t, msg, req.Header.Get(auth.HeaderWalletSignature)); got != c.Address() ||
		req.Header.Get(auth.HeaderWalletAddress) != c.Address().Hex() || req.Header.Get(auth.HeaderTimestamp) != "1700000000000" {
		t.Fatalf("signed by %s, headers %v", got.Hex(), req.Header)
	}
	if err := c.SignWallet(req, []byte("body")); err != nil || req.Header.Get(auth.HeaderTimestamp) != "1700000000001" {
		t.Fatalf("second signature at %s (%v), want a new timestamp", req.Header.Get(auth.HeaderTimestamp), err)
	}
}

func recoverWallet(t *testing.T, msg, sigHex string) common.Address {
	t.Helper()
	sig := common.FromHex(sigHex)
	if len(sig) != 65 || sig[64] < 27 {
		t.Fatalf("signature %s", sigHex)
	}
	sig[64] -= 27
	pub, err := crypto.SigToPub(accounts.TextHash([]byte(msg)), sig)
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(*pub)
}
