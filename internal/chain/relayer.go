package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/paymeter/paymeter/internal/x402"
)

// Backend is what the relayer needs of a chain: *ethclient.Client, or the
// client of go-ethereum's simulated backend.
type Backend interface {
	ethereum.ChainIDReader
	ethereum.ChainStateReader
	ethereum.ContractCaller
	ethereum.GasEstimator
	ethereum.GasPricer1559
	ethereum.LogFilterer
	ethereum.PendingStateReader
	ethereum.TransactionReader
	ethereum.TransactionSender
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// Relayer submits transferWithAuthorization transactions from one account.
// Nonces are allocated one at a time under a lock, so that concurrent
// settlements never collide, and transactions are then mined in parallel.
type Relayer struct {
	Backend Backend
	Key     *ecdsa.PrivateKey
	// PollInterval is how often a pending transaction's receipt is looked for.
	PollInterval time.Duration

	once    sync.Once
	initErr error
	chainID *big.Int
	from    common.Address
	signer  types.Signer

	mu        sync.Mutex // serializes nonce allocation and sending
	nonce     uint64
	nonceSync bool // nonce must be (re)read from the chain

	feeCache feeCache
}

func (r *Relayer) init(ctx context.Context) error {
	r.once.Do(func() {
		r.from = crypto.PubkeyToAddress(r.Key.PublicKey)
		r.chainID, r.initErr = r.Backend.ChainID(ctx)
		if r.initErr == nil {
			r.signer = types.LatestSignerForChainID(r.chainID)
		}
		r.nonceSync = true
		if r.PollInterval <= 0 {
			r.PollInterval = 200 * time.Millisecond
		}
	})
	return r.initErr
}

// Address is the relayer's account, which pays the gas.
func (r *Relayer) Address() common.Address { return crypto.PubkeyToAddress(r.Key.PublicKey) }

// Settle implements x402.Settler.
func (r *Relayer) Settle(ctx context.Context, s *x402.Settlement) (x402.Result, error) {
	if err := r.init(ctx); err != nil {
		return x402.Result{}, fmt.Errorf("relayer: chain id: %w", err)
	}
	a := &s.Payment.Authorization
	token := s.Network.Asset
	check := &Checker{Backend: r.Backend}
	if s.TxHash != "" {
		// An earlier attempt sent a transaction: wait for it, never send
		// another while it may still be mined.
		res, known := r.await(ctx, common.HexToHash(s.TxHash))
		if known {
			return r.recheck(ctx, check, s.Network, a, res), nil
		}
		// The node forgot it (dropped): the nonce it held is free again.
		r.mu.Lock()
		r.nonceSync = true
		r.mu.Unlock()
	}
	data, err := r.calldata(ctx, a, s.Payment.Signature)
	if err != nil {
		return x402.Result{}, err
	}
	// Simulate first: a revert costs no gas and tells why. An authorization
	// already used reverts here too, and recheck finds where it was used.
	msg := ethereum.CallMsg{From: r.from, To: &token, Data: data}
	if _, err := r.Backend.CallContract(ctx, msg, nil); err != nil {
		if reason, ok := revertReason(err); ok {
			return r.recheck(ctx, check, s.Network, a, x402.Result{Outcome: x402.Failed, Reason: reason}), nil
		}
		return x402.Result{Outcome: x402.Pending, Reason: "simulate: " + x402.Redact(err)}, nil
	}
	tx, err := r.send(ctx, msg)
	if err != nil {
		if reason, ok := revertReason(err); ok {
			return r.recheck(ctx, check, s.Network, a, x402.Result{Outcome: x402.Failed, Reason: reason}), nil
		}
		return x402.Result{Outcome: x402.Pending, Reason: "send: " + x402.Redact(err)}, nil
	}
	if s.Submitted != nil {
		s.Submitted(tx.Hex())
	}
	res, _ := r.await(ctx, tx)
	res = r.recheck(ctx, check, s.Network, a, res)
	return res, nil
}

// recheck turns a failure into the truth on chain: a transfer that
// reverted because its authorization was already used (by an earlier
// transaction of ours whose answer was lost, or by anyone else) did pay
// PayTo, in that other transaction.
func (r *Relayer) recheck(ctx context.Context, check *Checker, n *x402.Network, a *x402.Authorization, res x402.Result) x402.Result {
	if res.Outcome != x402.Failed {
		return res
	}
	used, spent, err := check.Check(ctx, n, a)
	if err != nil {
		return x402.Result{Outcome: x402.Pending, TxHash: res.TxHash, Reason: "authorizationState: " + x402.Redact(err)}
	}
	if spent {
		return used
	}
	return res
}

// calldata encodes the transfer: the v, r, s overload for a 65-byte
// signature from an account without code (what every USDC deployment
// has), the bytes overload otherwise (smart-wallet signatures).
func (r *Relayer) calldata(ctx context.Context, a *x402.Authorization, sig []byte) ([]byte, error) {
	code, err := r.Backend.CodeAt(ctx, a.From, nil)
	if err != nil {
		return nil, fmt.Errorf("code of %s: %w", a.From.Hex(), err)
	}
	if len(sig) == crypto.SignatureLength && len(code) == 0 {
		v := sig[64]
		if v < 27 {
			v += 27
		}
		var rr, ss [32]byte
		copy(rr[:], sig[:32])
		copy(ss[:], sig[32:64])
		return tokenABI.Pack(methodTransferVRS, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, v, rr, ss)
	}
	return tokenABI.Pack(methodTransferBytes, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, sig)
}

// send signs and sends msg with the next nonce, with msg.Gas as its gas
// limit, or else the estimate and some headroom. The lock covers allocation
// and sending only: a nonce is consumed exactly when its transaction
// reaches the node, and a failed send makes the next one re-read it.
func (r *Relayer) send(ctx context.Context, msg ethereum.CallMsg) (common.Hash, error) {
	gas := msg.Gas
	if gas == 0 {
		est, err := r.Backend.EstimateGas(ctx, msg)
		if err != nil {
			return common.Hash{}, err
		}
		gas = est + est/4 // headroom: state may change between estimate and inclusion
	}
	tip, base, err := r.fees(ctx) // fees.go
	if err != nil {
		return common.Hash{}, err
	}
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(base, big.NewInt(2)))

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nonceSync {
		n, err := r.Backend.PendingNonceAt(ctx, r.from)
		if err != nil {
			return common.Hash{}, fmt.Errorf("relayer nonce: %w", err)
		}
		r.nonce, r.nonceSync = n, false
	}
	tx, err := types.SignNewTx(r.Key, r.signer, &types.DynamicFeeTx{
		ChainID: r.chainID, Nonce: r.nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas,
		To: msg.To, Data: msg.Data,
	})
	if err != nil {
		return common.Hash{}, err
	}
	if err := r.Backend.SendTransaction(ctx, tx); err != nil {
		r.nonceSync = true
		return common.Hash{}, err
	}
	r.nonce++
	return tx.Hash(), nil
}

// await waits for tx's receipt until ctx ends. known is false when the
// node has never heard of tx (dropped): the caller may send anew.
func (r *Relayer) await(ctx context.Context, tx common.Hash) (res x402.Result, known bool) {
	pending := x402.Result{Outcome: x402.Pending, TxHash: tx.Hex(), Reason: "transaction not mined yet"}
	for {
		rc, err := r.Backend.TransactionReceipt(ctx, tx)
		if err == nil {
			if rc.Status == types.ReceiptStatusSuccessful {
				return x402.Result{Outcome: x402.Settled, TxHash: tx.Hex()}, true
			}
			return x402.Result{Outcome: x402.Failed, TxHash: tx.Hex(), Reason: RevertReason(ctx, r.Backend, rc)}, true
		}
		if !errors.Is(err, ethereum.NotFound) {
			return pending, true
		}
		if _, _, err := r.Backend.TransactionByHash(ctx, tx); errors.Is(err, ethereum.NotFound) {
			return pending, false
		}
		select {
		case <-ctx.Done():
			return pending, true
		case <-time.After(r.PollInterval):
		}
	}
}

// RevertReason replays a reverted transaction at its block's parent to
// read why it reverted, as an x402 reason.
func RevertReason(ctx context.Context, b Backend, rc *types.Receipt) string {
	tx, _, err := b.TransactionByHash(ctx, rc.TxHash)
	if err != nil {
		return x402.ReasonUnexpectedSettle
	}
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil {
		return x402.ReasonUnexpectedSettle
	}
	prev := new(big.Int).Sub(rc.BlockNumber, big.NewInt(1))
	_, err = b.CallContract(ctx, ethereum.CallMsg{From: from, To: tx.To(), Data: tx.Data(), Gas: tx.Gas()}, prev)
	if reason, ok := revertReason(err); ok {
		return reason
	}
	return x402.ReasonUnexpectedSettle
}

// revertReason maps a token's revert message to an x402 reason. ok is
// false when err is not a revert (a connection failure).
func revertReason(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	msg := err.Error()
	var de rpc.DataError
	if errors.As(err, &de) {
		// The revert data: Error(string) ABI-encoded, as hex.
		if s, ok := de.ErrorData().(string); ok {
			if data, err := hexutil.Decode(s); err == nil {
				if reason, err := abi.UnpackRevert(data); err == nil {
					msg += " revert: " + reason
				}
			}
		}
	}
	if !strings.Contains(msg, "revert") {
		return "", false
	}
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "not yet valid"):
		return x402.ReasonValidAfter, true
	case strings.Contains(lower, "authorization is expired"):
		return x402.ReasonValidBefore, true
	case strings.Contains(lower, "used or canceled"):
		return x402.ReasonTransactionState, true
	case strings.Contains(lower, "invalid signature"):
		return x402.ReasonSignature, true
	case strings.Contains(lower, "exceeds balance"):
		return x402.ReasonInsufficientFunds, true
	}
	return x402.ReasonUnexpectedSettle, true
}

// Contracts checks EIP-1271 signatures on the chains it has backends for.
// Whether an address has code is remembered (codecache.go), so that a
// flood of bad signatures for one address costs one eth_getCode.
type Contracts struct {
	Backends map[int64]Backend // by the network's (EIP-712) chain id
	// HasCodeTTL and NoCodeTTL are how long an address is known to have
	// code, or none; MaxCached bounds how many are known. Zero: 10 min,
	// 1 min, 10,000.
	HasCodeTTL, NoCodeTTL time.Duration
	MaxCached             int
	// Now is the clock; tests replace it.
	Now func() time.Time

	codes codeCache
}

// IsValidSignature implements x402.SignatureChecker and
// auth.ContractWallets: it asks the one chain chainID, and no chain at all
// for an address without code there. An unknown chain id says no.
func (c *Contracts) IsValidSignature(ctx context.Context, chainID int64, wallet common.Address, digest [32]byte, sig []byte) (bool, error) {
	b, ok := c.Backends[chainID]
	if !ok {
		return false, nil
	}
	has, err := c.hasCode(ctx, chainID, b, wallet)
	if err == nil && has {
		has, err = askWallet(ctx, b, wallet, digest, sig)
	}
	if err != nil {
		// The cause is logged by the caller: never with the RPC URL's key.
		return false, errors.New("EIP-1271 check: " + x402.Redact(err))
	}
	return has, nil
}

// IsValidSignature asks wallet whether sig signs digest (EIP-1271). An
// address without code, or a contract that reverts, says no.
func IsValidSignature(ctx context.Context, b interface {
	ethereum.ContractCaller
	CodeAt(ctx context.Context, account common.Address, blockNumber *big.Int) ([]byte, error)
}, wallet common.Address, digest [32]byte, sig []byte) (bool, error) {
	code, err := b.CodeAt(ctx, wallet, nil)
	if err != nil {
		return false, err
	}
	if len(code) == 0 {
		return false, nil
	}
	return askWallet(ctx, b, wallet, digest, sig)
}

// askWallet calls isValidSignature on a wallet known to have code.
func askWallet(ctx context.Context, b ethereum.ContractCaller, wallet common.Address, digest [32]byte, sig []byte) (bool, error) {
	data, err := wallet1271ABI.Pack("isValidSignature", digest, sig)
	if err != nil {
		return false, err
	}
	// A gas cap: the wallet is the signer's own code, and a check that
	// burns gas would cost the node a full block's worth per request.
	out, err := b.CallContract(ctx, ethereum.CallMsg{To: &wallet, Data: data, Gas: eip1271Gas}, nil)
	if err != nil {
		if _, reverted := revertReason(err); reverted {
			return false, nil
		}
		return false, err
	}
	return isMagic1271(out), nil
}

// eip1271Gas bounds one isValidSignature call: ample for multisig and
// passkey wallets (a P-256 check in Solidity is ~300k gas).
const eip1271Gas = 2_000_000

// isMagic1271 reports whether out is the ABI encoding of the bytes4
// magic value, exactly: 32 bytes, the magic then zeros. A contract that
// echoes its calldata returns the selector, which is the magic value, at
// the start of a longer answer: that is no answer.
func isMagic1271(out []byte) bool {
	if len(out) != 32 || [4]byte(out[:4]) != magic1271 {
		return false
	}
	for _, b := range out[4:] {
		if b != 0 {
			return false
		}
	}
	return true
}
