package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// The x402 upto scheme end to end (docs/design.md §5): paymeter on a local
// chain (newSimChain: the test USDC, Permit2 and the x402 upto proxy at
// their canonical addresses) with chain settlement, its relayer the upto
// facilitator. Payments are signed by @x402/evm's upto client
// (testdata/interop/x402upto.mjs) or, where a test needs many or hostile
// ones, by x402.SignUpto, which signs what the npm client signs
// (internal/x402's test against a permit viem signed).

// chatCost is what testdata/upstream/chat.json costs on demo-small: 19
// input tokens at 0.5 and 16 output tokens at 1.5 per million, 0.0000335
// credits, settled rounded up to 34 USDC atomic units.
const (
	chatCost     = meter.Amount(33_500)
	chatSettled  = meter.USDC(34)
	uptoMinUnits = meter.USDC(1)
)

// uptoConfig is chainConfig with upto on: settled to the USDC atomic unit
// (min_amount of one unit, so that the exact metered cost shows), caps as
// given.
func uptoConfig(t *testing.T, upstreamURL string, c *simChain, perPayer, total string) *Config {
	cfg := chainConfig(t, upstreamURL, c)
	u := &cfg.X402.Upto
	u.Enabled = true
	u.MinAmount = uptoMinUnits.Amount()
	u.MaxUnsettledPerPayer, u.MaxUnsettled = amt(t, perPayer), amt(t, total)
	u.BatchInterval = Duration(200 * time.Millisecond)
	return cfg
}

// uptoPayer is a funded payer that approved Permit2, as upto requires.
func uptoPayer(t *testing.T, c *simChain, units int64) (*ecdsa.PrivateKey, common.Address) {
	t.Helper()
	key, _ := crypto.GenerateKey()
	addr := crypto.PubkeyToAddress(key.PublicKey)
	c.mint(t, addr, units)
	c.approvePermit2(t, key)
	return key, addr
}

// setPermit2Allowance sets owner's allowance to Permit2 by its EIP-2612
// permit, which the deployer submits (owner holds no ether).
func setPermit2Allowance(t *testing.T, c *simChain, owner *ecdsa.PrivateKey, value *big.Int) {
	t.Helper()
	from := crypto.PubkeyToAddress(owner.PublicKey)
	nonce, err := c.token.Nonces(&bind.CallOpts{}, from)
	if err != nil {
		t.Fatal(err)
	}
	p := contracts.ERC2612Permit{Owner: from, Spender: contracts.Permit2Address, Value: value, Nonce: nonce, Deadline: contracts.MaxUint256}
	sig, err := p.Sign(owner, "USDC", "2", 84532, c.tokenAddr)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.token.Permit(c.deployer, from, contracts.Permit2Address, value, contracts.MaxUint256, sig)
	c.mined(t, tx, err)
}

// uptoOffered is the 402's upto requirement.
func uptoOffered(t *testing.T, ch *challenge402) x402.Requirement {
	t.Helper()
	for _, r := range ch.V2.Accepts {
		if r.Scheme == x402.SchemeUpto {
			return r
		}
	}
	t.Fatalf("the 402 offers no upto: %+v", ch.V2.Accepts)
	return x402.Requirement{}
}

// uptoPermit is the permit a client signs for req, edited by edit.
func uptoPermit(t *testing.T, key *ecdsa.PrivateKey, req x402.Requirement, edit func(*x402.Permit2Authorization)) *x402.Permit2Authorization {
	t.Helper()
	amount, _ := new(big.Int).SetString(req.Amount, 10)
	nonce, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 256))
	a := &x402.Permit2Authorization{
		From: crypto.PubkeyToAddress(key.PublicKey), Token: common.HexToAddress(req.Asset), Amount: amount,
		Spender: x402.UptoProxyAddress, Nonce: nonce, Deadline: big.NewInt(time.Now().Unix() + int64(req.MaxTimeoutSeconds)),
		To: common.HexToAddress(req.PayTo), Facilitator: common.HexToAddress(req.Extra.FacilitatorAddress), ValidAfter: big.NewInt(0),
	}
	if edit != nil {
		edit(a)
	}
	return a
}

// signUpto signs a as key for the requirement's network and returns the
// PAYMENT-SIGNATURE value.
func signUpto(t *testing.T, key *ecdsa.PrivateKey, ch *challenge402, req x402.Requirement, a *x402.Permit2Authorization) string {
	t.Helper()
	id, err := x402.ParseCAIP2(req.Network)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := x402.SignUpto(key, id, a)
	if err != nil {
		t.Fatal(err)
	}
	return x402.EncodeUpto(req, &ch.V2.Resource, a, sig)
}

// payUpto asks for the 402 of chatBody and pays it with a fresh permit.
func payUpto(t *testing.T, m *Main, key *ecdsa.PrivateKey) *http.Response {
	t.Helper()
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	return postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, signUpto(t, key, ch, req, uptoPermit(t, key, req, nil)))
}

// waitUptoSettled waits until nothing of upto is due or settling.
func waitUptoSettled(t *testing.T, m *Main) meter.UptoStats {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := m.Ledger.FindUptoStats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Count[meter.UptoDue]+s.Count[meter.UptoSettling]+s.Count[meter.UptoClaimed] == 0 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("upto still unsettled after 30 s: %+v", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// uptoAuthorizations lists every upto authorization, settled or not.
func uptoAuthorizations(t *testing.T, m *Main) []*meter.UptoAuthorization {
	t.Helper()
	var out []*meter.UptoAuthorization
	for id := int64(1); ; id++ {
		a, err := m.Ledger.FindUpto(context.Background(), id)
		if meter.ErrorCode(err) == meter.ECodeNotFound {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
}

// The unmodified @x402/fetch + @x402/evm upto client pays paymeter: the
// 402 offers upto beside exact, the client signs a permit of up to the
// quote, paymeter serves at once and settles the exact metered cost after
// the answer: the payer's token balance falls by exactly that (34 atomic
// units: 0.0000335 credits rounded up), payTo's rises by it, and the
// ledger books it as a payment and a usage that cancel out.
func TestUpto_NPMClientPaysTheMeteredCost(t *testing.T) {
	node := needNode(t)
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 1_000_000)
	payToBefore := c.balance(t, c.payTo)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "x402upto.mjs")
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), "PAYMETER_URL="+m.URL(), "MODEL=demo-small", "ASSET="+c.tokenAddr.Hex(),
		"PAYER_KEY=0x"+hex.EncodeToString(crypto.FromECDSA(key)))
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node x402upto.mjs: %v\n%s%s", err, out, stderr)
	}
	var got struct {
		Status          int                     `json:"status"`
		PaymentResponse x402.UptoSettleResponse `json:"paymentResponse"`
		Accepted        x402.Requirement        `json:"accepted"`
		Cost            string                  `json:"cost"`
		Body            struct {
			Object string `json:"object"`
		} `json:"body"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("x402upto.mjs printed %s: %v", out, err)
	}
	relayer := crypto.PubkeyToAddress(c.relayerKey.PublicKey)
	if got.Status != 200 || got.Body.Object != "chat.completion" || got.Accepted.Scheme != "upto" ||
		got.Accepted.Extra == nil || got.Accepted.Extra.FacilitatorAddress != relayer.Hex() {
		t.Fatalf("x402upto.mjs: %s", out)
	}
	if r := got.PaymentResponse; !r.Success || r.Amount != "34" || r.Payer != payer.Hex() || r.Network != "eip155:84532" || r.Transaction != "" {
		t.Fatalf("PAYMENT-RESPONSE %+v, want success for 34 units, settled later", r)
	}
	if got.Cost != chatSettled.Amount().String() {
		t.Fatalf("X-Paymeter-Cost %s, want %s", got.Cost, chatSettled.Amount())
	}
	waitUptoSettled(t, m)
	if paid := 1_000_000 - c.balance(t, payer); paid != int64(chatSettled) {
		t.Fatalf("the payer paid %d units, want %d", paid, chatSettled)
	}
	if got := c.balance(t, c.payTo) - payToBefore; got != int64(chatSettled) {
		t.Fatalf("payTo received %d units, want %d", got, chatSettled)
	}
	auths := uptoAuthorizations(t, m)
	if len(auths) != 1 || auths[0].State != meter.UptoSettled || auths[0].Cost != chatCost || auths[0].Amount != chatSettled || auths[0].TxHash == "" {
		t.Fatalf("authorizations %+v", auths)
	}
	entries, err := m.Ledger.FindEntries(ctx, meter.EntryFilter{AccountID: auths[0].AccountID})
	if err != nil || len(entries) != 2 || entries[0].Amount != -chatSettled.Amount() || entries[1].Amount != chatSettled.Amount() ||
		entries[0].Model != "demo-small" || entries[0].Usage.OutputTokens != 16 {
		t.Fatalf("entries %v %+v", err, entries)
	}
	if acct := walletOf(t, m, payer); acct.Balance != 0 {
		t.Fatalf("the payer's wallet balance is %s: upto makes no change", acct.Balance)
	}
	fams := scrape(t, m)
	if v := metricValue(t, fams, "paymeter_upto_settled_total", nil); v != 1 {
		t.Fatalf("paymeter_upto_settled_total %v, want 1", v)
	}
	if v := metricValue(t, fams, "paymeter_upto_payments_total", map[string]string{"result": "served"}); v != 1 {
		t.Fatalf("paymeter_upto_payments_total{served} %v, want 1", v)
	}
	mustVerifyLedger(t, m)
}

// mustVerifyLedger runs the ledger's invariant checks.
func mustVerifyLedger(t *testing.T, m *Main) {
	t.Helper()
	v, err := m.Ledger.Verify(context.Background())
	if err != nil || len(v) > 0 {
		t.Fatalf("ledger verify: %v %q", err, v)
	}
}

// The 402 offers upto beside exact (v2 only), for the worst case raised
// to min_amount, settled by the relayer; a request whose worst case is
// above the per-payer cap is offered exact only.
func TestUpto_OfferedBesideExact(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	cfg := uptoConfig(t, up.URL(), c, "1", "100")
	cfg.X402.Upto.MinAmount = amt(t, "0.01")
	m := mustRunChainMain(t, cfg, c)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	if len(ch.V1.Accepts) != 1 || len(ch.V2.Accepts) != 2 || ch.V2.Accepts[0].Scheme != "exact" {
		t.Fatalf("accepts v1 %d, v2 %+v: want exact in both, upto in v2", len(ch.V1.Accepts), ch.V2.Accepts)
	}
	r := uptoOffered(t, ch)
	relayer := crypto.PubkeyToAddress(c.relayerKey.PublicKey)
	if r.Amount != "10000" || r.Asset != c.tokenAddr.Hex() || r.PayTo != c.payTo.Hex() || r.Network != "eip155:84532" ||
		r.MaxTimeoutSeconds != 900 || r.Extra.FacilitatorAddress != relayer.Hex() || r.Extra.AssetTransferMethod != "permit2" {
		t.Fatalf("upto requirement %+v %+v", r, r.Extra)
	}
	// A cap of 100 units, below chatBody's worst case (its exact quote).
	m = mustRunChainMain(t, uptoConfig(t, up.URL(), c, "0.0001", "100"), c)
	ch = mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	if q, _ := strconv.Atoi(ch.V2.Accepts[0].Amount); q <= 100 || len(ch.V2.Accepts) != 1 || ch.V2.Accepts[0].Scheme != "exact" {
		t.Fatalf("a request above the cap is offered %+v, want exact only", ch.V2.Accepts)
	}
}
