package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/devchain"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// Hostile upto payments are refused before anything is claimed, forwarded
// or settled, each with a stable code and x402 reason, and the 402 they get
// carries the requirements again.
func TestUpto_HostilePaymentsRefusedWithAStableCode(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunPausedUpto(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 1_000_000)
	other, _ := crypto.GenerateKey()
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	cases := []struct {
		name   string
		edit   func(*x402.Permit2Authorization)
		signer bool // signed by another key, in the payer's name
		reason string
	}{
		{"wrong spender", func(a *x402.Permit2Authorization) { a.Spender = x402.Permit2Address }, false, x402.ReasonPermit2Spender},
		{"wrong witness.to", func(a *x402.Permit2Authorization) { a.To = payer }, false, x402.ReasonPermit2Recipient},
		{"wrong facilitator", func(a *x402.Permit2Authorization) { a.Facilitator = payer }, false, x402.ReasonUptoFacilitator},
		{"wrong token", func(a *x402.Permit2Authorization) { a.Token = common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e") }, false, x402.ReasonPermit2Token},
		{"amount above the quote", func(a *x402.Permit2Authorization) { a.Amount = new(big.Int).Add(a.Amount, big.NewInt(1)) }, false, x402.ReasonPermit2Amount},
		{"amount below the quote", func(a *x402.Permit2Authorization) { a.Amount = big.NewInt(1) }, false, x402.ReasonPermit2Amount},
		{"expired deadline", func(a *x402.Permit2Authorization) { a.Deadline = big.NewInt(time.Now().Unix() - 1) }, false, x402.ReasonPermit2Deadline},
		{"deadline too soon to settle", func(a *x402.Permit2Authorization) { a.Deadline = big.NewInt(time.Now().Unix() + 60) }, false, x402.ReasonPermit2Deadline},
		{"not yet valid", func(a *x402.Permit2Authorization) { a.ValidAfter = big.NewInt(time.Now().Unix() + 60) }, false, x402.ReasonPermit2NotYetValid},
		{"another signer", nil, true, x402.ReasonPermit2Signature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := uptoPermit(t, key, req, tc.edit)
			signer := key
			if tc.signer {
				signer = other
			}
			resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, signUpto(t, signer, ch, req, a))
			e := mustChallenge(t, resp, meter.ECodeInvalidPayment)
			if got := e.V1.Error.Details["reason"]; got != tc.reason {
				t.Fatalf("reason %v, want %s", got, tc.reason)
			}
			if len(e.V2.Accepts) != 2 {
				t.Fatalf("the refusal's 402 offers %d requirements, want exact and upto", len(e.V2.Accepts))
			}
		})
	}
	t.Run("accepted requirement edited", func(t *testing.T) {
		edited := req
		edited.PayTo = payer.Hex()
		resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, signUpto(t, key, ch, edited, uptoPermit(t, key, req, nil)))
		if got := mustChallenge(t, resp, meter.ECodeInvalidPayment).V1.Error.Details["reason"]; got != x402.ReasonInvalidRequirements {
			t.Fatalf("reason %v, want %s", got, x402.ReasonInvalidRequirements)
		}
	})
	t.Run("replayed nonce", func(t *testing.T) {
		h := signUpto(t, key, ch, req, uptoPermit(t, key, req, nil))
		if resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, h); resp.StatusCode != http.StatusOK {
			t.Fatalf("first use: %d %s", resp.StatusCode, readAll(t, resp))
		}
		mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, h), http.StatusConflict, meter.ECodePaymentUsed)
	})
	if n := len(up.seen()); n != 1 {
		t.Fatalf("the upstream saw %d requests, want only the one paid", n)
	}
	if a := uptoAuthorizations(t, m); len(a) != 1 {
		t.Fatalf("%d authorizations claimed, want only the one paid", len(a))
	}
}

// A payer whose funds on chain do not cover what it would owe is refused
// before it is served: no Permit2 allowance, or too small a balance.
func TestUpto_PayerWithoutFundsRefused(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunPausedUpto(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)

	unapproved, _ := crypto.GenerateKey()
	c.mint(t, crypto.PubkeyToAddress(unapproved.PublicKey), 1_000_000)
	poor, _ := uptoPayer(t, c, 10) // 10 units, the quote is more
	for _, tc := range []struct {
		name   string
		key    *ecdsa.PrivateKey
		reason string
	}{{"no allowance", unapproved, x402.ReasonPermit2Allowance}, {"no balance", poor, x402.ReasonPermit2Balance}} {
		t.Run(tc.name, func(t *testing.T) {
			h := signUpto(t, tc.key, ch, req, uptoPermit(t, tc.key, req, nil))
			e := mustChallenge(t, postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, h), meter.ECodeInvalidPayment)
			if got := e.V1.Error.Details["reason"]; got != tc.reason {
				t.Fatalf("reason %v, want %s", got, tc.reason)
			}
		})
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("the upstream saw %d requests, want none", n)
	}
}

// `paymeter ledger reconcile` checks every settled upto authorization on
// chain: an honest one passes, and one recorded as settled by a
// transaction that did not transfer its amount is reported BAD.
func TestUpto_ReconcileChecksEverySettlement(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	cfg := uptoConfig(t, up.URL(), c, "1", "100")
	m := mustRunPausedUpto(t, cfg, c)
	ctx := context.Background()
	key, payer := uptoPayer(t, c, 1_000_000)
	for range 2 {
		if resp := payUpto(t, m, key); resp.StatusCode != http.StatusOK {
			t.Fatalf("payment: %d %s", resp.StatusCode, readAll(t, resp))
		}
	}
	if n, err := m.Upto.SettleDue(ctx); err != nil || n != 2 {
		t.Fatalf("settled %d (%v), want 2", n, err)
	}
	// A third booked as settled by a transaction that moved nothing of it
	// (a mint to the payer).
	tx, err := c.token.Mint(c.deployer, payer, big.NewInt(1))
	c.mined(t, tx, err)
	forged := claimSettledUpto(t, m, key, tx.Hash().Hex())

	file := filepath.Join(t.TempDir(), "paymeter.yaml")
	yaml := fmt.Sprintf("database: %s\nx402:\n  networks:\n    - {name: base-sepolia, asset: %q, token_name: USDC, token_version: \"2\", pay_to: %q, settlement: chain, rpc_url: \"simulated://\"}\n",
		cfg.Database, c.tokenAddr.Hex(), c.payTo.Hex())
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = runReconcile(ctx, &dbFlags{config: file}, &out, uptoDial(c))
	report := out.String()
	if err == nil || !strings.Contains(report, fmt.Sprintf("BAD upto %d ", forged)) || strings.Count(report, "BAD ") != 1 ||
		!strings.Contains(report, "3 settled upto authorizations checked on chain, 1 without their transfer") {
		t.Fatalf("reconcile (%v):\n%s\nwant upto %d alone BAD, of 3 checked", err, report, forged)
	}
}

// claimSettledUpto books an upto authorization of key's as settled by
// txHash, straight in the ledger, as a settler that believed a wrong
// transaction would: reconcile must catch it.
func claimSettledUpto(t *testing.T, m *Main, key *ecdsa.PrivateKey, txHash string) int64 {
	t.Helper()
	ctx := context.Background()
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	p, err := x402.DecodeUpto(signUpto(t, key, ch, req, uptoPermit(t, key, req, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a := &meter.UptoAuthorization{Key: p.Key(), Network: "base-sepolia", Token: p.Permit.Token.Hex(), Payer: p.Permit.From.Hex(),
		Max: meter.USDC(p.Permit.Amount.Int64()), Deadline: time.Unix(p.Permit.Deadline.Int64(), 0), Payload: p.JSON, Requirement: []byte(`{}`)}
	lim := meter.UptoLimits{PerPayer: 1e9, Total: 1e9, Balance: 1e9, Allowance: 1e9}
	if err := m.Ledger.ClaimUpto(ctx, a, lim); err != nil {
		t.Fatal(err)
	}
	if err := m.Ledger.CaptureUpto(ctx, a.ID, meter.Charge{Cost: chatCost}, chatSettled); err != nil {
		t.Fatal(err)
	}
	if err := m.Ledger.SettleUpto(ctx, a.ID, txHash); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// Settled by a facilitator: @x402/evm's own upto facilitator (over viem,
// testdata/interop/facilitator.mjs) on a chain served over HTTP. paymeter
// learns the facilitator's address from its /supported, offers it in the
// 402, and sends /settle the permit with the metered amount; the
// facilitator's "settled" is confirmed on chain before it counts.
func TestUpto_FacilitatorSettlesTheMeteredCost(t *testing.T) {
	node := needNode(t)
	deployerKey, deployer := devchain.NewKey()
	facKey, facilitator := devchain.NewKey()
	payerKey, payer := devchain.NewKey()
	dev, err := devchain.Start(devchain.Config{RPC: "127.0.0.1:0", ChainID: 1337, Permit2ChainID: 84532, Alloc: types.GenesisAlloc{
		deployer: {Balance: devchain.Ether(10)}, facilitator: {Balance: devchain.Ether(10)}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	usdc, err := dev.DeployUSDCApproved(ctx, deployerKey, devchain.BaseSepoliaUSDC, map[common.Address]int64{payer: 1_000_000},
		[]*ecdsa.PrivateKey{payerKey})
	if err != nil {
		t.Fatal(err)
	}
	facURL := startNodeFacilitator(t, node, dev.RPCURL, dev.ChainID, crypto.FromECDSA(facKey))
	payTo := common.HexToAddress("0x00000000000000000000000000000000000Fee04")

	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.X402.Facilitator.URL = facURL
	cfg.X402.Networks = []NetworkConfig{{Name: "base-sepolia", Asset: usdc.Address.Hex(), TokenName: "USDC", TokenVersion: "2",
		PayTo: payTo.Hex(), Settlement: "facilitator", RPCURL: dev.RPCURL}}
	u := &cfg.X402.Upto
	u.Enabled, u.MinAmount, u.BatchInterval = true, uptoMinUnits.Amount(), Duration(200*time.Millisecond)
	m := MustRunMain(t, cfg)

	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	if req.Extra.FacilitatorAddress != facilitator.Hex() {
		t.Fatalf("facilitatorAddress %s, want the facilitator's %s", req.Extra.FacilitatorAddress, facilitator.Hex())
	}
	h := signUpto(t, payerKey, ch, req, uptoPermit(t, payerKey, req, nil))
	if resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, h); resp.StatusCode != http.StatusOK {
		t.Fatalf("payment: %d %s", resp.StatusCode, readAll(t, resp))
	}
	waitUptoSettled(t, m)
	auths := uptoAuthorizations(t, m)
	if len(auths) != 1 || auths[0].State != meter.UptoSettled || auths[0].Amount != chatSettled {
		t.Fatalf("authorizations %+v", auths)
	}
	checkSettledTx(t, ctx, dev.Client(), auths[0].TxHash, facilitator)
	for a, want := range map[common.Address]int64{payer: 1_000_000 - int64(chatSettled), payTo: int64(chatSettled)} {
		if b, err := usdc.Balance(ctx, a); err != nil || b.Int64() != want {
			t.Fatalf("%s holds %v (%v), want %d", a.Hex(), b, err, want)
		}
	}
	mustVerifyLedger(t, m)
}
