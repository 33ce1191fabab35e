package x402

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// Replayed answers a payment its payer sent before under the same
// payment-identifier: 409 payment_replayed with the first answer's
// receipt (once settled) and charge (once metered). Nothing is served or
// settled for it.
type Replayed struct {
	Err     *meter.Error
	Version int
	// Receipt is the first payment's, nil while it is unsettled;
	// UptoReceipt, of an upto payment, is set instead (upto_replay.go).
	Receipt     *SettleResponse
	UptoReceipt *UptoSettleResponse
	// Cost is what the first payment's request was charged, if Metered.
	Cost    meter.Amount
	Metered bool
}

func (r *Replayed) Error() string { return r.Err.Error() }

// ReceiptValue is the first payment's receipt for its header, "" when
// there is none yet.
func (r *Replayed) ReceiptValue() string {
	switch {
	case r.UptoReceipt != nil:
		return encodeJSON(*r.UptoReceipt)
	case r.Receipt != nil:
		return EncodeReceipt(*r.Receipt)
	}
	return ""
}
func (r *Replayed) Unwrap() error { return r.Err }

// replayWait bounds how long a replay waits for the first payment's
// request to be metered, so that it can answer with its charge.
func (pr *Processor) replayWait() time.Duration {
	if pr.ReplayWait <= 0 {
		return 30 * time.Second
	}
	return pr.ReplayWait
}

// sameAsBefore returns the answer to p if its payer sent this very
// payment (the same bytes, as paymeter re-encodes them) under id before:
// that payment was verified then, so this one needs no verification, and
// is answered even once its authorization has expired. Anything else under
// the id goes on to be verified: only a payment the payer really signed
// may learn that the id is taken (ClaimPayment's conflict).
func (pr *Processor) sameAsBefore(ctx context.Context, p *Payment, id string) error {
	ids, ok := pr.Ledger.(meter.PaymentIdentifiers)
	if !ok {
		return nil
	}
	first, err := ids.FindPaymentByIdentifier(ctx, p.PayerHex(), id)
	if err != nil || first == nil || !bytes.Equal(first.Payload, p.JSON) {
		return err
	}
	return pr.replay(ctx, ids, first, p)
}

// claimRefused turns ClaimPayment's replay refusal into the replay's
// answer; other refusals pass.
func (pr *Processor) claimRefused(ctx context.Context, p *Payment, err error) error {
	var rep *meter.PaymentReplay
	ids, ok := pr.Ledger.(meter.PaymentIdentifiers)
	if !errors.As(err, &rep) || !ok {
		return err
	}
	first, ferr := pr.Ledger.FindPayment(ctx, rep.PaymentID)
	if ferr != nil {
		return ferr
	}
	return pr.replay(ctx, ids, first, p)
}

// replay waits, within bounds, for the first payment to be settled and
// its request metered, then answers with what is known: a replay that
// arrives while the first is still being served gets its charge.
func (pr *Processor) replay(ctx context.Context, ids meter.PaymentIdentifiers, first *meter.Payment, p *Payment) error {
	delay := 10 * time.Millisecond
	for {
		cost, metered, err := ids.PaymentCharge(ctx, first.ID)
		if err != nil {
			return err
		}
		if pr.replayDone(first, metered) || ctx.Err() != nil {
			return replayAnswer(first, p, cost, metered)
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, 250*time.Millisecond)
		if first, err = pr.Ledger.FindPayment(ctx, first.ID); err != nil {
			return err
		}
	}
}

// replayDone reports whether there is nothing more to wait for: the first
// payment failed, is a settled top-up, or paid a request now metered; or
// it has waited long enough (an open payment, past its settlement's
// timeout, is the sweep's to finish).
func (pr *Processor) replayDone(first *meter.Payment, metered bool) bool {
	age := time.Since(first.CreatedAt)
	switch first.State {
	case meter.PaymentFailed:
		return true
	case meter.PaymentSettled:
		return first.Purpose == meter.PurposeTopup || metered || age > pr.replayWait()
	}
	return age > pr.settleTimeout()+time.Second
}

func replayAnswer(first *meter.Payment, p *Payment, cost meter.Amount, metered bool) *Replayed {
	r := &Replayed{Version: p.Version, Cost: cost, Metered: metered}
	msg := "this payment was already received under its payment identifier: it is not served or settled again; " +
		"the first answer's receipt and charge are attached"
	switch first.State {
	case meter.PaymentSettled:
		r.Receipt = &SettleResponse{Success: true, Transaction: first.TxHash, Network: p.Network, Payer: first.Payer}
	case meter.PaymentFailed:
		r.Receipt = &SettleResponse{Success: false, ErrorReason: first.Reason, Transaction: first.TxHash, Network: p.Network,
			Payer: first.Payer}
		msg = "this payment was already received under its payment identifier, and refused: " + first.Reason
	default:
		msg = "this payment was already received under its payment identifier and is still settling: do not pay again"
	}
	r.Err = meter.Errorf(meter.ECodePaymentReplayed, "%s", msg).WithDetail("payment_state", string(first.State)).
		WithDetail("metered", metered)
	return r
}
