package devchain

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/miner"
	"github.com/ethereum/go-ethereum/rpc"
)

// ethAPI is the eth namespace: what go-ethereum's ethclient, its contract
// bindings and the x402 clients call, with go-ethereum's encodings.
// Every exported method is an RPC method (eth_ + its name, lower camel).
type ethAPI struct{ c *Chain }

// netAPI is the net namespace.
type netAPI struct{ c *Chain }

// web3API is the web3 namespace.
type web3API struct{}

// Version is net_version: the network id, the chain id here.
func (n *netAPI) Version() string { return strconv.FormatInt(n.c.ChainID, 10) }

// Listening is net_listening: the chain listens on no network.
func (n *netAPI) Listening() bool { return false }

// ClientVersion is web3_clientVersion.
func (web3API) ClientVersion() string { return "paymeter-devchain" }

var errHeaderNotFound = errors.New("header not found")

// suggestedTip is the tip the chain suggests: the builder's minimum as
// go-ethereum ships it (0.001 gwei). The builder here takes any tip, but a
// client paying none would be refused by a real chain.
var suggestedTip = miner.DefaultConfig.GasPrice

// ChainId is eth_chainId.
func (e *ethAPI) ChainId() *hexutil.Big { return (*hexutil.Big)(big.NewInt(e.c.ChainID)) }

// BlockNumber is eth_blockNumber: the head's number.
func (e *ethAPI) BlockNumber() hexutil.Uint64 {
	return hexutil.Uint64(e.c.bc.CurrentBlock().Number.Uint64())
}

// Syncing is eth_syncing: a chain of one node is never syncing.
func (e *ethAPI) Syncing() bool { return false }

// Accounts is eth_accounts: the chain holds no key, so it signs nothing.
func (e *ethAPI) Accounts() []common.Address { return []common.Address{} }

// MaxPriorityFeePerGas is eth_maxPriorityFeePerGas.
func (e *ethAPI) MaxPriorityFeePerGas() *hexutil.Big {
	return (*hexutil.Big)(new(big.Int).Set(suggestedTip))
}

// GasPrice is eth_gasPrice: the suggested tip over the head's base fee.
func (e *ethAPI) GasPrice() *hexutil.Big {
	p := new(big.Int).Set(suggestedTip)
	if fee := e.c.bc.CurrentBlock().BaseFee; fee != nil {
		p.Add(p, fee)
	}
	return (*hexutil.Big)(p)
}

// header resolves a block number or hash to a header of the canonical
// chain. "pending", "safe" and "finalized" are the head: there is no
// pending block, and a chain of one sealer is final at once.
func (c *Chain) header(bnh rpc.BlockNumberOrHash) (*types.Header, error) {
	var h *types.Header
	if hash, ok := bnh.Hash(); ok {
		h = c.bc.GetHeaderByHash(hash)
		if h != nil && bnh.RequireCanonical && c.bc.GetCanonicalHash(h.Number.Uint64()) != hash {
			return nil, fmt.Errorf("hash %s is not currently canonical", hash.Hex())
		}
	} else if n, ok := bnh.Number(); ok {
		h = c.headerByNumber(n)
	}
	if h == nil {
		return nil, errHeaderNotFound
	}
	return h, nil
}

func (c *Chain) headerByNumber(n rpc.BlockNumber) *types.Header {
	switch n {
	case rpc.LatestBlockNumber, rpc.PendingBlockNumber, rpc.SafeBlockNumber, rpc.FinalizedBlockNumber:
		return c.bc.CurrentBlock()
	case rpc.EarliestBlockNumber:
		return c.bc.GetHeaderByNumber(0)
	}
	if n < 0 {
		return nil
	}
	return c.bc.GetHeaderByNumber(uint64(n))
}

// state is the state after the block bnh names, and its header.
func (c *Chain) state(bnh *rpc.BlockNumberOrHash) (*state.StateDB, *types.Header, error) {
	at := rpc.BlockNumberOrHashWithNumber(rpc.LatestBlockNumber)
	if bnh != nil {
		at = *bnh
	}
	h, err := c.header(at)
	if err != nil {
		return nil, nil, err
	}
	st, err := c.bc.StateAt(h.Root, h.Number, h.Time)
	if err != nil {
		return nil, nil, err
	}
	return st, h, nil
}

// GetBalance is eth_getBalance.
func (e *ethAPI) GetBalance(addr common.Address, at *rpc.BlockNumberOrHash) (*hexutil.Big, error) {
	st, _, err := e.c.state(at)
	if err != nil {
		return nil, err
	}
	return (*hexutil.Big)(st.GetBalance(addr).ToBig()), nil
}

// GetCode is eth_getCode.
func (e *ethAPI) GetCode(addr common.Address, at *rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	st, _, err := e.c.state(at)
	if err != nil {
		return nil, err
	}
	return st.GetCode(addr), nil
}

// GetStorageAt is eth_getStorageAt.
func (e *ethAPI) GetStorageAt(addr common.Address, slot common.Hash, at *rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	st, _, err := e.c.state(at)
	if err != nil {
		return nil, err
	}
	v := st.GetState(addr, slot)
	return v[:], nil
}

// GetTransactionCount is eth_getTransactionCount; at "pending" it is the
// pool's next nonce, counting the transactions that wait.
func (e *ethAPI) GetTransactionCount(addr common.Address, at *rpc.BlockNumberOrHash) (*hexutil.Uint64, error) {
	if at != nil {
		if n, ok := at.Number(); ok && n == rpc.PendingBlockNumber {
			nonce := hexutil.Uint64(e.c.pool.PoolNonce(addr))
			return &nonce, nil
		}
	}
	st, _, err := e.c.state(at)
	if err != nil {
		return nil, err
	}
	nonce := hexutil.Uint64(st.GetNonce(addr))
	return &nonce, nil
}

// SendRawTransaction is eth_sendRawTransaction: it adds a signed
// transaction to the pool, where the sealer finds it.
func (e *ethAPI) SendRawTransaction(input hexutil.Bytes) (common.Hash, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(input); err != nil {
		return common.Hash{}, err
	}
	// As go-ethereum's RPC: a transaction signed for no chain could be
	// replayed on any.
	if !tx.Protected() {
		return common.Hash{}, errors.New("only replay-protected (EIP-155) transactions allowed over RPC")
	}
	// The pool takes a fee cap under the base fee (to wait for it to
	// fall), and with no minimum tip a fee cap of zero costs nothing: any
	// key holding nothing could fill it. No block here would take one.
	head := e.c.bc.CurrentBlock()
	if base := nextBaseFee(e.c, head); head.BaseFee != nil && tx.GasFeeCap().Cmp(base) < 0 {
		return common.Hash{}, fmt.Errorf("max fee per gas less than block base fee: maxFeePerGas: %v, baseFee: %v", tx.GasFeeCap(), base)
	}
	// sync: the pool has promoted it once this returns, so that the
	// sender's next eth_getTransactionCount "pending" counts it.
	if err := e.c.pool.Add([]*types.Transaction{tx}, true)[0]; err != nil {
		return common.Hash{}, err
	}
	return tx.Hash(), nil
}

// FeeHistory is eth_feeHistory over the last count blocks up to last:
// their base fees (and the next block's), how full they were, and, for
// each percentile asked, the suggested tip (the chain has no market).
func (e *ethAPI) FeeHistory(count hexutil.Uint64, last rpc.BlockNumber, percentiles []float64) (map[string]any, error) {
	if err := checkPercentiles(percentiles); err != nil {
		return nil, err
	}
	head := e.c.headerByNumber(last)
	if head == nil {
		return nil, errHeaderNotFound
	}
	n := min(uint64(count), head.Number.Uint64()+1, 1024)
	oldest := head.Number.Uint64() + 1 - n
	fees := make([]*hexutil.Big, 0, n+1)
	ratios := make([]float64, 0, n)
	rewards := make([][]*hexutil.Big, 0, n)
	for i := oldest; i <= head.Number.Uint64(); i++ {
		h := e.c.bc.GetHeaderByNumber(i)
		fees = append(fees, (*hexutil.Big)(h.BaseFee))
		ratios = append(ratios, float64(h.GasUsed)/float64(h.GasLimit))
		r := make([]*hexutil.Big, len(percentiles))
		for j := range r {
			r[j] = (*hexutil.Big)(suggestedTip)
		}
		rewards = append(rewards, r)
	}
	fees = append(fees, (*hexutil.Big)(nextBaseFee(e.c, head)))
	out := map[string]any{"oldestBlock": (*hexutil.Big)(new(big.Int).SetUint64(oldest)), "baseFeePerGas": fees, "gasUsedRatio": ratios}
	if len(percentiles) > 0 {
		out["reward"] = rewards
	}
	return out, nil
}

// maxPercentiles bounds the percentiles of one eth_feeHistory, as
// go-ethereum's: its answer holds one reward per block and percentile, so
// a request of millions would have the chain build gigabytes.
const maxPercentiles = 100

var errInvalidPercentile = errors.New("invalid reward percentile")

// checkPercentiles refuses what go-ethereum refuses: too many, one out of
// [0, 100], or a list not strictly ascending.
func checkPercentiles(ps []float64) error {
	if len(ps) > maxPercentiles {
		return fmt.Errorf("%w: over the query limit %d", errInvalidPercentile, maxPercentiles)
	}
	for i, p := range ps {
		if p < 0 || p > 100 {
			return fmt.Errorf("%w: %f", errInvalidPercentile, p)
		}
		if i > 0 && p <= ps[i-1] {
			return fmt.Errorf("%w: #%d:%f >= #%d:%f", errInvalidPercentile, i-1, ps[i-1], i, p)
		}
	}
	return nil
}
