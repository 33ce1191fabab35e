package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// gethBinary finds geth built from the go-ethereum module at the version
// go.mod pins: $PAYMETER_GETH, or .bin/geth (which .ci/run installs), or
// geth on PATH. Without one the test is skipped, except in CI.
func gethBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("PAYMETER_GETH"), "../../.bin/geth"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				abs, _ := filepath.Abs(p)
				return abs
			}
		}
	}
	if p, err := exec.LookPath("geth"); err == nil {
		return p
	}
	msg := "geth not found: GOBIN=$PWD/.bin go install github.com/ethereum/go-ethereum/cmd/geth@<go.mod's version> (as .ci/run does)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// gethDev is a geth --dev node (chain id 1337) on loopback, with funded
// accounts of ours and the test token deployed under Base Sepolia USDC's
// EIP-712 domain.
type gethDev struct {
	url       string
	client    *ethclient.Client
	funder    *bind.TransactOpts
	token     *contracts.TestUSDC
	tokenAddr common.Address
}

func startGethDev(t *testing.T, fund ...common.Address) *gethDev {
	t.Helper()
	bin := gethBinary(t)
	httpPort, authPort := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--dev", "--dev.period", "0", "--datadir", t.TempDir(),
		"--http", "--http.addr", "127.0.0.1", "--http.port", fmt.Sprint(httpPort), "--http.api", "eth,net,web3",
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", fmt.Sprint(authPort),
		"--ipcdisable", "--nodiscover", "--maxpeers", "0", "--port", "0", "--verbosity", "2")
	logf, _ := os.Create(filepath.Join(t.TempDir(), "geth.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait(); logf.Close() })

	g := &gethDev{url: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if g.client, err = ethclient.Dial(g.url); err == nil {
			if _, err = g.client.ChainID(context.Background()); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("geth --dev did not answer on %s: %v\n%s", g.url, err, log)
		}
	}
	t.Cleanup(g.client.Close)

	// The dev account is funded and unlocked: it funds ours.
	var devAccounts []common.Address
	if err := g.client.Client().Call(&devAccounts, "eth_accounts"); err != nil || len(devAccounts) == 0 {
		t.Fatalf("dev account: %v", err)
	}
	funderKey, _ := crypto.GenerateKey()
	fund = append(fund, crypto.PubkeyToAddress(funderKey.PublicKey))
	for _, a := range fund {
		var txHash common.Hash
		if err := g.client.Client().Call(&txHash, "eth_sendTransaction", map[string]any{
			"from": devAccounts[0], "to": a, "value": (*hexutil.Big)(new(big.Int).Lsh(big.NewInt(1), 64)),
		}); err != nil {
			t.Fatalf("fund %s: %v", a.Hex(), err)
		}
		g.waitOK(t, txHash)
	}
	if g.funder, err = bind.NewKeyedTransactorWithChainID(funderKey, big.NewInt(1337)); err != nil {
		t.Fatal(err)
	}
	addr, tx, token, err := contracts.DeployTestUSDC(g.funder, g.client, "USDC", "2", big.NewInt(84532))
	if err != nil {
		t.Fatal(err)
	}
	g.waitOK(t, tx.Hash())
	g.token, g.tokenAddr = token, addr
	return g
}

func (g *gethDev) waitOK(t *testing.T, h common.Hash) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r, err := g.client.TransactionReceipt(context.Background(), h); err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("tx %s failed", h.Hex())
			}
			return
		}
	}
	t.Fatalf("tx %s not mined", h.Hex())
}

func (g *gethDev) mint(t *testing.T, to common.Address, units int64) {
	t.Helper()
	tx, err := g.token.Mint(g.funder, to, big.NewInt(units))
	if err != nil {
		t.Fatal(err)
	}
	g.waitOK(t, tx.Hash())
}

func (g *gethDev) balance(t *testing.T, a common.Address) int64 {
	t.Helper()
	b, err := g.token.BalanceOf(&bind.CallOpts{}, a)
	if err != nil {
		t.Fatal(err)
	}
	return b.Int64()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// payOnce sends one x402-paid request for what path's 402 asks.
func payOnce(t *testing.T, m *Main, n *x402.Network, key *ecdsa.PrivateKey, path, body string) (*http.Response, int64) {
	t.Helper()
	ch := mustChallenge(t, postWith(t, m, path, body), meter.ECodePaymentRequired)
	var quote int64
	fmt.Sscan(ch.V1.Accepts[0].MaxAmountRequired, &quote)
	a := x402.NewAuthorization(key, n, quote, time.Now(), 60*time.Second)
	sig, err := x402.Sign(key, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	return postWith(t, m, path, body, x402.HeaderPaymentV1, x402.EncodePaymentV1(n, &a, sig)), quote
}

// A real chain over JSON-RPC: paymeter settles on geth --dev, itself
// (chain mode, its relayer) and through the reference facilitator of
// @x402/core + @x402/evm (facilitator mode, testdata/interop/facilitator.mjs).
func TestGethDev_SettlesOnARealChain(t *testing.T) {
	relayerKey, _ := crypto.GenerateKey()
	facKey, _ := crypto.GenerateKey()
	g := startGethDev(t, crypto.PubkeyToAddress(relayerKey.PublicKey), crypto.PubkeyToAddress(facKey.PublicKey))
	payerKey, _ := crypto.GenerateKey()
	payer := crypto.PubkeyToAddress(payerKey.PublicKey)
	g.mint(t, payer, 100_000_000)
	payTo := common.HexToAddress("0x00000000000000000000000000000000000Fee02")
	network := &x402.Network{Name: "base-sepolia", ChainID: 84532, Asset: g.tokenAddr, TokenName: "USDC", TokenVersion: "2", PayTo: payTo}
	up := newFixtureUpstream(t)

	t.Run("chain", func(t *testing.T) {
		cfg := testConfig(t, up.URL())
		cfg.X402.RelayerKey = hex.EncodeToString(crypto.FromECDSA(relayerKey))
		cfg.X402.Networks = []NetworkConfig{{Name: "base-sepolia", Asset: g.tokenAddr.Hex(), TokenName: "USDC", TokenVersion: "2",
			PayTo: payTo.Hex(), Settlement: "chain", RPCURL: g.url}}
		m := MustRunMain(t, cfg)
		before := g.balance(t, payTo)

		resp, quote := payOnce(t, m, network, payerKey, "/v1/chat/completions", chatBody)
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("paid request: %d %s", resp.StatusCode, body)
		}
		resp, _ = payOnce(t, m, network, payerKey, "/api/v1/topup/10", fmt.Sprintf(`{"walletAddress":%q}`, payer.Hex()))
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"success":true`) {
			t.Fatalf("top-up: %d %s", resp.StatusCode, body)
		}
		if got := g.balance(t, payTo) - before; got != quote+10_000_000 {
			t.Fatalf("payTo received %d, want %d", got, quote+10_000_000)
		}
		mustVerify(t, m)
	})

	t.Run("facilitator", func(t *testing.T) {
		node := needNode(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "facilitator.mjs")
		cmd.Dir = interopDir
		cmd.Env = append(os.Environ(), "RPC_URL="+g.url, "CHAIN_ID=1337",
			"RELAYER_KEY=0x"+hex.EncodeToString(crypto.FromECDSA(facKey)))
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); cmd.Wait() }()
		line := make([]byte, 256)
		n, err := stdout.Read(line)
		if err != nil {
			t.Fatalf("facilitator.mjs printed no URL: %v", err)
		}
		facURL := strings.TrimSpace(string(line[:n]))

		cfg := testConfig(t, up.URL())
		cfg.X402.Facilitator.URL = facURL
		cfg.X402.Networks = []NetworkConfig{{Name: "base-sepolia", Asset: g.tokenAddr.Hex(), TokenName: "USDC", TokenVersion: "2",
			PayTo: payTo.Hex(), Settlement: "facilitator"}}
		m := MustRunMain(t, cfg)
		if kinds, err := m.Payments.Settlers[m.Server.X402.Networks[0]].(*x402.Facilitator).Supported(ctx); err != nil || len(kinds) == 0 {
			t.Fatalf("/supported: %v %v", kinds, err)
		}
		before := g.balance(t, payTo)
		resp, quote := payOnce(t, m, network, payerKey, "/v1/chat/completions", chatBody)
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("paid request: %d %s", resp.StatusCode, body)
		}
		r, err := x402.DecodeReceipt(resp.Header.Get(x402.HeaderResponseV1))
		if err != nil || !r.Success {
			t.Fatalf("receipt %+v %v", r, err)
		}
		rc, err := g.client.TransactionReceipt(ctx, common.HexToHash(r.Transaction))
		if err != nil || rc.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("facilitator's transaction %s: %v", r.Transaction, err)
		}
		if got := g.balance(t, payTo) - before; got != quote {
			t.Fatalf("payTo received %d, want %d", got, quote)
		}
		mustVerify(t, m)
	})
}
