package x402

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// The payment-identifier extension for upto (docs/design.md §5), with
// exact's semantics (replay.go): the id is claimed with the authorization
// (ClaimUpto), in the payer's one namespace of exact and upto ids. The
// same permit again under its id is answered 409 payment_replayed with the
// first answer's receipt and charge, never served or settled again;
// another payment under the id is payment_identifier_conflict.

// uptoReplayWait bounds how long a replay waits for the first
// authorization's request to be metered (ReplayWait, default 30 s).
func (u *Upto) uptoReplayWait() time.Duration {
	if u.ReplayWait <= 0 {
		return 30 * time.Second
	}
	return u.ReplayWait
}

// sameAsBefore answers p if its payer sent this very payment (the same
// bytes, as paymeter re-encodes them) under id before: it was verified
// then, so it needs no verification now, and is answered even once its
// permit has expired. Anything else under the id is verified first
// (ClaimUpto decides): only the payer's own signature may learn that the
// id is taken.
func (u *Upto) sameAsBefore(ctx context.Context, p *UptoPayment, id string) error {
	first, err := u.Ledger.FindUptoByIdentifier(ctx, p.Permit.From.Hex(), id)
	if err != nil || first == nil || !bytes.Equal(first.Payload, p.JSON) {
		return err
	}
	return u.replay(ctx, first, p.Network)
}

// replayed turns ClaimUpto's replay refusal (the same permit under its
// payment-identifier; PaymentReplay names the first authorization) into
// the replay's answer; other refusals pass.
func (u *Upto) replayed(ctx context.Context, p *UptoPayment, err error) error {
	var rep *meter.PaymentReplay
	if !errors.As(err, &rep) {
		return err
	}
	first, ferr := u.Ledger.FindUpto(ctx, rep.PaymentID)
	if ferr != nil {
		return ferr
	}
	return u.replay(ctx, first, p.Network)
}

// replay waits, within bounds, while the first authorization's request
// still runs (claimed), then answers with what is known: a replay sent
// while the first is being served gets its charge once it is metered.
func (u *Upto) replay(ctx context.Context, first *meter.UptoAuthorization, network string) error {
	delay := 10 * time.Millisecond
	for first.State == meter.UptoClaimed && time.Since(first.CreatedAt) < u.uptoReplayWait() {
		select {
		case <-ctx.Done():
			return uptoReplayAnswer(first, network)
		case <-time.After(delay):
		}
		delay = min(2*delay, 250*time.Millisecond)
		var err error
		if first, err = u.Ledger.FindUpto(ctx, first.ID); err != nil {
			return err
		}
	}
	return uptoReplayAnswer(first, network)
}

// uptoReplayAnswer is the first answer's receipt, as UptoPayer's
// ReceiptHeaderValue built it (accepted; its amount once metered), and
// its charge: what is settled, or 0 for an authorization released.
// (The transaction, once known, is a detail: the first answer had none.)
func uptoReplayAnswer(first *meter.UptoAuthorization, network string) *Replayed {
	receipt := &UptoSettleResponse{Success: true, Network: network, Payer: first.Payer}
	r := &Replayed{Version: 2, UptoReceipt: receipt}
	msg := "this payment was already received under its payment identifier: it is not served or settled again; " +
		"the first answer's receipt and charge are attached"
	switch first.State {
	case meter.UptoClaimed:
		msg = "this payment was already received under its payment identifier and its request is still being served: do not pay again"
	case meter.UptoReleased:
		receipt.Amount, r.Metered = amountString(0), true
	default: // due, settling, settled, failed: metered
		receipt.Amount, r.Cost, r.Metered = amountString(first.Amount), first.Amount.Amount(), true
	}
	if first.State == meter.UptoFailed {
		msg = "this payment was already received under its payment identifier; its settlement failed and is retried: " + first.Reason
	}
	r.Err = meter.Errorf(meter.ECodePaymentReplayed, "%s", msg).WithDetail("payment_state", string(first.State)).
		WithDetail("metered", r.Metered)
	if first.TxHash != "" {
		r.Err = r.Err.WithDetail("transaction", first.TxHash)
	}
	return r
}
