package x402

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
)

// UptoSettlement is one upto authorization to settle for Amount, the
// metered cost as settled (meter.UptoSettleAmount), at most its maximum.
type UptoSettlement struct {
	Payment *UptoPayment
	Network *Network
	Amount  meter.USDC
	// TxHash is the transaction an earlier attempt sent, if any: a retry
	// waits for it instead of sending another.
	TxHash string
	// Submitted, if set, is called with the transaction hash as soon as it
	// is sent, before waiting for it, so that it is recorded first.
	Submitted func(txHash string)
}

// UptoSettler settles upto authorizations: calls the upto proxy's
// settle(permit, amount, owner, witness, signature) from the address the
// witness names. Like Settler, an unknown outcome is Pending.
type UptoSettler interface {
	SettleUpto(ctx context.Context, s *UptoSettlement) (Result, error)
	// Facilitator is the address that settles on n: what the requirement's
	// extra.facilitatorAddress and the permit's witness must name.
	Facilitator(n *Network) (common.Address, bool)
}

// UptoChecker reads upto authorizations and payers' funds on chain.
type UptoChecker interface {
	// CheckUpto reports whether p's Permit2 nonce is spent, by anyone:
	// then res is Settled with the transaction that paid payTo amount from
	// the payer through the proxy, Failed if the payer invalidated the
	// nonce, or Pending while that transaction is not found.
	CheckUpto(ctx context.Context, n *Network, p *UptoPayment, amount meter.USDC) (res Result, used bool, err error)
	// ConfirmUpto checks that transaction txHash paid payTo amount under p.
	ConfirmUpto(ctx context.Context, n *Network, p *UptoPayment, amount meter.USDC, txHash string) (Result, error)
	// Funds reads the payer's token balance and its ERC-20 allowance to
	// Permit2, which bound what Permit2 can move (cached briefly).
	Funds(ctx context.Context, n *Network, payer common.Address) (balance, allowance meter.USDC, err error)
	// Forget drops the payer's cached funds: they just moved.
	Forget(n *Network, payer common.Address)
}

// uptoSettleRequest is an upto facilitator's /settle body: the payment as
// verified, and the requirement it accepted with amount the amount to
// settle (the upto spec: amount is the maximum at verification, the
// actual charge at settlement).
func uptoSettleRequest(p *UptoPayment, amount meter.USDC) (facilitatorRequest, error) {
	req := p.Accepted
	req.Amount = amountString(amount)
	b, err := json.Marshal(req)
	return facilitatorRequest{X402Version: 2, PaymentPayload: p.JSON, PaymentRequirements: b}, err
}

// UptoFacilitator settles upto payments through an x402 facilitator's
// POST /settle (@x402/evm's upto facilitator verifies the permit itself
// before it settles, so /verify is not asked: it would compare the
// maximum with the amount). Addresses are the facilitator's signers,
// per network: whom the witness must name.
type UptoFacilitator struct {
	Client    *Facilitator
	Addresses map[*Network]common.Address
}

// Facilitator implements UptoSettler.
func (f *UptoFacilitator) Facilitator(n *Network) (common.Address, bool) {
	a, ok := f.Addresses[n]
	return a, ok
}

// SettleUpto implements UptoSettler.
func (f *UptoFacilitator) SettleUpto(ctx context.Context, s *UptoSettlement) (Result, error) {
	req, err := uptoSettleRequest(s.Payment, s.Amount)
	if err != nil {
		return Result{}, err
	}
	var r UptoSettleResponse
	status, err := f.Client.post(ctx, "/settle", req, &r)
	switch {
	case err != nil || status >= 500 || status == http.StatusAccepted:
		return Result{Outcome: Pending, TxHash: r.Transaction, Reason: describe("settle", status, err)}, nil
	case r.Success && r.Amount != "" && r.Amount != amountString(s.Amount):
		return Result{Outcome: Failed, TxHash: r.Transaction, Reason: ReasonTransferMismatch}, nil
	case r.Success:
		return Result{Outcome: Settled, TxHash: r.Transaction}, nil
	case isPendingReason(r.ErrorReason):
		return Result{Outcome: Pending, TxHash: r.Transaction, Reason: r.ErrorReason}, nil
	}
	return Result{Outcome: Failed, TxHash: r.Transaction, Reason: reasonOr(r.ErrorReason, ReasonUnexpectedSettle)}, nil
}

// ConfirmUptoOnChain is an UptoSettler whose word alone is not proof (a
// facilitator): every settlement it reports is confirmed on chain.
type ConfirmUptoOnChain struct {
	UptoSettler
	Checker UptoChecker
}

// SettleUpto implements UptoSettler.
func (c *ConfirmUptoOnChain) SettleUpto(ctx context.Context, s *UptoSettlement) (Result, error) {
	res, err := c.UptoSettler.SettleUpto(ctx, s)
	if err != nil || res.Outcome != Settled {
		return res, err
	}
	confirmed, err := c.Checker.ConfirmUpto(ctx, s.Network, s.Payment, s.Amount, res.TxHash)
	if err != nil {
		return Result{Outcome: Pending, TxHash: res.TxHash, Reason: "confirm on chain: " + Redact(err)}, nil
	}
	return confirmed, nil
}
