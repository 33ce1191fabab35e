package x402

import (
	"context"
	"errors"

	"github.com/paymeter/paymeter/internal/meter"
)

// replayed turns ClaimUpto's replay refusal (the same permit under its
// payment-identifier) into the replay's answer: 409 payment_replayed with
// the first request's charge and receipt as far as they are known; other
// refusals pass. It does not wait: an upto request is served at once, so
// a replay that finds it still running is told so (metered false).
func (u *Upto) replayed(ctx context.Context, p *UptoPayment, err error) error {
	var rep *meter.PaymentReplay
	if !errors.As(err, &rep) {
		return err
	}
	first, ferr := u.Ledger.FindUpto(ctx, rep.PaymentID)
	if ferr != nil {
		return ferr
	}
	metered := first.State != meter.UptoClaimed
	r := &Replayed{Version: 2, Metered: metered}
	receipt := UptoSettleResponse{Success: first.State != meter.UptoFailed, ErrorReason: first.Reason, Transaction: first.TxHash,
		Network: p.Network, Payer: first.Payer}
	if metered {
		r.Cost = first.Amount.Amount()
		receipt.Amount = amountString(first.Amount)
	}
	r.UptoReceipt = &receipt
	msg := "this payment was already received under its payment identifier: it is not served or settled again; " +
		"the first answer's charge is attached"
	if !metered {
		msg = "this payment was already received under its payment identifier and its request is still running: do not pay again"
	}
	r.Err = meter.Errorf(meter.ECodePaymentReplayed, "%s", msg).WithDetail("payment_state", string(first.State)).
		WithDetail("metered", metered)
	return r
}
