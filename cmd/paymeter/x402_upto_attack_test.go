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
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/chain"
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

// gasBurnerWallet is the runtime code of a contract wallet (EIP-1271) that
// accepts every signature, and, only when Permit2 asks (on chain, in the
// settlement), first burns about 26 gas per iteration of a loop of
// `iterations`: paymeter's own signature check, which calls it directly,
// sees a cheap wallet. Hand-assembled:
//
//	CALLER PUSH20 Permit2 EQ PUSH1 burn JUMPI
//	ret: JUMPDEST PUSH4 0x1626ba7e PUSH1 0xe0 SHL PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN
//	burn: JUMPDEST PUSH3 iterations
//	loop: JUMPDEST PUSH1 1 SWAP1 SUB DUP1 PUSH1 loop JUMPI POP PUSH1 ret JUMP
func gasBurnerWallet(iterations uint32) []byte {
	code := []byte{0x33, 0x73}
	code = append(code, contracts.Permit2Address.Bytes()...)
	code = append(code, 0x14, 0x60, 0x2b, 0x57,
		0x5b, 0x63, 0x16, 0x26, 0xba, 0x7e, 0x60, 0xe0, 0x1b, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
		0x5b, 0x62, byte(iterations>>16), byte(iterations>>8), byte(iterations),
		0x5b, 0x60, 0x01, 0x90, 0x03, 0x80, 0x60, 0x30, 0x57, 0x50, 0x60, 0x1a, 0x56)
	return code
}

// deployCode deploys runtime as a contract's whole code and returns its
// address.
func deployCode(t *testing.T, c *simChain, runtime []byte) common.Address {
	t.Helper()
	initCode := append([]byte{0x60, byte(len(runtime)), 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3}, runtime...)
	nonce := sendFromDeployer(t, c, nil, initCode, 200_000)
	addr := crypto.CreateAddress(c.deployer.From, nonce)
	if code, err := c.client.CodeAt(context.Background(), addr, nil); err != nil || len(code) != len(runtime) {
		t.Fatalf("deployed code %x (%v)", code, err)
	}
	return addr
}

// sendFromDeployer sends data to `to` (nil: a creation) from the deployer,
// waits until it succeeds, and returns the nonce it used.
func sendFromDeployer(t *testing.T, c *simChain, to *common.Address, data []byte, gas uint64) uint64 {
	t.Helper()
	ctx := context.Background()
	nonce, err := c.client.PendingNonceAt(ctx, c.deployer.From)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := c.client.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(c.dev.ChainID), Nonce: nonce, GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2))), Gas: gas, To: to, Data: data})
	signed, err := c.deployer.Signer(c.deployer.From, tx)
	if err != nil {
		t.Fatal(err)
	}
	c.mined(t, signed, c.client.SendTransaction(ctx, signed))
	return nonce
}

// A contract wallet whose isValidSignature burns gas only when Permit2
// calls it, in the settlement: paymeter's signature check passes (cheap,
// and gas-capped), the request is served, and the settlement would cost
// the relayer millions of gas for a few atomic units, every request, the
// settlement succeeding. The settlement is refused before anything is
// sent when it needs more gas than a settlement may (the payer refused,
// as for a failed one); an ordinary payer's settlement stays far below.
func TestUptoAttack_GasBurningWalletDoesNotDrainTheRelayer(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunPausedUpto(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	ctx := context.Background()
	relayer := crypto.PubkeyToAddress(c.relayerKey.PublicKey)

	// An ordinary payer first: what one settlement costs.
	key, _ := uptoPayer(t, c, 1_000_000)
	if resp := payUpto(t, m, key); resp.StatusCode != http.StatusOK {
		t.Fatalf("payment: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if n, err := m.Upto.SettleDue(ctx); err != nil || n != 1 {
		t.Fatalf("settled %d (%v)", n, err)
	}
	rc, err := c.client.TransactionReceipt(ctx, common.HexToHash(uptoAuthorizations(t, m)[0].TxHash))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("an ordinary upto settlement: %d gas", rc.GasUsed)

	wallet := deployCode(t, c, gasBurnerWallet(200_000)) // ~5.2M gas when Permit2 asks
	c.mint(t, wallet, 1_000_000)
	anySig := make([]byte, 65)
	anySig[64] = 27
	tx, err := c.token.Permit(c.deployer, wallet, contracts.Permit2Address, contracts.MaxUint256, contracts.MaxUint256, anySig)
	c.mined(t, tx, err)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	permit := uptoPermit(t, key, req, func(a *x402.Permit2Authorization) { a.From = wallet })
	resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, x402.EncodeUpto(req, &ch.V2.Resource, permit, anySig))
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("the wallet's payment: %d %s", resp.StatusCode, body)
	}
	nonceBefore, err := c.client.NonceAt(ctx, relayer, nil)
	if err != nil {
		t.Fatal(err)
	}
	ethBefore, err := c.client.BalanceAt(ctx, relayer, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := m.Upto.SettleDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	nonceAfter, _ := c.client.NonceAt(ctx, relayer, nil)
	ethAfter, _ := c.client.BalanceAt(ctx, relayer, nil)
	a := uptoAuthorizations(t, m)[1]
	if a.State != meter.UptoFailed || a.Reason != x402.ReasonUptoSettleGas || nonceAfter != nonceBefore || ethAfter.Cmp(ethBefore) != 0 {
		t.Fatalf("the wallet's authorization %s (%s); the relayer sent %d transactions, spent %s wei; want failed (%s), nothing sent",
			a.State, a.Reason, nonceAfter-nonceBefore, new(big.Int).Sub(ethBefore, ethAfter), x402.ReasonUptoSettleGas)
	}
	if rc.GasUsed*3/2 > chain.UptoSettleGas {
		t.Fatalf("an ordinary settlement takes %d gas, too close to the cap %d", rc.GasUsed, chain.UptoSettleGas)
	}
	mustError(t, postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2,
		x402.EncodeUpto(req, &ch.V2.Resource, uptoPermit(t, key, req, func(a *x402.Permit2Authorization) { a.From = wallet }), anySig)),
		http.StatusPaymentRequired, meter.ECodeUptoSettlementFailed)
	mustVerifyLedger(t, m)
}

// forwarder is the runtime code of a contract that calls the upto proxy
// with its own calldata and reverts if that call does:
//
//	CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY
//	PUSH1 0 PUSH1 0 CALLDATASIZE PUSH1 0 PUSH1 0 PUSH20 proxy GAS CALL
//	PUSH1 ok JUMPI PUSH1 0 DUP1 REVERT ok: JUMPDEST STOP
func forwarder() []byte {
	code := []byte{0x36, 0x60, 0x00, 0x60, 0x00, 0x37, 0x60, 0x00, 0x60, 0x00, 0x36, 0x60, 0x00, 0x60, 0x00, 0x73}
	code = append(code, contracts.UptoProxyAddress.Bytes()...)
	return append(code, 0x5a, 0xf1, 0x60, 0x2d, 0x57, 0x60, 0x00, 0x80, 0xfd, 0x5b, 0x00)
}

// One real payment made as evidence for many: the payer pays payTo the
// settled amount once, through the proxy but from a contract of its own
// (a permit naming that contract as facilitator), then spends the nonces
// of the permits it paid paymeter with. Each refused settlement looked
// for "a transfer of that amount from the payer to payTo, with the
// proxy's Settled, in a transaction that did not call the proxy
// directly", found the one evidence transaction every time, and booked
// all of them settled. A transaction counts for a permit only when it
// calls the proxy's settle with that permit's owner, nonce, amount and
// payTo: they fail, and the payer is refused.
func TestUptoAttack_OneTransferIsEvidenceForOnePermitOnly(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunPausedUpto(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	key, payer := uptoPayer(t, c, 1_000_000)
	fwd := deployCode(t, c, forwarder())

	// The evidence: one settle of chatSettled units, called by fwd.
	evidence := &contracts.UptoPermit{Owner: payer, Token: c.tokenAddr, Amount: big.NewInt(int64(chatSettled)),
		Nonce: big.NewInt(7), Deadline: big.NewInt(time.Now().Unix() + 3600), To: c.payTo, Facilitator: fwd, ValidAfter: new(big.Int)}
	sig, err := evidence.Sign(key, 84532)
	if err != nil {
		t.Fatal(err)
	}
	proxyABI, err := contracts.TestUptoProxyMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	data, err := proxyABI.Pack("settle", evidence.Permit(), evidence.Amount, payer, evidence.Witness(), sig)
	if err != nil {
		t.Fatal(err)
	}
	sendFromDeployer(t, c, &fwd, data, 1_000_000)
	if paid := 1_000_000 - c.balance(t, payer); paid != int64(chatSettled) {
		t.Fatalf("the evidence paid %d units", paid)
	}

	// Three requests, their nonces then spent on nothing.
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	for range 3 {
		permit := uptoPermit(t, key, req, nil)
		resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, signUpto(t, key, ch, req, permit))
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("payment: %d %s", resp.StatusCode, body)
		}
		spendPermit2Nonce(t, c, key, permit.Nonce)
	}
	if _, err := m.Upto.SettleDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, a := range uptoAuthorizations(t, m) {
		if a.State != meter.UptoFailed {
			t.Fatalf("authorization %d is %s (tx %s): booked on a transfer that paid another permit", a.ID, a.State, a.TxHash)
		}
	}
	if paid := 1_000_000 - c.balance(t, payer); paid != int64(chatSettled) {
		t.Fatalf("the payer paid %d units in all", paid)
	}
	mustError(t, payUpto(t, m, key), http.StatusPaymentRequired, meter.ECodeUptoSettlementFailed)
	mustVerifyLedger(t, m)
}

// A permit signed with the recovery id as 0/1 rather than 27/28 recovers
// to its payer (the one signature rule of wallet headers, SIWE and
// exact), but Permit2's ecrecover takes only 27/28: its settlement can
// never succeed. It was served, then failed; a fresh address, funded and
// approved but never revoking anything, got a request for nothing every
// time. It is refused before anything is claimed or served.
func TestUptoAttack_RecoveryIDZeroOneRefusedBeforeServing(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunPausedUpto(t, uptoConfig(t, up.URL(), c, "1", "100"), c)
	key, _ := uptoPayer(t, c, 1_000_000)
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	a := uptoPermit(t, key, req, nil)
	sig, err := x402.SignUpto(key, 84532, a)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] -= 27
	resp := postWith(t, m, "/v1/chat/completions", chatBody, x402.HeaderPaymentV2, x402.EncodeUpto(req, &ch.V2.Resource, a, sig))
	if got := mustChallenge(t, resp, meter.ECodeInvalidPayment).V1.Error.Details["reason"]; got != x402.ReasonPermit2Signature {
		t.Fatalf("reason %v, want %s", got, x402.ReasonPermit2Signature)
	}
	if auths := uptoAuthorizations(t, m); len(auths) != 0 {
		t.Fatalf("authorizations %+v, want none claimed", auths)
	}
	if got := len(up.seen()); got != 0 {
		t.Fatalf("the upstream was called %d times", got)
	}
}
