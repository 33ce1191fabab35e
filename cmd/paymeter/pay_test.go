package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
)

// `paymeter pay` runs in process, through run, against the real paymeter
// settling on the simulated chain.

// payRun runs `paymeter pay args…` and returns its stdout, stderr and
// exit status.
func payRun(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := run(ctx, append([]string{"pay"}, args...), &out, &errb)
	return out.String(), errb.String(), exitStatus(err)
}

// exitStatus is the status main exits with for err.
func exitStatus(err error) int {
	var ue usageError
	var ec exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &ec):
		return ec.code
	}
	return 1
}

// keyFile writes key to a file only its owner reads.
func keyFile(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "payer.key")
	if err := os.WriteFile(p, []byte("0x"+hex.EncodeToString(crypto.FromECDSA(key))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newPayer is a key holding units of c's token, and its key file.
func newPayer(t *testing.T, c *simChain, units int64) (common.Address, string) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	c.mint(t, addr, units)
	return addr, keyFile(t, key)
}

var (
	paidRe    = regexp.MustCompile(`(?m)^paid: (\d+) USDC units \(([0-9.]+) credits\) on (\S+) via x402 v(\d) exact to (0x[0-9a-fA-F]{40}) \(asset (0x[0-9a-fA-F]{40})\)$`)
	receiptRe = regexp.MustCompile(`(?m)^receipt: (0x[0-9a-f]{64}) on (\S+) payer (0x[0-9a-fA-F]{40})$`)
	costRe    = regexp.MustCompile(`(?m)^cost: ([0-9.]+) credits$`)
)

func mustMatch(t *testing.T, re *regexp.Regexp, s string) []string {
	t.Helper()
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no line matching %s in:\n%s", re, s)
	}
	return m
}

// x402 per request, v2 and then v1: each payment moves exactly the quoted
// units from the payer to payTo, in the transaction of its receipt, and
// the change (the quote less the cost) is the payer's wallet balance.
func TestPay_X402PerRequest(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, chainConfig(t, newFixtureUpstream(t).URL(), c), c)
	payer, kf := newPayer(t, c, 10_000_000)
	quote := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired).V1.Accepts[0].MaxAmountRequired

	var change meter.Amount
	for _, tt := range []struct{ version, network string }{{"2", "eip155:84532"}, {"1", "base-sepolia"}} {
		before, payToBefore := c.balance(t, payer), c.balance(t, c.payTo)
		stdout, stderr, status := payRun(t, "--key-file", kf, "-d", chatBody, m.URL()+"/v1/chat/completions", "--x402", tt.version)
		if status != 0 || !strings.Contains(stdout, `"object":"chat.completion"`) {
			t.Fatalf("v%s: exit %d\nstdout %s\nstderr %s", tt.version, status, stdout, stderr)
		}
		paid := mustMatch(t, paidRe, stderr)
		units, _ := strconv.ParseInt(paid[1], 10, 64)
		if paid[1] != quote || paid[2] != meter.USDC(units).String() || paid[3] != tt.network || paid[4] != tt.version ||
			paid[5] != c.payTo.Hex() || paid[6] != c.tokenAddr.Hex() {
			t.Fatalf("v%s: %q, want %s units to %s", tt.version, paid[0], quote, c.payTo.Hex())
		}
		rc := mustMatch(t, receiptRe, stderr)
		if rc[2] != tt.network || rc[3] != payer.Hex() {
			t.Fatalf("v%s: %q", tt.version, rc[0])
		}
		tx, err := c.client.TransactionReceipt(context.Background(), common.HexToHash(rc[1]))
		if err != nil || tx.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("v%s: transaction %s: %v", tt.version, rc[1], err)
		}
		if got := before - c.balance(t, payer); got != units {
			t.Fatalf("v%s: the payer's tokens fell by %d, want %d", tt.version, got, units)
		}
		if got := c.balance(t, c.payTo) - payToBefore; got != units {
			t.Fatalf("v%s: payTo's tokens rose by %d, want %d", tt.version, got, units)
		}
		cost := amt(t, mustMatch(t, costRe, stderr)[1])
		change += meter.USDC(units).Amount() - cost
		if w := waitSettled(t, m, walletOf(t, m, payer).ID); w.Balance != change {
			t.Fatalf("v%s: the payer's wallet holds %s, want the change %s", tt.version, w.Balance, change)
		}
	}
	mustVerify(t, m)
}

// -N copies a stream as it arrives; the cost comes as the stream's
// trailer and is printed once the stream has ended.
func TestPay_Stream(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, chainConfig(t, newFixtureUpstream(t).URL(), c), c)
	payer, kf := newPayer(t, c, 10_000_000)
	stream := strings.Replace(chatBody, `"max_tokens":100`, `"max_tokens":100,"stream":true`, 1)
	before := c.balance(t, payer)
	stdout, stderr, status := payRun(t, "-N", "--key-file", kf, "-d", stream, m.URL()+"/v1/chat/completions")
	if status != 0 || !strings.HasPrefix(stdout, "data: ") || !strings.HasSuffix(stdout, "data: [DONE]\n\n") {
		t.Fatalf("exit %d\nstdout %q\nstderr %s", status, stdout, stderr)
	}
	units, _ := strconv.ParseInt(mustMatch(t, paidRe, stderr)[1], 10, 64)
	cost := amt(t, mustMatch(t, costRe, stderr)[1])
	if got := before - c.balance(t, payer); got != units || cost <= 0 {
		t.Fatalf("tokens fell by %d, want %d; cost %s", got, units, cost)
	}
	if w := waitSettled(t, m, walletOf(t, m, payer).ID); w.Balance != meter.USDC(units).Amount()-cost {
		t.Fatalf("wallet %s, want %s less %s", w.Balance, meter.USDC(units).Amount(), cost)
	}
	mustVerify(t, m)
}

// A top-up credits the signer's wallet with exactly what it bought, for
// exactly its price on chain; --wallet then spends that balance, by
// exactly the cost, and moves no tokens.
func TestPay_TopUpThenWallet(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, chainConfig(t, newFixtureUpstream(t).URL(), c), c)
	payer, kf := newPayer(t, c, 20_000_000)

	stdout, stderr, status := payRun(t, "topup", "--url", m.URL(), "--key-file", kf, "10")
	acct := walletOf(t, m, payer)
	if status != 0 || stdout != fmt.Sprintf("balance: 10 credits (wallet %s, account %d)\n", payer.Hex(), acct.ID) {
		t.Fatalf("topup: exit %d\nstdout %q\nstderr %s", status, stdout, stderr)
	}
	if paid := mustMatch(t, paidRe, stderr); paid[1] != "10000000" || paid[2] != "10" {
		t.Fatalf("topup paid %q", paid[0])
	}
	if got := c.balance(t, payer); got != 10_000_000 {
		t.Fatalf("the payer holds %d tokens after a top-up of 10, want 10000000", got)
	}

	stdout, stderr, status = payRun(t, "--wallet", "-d", chatBody, "--key-file", kf, m.URL()+"/v1/chat/completions")
	if status != 0 || !strings.Contains(stdout, `"object":"chat.completion"`) || paidRe.MatchString(stderr) {
		t.Fatalf("--wallet: exit %d\nstdout %s\nstderr %s", status, stdout, stderr)
	}
	cost := amt(t, mustMatch(t, costRe, stderr)[1])
	if w := waitSettled(t, m, acct.ID); w.Balance != 10*meter.Credit-cost || cost <= 0 {
		t.Fatalf("the wallet holds %s, want 10 less the cost %s", w.Balance, cost)
	}
	if got := c.balance(t, payer); got != 10_000_000 {
		t.Fatalf("a wallet request moved tokens: the payer holds %d", got)
	}

	stdout, _, status = payRun(t, "balance", "--url", m.URL(), "--key-file", kf)
	if want := fmt.Sprintf("balance: %s credits (wallet %s, account %d)\n", 10*meter.Credit-cost, payer.Hex(), acct.ID); status != 0 || stdout != want {
		t.Fatalf("balance: exit %d %q, want %q", status, stdout, want)
	}
	mustVerify(t, m)
}

// Sign-In with Ethereum gives an API key of the wallet's own account,
// which then pays for a request.
func TestPay_SignIn(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, chainConfig(t, newFixtureUpstream(t).URL(), c), c)
	payer, kf := newPayer(t, c, 1)
	stdout, stderr, status := payRun(t, "signin", "--key-file", kf, "--url", m.URL())
	key := strings.TrimSuffix(stdout, "\n")
	if status != 0 || !strings.HasPrefix(key, "pm_") || strings.Contains(key, "\n") {
		t.Fatalf("signin: exit %d\nstdout %q\nstderr %s", status, stdout, stderr)
	}
	acct := walletOf(t, m, payer)
	if want := fmt.Sprintf("signed in: %s (account %d, new, balance %s credits)\n", payer.Hex(), acct.ID, acct.Balance); stderr != want {
		t.Fatalf("stderr %q, want %q", stderr, want)
	}
	resp := post(t, m, "/v1/chat/completions", key, chatBody)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("with the signed-in key: %d %s", resp.StatusCode, body)
	}
	cost := amt(t, resp.Header.Get("X-Paymeter-Cost"))
	if w := waitSettled(t, m, acct.ID); w.Balance != acct.Balance-cost {
		t.Fatalf("the wallet holds %s, want %s less %s", w.Balance, acct.Balance, cost)
	}
}

// Refusals through the CLI against the real paymeter: a price above
// --max signs nothing and moves nothing (exit 3); a paymeter that never
// asks for a payment (x402 off) answers its 401, printed, exit 5.
func TestPay_RefusalsAgainstPaymeter(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, chainConfig(t, up.URL(), c), c)
	payer, kf := newPayer(t, c, 10_000_000)
	quote := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired).V2.Accepts[0].Amount
	units, _ := strconv.ParseInt(quote, 10, 64)
	stdout, stderr, err := runPayErr(t, "--max", "0.000001", "--key-file", kf, "-d", chatBody, m.URL()+"/v1/chat/completions")
	want := fmt.Sprintf("the price, %s USDC units (%s credits) on eip155:84532, is above the maximum of 0.000001 credits; nothing was signed",
		quote, meter.USDC(units))
	if exitStatus(err) != exitOverMax || stdout != "" || stderr != "" || err.Error() != want {
		t.Fatalf("over max: exit %d %q stdout %q stderr %q", exitStatus(err), err, stdout, stderr)
	}
	if got := c.balance(t, payer); got != 10_000_000 || walletOf(t, m, payer) != nil {
		t.Fatalf("after a refusal the payer holds %d tokens, wallet %+v", got, walletOf(t, m, payer))
	}

	off := MustRunMain(t, testConfig(t, up.URL()))
	stdout, stderr, status := payRun(t, "--key-file", kf, "-d", chatBody, off.URL()+"/v1/chat/completions")
	if status != exitHTTPError || !strings.Contains(stdout, `"code":"missing_credentials"`) || stderr != "" {
		t.Fatalf("x402 off: exit %d stdout %q stderr %q", status, stdout, stderr)
	}
	_, _, err = runPayErr(t, "--key-file", kf, "-d", chatBody, off.URL()+"/v1/chat/completions")
	if !strings.HasPrefix(err.Error(), "HTTP 401 missing_credentials: ") {
		t.Fatalf("x402 off: error %q", err)
	}
}

// runPayErr is payRun returning the error main would print.
func runPayErr(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"pay"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}
