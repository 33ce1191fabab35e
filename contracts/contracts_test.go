package contracts_test

import (
	"fmt"
	"math/big"
	"slices"
	"testing"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/paymeter/paymeter/contracts"
)

// FiatToken v2.2's revert reasons, which TestUSDC reproduces.
const (
	errNotYetValid = "FiatTokenV2: authorization is not yet valid"
	errExpired     = "FiatTokenV2: authorization is expired"
	errUsed        = "FiatTokenV2: authorization is used or canceled"
	errSignature   = "FiatTokenV2: invalid signature"
	errBalance     = "ERC20: transfer amount exceeds balance"
	errHighS       = "ECRecover: invalid signature 's' value"
	errBadV        = "ECRecover: invalid signature 'v' value"
)

func TestTestUSDCDomain(t *testing.T) {
	for _, chainID := range []int64{baseSepolia, localChain} {
		t.Run(fmt.Sprint(chainID), func(t *testing.T) {
			c := newChain(t)
			d, token := c.deployToken(t, chainID)
			call := &bind.CallOpts{Context: t.Context()}

			td := authorization{domain: d}.typedData()
			want, err := td.HashStruct("EIP712Domain", td.Domain.Map())
			if err != nil {
				t.Fatal(err)
			}
			got, err := token.DOMAINSEPARATOR(call)
			if err != nil {
				t.Fatal(err)
			}
			if common.Hash(got) != common.BytesToHash(want) {
				t.Fatalf("DOMAIN_SEPARATOR()=%s, want %s (apitypes, chain id %d)", common.Hash(got), want, chainID)
			}

			typeHash, err := token.TRANSFERWITHAUTHORIZATIONTYPEHASH(call)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := common.Hash(typeHash), common.BytesToHash(td.TypeHash("TransferWithAuthorization")); got != want {
				t.Fatalf("TRANSFER_WITH_AUTHORIZATION_TYPEHASH=%s, want %s", got, want)
			}

			decimals, err := token.Decimals(call)
			if err != nil {
				t.Fatal(err)
			}
			name, err := token.Name(call)
			if err != nil {
				t.Fatal(err)
			}
			version, err := token.Version(call)
			if err != nil {
				t.Fatal(err)
			}
			if decimals != 6 || name != d.name || version != d.version {
				t.Fatalf("decimals, name, version = %d, %q, %q; want 6, %q, %q", decimals, name, version, d.name, d.version)
			}
		})
	}
}

// A relayer settles the payer's authorization, signed for the token's domain, whatever chain id that
// domain names: the simulated chain's own, or Base Sepolia's as x402 v1 clients sign.
func TestTransferWithAuthorization(t *testing.T) {
	for _, chainID := range []int64{baseSepolia, localChain} {
		for _, o := range overloads {
			t.Run(fmt.Sprintf("%d/%s", chainID, o.name), func(t *testing.T) {
				c := newChain(t)
				d, token := c.deployToken(t, chainID)
				payer := c.payerAddress()
				c.mint(t, token, payer, 10_000_000)

				a := c.newAuthorization(t, d, payer, 1_500_000)
				tx, err := o.send(c.relayer, token, a, a.sign(t, c.payer))
				r := c.mineOK(t, tx, err)

				if got, want := balances(t, token, payer, c.payee), []int64{8_500_000, 1_500_000}; !slices.Equal(got, want) {
					t.Fatalf("balances payer, payee = %v, want %v", got, want)
				}
				if !used(t, token, a) {
					t.Fatal("authorizationState=false after settlement, want true")
				}
				checkSettlementLogs(t, token, r, a)
				eth, err := c.client.BalanceAt(t.Context(), payer, nil)
				if err != nil {
					t.Fatal(err)
				}
				if eth.Sign() != 0 {
					t.Fatalf("payer ether balance=%s, want 0 (the relayer pays the gas)", eth)
				}
			})
		}
	}
}

// checkSettlementLogs finds AuthorizationUsed and Transfer for a in the receipt.
func checkSettlementLogs(t *testing.T, token *contracts.TestUSDC, r *types.Receipt, a authorization) {
	t.Helper()
	var usedEvents, transfers int
	for _, l := range r.Logs {
		if ev, err := token.ParseAuthorizationUsed(*l); err == nil {
			usedEvents++
			if ev.Authorizer != a.from || ev.Nonce != a.nonce {
				t.Errorf("AuthorizationUsed(%s, %x), want (%s, %x)", ev.Authorizer, ev.Nonce, a.from, a.nonce)
			}
		}
		if ev, err := token.ParseTransfer(*l); err == nil {
			transfers++
			if ev.From != a.from || ev.To != a.to || ev.Value.Int64() != a.value {
				t.Errorf("Transfer(%s, %s, %s), want (%s, %s, %d)", ev.From, ev.To, ev.Value, a.from, a.to, a.value)
			}
		}
	}
	if usedEvents != 1 || transfers != 1 {
		t.Fatalf("%d AuthorizationUsed and %d Transfer events, want 1 and 1", usedEvents, transfers)
	}
}

// A replayed authorization is refused, by either overload. Its reason comes back from gas estimation
// (nothing is sent), and from an eth_call of a transaction that was mined anyway with status 0.
func TestReplayRefused(t *testing.T) {
	c := newChain(t)
	d, token := c.deployToken(t, baseSepolia)
	payer := c.payerAddress()
	c.mint(t, token, payer, 10_000_000)
	a := c.newAuthorization(t, d, payer, 1_000_000)
	sig := a.sign(t, c.payer)
	tx, err := viaVRS(c.relayer, token, a, sig)
	c.mineOK(t, tx, err)

	for _, o := range overloads {
		_, err := o.send(c.relayer, token, a, sig)
		if got := revertReason(t, err); got != errUsed {
			t.Fatalf("%s replay: revert %q, want %q", o.name, got, errUsed)
		}
	}

	// With a fixed gas limit the binding skips estimation and the replay is mined, failed.
	opts := *c.relayer
	opts.GasLimit = 200_000
	tx, err = viaVRS(&opts, token, a, sig)
	r := c.mine(t, tx, err)
	if r.Status != types.ReceiptStatusFailed {
		t.Fatalf("replay mined with status=%d, want %d", r.Status, types.ReceiptStatusFailed)
	}
	msg := ethereum.CallMsg{From: opts.From, To: tx.To(), Gas: tx.Gas(), Data: tx.Data()}
	_, err = c.client.CallContract(t.Context(), msg, new(big.Int).Sub(r.BlockNumber, big.NewInt(1)))
	if got := revertReason(t, err); got != errUsed {
		t.Fatalf("eth_call of the mined replay: revert %q, want %q", got, errUsed)
	}
	if got, want := balances(t, token, payer, c.payee), []int64{9_000_000, 1_000_000}; !slices.Equal(got, want) {
		t.Fatalf("balances payer, payee = %v, want %v", got, want)
	}
}

// Each broken authorization is refused with USDC's reason, by both overloads, and changes nothing.
func TestTransferWithAuthorizationRefused(t *testing.T) {
	c := newChain(t)
	d, token := c.deployToken(t, baseSepolia)
	payer := c.payerAddress()
	c.mint(t, token, payer, 10_000_000)
	secp256k1N := crypto.S256().Params().N

	cases := []struct {
		name     string
		edit     func(a *authorization)           // before signing
		stranger bool                             // signed by someone else than the payer
		tamper   func(a *authorization, s []byte) // after signing
		want     string
	}{
		{name: "not yet valid", edit: func(a *authorization) { a.validAfter = a.validBefore - 1 }, want: errNotYetValid},
		{name: "expired", edit: func(a *authorization) { a.validAfter, a.validBefore = 0, 1 }, want: errExpired},
		{name: "exceeds balance", edit: func(a *authorization) { a.value = 10_000_001 }, want: errBalance},
		{name: "other domain chain id", edit: func(a *authorization) { a.domain.chainID = localChain }, want: errSignature},
		{name: "other domain name", edit: func(a *authorization) { a.domain.name = "USD Coin" }, want: errSignature},
		{name: "wrong signer", stranger: true, want: errSignature},
		{name: "value raised", tamper: func(a *authorization, _ []byte) { a.value++ }, want: errSignature},
		{name: "payee changed", tamper: func(a *authorization, _ []byte) { a.to = payer }, want: errSignature},
		{name: "high s", tamper: func(_ *authorization, s []byte) {
			new(big.Int).Sub(secp256k1N, new(big.Int).SetBytes(s[32:64])).FillBytes(s[32:64])
			s[64] = 27 + 28 - s[64] // with v flipped, the same signer: the malleated twin
		}, want: errHighS},
		{name: "v 0/1", tamper: func(_ *authorization, s []byte) { s[64] -= 27 }, want: errBadV},
	}
	for _, tc := range cases {
		for _, o := range overloads {
			t.Run(tc.name+"/"+o.name, func(t *testing.T) {
				a := c.newAuthorization(t, d, payer, 1_000_000)
				if tc.edit != nil {
					tc.edit(&a)
				}
				key := c.payer
				if tc.stranger {
					key = mustKey(t)
				}
				sig := a.sign(t, key)
				if tc.tamper != nil {
					tc.tamper(&a, sig)
				}
				_, err := o.send(c.relayer, token, a, sig)
				if got := revertReason(t, err); got != tc.want {
					t.Fatalf("revert %q, want %q", got, tc.want)
				}
				if used(t, token, a) {
					t.Fatal("authorizationState=true after a refusal, want false")
				}
			})
		}
	}
	if got, want := balances(t, token, payer, c.payee), []int64{10_000_000, 0}; !slices.Equal(got, want) {
		t.Fatalf("balances payer, payee = %v, want %v", got, want)
	}
}

// A smart wallet pays with its owner's signature, checked through EIP-1271 by both overloads.
func TestEIP1271Wallet(t *testing.T) {
	c := newChain(t)
	d, token := c.deployToken(t, baseSepolia)
	owner := mustKey(t)
	walletAddr, tx, _, err := contracts.DeployTestWallet(c.relayer, c.client, crypto.PubkeyToAddress(owner.PublicKey))
	c.mineOK(t, tx, err)
	c.mint(t, token, walletAddr, 5_000_000)

	a := c.newAuthorization(t, d, walletAddr, 2_000_000)
	for _, o := range overloads {
		_, err := o.send(c.relayer, token, a, a.sign(t, mustKey(t)))
		if got := revertReason(t, err); got != errSignature {
			t.Fatalf("%s, stranger's signature: revert %q, want %q", o.name, got, errSignature)
		}
	}
	tx, err = viaBytes(c.relayer, token, a, a.sign(t, owner))
	c.mineOK(t, tx, err)
	if !used(t, token, a) {
		t.Fatal("authorizationState=false after settlement, want true")
	}
	b := c.newAuthorization(t, d, walletAddr, 1_000_000)
	tx, err = viaVRS(c.relayer, token, b, b.sign(t, owner))
	c.mineOK(t, tx, err)

	if got, want := balances(t, token, walletAddr, c.payee), []int64{2_000_000, 3_000_000}; !slices.Equal(got, want) {
		t.Fatalf("balances wallet, payee = %v, want %v", got, want)
	}
}

func TestWalletIsValidSignature(t *testing.T) {
	c := newChain(t)
	owner := mustKey(t)
	_, tx, wallet, err := contracts.DeployTestWallet(c.relayer, c.client, crypto.PubkeyToAddress(owner.PublicKey))
	c.mineOK(t, tx, err)

	hash := crypto.Keccak256([]byte("paymeter"))
	valid, invalid := [4]byte{0x16, 0x26, 0xba, 0x7e}, [4]byte{0xff, 0xff, 0xff, 0xff}
	tests := []struct {
		name string
		sig  []byte
		want [4]byte
	}{
		{"owner", signHash(t, hash, owner), valid},
		{"stranger", signHash(t, hash, mustKey(t)), invalid},
		{"owner, EIP-191 prefixed", signHash(t, accounts.TextHash(hash), owner), invalid},
		{"v 0/1", func() []byte { s := signHash(t, hash, owner); s[64] -= 27; return s }(), invalid},
		{"64 bytes", signHash(t, hash, owner)[:64], invalid},
		{"empty", nil, invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wallet.IsValidSignature(&bind.CallOpts{Context: t.Context()}, [32]byte(hash), tt.sig)
			if err != nil {
				t.Fatalf("isValidSignature reverted: %v", err)
			}
			if got != tt.want {
				t.Fatalf("isValidSignature=%x, want %x", got, tt.want)
			}
		})
	}
}
