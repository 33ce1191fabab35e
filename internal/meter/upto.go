package meter

import (
	"context"
	"time"
)

// The x402 upto scheme (docs/design.md §5): a request is paid by a signed
// authorization of up to its worst case; it is served at once, and the
// metered cost is settled after the response, in the background. What is
// served but not yet settled is credit the operator extends: it is bounded
// per payer and in all (UptoLimits), and a payer whose settlement failed
// is refused until it settles.

// UptoState is where an upto authorization is in its life.
type UptoState string

// Upto states; settled and released are final. failed is final for the
// chain's current state only: it is retried until the permit's deadline,
// and its payer is refused meanwhile.
const (
	UptoClaimed  UptoState = "claimed"  // verified; its request runs
	UptoDue      UptoState = "due"      // metered; to be settled
	UptoSettling UptoState = "settling" // sent to the chain or a facilitator
	UptoSettled  UptoState = "settled"
	UptoFailed   UptoState = "failed"
	UptoReleased UptoState = "released" // nothing to settle
)

// UptoAuthorization is an upto payment as the ledger records it.
type UptoAuthorization struct {
	ID int64
	// Key is unique per authorization: chain, payer and Permit2 nonce.
	Key     string
	Network string
	Token   string
	Payer   string // checksummed address
	// AccountID is the payer's wallet account, which the settled payment
	// and its usage are booked on (they cancel out: upto never makes a
	// balance).
	AccountID int64
	// Max is the authorized maximum, the request's quote.
	Max USDC
	// Cost is the metered cost; Amount what is settled for it (never
	// below it, see UptoSettleAmount; never above Max).
	Cost   Amount
	Amount USDC
	State  UptoState
	// Charge is the metered charge, booked as the usage entry once settled.
	Charge    Charge
	RequestID string
	TxHash    string
	Reason    string
	Attempts  int
	// Deadline is the permit's: it cannot be settled after it.
	Deadline time.Time
	// Payload and Requirement are the payment and what it paid, as JSON,
	// so that it can be settled after a restart.
	Payload, Requirement []byte
	// Identifier is the payer's payment-identifier, if the payment
	// carries one: ClaimUpto claims it with the authorization, in the
	// namespace of exact's (PaymentIdentifiers).
	Identifier           string
	CreatedAt, UpdatedAt time.Time
}

// UptoLimits decide whether one more authorization may be served.
type UptoLimits struct {
	// PerPayer and Total cap what is at risk: the maximum of every
	// request still running plus the amount of every one metered and not
	// yet settled, of the payer and of all payers.
	PerPayer, Total USDC
	// Balance and Allowance are the payer's token balance and its
	// allowance to Permit2, as read on chain a moment ago: what it has at
	// risk already plus this maximum must be within both.
	Balance, Allowance USDC
}

// Reasons (x402's, in details.reason of invalid_payment) of a claim refused
// because the payer's funds on chain do not cover what it would owe.
const (
	UptoShortBalance   = "permit2_insufficient_balance"
	UptoShortAllowance = "permit2_allowance_required"
)

// UptoStats are what the metrics show of upto.
type UptoStats struct {
	// Count and Amount are, per state, how many authorizations are in it
	// and their amounts (Max while claimed); settled and released are not
	// counted (their counters are the settler's).
	Count  map[UptoState]int64
	Amount map[UptoState]USDC
}

// UptoLedger records upto authorizations through their settlement.
type UptoLedger interface {
	// ClaimUpto records a verified authorization as claimed, creating the
	// payer's wallet account if needed (no free credits), and sets a.ID
	// and a.AccountID; durable on return. It decides atomically against
	// everything claimed before it: a key already claimed is
	// ECodePaymentUsed, a payer with a failed settlement
	// ECodeUptoSettlementFailed, a cap exceeded ECodeUptoLimitReached or
	// ECodeUptoCapacity, funds short ECodeInvalidPayment (UptoShort*).
	// With a.Identifier set it is claimed too, before all that: the same
	// key under it is ECodePaymentReplayed (Err a *PaymentReplay naming
	// the first authorization), another payment under it of either scheme
	// ECodePaymentIDConflict.
	ClaimUpto(ctx context.Context, a *UptoAuthorization, limits UptoLimits) error
	// FindUptoByIdentifier returns the authorization payer claimed with
	// payment-identifier id, or nil when the id names none (unused, or an
	// exact payment's).
	FindUptoByIdentifier(ctx context.Context, payer, id string) (*UptoAuthorization, error)
	// CaptureUpto records the metered charge and the amount to settle for
	// it: due, or released when amount is 0. Durable on return.
	CaptureUpto(ctx context.Context, id int64, c Charge, amount USDC) error
	// ReleaseUpto releases a claimed authorization: nothing is settled.
	ReleaseUpto(ctx context.Context, id int64) error
	// BeginUpto counts a settlement attempt and moves a due (or stale
	// settling) authorization to settling; a failed one stays failed.
	BeginUpto(ctx context.Context, id int64) error
	// MarkUpto records what an attempt learned: settling with its
	// transaction once sent (a failed one stays failed, with the
	// transaction), or failed with the reason, or due again (txHash "")
	// when nothing was sent.
	MarkUpto(ctx context.Context, id int64, state UptoState, txHash, reason string) error
	// SettleUpto marks it settled by txHash and books, on the payer's
	// account, a payment entry and a usage entry (the charge) of its
	// amount. Settling twice books once.
	SettleUpto(ctx context.Context, id int64, txHash string) error
	// DueUpto lists what the settler should work on: due, settling
	// untouched since staleBefore, failed untouched since retryBefore and
	// not past their deadline; at most limit. Due work comes by age of
	// claim, retries (settling, failed) by age of their last attempt, and
	// each gets its share of the limit (UptoBatchShares): a crowd of
	// failed permits does not keep due ones from settling before their
	// deadlines, nor the reverse.
	DueUpto(ctx context.Context, staleBefore, retryBefore, now time.Time, limit int) ([]*UptoAuthorization, error)
	// ClaimedUpto lists authorizations still claimed, created before the
	// given time: their requests died with a process, or still run here.
	ClaimedUpto(ctx context.Context, before time.Time) ([]*UptoAuthorization, error)
	// WriteOffUpto gives up on a failed authorization that can no longer
	// settle (UptoWriteOffRefused): released and closed, its reason
	// "written off: " and reason; its payer is no longer refused for it,
	// and the total exposure no longer counts it. Nothing is booked, as
	// nothing was paid.
	WriteOffUpto(ctx context.Context, id int64, reason string) error
	FindUpto(ctx context.Context, id int64) (*UptoAuthorization, error)
	FindUptoStats(ctx context.Context) (UptoStats, error)
}

// UptoWriteOffMargin is how long after its permit's deadline a failed
// authorization may be written off: Permit2 refuses a permit past its
// deadline, and the margin covers a settlement sent just before it and
// mined late, or clocks apart.
const UptoWriteOffMargin = 10 * time.Minute

// UptoWriteOffRefused says why authorization id, in state with its
// permit's deadline, cannot be written off at now, or is nil: only a
// failed one past its deadline and the margin, which can never settle.
func UptoWriteOffRefused(id int64, state UptoState, deadline, now time.Time) error {
	if state != UptoFailed {
		return Errorf(ECodeConflict, "upto authorization %d is %s; only a failed one can be written off", id, state)
	}
	if until := deadline.Add(UptoWriteOffMargin); now.Before(until) {
		return Errorf(ECodeConflict, "upto authorization %d can still settle: its permit's deadline is %s; restore the payer's funds and allowance, or write it off after %s",
			id, deadline.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	}
	return nil
}

// UptoBatchShares splits a settler batch of limit between the due work and
// the retries listed for it: retries get up to a quarter (at least one),
// and either takes what the other leaves.
func UptoBatchShares(limit, due, retries int) (takeDue, takeRetries int) {
	share := max(1, limit/4)
	takeRetries = min(retries, max(share, limit-due))
	takeDue = min(due, limit-takeRetries)
	return max(takeDue, 0), takeRetries
}
