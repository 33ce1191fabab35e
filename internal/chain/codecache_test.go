package chain

import (
	"context"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
)

// countingClient is the simulated chain's client, counting eth_getCode.
type countingClient struct {
	simulated.Client
	codeAt atomic.Int32
}

func (c *countingClient) CodeAt(ctx context.Context, a common.Address, n *big.Int) ([]byte, error) {
	c.codeAt.Add(1)
	return c.Client.CodeAt(ctx, a, n)
}

// Whether an address has code is asked once however many requests want
// it at once, remembered for NoCodeTTL, and asked again after; the cache
// keeps at most MaxCached addresses.
func TestContracts_CodeCache(t *testing.T) {
	sim := simulated.NewBackend(types.GenesisAlloc{})
	t.Cleanup(func() { sim.Close() })
	client := &countingClient{Client: sim.Client()}
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	c := &Contracts{Backends: map[int64]Backend{84532: client}, MaxCached: 2,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	eoa := common.HexToAddress("0x00000000000000000000000000000000000000e0")

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := c.IsValidSignature(context.Background(), 84532, eoa, [32]byte{1}, make([]byte, 65)); ok || err != nil {
				t.Errorf("an address without code said yes (%v, %v)", ok, err)
			}
		}()
	}
	wg.Wait()
	if n := client.codeAt.Load(); n != 1 {
		t.Fatalf("50 concurrent checks cost %d eth_getCode, want 1", n)
	}
	advance(59 * time.Second)
	c.IsValidSignature(context.Background(), 84532, eoa, [32]byte{1}, nil)
	if n := client.codeAt.Load(); n != 1 {
		t.Fatalf("within a minute: %d eth_getCode, want 1", n)
	}
	advance(2 * time.Second)
	c.IsValidSignature(context.Background(), 84532, eoa, [32]byte{1}, nil)
	if n := client.codeAt.Load(); n != 2 {
		t.Fatalf("after a minute: %d eth_getCode, want 2 (asked again)", n)
	}
	// Chains without a backend are never asked.
	if ok, err := c.IsValidSignature(context.Background(), 1, eoa, [32]byte{1}, nil); ok || err != nil || client.codeAt.Load() != 2 {
		t.Fatalf("unknown chain: %v %v, %d lookups", ok, err, client.codeAt.Load())
	}
	for i := range 5 {
		c.IsValidSignature(context.Background(), 84532, common.BigToAddress(big.NewInt(int64(100+i))), [32]byte{1}, nil)
	}
	if n := c.codes.lru.Len(); n != 2 || len(c.codes.entries) != 2 {
		t.Fatalf("cache holds %d (%d) addresses, want MaxCached 2", n, len(c.codes.entries))
	}
}
