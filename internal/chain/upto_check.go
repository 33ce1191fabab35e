package chain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

var _ x402.UptoChecker = (*UptoChecker)(nil)

// UptoChecker reads upto authorizations and payers' funds on one chain.
// What counts as settled (docs/design.md §4, "Evidence of payment"): a
// transaction whose receipt holds the token's Transfer(payer, payTo,
// amount) and the proxy's Settled, and which called the proxy's settle
// directly with this permit's owner, nonce and amount. A spent nonce
// alone proves nothing: the payer may have invalidated it.
type UptoChecker struct {
	Backend Backend
	// FundsTTL is how long a payer's balance and allowance are reused
	// (default 3 s): a burst of requests from one payer costs two
	// eth_calls, not two each.
	FundsTTL time.Duration
	// MaxCached bounds how many payers' funds are kept (default 10,000).
	MaxCached int

	mu    sync.Mutex
	funds map[fundsKey]fundsEntry
}

type fundsKey struct {
	token, owner common.Address
}

type fundsEntry struct {
	balance, allowance meter.USDC
	until              time.Time
}

// recheck turns a failure into the truth on chain: a settle refused
// because its nonce was already used (by an earlier attempt of ours whose
// answer was lost) did pay, in that other transaction.
func (c *UptoChecker) recheck(ctx context.Context, s *x402.UptoSettlement, res x402.Result) x402.Result {
	if res.Outcome != x402.Failed {
		return res
	}
	used, spent, err := c.CheckUpto(ctx, s.Network, s.Payment, s.Amount)
	if err != nil {
		return x402.Result{Outcome: x402.Pending, TxHash: res.TxHash, Reason: "nonceBitmap: " + x402.Redact(err)}
	}
	if spent && (used.TxHash != "" || used.Reason != reasonSpentUnseen) {
		return used
	}
	// Refused, and its nonce spent by no payment this node shows, nor
	// invalidated: the payer spent it elsewhere (a Permit2 transfer to a
	// spender of its own). That is a failure, its payer refused, rather
	// than an attempt lost to retry every round (docs/security.md).
	return res
}

// reasonSpentUnseen is CheckUpto's answer for a nonce spent by no
// transaction the node shows.
const reasonSpentUnseen = "permit used on chain; its transaction was not found"

// CheckUpto implements x402.UptoChecker.
func (c *UptoChecker) CheckUpto(ctx context.Context, n *x402.Network, p *x402.UptoPayment, amount meter.USDC) (x402.Result, bool, error) {
	used, err := c.nonceUsed(ctx, p.Permit.From, p.Permit.Nonce)
	if err != nil || !used {
		return x402.Result{}, false, err
	}
	var from *big.Int
	if head, err := c.Backend.HeaderByNumber(ctx, nil); err == nil && head.Number.Int64() > logWindow {
		from = big.NewInt(head.Number.Int64() - logWindow)
	}
	transfers, err := c.Backend.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: from, Addresses: []common.Address{n.Asset},
		Topics: [][]common.Hash{{eventTransfer}, {addressTopic(p.Permit.From)}, {addressTopic(p.Permit.To)}}})
	if err != nil {
		return x402.Result{Outcome: x402.Pending, Reason: "permit used on chain; its logs: " + x402.Redact(err)}, true, nil
	}
	for _, l := range transfers {
		if l.Removed || len(l.Data) != 32 || new(big.Int).SetBytes(l.Data).Cmp(big.NewInt(int64(amount))) != 0 {
			continue
		}
		if res, err := c.ConfirmUpto(ctx, n, p, amount, l.TxHash.Hex()); err == nil && res.Outcome == x402.Settled {
			return res, true, nil
		}
	}
	invalidations, err := c.Backend.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: from, Addresses: []common.Address{x402.Permit2Address},
		Topics: [][]common.Hash{{eventInvalidation}, {addressTopic(p.Permit.From)}}})
	if err == nil {
		word, bit := permit2Word(p.Permit.Nonce)
		for _, l := range invalidations {
			if !l.Removed && len(l.Data) == 64 && new(big.Int).SetBytes(l.Data[:32]).Cmp(word) == 0 &&
				new(big.Int).SetBytes(l.Data[32:]).Bit(bit) == 1 {
				return x402.Result{Outcome: x402.Failed, TxHash: l.TxHash.Hex(), Reason: x402.ReasonAuthorizationCanceled}, true, nil
			}
		}
	}
	// Spent, by no transaction this node shows (older than the window, or
	// a node that keeps no logs): it waits for reconciliation.
	return x402.Result{Outcome: x402.Pending, Reason: reasonSpentUnseen}, true, nil
}

// permit2Word is where Permit2 keeps a nonce: bit nonce & 0xff of word
// nonce >> 8 of the owner's bitmap.
func permit2Word(nonce *big.Int) (*big.Int, int) {
	return new(big.Int).Rsh(nonce, 8), int(new(big.Int).And(nonce, big.NewInt(0xff)).Int64())
}

// nonceUsed reads Permit2's nonceBitmap(owner, word) for the nonce's bit.
func (c *UptoChecker) nonceUsed(ctx context.Context, owner common.Address, nonce *big.Int) (bool, error) {
	word, bit := permit2Word(nonce)
	data, err := uptoABI.Pack("nonceBitmap", owner, word)
	if err != nil {
		return false, err
	}
	out, err := c.call(ctx, x402.Permit2Address, data, "nonceBitmap")
	if err != nil {
		return false, err
	}
	return out.Bit(bit) == 1, nil
}

// call runs a view call returning one uint256.
func (c *UptoChecker) call(ctx context.Context, to common.Address, data []byte, method string) (*big.Int, error) {
	out, err := c.Backend.CallContract(ctx, ethereum.CallMsg{To: &to, Data: data}, nil)
	if err != nil {
		return nil, err
	}
	if len(out) != 32 {
		return nil, fmt.Errorf("%s: undecodable answer (%d bytes)", method, len(out))
	}
	return new(big.Int).SetBytes(out), nil
}

// ConfirmUpto implements x402.UptoChecker.
func (c *UptoChecker) ConfirmUpto(ctx context.Context, n *x402.Network, p *x402.UptoPayment, amount meter.USDC, txHash string) (x402.Result, error) {
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
	if rc.Status != types.ReceiptStatusSuccessful || !settledIn(rc, n, p, amount) {
		return x402.Result{Outcome: x402.Failed, TxHash: txHash, Reason: x402.ReasonTransferMismatch}, nil
	}
	tx, _, err := c.Backend.TransactionByHash(ctx, h)
	if err != nil {
		return x402.Result{}, fmt.Errorf("transaction %s: %s", txHash, x402.Redact(err))
	}
	if !settleCallMatches(tx, p, amount) {
		return x402.Result{Outcome: x402.Failed, TxHash: txHash, Reason: x402.ReasonTransferMismatch}, nil
	}
	return x402.Result{Outcome: x402.Settled, TxHash: h.Hex()}, nil
}

// settledIn reports whether rc holds the token's Transfer(owner, payTo,
// amount) and the upto proxy's Settled event.
func settledIn(rc *types.Receipt, n *x402.Network, p *x402.UptoPayment, amount meter.USDC) bool {
	var transfer, settled bool
	for _, l := range rc.Logs {
		switch {
		case l.Address == n.Asset && len(l.Topics) == 3 && l.Topics[0] == eventTransfer &&
			l.Topics[1] == addressTopic(p.Permit.From) && l.Topics[2] == addressTopic(n.PayTo) &&
			len(l.Data) == 32 && new(big.Int).SetBytes(l.Data).Cmp(big.NewInt(int64(amount))) == 0:
			transfer = true
		case l.Address == x402.UptoProxyAddress && len(l.Topics) == 1 && l.Topics[0] == eventSettled:
			settled = true
		}
	}
	return transfer && settled
}

// settleCallMatches reports whether tx calls the proxy's settle directly
// with p's owner, nonce, amount and payTo. Nothing else counts: the
// receipt's logs name no nonce, so a transaction through another contract
// (the payer's own, settling another permit of the same amount with
// itself as facilitator) would be evidence for every permit of that
// payer and amount (docs/security.md). Only witness.facilitator may call
// settle, and paymeter's relayer and @x402/evm's facilitator call it
// directly.
func settleCallMatches(tx *types.Transaction, p *x402.UptoPayment, amount meter.USDC) bool {
	data := tx.Data()
	if tx.To() == nil || *tx.To() != x402.UptoProxyAddress || len(data) < 4 {
		return false
	}
	m, err := uptoABI.MethodById(data[:4])
	if err != nil || m.Name != "settle" {
		return false
	}
	args, err := m.Inputs.Unpack(data[4:])
	if err != nil || len(args) != 5 {
		return false
	}
	var call struct {
		Permit struct {
			Permitted struct {
				Token  common.Address
				Amount *big.Int
			}
			Nonce    *big.Int
			Deadline *big.Int
		}
		Amount  *big.Int
		Owner   common.Address
		Witness struct {
			To          common.Address
			Facilitator common.Address
			ValidAfter  *big.Int
		}
		Signature []byte
	}
	if err := m.Inputs.Copy(&call, args); err != nil {
		return false
	}
	return call.Owner == p.Permit.From && call.Permit.Nonce.Cmp(p.Permit.Nonce) == 0 &&
		call.Amount.Cmp(big.NewInt(int64(amount))) == 0 && call.Witness.To == p.Permit.To
}

// Funds implements x402.UptoChecker, from the cache while it is fresh.
func (c *UptoChecker) Funds(ctx context.Context, n *x402.Network, owner common.Address) (meter.USDC, meter.USDC, error) {
	k, now := fundsKey{token: n.Asset, owner: owner}, time.Now()
	c.mu.Lock()
	if e, ok := c.funds[k]; ok && now.Before(e.until) {
		c.mu.Unlock()
		return e.balance, e.allowance, nil
	}
	c.mu.Unlock()
	data, err := tokenABI.Pack("balanceOf", owner)
	if err != nil {
		return 0, 0, err
	}
	balance, err := c.call(ctx, n.Asset, data, "balanceOf")
	if err != nil {
		return 0, 0, err
	}
	if data, err = uptoABI.Pack("allowance", owner, x402.Permit2Address); err != nil {
		return 0, 0, err
	}
	allowance, err := c.call(ctx, n.Asset, data, "allowance")
	if err != nil {
		return 0, 0, err
	}
	e := fundsEntry{balance: clampUSDC(balance), allowance: clampUSDC(allowance), until: now.Add(or(c.FundsTTL, 3*time.Second))}
	c.mu.Lock()
	if c.funds == nil || len(c.funds) >= or(c.MaxCached, 10_000) {
		c.funds = map[fundsKey]fundsEntry{} // a flood of payers empties it; each is re-read once
	}
	c.funds[k] = e
	c.mu.Unlock()
	return e.balance, e.allowance, nil
}

// Forget implements x402.UptoChecker.
func (c *UptoChecker) Forget(n *x402.Network, owner common.Address) {
	c.mu.Lock()
	delete(c.funds, fundsKey{token: n.Asset, owner: owner})
	c.mu.Unlock()
}

// shortfall names what a refused transfer lacked: the payer's balance or
// its allowance to Permit2, as read now.
func (c *UptoChecker) shortfall(ctx context.Context, n *x402.Network, owner common.Address, amount meter.USDC) string {
	c.Forget(n, owner)
	balance, allowance, err := c.Funds(ctx, n, owner)
	switch {
	case err != nil:
		return x402.ReasonUptoTransactionFail
	case allowance < amount:
		return x402.ReasonPermit2Allowance
	case balance < amount:
		return x402.ReasonPermit2Balance
	}
	return x402.ReasonUptoTransactionFail
}

// clampUSDC is v in atomic units, saturating: an allowance of 2²⁵⁶−1 (an
// "infinite" approval) is as good as the largest amount.
func clampUSDC(v *big.Int) meter.USDC {
	if !v.IsInt64() {
		return meter.USDC(math.MaxInt64)
	}
	return meter.USDC(v.Int64())
}
