package main

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethmath "github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// Attacks on x402 upto (docs/security.md): each test is a way a payer, or
// what it controls, could be served without paying, lock others out or
// cost the relayer more than it settles.

// A payer cycling fresh addresses, each served once and then revoking its
// allowance (or moving its funds on to the next address), is bounded by
// the global cap: what failed to settle was served and is not settled, so
// it stays counted against x402.upto.max_unsettled until it settles. With
// a global cap of one quote, the first address is served and fails; the
// next is refused 503 upto_capacity_reached, whatever its funds.
func TestUptoAttack_FreshPayersBoundedByTheGlobalCap(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	quote := chatQuote(t, c, up)
	cfg := uptoConfig(t, up.URL(), c, quote.Amount().String(), quote.Amount().String())
	m := mustRunPausedUpto(t, cfg, c)
	var lost meter.USDC
	for i := range 3 {
		key, _ := uptoPayer(t, c, 1_000_000)
		resp := payUpto(t, m, key)
		if i > 0 {
			mustError(t, resp, http.StatusServiceUnavailable, meter.ECodeUptoCapacity)
			continue
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("payer %d: %d %s", i, resp.StatusCode, body)
		}
		c.revokePermit2(t, key)
		if _, err := m.Upto.SettleDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range uptoAuthorizations(t, m) {
		if a.State != meter.UptoFailed {
			t.Fatalf("authorization %d is %s, want failed", a.ID, a.State)
		}
		lost += a.Amount
	}
	if lost != chatSettled {
		t.Fatalf("served and never settled: %s units, want one request's %s", lost, chatSettled)
	}
	mustVerifyLedger(t, m)
}

// spendPermit2Nonce spends owner's Permit2 nonce on nothing: a plain
// permitTransferFrom of 0 units of a token without code, to a spender of
// its choosing (the deployer, who submits it: the payer needs no ether).
// No Transfer of the token, no UnorderedNonceInvalidation: the nonce is
// simply used.
func spendPermit2Nonce(t *testing.T, c *simChain, owner *ecdsa.PrivateKey, nonce *big.Int) {
	t.Helper()
	permit2, err := contracts.NewTestPermit2(contracts.Permit2Address, c.client)
	if err != nil {
		t.Fatal(err)
	}
	nothing := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	deadline := big.NewInt(time.Now().Unix() + 3600)
	td := apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {{Name: "name", Type: "string"}, {Name: "chainId", Type: "uint256"},
				{Name: "verifyingContract", Type: "address"}},
			"PermitTransferFrom": {{Name: "permitted", Type: "TokenPermissions"}, {Name: "spender", Type: "address"},
				{Name: "nonce", Type: "uint256"}, {Name: "deadline", Type: "uint256"}},
			"TokenPermissions": {{Name: "token", Type: "address"}, {Name: "amount", Type: "uint256"}},
		},
		PrimaryType: "PermitTransferFrom",
		Domain: apitypes.TypedDataDomain{Name: "Permit2", ChainId: gethmath.NewHexOrDecimal256(84532),
			VerifyingContract: contracts.Permit2Address.Hex()},
		Message: apitypes.TypedDataMessage{
			"permitted": map[string]any{"token": nothing.Hex(), "amount": new(big.Int)},
			"spender":   c.deployer.From.Hex(), "nonce": nonce, "deadline": deadline,
		},
	}
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := crypto.Sign(digest, owner)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	tx, err := permit2.PermitTransferFrom(c.deployer,
		contracts.TestPermit2PermitTransferFrom{Permitted: contracts.TestPermit2TokenPermissions{Token: nothing, Amount: new(big.Int)},
			Nonce: nonce, Deadline: deadline},
		contracts.TestPermit2SignatureTransferDetails{To: c.deployer.From, RequestedAmount: new(big.Int)},
		crypto.PubkeyToAddress(owner.PublicKey), sig)
	c.mined(t, tx, err)
}

// A payer served, who then spends its permit's nonce elsewhere (a plain
// Permit2 transfer of nothing to a spender of its own) before the
// settlement: no transaction paid, none invalidated the nonce. It fails,
// and its payer is refused until it settles, as for a revoked allowance;
// it is not retried every round for ever as if it were due.
func TestUptoAttack_NonceSpentElsewhereFails(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunPausedUpto(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 1_000_000)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	permit := uptoPermit(t, key, req, nil)
	resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, signUpto(t, key, ch, req, permit))
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("payment: %d %s", resp.StatusCode, body)
	}
	spendPermit2Nonce(t, c, key, permit.Nonce)
	for range 3 {
		if _, err := m.Upto.SettleDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	a := uptoAuthorizations(t, m)
	if len(a) != 1 || a[0].State != meter.UptoFailed || a[0].Reason != x402.ReasonPermit2InvalidNonce || a[0].Attempts != 1 {
		t.Fatalf("authorizations %+v, want one failed (%s) after one attempt", a[0], x402.ReasonPermit2InvalidNonce)
	}
	if paid := 1_000_000 - c.balance(t, payer); paid != 0 {
		t.Fatalf("the payer paid %d units", paid)
	}
	mustError(t, payUpto(t, m, key), http.StatusPaymentRequired, meter.ECodeUptoSettlementFailed)
	mustVerifyLedger(t, m)
}
