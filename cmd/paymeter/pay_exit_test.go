package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// refusingServer plays a paymeter that asks for a payment and then
// answers status/body (a hostile or refusing one: paymeter itself never
// answers a fresh payment so). It counts the payment headers it receives.
func refusingServer(t *testing.T, first402 string, status int, body string) (*httptest.Server, *atomic.Int32) {
	var payments atomic.Int32
	ch := &x402.Challenge{Amount: 1234, MaxTimeoutSeconds: 60, Networks: []*x402.Network{testNetwork()}}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(x402.HeaderPaymentV1) != "" || r.Header.Get(x402.HeaderPaymentV2) != "" {
			payments.Add(1)
			w.WriteHeader(status)
			io.WriteString(w, body)
			return
		}
		if first402 == "" {
			first402 = ch.HeaderV2("payment_required")
		}
		w.Header().Set(x402.HeaderRequired, first402)
		w.WriteHeader(http.StatusPaymentRequired)
		io.WriteString(w, `{"error":{"code":"payment_required","message":"pay"}}`)
	}))
	t.Cleanup(s.Close)
	return s, &payments
}

func TestPay_ExitCodes(t *testing.T) {
	key, _ := crypto.GenerateKey()
	kf := keyFile(t, key)
	hostile := base64.StdEncoding.EncodeToString([]byte(`{"x402Version":2,"accepts":[{"scheme":"exact","network":"eip155:84532",` +
		`"amount":"1e9","asset":"` + testAsset.Hex() + `","payTo":"` + testPayTo.Hex() + `","maxTimeoutSeconds":60,"extra":{"name":"USDC","version":"2"}}]}`))
	for _, tt := range []struct {
		name           string
		first402       string
		status         int
		body           string
		want, payments int32
		message        string
	}{
		{"rejected", "", http.StatusPaymentRequired, `{"error":{"code":"invalid_payment","message":"the signature does not recover"}}`, exitRejected, 1,
			"the server refused the payment: HTTP 402 invalid_payment: the signature does not recover"},
		{"replay", "", http.StatusConflict, `{"error":{"code":"payment_already_used","message":"already used"}}`, exitRejected, 1,
			"the server refused the payment: HTTP 409 payment_already_used: already used"},
		{"malformed", hostile, http.StatusOK, "", exitMalformed, 0,
			`the 402 cannot be paid: v2: accepts[0]: amount "1e9" is not a plain decimal integer; nothing was signed`},
		{"upstream error after paying", "", http.StatusBadGateway, `{"error":{"code":"upstream_error","message":"down"}}`, exitHTTPError, 1,
			"HTTP 502 upstream_error: down"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, payments := refusingServer(t, tt.first402, tt.status, tt.body)
			_, _, err := runPayErr(t, s.URL+"/v1/chat/completions", "--key-file", kf, "-d", chatBody)
			if got := exitStatus(err); got != int(tt.want) || err.Error() != tt.message {
				t.Fatalf("exit %d %q, want %d %q", got, err, tt.want, tt.message)
			}
			if n := payments.Load(); n != tt.payments {
				t.Fatalf("%d payments sent, want %d", n, tt.payments)
			}
		})
	}
}

// Usage mistakes are exit 2; a bad key is exit 1 and never quoted; a
// key file others can read is warned about; a key is never a flag.
func TestPay_UsageAndKeys(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"http://a", "http://b"},
		{"ftp://x/"},
		{"-H", "no colon", "http://x/"},
		{"--key", "0x01", "http://x/"},
		{"--x402", "3", "http://x/"},
		{"--max", "-1", "http://x/"},
		{"topup", "--url", "http://x/"},
		{"balance", "--rpc", "http://x/"},
	} {
		if _, _, err := runPayErr(t, args...); exitStatus(err) != 2 {
			t.Errorf("%q: %v (exit %d), want a usage error", args, err, exitStatus(err))
		}
	}
	secret := strings.Repeat("zz", 32)
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, []byte(secret), 0o600)
	_, _, err := runPayErr(t, "signin", "--url", "http://127.0.0.1:1", "--key-file", bad)
	if exitStatus(err) != 1 || strings.Contains(err.Error(), "zz") || err.Error() != "pay: the payer key is not 32 bytes of hex" {
		t.Fatalf("bad key: %v", err)
	}
	t.Setenv(payKeyEnv, secret)
	if _, _, err := runPayErr(t, "signin", "--url", "http://127.0.0.1:1"); err == nil || strings.Contains(err.Error(), "zz") {
		t.Fatalf("bad key from the environment: %v", err)
	}
	key, _ := crypto.GenerateKey()
	open := filepath.Join(t.TempDir(), "open.key")
	os.WriteFile(open, []byte(hex.EncodeToString(crypto.FromECDSA(key))), 0o644)
	_, stderr, _ := runPayErr(t, "signin", "--url", "http://127.0.0.1:1", "--key-file", open)
	if want := "warning: key file " + open + " is readable by others (mode 0644); chmod 600 it\n"; stderr != want {
		t.Fatalf("stderr %q, want %q", stderr, want)
	}

	// -d @FILE is read within the body bound: @/dev/zero is refused, not
	// read until memory runs out.
	good := keyFile(t, key)
	if _, _, err := runPayErr(t, "--key-file", good, "-d", "@/dev/zero", "http://127.0.0.1:1/v1/chat/completions"); exitStatus(err) != 1 ||
		!strings.Contains(err.Error(), "longer than") {
		t.Fatalf("-d @/dev/zero: %v", err)
	}
	// An RPC URL's path may hold a provider's key: errors name the host only.
	_, _, err = runPayErr(t, "balance", "--key-file", good, "--rpc", "http://127.0.0.1:1/v2/provider-secret", "--token", "0x036CbD53842c5426634e7929541eC2318f3dCF7e")
	if err == nil || strings.Contains(err.Error(), "provider-secret") {
		t.Fatalf("balance over an unreachable RPC: %v", err)
	}
}

// ethCall serves eth_call over JSON-RPC from the simulated chain, so that
// `pay balance --rpc` reads the token as it would from a node.
type ethCall struct{ c *simChain }

func (e *ethCall) Call(ctx context.Context, args map[string]json.RawMessage, _ json.RawMessage) (hexutil.Bytes, error) {
	var to common.Address
	var input hexutil.Bytes
	if err := json.Unmarshal(args["to"], &to); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(args["input"], &input); err != nil {
		return nil, err
	}
	return e.c.client.CallContract(ctx, ethereum.CallMsg{To: &to, Data: input}, nil)
}

func TestPay_BalanceOnChain(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, chainConfig(t, newFixtureUpstream(t).URL(), c), c)
	payer, kf := newPayer(t, c, 12_345_678)
	srv := rpc.NewServer()
	if err := srv.RegisterName("eth", &ethCall{c}); err != nil {
		t.Fatal(err)
	}
	node := httptest.NewServer(srv)
	t.Cleanup(node.Close)
	stdout, stderr, status := payRun(t, "balance", "--key-file", kf, "--rpc", node.URL, "--token", c.tokenAddr.Hex(), "--url", m.URL())
	acct := walletOf(t, m, payer) // a wallet-signed request creates the account, with its free credits
	want := fmt.Sprintf("balance: %s credits (wallet %s, account %d)\ntoken: 12345678 units of %s (wallet %s)\n"+
		"permit2: allowance 0 units (what upto payments may spend; approve Permit2 on the token to raise it)\n",
		acct.Balance, payer.Hex(), acct.ID, c.tokenAddr.Hex(), payer.Hex())
	if status != 0 || stdout != want || acct.Balance != 5*meter.Credit {
		t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %s", status, stdout, want, stderr)
	}
	// A payer that approved Permit2 (as upto needs) sees it.
	key, approved := uptoPayer(t, c, 1)
	stdout, stderr, status = payRun(t, "balance", "--key-file", keyFile(t, key), "--rpc", node.URL, "--token", c.tokenAddr.Hex())
	want = fmt.Sprintf("token: 1 units of %s (wallet %s)\npermit2: allowance unlimited (what upto payments may spend; approve Permit2 on the token to raise it)\n",
		c.tokenAddr.Hex(), approved.Hex())
	if status != 0 || stdout != want {
		t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %s", status, stdout, want, stderr)
	}
}

// firstWrite signals its first write.
type firstWrite struct {
	strings.Builder
	first chan string
}

func (w *firstWrite) Write(p []byte) (int, error) {
	if w.Len() == 0 {
		w.first <- string(p)
	}
	return w.Builder.Write(p)
}

// -N writes each piece as it arrives: the first event is on stdout while
// the server still holds the rest back. (The server never asks for a
// payment; unpaid answers are passed through as they are.)
func TestPay_StreamsAsItArrives(t *testing.T) {
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(s.Close)
	out := &firstWrite{first: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"pay", "-N", s.URL + "/v1/x"}, out, io.Discard) }()
	if got := <-out.first; got != "data: one\n\n" {
		t.Fatalf("first write %q", got)
	}
	close(release)
	if err := <-done; err != nil || out.String() != "data: one\n\ndata: [DONE]\n\n" {
		t.Fatalf("%v, stdout %q", err, out.String())
	}
}
