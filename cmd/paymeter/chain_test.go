package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
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
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/devchain"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// simChain is a local chain (internal/devchain: go-ethereum's block chain
// and block builder in memory, sealing as transactions arrive) under the simulated
// backend's chain id 1337, with the test token deployed under Base Sepolia
// USDC's EIP-712 domain ("USDC", "2", 84532): payments signed for
// base-sepolia settle on it although the chain's own id differs. Permit2
// (its domain's chain id 84532 too) and the x402 upto proxy are at their
// canonical addresses (contracts.Permit2Address, contracts.UptoProxyAddress).
type simChain struct {
	dev        *devchain.Chain
	client     *ethclient.Client
	relayerKey *ecdsa.PrivateKey
	deployer   *bind.TransactOpts
	usdc       *devchain.USDC
	token      *contracts.TestUSDC
	tokenAddr  common.Address
	payTo      common.Address
}

func newSimChain(t *testing.T) *simChain {
	t.Helper()
	relayerKey, relayer := devchain.NewKey()
	deployerKey, deployer := devchain.NewKey()
	dev, err := devchain.Start(devchain.Config{ChainID: 1337, Permit2ChainID: 84532, Alloc: types.GenesisAlloc{
		relayer: {Balance: devchain.Ether(1_000_000)}, deployer: {Balance: devchain.Ether(1_000_000)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	c := &simChain{dev: dev, client: dev.Client(), relayerKey: relayerKey, payTo: common.HexToAddress("0x00000000000000000000000000000000000Fee01")}
	if c.deployer, err = bind.NewKeyedTransactorWithChainID(deployerKey, big.NewInt(dev.ChainID)); err != nil {
		t.Fatal(err)
	}
	usdc, err := dev.DeployUSDC(context.Background(), deployerKey, devchain.BaseSepoliaUSDC, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.usdc, c.token, c.tokenAddr = usdc, usdc.TestUSDC, usdc.Address
	return c
}

// approvePermit2 gives Permit2 key's whole allowance of the token, as an
// x402 upto payer must, by an EIP-2612 permit the deployer submits.
func (c *simChain) approvePermit2(t *testing.T, key *ecdsa.PrivateKey) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.usdc.ApprovePermit2(ctx, key); err != nil {
		t.Fatal(err)
	}
}

// revokePermit2 sets Permit2's allowance of key's tokens back to zero, as a
// payer who stops its upto payments would, by the same kind of permit.
func (c *simChain) revokePermit2(t *testing.T, key *ecdsa.PrivateKey) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.usdc.SetPermit2Allowance(ctx, key, new(big.Int)); err != nil {
		t.Fatal(err)
	}
}

// mined waits for tx and fails unless it succeeded.
func (c *simChain) mined(t *testing.T, tx *types.Transaction, err error) *types.Receipt {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := bind.WaitMined(ctx, c.client, tx)
	if err != nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("tx %s: %v (status %v)", tx.Hash().Hex(), err, r)
	}
	return r
}

func (c *simChain) mint(t *testing.T, to common.Address, units int64) {
	t.Helper()
	tx, err := c.token.Mint(c.deployer, to, big.NewInt(units))
	c.mined(t, tx, err)
}

func (c *simChain) balance(t *testing.T, a common.Address) int64 {
	t.Helper()
	b, err := c.token.BalanceOf(&bind.CallOpts{}, a)
	if err != nil {
		t.Fatal(err)
	}
	return b.Int64()
}

func (c *simChain) network() *x402.Network {
	return &x402.Network{Name: "base-sepolia", ChainID: 84532, Asset: c.tokenAddr, TokenName: "USDC", TokenVersion: "2", PayTo: c.payTo}
}

// chainConfig runs paymeter with chain settlement on c.
func chainConfig(t *testing.T, upstreamURL string, c *simChain) *Config {
	cfg := testConfig(t, upstreamURL)
	cfg.X402.RelayerKey = hex.EncodeToString(crypto.FromECDSA(c.relayerKey))
	cfg.X402.SettleTimeout = Duration(20 * time.Second)
	cfg.X402.Networks = []NetworkConfig{{Name: "base-sepolia", Asset: c.tokenAddr.Hex(), TokenName: "USDC", TokenVersion: "2",
		PayTo: c.payTo.Hex(), Settlement: "chain", RPCURL: "simulated://"}}
	return cfg
}

func mustRunChainMain(t *testing.T, cfg *Config, c *simChain) *Main {
	t.Helper()
	return MustRunMain(t, cfg, func(m *Main) {
		m.DialChain = func(context.Context, string) (chain.Backend, error) { return c.client, nil }
	})
}

// signFor signs a v1 payment of units for c's token.
func (c *simChain) signFor(t *testing.T, key *ecdsa.PrivateKey, units int64) (string, x402.Authorization) {
	t.Helper()
	n := c.network()
	a := x402.NewAuthorization(key, n, units, time.Now(), 60*time.Second)
	sig, err := x402.Sign(key, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	return x402.EncodePaymentV1(n, &a, sig), a
}

func TestChain_PaidRequestsSettleOnChain(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, chainConfig(t, up.URL(), c), c)
	payerKey, _ := crypto.GenerateKey()
	payer := crypto.PubkeyToAddress(payerKey.PublicKey)
	c.mint(t, payer, 10_000_000)

	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	if ch.V1.Accepts[0].Asset != c.tokenAddr.Hex() {
		t.Fatalf("asset %s", ch.V1.Accepts[0].Asset)
	}
	var quote int64
	fmt.Sscan(ch.V1.Accepts[0].MaxAmountRequired, &quote)

	// One paid request: the tokens move on chain before the upstream is called.
	h, _ := c.signFor(t, payerKey, quote)
	resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV1, h)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("paid request: %d %s", resp.StatusCode, body)
	}
	receipt, err := x402.DecodeReceipt(resp.Header.Get(x402.HeaderResponseV1))
	if err != nil || !receipt.Success {
		t.Fatalf("receipt %+v %v", receipt, err)
	}
	rc, err := c.client.TransactionReceipt(context.Background(), common.HexToHash(receipt.Transaction))
	if err != nil || rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("settlement tx %s: %v %+v", receipt.Transaction, err, rc)
	}
	if got := c.balance(t, c.payTo); got != quote {
		t.Fatalf("payTo holds %d, want %d", got, quote)
	}

	// The same authorization again is refused locally: no second transaction.
	mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV1, h), http.StatusConflict, meter.ECodePaymentUsed)

	// 50 concurrent settlements from one relayer: no nonce collides.
	headers := make([]string, 50)
	for i := range headers {
		headers[i], _ = c.signFor(t, payerKey, quote)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
		txs    = map[string]bool{}
	)
	for _, h := range headers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", stringsReader(chatBody))
			req.Header.Set(x402.HeaderPaymentV1, h)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			body := readAll(t, resp)
			mu.Lock()
			defer mu.Unlock()
			if resp.StatusCode != http.StatusOK {
				failed = append(failed, fmt.Sprintf("%d %s", resp.StatusCode, body))
				return
			}
			r, _ := x402.DecodeReceipt(resp.Header.Get(x402.HeaderResponseV1))
			txs[r.Transaction] = true
		}()
	}
	wg.Wait()
	if len(failed) > 0 || len(txs) != 50 {
		t.Fatalf("%d failed (%v), %d distinct transactions", len(failed), failed, len(txs))
	}
	if got := c.balance(t, c.payTo); got != 51*quote {
		t.Fatalf("payTo holds %d, want %d", got, 51*quote)
	}
	if got := c.balance(t, payer); got != 10_000_000-51*quote {
		t.Fatalf("payer holds %d, want %d", got, 10_000_000-51*quote)
	}
	nonce, err := c.client.NonceAt(context.Background(), crypto.PubkeyToAddress(c.relayerKey.PublicKey), nil)
	if err != nil || nonce != 51 {
		t.Fatalf("relayer sent %d transactions (%v), want 51", nonce, err)
	}
	// Every payment left its change on the payer's wallet.
	w := walletOf(t, m, payer)
	if w == nil || w.Balance <= 0 || w.Balance >= meter.USDC(51*quote).Amount() {
		t.Fatalf("payer's wallet %+v", w)
	}
	mustVerify(t, m)
}

func TestChain_TopupAndRefusals(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, chainConfig(t, up.URL(), c), c)
	payerKey, _ := crypto.GenerateKey()
	payer := crypto.PubkeyToAddress(payerKey.PublicKey)
	c.mint(t, payer, 15_000_000)
	named := fmt.Sprintf(`{"walletAddress":%q}`, payer.Hex())

	h, _ := c.signFor(t, payerKey, 10_000_000)
	resp := postWith(t, m, "/api/v1/topup/10", named, x402.HeaderPaymentV1, h)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("top-up: %d %s", resp.StatusCode, body)
	}
	if got := c.balance(t, c.payTo); got != 10_000_000 {
		t.Fatalf("payTo holds %d after the top-up", got)
	}
	if w := walletOf(t, m, payer); w.Balance != 10*meter.Credit {
		t.Fatalf("wallet %+v after a top-up of 10", w)
	}

	// More than the payer holds: the simulation reverts, nothing is sent or credited.
	h, _ = c.signFor(t, payerKey, 50_000_000)
	e := mustChallenge(t, postWith(t, m, "/api/v1/topup/50", named, x402.HeaderPaymentV1, h), meter.ECodeInvalidPayment)
	if e.V1.Error.Details["reason"] != x402.ReasonInsufficientFunds {
		t.Fatalf("overdraft reason %v", e.V1.Error.Details["reason"])
	}
	if w := walletOf(t, m, payer); w.Balance != 10*meter.Credit {
		t.Fatalf("wallet %+v after a failed top-up", w)
	}
	mustVerify(t, m)
}

// A reused authorization forced on chain reverts, the relayer reports why,
// and a settlement that meets it still finds the payment settled.
func TestChain_ForcedReplayRevertsAndIsReported(t *testing.T) {
	c := newSimChain(t)
	payerKey, _ := crypto.GenerateKey()
	payer := crypto.PubkeyToAddress(payerKey.PublicKey)
	c.mint(t, payer, 1_000_000)
	n := c.network()
	a := x402.NewAuthorization(payerKey, n, 1000, time.Now(), time.Minute)
	sig, _ := x402.Sign(payerKey, n, &a)
	p, err := x402.DecodePayment(1, x402.EncodePaymentV1(n, &a, sig))
	if err != nil {
		t.Fatal(err)
	}
	r := &chain.Relayer{Backend: c.client, Key: c.relayerKey, PollInterval: 10 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := r.Settle(ctx, &x402.Settlement{Payment: p, Network: n})
	if err != nil || res.Outcome != x402.Settled {
		t.Fatalf("first settlement: %+v %v", res, err)
	}
	// Asked again, the relayer finds the authorization used by its own
	// transaction and reports that, without sending another.
	again, err := r.Settle(ctx, &x402.Settlement{Payment: p, Network: n})
	if err != nil || again.Outcome != x402.Settled || again.TxHash != res.TxHash {
		t.Fatalf("second settlement: %+v %v, want the first transaction %s", again, err, res.TxHash)
	}
	// Forced on chain (sent with a fixed gas limit, so nothing simulates it
	// first), the replay is mined and reverts; the relayer reports why.
	forcer := *c.deployer
	forcer.GasLimit = 200_000
	var rr, ss [32]byte
	copy(rr[:], sig[:32])
	copy(ss[:], sig[32:64])
	tx, err := c.token.TransferWithAuthorization0(&forcer, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, sig[64], rr, ss)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := bind.WaitMined(ctx, c.client, tx)
	if err != nil || rc.Status != types.ReceiptStatusFailed {
		t.Fatalf("forced replay: %v status %v", err, rc)
	}
	if why := chain.RevertReason(ctx, c.client, rc); why != x402.ReasonTransactionState {
		t.Fatalf("forced replay reverted with %q, want %s", why, x402.ReasonTransactionState)
	}
	// Settling with that reverted transaction on record (as after a lost
	// answer) still reports the truth: the payment settled, in the first.
	forced, err := r.Settle(ctx, &x402.Settlement{Payment: p, Network: n, TxHash: tx.Hash().Hex()})
	if err != nil || forced.Outcome != x402.Settled || forced.TxHash != res.TxHash {
		t.Fatalf("settlement after the forced replay: %+v %v, want settled by %s", forced, err, res.TxHash)
	}
	if got := c.balance(t, n.PayTo); got != 1000 {
		t.Fatalf("payTo holds %d, want one payment of 1000", got)
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
