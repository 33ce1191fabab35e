package devchain

import (
	"context"
	"crypto/ecdsa"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// eth_getLogs filters by address, by topic position (any of several,
// null for any), by block range and by block hash.
func TestRPC_GetLogs(t *testing.T) {
	c := startRPCChain(t, nil)
	ctx := testContext(t)
	transfer := crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))
	zero, payer := common.Hash{}, common.BytesToHash(c.payer[:])
	if err := c.usdc.Mint(ctx, c.payer, 5); err != nil { // block 2
		t.Fatal(err)
	}
	b1, _ := c.http.HeaderByNumber(ctx, big.NewInt(1))
	mintTx := func(block int64) common.Hash {
		b, err := c.http.BlockByNumber(ctx, big.NewInt(block))
		if err != nil {
			t.Fatal(err)
		}
		return b.Transactions()[len(b.Transactions())-1].Hash()
	}
	first, second := mintTx(1), mintTx(2)
	other := common.Address{9}
	for _, tc := range []struct {
		name string
		q    ethereum.FilterQuery
		want []common.Hash // the logs' transactions, in order
	}{
		{"all", ethereum.FilterQuery{}, []common.Hash{first, second}},
		{"token, Transfer from zero to payer", ethereum.FilterQuery{Addresses: []common.Address{c.usdc.Address}, Topics: [][]common.Hash{{transfer}, {zero}, {payer}}}, []common.Hash{first, second}},
		{"any of two addresses", ethereum.FilterQuery{Addresses: []common.Address{other, c.usdc.Address}}, []common.Hash{first, second}},
		{"another address", ethereum.FilterQuery{Addresses: []common.Address{other}}, nil},
		{"wildcard position", ethereum.FilterQuery{Topics: [][]common.Hash{nil, nil, {payer}}}, []common.Hash{first, second}},
		{"any of two topics", ethereum.FilterQuery{Topics: [][]common.Hash{{{1}, transfer}}}, []common.Hash{first, second}},
		{"other recipient", ethereum.FilterQuery{Topics: [][]common.Hash{{transfer}, {zero}, {{1}}}}, nil},
		{"more topics than the log has", ethereum.FilterQuery{Topics: [][]common.Hash{nil, nil, nil, {payer}}}, nil},
		{"from block 2", ethereum.FilterQuery{FromBlock: big.NewInt(2)}, []common.Hash{second}},
		{"to block 1", ethereum.FilterQuery{FromBlock: big.NewInt(0), ToBlock: big.NewInt(1)}, []common.Hash{first}},
		{"block 1 by hash", ethereum.FilterQuery{BlockHash: ptr(b1.Hash())}, []common.Hash{first}},
	} {
		logs, err := c.http.FilterLogs(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(logs) != len(tc.want) {
			t.Fatalf("%s: %d logs, want %d", tc.name, len(logs), len(tc.want))
		}
		for i, l := range logs {
			if l.TxHash != tc.want[i] || l.Address != c.usdc.Address || l.Topics[0] != transfer || l.Removed || l.BlockHash == (common.Hash{}) {
				t.Fatalf("%s: log %d %+v", tc.name, i, l)
			}
		}
	}
	if _, err := c.http.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: big.NewInt(2), ToBlock: big.NewInt(1)}); err == nil || err.Error() != "invalid block range params" {
		t.Fatalf("reversed range: %v", err)
	}
	if _, err := c.http.FilterLogs(ctx, ethereum.FilterQuery{BlockHash: &common.Hash{1}}); err == nil || err.Error() != "unknown block" {
		t.Fatalf("unknown block hash: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// 50 senders at once over HTTP: every transaction is mined, and no block
// is stamped ahead of the wall clock (at most one block per second).
func TestChain_ConcurrentSenders(t *testing.T) {
	const n = 50
	keys := make([]*ecdsa.PrivateKey, n)
	alloc := types.GenesisAlloc{}
	for i := range keys {
		var a common.Address
		keys[i], a = NewKey()
		alloc[a] = types.Account{Balance: Ether(1)}
	}
	c := startRPCChain(t, alloc)
	ctx := testContext(t)
	signer := types.LatestSignerForChainID(big.NewInt(c.ChainID))
	var wg sync.WaitGroup
	txs := make([]*types.Transaction, n)
	errs := make([]error, n)
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			txs[i] = types.MustSignNewTx(k, signer, &types.DynamicFeeTx{ChainID: big.NewInt(c.ChainID), GasTipCap: suggestedTip,
				GasFeeCap: big.NewInt(1e10), Gas: 21_000, To: &c.payer, Value: big.NewInt(1)})
			errs[i] = c.http.SendTransaction(ctx, txs[i])
		}()
	}
	stopWatch := watchClock(t, c)
	wg.Wait()
	for i, tx := range txs {
		if errs[i] != nil {
			t.Fatalf("send %d: %v", i, errs[i])
		}
		if _, err := c.Wait(ctx, tx); err != nil {
			t.Fatal(err)
		}
	}
	stopWatch()
	if bal, _ := c.http.BalanceAt(ctx, c.payer, nil); bal.Int64() != n {
		t.Fatalf("payer holds %v wei, want %d", bal, n)
	}
	head, _ := c.http.BlockNumber(ctx)
	var prev uint64
	for i := uint64(1); i <= head; i++ {
		h, _ := c.http.HeaderByNumber(ctx, new(big.Int).SetUint64(i))
		if h.Time <= prev {
			t.Fatalf("block %d at %d, its parent at %d", i, h.Time, prev)
		}
		prev = h.Time
	}
}

// watchClock checks, until stopped, that each new head is stamped no
// later than the wall-clock second it is seen in.
func watchClock(t *testing.T, c *rpcChain) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			h, err := c.http.HeaderByNumber(ctx, nil)
			if err == nil && int64(h.Time) > time.Now().Unix() {
				t.Errorf("block %d stamped %d, ahead of the clock (%d)", h.Number, h.Time, time.Now().Unix())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return func() { cancel(); <-done }
}

// The RPC answers its own Host (an address, or localhost) and refuses
// any other name: a page on a name rebound to 127.0.0.1 cannot use it.
func TestRPC_HostHeader(t *testing.T) {
	c, err := Start(Config{RPC: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	port := c.RPCURL[strings.LastIndex(c.RPCURL, ":")+1:]
	for host, want := range map[string]int{
		"127.0.0.1:" + port: 200, "localhost:" + port: 200, "localhost": 200, "[::1]:" + port: 200, "[::1]": 200,
		"evil.example:" + port: 403, "evil.example": 403, "localhost.evil.example": 403, "attacker.localhost": 403,
	} {
		req, _ := http.NewRequest(http.MethodPost, c.RPCURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`))
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantBody := `{"jsonrpc":"2.0","id":1,"result":"0x14a34"}`
		if want == 403 {
			wantBody = "invalid host specified"
		}
		if resp.StatusCode != want || strings.TrimSpace(string(body)) != wantBody {
			t.Errorf("Host %q: %d %s", host, resp.StatusCode, body)
		}
	}
}
