package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// 50 upto payments at once, from 50 payers: every one is served, and
// every one settles once, by its own transaction from the one relayer
// (nonces allocated one at a time: no two transactions collide), each
// payer paying exactly the metered cost.
func TestUpto_ConcurrentPaymentsSettleWithoutNonceCollision(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	relayer := crypto.PubkeyToAddress(c.relayerKey.PublicKey)
	nonceBefore, err := c.client.NonceAt(context.Background(), relayer, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	type payer struct {
		addr   common.Address
		header string
	}
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	payers := make([]payer, n)
	for i, key := range fundUptoPayers(t, c, n, 1_000_000) {
		payers[i] = payer{addr: crypto.PubkeyToAddress(key.PublicKey), header: signUpto(t, key, ch, req, uptoPermit(t, key, req, nil))}
	}
	payToBefore := c.balance(t, c.payTo)
	var wg sync.WaitGroup
	status := make([]int, n)
	for i := range payers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(chatBody))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set(x402.HeaderPaymentV2, payers[i].header)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				return
			}
			resp.Body.Close()
			status[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, s := range status {
		if s != http.StatusOK {
			t.Fatalf("payment %d answered %d", i, s)
		}
	}
	waitUptoSettled(t, m)
	txs := map[string]bool{}
	for _, a := range uptoAuthorizations(t, m) {
		if a.State != meter.UptoSettled || a.Amount != chatSettled || txs[a.TxHash] {
			t.Fatalf("authorization %d: %s, %s units, tx %s (seen: %v)", a.ID, a.State, a.Amount, a.TxHash, txs[a.TxHash])
		}
		txs[a.TxHash] = true
	}
	if len(txs) != n {
		t.Fatalf("%d settlement transactions, want %d", len(txs), n)
	}
	for _, p := range payers {
		if paid := 1_000_000 - c.balance(t, p.addr); paid != int64(chatSettled) {
			t.Fatalf("payer %s paid %d units, want %d", p.addr.Hex(), paid, chatSettled)
		}
	}
	if got := c.balance(t, c.payTo) - payToBefore; got != n*int64(chatSettled) {
		t.Fatalf("payTo received %d units, want %d", got, n*int64(chatSettled))
	}
	nonceAfter, err := c.client.NonceAt(context.Background(), relayer, nil)
	if err != nil || nonceAfter-nonceBefore != n {
		t.Fatalf("relayer sent %d transactions (%v), want %d", nonceAfter-nonceBefore, err, n)
	}
	mustVerifyLedger(t, m)
}

// One payer's 50 requests at once against a cap of what 3 of them may
// hold: exactly 3 are served (a claim is decided in the ledger's writer
// against everything claimed before it), the others are refused 429
// upto_limit_reached with Retry-After, and nothing served is left unpaid.
func TestUpto_ConcurrentRequestsOfOnePayerStayWithinItsCap(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	quote := chatQuote(t, c, up)
	// The served requests are held at the upstream until the others are
	// refused: all 50 are in flight together, however slow the machine.
	gate := make(chan struct{})
	up.mu.Lock()
	up.Gate = gate
	up.mu.Unlock()
	cfg := uptoConfig(t, up.URL(), c, (3 * quote).Amount().String(), "100") // three quotes exactly
	m := mustRunPausedUpto(t, cfg, c)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	key, payer := uptoPayer(t, c, 1_000_000)
	headers := make([]string, 50)
	for i := range headers {
		headers[i] = signUpto(t, key, ch, req, uptoPermit(t, key, req, nil))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	var retryAfter string
	refused := make(chan struct{}, len(headers))
	for _, h := range headers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(chatBody))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set(x402.HeaderPaymentV2, h)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				return
			}
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusOK {
				refused <- struct{}{}
			}
			mu.Lock()
			defer mu.Unlock()
			got[resp.StatusCode]++
			if resp.StatusCode == http.StatusTooManyRequests {
				if !bytes.Contains(body, []byte(meter.ECodeUptoLimitReached)) {
					t.Errorf("429 body %s", body)
				}
				retryAfter = resp.Header.Get("Retry-After")
			}
		}()
	}
	// Open the gate once 47 are refused, or after 20 s (more were served
	// than the cap allows: the check below says so).
	for n, timeout := 0, time.After(20*time.Second); n < len(headers)-3; n++ {
		select {
		case <-refused:
			continue
		case <-timeout:
		}
		break
	}
	close(gate)
	wg.Wait()
	if got[http.StatusOK] != 3 || got[http.StatusTooManyRequests] != 47 || retryAfter != "1" {
		t.Fatalf("answers %v (Retry-After %q), want 3 served and 47 refused", got, retryAfter)
	}
	if _, err := m.Upto.SettleDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if paid := 1_000_000 - c.balance(t, payer); paid != 3*int64(chatSettled) {
		t.Fatalf("the payer paid %d units, want %d", paid, 3*chatSettled)
	}
	mustVerifyLedger(t, m)
}

// mustRunPausedUpto runs paymeter on c with its upto settler stopped: the
// test settles, by m.Upto.SettleDue, when it chooses.
func mustRunPausedUpto(t *testing.T, cfg *Config, c *simChain) *Main {
	t.Helper()
	return MustRunMain(t, cfg, func(m *Main) {
		m.DialChain = uptoDial(c)
		m.PauseUpto = true
	})
}

// sharedBackend is a chain client that a Main does not close when it
// stops (it closes what it dials): the tests that stop and start paymeter
// on one chain keep theirs.
type sharedBackend struct{ chain.Backend }

func uptoDial(c *simChain) func(context.Context, string) (chain.Backend, error) {
	return func(context.Context, string) (chain.Backend, error) { return sharedBackend{c.client}, nil }
}

// startUpto runs paymeter on c, for a test that stops it itself (Close).
func startUpto(t *testing.T, cfg *Config, c *simChain, paused bool) *Main {
	t.Helper()
	m := NewMain(cfg, discardLogger())
	m.DialChain, m.PauseUpto = uptoDial(c), paused
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// fundUptoPayers makes n payers with units each and Permit2 approved, all
// sent at once (a block a second: one by one would take minutes).
func fundUptoPayers(t *testing.T, c *simChain, n int, units int64) []*ecdsa.PrivateKey {
	t.Helper()
	ctx := context.Background()
	nonce, err := c.client.PendingNonceAt(ctx, c.deployer.From)
	if err != nil {
		t.Fatal(err)
	}
	opts := func(gas uint64) *bind.TransactOpts {
		o := *c.deployer
		o.Nonce, o.GasLimit = new(big.Int).SetUint64(nonce), gas
		nonce++
		return &o
	}
	keys := make([]*ecdsa.PrivateKey, n)
	var txs []*types.Transaction
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
		from := crypto.PubkeyToAddress(keys[i].PublicKey)
		tx, err := c.token.Mint(opts(1_000_000), from, big.NewInt(units))
		if err != nil {
			t.Fatal(err)
		}
		p := contracts.ERC2612Permit{Owner: from, Spender: contracts.Permit2Address, Value: contracts.MaxUint256,
			Nonce: new(big.Int), Deadline: contracts.MaxUint256}
		sig, err := p.Sign(keys[i], "USDC", "2", 84532, c.tokenAddr)
		if err != nil {
			t.Fatal(err)
		}
		approve, err := c.token.Permit(opts(300_000), from, contracts.Permit2Address, contracts.MaxUint256, contracts.MaxUint256, sig)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx, approve)
	}
	for _, tx := range txs {
		c.mined(t, tx, nil)
	}
	return keys
}

// chatQuote is the upto quote of chatBody: its worst case, in atomic units.
func chatQuote(t *testing.T, c *simChain, up *fixtureUpstream) meter.USDC {
	t.Helper()
	m := startUpto(t, uptoConfig(t, up.URL(), c, "1", "100"), c, true)
	defer m.Close()
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	return meter.USDC(mustAtoi(t, uptoOffered(t, ch).Amount))
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || !v.IsInt64() {
		t.Fatalf("%q is not an integer", s)
	}
	return v.Int64()
}

// A payer served, who then revokes its Permit2 allowance: its settlements
// fail, it is refused (402 upto_settlement_failed) until they settle, and
// what it got away with never exceeds the per-payer cap. Once it approves
// Permit2 again, the retry settles and it is served again.
func TestUpto_RevokedAllowanceRefusedUntilSettled(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	quote := chatQuote(t, c, up)
	capUnits := 2 * quote // room for a running request's maximum and the served ones
	cfg := uptoConfig(t, up.URL(), c, capUnits.Amount().String(), "100")
	cfg.X402.Upto.RetryInterval = Duration(time.Millisecond) // each round retries what failed
	m := mustRunPausedUpto(t, cfg, c)
	key, payer := uptoPayer(t, c, 1_000_000)

	// Served until the cap: each served request leaves 34 units due, and a
	// new one needs room for its whole quote.
	served := 0
	for {
		resp := payUpto(t, m, key)
		body := readAll(t, resp)
		if resp.StatusCode == http.StatusTooManyRequests {
			break
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("payment %d: %d %s", served+1, resp.StatusCode, body)
		}
		served++
	}
	if want := int((capUnits - quote) / chatSettled); served != want+1 {
		t.Fatalf("served %d before the cap, want %d", served, want+1)
	}
	setPermit2Allowance(t, c, key, big.NewInt(0))
	if _, err := m.Upto.SettleDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	failed := 0
	var unpaid meter.USDC
	for _, a := range uptoAuthorizations(t, m) {
		if a.State != meter.UptoFailed || a.Reason != x402.ReasonPermit2Allowance {
			t.Fatalf("authorization %d is %s (%s), want failed for the allowance", a.ID, a.State, a.Reason)
		}
		failed++
		unpaid += a.Amount
	}
	if failed != served || unpaid > capUnits {
		t.Fatalf("%d failed for %s units, after %d served under a cap of %s", failed, unpaid, served, capUnits)
	}
	if paid := 1_000_000 - c.balance(t, payer); paid != 0 {
		t.Fatalf("the payer paid %d units with its allowance revoked", paid)
	}
	// Refused while a settlement of its is failed, even for a small request.
	mustError(t, payUpto(t, m, key), http.StatusPaymentRequired, meter.ECodeUptoSettlementFailed)
	fams := scrape(t, m)
	if v := metricValue(t, fams, "paymeter_upto_authorizations", map[string]string{"state": "failed"}); v != float64(served) {
		t.Fatalf("paymeter_upto_authorizations{failed} %v, want %d", v, served)
	}
	if v := metricValue(t, fams, "paymeter_upto_settle_failures_total", map[string]string{"reason": x402.ReasonPermit2Allowance}); v != float64(served) {
		t.Fatalf("failures %v, want %d", v, served)
	}

	// Approved again: the retry settles them, once each, and it is served.
	c.approvePermit2(t, key)
	time.Sleep(2 * time.Millisecond)
	if n, err := m.Upto.SettleDue(context.Background()); err != nil || n != served {
		t.Fatalf("settled %d (%v), want %d", n, err, served)
	}
	if paid := 1_000_000 - c.balance(t, payer); paid != int64(served)*int64(chatSettled) {
		t.Fatalf("the payer paid %d units, want %d", paid, int64(served)*int64(chatSettled))
	}
	if resp := payUpto(t, m, key); resp.StatusCode != http.StatusOK {
		t.Fatalf("after settling: %d %s", resp.StatusCode, readAll(t, resp))
	}
	mustVerifyLedger(t, m)
}

// The process stops after answering and before settling (its settler never
// ran); the next one settles what was served, exactly once: one transfer,
// one transaction, booked once, and a third start settles nothing more.
func TestUpto_CrashBetweenServingAndSettlingSettlesOnceAfterRestart(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	cfg := uptoConfig(t, up.URL(), c, "1", "100")
	m := startUpto(t, cfg, c, true)
	key, payer := uptoPayer(t, c, 1_000_000)
	if resp := payUpto(t, m, key); resp.StatusCode != http.StatusOK {
		t.Fatalf("payment: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if a := uptoAuthorizations(t, m); len(a) != 1 || a[0].State != meter.UptoDue {
		t.Fatalf("before the stop: %+v, want one due", a)
	}
	m.Close()
	if paid := 1_000_000 - c.balance(t, payer); paid != 0 {
		t.Fatalf("paid %d units before any settlement", paid)
	}

	for run := 2; run <= 3; run++ {
		m = startUpto(t, cfg, c, false)
		waitUptoSettled(t, m)
		auths := uptoAuthorizations(t, m)
		if len(auths) != 1 || auths[0].State != meter.UptoSettled || auths[0].Attempts != 1 {
			t.Fatalf("run %d: %+v, want one settled in one attempt", run, auths[0])
		}
		if paid := 1_000_000 - c.balance(t, payer); paid != int64(chatSettled) {
			t.Fatalf("run %d: the payer paid %d units, want %d once", run, paid, chatSettled)
		}
		entries, err := m.Ledger.FindEntries(context.Background(), meter.EntryFilter{AccountID: auths[0].AccountID})
		if err != nil || len(entries) != 2 {
			t.Fatalf("run %d: entries %v %+v, want a payment and a usage", run, err, entries)
		}
		mustVerifyLedger(t, m)
		m.Close()
	}
}

// A request whose upstream fails consumed nothing: its authorization is
// released and nothing is settled.
func TestUpto_UpstreamFailureSettlesNothing(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 1_000_000)
	up.mu.Lock()
	up.Status = http.StatusInternalServerError
	up.mu.Unlock()
	mustError(t, payUpto(t, m, key), http.StatusBadGateway, meter.ECodeUpstreamError)
	if a := uptoAuthorizations(t, m); len(a) != 1 || a[0].State != meter.UptoReleased {
		t.Fatalf("authorizations %+v, want one released", a)
	}
	time.Sleep(500 * time.Millisecond) // rounds of the settler pass
	if paid := 1_000_000 - c.balance(t, payer); paid != 0 {
		t.Fatalf("the payer paid %d units for a failed request", paid)
	}
	mustVerifyLedger(t, m)
}

// A stream paid with upto: the receipt goes out with the headers, before
// the cost is known (no amount); the cost is the X-Paymeter-Cost trailer,
// and exactly that is settled: 19 input and 8 output tokens, 0.0000215
// credits, 22 atomic units.
func TestUpto_StreamSettlesItsMeteredCost(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 1_000_000)
	body := `{"model":"demo-small","messages":[{"role":"user","content":"hello"}],"max_tokens":100,"stream":true}`
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", body), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	resp := postWith(t, m, "/v1/chat/completions", body, x402.HeaderPaymentV2, signUpto(t, key, ch, req, uptoPermit(t, key, req, nil)))
	stream := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(stream, []byte("data: [DONE]")) {
		t.Fatalf("stream: %d %s", resp.StatusCode, stream)
	}
	var receipt x402.UptoSettleResponse
	if raw, err := base64.StdEncoding.DecodeString(resp.Header.Get(x402.HeaderResponseV2)); err != nil || json.Unmarshal(raw, &receipt) != nil ||
		!receipt.Success || receipt.Amount != "" || receipt.Payer != payer.Hex() {
		t.Fatalf("PAYMENT-RESPONSE %q (%+v), want success without an amount yet", resp.Header.Get(x402.HeaderResponseV2), receipt)
	}
	if got := resp.Trailer.Get("X-Paymeter-Cost"); got != "0.000022" {
		t.Fatalf("X-Paymeter-Cost trailer %q, want 0.000022", got)
	}
	waitUptoSettled(t, m)
	if paid := 1_000_000 - c.balance(t, payer); paid != 22 {
		t.Fatalf("the payer paid %d units, want 22", paid)
	}
}
