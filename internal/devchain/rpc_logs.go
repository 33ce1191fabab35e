package devchain

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// maxLogBlocks bounds the blocks one eth_getLogs reads: each costs a
// read of its receipts, on the server's time.
const maxLogBlocks = 100_000

// maxLogQuery bounds the addresses of a filter, and the values of each
// topic position, as go-ethereum's default: a block's bloom is probed once
// per value (a keccak each), and a request may carry 100,000 of them.
const maxLogQuery = 1000

var errLogQueryLimit = errors.New("exceed max addresses or topics per search position")

// maxTopics is how many topic positions a log has (LOG0 to LOG4).
const maxTopics = 4

// logFilter is the argument of eth_getLogs: a block range or one block,
// the addresses (any of them; none means all), and per topic position the
// values any of which matches (an empty position matches all).
type logFilter struct {
	BlockHash *common.Hash
	FromBlock *rpc.BlockNumber
	ToBlock   *rpc.BlockNumber
	Addresses []common.Address
	Topics    [][]common.Hash
}

// UnmarshalJSON reads the filter as clients send it: "address" one or a
// list, each topic null, one hash or a list of them.
func (f *logFilter) UnmarshalJSON(data []byte) error {
	var raw struct {
		BlockHash *common.Hash      `json:"blockHash"`
		FromBlock *rpc.BlockNumber  `json:"fromBlock"`
		ToBlock   *rpc.BlockNumber  `json:"toBlock"`
		Address   json.RawMessage   `json:"address"`
		Topics    []json.RawMessage `json:"topics"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw.BlockHash != nil && (raw.FromBlock != nil || raw.ToBlock != nil) {
		return errors.New("cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other")
	}
	f.BlockHash, f.FromBlock, f.ToBlock = raw.BlockHash, raw.FromBlock, raw.ToBlock
	var err error
	if f.Addresses, err = oneOrMany[common.Address](raw.Address); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	if len(f.Addresses) > maxLogQuery {
		return errLogQueryLimit
	}
	if len(raw.Topics) > maxTopics {
		return errors.New("too many topics: a log has at most 4")
	}
	f.Topics = make([][]common.Hash, len(raw.Topics))
	for i, t := range raw.Topics {
		if f.Topics[i], err = oneOrMany[common.Hash](t); err != nil {
			return fmt.Errorf("topic %d: %w", i, err)
		}
		if len(f.Topics[i]) > maxLogQuery {
			return errLogQueryLimit
		}
	}
	return nil
}

// oneOrMany reads null (none), one value, or a list of values.
func oneOrMany[T any](raw json.RawMessage) ([]T, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '[' {
		var many []T
		err := json.Unmarshal(raw, &many)
		return many, err
	}
	var one T
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	return []T{one}, nil
}

// GetLogs is eth_getLogs: the logs of the canonical blocks in the range
// (default the head only, as go-ethereum's) or of one block, in order.
func (e *ethAPI) GetLogs(f logFilter) ([]*types.Log, error) {
	out := []*types.Log{}
	if f.BlockHash != nil {
		h := e.c.bc.GetHeaderByHash(*f.BlockHash)
		if h == nil {
			return nil, errors.New("unknown block")
		}
		return f.appendMatches(out, e.c, h), nil
	}
	head := e.c.bc.CurrentBlock().Number.Uint64()
	from, to := logBound(f.FromBlock, head), logBound(f.ToBlock, head)
	errRange := errors.New("invalid block range params")
	if f.FromBlock != nil && f.ToBlock != nil && *f.FromBlock >= 0 && *f.ToBlock >= 0 && from > to {
		return nil, errRange
	}
	// A range that starts past the head has no logs yet: clamping its
	// start to the head would answer the head's, outside the filter.
	if from > head {
		return out, nil
	}
	if to = min(to, head); from > to {
		return nil, errRange
	}
	if to-from >= maxLogBlocks {
		return nil, fmt.Errorf("block range too large: at most %d blocks", maxLogBlocks)
	}
	for n := from; n <= to; n++ {
		if h := e.c.bc.GetHeaderByNumber(n); h != nil {
			out = f.appendMatches(out, e.c, h)
		}
	}
	return out, nil
}

// logBound is the block number a range bound names: the head when
// omitted or a tag, else the number, which may be past the head.
func logBound(n *rpc.BlockNumber, head uint64) uint64 {
	if n == nil || *n < 0 {
		if n != nil && *n == rpc.EarliestBlockNumber {
			return 0
		}
		return head
	}
	return uint64(*n)
}

// appendMatches appends the logs of h's block that match f, skipping the
// block's receipts when its bloom filter rules every log out.
func (f *logFilter) appendMatches(out []*types.Log, c *Chain, h *types.Header) []*types.Log {
	if !f.bloomMatches(h.Bloom) {
		return out
	}
	for _, r := range c.bc.GetReceiptsByHash(h.Hash()) {
		for _, l := range r.Logs {
			if f.matches(l) {
				out = append(out, l)
			}
		}
	}
	return out
}

func (f *logFilter) bloomMatches(b types.Bloom) bool {
	if len(f.Addresses) > 0 && !slices.ContainsFunc(f.Addresses, func(a common.Address) bool { return types.BloomLookup(b, a) }) {
		return false
	}
	for _, any := range f.Topics {
		if len(any) > 0 && !slices.ContainsFunc(any, func(t common.Hash) bool { return types.BloomLookup(b, t) }) {
			return false
		}
	}
	return true
}

func (f *logFilter) matches(l *types.Log) bool {
	if len(f.Addresses) > 0 && !slices.Contains(f.Addresses, l.Address) {
		return false
	}
	if len(f.Topics) > len(l.Topics) {
		return false
	}
	for i, any := range f.Topics {
		if len(any) > 0 && !slices.Contains(any, l.Topics[i]) {
			return false
		}
	}
	return true
}
