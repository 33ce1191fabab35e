package contracts_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/paymeter/paymeter/contracts"
)

const (
	// baseSepolia is the chain id x402 v1 clients sign for when they pay on "base-sepolia".
	baseSepolia = 84532
	// localChain is the simulated backend's chain id (and geth --dev's).
	localChain = 1337
)

// chain is a simulated chain with a funded relayer, and a payer and payee who hold no ether: with
// EIP-3009 the relayer pays the gas.
type chain struct {
	sim     *simulated.Backend
	client  simulated.Client
	relayer *bind.TransactOpts
	payer   *ecdsa.PrivateKey
	payee   common.Address
}

func newChain(t *testing.T) *chain { return newChainWith(t, nil) }

// newChainWith is newChain with more genesis accounts (contracts.UptoAlloc).
func newChainWith(t *testing.T, extra types.GenesisAlloc) *chain {
	t.Helper()
	relayerKey := mustKey(t)
	relayer := crypto.PubkeyToAddress(relayerKey.PublicKey)
	alloc := types.GenesisAlloc{relayer: {Balance: new(big.Int).Lsh(big.NewInt(1), 100)}}
	for a, acct := range extra {
		alloc[a] = acct
	}
	sim := simulated.NewBackend(alloc)
	t.Cleanup(func() { _ = sim.Close() })
	client := sim.Client()
	chainID, err := client.ChainID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := chainID.Int64(), int64(localChain); got != want {
		t.Fatalf("simulated chain id=%d, want %d", got, want)
	}
	opts, err := bind.NewKeyedTransactorWithChainID(relayerKey, chainID)
	if err != nil {
		t.Fatal(err)
	}
	opts.Context = t.Context()
	return &chain{sim: sim, client: client, relayer: opts, payer: mustKey(t),
		payee: crypto.PubkeyToAddress(mustKey(t).PublicKey)}
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func (c *chain) payerAddress() common.Address { return crypto.PubkeyToAddress(c.payer.PublicKey) }

// mine commits the pending block and returns the receipt of tx, sent with err.
func (c *chain) mine(t *testing.T, tx *types.Transaction, err error) *types.Receipt {
	t.Helper()
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	c.sim.Commit()
	receipt, err := c.client.TransactionReceipt(t.Context(), tx.Hash())
	if err != nil {
		t.Fatalf("receipt %s: %v", tx.Hash(), err)
	}
	return receipt
}

// mineOK is mine for a transaction that must succeed.
func (c *chain) mineOK(t *testing.T, tx *types.Transaction, err error) *types.Receipt {
	t.Helper()
	r := c.mine(t, tx, err)
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("tx %s: status=%d, want %d", tx.Hash(), r.Status, types.ReceiptStatusSuccessful)
	}
	return r
}

// now is the timestamp of the latest block.
func (c *chain) now(t *testing.T) int64 {
	t.Helper()
	head, err := c.client.HeaderByNumber(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return int64(head.Time)
}

// deployToken deploys TestUSDC with the domain ("USDC", "2", domainChainID), which is Base Sepolia
// USDC's when domainChainID is 84532.
func (c *chain) deployToken(t *testing.T, domainChainID int64) (domain, *contracts.TestUSDC) {
	t.Helper()
	d := domain{name: "USDC", version: "2", chainID: domainChainID}
	addr, tx, token, err := contracts.DeployTestUSDC(c.relayer, c.client, d.name, d.version, big.NewInt(d.chainID))
	c.mineOK(t, tx, err)
	d.token = addr
	return d, token
}

func (c *chain) mint(t *testing.T, token *contracts.TestUSDC, to common.Address, value int64) {
	t.Helper()
	tx, err := token.Mint(c.relayer, to, big.NewInt(value))
	c.mineOK(t, tx, err)
}

// balances returns the token balances of addrs.
func balances(t *testing.T, token *contracts.TestUSDC, addrs ...common.Address) []int64 {
	t.Helper()
	out := make([]int64, len(addrs))
	for i, a := range addrs {
		bal, err := token.BalanceOf(&bind.CallOpts{Context: t.Context()}, a)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = bal.Int64()
	}
	return out
}

func used(t *testing.T, token *contracts.TestUSDC, a authorization) bool {
	t.Helper()
	ok, err := token.AuthorizationState(&bind.CallOpts{Context: t.Context()}, a.from, a.nonce)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// domain is the EIP-712 domain a token was deployed with.
type domain struct {
	name, version string
	chainID       int64
	token         common.Address
}

func (d domain) typed() apitypes.TypedDataDomain {
	return apitypes.TypedDataDomain{
		Name:              d.name,
		Version:           d.version,
		ChainId:           (*math.HexOrDecimal256)(big.NewInt(d.chainID)),
		VerifyingContract: d.token.Hex(),
	}
}

// authorization is an EIP-3009 TransferWithAuthorization with the domain it is signed for.
type authorization struct {
	domain                  domain
	from, to                common.Address
	value                   int64
	validAfter, validBefore int64
	nonce                   [32]byte
}

// newAuthorization pays the chain's payee; it is valid from ten minutes before the latest block to an
// hour after it, as x402 clients make them, and has a random nonce.
func (c *chain) newAuthorization(t *testing.T, d domain, from common.Address, value int64) authorization {
	t.Helper()
	var nonce [32]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		t.Fatal(err)
	}
	now := c.now(t)
	return authorization{domain: d, from: from, to: c.payee, value: value,
		validAfter: now - 600, validBefore: now + 3600, nonce: nonce}
}

func (a authorization) typedData() apitypes.TypedData {
	return apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {
				{Name: "name", Type: "string"},
				{Name: "version", Type: "string"},
				{Name: "chainId", Type: "uint256"},
				{Name: "verifyingContract", Type: "address"},
			},
			"TransferWithAuthorization": {
				{Name: "from", Type: "address"},
				{Name: "to", Type: "address"},
				{Name: "value", Type: "uint256"},
				{Name: "validAfter", Type: "uint256"},
				{Name: "validBefore", Type: "uint256"},
				{Name: "nonce", Type: "bytes32"},
			},
		},
		PrimaryType: "TransferWithAuthorization",
		Domain:      a.domain.typed(),
		Message: apitypes.TypedDataMessage{
			"from":        a.from.Hex(),
			"to":          a.to.Hex(),
			"value":       big.NewInt(a.value),
			"validAfter":  big.NewInt(a.validAfter),
			"validBefore": big.NewInt(a.validBefore),
			"nonce":       hexutil.Encode(a.nonce[:]),
		},
	}
}

// sign returns key's r‖s‖v signature of the authorization's EIP-712 digest, v being 27 or 28.
func (a authorization) sign(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	digest, _, err := apitypes.TypedDataAndHash(a.typedData())
	if err != nil {
		t.Fatal(err)
	}
	return signHash(t, digest, key)
}

// signHash signs hash as is and moves v from 0/1 to the 27/28 that ecrecover wants.
func signHash(t *testing.T, hash []byte, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	sig, err := crypto.Sign(hash, key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return sig
}

// submit sends an authorization through one of TestUSDC's two transferWithAuthorization overloads.
type submit func(*bind.TransactOpts, *contracts.TestUSDC, authorization, []byte) (*types.Transaction, error)

// overloads are the (v, r, s) and the bytes signature overloads, by name.
var overloads = []struct {
	name string
	send submit
}{
	{"vrs", viaVRS},
	{"bytes", viaBytes},
}

func viaVRS(opts *bind.TransactOpts, token *contracts.TestUSDC, a authorization, sig []byte) (*types.Transaction, error) {
	return token.TransferWithAuthorization0(opts, a.from, a.to, big.NewInt(a.value), big.NewInt(a.validAfter),
		big.NewInt(a.validBefore), a.nonce, sig[64], [32]byte(sig[:32]), [32]byte(sig[32:64]))
}

func viaBytes(opts *bind.TransactOpts, token *contracts.TestUSDC, a authorization, sig []byte) (*types.Transaction, error) {
	return token.TransferWithAuthorization(opts, a.from, a.to, big.NewInt(a.value), big.NewInt(a.validAfter),
		big.NewInt(a.validBefore), a.nonce, sig)
}

// revertReason is the Solidity revert reason in a JSON-RPC error: geth returns the revert data as the
// error's data (rpc.DataError), a hex string, from eth_call and eth_estimateGas alike.
func revertReason(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("no error, want a revert")
	}
	var de rpc.DataError
	if !errors.As(err, &de) {
		t.Fatalf("error %q (%T) carries no revert data", err, err)
	}
	hexData, ok := de.ErrorData().(string)
	if !ok {
		t.Fatalf("revert data %v is %T, want a hex string", de.ErrorData(), de.ErrorData())
	}
	data, err := hexutil.Decode(hexData)
	if err != nil {
		t.Fatal(err)
	}
	reason, err := abi.UnpackRevert(data)
	if err != nil {
		t.Fatalf("unpack revert %s: %v", hexData, err)
	}
	return reason
}
