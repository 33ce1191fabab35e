package chain

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// feeTTL is how long the relayer reuses the gas tip and base fee it read:
// about a block on Base, over which the base fee moves at most 12.5%, far
// within the fee cap's twice the base fee. A round of settlements sent at
// once reads them once instead of once per transaction (two RPCs, one a
// whole header).
const feeTTL = time.Second

// feeCache holds the relayer's last fee reading.
type feeCache struct {
	mu        sync.Mutex // held while reading: concurrent senders wait for one reading
	at        time.Time
	tip, base *big.Int
}

// fees returns the gas tip and the latest base fee, read at most feeTTL
// ago. The values are shared: callers must not modify them.
func (r *Relayer) fees(ctx context.Context) (tip, base *big.Int, err error) {
	c := &r.feeCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tip != nil && time.Since(c.at) < feeTTL {
		return c.tip, c.base, nil
	}
	tip, err = r.Backend.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("gas tip: %w", err)
	}
	head, err := r.Backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("latest header: %w", err)
	}
	if head.BaseFee == nil {
		return nil, nil, fmt.Errorf("latest header: no base fee")
	}
	c.tip, c.base, c.at = tip, head.BaseFee, time.Now()
	return tip, head.BaseFee, nil
}
