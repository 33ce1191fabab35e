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
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/paymeter/paymeter/contracts"
)

// maxUint256 is the allowance a wallet gives Permit2 once and for all.
var maxUint256 = contracts.MaxUint256

// uptoChain is a simulated chain with TestPermit2 and TestUptoProxy allocated at their canonical
// addresses, a TestUSDC under Base Sepolia USDC's domain, and a payer holding 10 USDC. The relayer
// is the facilitator: the one caller the payer's permits allow.
type uptoChain struct {
	*chain
	d       domain
	token   *contracts.TestUSDC
	permit2 *contracts.TestPermit2
	proxy   *contracts.TestUptoProxy
	// domainChainID is the chain id Permit2's domain carries and permits are signed for.
	domainChainID int64
}

// newUptoChain starts the chain with Permit2's domain chain id permit2ChainID (0: the chain's own).
func newUptoChain(t *testing.T, permit2ChainID int64) *uptoChain {
	t.Helper()
	c := &uptoChain{chain: newChainWith(t, contracts.UptoAlloc(permit2ChainID)), domainChainID: permit2ChainID}
	if c.domainChainID == 0 {
		c.domainChainID = localChain
	}
	c.d, c.token = c.deployToken(t, baseSepolia)
	var err error
	if c.permit2, err = contracts.NewTestPermit2(contracts.Permit2Address, c.client); err != nil {
		t.Fatal(err)
	}
	if c.proxy, err = contracts.NewTestUptoProxy(contracts.UptoProxyAddress, c.client); err != nil {
		t.Fatal(err)
	}
	c.mint(t, c.token, c.payerAddress(), 10_000_000)
	return c
}

// newPermit is a permit of owner for at most max units, paying the payee, settled by the relayer,
// valid from 0 to ten minutes after the latest block, with a random nonce: what @x402/evm signs.
func (c *uptoChain) newPermit(t *testing.T, owner common.Address, max int64) *contracts.UptoPermit {
	t.Helper()
	nonce, err := rand.Int(rand.Reader, maxUint256)
	if err != nil {
		t.Fatal(err)
	}
	return &contracts.UptoPermit{Owner: owner, Token: c.d.token, Amount: big.NewInt(max), Nonce: nonce,
		Deadline: big.NewInt(c.now(t) + 600), To: c.payee, Facilitator: c.relayer.From, ValidAfter: new(big.Int)}
}

func (c *uptoChain) sign(t *testing.T, p *contracts.UptoPermit, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	sig, err := p.Sign(key, c.domainChainID)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// settle calls the proxy's settle from opts for amount of p.
func (c *uptoChain) settle(opts *bind.TransactOpts, p *contracts.UptoPermit, amount int64, sig []byte) (*types.Transaction, error) {
	return c.proxy.Settle(opts, p.Permit(), big.NewInt(amount), p.Owner, p.Witness(), sig)
}

// approvePermit2 gives Permit2 owner's whole allowance with an EIP-2612 permit signed by key (owner's
// own key, or its EIP-1271 wallet's owner), which the relayer submits: owner needs no ether.
func (c *uptoChain) approvePermit2(t *testing.T, owner common.Address, key *ecdsa.PrivateKey) {
	t.Helper()
	deadline := maxUint256
	sig := signHash(t, c.erc2612Digest(t, owner, contracts.Permit2Address, maxUint256, deadline), key)
	tx, err := c.token.Permit(c.relayer, owner, contracts.Permit2Address, maxUint256, deadline, sig)
	c.mineOK(t, tx, err)
}

// erc2612Digest is the EIP-712 digest of an EIP-2612 permit of the token, at owner's current nonce.
func (c *uptoChain) erc2612Digest(t *testing.T, owner, spender common.Address, value, deadline *big.Int) []byte {
	t.Helper()
	nonce, err := c.token.Nonces(&bind.CallOpts{Context: t.Context()}, owner)
	if err != nil {
		t.Fatal(err)
	}
	p := contracts.ERC2612Permit{Owner: owner, Spender: spender, Value: value, Nonce: nonce, Deadline: deadline}
	td := p.TypedData(c.d.name, c.d.version, c.d.chainID, c.d.token)
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

// nonceUsed reports whether Permit2 has owner's nonce marked used.
func (c *uptoChain) nonceUsed(t *testing.T, owner common.Address, nonce *big.Int) bool {
	t.Helper()
	word, err := c.permit2.NonceBitmap(&bind.CallOpts{Context: t.Context()}, owner, new(big.Int).Rsh(nonce, 8))
	if err != nil {
		t.Fatal(err)
	}
	return word.Bit(int(new(big.Int).And(nonce, big.NewInt(0xff)).Int64())) == 1
}

// revertError names the revert in err: a custom error of TestPermit2 or TestUptoProxy by its name,
// else the Error(string) reason.
func revertError(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("no error, want a revert")
	}
	var de rpc.DataError
	if !errors.As(err, &de) {
		t.Fatalf("error %q (%T) carries no revert data", err, err)
	}
	hexData, _ := de.ErrorData().(string)
	data, err := hexutil.Decode(hexData)
	if err != nil || len(data) < 4 {
		t.Fatalf("revert data %q: %v", hexData, err)
	}
	for _, meta := range []*bind.MetaData{contracts.TestPermit2MetaData, contracts.TestUptoProxyMetaData} {
		parsed, err := meta.GetAbi()
		if err != nil {
			t.Fatal(err)
		}
		for name, e := range parsed.Errors {
			if [4]byte(e.ID[:4]) == [4]byte(data[:4]) {
				return name
			}
		}
	}
	reason, err := abi.UnpackRevert(data)
	if err != nil {
		t.Fatalf("unpack revert %s: %v", hexData, err)
	}
	return reason
}

// fundedKey is a new key holding one ether, for the calls a payer makes itself.
func (c *uptoChain) fundedKey(t *testing.T) (*ecdsa.PrivateKey, *bind.TransactOpts) {
	t.Helper()
	key := mustKey(t)
	addr := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := c.client.PendingNonceAt(t.Context(), c.relayer.From)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := c.client.SuggestGasTipCap(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.client.HeaderByNumber(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	tx, err := c.relayer.Signer(c.relayer.From, types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(localChain),
		Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: 21_000, To: &addr, Value: big.NewInt(1e18)}))
	if err == nil {
		err = c.client.SendTransaction(t.Context(), tx)
	}
	c.mineOK(t, tx, err)
	opts, err := bind.NewKeyedTransactorWithChainID(key, big.NewInt(localChain))
	if err != nil {
		t.Fatal(err)
	}
	opts.Context = t.Context()
	return key, opts
}
