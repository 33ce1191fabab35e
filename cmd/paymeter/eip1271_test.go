package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// With a chain configured, a smart-contract wallet (EIP-1271: it accepts
// its owner's signature) pays with x402, signs requests with wallet
// headers and signs in with Ethereum, all as the contract's address.
func TestEIP1271_SmartWalletPaysSignsAndSignsIn(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, chainConfig(t, up.URL(), c), c)
	ownerKey, _ := crypto.GenerateKey()
	walletAddr, tx, _, err := contracts.DeployTestWallet(c.deployer, c.client, crypto.PubkeyToAddress(ownerKey.PublicKey))
	c.mined(t, tx, err)
	c.mint(t, walletAddr, 20_000_000)

	// x402: the authorization is from the wallet, signed by its owner.
	n := c.network()
	a := x402.NewAuthorization(ownerKey, n, 10_000_000, time.Now(), time.Minute)
	a.From = walletAddr
	sig, err := x402.Sign(ownerKey, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	resp := postWith(t, m, "/api/v1/topup/10", fmt.Sprintf(`{"walletAddress":%q}`, walletAddr.Hex()),
		x402.HeaderPaymentV1, x402.EncodePaymentV1(n, &a, sig))
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("top-up paid by the contract wallet: %d %s", resp.StatusCode, body)
	}
	if got := c.balance(t, walletAddr); got != 10_000_000 {
		t.Fatalf("the wallet holds %d tokens after paying 10 of 20", got)
	}
	// A stranger's signature for the wallet is refused.
	stranger, _ := crypto.GenerateKey()
	b := x402.NewAuthorization(stranger, n, 10_000_000, time.Now(), time.Minute)
	b.From = walletAddr
	bad, _ := x402.Sign(stranger, n, &b)
	e := mustChallenge(t, postWith(t, m, "/api/v1/topup/10", fmt.Sprintf(`{"walletAddress":%q}`, walletAddr.Hex()),
		x402.HeaderPaymentV1, x402.EncodePaymentV1(n, &b, bad)), meter.ECodeInvalidPayment)
	if e.V1.Error.Details["reason"] != x402.ReasonSignature {
		t.Fatalf("stranger's signature: %+v", e.V1.Error)
	}

	// Wallet headers: the address is the contract, the owner signs.
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	msg := auth.WalletMessage(auth.DefaultRealm, ts, http.MethodPost, "/v1/chat/completions", "")
	wsig, _ := crypto.Sign(accounts.TextHash([]byte(msg)), ownerKey)
	wsig[64] += 27
	resp = postWith(t, m, "/v1/chat/completions", chatBody, auth.HeaderWalletAddress, walletAddr.Hex(),
		auth.HeaderTimestamp, ts, auth.HeaderWalletSignature, "0x"+hex.EncodeToString(wsig))
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("wallet-header request by the contract wallet: %d %s", resp.StatusCode, body)
	}
	if w := walletOf(t, m, walletAddr); w.Balance >= 10*meter.Credit || w.FreeGranted != 0 {
		t.Fatalf("contract wallet's account %+v: want the top-up less the request", w)
	}

	// Sign-In with Ethereum as the contract.
	req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/auth/siwe/nonce", nil)
	var nonce struct {
		Nonce, Domain, URI, Version, Statement string
		ChainID                                int64
	}
	if err := json.Unmarshal(readAll(t, do(t, req)), &nonce); err != nil {
		t.Fatal(err)
	}
	sm := &auth.SIWEMessage{Domain: nonce.Domain, Address: walletAddr, Statement: nonce.Statement, URI: nonce.URI,
		Version: "1", ChainID: 84532, Nonce: nonce.Nonce, IssuedAt: time.Now().UTC().Truncate(time.Second)}
	text := sm.String()
	ssig, _ := crypto.Sign(accounts.TextHash([]byte(text)), ownerKey)
	ssig[64] += 27
	body, _ := json.Marshal(map[string]string{"message": text, "signature": "0x" + hex.EncodeToString(ssig)})
	resp = postWith(t, m, "/api/auth/siwe/verify", string(body))
	got := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), walletAddr.Hex()) || !strings.Contains(string(got), "pm_live_") {
		t.Fatalf("SIWE as the contract wallet: %d %s", resp.StatusCode, got)
	}
	mustVerify(t, m)
}
