package contracts_test

import (
	"math/big"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/paymeter/paymeter/contracts"
)

// A smart wallet approves Permit2 and pays upto with its owner's signatures, both checked through
// EIP-1271; a stranger's signature is refused with Permit2's error.
func TestUptoEIP1271Wallet(t *testing.T) {
	c := newUptoChain(t, baseSepolia)
	owner := mustKey(t)
	wallet, tx, _, err := contracts.DeployTestWallet(c.relayer, c.client, crypto.PubkeyToAddress(owner.PublicKey))
	c.mineOK(t, tx, err)
	c.mint(t, c.token, wallet, 5_000_000)
	c.approvePermit2(t, wallet, owner)

	p := c.newPermit(t, wallet, 3_000_000)
	_, err = c.settle(c.relayer, p, 1_000_000, c.sign(t, p, mustKey(t)))
	if got := revertError(t, err); got != "InvalidContractSignature" {
		t.Fatalf("stranger's signature: revert %q, want InvalidContractSignature", got)
	}
	tx, err = c.settle(c.relayer, p, 2_500_000, c.sign(t, p, owner))
	c.mineOK(t, tx, err)
	if got, want := balances(t, c.token, wallet, c.payee), []int64{2_500_000, 2_500_000}; !slices.Equal(got, want) {
		t.Fatalf("balances wallet, payee = %v, want %v", got, want)
	}
}

// An EIP-2098 compact signature (64 bytes: r, and s with v's parity in its top bit) is Permit2's
// other accepted form.
func TestUptoCompactSignature(t *testing.T) {
	c := newUptoChain(t, baseSepolia)
	c.approvePermit2(t, c.payerAddress(), c.payer)
	p := c.newPermit(t, c.payerAddress(), 1_000_000)
	sig := c.sign(t, p, c.payer)
	compact := slices.Clone(sig[:64])
	if sig[64] == 28 {
		compact[32] |= 0x80
	}
	tx, err := c.settle(c.relayer, p, 700_000, compact)
	c.mineOK(t, tx, err)
	if got, want := balances(t, c.token, c.payerAddress(), c.payee), []int64{9_300_000, 700_000}; !slices.Equal(got, want) {
		t.Fatalf("balances payer, payee = %v, want %v", got, want)
	}
}

// A payer who invalidates its nonce (Permit2's way to cancel a signed permit) makes the permit
// unusable; the event says which bits.
func TestUptoInvalidateNonce(t *testing.T) {
	c := newUptoChain(t, baseSepolia)
	key, opts := c.fundedKey(t)
	owner := opts.From
	c.mint(t, c.token, owner, 1_000_000)
	c.approvePermit2(t, owner, key)
	p := c.newPermit(t, owner, 1_000_000)
	word, bit := new(big.Int).Rsh(p.Nonce, 8), uint(new(big.Int).And(p.Nonce, big.NewInt(0xff)).Uint64())
	mask := new(big.Int).Lsh(big.NewInt(1), bit)
	tx, err := c.permit2.InvalidateUnorderedNonces(opts, word, mask)
	r := c.mineOK(t, tx, err)
	ev, err := c.permit2.ParseUnorderedNonceInvalidation(*r.Logs[0])
	if err != nil || ev.Owner != owner || ev.Word.Cmp(word) != 0 || ev.Mask.Cmp(mask) != 0 {
		t.Fatalf("UnorderedNonceInvalidation %+v %v, want owner %s word %s mask %s", ev, err, owner, word, mask)
	}
	if !c.nonceUsed(t, owner, p.Nonce) {
		t.Fatal("nonce not used after invalidation")
	}
	_, err = c.settle(c.relayer, p, 1_000_000, c.sign(t, p, key))
	if got := revertError(t, err); got != "InvalidNonce" {
		t.Fatalf("revert %q, want InvalidNonce", got)
	}
}

// permitTransferFrom (no witness): only the spender signed for may spend the permit.
func TestPermit2PermitTransferFrom(t *testing.T) {
	c := newUptoChain(t, baseSepolia)
	payer := c.payerAddress()
	c.approvePermit2(t, payer, c.payer)
	nonce, deadline := big.NewInt(7), big.NewInt(c.now(t)+600)
	td := apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {{Name: "name", Type: "string"}, {Name: "chainId", Type: "uint256"},
				{Name: "verifyingContract", Type: "address"}},
			"PermitTransferFrom": {{Name: "permitted", Type: "TokenPermissions"}, {Name: "spender", Type: "address"},
				{Name: "nonce", Type: "uint256"}, {Name: "deadline", Type: "uint256"}},
			"TokenPermissions": {{Name: "token", Type: "address"}, {Name: "amount", Type: "uint256"}},
		},
		PrimaryType: "PermitTransferFrom",
		Domain:      (&contracts.UptoPermit{}).TypedData(baseSepolia).Domain,
		Message: apitypes.TypedDataMessage{
			"permitted": map[string]any{"token": c.d.token.Hex(), "amount": big.NewInt(2_000_000)},
			"spender":   c.relayer.From.Hex(), "nonce": nonce, "deadline": deadline,
		},
	}
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	sig := signHash(t, digest, c.payer)
	permit := contracts.TestPermit2PermitTransferFrom{
		Permitted: contracts.TestPermit2TokenPermissions{Token: c.d.token, Amount: big.NewInt(2_000_000)},
		Nonce:     nonce, Deadline: deadline,
	}
	details := contracts.TestPermit2SignatureTransferDetails{To: c.payee, RequestedAmount: big.NewInt(1_500_000)}

	_, stranger := c.fundedKey(t)
	_, err = c.permit2.PermitTransferFrom(stranger, permit, details, payer, sig)
	if got := revertError(t, err); got != "InvalidSigner" {
		t.Fatalf("another spender: revert %q, want InvalidSigner", got)
	}
	over := contracts.TestPermit2SignatureTransferDetails{To: c.payee, RequestedAmount: big.NewInt(2_000_001)}
	_, err = c.permit2.PermitTransferFrom(c.relayer, permit, over, payer, sig)
	if got := revertError(t, err); got != "InvalidAmount" {
		t.Fatalf("over the permit: revert %q, want InvalidAmount", got)
	}
	tx, err := c.permit2.PermitTransferFrom(c.relayer, permit, details, payer, sig)
	c.mineOK(t, tx, err)
	if got, want := balances(t, c.token, payer, c.payee), []int64{8_500_000, 1_500_000}; !slices.Equal(got, want) {
		t.Fatalf("balances payer, payee = %v, want %v", got, want)
	}
}

// settleWithPermit submits the payer's EIP-2612 permit to Permit2 and settles in one call, for a
// payer who never approved Permit2; its value must be the permitted maximum; a permit that fails
// (here: already used) does not stop a settlement that the allowance covers.
func TestUptoSettleWithPermit(t *testing.T) {
	c := newUptoChain(t, baseSepolia)
	payer := c.payerAddress()
	p := c.newPermit(t, payer, 4_000_000)
	sig := c.sign(t, p, c.payer)
	deadline := big.NewInt(c.now(t) + 600)
	eip2612 := func(value int64) contracts.TestUptoProxyEIP2612Permit {
		s := signHash(t, c.erc2612Digest(t, payer, contracts.Permit2Address, big.NewInt(value), deadline), c.payer)
		return contracts.TestUptoProxyEIP2612Permit{Value: big.NewInt(value), Deadline: deadline,
			R: [32]byte(s[:32]), S: [32]byte(s[32:64]), V: s[64]}
	}
	_, err := c.proxy.SettleWithPermit(c.relayer, eip2612(3_000_000), p.Permit(), big.NewInt(1_000_000), payer, p.Witness(), sig)
	if got := revertError(t, err); got != "Permit2612AmountMismatch" {
		t.Fatalf("permit value under the maximum: revert %q, want Permit2612AmountMismatch", got)
	}
	permit := eip2612(4_000_000)
	tx, err := c.proxy.SettleWithPermit(c.relayer, permit, p.Permit(), big.NewInt(1_000_000), payer, p.Witness(), sig)
	r := c.mineOK(t, tx, err)
	if _, err := c.proxy.ParseSettledWithPermit(*r.Logs[len(r.Logs)-1]); err != nil {
		t.Fatalf("last log is not SettledWithPermit: %v", err)
	}
	if got, err := c.token.Allowance(&bind.CallOpts{Context: t.Context()}, payer, contracts.Permit2Address); err != nil || got.Int64() != 3_000_000 {
		t.Fatalf("Permit2's allowance=%v %v, want 3000000 (4000000 permitted, 1000000 spent)", got, err)
	}

	// The same EIP-2612 permit again fails inside (its nonce moved on); the allowance left pays.
	q := c.newPermit(t, payer, 4_000_000)
	tx, err = c.proxy.SettleWithPermit(c.relayer, permit, q.Permit(), big.NewInt(2_000_000), payer, q.Witness(), c.sign(t, q, c.payer))
	r = c.mineOK(t, tx, err)
	var failed int
	for _, l := range r.Logs {
		if ev, err := c.proxy.ParseEIP2612PermitFailed(*l); err == nil && l.Address == contracts.UptoProxyAddress {
			failed++
			if ev.Token != c.d.token || ev.Owner != payer {
				t.Fatalf("EIP2612PermitFailed token %s owner %s", ev.Token, ev.Owner)
			}
		}
	}
	if failed != 1 {
		t.Fatalf("%d EIP2612PermitFailed logs, want 1", failed)
	}
	if got, want := balances(t, c.token, payer, c.payee), []int64{7_000_000, 3_000_000}; !slices.Equal(got, want) {
		t.Fatalf("balances payer, payee = %v, want %v", got, want)
	}
}

// TestUSDC's EIP-2612 permit: FiatToken v2.2's reasons for an expired permit and a bad signature;
// each permit spends the owner's nonce.
func TestTestUSDCPermit(t *testing.T) {
	c := newUptoChain(t, baseSepolia)
	payer, spender := c.payerAddress(), common.HexToAddress("0x00000000000000000000000000000000000000aa")
	call := &bind.CallOpts{Context: t.Context()}
	past := big.NewInt(c.now(t) - 1)
	_, err := c.token.Permit(c.relayer, payer, spender, big.NewInt(5), past,
		signHash(t, c.erc2612Digest(t, payer, spender, big.NewInt(5), past), c.payer))
	if got := revertReason(t, err); got != "FiatTokenV2: permit is expired" {
		t.Fatalf("expired: revert %q", got)
	}
	future := big.NewInt(c.now(t) + 600)
	_, err = c.token.Permit(c.relayer, payer, spender, big.NewInt(5), future,
		signHash(t, c.erc2612Digest(t, payer, spender, big.NewInt(5), future), mustKey(t)))
	if got := revertReason(t, err); got != "EIP2612: invalid signature" {
		t.Fatalf("stranger: revert %q", got)
	}
	s := signHash(t, c.erc2612Digest(t, payer, spender, big.NewInt(5), future), c.payer)
	tx, err := c.token.Permit0(c.relayer, payer, spender, big.NewInt(5), future, s[64], [32]byte(s[:32]), [32]byte(s[32:64]))
	c.mineOK(t, tx, err)
	if got, err := c.token.Allowance(call, payer, spender); err != nil || got.Int64() != 5 {
		t.Fatalf("allowance=%v %v, want 5", got, err)
	}
	if n, err := c.token.Nonces(call, payer); err != nil || n.Int64() != 1 {
		t.Fatalf("nonces=%v %v, want 1", n, err)
	}
	_, err = c.token.Permit(c.relayer, payer, spender, big.NewInt(5), future, s)
	if got := revertReason(t, err); got != "EIP2612: invalid signature" {
		t.Fatalf("replay: revert %q", got)
	}
}
