package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/devchain"
)

// A payment the unmodified @x402/evm upto client made settles on the simulated chain through the
// upto proxy, for less than its maximum: the payer's balance falls by exactly the settled amount,
// once.
func TestInterop_UptoPayloadSettles(t *testing.T) {
	node := needNode(t)
	c := newSimChain(t)
	payerKey, _ := crypto.GenerateKey()
	payer := crypto.PubkeyToAddress(payerKey.PublicKey)
	c.mint(t, payer, 10_000_000)
	c.approvePermit2(t, payerKey)
	relayer := crypto.PubkeyToAddress(c.relayerKey.PublicKey)

	req := uptoRequirement(c.tokenAddr, c.payTo, 2_000_000, relayer)
	p := nodeUptoPayment(t, node, payerKey, c.tokenAddr, map[string]any{
		"x402Version": 2, "resource": map[string]any{"url": "http://paymeter.test/v1/chat/completions"},
		"accepts": []any{req},
	})
	if string(p.Payload.Resource) != `{"url":"http://paymeter.test/v1/chat/completions"}` || p.Payload.Extensions != nil {
		t.Fatalf("resource %s, extensions %s", p.Payload.Resource, p.Payload.Extensions)
	}
	permit, sig := checkUptoPayload(t, p, req, payer)

	proxy, err := contracts.NewTestUptoProxy(contracts.UptoProxyAddress, c.client)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := bind.NewKeyedTransactorWithChainID(c.relayerKey, big.NewInt(c.dev.ChainID))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := proxy.Settle(opts, permit.Permit(), big.NewInt(1_234_567), permit.Owner, permit.Witness(), sig)
	c.mined(t, tx, err)
	if got, want := [2]int64{c.balance(t, payer), c.balance(t, c.payTo)}, [2]int64{8_765_433, 1_234_567}; got != want {
		t.Fatalf("balances payer, payTo = %v, want %v", got, want)
	}
	_, err = proxy.Settle(opts, permit.Permit(), big.NewInt(1), permit.Owner, permit.Witness(), sig)
	if got := uptoRevert(err); got != "InvalidNonce" {
		t.Fatalf("the same payment again: %v (%q), want Permit2's InvalidNonce", err, got)
	}
	_, err = proxy.Settle(opts, permit.Permit(), big.NewInt(2_000_001), permit.Owner, permit.Witness(), sig)
	if got := uptoRevert(err); got != "AmountExceedsPermitted" {
		t.Fatalf("over the maximum: %v (%q), want AmountExceedsPermitted", err, got)
	}
	if got, want := [2]int64{c.balance(t, payer), c.balance(t, c.payTo)}, [2]int64{8_765_433, 1_234_567}; got != want {
		t.Fatalf("after the replay: balances payer, payTo = %v, want %v", got, want)
	}

	// A payer who revoked Permit2's allowance after signing cannot be settled: the token refuses.
	p = nodeUptoPayment(t, node, payerKey, c.tokenAddr, req)
	permit, sig = checkUptoPayload(t, p, req, payer)
	c.revokePermit2(t, payerKey)
	_, err = proxy.Settle(opts, permit.Permit(), big.NewInt(1), permit.Owner, permit.Witness(), sig)
	if got := uptoRevert(err); got != "TRANSFER_FROM_FAILED" {
		t.Fatalf("after revoking: %v (%q), want TRANSFER_FROM_FAILED", err, got)
	}
}

// The client refuses, with exit 1 and its reason, what it must not sign.
func TestInterop_UptoPayloadRefusals(t *testing.T) {
	node := needNode(t)
	token, payTo := common.HexToAddress("0x0000000000000000000000000000000000005dc0"), common.HexToAddress("0x00000000000000000000000000000000000Fee01")
	req := func(units int64, facilitator common.Address) map[string]any {
		return uptoRequirement(token, payTo, units, facilitator)
	}
	key, _ := crypto.GenerateKey()
	facilitator := common.HexToAddress("0x000000000000000000000000000000000000fac1")

	noFacilitator := req(1_000, facilitator)
	delete(noFacilitator["extra"].(map[string]any), "facilitatorAddress")
	exact := req(1_000, facilitator)
	exact["scheme"] = "exact"
	for _, tc := range []struct {
		name string
		req  any
		env  []string
		want string
	}{
		{"no facilitatorAddress", noFacilitator, nil, "upto scheme requires facilitatorAddress"},
		{"exact only", exact, nil, "No network/scheme registered"},
		{"over MAX_VALUE", req(1_001, facilitator), []string{"MAX_VALUE=1000"}, "spendControls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nodeUptoRefusal(t, node, key, token, tc.req, tc.env...); !strings.Contains(got, tc.want) {
				t.Fatalf("stderr %q, want %q", got, tc.want)
			}
		})
	}
	// Not the allowed asset: the default spend controls pay only canonical stablecoins.
	other, _ := crypto.GenerateKey()
	if got := nodeUptoRefusal(t, node, key, crypto.PubkeyToAddress(other.PublicKey), req(1_000, facilitator)); !strings.Contains(got, "spendControls") {
		t.Fatalf("another asset: stderr %q", got)
	}
}

// startNodeFacilitator runs testdata/interop/facilitator.mjs (the reference facilitator of
// @x402/core with @x402/evm's exact and upto schemes) against the JSON-RPC node rpcURL of chain
// chainID, relaying with key, and returns its base URL; it is stopped at the end of the test.
func startNodeFacilitator(t *testing.T, node, rpcURL string, chainID int64, key []byte) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "facilitator.mjs")
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), "RPC_URL="+rpcURL, "CHAIN_ID="+big.NewInt(chainID).String(), "RELAYER_KEY=0x"+hex.EncodeToString(key))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("facilitator.mjs printed no URL: %v", err)
	}
	return strings.TrimSpace(line)
}

// postFacilitator posts {x402Version: 2, paymentPayload, paymentRequirements} to the facilitator's
// path and decodes its JSON answer into out.
func postFacilitator(t *testing.T, url, path string, payload json.RawMessage, req map[string]any, out any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"x402Version": 2, "paymentPayload": payload, "paymentRequirements": req})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d %s", path, resp.StatusCode, readAll(t, resp))
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// @x402/evm's own upto facilitator, over viem, verifies and settles a payment of its own client on
// the demo chain's kind of chain (internal/devchain over HTTP): a third-party facilitator for the
// upto tests.
func TestInterop_UptoReferenceFacilitator(t *testing.T) {
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
	usdc, err := dev.DeployUSDCApproved(ctx, deployerKey, devchain.BaseSepoliaUSDC, map[common.Address]int64{payer: 10_000_000},
		[]*ecdsa.PrivateKey{payerKey})
	if err != nil {
		t.Fatal(err)
	}
	url := startNodeFacilitator(t, node, dev.RPCURL, dev.ChainID, crypto.FromECDSA(facKey))

	// /supported announces upto with the facilitator's address, which the payer must name.
	var supported struct {
		Kinds []struct {
			Scheme, Network string
			Extra           struct{ FacilitatorAddress string }
		}
	}
	resp, err := http.Get(url + "/supported")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&supported)
	resp.Body.Close()
	var announced string
	for _, k := range supported.Kinds {
		if k.Scheme == "upto" && k.Network == "eip155:84532" {
			announced = k.Extra.FacilitatorAddress
		}
	}
	if announced != facilitator.Hex() {
		t.Fatalf("/supported upto facilitatorAddress %q, want %s (%+v)", announced, facilitator.Hex(), supported.Kinds)
	}

	payTo := common.HexToAddress("0x00000000000000000000000000000000000Fee03")
	req := uptoRequirement(usdc.Address, payTo, 3_000_000, facilitator)
	p := nodeUptoPayment(t, node, payerKey, usdc.Address, req)
	checkUptoPayload(t, p, req, payer)

	var verified struct {
		IsValid       bool   `json:"isValid"`
		InvalidReason string `json:"invalidReason"`
		Payer         string `json:"payer"`
	}
	postFacilitator(t, url, "/verify", p.PaymentPayload, req, &verified)
	if !verified.IsValid || verified.Payer != payer.Hex() {
		t.Fatalf("/verify %+v, want valid for %s", verified, payer.Hex())
	}
	// At settlement the requirement's amount is the amount to settle.
	settleReq := uptoRequirement(usdc.Address, payTo, 1_234_567, facilitator)
	var settled struct {
		Success     bool   `json:"success"`
		ErrorReason string `json:"errorReason"`
		Transaction string `json:"transaction"`
		Amount      string `json:"amount"`
		Payer       string `json:"payer"`
	}
	postFacilitator(t, url, "/settle", p.PaymentPayload, settleReq, &settled)
	if !settled.Success || settled.Amount != "1234567" || settled.Payer != payer.Hex() {
		t.Fatalf("/settle %+v, want success for 1234567", settled)
	}
	checkSettledTx(t, ctx, dev.Client(), settled.Transaction, facilitator)
	balances := func() [2]int64 {
		var out [2]int64
		for i, a := range []common.Address{payer, payTo} {
			b, err := usdc.Balance(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = b.Int64()
		}
		return out
	}
	if got, want := balances(), [2]int64{8_765_433, 1_234_567}; got != want {
		t.Fatalf("balances payer, payTo = %v, want %v", got, want)
	}

	// The same payment again: refused, nothing moves.
	settled.Success, settled.ErrorReason = true, ""
	postFacilitator(t, url, "/settle", p.PaymentPayload, settleReq, &settled)
	if settled.Success {
		t.Fatalf("second /settle of one payment %+v, want a failure", settled)
	}
	t.Logf("second /settle: %q", settled.ErrorReason)
	if got, want := balances(), [2]int64{8_765_433, 1_234_567}; got != want {
		t.Fatalf("after the replay: balances payer, payTo = %v, want %v", got, want)
	}
}

// checkSettledTx checks that hash is a successful transaction from from to the upto proxy.
func checkSettledTx(t *testing.T, ctx context.Context, client *ethclient.Client, hash string, from common.Address) {
	t.Helper()
	rc, err := client.TransactionReceipt(ctx, common.HexToHash(hash))
	if err != nil || rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("settlement %s: %v %+v", hash, err, rc)
	}
	tx, _, err := client.TransactionByHash(ctx, common.HexToHash(hash))
	if err != nil {
		t.Fatal(err)
	}
	sender, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil || sender != from || tx.To() == nil || *tx.To() != contracts.UptoProxyAddress {
		t.Fatalf("settlement from %s (%v) to %v, want from %s to the upto proxy", sender, err, tx.To(), from)
	}
}

// The demo chain has Permit2 and the upto proxy, and its payer, holding no ether, approved Permit2
// in the first block, with its mint: the demo's wallet can pay upto at once.
func TestDemoChain_PayerApprovedPermit2(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := startDemoChain(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	client := d.Client()
	if head, err := client.BlockNumber(ctx); err != nil || head != 1 {
		t.Fatalf("head %d (%v), want 1: deployment, mint and approval in one block", head, err)
	}
	call := &bind.CallOpts{Context: ctx}
	if a, err := d.usdc.Allowance(call, d.payer, contracts.Permit2Address); err != nil || a.Cmp(contracts.MaxUint256) != 0 {
		t.Fatalf("payer's Permit2 allowance %v (%v), want max", a, err)
	}
	if wei, err := client.BalanceAt(ctx, d.payer, nil); err != nil || wei.Sign() != 0 {
		t.Fatalf("payer holds %v wei (%v), want none", wei, err)
	}
	permit2, err := contracts.NewTestPermit2(contracts.Permit2Address, client)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := permit2.DomainChainId(call); err != nil || id.Int64() != d.usdc.Domain.ChainID {
		t.Fatalf("Permit2's domain chain id %v (%v), want %d", id, err, d.usdc.Domain.ChainID)
	}
	for _, a := range []common.Address{contracts.Permit2Address, contracts.UptoProxyAddress} {
		if code, err := client.CodeAt(ctx, a, nil); err != nil || len(code) == 0 {
			t.Fatalf("no code at %s (%v)", a, err)
		}
	}
}
