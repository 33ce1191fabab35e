package devchain

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/paymeter/paymeter/contracts"
)

// rpcChain is a chain served over HTTP with the test USDC deployed, a
// payer holding 100 of it, and a client dialled over HTTP.
type rpcChain struct {
	*Chain
	usdc     *USDC
	http     *ethclient.Client
	raw      *rpc.Client
	deployer *ecdsa.PrivateKey
	deployed *types.Receipt
	payer    common.Address
}

func startRPCChain(t *testing.T, alloc types.GenesisAlloc) *rpcChain {
	t.Helper()
	deployer, deployerAddr := NewKey()
	_, payer := NewKey()
	if alloc == nil {
		alloc = types.GenesisAlloc{}
	}
	alloc[deployerAddr] = types.Account{Balance: Ether(10)}
	c, err := Start(Config{ChainID: 1337, RPC: "127.0.0.1:0", Alloc: alloc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := testContext(t)
	raw, err := rpc.DialContext(ctx, c.RPCURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(raw.Close)
	u, err := c.DeployUSDC(ctx, deployer, BaseSepoliaUSDC, map[common.Address]int64{payer: 100_000_000})
	if err != nil {
		t.Fatal(err)
	}
	rc := &rpcChain{Chain: c, usdc: u, http: ethclient.NewClient(raw), raw: raw, deployer: deployer, payer: payer}
	block, err := rc.http.BlockByNumber(ctx, big.NewInt(1))
	if err != nil {
		t.Fatal(err)
	}
	if rc.deployed, err = rc.http.TransactionReceipt(ctx, block.Transactions()[0].Hash()); err != nil {
		t.Fatal(err)
	}
	return rc
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawResult calls method over HTTP and returns its result's JSON object.
func (c *rpcChain) rawResult(t *testing.T, method string, args ...any) map[string]json.RawMessage {
	t.Helper()
	var out map[string]json.RawMessage
	if err := c.raw.CallContext(testContext(t), &out, method, args...); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return out
}

// The chain's identity and its blocks over HTTP, in go-ethereum's
// encodings, as ethclient decodes them.
func TestRPC_ChainAndBlocks(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	if id, err := c.http.ChainID(ctx); err != nil || id.Int64() != 1337 {
		t.Fatalf("chain id %v %v", id, err)
	}
	if id, err := c.http.NetworkID(ctx); err != nil || id.Int64() != 1337 {
		t.Fatalf("net_version %v %v", id, err)
	}
	var version string
	if err := c.raw.CallContext(ctx, &version, "web3_clientVersion"); err != nil || version != "paymeter-devchain" {
		t.Fatalf("web3_clientVersion %q %v", version, err)
	}
	if p, err := c.http.SyncProgress(ctx); err != nil || p != nil {
		t.Fatalf("syncing %v %v", p, err)
	}
	if n, err := c.http.BlockNumber(ctx); err != nil || n != 1 {
		t.Fatalf("block number %d %v", n, err)
	}

	// The deployment's block: the deployment and the mint, in order.
	b, err := c.http.BlockByNumber(ctx, nil)
	if err != nil || b.NumberU64() != 1 || len(b.Transactions()) != 2 || b.Time() > uint64(time.Now().Unix()) {
		t.Fatalf("head %v: %v", b, err)
	}
	byHash, err := c.http.BlockByHash(ctx, b.Hash())
	if err != nil || byHash.Hash() != b.Hash() || byHash.Transactions()[1].Hash() != b.Transactions()[1].Hash() {
		t.Fatalf("block by hash: %v", err)
	}
	if h, err := c.http.HeaderByNumber(ctx, big.NewInt(0)); err != nil || h.Number.Uint64() != 0 || h.Hash() != b.ParentHash() {
		t.Fatalf("genesis header %v %v", h, err)
	}
	block := c.rawResult(t, "eth_getBlockByNumber", "0x1", false)
	if string(block["hash"]) != `"`+b.Hash().Hex()+`"` || string(block["uncles"]) != "[]" || string(block["withdrawals"]) != "[]" ||
		string(block["size"]) != `"`+hexutil.EncodeUint64(b.Size())+`"` || string(block["transactions"]) != `["`+b.Transactions()[0].Hash().Hex()+`","`+b.Transactions()[1].Hash().Hex()+`"]` {
		t.Fatalf("block JSON %v", block)
	}
	if _, err := c.http.BlockByNumber(ctx, big.NewInt(2)); !errors.Is(err, ethereum.NotFound) {
		t.Fatalf("block 2: %v", err)
	}
	var accounts []common.Address
	if err := c.raw.CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) != 0 {
		t.Fatalf("accounts %v %v", accounts, err)
	}
}

// Receipts and transactions over HTTP: where they are, who sent them,
// what they created.
func TestRPC_ReceiptsAndTransactions(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	b, err := c.http.BlockByNumber(ctx, big.NewInt(1))
	if err != nil {
		t.Fatal(err)
	}

	// The deployment's receipt and transaction.
	if c.deployed.ContractAddress != c.usdc.Address || c.deployed.BlockNumber.Int64() != 1 || c.deployed.TransactionIndex != 0 ||
		c.deployed.BlockHash != b.Hash() || c.deployed.Status != 1 || c.deployed.EffectiveGasPrice.Sign() <= 0 {
		t.Fatalf("deployment receipt %+v", c.deployed)
	}
	mintHash := b.Transactions()[1].Hash()
	rc := c.rawResult(t, "eth_getTransactionReceipt", mintHash)
	from := addrOf(c.deployer)
	if string(rc["contractAddress"]) != "null" || string(rc["to"]) != `"`+jsonAddr(c.usdc.Address)+`"` || string(rc["from"]) != `"`+jsonAddr(from)+`"` ||
		string(rc["transactionIndex"]) != `"0x1"` || string(rc["blockNumber"]) != `"0x1"` {
		t.Fatalf("mint receipt JSON %v", rc)
	}
	tx, pending, err := c.http.TransactionByHash(ctx, mintHash)
	if err != nil || pending || tx.Hash() != mintHash {
		t.Fatalf("mint tx %v %v %v", tx, pending, err)
	}
	if sender, err := c.http.TransactionSender(ctx, tx, b.Hash(), 1); err != nil || sender != from {
		t.Fatalf("sender %v %v", sender, err)
	}
	txJSON := c.rawResult(t, "eth_getTransactionByHash", mintHash)
	if string(txJSON["blockHash"]) != `"`+b.Hash().Hex()+`"` || string(txJSON["transactionIndex"]) != `"0x1"` || string(txJSON["from"]) != `"`+jsonAddr(from)+`"` {
		t.Fatalf("mint tx JSON %v", txJSON)
	}
	if _, err := c.http.TransactionReceipt(ctx, common.Hash{1}); !errors.Is(err, ethereum.NotFound) {
		t.Fatalf("unknown receipt: %v", err)
	}

}

// State over HTTP: balances, code, nonces, at the head and at genesis.
func TestRPC_StateAt(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	from := addrOf(c.deployer)
	if n, err := c.http.NonceAt(ctx, from, nil); err != nil || n != 2 {
		t.Fatalf("nonce %d %v", n, err)
	}
	if n, err := c.http.NonceAt(ctx, from, big.NewInt(0)); err != nil || n != 0 {
		t.Fatalf("genesis nonce %d %v", n, err)
	}
	if bal, err := c.http.BalanceAt(ctx, from, big.NewInt(0)); err != nil || bal.Cmp(Ether(10)) != 0 {
		t.Fatalf("genesis balance %v %v", bal, err)
	}
	if bal, err := c.http.BalanceAt(ctx, from, nil); err != nil || bal.Cmp(Ether(10)) >= 0 || bal.Sign() <= 0 {
		t.Fatalf("balance after gas %v %v", bal, err)
	}
	if code, err := c.http.CodeAt(ctx, c.usdc.Address, nil); err != nil || len(code) == 0 {
		t.Fatalf("code %d %v", len(code), err)
	}
	if code, err := c.http.CodeAt(ctx, c.usdc.Address, big.NewInt(0)); err != nil || len(code) != 0 {
		t.Fatalf("code at genesis %d %v", len(code), err)
	}
	if code, err := c.http.PendingCodeAt(ctx, c.usdc.Address); err != nil || len(code) == 0 {
		t.Fatalf("pending code %d %v", len(code), err)
	}

}

// Calls and estimates at the head and at a past block, and the fees the
// chain suggests, over HTTP.
func TestRPC_CallsEstimatesAndFees(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	from := addrOf(c.deployer)
	b, err := c.http.BlockByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := contracts.TestUSDCMetaData.GetAbi()
	data, _ := token.Pack("balanceOf", c.payer)
	out, err := c.http.CallContract(ctx, ethereum.CallMsg{To: &c.usdc.Address, Data: data}, nil)
	if err != nil || new(big.Int).SetBytes(out).Int64() != 100_000_000 {
		t.Fatalf("balanceOf %x %v", out, err)
	}
	if out, err := c.http.PendingCallContract(ctx, ethereum.CallMsg{To: &c.usdc.Address, Data: data}); err != nil || new(big.Int).SetBytes(out).Int64() != 100_000_000 {
		t.Fatalf("pending balanceOf %x %v", out, err)
	}
	if out, err := c.http.CallContract(ctx, ethereum.CallMsg{To: &c.usdc.Address, Data: data}, big.NewInt(0)); err != nil || len(out) != 0 {
		t.Fatalf("balanceOf at genesis %x %v", out, err)
	}
	mint, _ := token.Pack("mint", c.payer, big.NewInt(1))
	if gas, err := c.http.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &c.usdc.Address, Data: mint}); err != nil || gas < 21_000 || gas > mintGas {
		t.Fatalf("estimate %d %v", gas, err)
	}

	// Fees.
	tip, err := c.http.SuggestGasTipCap(ctx)
	if err != nil || tip.Cmp(suggestedTip) != 0 {
		t.Fatalf("tip %v %v", tip, err)
	}
	if price, err := c.http.SuggestGasPrice(ctx); err != nil || price.Cmp(new(big.Int).Add(tip, b.BaseFee())) != 0 {
		t.Fatalf("gas price %v %v", price, err)
	}
	fh, err := c.http.FeeHistory(ctx, 10, nil, []float64{50})
	if err != nil || fh.OldestBlock.Int64() != 0 || len(fh.BaseFee) != 3 || fh.BaseFee[1].Cmp(b.BaseFee()) != 0 || len(fh.Reward) != 2 || fh.GasUsedRatio[0] != 0 {
		t.Fatalf("fee history %+v %v", fh, err)
	}
}

// A transaction that waits is in the pool: found with no block, no
// receipt yet, counted by the pending nonce; then mined.
func TestRPC_PendingTransaction(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	from := addrOf(c.deployer)
	c.sealMu.Lock() // hold the sealer off
	tx := types.MustSignNewTx(c.deployer, types.LatestSignerForChainID(big.NewInt(c.ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(c.ChainID), Nonce: 2, GasTipCap: suggestedTip, GasFeeCap: big.NewInt(1e10), Gas: 21_000, To: &c.payer, Value: big.NewInt(7)})
	err := c.http.SendTransaction(ctx, tx)
	if err != nil {
		c.sealMu.Unlock()
		t.Fatal(err)
	}
	got, pending, err := c.http.TransactionByHash(ctx, tx.Hash())
	_, rcErr := c.http.TransactionReceipt(ctx, tx.Hash())
	nonce, nonceErr := c.http.PendingNonceAt(ctx, from)
	txJSON := c.rawResult(t, "eth_getTransactionByHash", tx.Hash())
	c.sealMu.Unlock()
	if err != nil || !pending || got.Hash() != tx.Hash() {
		t.Fatalf("pending tx %v %v", pending, err)
	}
	if !errors.Is(rcErr, ethereum.NotFound) {
		t.Fatalf("receipt while pending: %v", rcErr)
	}
	if nonceErr != nil || nonce != 3 {
		t.Fatalf("pending nonce %d %v", nonce, nonceErr)
	}
	if string(txJSON["blockHash"]) != "null" || string(txJSON["from"]) != `"`+jsonAddr(from)+`"` {
		t.Fatalf("pending tx JSON %v", txJSON)
	}
	rc, err := c.Wait(ctx, tx)
	if err != nil || rc.BlockNumber.Int64() != 2 {
		t.Fatalf("mined %v %v", rc, err)
	}
	if bal, _ := c.http.BalanceAt(ctx, c.payer, nil); bal.Int64() != 7 {
		t.Fatalf("payer holds %v wei", bal)
	}
	// Signed for no chain: refused, as go-ethereum's RPC does.
	legacy := types.MustSignNewTx(c.deployer, types.HomesteadSigner{}, &types.LegacyTx{Nonce: 3, GasPrice: big.NewInt(1e10), Gas: 21_000, To: &c.payer})
	if err := c.http.SendTransaction(ctx, legacy); err == nil || err.Error() != "only replay-protected (EIP-155) transactions allowed over RPC" {
		t.Fatalf("unprotected tx: %v", err)
	}
}

// A revert over HTTP is go-ethereum's error: code 3, "execution reverted:
// REASON", the revert data as hex, from eth_call and eth_estimateGas.
func TestRPC_RevertOverHTTP(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	token, _ := contracts.TestUSDCMetaData.GetAbi()
	_, broke := NewKey()
	data, _ := token.Pack("transfer", c.payer, big.NewInt(1))
	msg := ethereum.CallMsg{From: broke, To: &c.usdc.Address, Data: data}
	const reason = "ERC20: transfer amount exceeds balance"
	_, callErr := c.http.CallContract(ctx, msg, nil)
	_, estErr := c.http.EstimateGas(ctx, msg)
	for name, err := range map[string]error{"eth_call": callErr, "eth_estimateGas": estErr} {
		var re rpc.Error
		var de rpc.DataError
		if !errors.As(err, &re) || re.ErrorCode() != 3 || err.Error() != "execution reverted: "+reason || !errors.As(err, &de) {
			t.Fatalf("%s: %v", name, err)
		}
		s, _ := de.ErrorData().(string)
		b, err := hexutil.Decode(s)
		if err != nil {
			t.Fatalf("%s: data %v", name, de.ErrorData())
		}
		if got, err := abi.UnpackRevert(b); err != nil || got != reason {
			t.Fatalf("%s: revert data says %q %v", name, got, err)
		}
	}
}

// addrOf is k's address.
func addrOf(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

// jsonAddr is a as the JSON encodes it: lower case hex.
func jsonAddr(a common.Address) string { return hexutil.Encode(a[:]) }
