package meter

import "context"

// LazySettlement is Payments that can record a request payment's
// settlement together with its application, instead of in a commit of
// its own before the request is forwarded (docs/design.md §5). The
// payment is claimed durably before it is settled, as always; once it
// settled, the request is served, and the one transaction that books its
// cost also records the settlement. A settlement still unrecorded after a
// second (a long request) is recorded on its own, as a hold is stored
// after one, so that a crash can lose only the records of the
// settlements of the last second: the payments stay claimed, and the
// settlement sweep (RetryOpen) settles them again, which finds them
// settled.
type LazySettlement interface {
	Payments
	// SettleLater notes that request payment p (its ID and TxHash) has
	// settled; nothing is written yet.
	SettleLater(p *Payment)
	// SettleApply records p's settlement, unless it is recorded already,
	// and applies it with c (ApplyPayment), in one durable transaction.
	SettleApply(ctx context.Context, p *Payment, c Charge) (Amount, error)
}
