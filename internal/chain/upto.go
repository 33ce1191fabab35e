package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// Upto settlement: the relayer calls the x402 upto proxy's settle with the
// metered amount; the proxy has Permit2 move it from the payer to payTo.
// Only the witness's facilitator may call settle, so the relayer is the
// facilitator of the upto requirements it settles (docs/design.md §5).

var _ x402.UptoSettler = (*Relayer)(nil)

// UptoSettleGas is the most gas one upto settlement may take. An
// ordinary one takes 100,000 to 300,000 (the proxy, Permit2, the
// token's transfer, cold storage); the rest is room for a contract wallet's own signature
// check. A payer's wallet decides what its isValidSignature costs when
// Permit2 asks, on chain, and it may cost millions for a settlement of a
// few atomic units: such a settlement fails unsent, its payer refused
// (docs/security.md).
const UptoSettleGas = 600_000

// Facilitator implements x402.UptoSettler: the relayer settles itself.
func (r *Relayer) Facilitator(*x402.Network) (common.Address, bool) { return r.Address(), true }

// SettleUpto implements x402.UptoSettler.
func (r *Relayer) SettleUpto(ctx context.Context, s *x402.UptoSettlement) (x402.Result, error) {
	if err := r.init(ctx); err != nil {
		return x402.Result{}, fmt.Errorf("relayer: chain id: %w", err)
	}
	check := &UptoChecker{Backend: r.Backend}
	if s.TxHash != "" {
		// An earlier attempt sent a transaction: wait for it, never send
		// another while it may still be mined.
		res, known := r.awaitUpto(ctx, common.HexToHash(s.TxHash))
		if known {
			return check.recheck(ctx, s, res), nil
		}
		r.mu.Lock()
		r.nonceSync = true // dropped: the nonce it held is free again
		r.mu.Unlock()
	}
	data, err := settleCalldata(s.Payment, s.Amount)
	if err != nil {
		return x402.Result{}, err
	}
	proxy := x402.UptoProxyAddress
	msg := ethereum.CallMsg{From: r.from, To: &proxy, Data: data}
	// Simulate first: a revert costs no gas and tells why; a nonce already
	// used reverts too, and recheck finds the transaction that used it.
	if _, err := r.Backend.CallContract(ctx, msg, nil); err != nil {
		if res, ok := uptoRevert(ctx, check, s, err); ok {
			return check.recheck(ctx, s, res), nil
		}
		return x402.Result{Outcome: x402.Pending, Reason: "simulate: " + x402.Redact(err)}, nil
	}
	gas, err := r.Backend.EstimateGas(ctx, msg)
	if err == nil && gas > UptoSettleGas {
		return x402.Result{Outcome: x402.Failed, Reason: x402.ReasonUptoSettleGas}, nil
	}
	msg.Gas = gas + gas/4 // headroom: state may change between estimate and inclusion
	var tx common.Hash
	if err == nil {
		tx, err = r.send(ctx, msg)
	}
	if err != nil {
		if res, ok := uptoRevert(ctx, check, s, err); ok {
			return check.recheck(ctx, s, res), nil
		}
		return x402.Result{Outcome: x402.Pending, Reason: "send: " + x402.Redact(err)}, nil
	}
	if s.Submitted != nil {
		s.Submitted(tx.Hex())
	}
	res, _ := r.awaitUpto(ctx, tx)
	return check.recheck(ctx, s, res), nil
}

// awaitUpto is await, with a reverted transaction's reason read as the
// proxy's or Permit2's error.
func (r *Relayer) awaitUpto(ctx context.Context, tx common.Hash) (x402.Result, bool) {
	res, known := r.awaitReceipt(ctx, tx)
	if res.Outcome == x402.Failed {
		res.Reason = x402.ReasonUptoTransactionFail
		if rc, err := r.Backend.TransactionReceipt(ctx, tx); err == nil {
			if reason, ok := classifyRevert(replayRevert(ctx, r.Backend, rc)); ok {
				res.Reason = reason.reason
			}
		}
	}
	return res, known
}

// uptoDropCheckEvery is how many receipt polls go by between two looks
// for a pending transaction itself: a round settles many at once, and
// each look reads and decodes the whole transaction, only to learn
// whether it was dropped (to be sent again), which can wait a second.
const uptoDropCheckEvery = 5

// awaitReceipt is the relayer's await with the dropped-transaction check
// made at the first poll and then every uptoDropCheckEvery-th.
func (r *Relayer) awaitReceipt(ctx context.Context, tx common.Hash) (res x402.Result, known bool) {
	pending := x402.Result{Outcome: x402.Pending, TxHash: tx.Hex(), Reason: "transaction not mined yet"}
	for poll := 0; ; poll++ {
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
		if poll%uptoDropCheckEvery == 0 {
			if _, _, err := r.Backend.TransactionByHash(ctx, tx); errors.Is(err, ethereum.NotFound) {
				return pending, false
			}
		}
		select {
		case <-ctx.Done():
			return pending, true
		case <-time.After(r.PollInterval):
		}
	}
}

// settleCalldata encodes settle(permit, amount, owner, witness, signature).
func settleCalldata(p *x402.UptoPayment, amount meter.USDC) ([]byte, error) {
	a := &p.Permit
	type tokenPermissions struct {
		Token  common.Address
		Amount *big.Int
	}
	type permit struct {
		Permitted tokenPermissions
		Nonce     *big.Int
		Deadline  *big.Int
	}
	type witness struct {
		To          common.Address
		Facilitator common.Address
		ValidAfter  *big.Int
	}
	return uptoABI.Pack("settle", permit{Permitted: tokenPermissions{Token: a.Token, Amount: a.Amount}, Nonce: a.Nonce, Deadline: a.Deadline},
		big.NewInt(int64(amount)), a.From, witness{To: a.To, Facilitator: a.Facilitator, ValidAfter: a.ValidAfter}, p.Signature)
}

// revertClass is what a refusal of settle says about the authorization.
type revertClass struct {
	reason string
	// nonceUsed: spent already, by an earlier attempt perhaps; tooEarly:
	// try again later; funds: the payer's balance or allowance is short.
	nonceUsed, tooEarly, funds bool
}

// classifyRevert reads the proxy's, Permit2's or the token's revert in err.
// ok is false when err is not a revert (a connection failure).
func classifyRevert(err error) (revertClass, bool) {
	if err == nil {
		return revertClass{}, false
	}
	var data []byte
	var de rpc.DataError
	if errors.As(err, &de) {
		if s, ok := de.ErrorData().(string); ok {
			data, _ = hexutil.Decode(s)
		}
	}
	if len(data) >= 4 {
		id := [4]byte(data[:4])
		if id == [4]byte(permit2InvalidAmount.ID[:4]) {
			return revertClass{reason: x402.ReasonUptoExceedsAuthorize}, true
		}
		for name, e := range uptoABI.Errors {
			if [4]byte(e.ID[:4]) == id {
				return classifyNamed(name), true
			}
		}
		if _, err := abi.UnpackRevert(data); err == nil {
			// Permit2's TRANSFER_FROM_FAILED, or the token's own message:
			// the payer's balance or allowance does not cover the amount.
			return revertClass{reason: x402.ReasonUptoTransactionFail, funds: true}, true
		}
	}
	if _, isRevert := revertReason(err); isRevert {
		return revertClass{reason: x402.ReasonUptoTransactionFail, funds: true}, true
	}
	return revertClass{}, false
}

func classifyNamed(name string) revertClass {
	switch name {
	case "InvalidNonce":
		return revertClass{reason: x402.ReasonPermit2InvalidNonce, nonceUsed: true}
	case "PaymentTooEarly":
		return revertClass{reason: x402.ReasonPermit2NotYetValid, tooEarly: true}
	case "SignatureExpired":
		return revertClass{reason: x402.ReasonPermit2Deadline}
	case "InvalidSignatureLength", "InvalidSignature", "InvalidSigner", "InvalidContractSignature":
		return revertClass{reason: x402.ReasonPermit2Signature}
	case "AmountExceedsPermitted", "InvalidAmount":
		return revertClass{reason: x402.ReasonUptoExceedsAuthorize}
	case "UnauthorizedFacilitator":
		return revertClass{reason: x402.ReasonUptoFacilitator}
	case "InvalidDestination":
		return revertClass{reason: x402.ReasonPermit2Recipient}
	}
	return revertClass{reason: x402.ReasonUptoTransactionFail}
}

// uptoRevert turns a refused settle into a result: a nonce spent is
// Failed for recheck to resolve, too early Pending, short funds Failed
// with the reason read from the payer's balance and allowance.
func uptoRevert(ctx context.Context, check *UptoChecker, s *x402.UptoSettlement, err error) (x402.Result, bool) {
	rc, ok := classifyRevert(err)
	if !ok {
		return x402.Result{}, false
	}
	switch {
	case rc.tooEarly:
		return x402.Result{Outcome: x402.Pending, Reason: rc.reason}, true
	case rc.funds:
		rc.reason = check.shortfall(ctx, s.Network, s.Payment.Permit.From, s.Amount)
	}
	return x402.Result{Outcome: x402.Failed, Reason: rc.reason}, true
}

// replayRevert replays a reverted transaction at its block's parent and
// returns the revert.
func replayRevert(ctx context.Context, b Backend, rc *types.Receipt) error {
	tx, _, err := b.TransactionByHash(ctx, rc.TxHash)
	if err != nil {
		return nil
	}
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil {
		return nil
	}
	prev := new(big.Int).Sub(rc.BlockNumber, big.NewInt(1))
	_, err = b.CallContract(ctx, ethereum.CallMsg{From: from, To: tx.To(), Data: tx.Data(), Gas: tx.Gas()}, prev)
	return err
}
