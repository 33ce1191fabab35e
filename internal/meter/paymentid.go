package meter

import (
	"context"
	"strconv"
)

// PaymentIdentifiers is the part of Payments that keeps x402 payment
// identifiers (the payment-identifier extension, docs/design.md §5). With
// Payment.Identifier set, ClaimPayment claims (Payer, Identifier) in the
// same transaction as the payment: the same identifier already claimed for
// the same payment key fails with ECodePaymentReplayed, its Err a
// *PaymentReplay; for another payment, with ECodePaymentIDConflict.
type PaymentIdentifiers interface {
	// FindPaymentByIdentifier returns the payment that payer claimed with
	// identifier id, or nil when there is none.
	FindPaymentByIdentifier(ctx context.Context, payer, id string) (*Payment, error)
	// PaymentCharge returns what the request a payment paid for was
	// charged; metered is false until the request was metered (and for a
	// top-up, which buys no request).
	PaymentCharge(ctx context.Context, id int64) (cost Amount, metered bool, err error)
}

// PaymentReplay names the payment a replayed identifier claimed first.
type PaymentReplay struct{ PaymentID int64 }

func (r *PaymentReplay) Error() string {
	return "payment identifier claimed by payment " + strconv.FormatInt(r.PaymentID, 10)
}
