package main

import (
	"crypto/ecdsa"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/walletsig"
	"github.com/paymeter/paymeter/internal/x402"
)

// siwxProof signs, in Go, the proof of a 402's challenge for chain as
// address, with key (address's own, or its owner's for a contract wallet).
func siwxProof(t *testing.T, info siwxInfo, chain string, key *ecdsa.PrivateKey, address common.Address) string {
	t.Helper()
	p := &x402.SIWXPayload{Domain: info.Domain, Address: address.Hex(), Statement: &info.Statement, URI: info.URI,
		Version: info.Version, ChainID: chain, Type: x402.SIWXTypeEIP191, Nonce: info.Nonce, IssuedAt: info.IssuedAt,
		ExpirationTime: &info.ExpirationTime, Resources: info.Resources}
	msg, err := auth.SIWXMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	digest := walletsig.TextHash([]byte(msg))
	sig, err := crypto.Sign(digest[:], key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	p.Signature = "0x" + hex.EncodeToString(sig)
	return x402.EncodeSIWX(p)
}

// A contract wallet's sign-in-with-x proof is asked of the one chain
// wallet.eip1271_chain_id names, as wallet headers' and SIWE's are, never
// of the chain the signer chose: a wallet's authority differs from chain
// to chain (its owners are set on each), and its balance here is one. With
// no chain named (several with an rpc_url), no chain is asked at all.
func TestEIP1271_SIWXOnTheNamedChainOnly(t *testing.T) {
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

	cfg := twoChains()
	cfg.Wallet.EIP1271ChainID = 84532
	m, cb := runCountingChainMain(t, cfg, c)
	mustSIWXRefused(t, siwxSend(t, m.URL(), siwxProof(t, siwxChallenge(t, m), "eip155:8453", ownerKey, walletAddr)),
		meter.ECodeInvalidSignature, "invalid_siwx_signature")
	if n := cb.codeCalls(walletAddr); n != 0 {
		t.Fatalf("a proof for a chain not named cost %d eth_getCode, want 0", n)
	}
	resp := siwxSend(t, m.URL(), siwxProof(t, siwxChallenge(t, m), "eip155:84532", ownerKey, walletAddr))
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("contract wallet on the named chain: %d %s", resp.StatusCode, body)
	}

	m, cb = runCountingChainMain(t, twoChains(), c)
	for _, chain := range []string{"eip155:84532", "eip155:8453"} {
		mustSIWXRefused(t, siwxSend(t, m.URL(), siwxProof(t, siwxChallenge(t, m), chain, ownerKey, walletAddr)),
			meter.ECodeInvalidSignature, "invalid_siwx_signature")
	}
	if n := cb.codeCalls(walletAddr); n != 0 {
		t.Fatalf("no chain named: %d eth_getCode, want 0", n)
	}
}
