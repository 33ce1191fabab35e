package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/x402"
)

// spendNonce signs {from: key, to, value, nonce} and has the deployer
// submit it on chain, as anyone may: the nonce is then used, by a
// transfer that did not pay payTo.
func (c *simChain) spendNonce(t *testing.T, key *ecdsa.PrivateKey, to common.Address, value int64, nonce [32]byte) *types.Receipt {
	t.Helper()
	n := c.network()
	a := x402.NewAuthorization(key, n, value, time.Now(), time.Minute)
	a.To, a.Nonce = to, nonce
	sig, err := x402.Sign(key, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	var rr, ss [32]byte
	copy(rr[:], sig[:32])
	copy(ss[:], sig[32:64])
	tx, err := c.token.TransferWithAuthorization0(c.deployer, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, sig[64], rr, ss)
	return c.mined(t, tx, err)
}

// signNonce signs a v1 payment of units to payTo with a chosen nonce.
func (c *simChain) signNonce(t *testing.T, key *ecdsa.PrivateKey, units int64, nonce [32]byte) string {
	t.Helper()
	n := c.network()
	a := x402.NewAuthorization(key, n, units, time.Now(), time.Minute)
	a.Nonce = nonce
	sig, err := x402.Sign(key, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	return x402.EncodePaymentV1(n, &a, sig)
}

// newPayer is a fresh payer key holding units of c's token, and the
// top-up body that names its wallet.
func (c *simChain) newPayer(t *testing.T, units int64) (key *ecdsa.PrivateKey, payer common.Address, named string) {
	t.Helper()
	key, _ = crypto.GenerateKey()
	payer = crypto.PubkeyToAddress(key.PublicKey)
	c.mint(t, payer, units)
	return key, payer, fmt.Sprintf(`{"walletAddress":%q}`, payer.Hex())
}

// C1 (docs/security.md): a used nonce is no proof of payment. The payer
// spends nonce N on a worthless transfer (0 to itself, or 1 unit to
// payTo), then pays a top-up and a request with nonce N: the transfer
// simulation reverts, and the chain's "used" must not be taken for this
// payment's transfer to payTo.
func TestChain_SpentNonceIsNoProofOfPayment(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, chainConfig(t, up.URL(), c), c)
	payerKey, payer, named := c.newPayer(t, 100_000_000)

	cases := []struct {
		name  string
		to    common.Address
		value int64
	}{
		{"zero to itself", payer, 0},
		{"one unit to payTo", c.payTo, 1},
		{"full value to someone else", common.HexToAddress("0x000000000000000000000000000000000000bEEF"), 10_000_000},
	}
	spent := int64(0)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var nonce [32]byte
			copy(nonce[:], crypto.Keccak256([]byte(tc.name)))
			c.spendNonce(t, payerKey, tc.to, tc.value, nonce)
			if tc.to == c.payTo {
				spent += tc.value
			}

			// A top-up of 10 credits with the spent nonce.
			resp := postWith(t, m, "/api/v1/topup/10", named, x402.HeaderPaymentV1, c.signNonce(t, payerKey, 10_000_000, nonce))
			if body := readAll(t, resp); resp.StatusCode == http.StatusOK {
				t.Fatalf("top-up with a nonce spent elsewhere was credited: %s", body)
			}
			if w := walletOf(t, m, payer); w != nil && w.Balance != 0 {
				t.Fatalf("wallet %+v credited from a spent nonce", w)
			}
		})
	}
	// A request paid with a spent nonce is not served either.
	var nonce [32]byte
	copy(nonce[:], crypto.Keccak256([]byte("request")))
	c.spendNonce(t, payerKey, payer, 0, nonce)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	units, _ := new(big.Int).SetString(ch.V1.Accepts[0].MaxAmountRequired, 10)
	resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV1, c.signNonce(t, payerKey, units.Int64(), nonce))
	if body := readAll(t, resp); resp.StatusCode == http.StatusOK {
		t.Fatalf("request paid with a spent nonce was served: %s", body)
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("upstream saw %d requests, want none", n)
	}
	if w := walletOf(t, m, payer); w != nil && w.Balance != 0 {
		t.Fatalf("wallet %+v credited from a spent nonce", w)
	}
	if got := c.balance(t, c.payTo); got != spent {
		t.Fatalf("payTo holds %d, want only the %d the worthless transfers sent", got, spent)
	}
	mustVerify(t, m)
}

// `paymeter ledger reconcile` finds a credit whose transaction did not pay
// payTo: here the credit today's main booked for the exploit above (a top-up
// "settled" by the worthless transaction that spent its nonce), written as
// it wrote it, beside a top-up that really paid.
func TestReconcile_ReportsCreditWithoutTransfer(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testReconcileReportsCreditWithoutTransfer(t, "") })
	t.Run("postgres", func(t *testing.T) { testReconcileReportsCreditWithoutTransfer(t, pgtest.DSN(t)) })
}

// testReconcileReportsCreditWithoutTransfer runs on database, or on the
// test's SQLite file for "".
func testReconcileReportsCreditWithoutTransfer(t *testing.T, database string) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	cfg := chainConfig(t, up.URL(), c)
	if database != "" {
		cfg.Database = database
	}
	m := mustRunChainMain(t, cfg, c)
	ctx := context.Background()
	payerKey, payer, named := c.newPayer(t, 20_000_000)
	dial := func(context.Context, string) (chain.Backend, error) { return c.client, nil }

	h, _ := c.signFor(t, payerKey, 10_000_000)
	if resp := postWith(t, m, "/api/v1/topup/10", named, x402.HeaderPaymentV1, h); resp.StatusCode != http.StatusOK {
		t.Fatalf("top-up: %d %s", resp.StatusCode, readAll(t, resp))
	}
	var out bytes.Buffer
	tally, err := reconcile(ctx, cfg, m.Ledger, dial, &out)
	if err != nil || tally.checked != 1 || tally.bad != 0 {
		t.Fatalf("reconcile of an honest ledger: %+v %v\n%s", tally, err, out.String())
	}

	// The exploit's credit: nonce N spent by {to: payer, value: 0}, then a
	// top-up with nonce N credited on the strength of that transaction.
	var nonce [32]byte
	copy(nonce[:], crypto.Keccak256([]byte("forged")))
	rc := c.spendNonce(t, payerKey, payer, 0, nonce)
	n := c.network()
	p, err := x402.DecodePayment(1, c.signNonce(t, payerKey, 10_000_000, nonce))
	if err != nil {
		t.Fatal(err)
	}
	ch := &x402.Challenge{Amount: 10_000_000, Networks: []*x402.Network{n}}
	forged := &meter.Payment{Key: p.Key(n.Asset), Network: n.Name, Payer: payer.Hex(), Wallet: payer.Hex(),
		Amount: 10_000_000, Purpose: meter.PurposeTopup, Payload: p.JSON, Requirement: ch.RequirementJSON(1, n)}
	if err := m.Ledger.ClaimPayment(ctx, forged); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Ledger.SettlePayment(ctx, forged.ID, rc.TxHash.Hex()); err != nil {
		t.Fatal(err)
	}

	// Through the command, as an operator runs it, on the config file.
	file := filepath.Join(t.TempDir(), "paymeter.yaml")
	yaml := fmt.Sprintf("database: %s\nx402:\n  networks:\n    - {name: base-sepolia, asset: %q, token_name: USDC, token_version: \"2\", pay_to: %q, settlement: chain, rpc_url: \"simulated://\"}\n",
		cfg.Database, c.tokenAddr.Hex(), c.payTo.Hex())
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = runReconcile(ctx, &dbFlags{config: file}, &out, dial)
	if err == nil {
		t.Fatalf("reconcile passed a credit without its transfer:\n%s", out.String())
	}
	report := out.String()
	if !strings.Contains(report, fmt.Sprintf("BAD payment %d ", forged.ID)) || strings.Count(report, "BAD ") != 1 ||
		!strings.Contains(report, "2 credited payments checked") {
		t.Fatalf("reconcile report:\n%s\nwant payment %d alone reported BAD, of 2 checked", report, forged.ID)
	}
}

// cancelNonce cancels the payer's nonce on chain (EIP-3009 cancelAuthorization).
func (c *simChain) cancelNonce(t *testing.T, key *ecdsa.PrivateKey, nonce [32]byte) {
	t.Helper()
	domain, err := c.token.DOMAINSEPARATOR(&bind.CallOpts{})
	if err != nil {
		t.Fatal(err)
	}
	authorizer := crypto.PubkeyToAddress(key.PublicKey)
	typeHash := crypto.Keccak256([]byte("CancelAuthorization(address authorizer,bytes32 nonce)"))
	structHash := crypto.Keccak256(typeHash, common.LeftPadBytes(authorizer.Bytes(), 32), nonce[:])
	digest := crypto.Keccak256([]byte{0x19, 0x01}, domain[:], structHash)
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	tx, err := c.token.CancelAuthorization(c.deployer, authorizer, nonce, sig)
	c.mined(t, tx, err)
}

// A payment whose nonce its payer canceled on chain fails at once, with
// that reason, instead of waiting for a transfer that can never come.
func TestChain_CanceledAuthorizationFails(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, chainConfig(t, up.URL(), c), c)
	payerKey, payer, named := c.newPayer(t, 20_000_000)
	var nonce [32]byte
	copy(nonce[:], crypto.Keccak256([]byte("canceled")))
	c.cancelNonce(t, payerKey, nonce)
	e := mustChallenge(t, postWith(t, m, "/api/v1/topup/10", named, x402.HeaderPaymentV1, c.signNonce(t, payerKey, 10_000_000, nonce)),
		meter.ECodeInvalidPayment)
	if got := e.V1.Error.Details["reason"]; got != x402.ReasonAuthorizationCanceled {
		t.Fatalf("reason %v, want %s", got, x402.ReasonAuthorizationCanceled)
	}
	open, err := m.Ledger.OpenPayments(context.Background(), time.Now().Add(time.Minute))
	if err != nil || len(open) != 0 {
		t.Fatalf("open payments %v %v: a canceled authorization must not stay pending", open, err)
	}
	if w := walletOf(t, m, payer); w != nil && w.Balance != 0 {
		t.Fatalf("wallet %+v credited for a canceled authorization", w)
	}
	mustVerify(t, m)
}

// A facilitator's "settled" is no proof either where paymeter can read the
// chain: the transaction it names must hold this payment's transfer to
// payTo. The facilitator here answers /verify yes and /settle with
// whatever transaction the case gives, or settles for real.
func TestChain_FacilitatorSettlementConfirmedOnChain(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	relayer := &chain.Relayer{Backend: c.client, Key: c.relayerKey, PollInterval: 10 * time.Millisecond}
	var claim atomic.Value // the transaction /settle names; "" settles for real
	fac := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PaymentPayload json.RawMessage `json:"paymentPayload"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/verify" {
			w.Write([]byte(`{"isValid":true}`))
			return
		}
		tx := claim.Load().(string)
		if tx == "" {
			p, err := x402.DecodePaymentJSON(req.PaymentPayload)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			res, err := relayer.Settle(r.Context(), &x402.Settlement{Payment: p, Network: c.network()})
			if err != nil || res.Outcome != x402.Settled {
				http.Error(w, fmt.Sprint(res, err), http.StatusInternalServerError)
				return
			}
			tx = res.TxHash
		}
		json.NewEncoder(w).Encode(x402.SettleResponse{Success: true, Transaction: tx, Network: "base-sepolia"})
	}))
	t.Cleanup(fac.Close)
	cfg := chainConfig(t, up.URL(), c)
	cfg.X402.Networks[0].Settlement = "facilitator"
	cfg.X402.Facilitator.URL = fac.URL
	m := mustRunChainMain(t, cfg, c)
	payerKey, payer, named := c.newPayer(t, 30_000_000)

	// The transaction that spent another nonce of the payer's on 0 to itself.
	var other [32]byte
	copy(other[:], crypto.Keccak256([]byte("other")))
	worthless := c.spendNonce(t, payerKey, payer, 0, other).TxHash.Hex()
	for _, tc := range []struct {
		name, tx string
		status   int
		code     string
	}{
		{"a transaction that paid nothing", worthless, http.StatusPaymentRequired, meter.ECodeInvalidPayment},
		{"a transaction that does not exist", "0x" + strings.Repeat("ab", 32), http.StatusPaymentRequired, meter.ECodePaymentPending},
		{"not a transaction hash", "settled!", http.StatusPaymentRequired, meter.ECodeInvalidPayment},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claim.Store(tc.tx)
			h, _ := c.signFor(t, payerKey, 10_000_000)
			resp := postWith(t, m, "/api/v1/topup/10", named, x402.HeaderPaymentV1, h)
			mustError(t, resp, tc.status, tc.code)
			if w := walletOf(t, m, payer); w != nil && w.Balance != 0 {
				t.Fatalf("wallet %+v credited on the facilitator's word", w)
			}
		})
	}
	claim.Store("")
	h, _ := c.signFor(t, payerKey, 10_000_000)
	if resp := postWith(t, m, "/api/v1/topup/10", named, x402.HeaderPaymentV1, h); resp.StatusCode != http.StatusOK {
		t.Fatalf("an honest facilitator's settlement: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if w := walletOf(t, m, payer); w == nil || w.Balance != 10*meter.Credit {
		t.Fatalf("wallet %+v after one real top-up of 10", w)
	}
	mustVerify(t, m)
}
