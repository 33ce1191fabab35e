package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/paymeter/paymeter/internal/x402"
)

// Checker reads, on one chain, what became of EIP-3009 authorizations:
// whether a nonce is used and whether the transaction that used it paid
// the payment. A used nonce alone proves nothing (docs/design.md §4, "Evidence
// of payment"): its authorizer may have spent it on any transfer of its
// own, 0 to itself for instance, or canceled it.
type Checker struct {
	Backend Backend
}

// logWindow bounds the search for an authorization's use: providers refuse
// unbounded log queries, and an authorization lives at most an hour.
const logWindow = 50_000

var (
	eventUsed     = tokenABI.Events["AuthorizationUsed"].ID
	eventCanceled = tokenABI.Events["AuthorizationCanceled"].ID
	eventTransfer = tokenABI.Events["Transfer"].ID
)

// Check implements x402.AuthorizationChecker. used reports whether a's
// nonce is spent on n's token. Then res is Settled only if the
// transaction that spent it holds this very authorization's transfer to
// n.PayTo (Confirm); Failed if the nonce was canceled or spent on another
// transfer; Pending while that transaction cannot be found.
func (c *Checker) Check(ctx context.Context, n *x402.Network, a *x402.Authorization) (res x402.Result, used bool, err error) {
	spent, err := c.spent(ctx, n, a)
	if err != nil || !spent {
		return x402.Result{}, false, err
	}
	q := ethereum.FilterQuery{
		Addresses: []common.Address{n.Asset},
		Topics:    [][]common.Hash{{eventUsed, eventCanceled}, {addressTopic(a.From)}, {common.Hash(a.Nonce)}},
	}
	if head, err := c.Backend.HeaderByNumber(ctx, nil); err == nil && head.Number.Int64() > logWindow {
		q.FromBlock = big.NewInt(head.Number.Int64() - logWindow)
	}
	logs, err := c.Backend.FilterLogs(ctx, q)
	if err != nil {
		return x402.Result{Outcome: x402.Pending, Reason: "authorization used on chain; its logs: " + x402.Redact(err)}, true, nil
	}
	for _, l := range logs {
		if l.Removed {
			continue
		}
		if l.Topics[0] == eventCanceled {
			return x402.Result{Outcome: x402.Failed, TxHash: l.TxHash.Hex(), Reason: x402.ReasonAuthorizationCanceled}, true, nil
		}
		res, err := c.Confirm(ctx, n, a, l.TxHash.Hex())
		return res, true, err
	}
	// Used, but by no transaction this node shows (one older than the
	// window, or a node that keeps no logs): nothing to credit on, nothing
	// to fail on; it waits for reconciliation.
	return x402.Result{Outcome: x402.Pending, Reason: "authorization used on chain; its transaction was not found"}, true, nil
}

// spent reads authorizationState(a.From, a.Nonce) on n's token.
func (c *Checker) spent(ctx context.Context, n *x402.Network, a *x402.Authorization) (bool, error) {
	data, err := tokenABI.Pack("authorizationState", a.From, a.Nonce)
	if err != nil {
		return false, err
	}
	token := n.Asset
	out, err := c.Backend.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		return false, err
	}
	vals, err := tokenABI.Unpack("authorizationState", out)
	if err != nil || len(vals) != 1 {
		return false, fmt.Errorf("authorizationState: undecodable answer")
	}
	spent, _ := vals[0].(bool)
	return spent, nil
}

// Confirm implements x402.AuthorizationChecker: whether transaction txHash
// paid a. It did only if it succeeded and its receipt holds, from n's
// token, a's AuthorizationUsed(from, nonce) followed by the transfer it
// made, Transfer(from, n.PayTo, value); and, when the transaction called
// the token directly, if its calldata carries all six fields of a.
// Anything else is Failed (the chain says this transaction did not pay),
// or Pending while the receipt is not found.
func (c *Checker) Confirm(ctx context.Context, n *x402.Network, a *x402.Authorization, txHash string) (x402.Result, error) {
	h, ok := parseTxHash(txHash)
	if !ok {
		return x402.Result{Outcome: x402.Failed, Reason: x402.ReasonTransferMismatch}, nil
	}
	rc, err := c.Backend.TransactionReceipt(ctx, h)
	if errors.Is(err, ethereum.NotFound) {
		return x402.Result{Outcome: x402.Pending, TxHash: txHash, Reason: "transaction not found yet"}, nil
	}
	if err != nil {
		return x402.Result{}, fmt.Errorf("receipt of %s: %s", txHash, x402.Redact(err))
	}
	if rc.Status != types.ReceiptStatusSuccessful || !PaidIn(rc, n, a) {
		return x402.Result{Outcome: x402.Failed, TxHash: txHash, Reason: x402.ReasonTransferMismatch}, nil
	}
	match, err := c.callMatches(ctx, n, a, h)
	if err != nil {
		return x402.Result{}, err
	}
	if !match {
		return x402.Result{Outcome: x402.Failed, TxHash: txHash, Reason: x402.ReasonTransferMismatch}, nil
	}
	return x402.Result{Outcome: x402.Settled, TxHash: h.Hex()}, nil
}

// PaidIn reports whether receipt rc holds a's transfer to n.PayTo: the
// token's AuthorizationUsed(a.From, a.Nonce) and, as the token's next log
// (EIP-3009 tokens mark the nonce used, then transfer), its
// Transfer(a.From, n.PayTo, a.Value).
func PaidIn(rc *types.Receipt, n *x402.Network, a *x402.Authorization) bool {
	from := addressTopic(a.From)
	for i, l := range rc.Logs {
		if l.Address != n.Asset || len(l.Topics) != 3 || l.Topics[0] != eventUsed || l.Topics[1] != from || l.Topics[2] != common.Hash(a.Nonce) {
			continue
		}
		if i+1 >= len(rc.Logs) {
			return false
		}
		t := rc.Logs[i+1]
		return t.Address == n.Asset && len(t.Topics) == 3 && t.Topics[0] == eventTransfer &&
			t.Topics[1] == from && t.Topics[2] == addressTopic(n.PayTo) &&
			len(t.Data) == 32 && new(big.Int).SetBytes(t.Data).Cmp(a.Value) == 0
	}
	return false
}

// callMatches compares a transaction that called the token's
// transferWithAuthorization directly with a, field by field. A
// transaction through another contract (a facilitator's multicall) cannot
// be read that way; for it the receipt's logs are the evidence, and they
// fix who paid whom how much under which nonce.
func (c *Checker) callMatches(ctx context.Context, n *x402.Network, a *x402.Authorization, h common.Hash) (bool, error) {
	tx, _, err := c.Backend.TransactionByHash(ctx, h)
	if err != nil {
		return false, fmt.Errorf("transaction %s: %s", h.Hex(), x402.Redact(err))
	}
	data := tx.Data()
	if tx.To() == nil || *tx.To() != n.Asset || len(data) < 4 {
		return true, nil
	}
	m, err := tokenABI.MethodById(data[:4])
	if err != nil || m.RawName != methodTransferVRS { // either overload
		return true, nil
	}
	args, err := m.Inputs.Unpack(data[4:])
	if err != nil || len(args) < 6 {
		return false, nil
	}
	from, _ := args[0].(common.Address)
	to, _ := args[1].(common.Address)
	value, _ := args[2].(*big.Int)
	after, _ := args[3].(*big.Int)
	before, _ := args[4].(*big.Int)
	nonce, _ := args[5].([32]byte)
	return from == a.From && to == a.To && value != nil && value.Cmp(a.Value) == 0 &&
		after != nil && after.Cmp(a.ValidAfter) == 0 && before != nil && before.Cmp(a.ValidBefore) == 0 &&
		nonce == a.Nonce, nil
}

func addressTopic(a common.Address) common.Hash { return common.BytesToHash(a.Bytes()) }

// parseTxHash accepts only a 0x-prefixed 32-byte hex hash: a facilitator's
// answer may hold anything.
func parseTxHash(s string) (common.Hash, bool) {
	if len(s) != 66 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return common.Hash{}, false
	}
	for _, c := range s[2:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return common.Hash{}, false
		}
	}
	return common.HexToHash(s), true
}
