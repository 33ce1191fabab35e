package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// `paymeter pay --siwx` against the real paymeter (sign-in-with-x on, as
// by default, bound to the loopback address it listens on).

// A top-up funds the wallet; --siwx then signs the 402's sign-in-with-x
// challenge instead of paying: the balance falls by exactly
// X-Paymeter-Cost, and no token moves.
func TestPay_SIWXSpendsTheBalance(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, chainConfig(t, newFixtureUpstream(t).URL(), c), c)
	payer, kf := newPayer(t, c, 20_000_000)
	if _, stderr, status := payRun(t, "topup", "--url", m.URL(), "--key-file", kf, "10"); status != 0 {
		t.Fatalf("topup: exit %d\n%s", status, stderr)
	}
	acct := walletOf(t, m, payer)
	before, tokens := acct.Balance, c.balance(t, payer)

	stdout, stderr, status := payRun(t, "--siwx", "--key-file", kf, "-d", chatBody, m.URL()+"/v1/chat/completions")
	if status != 0 || !strings.Contains(stdout, `"object":"chat.completion"`) {
		t.Fatalf("--siwx: exit %d\nstdout %s\nstderr %s", status, stdout, stderr)
	}
	cost := amt(t, mustMatch(t, costRe, stderr)[1])
	after := waitSettled(t, m, acct.ID).Balance
	host := strings.TrimPrefix(m.URL(), "http://")
	want := fmt.Sprintf("sign-in-with-x: %s on eip155:84532 for %s; the wallet's balance pays, nothing was paid\ncost: %s credits\nbalance: %s credits\n",
		payer.Hex(), host, cost, after)
	if stderr != want || cost != amt(t, "0.0000335") || after != before-cost {
		t.Fatalf("stderr %q\nwant   %q\nbalance %s → %s, cost %s", stderr, want, before, after, cost)
	}
	if got := c.balance(t, payer); got != tokens {
		t.Fatalf("a sign-in-with-x request moved tokens: %d → %d", tokens, got)
	}
	mustVerify(t, m)
}

// A wallet whose balance cannot pay is refused after its proof (exit 4,
// with a hint); a 402 whose challenge names another site gets nothing
// signed (exit 6).
func TestPay_SIWXRefused(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	cfg := chainConfig(t, up.URL(), c)
	cfg.Wallet.InitialFreeCredits = 0
	m := mustRunChainMain(t, cfg, c)
	payer, kf := newPayer(t, c, 1_000_000)
	url := m.URL() + "/v1/chat/completions"

	stdout, stderr, err := runPayErr(t, "--siwx", "--key-file", kf, "-d", chatBody, url)
	if exitStatus(err) != exitRejected || stdout != "" ||
		!strings.HasPrefix(err.Error(), "the server refused the sign-in-with-x proof: HTTP 402 insufficient_credits: ") ||
		stderr != "hint: the wallet's balance does not cover the request: top it up (paymeter pay topup) or pay without --siwx\n" {
		t.Fatalf("no balance: exit %d %q\nstdout %q\nstderr %q", exitStatus(err), err, stdout, stderr)
	}
	if w := walletOf(t, m, payer); w == nil || w.Balance != 0 || c.balance(t, payer) != 1_000_000 {
		t.Fatalf("wallet %+v, tokens %d", w, c.balance(t, payer))
	}

	// A paymeter bound to another origin issues challenges for that one.
	cfg = chainConfig(t, up.URL(), c)
	cfg.X402.PublicURL = "https://paymeter.example"
	other := mustRunChainMain(t, cfg, c)
	_, _, err = runPayErr(t, "--siwx", "--key-file", kf, "-d", chatBody, other.URL()+"/v1/chat/completions")
	want := fmt.Sprintf(`the 402 cannot be paid: sign-in-with-x: the server asks to sign in to "paymeter.example", not to %s; nothing was signed`,
		strings.TrimPrefix(other.URL(), "http://"))
	if exitStatus(err) != exitMalformed || err.Error() != want {
		t.Fatalf("another site: exit %d %q\nwant %q", exitStatus(err), err, want)
	}
	if n, err := other.Ledger.FindAccounts(t.Context(), meter.AccountWallet); err != nil || len(n) != 0 {
		t.Fatalf("wallets %v %v, want none: nothing was signed", n, err)
	}
}
