package devchain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/eth/gasestimator"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"
)

// callGasCap bounds the gas of one eth_call or eth_estimateGas, as
// go-ethereum's RPC does by default: a call runs on the server's time.
const callGasCap = 50_000_000

// callTimeout bounds the time of one eth_call.
const callTimeout = 5 * time.Second

// callArgs are the arguments of eth_call and eth_estimateGas: a message
// to run. The call data comes as "input" (go-ethereum) or "data" (older
// clients).
type callArgs struct {
	From                 *common.Address   `json:"from"`
	To                   *common.Address   `json:"to"`
	Gas                  *hexutil.Uint64   `json:"gas"`
	GasPrice             *hexutil.Big      `json:"gasPrice"`
	MaxFeePerGas         *hexutil.Big      `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *hexutil.Big      `json:"maxPriorityFeePerGas"`
	Value                *hexutil.Big      `json:"value"`
	Input                *hexutil.Bytes    `json:"input"`
	Data                 *hexutil.Bytes    `json:"data"`
	AccessList           *types.AccessList `json:"accessList"`
}

// message is the core message of a; gas is its gas limit.
func (a *callArgs) message(baseFee *big.Int, gas uint64) (*core.Message, error) {
	if a.Input != nil && a.Data != nil && string(*a.Input) != string(*a.Data) {
		return nil, errors.New(`both "data" and "input" are set and not equal`)
	}
	msg := &core.Message{To: a.To, Value: u256(a.Value), GasLimit: gas}
	if a.From != nil {
		msg.From = *a.From
	}
	switch {
	case a.Input != nil:
		msg.Data = *a.Input
	case a.Data != nil:
		msg.Data = *a.Data
	}
	if a.AccessList != nil {
		msg.AccessList = *a.AccessList
	}
	if a.GasPrice != nil || baseFee == nil {
		msg.GasPrice = u256(a.GasPrice)
		msg.GasFeeCap, msg.GasTipCap = msg.GasPrice, msg.GasPrice
	} else {
		msg.GasFeeCap, msg.GasTipCap = u256(a.MaxFeePerGas), u256(a.MaxPriorityFeePerGas)
		// The price paid: the tip over the base fee, up to the cap.
		msg.GasPrice = new(uint256.Int)
		if !msg.GasFeeCap.IsZero() || !msg.GasTipCap.IsZero() {
			msg.GasPrice.Add(msg.GasTipCap, uint256.MustFromBig(baseFee))
			if msg.GasPrice.Cmp(msg.GasFeeCap) > 0 {
				msg.GasPrice.Set(msg.GasFeeCap)
			}
		}
	}
	// A call is not a transaction: any sender, any nonce, any gas.
	return msg.SkipNonceCheck().SkipEOACheck().SkipGasLimitCapCheck(), nil
}

func u256(b *hexutil.Big) *uint256.Int {
	if b == nil {
		return new(uint256.Int)
	}
	v, overflow := uint256.FromBig(b.ToInt())
	if overflow || b.ToInt().Sign() < 0 {
		return new(uint256.Int).SetAllOne()
	}
	return v
}

// Call is eth_call: it runs a message on the state after a block
// (default the head) and returns what it returned. A revert is the error
// go-ethereum gives (revertError), with the revert data.
func (e *ethAPI) Call(ctx context.Context, args callArgs, at *rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	st, h, err := e.c.state(at)
	if err != nil {
		return nil, err
	}
	gas := uint64(callGasCap)
	if args.Gas != nil && uint64(*args.Gas) < gas {
		gas = uint64(*args.Gas)
	}
	msg, err := args.message(h.BaseFee, gas)
	if err != nil {
		return nil, err
	}
	msg.SkipExecutionGasCapCheck()
	blockCtx := core.NewEVMBlockContext(atNextBlock(h, at), e.c.bc, nil)
	// No price: no base fee either, or the EVM would refuse a fee cap
	// under it.
	if msg.GasPrice.IsZero() {
		blockCtx.BaseFee = new(big.Int)
	}
	evm := vm.NewEVM(blockCtx, st, e.c.bc.Config(), vm.Config{NoBaseFee: true})
	defer evm.Release()
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	go func() {
		<-ctx.Done()
		evm.Cancel()
	}()
	res, err := core.ApplyMessage(evm, msg, core.NewGasPool(msg.GasLimit))
	if evm.Cancelled() {
		return nil, fmt.Errorf("execution aborted (timeout = %v)", callTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("err: %w (supplied gas %d)", err, msg.GasLimit)
	}
	if err := st.Error(); err != nil {
		return nil, err
	}
	if errors.Is(res.Err, vm.ErrExecutionReverted) {
		return nil, newRevertError(res.Revert())
	}
	return res.Return(), res.Err
}

// EstimateGas is eth_estimateGas: the least gas the message succeeds
// with, by go-ethereum's estimator; a revert is the error eth_call gives.
func (e *ethAPI) EstimateGas(ctx context.Context, args callArgs, at *rpc.BlockNumberOrHash) (hexutil.Uint64, error) {
	st, h, err := e.c.state(at)
	if err != nil {
		return 0, err
	}
	var gas uint64 // 0: up to the block's gas limit
	if args.Gas != nil {
		gas = uint64(*args.Gas)
	}
	msg, err := args.message(h.BaseFee, gas)
	if err != nil {
		return 0, err
	}
	opts := &gasestimator.Options{Config: e.c.bc.Config(), Chain: e.c.bc, Header: atNextBlock(h, at), State: st, ErrorRatio: 0.015}
	est, revert, err := gasestimator.Estimate(ctx, msg, opts, callGasCap)
	if err != nil {
		if errors.Is(err, vm.ErrExecutionReverted) {
			return 0, newRevertError(revert)
		}
		return 0, err
	}
	return hexutil.Uint64(est), nil
}

// atNextBlock is the header a call at at runs under. At the head (no
// block, "latest" or "pending") it is the head stamped with the time the
// next block will have: the chain seals only when a transaction waits, so
// its head may be minutes old, and a transaction simulated under that
// time would fail checks it passes when sent (an authorization valid from
// a minute ago would seem not yet valid; docs/design.md §7a).
// A call at a given block keeps that block's time.
func atNextBlock(h *types.Header, at *rpc.BlockNumberOrHash) *types.Header {
	if at != nil {
		n, ok := at.Number()
		if !ok || (n != rpc.LatestBlockNumber && n != rpc.PendingBlockNumber) {
			return h
		}
	}
	next := types.CopyHeader(h)
	next.Time = max(uint64(time.Now().Unix()), h.Time+1)
	return next
}

// revertError is a revert as go-ethereum's RPC reports it: code 3,
// "execution reverted: REASON" when the data is an Error(string), and the
// revert data, hex, as the error's data (internal/chain reads the reason
// from either).
type revertError struct {
	msg  string
	data string
}

func newRevertError(data []byte) *revertError {
	msg := vm.ErrExecutionReverted.Error()
	if reason, err := abi.UnpackRevert(data); err == nil {
		msg += ": " + reason
	}
	return &revertError{msg: msg, data: hexutil.Encode(data)}
}

func (e *revertError) Error() string  { return e.msg }
func (e *revertError) ErrorCode() int { return 3 }
func (e *revertError) ErrorData() any { return e.data }

// nextBaseFee is the base fee of the block after head.
func nextBaseFee(c *Chain, head *types.Header) *big.Int {
	return eip1559.CalcBaseFee(c.bc.Config(), head)
}
