package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/x402"
)

// startDemoBinary runs `paymeter demo --info FILE` as a process, as a user
// would, and returns what it wrote once its lines are printed.
func startDemoBinary(t *testing.T, bin string) *demoInfo {
	t.Helper()
	infoPath := filepath.Join(t.TempDir(), "demo.json")
	cmd := exec.Command(bin, "demo", "--listen", "127.0.0.1:0", "--info", infoPath)
	cmd.Env = append(os.Environ(), "PAYMETER_METRICS_LISTEN=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the demo exited before printing its lines")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo printed no lines in 30 s")
	}
	t.Logf("demo binary ready in %v", time.Since(start))
	raw, err := os.ReadFile(infoPath)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(infoPath); st.Mode().Perm() != 0o600 {
		t.Errorf("--info file mode %04o: it holds a key, want 0600", st.Mode().Perm())
	}
	var info demoInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatalf("--info: %v\n%s", err, raw)
	}
	return &info
}

// demoLedger reads the demo chain's token balances.
type demoLedger struct {
	t      *testing.T
	client *ethclient.Client
	token  *contracts.TestUSDC
}

func dialDemoChain(t *testing.T, info *demoInfo) *demoLedger {
	t.Helper()
	client, err := ethclient.Dial(info.Chain.RPCURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	token, err := contracts.NewTestUSDC(common.HexToAddress(info.Token.Address), client)
	if err != nil {
		t.Fatal(err)
	}
	return &demoLedger{t: t, client: client, token: token}
}

func (d *demoLedger) balance(addr string) int64 {
	d.t.Helper()
	b, err := d.token.BalanceOf(&bind.CallOpts{}, common.HexToAddress(addr))
	if err != nil {
		d.t.Fatal(err)
	}
	return b.Int64()
}

// mined fails unless tx succeeded on the chain.
func (d *demoLedger) mined(tx string) {
	d.t.Helper()
	r, err := d.client.TransactionReceipt(context.Background(), common.HexToHash(tx))
	if err != nil || r.Status != types.ReceiptStatusSuccessful {
		d.t.Fatalf("transaction %s: %v %+v", tx, err, r)
	}
}

// quote is what the demo asks, in USDC units, to pay for body unannounced.
func quote(t *testing.T, info *demoInfo, body string) int64 {
	t.Helper()
	resp, err := http.Post(info.BaseURL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	ch, err := x402.ParseChallengeV2(resp.Header.Get("PAYMENT-REQUIRED"))
	if resp.StatusCode != http.StatusPaymentRequired || err != nil || len(ch.Accepts) != 2 ||
		ch.Accepts[0].Scheme != x402.SchemeExact || ch.Accepts[1].Scheme != x402.SchemeUpto {
		t.Fatalf("unpaid request: %d, challenge %+v %v, want exact and upto", resp.StatusCode, ch, err)
	}
	n, err := strconv.ParseInt(ch.Accepts[0].Amount, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// balanceRe is pay's balance line (paidRe, receiptRe and costRe: pay_test.go).
var balanceRe = regexp.MustCompile(`(?m)^balance: ([0-9.]+) credits`)

// The demo through the built binary, as its user meets it: started with
// --info; paid per request by `paymeter pay` (x402 v2 and v1) and by the
// real x402 clients with the payer key it printed; topped up, then spent
// with wallet-signed requests; signed in to. Every payment moves the payer's
// test USDC by exactly what was quoted, to payTo, in a transaction on the
// demo chain, and the ledger verifies and reconciles clean afterwards.
func TestDemo_BinaryEndToEnd(t *testing.T) {
	bin := paymeterBinary(t)
	info := startDemoBinary(t, bin)
	if info.Chain.ChainID != 84532 || info.Network.V1 != "base-sepolia" || info.Network.V2 != "eip155:84532" ||
		info.Token.Name != "USDC" || info.Token.Version != "2" || !strings.HasPrefix(info.APIKey, "pm_") ||
		!strings.Contains(info.Payer.Note, "throwaway") || info.Command != bin {
		t.Fatalf("--info: %+v", info)
	}
	for _, f := range []string{info.Payer.KeyFile, info.Config} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, want a file of mode 0600", f, err)
		}
	}
	chain := dialDemoChain(t, info)
	if got := chain.balance(info.Payer.Address); got != 100_000_000 {
		t.Fatalf("the payer starts with %d units, want 100 USDC", got)
	}
	kf := info.Payer.KeyFile
	chat := `{"model":"demo-small","messages":[{"role":"user","content":"Say hello."}]}`
	url := info.BaseURL + "/v1/chat/completions"

	// paymeter pay, v2 then v1.
	for _, v := range []string{"2", "1"} {
		want := quote(t, info, chat)
		payer, payTo := chain.balance(info.Payer.Address), chain.balance(info.PayTo)
		r := runBinary(t, bin, "pay", "--key-file", kf, "--x402", v, "-d", chat, url)
		m := paidRe.FindStringSubmatch(r.stderr)
		rc := receiptRe.FindStringSubmatch(r.stderr)
		if r.code != 0 || m == nil || rc == nil || m[4] != v || m[5] != info.PayTo || !costRe.MatchString(r.stderr) ||
			!strings.Contains(r.stdout, `"object":"chat.completion"`) {
			t.Fatalf("pay --x402 %s: exit %d\nstdout %s\nstderr %s", v, r.code, r.stdout, r.stderr)
		}
		if units, _ := strconv.ParseInt(m[1], 10, 64); units != want {
			t.Fatalf("pay --x402 %s paid %d units, the 402 quoted %d", v, units, want)
		}
		chain.mined(rc[1])
		if got := chain.balance(info.Payer.Address); got != payer-want {
			t.Fatalf("v%s: the payer holds %d, want %d − %d", v, got, payer, want)
		}
		if got := chain.balance(info.PayTo); got != payTo+want {
			t.Fatalf("v%s: payTo holds %d, want %d + %d", v, got, payTo, want)
		}
	}

	// The real x402 clients, x402-fetch 1.2 (v1) and @x402/fetch 2.x (v2),
	// with the printed key; their request is theirs, so is its quote.
	payWithNode(t, info, chain)

	// A top-up of 10 credits: 10 USDC leave the payer.
	before := chain.balance(info.Payer.Address)
	r := runBinary(t, bin, "pay", "topup", "--key-file", kf, "--url", info.BaseURL, "10")
	bal := balanceRe.FindStringSubmatch(r.stdout)
	if r.code != 0 || bal == nil || !strings.Contains(r.stderr, "paid: 10000000 USDC units") {
		t.Fatalf("topup: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if got := chain.balance(info.Payer.Address); got != before-10_000_000 {
		t.Fatalf("topup: the payer holds %d, want %d − 10 USDC", got, before)
	}
	credits := amt(t, bal[1])

	// Wallet-signed requests spend that balance: nothing moves on chain.
	before = chain.balance(info.Payer.Address)
	r = runBinary(t, bin, "pay", "--wallet", "--key-file", kf, "-d", chat, url)
	cost := costRe.FindStringSubmatch(r.stderr)
	if r.code != 0 || cost == nil || strings.Contains(r.stderr, "paid:") || !strings.Contains(r.stdout, `"object":"chat.completion"`) {
		t.Fatalf("pay --wallet: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, bin, "pay", "balance", "--key-file", kf, "--url", info.BaseURL)
	if bal = balanceRe.FindStringSubmatch(r.stdout); r.code != 0 || bal == nil || amt(t, bal[1]) != credits-amt(t, cost[1]) {
		t.Fatalf("balance after a wallet request of %s: %v (was %s)\n%s%s", cost[1], bal, credits, r.stdout, r.stderr)
	}
	if got := chain.balance(info.Payer.Address); got != before {
		t.Fatalf("a wallet-signed request moved tokens: %d → %d", before, got)
	}

	// Sign in with Ethereum: the key printed works.
	r = runBinary(t, bin, "pay", "signin", "--key-file", kf, "--url", info.BaseURL)
	key := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(key, "pm_") {
		t.Fatalf("signin: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(chat))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if resp := do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("the signed-in key: %d %s", resp.StatusCode, readAll(t, resp))
	}

	// The ledger is whole, and each of the five credited payments has its
	// transfer to payTo on the demo chain.
	if r = runBinary(t, bin, "ledger", "verify", "--config", info.Config); r.code != 0 || !strings.HasPrefix(r.stdout, "ledger ok") {
		t.Fatalf("ledger verify: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, bin, "ledger", "reconcile", "--config", info.Config)
	if r.code != 0 || !strings.Contains(r.stdout, "5 credited payments checked on chain, 0 without their transfer to payTo") ||
		!strings.Contains(r.stdout, "1 settled upto authorizations checked on chain, 0 without their transfer to payTo") {
		t.Fatalf("ledger reconcile: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
}

// payWithNode pays the demo with the real x402 clients, x402-fetch 1.2 (v1)
// and @x402/fetch 2.x (v2), using the payer key it printed: each moves the
// payer's tokens by exactly the quote of its own request.
func payWithNode(t *testing.T, info *demoInfo, chain *demoLedger) {
	node := needNode(t)
	// The scripts read their settings from the environment; PAYMETER_URL
	// must be gone again before paymeter runs, which refuses a PAYMETER_
	// variable it does not know.
	for k, v := range map[string]string{"PAYMETER_URL": info.BaseURL, "PAYER_KEY": info.Payer.PrivateKey, "ASSET": info.Token.Address, "MODEL": "demo-small"} {
		os.Setenv(k, v)
		defer os.Unsetenv(k)
	}
	theirs := `{"model":"demo-small","messages":[{"role":"user","content":"hello"}],"max_tokens":16}`
	for _, script := range []string{"x402v1.mjs", "x402v2.mjs"} {
		want := quote(t, info, theirs)
		before := chain.balance(info.Payer.Address)
		var out struct {
			Status          int
			PaymentResponse x402.SettleResponse
		}
		if err := json.Unmarshal(runNode(t, node, script), &out); err != nil || out.Status != 200 || !out.PaymentResponse.Success {
			t.Fatalf("%s: %+v %v", script, out, err)
		}
		chain.mined(out.PaymentResponse.Transaction)
		if got := chain.balance(info.Payer.Address); got != before-want {
			t.Fatalf("%s: the payer holds %d, want %d − %d quoted", script, got, before, want)
		}
	}
	// And @x402/evm's upto client: served at once, settled after, for the
	// metered cost as settled (the demo's x402.upto.min_amount is one unit).
	before := chain.balance(info.Payer.Address)
	var out struct {
		Status          int
		PaymentResponse x402.UptoSettleResponse
		Cost            string
	}
	if err := json.Unmarshal(runNode(t, node, "x402upto.mjs"), &out); err != nil || out.Status != 200 || !out.PaymentResponse.Success ||
		out.PaymentResponse.Amount != "28" || out.Cost != "0.000028" {
		t.Fatalf("x402upto.mjs: %+v %v", out, err)
	}
	for deadline := time.Now().Add(20 * time.Second); chain.balance(info.Payer.Address) == before; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("x402upto.mjs: its payment was not settled within 20 s")
		}
	}
	if got := chain.balance(info.Payer.Address); got != before-28 {
		t.Fatalf("x402upto.mjs: the payer holds %d, want %d − 28 settled", got, before)
	}
}
