package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/payclient"
)

// `paymeter pay` with the upto scheme, against the real paymeter settling
// on the simulated chain (x402_upto_test.go's uptoConfig: costs settled
// to the USDC atomic unit). The test token is not a canonical USDC, so
// each command names it with --asset.

// The 402 offers upto beside exact; pay picks upto, signs a permit of up
// to the quote, is served at once and charged the metered cost: 34 units
// (0.0000335 credits rounded up), exactly what leaves the payer once the
// background settler has run, and no change on the wallet's balance.
func TestPay_UptoChargesTheMeteredCost(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, uptoConfig(t, newFixtureUpstream(t).URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 1_000_000)
	kf := keyFile(t, key)
	quote := uptoOffered(t, mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)).Amount
	payToBefore := c.balance(t, c.payTo)

	stdout, stderr, status := payRun(t, "--key-file", kf, "--asset", c.tokenAddr.Hex(), "-d", chatBody, m.URL()+"/v1/chat/completions")
	if status != 0 || !strings.Contains(stdout, `"object":"chat.completion"`) {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", status, stdout, stderr)
	}
	want := fmt.Sprintf("paid: up to %s USDC units (%s credits) on eip155:84532 via x402 v2 upto to %s (asset %s)\n"+
		"receipt: accepted, to be settled on eip155:84532 payer %s\n"+
		"cost: 0.000034 credits\n"+
		"charged: 34 USDC units (0.000034 credits) of the %s signed for, settled on chain after the answer\n",
		quote, mustUnits(t, quote), c.payTo.Hex(), c.tokenAddr.Hex(), payer.Hex(), quote)
	if stderr != want {
		t.Fatalf("stderr\n%s\nwant\n%s", stderr, want)
	}
	waitUptoSettled(t, m)
	if paid := 1_000_000 - c.balance(t, payer); paid != int64(chatSettled) {
		t.Fatalf("the payer paid %d units, want %d", paid, chatSettled)
	}
	if got := c.balance(t, c.payTo) - payToBefore; got != int64(chatSettled) {
		t.Fatalf("payTo received %d units, want %d", got, chatSettled)
	}
	if w := walletOf(t, m, payer); w.Balance != 0 {
		t.Fatalf("the payer's wallet holds %s: upto makes no change", w.Balance)
	}
	auths := uptoAuthorizations(t, m)
	if len(auths) != 1 || auths[0].State != meter.UptoSettled || auths[0].Amount != chatSettled || auths[0].Max != mustUnits(t, quote) {
		t.Fatalf("authorizations %+v", auths)
	}
	mustVerifyLedger(t, m)
}

// A stream's receipt goes before the cost is known: the charge comes from
// X-Paymeter-Cost, the stream's trailer, printed once it has ended.
func TestPay_UptoStream(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, uptoConfig(t, newFixtureUpstream(t).URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 1_000_000)
	stream := strings.Replace(chatBody, `"max_tokens":100`, `"max_tokens":100,"stream":true`, 1)
	stdout, stderr, status := payRun(t, "-N", "--key-file", keyFile(t, key), "--asset", c.tokenAddr.Hex(), "--scheme", "upto",
		"-d", stream, m.URL()+"/v1/chat/completions")
	if status != 0 || !strings.HasSuffix(stdout, "data: [DONE]\n\n") {
		t.Fatalf("exit %d\nstdout %q\nstderr %s", status, stdout, stderr)
	}
	cost := amt(t, mustMatch(t, costRe, stderr)[1])
	charged := mustMatch(t, chargedRe, stderr)
	if units := cost.USDCQuote(); charged[1] != fmt.Sprint(int64(units)) || cost <= 0 || !strings.Contains(stderr, "via x402 v2 upto") {
		t.Fatalf("cost %s, %q\n%s", cost, charged[0], stderr)
	}
	waitUptoSettled(t, m)
	if paid := 1_000_000 - c.balance(t, payer); paid != int64(cost.USDCQuote()) {
		t.Fatalf("the payer paid %d units, want the charge %s", paid, charged[1])
	}
}

// Without --asset the test token is not USDC to the client: auto pays
// exact instead (its name binds the signature), --scheme upto signs
// nothing (exit 6), and --scheme exact pays exact though upto is offered.
func TestPay_UptoOnlyInUSDC(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, uptoConfig(t, newFixtureUpstream(t).URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 10_000_000)
	kf := keyFile(t, key)
	url := m.URL() + "/v1/chat/completions"

	_, _, err := runPayErr(t, "--key-file", kf, "--scheme", "upto", "-d", chatBody, url)
	want := fmt.Sprintf("the 402 cannot be paid: it offers no payable x402 upto requirement; v2 upto on eip155:84532: asset %s is not USDC there "+
		"(a Permit2 permit is good for whatever token it names; pay upto in another token with --asset %s); nothing was signed",
		c.tokenAddr.Hex(), c.tokenAddr.Hex())
	if exitStatus(err) != exitMalformed || err.Error() != want {
		t.Fatalf("exit %d %q\nwant %q", exitStatus(err), err, want)
	}
	if n := len(uptoAuthorizations(t, m)); n != 0 || c.balance(t, payer) != 10_000_000 {
		t.Fatalf("%d authorizations, balance %d after a refusal", n, c.balance(t, payer))
	}
	for _, args := range [][]string{{}, {"--scheme", "exact", "--asset", c.tokenAddr.Hex()}} {
		_, stderr, status := payRun(t, append(append([]string{"--key-file", kf}, args...), "-d", chatBody, url)...)
		if paid := paidRe.FindStringSubmatch(stderr); status != 0 || paid == nil || paid[4] != "2" {
			t.Fatalf("%v: exit %d, want exact paid\n%s", args, status, stderr)
		}
	}
	if n := len(uptoAuthorizations(t, m)); n != 0 {
		t.Fatalf("%d upto authorizations, want none", n)
	}
}

// --max below the upto quote signs nothing (exit 3); a payer that never
// approved Permit2 is refused by paymeter (exit 4) with a hint saying how
// to approve; nothing moves on chain either way.
func TestPay_UptoRefusals(t *testing.T) {
	c := newSimChain(t)
	m := mustRunChainMain(t, uptoConfig(t, newFixtureUpstream(t).URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 1_000_000)
	url := m.URL() + "/v1/chat/completions"
	quote := uptoOffered(t, mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)).Amount

	stdout, stderr, err := runPayErr(t, "--max", "0.000001", "--key-file", keyFile(t, key), "--asset", c.tokenAddr.Hex(), "--scheme", "upto", "-d", chatBody, url)
	want := fmt.Sprintf("the price, %s USDC units (%s credits) on eip155:84532, is above the maximum of 0.000001 credits; nothing was signed",
		quote, mustUnits(t, quote))
	if exitStatus(err) != exitOverMax || err.Error() != want || stdout != "" || stderr != "" {
		t.Fatalf("over max: exit %d %q stdout %q stderr %q", exitStatus(err), err, stdout, stderr)
	}
	if n := len(uptoAuthorizations(t, m)); n != 0 || c.balance(t, payer) != 1_000_000 {
		t.Fatalf("%d authorizations, balance %d after --max", n, c.balance(t, payer))
	}

	// A funded payer that has not approved Permit2.
	bare, _ := crypto.GenerateKey()
	c.mint(t, crypto.PubkeyToAddress(bare.PublicKey), 1_000_000)
	stdout, stderr, err = runPayErr(t, "--key-file", keyFile(t, bare), "--asset", c.tokenAddr.Hex(), "-d", chatBody, url)
	wantErr := fmt.Sprintf("the server refused the payment: HTTP 402 invalid_payment: the payer's allowance to Permit2 (0 USDC) does not cover %s USDC: "+
		"approve Permit2 first (permit2_allowance_required)", mustUnits(t, quote))
	wantHint := fmt.Sprintf("hint: upto pays through Permit2: approve it once from the payer's wallet, approve(0x000000000022D473030F116dDEE9F6B43aC78BA3, amount) "+
		"on the token %s (a transaction, which needs ether for gas; or an EIP-2612 permit anyone may submit), or pay with --scheme exact\n", c.tokenAddr.Hex())
	if exitStatus(err) != exitRejected || err.Error() != wantErr || stderr != wantHint || stdout != "" {
		t.Fatalf("no allowance: exit %d %q\nstderr %q\nwant %q\n%q", exitStatus(err), err, stderr, wantErr, wantHint)
	}
	if got := c.balance(t, crypto.PubkeyToAddress(bare.PublicKey)); got != 1_000_000 {
		t.Fatalf("a refused payer holds %d", got)
	}
	mustVerifyLedger(t, m)
}

// chargedRe is pay's charged: line of an upto payment.
var chargedRe = regexp.MustCompile(`(?m)^charged: (\d+) USDC units \(([0-9.]+) credits\) of the (\d+) signed for, settled on chain after the answer$`)

// mustUnits parses a requirement's amount.
func mustUnits(t *testing.T, s string) meter.USDC {
	t.Helper()
	var u int64
	if _, err := fmt.Sscan(s, &u); err != nil || u <= 0 {
		t.Fatalf("amount %q: %v", s, err)
	}
	return meter.USDC(u)
}

// --scheme, --asset and --siwx mistakes are usage errors (exit 2).
func TestPay_UptoUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--scheme", "deferred", "http://x/"},
		{"--scheme", "upto", "--x402", "1", "http://x/"},
		{"--asset", "USDC", "http://x/"},
		{"--asset", "0x036cbd53842c5426634e7929541ec2318f3dcf7", "http://x/"},
		{"--siwx", "--wallet", "http://x/"},
	} {
		if _, _, err := runPayErr(t, args...); exitStatus(err) != 2 {
			t.Errorf("%q: %v (exit %d), want a usage error", args, err, exitStatus(err))
		}
	}
}

// The charged: line takes the receipt's amount, else X-Paymeter-Cost,
// and says so when a server claims more than was signed for.
func TestChargedLine(t *testing.T) {
	paid := &payclient.Requirement{Units: 167}
	for _, tt := range []struct {
		res     payclient.Result
		cost    string
		hasCost bool
		want    string
	}{
		{payclient.Result{Charged: 34, HasCharged: true}, "0.000034", true,
			"charged: 34 USDC units (0.000034 credits) of the 167 signed for, settled on chain after the answer"},
		{payclient.Result{}, "0.0000335", true, "charged: 34 USDC units (0.000034 credits) of the 167 signed for, settled on chain after the answer"},
		{payclient.Result{}, "0", false, "charged: not told (no receipt amount, no X-Paymeter-Cost); at most the 167 USDC units signed for"},
		{payclient.Result{Charged: 1_000_000, HasCharged: true}, "0", false,
			"charged: the server claims 1000000 USDC units, more than the 167 signed for; no more than 167 can be settled"},
	} {
		tt.res.Paid = paid
		if got := chargedLine(&tt.res, amt(t, tt.cost), tt.hasCost); got != tt.want {
			t.Errorf("%+v %s: %q, want %q", tt.res, tt.cost, got, tt.want)
		}
	}
}
