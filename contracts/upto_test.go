package contracts_test

import (
	"bytes"
	"math/big"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/paymeter/paymeter/contracts"
)

// The genesis allocation is the contracts: the runtime code a deployment of their creation code
// leaves, with nothing a constructor would have stored.
func TestUptoAllocIsTheDeployedCode(t *testing.T) {
	c := newChain(t)
	alloc := contracts.UptoAlloc(0)
	for _, tc := range []struct {
		name string
		at   common.Address
		meta *bind.MetaData
	}{
		{"TestPermit2", contracts.Permit2Address, contracts.TestPermit2MetaData},
		{"TestUptoProxy", contracts.UptoProxyAddress, contracts.TestUptoProxyMetaData},
	} {
		parsed, err := tc.meta.GetAbi()
		if err != nil {
			t.Fatal(err)
		}
		addr, tx, _, err := bind.DeployContract(c.relayer, *parsed, common.FromHex(tc.meta.Bin), c.client)
		c.mineOK(t, tx, err)
		code, err := c.client.CodeAt(t.Context(), addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(code, alloc[tc.at].Code) {
			t.Fatalf("%s: deployed code (%d bytes) differs from the allocated code (%d bytes)", tc.name, len(code), len(alloc[tc.at].Code))
		}
		if len(alloc[tc.at].Storage) != 0 {
			t.Fatalf("%s: allocated storage %v with the chain's own domain, want none", tc.name, alloc[tc.at].Storage)
		}
	}
	if got := contracts.UptoAlloc(baseSepolia)[contracts.Permit2Address].Storage[contracts.Permit2DomainChainIDSlot]; got != common.BigToHash(big.NewInt(baseSepolia)) {
		t.Fatalf("domain chain id slot=%s, want %d", got, baseSepolia)
	}
}

// Permit2's domain is ("Permit2", chain id, its address), the chain id being the chain's own unless
// the allocation overrides it; the proxy knows Permit2 and the witness type.
func TestUptoDomainAndConstants(t *testing.T) {
	for _, tc := range []struct {
		name     string
		override int64
		want     int64
	}{{"own chain id", 0, localChain}, {"override", baseSepolia, baseSepolia}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newUptoChain(t, tc.override)
			call := &bind.CallOpts{Context: t.Context()}
			sep, err := c.permit2.DOMAINSEPARATOR(call)
			if err != nil {
				t.Fatal(err)
			}
			td := (&contracts.UptoPermit{}).TypedData(tc.want)
			want, err := td.HashStruct("EIP712Domain", td.Domain.Map())
			if err != nil {
				t.Fatal(err)
			}
			if common.Hash(sep) != common.BytesToHash(want) {
				t.Fatalf("DOMAIN_SEPARATOR=%x, want %x (chain id %d)", sep, want, tc.want)
			}
			if id, err := c.permit2.DomainChainId(call); err != nil || id.Int64() != tc.want {
				t.Fatalf("domainChainId=%v %v, want %d", id, err, tc.want)
			}
		})
	}
	c := newUptoChain(t, 0)
	call := &bind.CallOpts{Context: t.Context()}
	if got, err := c.proxy.PERMIT2(call); err != nil || got != contracts.Permit2Address {
		t.Fatalf("PERMIT2=%s %v, want %s", got, err, contracts.Permit2Address)
	}
	if got, err := c.proxy.WITNESSTYPESTRING(call); err != nil || got != contracts.UptoWitnessTypeString {
		t.Fatalf("WITNESS_TYPE_STRING=%q %v", got, err)
	}
	if got, err := c.proxy.WITNESSTYPEHASH(call); err != nil || common.Hash(got) != crypto.Keccak256Hash([]byte("Witness(address to,address facilitator,uint256 validAfter)")) {
		t.Fatalf("WITNESS_TYPEHASH=%x %v", got, err)
	}
	// The EIP-712 type the client signs ends with the proxy's witness type string.
	td := (&contracts.UptoPermit{}).TypedData(baseSepolia)
	if got, want := string(td.EncodeType("PermitWitnessTransferFrom")),
		"PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,"+contracts.UptoWitnessTypeString; got != want {
		t.Fatalf("encodeType=%q, want %q", got, want)
	}
}

// A permit for 5 USDC at most settles 1.234567 of it: exactly that moves, once; the permit's nonce
// is spent, so the same permit again is refused and moves nothing.
func TestUptoSettle(t *testing.T) {
	c := newUptoChain(t, baseSepolia)
	payer := c.payerAddress()
	c.approvePermit2(t, payer, c.payer)
	allowance, err := c.token.Allowance(&bind.CallOpts{Context: t.Context()}, payer, contracts.Permit2Address)
	if err != nil || allowance.Cmp(maxUint256) != 0 {
		t.Fatalf("allowance of Permit2=%v %v, want max", allowance, err)
	}

	p := c.newPermit(t, payer, 5_000_000)
	sig := c.sign(t, p, c.payer)
	tx, err := c.settle(c.relayer, p, 1_234_567, sig)
	r := c.mineOK(t, tx, err)
	if got, want := balances(t, c.token, payer, c.payee), []int64{8_765_433, 1_234_567}; !slices.Equal(got, want) {
		t.Fatalf("balances payer, payee = %v, want %v", got, want)
	}
	// One token Transfer(payer → payee, amount) and the proxy's Settled().
	var transfers, settled int
	for _, l := range r.Logs {
		if ev, err := c.token.ParseTransfer(*l); err == nil {
			transfers++
			if ev.From != payer || ev.To != c.payee || ev.Value.Int64() != 1_234_567 {
				t.Fatalf("Transfer %s → %s %s, want %s → %s 1234567", ev.From, ev.To, ev.Value, payer, c.payee)
			}
		}
		if _, err := c.proxy.ParseSettled(*l); err == nil && l.Address == contracts.UptoProxyAddress {
			settled++
		}
	}
	if transfers != 1 || settled != 1 {
		t.Fatalf("%d Transfer and %d Settled logs, want 1 and 1", transfers, settled)
	}
	if !c.nonceUsed(t, payer, p.Nonce) {
		t.Fatal("nonce not marked used after settlement")
	}

	_, err = c.settle(c.relayer, p, 1, sig)
	if got := revertError(t, err); got != "InvalidNonce" {
		t.Fatalf("second settle: revert %q, want InvalidNonce", got)
	}
	if got, want := balances(t, c.token, payer, c.payee), []int64{8_765_433, 1_234_567}; !slices.Equal(got, want) {
		t.Fatalf("after the replay: balances payer, payee = %v, want %v", got, want)
	}

	// The whole maximum may be settled too.
	q := c.newPermit(t, payer, 2_000_000)
	tx, err = c.settle(c.relayer, q, 2_000_000, c.sign(t, q, c.payer))
	c.mineOK(t, tx, err)
	if got, want := balances(t, c.token, payer, c.payee), []int64{6_765_433, 3_234_567}; !slices.Equal(got, want) {
		t.Fatalf("balances payer, payee = %v, want %v", got, want)
	}
}

// Each broken settlement is refused with the proxy's or Permit2's error, spends no nonce and moves
// nothing.
func TestUptoSettleRefused(t *testing.T) {
	c := newUptoChain(t, baseSepolia)
	payer := c.payerAddress()
	c.approvePermit2(t, payer, c.payer)
	_, stranger := c.fundedKey(t)
	unapproved := mustKey(t)
	c.mint(t, c.token, crypto.PubkeyToAddress(unapproved.PublicKey), 10_000_000)

	cases := []struct {
		name   string
		edit   func(p *contracts.UptoPermit)                    // before signing
		tamper func(p *contracts.UptoPermit, sig []byte) []byte // after signing
		chain  int64                                            // domain chain id signed for, if not the chain's
		from   *bind.TransactOpts                               // caller, if not the facilitator
		key    bool                                             // signed by the unapproved holder
		amount int64                                            // settled, if not 1_000_000
		want   string
	}{
		{name: "over the maximum", amount: 5_000_001, want: "AmountExceedsPermitted"},
		{name: "zero", amount: -1, want: "InvalidAmount"},
		{name: "another caller", from: stranger, want: "UnauthorizedFacilitator"},
		{name: "witness facilitator changed to the caller", from: stranger,
			tamper: func(p *contracts.UptoPermit, s []byte) []byte { p.Facilitator = stranger.From; return s }, want: "InvalidSigner"},
		{name: "witness payee changed", tamper: func(p *contracts.UptoPermit, s []byte) []byte { p.To = stranger.From; return s }, want: "InvalidSigner"},
		{name: "maximum raised", tamper: func(p *contracts.UptoPermit, s []byte) []byte { p.Amount = big.NewInt(9_000_000); return s }, want: "InvalidSigner"},
		{name: "zero payee", edit: func(p *contracts.UptoPermit) { p.To = common.Address{} }, want: "InvalidDestination"},
		{name: "zero owner", tamper: func(p *contracts.UptoPermit, s []byte) []byte { p.Owner = common.Address{}; return s }, want: "InvalidOwner"},
		{name: "expired", edit: func(p *contracts.UptoPermit) { p.Deadline = big.NewInt(c.now(t) - 1) }, want: "SignatureExpired"},
		{name: "not yet valid", edit: func(p *contracts.UptoPermit) { p.ValidAfter = big.NewInt(c.now(t) + 3600) }, want: "PaymentTooEarly"},
		{name: "signed for the chain's own id", chain: localChain, want: "InvalidSigner"},
		{name: "bad length", tamper: func(_ *contracts.UptoPermit, s []byte) []byte { return s[:63] }, want: "InvalidSignatureLength"},
		{name: "no Permit2 allowance", key: true, want: "TRANSFER_FROM_FAILED"},
		{name: "over the balance", edit: func(p *contracts.UptoPermit) { p.Amount = big.NewInt(20_000_000) }, amount: 10_000_001, want: "TRANSFER_FROM_FAILED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, owner := c.payer, payer
			if tc.key {
				key, owner = unapproved, crypto.PubkeyToAddress(unapproved.PublicKey)
			}
			p := c.newPermit(t, owner, 5_000_000)
			if tc.edit != nil {
				tc.edit(p)
			}
			nonceOwner := p.Owner
			chainID := c.domainChainID
			if tc.chain != 0 {
				chainID = tc.chain
			}
			sig, err := p.Sign(key, chainID)
			if err != nil {
				t.Fatal(err)
			}
			if tc.tamper != nil {
				sig = tc.tamper(p, sig)
			}
			from, amount := c.relayer, int64(1_000_000)
			if tc.from != nil {
				from = tc.from
			}
			if tc.amount > 0 {
				amount = tc.amount
			} else if tc.amount < 0 {
				amount = 0
			}
			_, err = c.settle(from, p, amount, sig)
			if got := revertError(t, err); got != tc.want {
				t.Fatalf("revert %q, want %q", got, tc.want)
			}
			if c.nonceUsed(t, nonceOwner, p.Nonce) {
				t.Fatal("nonce marked used after a refusal")
			}
		})
	}
	if got, want := balances(t, c.token, payer, c.payee), []int64{10_000_000, 0}; !slices.Equal(got, want) {
		t.Fatalf("balances payer, payee = %v, want %v", got, want)
	}
}

// The digest contracts.UptoPermit signs is the one Permit2 recovers: a signature over the digest
// built by hand from the EIP-712 type strings settles.
func TestUptoDigestByHand(t *testing.T) {
	c := newUptoChain(t, baseSepolia)
	p := c.newPermit(t, c.payerAddress(), 1_000_000)
	u256 := func(v *big.Int) []byte { return common.LeftPadBytes(v.Bytes(), 32) }
	addr := func(a common.Address) []byte { return common.LeftPadBytes(a.Bytes(), 32) }
	k := func(parts ...[]byte) []byte { return crypto.Keccak256(parts...) }
	tokenPermissions := k(k([]byte("TokenPermissions(address token,uint256 amount)")), addr(p.Token), u256(p.Amount))
	witness := k(k([]byte("Witness(address to,address facilitator,uint256 validAfter)")), addr(p.To), addr(p.Facilitator), u256(p.ValidAfter))
	typeHash := k([]byte("PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)" +
		"TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)"))
	structHash := k(typeHash, tokenPermissions, addr(contracts.UptoProxyAddress), u256(p.Nonce), u256(p.Deadline), witness)
	domain := k(k([]byte("EIP712Domain(string name,uint256 chainId,address verifyingContract)")), k([]byte("Permit2")),
		u256(big.NewInt(baseSepolia)), addr(contracts.Permit2Address))
	digest := k([]byte("\x19\x01"), domain, structHash)
	if got, err := p.Digest(baseSepolia); err != nil || !bytes.Equal(got[:], digest) {
		t.Fatalf("Digest=%x %v, want %x", got, err, digest)
	}
	c.approvePermit2(t, c.payerAddress(), c.payer)
	tx, err := c.settle(c.relayer, p, 400_000, signHash(t, digest, c.payer))
	c.mineOK(t, tx, err)
	if got, want := balances(t, c.token, c.payerAddress(), c.payee), []int64{9_600_000, 400_000}; !slices.Equal(got, want) {
		t.Fatalf("balances payer, payee = %v, want %v", got, want)
	}
}
