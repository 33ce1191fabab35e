package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/meter"
)

// countingBackend is the simulated chain's client, counting eth_getCode
// calls by address.
type countingBackend struct {
	chain.Backend
	mu    sync.Mutex
	codes map[common.Address]int
}

func (b *countingBackend) CodeAt(ctx context.Context, a common.Address, block *big.Int) ([]byte, error) {
	b.mu.Lock()
	b.codes[a]++
	b.mu.Unlock()
	return b.Backend.CodeAt(ctx, a, block)
}

func (b *countingBackend) codeCalls(a common.Address) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.codes[a]
}

// runCountingChainMain runs cfg on c through a countingBackend.
func runCountingChainMain(t *testing.T, cfg *Config, c *simChain) (*Main, *countingBackend) {
	t.Helper()
	cb := &countingBackend{Backend: c.client, codes: map[common.Address]int{}}
	m := MustRunMain(t, cfg, func(m *Main) {
		m.DialChain = func(context.Context, string) (chain.Backend, error) { return cb, nil }
	})
	return m, cb
}

// garbageSignature is well formed (65 bytes, low s, V 27) but recovers to
// someone else: it passes every check that needs no chain.
func garbageSignature(t *testing.T) string {
	t.Helper()
	k, _ := crypto.GenerateKey()
	sig, err := crypto.Sign(crypto.Keccak256([]byte(strconv.FormatInt(time.Now().UnixNano(), 10))), k)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return "0x" + hex.EncodeToString(sig)
}

// walletHeaders signs a chat request for addr with key (the owner of a
// contract wallet, or addr's own key).
func walletHeaders(t *testing.T, key *ecdsa.PrivateKey, addr common.Address) []string {
	t.Helper()
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	msg := auth.WalletMessage(auth.DefaultRealm, ts, http.MethodPost, "/v1/chat/completions", "")
	sig, _ := crypto.Sign(accounts.TextHash([]byte(msg)), key)
	sig[64] += 27
	return []string{auth.HeaderWalletAddress, addr.Hex(), auth.HeaderTimestamp, ts, auth.HeaderWalletSignature, "0x" + hex.EncodeToString(sig)}
}

// A garbage wallet signature costs no more than one eth_getCode however
// often it is sent (the answer is cached), and a signature that recovers
// to its address costs none.
func TestEIP1271_GarbageSignaturesCostOneCodeLookup(t *testing.T) {
	c := newSimChain(t)
	m, cb := runCountingChainMain(t, chainConfig(t, newFixtureUpstream(t).URL(), c), c)
	victim, _ := crypto.GenerateKey()
	addr := crypto.PubkeyToAddress(victim.PublicKey)
	for i := range 20 {
		ts := strconv.FormatInt(time.Now().UnixMilli()+int64(i), 10)
		mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, auth.HeaderWalletAddress, addr.Hex(),
			auth.HeaderTimestamp, ts, auth.HeaderWalletSignature, garbageSignature(t)), http.StatusUnauthorized, meter.ECodeInvalidSignature)
	}
	if n := cb.codeCalls(addr); n > 1 {
		t.Fatalf("20 garbage signatures cost %d eth_getCode calls, want at most 1", n)
	}
	resp := postWith(t, m, "/v1/chat/completions", chatBody, walletHeaders(t, victim, addr)...)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("the wallet's own signature: %d %s", resp.StatusCode, body)
	}
	fresh, _ := crypto.GenerateKey()
	freshAddr := crypto.PubkeyToAddress(fresh.PublicKey)
	if resp := postWith(t, m, "/v1/chat/completions", chatBody, walletHeaders(t, fresh, freshAddr)...); resp.StatusCode != http.StatusOK {
		t.Fatalf("a fresh wallet's own signature: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if n := cb.codeCalls(freshAddr); n != 0 {
		t.Fatalf("a signature that recovers to its address cost %d eth_getCode calls, want 0", n)
	}
}

// SIWE checks EIP-1271 on the one configured chain only: the contract
// wallet signs in for base-sepolia (84532), not for another chain id the
// backend also answers to (the simulated chain's own, 1337).
func TestEIP1271_SIWEBoundToTheConfiguredChain(t *testing.T) {
	c := newSimChain(t)
	cfg := chainConfig(t, newFixtureUpstream(t).URL(), c)
	cfg.SIWE.ChainIDs = []int64{84532, 1337}
	m, _ := runCountingChainMain(t, cfg, c)
	ownerKey, _ := crypto.GenerateKey()
	walletAddr, tx, _, err := contracts.DeployTestWallet(c.deployer, c.client, crypto.PubkeyToAddress(ownerKey.PublicKey))
	c.mined(t, tx, err)

	signInAs := func(chainID int64) *http.Response {
		resp, err := http.Get(m.URL() + "/api/auth/siwe/nonce")
		if err != nil {
			t.Fatal(err)
		}
		var nonce struct{ Nonce, Domain, URI, Statement string }
		if err := json.Unmarshal(readAll(t, resp), &nonce); err != nil {
			t.Fatal(err)
		}
		text := (&auth.SIWEMessage{Domain: nonce.Domain, Address: walletAddr, Statement: nonce.Statement, URI: nonce.URI,
			Version: "1", ChainID: chainID, Nonce: nonce.Nonce, IssuedAt: time.Now().UTC().Truncate(time.Second)}).String()
		sig, _ := crypto.Sign(accounts.TextHash([]byte(text)), ownerKey)
		sig[64] += 27
		body, _ := json.Marshal(map[string]string{"message": text, "signature": "0x" + hex.EncodeToString(sig)})
		return postWith(t, m, "/api/auth/siwe/verify", string(body))
	}
	mustError(t, signInAs(1337), http.StatusUnauthorized, meter.ECodeInvalidSignature)
	if resp := signInAs(84532); resp.StatusCode != http.StatusOK {
		t.Fatalf("SIWE on the configured chain: %d %s", resp.StatusCode, readAll(t, resp))
	}
}

// With two chains reachable, wallet headers check EIP-1271 on the one
// wallet.eip1271_chain_id names; none named, no chain is asked at all.
func TestEIP1271_WalletHeadersOnTheNamedChain(t *testing.T) {
	c := newSimChain(t)
	ownerKey, _ := crypto.GenerateKey()
	walletAddr, tx, _, err := contracts.DeployTestWallet(c.deployer, c.client, crypto.PubkeyToAddress(ownerKey.PublicKey))
	c.mined(t, tx, err)
	twoChains := func() *Config {
		cfg := chainConfig(t, newFixtureUpstream(t).URL(), c)
		base := cfg.X402.Networks[0]
		base.Name = "base" // 8453, on the same backend
		cfg.X402.Networks = append(cfg.X402.Networks, base)
		return cfg
	}

	m, cb := runCountingChainMain(t, twoChains(), c)
	mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, walletHeaders(t, ownerKey, walletAddr)...),
		http.StatusUnauthorized, meter.ECodeInvalidSignature)
	if n := cb.codeCalls(walletAddr); n != 0 {
		t.Fatalf("no chain named: %d eth_getCode, want 0", n)
	}

	cfg := twoChains()
	cfg.Wallet.EIP1271ChainID = 84532
	m, cb = runCountingChainMain(t, cfg, c)
	for range 3 {
		resp := postWith(t, m, "/v1/chat/completions", chatBody, walletHeaders(t, ownerKey, walletAddr)...)
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("contract wallet on the named chain: %d %s", resp.StatusCode, body)
		}
		time.Sleep(2 * time.Millisecond) // a fresh timestamp each time
	}
	if n := cb.codeCalls(walletAddr); n != 1 {
		t.Fatalf("3 requests cost %d eth_getCode, want 1 (cached)", n)
	}
}
