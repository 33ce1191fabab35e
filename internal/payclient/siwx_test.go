package payclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/x402"
)

// siwxServer answers unsigned requests with a 402 declaring the
// challenge declare(its own URL) makes, and signed ones with answer.
type siwxServer struct {
	*httptest.Server
	mu     sync.Mutex
	proofs []string
}

func newSIWXServer(t *testing.T, declare func(base *url.URL) json.RawMessage, answer func(w http.ResponseWriter)) *siwxServer {
	s := &siwxServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get(x402.HeaderSIWX); h != "" {
			s.mu.Lock()
			s.proofs = append(s.proofs, h)
			s.mu.Unlock()
			answer(w)
			return
		}
		u, _ := url.Parse(s.URL)
		ch := challenge(1000)
		ch.Extensions = map[string]json.RawMessage{}
		if d := declare(u); d != nil {
			ch.Extensions[x402.ExtensionSIWX] = d
		}
		write402(w, ch.HeaderV2("payment_required"), "")
	}))
	t.Cleanup(s.Close)
	return s
}

// siwxInfo is the challenge paymeter would issue for base.
func siwxInfo(base *url.URL) x402.SIWXInfo {
	uri := base.String() + "/v1/chat/completions"
	now := time.Now().UTC()
	return x402.SIWXInfo{Domain: base.Host, URI: uri, Version: "1", Nonce: "0123456789abcdef0123456789abcdef",
		IssuedAt: now.Format("2006-01-02T15:04:05.000Z"), ExpirationTime: now.Add(5 * time.Minute).Format("2006-01-02T15:04:05.000Z"),
		Statement: "Sign in to paymeter to pay from this wallet's balance.", Resources: []string{uri}}
}

func declared(info x402.SIWXInfo) json.RawMessage {
	return x402.DeclareSIWX(info, []*x402.Network{network()})
}

func doSIWX(t *testing.T, c *Client, base string) (*Result, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"m"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c.DoSIWX(ctx, req)
}

// The proof echoes the challenge, names the payer, the 402's eip155
// chain and eip191, and carries the payer's EIP-191 signature of the
// EIP-4361 message those fields make; the answer is the server's.
func TestDoSIWX_SignsTheChallenge(t *testing.T) {
	var info x402.SIWXInfo
	s := newSIWXServer(t, func(u *url.URL) json.RawMessage { info = siwxInfo(u); return declared(info) },
		func(w http.ResponseWriter) { w.Header().Set("X-Paymeter-Cost", "0.0000335"); io.WriteString(w, "{}") })
	c := newClient(t)
	res, err := doSIWX(t, c, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Response.Body.Close()
	host := strings.TrimPrefix(s.URL, "http://")
	if res.SignedIn == nil || *res.SignedIn != (SignedIn{Address: c.Address(), ChainID: "eip155:84532", Domain: host}) || res.Paid != nil {
		t.Fatalf("signed in %+v, paid %+v", res.SignedIn, res.Paid)
	}
	if len(s.proofs) != 1 {
		t.Fatalf("%d proofs sent, want 1", len(s.proofs))
	}
	p, err := x402.DecodeSIWX(s.proofs[0])
	if err != nil {
		t.Fatal(err)
	}
	if p.Domain != info.Domain || p.URI != info.URI || p.Nonce != info.Nonce || p.IssuedAt != info.IssuedAt || *p.ExpirationTime != info.ExpirationTime ||
		*p.Statement != info.Statement || len(p.Resources) != 1 || p.Resources[0] != info.URI || p.Address != c.Address().Hex() ||
		p.ChainID != "eip155:84532" || p.Type != "eip191" || p.Version != "1" {
		t.Fatalf("proof %+v, want the challenge %+v echoed", p, info)
	}
	msg, err := auth.SIWXMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := hexutil.Decode(p.Signature)
	sig[64] -= 27
	if pub, err := crypto.SigToPub(accounts.TextHash([]byte(msg)), sig); err != nil || crypto.PubkeyToAddress(*pub) != c.Address() {
		t.Fatalf("the proof's signature recovers to %v (%v)", pub, err)
	}
}

// A challenge that is not this site's, or that does not make one clean
// EIP-4361 message, gets nothing signed.
func TestDoSIWX_HostileChallenge(t *testing.T) {
	for _, tt := range []struct {
		name   string
		edit   func(i *x402.SIWXInfo, u *url.URL) json.RawMessage
		reason string
	}{
		{"not declared", func(i *x402.SIWXInfo, u *url.URL) json.RawMessage { return nil }, "the 402 does not declare the sign-in-with-x extension"},
		{"another domain", func(i *x402.SIWXInfo, u *url.URL) json.RawMessage { i.Domain = "bank.example"; return declared(*i) },
			`the server asks to sign in to "bank.example", not to 127.0.0.1:`},
		{"URI elsewhere", func(i *x402.SIWXInfo, u *url.URL) json.RawMessage {
			i.URI = "https://bank.example/login"
			return declared(*i)
		},
			`the server asks to sign in for "https://bank.example/login", not on http://127.0.0.1:`},
		{"URI over https", func(i *x402.SIWXInfo, u *url.URL) json.RawMessage {
			i.URI = strings.Replace(i.URI, "http:", "https:", 1)
			return declared(*i)
		}, "not on http://127.0.0.1:"},
		{"statement smuggling a line", func(i *x402.SIWXInfo, u *url.URL) json.RawMessage {
			i.Statement = "Sign in.\nURI: https://bank.example"
			return declared(*i)
		}, "its challenge makes no valid EIP-4361 message: SIGN-IN-WITH-X: statement holds a character outside printable ASCII"},
		{"nonce with a space", func(i *x402.SIWXInfo, u *url.URL) json.RawMessage { i.Nonce = "abc def"; return declared(*i) },
			"SIGN-IN-WITH-X: nonce holds a space"},
		{"no EVM chain", func(i *x402.SIWXInfo, u *url.URL) json.RawMessage {
			b, _ := json.Marshal(map[string]any{"info": i, "supportedChains": []x402.SIWXChain{{ChainID: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", Type: "ed25519"}}})
			return b
		}, "it offers no eip155 chain signed with eip191"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSIWXServer(t, func(u *url.URL) json.RawMessage { i := siwxInfo(u); return tt.edit(&i, u) },
				func(w http.ResponseWriter) { io.WriteString(w, "{}") })
			_, err := doSIWX(t, newClient(t), s.URL)
			var bad *MalformedError
			if !errors.As(err, &bad) || !strings.Contains(bad.Reason, tt.reason) {
				t.Fatalf("err %v, want malformed with %q", err, tt.reason)
			}
			if len(s.proofs) != 0 {
				t.Fatalf("%d proofs sent, want none", len(s.proofs))
			}
		})
	}
}

// A refused proof (401), or a balance too low for the request (402), is
// a RejectedError marked SIWX, sent once.
func TestDoSIWX_Refused(t *testing.T) {
	for _, tt := range []struct {
		status       int
		body, want   string
		hint, reason string
	}{
		{401, `{"error":{"code":"invalid_siwx","message":"the message is for \"x\"","details":{"reason":"invalid_siwx_domain_mismatch"}}}`,
			`the server refused the sign-in-with-x proof: HTTP 401 invalid_siwx: the message is for "x" (invalid_siwx_domain_mismatch)`, "", "invalid_siwx_domain_mismatch"},
		{402, `{"error":{"code":"insufficient_credits","message":"balance too low"}}`,
			"the server refused the sign-in-with-x proof: HTTP 402 insufficient_credits: balance too low",
			"the wallet's balance does not cover the request: top it up (paymeter pay topup) or pay without --siwx", ""},
	} {
		s := newSIWXServer(t, func(u *url.URL) json.RawMessage { return declared(siwxInfo(u)) },
			func(w http.ResponseWriter) { w.WriteHeader(tt.status); io.WriteString(w, tt.body) })
		_, err := doSIWX(t, newClient(t), s.URL)
		var rej *RejectedError
		if !errors.As(err, &rej) || !rej.SIWX || err.Error() != tt.want || rej.Hint() != tt.hint || rej.Reason != tt.reason {
			t.Fatalf("err %v (%+v), want %q", err, rej, tt.want)
		}
		if len(s.proofs) != 1 {
			t.Fatalf("%d proofs sent, want 1", len(s.proofs))
		}
	}
}
