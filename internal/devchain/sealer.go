package devchain

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/beacon/engine"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/miner"
	"github.com/holiman/uint256"
)

// buildTimeout bounds the wait for a block's build, which takes
// milliseconds.
const buildTimeout = 10 * time.Second

// seal seals a block whenever a transaction waits, but at most one per
// wall-clock second: a block is stamped with the current second and must
// be later than its parent, so sealing faster would run the chain's clock
// ahead of the real one, and with it ahead of the validity windows of the
// authorizations that clients sign by the real one.
func (c *Chain) seal(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
		if pending, _ := c.pool.Stats(); pending == 0 {
			continue
		}
		if int64(c.bc.CurrentBlock().Time) < time.Now().Unix() && c.sealable() {
			c.commit()
		}
	}
}

// commit seals a block if a transaction still waits.
func (c *Chain) commit() {
	c.sealMu.Lock()
	defer c.sealMu.Unlock()
	// The pool promotes and resets in the background: wait for it, so
	// that the block holds every transaction sent before this call.
	if err := c.pool.Sync(); err != nil {
		log.Warn("devchain: pool sync", "err", err)
		return
	}
	if !c.sealable() {
		return
	}
	if err := c.sealBlock(); err != nil {
		log.Warn("devchain: seal", "err", err)
	}
}

// sealable reports whether a transaction waits that the next block can
// take. The pool holds transactions whose fee cap is under the base fee
// (they wait for it to fall): counting those would seal an empty block
// every second for ever, and under the floor an empty chain's base fee
// settles on, one offering less is never mined.
func (c *Chain) sealable() bool {
	head := c.bc.CurrentBlock()
	filter := txpool.PendingFilter{MinTip: new(uint256.Int)}
	if head.BaseFee != nil {
		filter.BaseFee = uint256.MustFromBig(nextBaseFee(c, head))
	}
	_, n := c.pool.Pending(filter)
	return n > 0
}

// sealBlock builds a block of the pool's transactions on the head, with
// the current second as its time (waiting for the next second if the head
// has this one), inserts it and makes it the head: what a beacon client
// and the engine API would do, without them.
func (c *Chain) sealBlock() error {
	parent := c.bc.CurrentBlock()
	now := uint64(time.Now().Unix())
	for now <= parent.Time {
		time.Sleep(time.Until(time.Unix(int64(parent.Time)+1, 0)))
		now = uint64(time.Now().Unix())
	}
	var random common.Hash
	rand.Read(random[:])
	args := &miner.BuildPayloadArgs{
		Parent:       parent.Hash(),
		Timestamp:    now,
		Random:       random,
		Withdrawals:  types.Withdrawals{},
		BeaconRoot:   &common.Hash{},
		Version:      engine.PayloadV3,
		FeeRecipient: common.Address{},
	}
	payload, err := c.miner.BuildPayload(context.Background(), args, false)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	// ResolveFull waits for the first build with the pool's transactions
	// and stops the builder's background rebuilds. It waits for ever if
	// that build fails: give up after a while rather than hold the sealer.
	resolved := make(chan *engine.ExecutionPayloadEnvelope, 1)
	go func() { resolved <- payload.ResolveFull() }()
	select {
	case env := <-resolved:
		if env == nil {
			return fmt.Errorf("build: no block")
		}
	case <-time.After(buildTimeout):
		payload.Resolve() // stops the rebuilds
		return fmt.Errorf("build: no block after %v", buildTimeout)
	}
	block, _, _, _ := payload.FullBlockAndReceipts()
	if _, err := c.bc.InsertBlockWithoutSetHead(context.Background(), block, false); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	if _, err := c.bc.SetCanonical(block); err != nil {
		return fmt.Errorf("set head: %w", err)
	}
	c.minedMu.Lock()
	for i, tx := range block.Transactions() {
		c.mined[tx.Hash()] = txLocation{block: block.Hash(), index: i}
	}
	c.minedMu.Unlock()
	// Let the pool drop what the block mined before anyone asks it for
	// a nonce.
	return c.pool.Sync()
}

// lookup finds a mined transaction: its block and index.
func (c *Chain) lookup(h common.Hash) (*types.Block, int, bool) {
	c.minedMu.RLock()
	loc, ok := c.mined[h]
	c.minedMu.RUnlock()
	if !ok {
		return nil, 0, false
	}
	b := c.bc.GetBlockByHash(loc.block)
	return b, loc.index, b != nil
}
