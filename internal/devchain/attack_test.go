package devchain

import (
	"crypto/ecdsa"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/x402"
)

// eth_getLogs from a block past the head has nothing to answer: it must
// not hand back the head's logs (a scanner asking for what is new since
// the head would count them twice).
func TestRPC_GetLogsPastHead(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	head, err := c.http.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := new(big.Int).SetUint64(head + 1)
	for name, q := range map[string]ethereum.FilterQuery{
		"from head+1":            {FromBlock: next},
		"from head+1 to head+5":  {FromBlock: next, ToBlock: new(big.Int).SetUint64(head + 5)},
		"from head+1 to token":   {FromBlock: next, Addresses: []common.Address{c.usdc.Address}},
		"from far past the head": {FromBlock: big.NewInt(1 << 40)},
	} {
		logs, err := c.http.FilterLogs(ctx, q)
		if err != nil || len(logs) != 0 {
			t.Errorf("%s: %d logs %v, want none", name, len(logs), err)
		}
	}
	// The head itself still answers.
	if logs, err := c.http.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: new(big.Int).SetUint64(head)}); err != nil || len(logs) != 1 {
		t.Fatalf("head's logs: %d %v", len(logs), err)
	}
}

// A call or estimate at the head runs as the next block will, at the
// wall clock: the chain seals only when a transaction waits, so its head
// may be long past, and an authorization valid from a moment ago (x402
// clients sign validAfter a minute back) would seem not yet valid to the
// relayer's simulation, though the transaction succeeds when sent.
func TestRPC_CallAtHeadSeesTheClock(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	payerKey, payer := NewKey()
	if err := c.usdc.Mint(ctx, payer, 1_000); err != nil {
		t.Fatal(err)
	}
	head, err := c.http.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for time.Now().Unix() < int64(head.Time)+3 { // the chain idles
		time.Sleep(50 * time.Millisecond)
	}
	now := time.Now().Unix()
	n := &x402.Network{ChainID: BaseSepoliaUSDC.ChainID, Asset: c.usdc.Address, TokenName: BaseSepoliaUSDC.Name,
		TokenVersion: BaseSepoliaUSDC.Version, PayTo: common.Address{7}}
	a := x402.Authorization{From: payer, To: n.PayTo, Value: big.NewInt(10), ValidAfter: big.NewInt(now - 1), ValidBefore: big.NewInt(now + 60)}
	a.Nonce[0] = 1
	sig, err := x402.Sign(payerKey, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := contracts.TestUSDCMetaData.GetAbi()
	var r, s [32]byte
	copy(r[:], sig[:32])
	copy(s[:], sig[32:64])
	method := "transferWithAuthorization"
	if len(token.Methods[method].Inputs) != 9 {
		method += "0" // go-ethereum names the second overload so
	}
	data, err := token.Pack(method, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, sig[64], r, s)
	if err != nil {
		t.Fatal(err)
	}
	from := addrOf(c.deployer)
	msg := ethereum.CallMsg{From: from, To: &c.usdc.Address, Data: data}
	if _, err := c.http.CallContract(ctx, msg, nil); err != nil {
		t.Errorf("eth_call at latest: %v", err)
	}
	if _, err := c.http.PendingCallContract(ctx, msg); err != nil {
		t.Errorf("eth_call at pending: %v", err)
	}
	gas, err := c.http.EstimateGas(ctx, msg)
	if err != nil {
		t.Errorf("eth_estimateGas: %v", err)
		gas = 200_000
	}
	// An explicit block keeps its own time: at block 1 the authorization
	// was not valid yet.
	if _, err := c.http.CallContract(ctx, msg, head.Number); err == nil || !strings.Contains(err.Error(), "authorization is not yet valid") {
		t.Errorf("eth_call at the head's number: %v", err)
	}
	// What the simulation should have said: the transaction succeeds.
	nonce, _ := c.http.PendingNonceAt(ctx, from)
	tx := types.MustSignNewTx(c.deployer, types.LatestSignerForChainID(big.NewInt(c.ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(c.ChainID), Nonce: nonce, GasTipCap: suggestedTip, GasFeeCap: big.NewInt(1e10), Gas: gas * 2, To: &c.usdc.Address, Data: data})
	if err := c.http.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if bal, err := c.usdc.Balance(ctx, n.PayTo); err != nil || bal.Int64() != 10 {
		t.Fatalf("payTo holds %v %v", bal, err)
	}
}

// eth_feeHistory takes at most 100 percentiles, each in [0, 100] and
// ascending, as go-ethereum's: an answer is blocks × percentiles, and a
// 5 MB request of percentiles would otherwise have the chain build
// gigabytes.
func TestRPC_FeeHistoryPercentiles(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	many := make([]float64, 101)
	for i := range many {
		many[i] = float64(i) / 2
	}
	for name, ps := range map[string][]float64{
		"101": many, "above 100": {101}, "negative": {-1}, "descending": {50, 10}, "repeated": {10, 10},
	} {
		var out map[string]any
		err := c.raw.CallContext(ctx, &out, "eth_feeHistory", "0x400", "latest", ps)
		if err == nil || !strings.HasPrefix(err.Error(), "invalid reward percentile") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if fh, err := c.http.FeeHistory(ctx, 1024, nil, many[:100]); err != nil || len(fh.Reward) != 2 || len(fh.Reward[0]) != 100 {
		t.Fatalf("100 percentiles: %v", err)
	}
}

// A transaction the pool holds but no block can take (its fee cap under
// the base fee, which may have risen since the pool took it) does not
// make the sealer seal an empty block every second, for ever.
func TestChain_UnderpricedTxSealsNothing(t *testing.T) {
	key, addr := NewKey()
	c := startRPCChain(t, types.GenesisAlloc{addr: {Balance: Ether(1)}})
	ctx := testContext(t)
	head, err := c.http.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx := types.MustSignNewTx(key, types.LatestSignerForChainID(big.NewInt(c.ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(c.ChainID), GasTipCap: big.NewInt(0), GasFeeCap: big.NewInt(1), Gas: 21_000, To: &c.payer, Value: big.NewInt(1)})
	// Into the pool directly: eth_sendRawTransaction refuses it.
	if err := c.pool.Add([]*types.Transaction{tx}, true)[0]; err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	if n, err := c.http.BlockNumber(ctx); err != nil || n != head {
		t.Fatalf("head %d, was %d: empty blocks sealed for a transaction no block takes (%v)", n, head, err)
	}
	if _, pending, err := c.http.TransactionByHash(ctx, tx.Hash()); err != nil || !pending {
		t.Fatalf("underpriced tx: pending %v %v", pending, err)
	}
	// A transaction that pays is still mined at once.
	ok := types.MustSignNewTx(c.deployer, types.LatestSignerForChainID(big.NewInt(c.ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(c.ChainID), Nonce: 2, GasTipCap: suggestedTip, GasFeeCap: big.NewInt(1e10), Gas: 21_000, To: &c.payer, Value: big.NewInt(1)})
	if err := c.http.SendTransaction(ctx, ok); err != nil {
		t.Fatal(err)
	}
	if rc, err := c.Wait(ctx, ok); err != nil || rc.BlockNumber.Uint64() != head+1 {
		t.Fatalf("paying tx: %v %v", rc, err)
	}
}

// eth_getLogs takes at most 1000 addresses, and 1000 values per topic
// position, as go-ethereum: each block's bloom is probed once per value,
// so a 5 MB filter of addresses would cost a keccak each, per block.
func TestRPC_GetLogsQueryLimit(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	addrs := make([]common.Address, 1001)
	topics := make([]common.Hash, 1001)
	for i := range addrs {
		addrs[i][0], addrs[i][1] = byte(i), byte(i>>8)
		topics[i][0], topics[i][1] = byte(i), byte(i>>8)
	}
	const want = "invalid argument 0: exceed max addresses or topics per search position"
	for name, q := range map[string]ethereum.FilterQuery{
		"addresses": {Addresses: addrs},
		"topics":    {Topics: [][]common.Hash{nil, topics}},
	} {
		if _, err := c.http.FilterLogs(ctx, q); err == nil || err.Error() != want {
			t.Errorf("%s: %v", name, err)
		}
	}
	addrs[1000] = c.usdc.Address
	if logs, err := c.http.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: big.NewInt(0), Addresses: addrs[1:]}); err != nil || len(logs) != 1 {
		t.Fatalf("1000 addresses: %d %v", len(logs), err)
	}
}

// Two mints and a reverted transfer in one block: each receipt says what
// its transaction did (the revert with status 0 and no logs), log indices
// run over the block, and eth_getLogs gives the same logs.
func TestRPC_ReceiptsOfOneBlock(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	token, _ := contracts.TestUSDCMetaData.GetAbi()
	from := addrOf(c.deployer)
	nonce, _ := c.http.PendingNonceAt(ctx, from)
	signer := types.LatestSignerForChainID(big.NewInt(c.ChainID))
	send := func(i uint64, data []byte) *types.Transaction {
		tx := types.MustSignNewTx(c.deployer, signer, &types.DynamicFeeTx{ChainID: big.NewInt(c.ChainID), Nonce: nonce + i,
			GasTipCap: suggestedTip, GasFeeCap: big.NewInt(1e10), Gas: mintGas, To: &c.usdc.Address, Data: data})
		if err := c.http.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	mint, _ := token.Pack("mint", c.payer, big.NewInt(3))
	tooMuch, _ := token.Pack("transfer", c.payer, big.NewInt(1)) // the deployer holds none
	c.sealMu.Lock()
	txs := []*types.Transaction{send(0, mint), send(1, tooMuch), send(2, mint)}
	c.sealMu.Unlock()
	var block common.Hash
	for i, tx := range txs {
		rc, err := c.http.TransactionReceipt(ctx, tx.Hash())
		for errors.Is(err, ethereum.NotFound) {
			time.Sleep(20 * time.Millisecond)
			rc, err = c.http.TransactionReceipt(ctx, tx.Hash())
		}
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			block = rc.BlockHash
		}
		wantStatus, wantLogs := uint64(1), 1
		if i == 1 {
			wantStatus, wantLogs = 0, 0
		}
		if rc.BlockHash != block || rc.TransactionIndex != uint(i) || rc.TxHash != tx.Hash() || rc.Status != wantStatus || len(rc.Logs) != wantLogs {
			t.Fatalf("receipt %d: %+v", i, rc)
		}
		for _, l := range rc.Logs {
			if l.TxHash != tx.Hash() || l.TxIndex != uint(i) || l.BlockHash != block || l.Address != c.usdc.Address || l.Index != uint(i/2) {
				t.Fatalf("receipt %d log %+v", i, l)
			}
		}
	}
	if _, err := c.Wait(ctx, txs[1]); err == nil || !strings.Contains(err.Error(), "reverted") {
		t.Fatalf("Wait on the revert: %v", err)
	}
	logs, err := c.http.FilterLogs(ctx, ethereum.FilterQuery{BlockHash: &block})
	if err != nil || len(logs) != 2 || logs[0].TxHash != txs[0].Hash() || logs[1].TxHash != txs[2].Hash() || logs[0].Index != 0 || logs[1].Index != 1 {
		t.Fatalf("block's logs %v %v", logs, err)
	}
}

// Host names that resolve to loopback but are not "localhost" itself
// (a trailing dot, another case) are refused: a rebound name is never
// one of them, and the browser sends the name as typed.
func TestRPC_HostHeaderForms(t *testing.T) {
	c, err := Start(Config{RPC: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for host, want := range map[string]int{
		"localhost.": 403, "LOCALHOST": 403, "localhost.:80": 403, "127.0.0.1.": 403, "0x7f000001": 403, "2130706433": 403,
		"[::ffff:127.0.0.1]:1": 200, "[fe80::1]": 200, "[localhost]evil": 403,
	} {
		req, _ := http.NewRequest(http.MethodPost, c.RPCURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`))
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

// A transaction after a nonce gap waits, sealing nothing, until the gap
// is filled; then both are mined, in nonce order, in one block.
func TestChain_NonceGap(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	head, _ := c.http.BlockNumber(ctx)
	signer := types.LatestSignerForChainID(big.NewInt(c.ChainID))
	tx := func(nonce uint64) *types.Transaction {
		return types.MustSignNewTx(c.deployer, signer, &types.DynamicFeeTx{ChainID: big.NewInt(c.ChainID), Nonce: nonce,
			GasTipCap: suggestedTip, GasFeeCap: big.NewInt(1e10), Gas: 21_000, To: &c.payer, Value: big.NewInt(1)})
	}
	later, first := tx(3), tx(2)
	if err := c.http.SendTransaction(ctx, later); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if n, _ := c.http.BlockNumber(ctx); n != head {
		t.Fatalf("head %d, was %d, with only a gapped transaction", n, head)
	}
	if nonce, err := c.http.PendingNonceAt(ctx, addrOf(c.deployer)); err != nil || nonce != 2 {
		t.Fatalf("pending nonce %d %v", nonce, err)
	}
	if _, err := c.http.TransactionReceipt(ctx, later.Hash()); !errors.Is(err, ethereum.NotFound) {
		t.Fatalf("receipt of the gapped tx: %v", err)
	}
	if err := c.http.SendTransaction(ctx, first); err != nil {
		t.Fatal(err)
	}
	r2, err := c.Wait(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := c.Wait(ctx, first)
	if err != nil || r1.BlockHash != r2.BlockHash || r1.TransactionIndex != 0 || r2.TransactionIndex != 1 {
		t.Fatalf("mined %+v %+v %v", r1, r2, err)
	}
}

// Other senders flooding the pool while DeployUSDC fills it (and holds
// the sealer off) neither stall nor break the deployment: the contract is
// deployed and every mint made, with the deployer's nonces in order.
func TestChain_DeployUnderConcurrentSends(t *testing.T) {
	keys := make([]*ecdsaKey, 8)
	alloc := types.GenesisAlloc{}
	for i := range keys {
		k, a := NewKey()
		keys[i] = &ecdsaKey{k, a}
		alloc[a] = types.Account{Balance: Ether(1)}
	}
	deployer, deployerAddr := NewKey()
	alloc[deployerAddr] = types.Account{Balance: Ether(10)}
	c, err := Start(Config{ChainID: 1337, RPC: "127.0.0.1:0", Alloc: alloc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := testContext(t)
	signer := types.LatestSignerForChainID(big.NewInt(c.ChainID))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for nonce := uint64(0); ; nonce++ {
				select {
				case <-stop:
					return
				default:
				}
				tx := types.MustSignNewTx(k.key, signer, &types.DynamicFeeTx{ChainID: big.NewInt(c.ChainID), Nonce: nonce,
					GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(1e11), Gas: 21_000, To: &k.addr, Value: big.NewInt(1)})
				if err := c.Client().SendTransaction(ctx, tx); err != nil {
					t.Errorf("send: %v", err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	_, payer := NewKey()
	u, err := c.DeployUSDC(ctx, deployer, BaseSepoliaUSDC, map[common.Address]int64{payer: 5, {1}: 6, {2}: 7})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if bal, err := u.Balance(ctx, payer); err != nil || bal.Int64() != 5 {
		t.Fatalf("payer holds %v %v", bal, err)
	}
	nonce, _ := c.Client().NonceAt(ctx, deployerAddr, nil)
	if nonce != 4 {
		t.Fatalf("deployer nonce %d", nonce)
	}
}

type ecdsaKey struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

// A transaction whose fee cap is under the next block's base fee is
// refused at once: no block would take it, and at a fee cap of zero it
// costs nothing, so an account holding nothing could fill the pool.
func TestRPC_SendUnderBaseFee(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	key, _ := NewKey() // holds nothing
	signer := types.LatestSignerForChainID(big.NewInt(c.ChainID))
	head, _ := c.http.HeaderByNumber(ctx, nil)
	base := nextBaseFee(c.Chain, head)
	for _, feeCap := range []*big.Int{big.NewInt(0), new(big.Int).Sub(base, big.NewInt(1))} {
		tx := types.MustSignNewTx(key, signer, &types.DynamicFeeTx{ChainID: big.NewInt(c.ChainID), GasTipCap: big.NewInt(0),
			GasFeeCap: feeCap, Gas: 21_000, To: &c.payer})
		err := c.http.SendTransaction(ctx, tx)
		if err == nil || !strings.HasPrefix(err.Error(), "max fee per gas less than block base fee") {
			t.Errorf("fee cap %v under base fee %v: %v", feeCap, base, err)
		}
		if got, _ := (&ethAPI{c.Chain}).GetTransactionByHash(tx.Hash()); got != nil {
			t.Errorf("fee cap %v: in the pool", feeCap)
		}
	}
	if pending, queued := c.pool.Stats(); pending != 0 || queued != 0 {
		t.Fatalf("pool holds %d pending, %d queued", pending, queued)
	}
}
