package devchain

import (
	"encoding/json"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// GetBlockByNumber is eth_getBlockByNumber: the block, its transactions
// as hashes or in full; null if there is none.
func (e *ethAPI) GetBlockByNumber(n rpc.BlockNumber, full bool) (map[string]any, error) {
	h := e.c.headerByNumber(n)
	if h == nil {
		return nil, nil
	}
	return e.c.marshalBlock(e.c.bc.GetBlock(h.Hash(), h.Number.Uint64()), full)
}

// GetBlockByHash is eth_getBlockByHash.
func (e *ethAPI) GetBlockByHash(hash common.Hash, full bool) (map[string]any, error) {
	b := e.c.bc.GetBlockByHash(hash)
	if b == nil {
		return nil, nil
	}
	return e.c.marshalBlock(b, full)
}

// GetTransactionByHash is eth_getTransactionByHash: a mined transaction
// with where it is, or one waiting in the pool (block fields null); null
// if neither.
func (e *ethAPI) GetTransactionByHash(hash common.Hash) (map[string]any, error) {
	if b, i, ok := e.c.lookup(hash); ok {
		return e.c.marshalTx(b.Transactions()[i], b, i)
	}
	if tx := e.c.pool.Get(hash); tx != nil {
		return e.c.marshalTx(tx, nil, 0)
	}
	return nil, nil
}

// GetTransactionReceipt is eth_getTransactionReceipt: null until the
// transaction is mined.
func (e *ethAPI) GetTransactionReceipt(hash common.Hash) (map[string]any, error) {
	b, i, ok := e.c.lookup(hash)
	if !ok {
		return nil, nil
	}
	receipts := e.c.bc.GetReceiptsByHash(b.Hash())
	if i >= len(receipts) {
		return nil, nil
	}
	return e.c.marshalReceipt(receipts[i], b.Transactions()[i], b)
}

// marshalBlock is b as go-ethereum's RPC gives it: the header's fields
// (with its hash), the size, the transactions, no uncles (proof of stake)
// and the withdrawals.
func (c *Chain) marshalBlock(b *types.Block, full bool) (map[string]any, error) {
	if b == nil {
		return nil, nil
	}
	fields, err := jsonFields(b.Header())
	if err != nil {
		return nil, err
	}
	fields["size"] = hexutil.Uint64(b.Size())
	txs := make([]any, len(b.Transactions()))
	for i, tx := range b.Transactions() {
		if !full {
			txs[i] = tx.Hash()
			continue
		}
		if txs[i], err = c.marshalTx(tx, b, i); err != nil {
			return nil, err
		}
	}
	fields["transactions"] = txs
	fields["uncles"] = []common.Hash{}
	if b.Header().WithdrawalsHash != nil {
		w := b.Withdrawals()
		if w == nil {
			w = types.Withdrawals{}
		}
		fields["withdrawals"] = w
	}
	return fields, nil
}

// marshalTx is tx in go-ethereum's encoding, with its sender and, once
// mined (b not nil), its block and index; gasPrice is what it pays, or
// while it waits, its fee cap.
func (c *Chain) marshalTx(tx *types.Transaction, b *types.Block, index int) (map[string]any, error) {
	fields, err := jsonFields(tx)
	if err != nil {
		return nil, err
	}
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil {
		return nil, err
	}
	fields["from"] = from
	fields["blockHash"], fields["blockNumber"], fields["transactionIndex"] = nil, nil, nil
	price := tx.GasPrice()
	if b != nil {
		fields["blockHash"] = b.Hash()
		fields["blockNumber"] = (*hexutil.Big)(b.Number())
		fields["transactionIndex"] = hexutil.Uint64(index)
		price = effectivePrice(tx, b.BaseFee())
	}
	fields["gasPrice"] = (*hexutil.Big)(price)
	return fields, nil
}

// effectivePrice is what tx pays per gas under baseFee.
func effectivePrice(tx *types.Transaction, baseFee *big.Int) *big.Int {
	if baseFee == nil {
		return tx.GasPrice()
	}
	tip, _ := tx.EffectiveGasTip(baseFee)
	return new(big.Int).Add(tip, baseFee)
}

// marshalReceipt is r as go-ethereum's RPC gives it: with the sender and
// recipient, the created contract's address (null unless tx created
// one), and the price paid.
func (c *Chain) marshalReceipt(r *types.Receipt, tx *types.Transaction, b *types.Block) (map[string]any, error) {
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil {
		return nil, err
	}
	logs := r.Logs
	if logs == nil {
		logs = []*types.Log{}
	}
	fields := map[string]any{
		"blockHash":         b.Hash(),
		"blockNumber":       (*hexutil.Big)(b.Number()),
		"transactionHash":   tx.Hash(),
		"transactionIndex":  hexutil.Uint64(r.TransactionIndex),
		"from":              from,
		"to":                tx.To(),
		"gasUsed":           hexutil.Uint64(r.GasUsed),
		"cumulativeGasUsed": hexutil.Uint64(r.CumulativeGasUsed),
		"contractAddress":   nil,
		"logs":              logs,
		"logsBloom":         r.Bloom,
		"type":              hexutil.Uint(tx.Type()),
		"effectiveGasPrice": (*hexutil.Big)(effectivePrice(tx, b.BaseFee())),
		"status":            hexutil.Uint(r.Status),
	}
	if tx.To() == nil {
		fields["contractAddress"] = r.ContractAddress
	}
	return fields, nil
}

// jsonFields is v's JSON object (go-ethereum's own encoding), to add
// fields to.
func jsonFields(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	fields := make(map[string]any, len(m)+6)
	for k, v := range m {
		fields[k] = v
	}
	return fields, nil
}
