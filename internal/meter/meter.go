package meter

import (
	"context"
	"time"
)

// AccountKind says who owns an account.
type AccountKind string

// Account kinds.
const (
	AccountApp    AccountKind = "app"
	AccountWallet AccountKind = "wallet"
)

// Account holds one balance. Balance is the sum of the account's journal
// entries; Held is the sum of its active holds; only Available can be spent.
type Account struct {
	ID      int64
	Kind    AccountKind
	Name    string // apps
	Address string // wallets: checksummed 0x address
	Balance Amount
	Held    Amount
	// FreeGranted is what the account received as initial free credits.
	FreeGranted Amount
	CreatedAt   time.Time
}

// Available is what the account can still spend.
func (a *Account) Available() Amount { return a.Balance - a.Held }

// EntryKind classifies journal entries.
type EntryKind string

// Journal entry kinds (docs/design.md §4).
const (
	EntryGrant      EntryKind = "grant"
	EntryTopup      EntryKind = "topup"
	EntryPayment    EntryKind = "payment"
	EntryUsage      EntryKind = "usage"
	EntryChange     EntryKind = "change"
	EntryAdjustment EntryKind = "adjustment"
)

// Valid reports whether k is a known entry kind.
func (k EntryKind) Valid() bool {
	switch k {
	case EntryGrant, EntryTopup, EntryPayment, EntryUsage, EntryChange, EntryAdjustment:
		return true
	}
	return false
}

// Entry is one append-only journal row. Amount is signed: usage is negative.
type Entry struct {
	ID        int64
	AccountID int64
	Kind      EntryKind
	Amount    Amount
	// Ref is unique per kind: the hold id for usage, a payment nonce for
	// payments, an operator-chosen reference for grants.
	Ref       string
	RequestID string
	Model     string
	Usage     Usage
	// Estimated is set on usage entries whose tokens were estimated because
	// the client left before the upstream reported usage.
	Estimated bool
	// Subject is who within the account spent: a JWT user or a session
	// token (Principal.Subject); empty for the account's own keys.
	Subject   string
	CreatedAt time.Time
}

// Hold reserves a request's worst-case cost on an account until the
// request is metered. A hold that outlives ExpiresAt is released.
type Hold struct {
	ID        string
	AccountID int64
	Amount    Amount
	ExpiresAt time.Time
}

// Charge is the outcome of one metered request, captured against its hold.
type Charge struct {
	HoldID string
	// AccountID pays if the hold is gone (it expired while the request ran).
	AccountID int64
	Cost      Amount
	RequestID string
	Model     string
	Usage     Usage
	Estimated bool
	// Subject is recorded on the usage entry (Entry.Subject).
	Subject string
}

// Budget caps what one subject may spend of an account's credit: a session
// token's spend cap, a JWT user's daily cap. The subject's usage entries
// since Since, plus its active holds, never exceed Cap.
type Budget struct {
	Subject string
	Since   time.Time
	Cap     Amount
}

// BudgetUse is what a budget's subject has spent since the budget's start
// and holds now within it.
type BudgetUse struct {
	Spent, Held Amount
}

// EntryFilter selects journal entries, newest first.
type EntryFilter struct {
	AccountID int64
	// Subject, when set, selects only that subject's entries (a
	// sub-principal's own), ordered by time, newest first.
	Subject string
	// BeforeID, when non-zero, returns only entries older than that id (a cursor).
	BeforeID int64
	Limit    int
}

// Ledger is the credit ledger. Every method that moves money returns only
// once its write is durable; Hold, which moves none, may return before.
type Ledger interface {
	CreateAccount(ctx context.Context, a *Account) error
	FindAccountByID(ctx context.Context, id int64) (*Account, error)
	FindAccounts(ctx context.Context, kind AccountKind) ([]*Account, error)

	// Credit adds a positive amount to an account as an entry of the given
	// kind. A ref already used for that kind fails with ECodeConflict.
	Credit(ctx context.Context, accountID int64, kind EntryKind, amount Amount, ref string) (*Entry, error)
	// Hold reserves amount or fails with ECodeInsufficientCredit. The
	// reservation binds every later operation at once; it may reach the
	// database a moment later.
	Hold(ctx context.Context, accountID int64, amount Amount, ttl time.Duration) (*Hold, error)
	// HoldWithin is Hold that also keeps the budget's subject within its
	// cap, or fails with ECodeSpendCapExceeded. Capture the hold with the
	// budget's subject in Charge.Subject.
	HoldWithin(ctx context.Context, accountID int64, amount Amount, ttl time.Duration, budget Budget) (*Hold, error)
	// Capture charges c.Cost against its hold and releases the rest. A cost
	// above the hold is charged as far as the account's available balance
	// reaches, never below zero; the amount actually charged is returned.
	Capture(ctx context.Context, c Charge) (Amount, error)
	// Release drops a hold without charging anything.
	Release(ctx context.Context, holdID string) error
	// ReleaseExpired releases every hold that expired before now.
	ReleaseExpired(ctx context.Context, now time.Time) (int, error)

	FindEntries(ctx context.Context, f EntryFilter) ([]*Entry, error)
	// Available returns what the account can spend now, as Hold decides:
	// its balance less its active holds. It is cheap enough for every
	// metered answer (X-Paymeter-Balance).
	Available(ctx context.Context, accountID int64) (Amount, error)
	// FindBudgetUse returns what the budget's subject has spent since
	// budget.Since and holds within it, as HoldWithin counts them (holds
	// taken by plain Hold are not in Held).
	FindBudgetUse(ctx context.Context, accountID int64, budget Budget) (BudgetUse, error)
	// Verify checks every ledger invariant and returns the violations found.
	Verify(ctx context.Context) ([]string, error)
}

// PaymentPurpose says what an x402 payment buys.
type PaymentPurpose string

// Payment purposes.
const (
	PurposeRequest PaymentPurpose = "request" // one proxied request; the change is credited to the payer's wallet
	PurposeTopup   PaymentPurpose = "topup"   // credits
)

// PaymentState is where an x402 payment is in its settlement.
type PaymentState string

// Payment states; settled and failed are final.
const (
	PaymentClaimed  PaymentState = "claimed"
	PaymentSettling PaymentState = "settling"
	PaymentSettled  PaymentState = "settled"
	PaymentFailed   PaymentState = "failed"
)

// Payment is an x402 payment as the ledger records it.
type Payment struct {
	ID int64
	// Key is unique per authorization: chain, token, payer and nonce.
	Key     string
	Network string
	Payer   string // checksummed address
	// Wallet is the wallet credited once settled: the payer, or the wallet
	// a top-up names.
	Wallet    string
	Amount    USDC
	Purpose   PaymentPurpose
	RequestID string
	State     PaymentState
	TxHash    string
	Reason    string
	Attempts  int
	// Payload and Requirement are the payment and what it paid, as JSON,
	// so that a settlement can be retried after a restart.
	Payload, Requirement []byte
	// AccountID is the wallet account credited once settled.
	AccountID int64
	CreatedAt time.Time
	UpdatedAt time.Time
	// Identifier is the payer's payment-identifier, if the payment carries
	// one (PaymentIdentifiers); ClaimPayment claims it with the payment.
	Identifier string
}

// Payments records x402 payments through their settlement.
type Payments interface {
	// ClaimPayment records a verified payment as claimed and sets its ID;
	// a key already claimed fails with ECodePaymentUsed. Durable on return.
	ClaimPayment(ctx context.Context, p *Payment) error
	// MarkPayment moves an unsettled payment to settling or failed,
	// recording the transaction hash and reason known so far.
	MarkPayment(ctx context.Context, id int64, state PaymentState, txHash, reason string) error
	// SettlePayment marks a payment settled and finds or creates p.Wallet's
	// account (without free credits); a top-up is credited to it in the same
	// transaction, a request payment waits for ApplyPayment. Settling twice
	// credits once. It returns the account.
	SettlePayment(ctx context.Context, id int64, txHash string) (*Account, error)
	// ApplyPayment books a settled request payment once its request is
	// metered, in one transaction on the wallet's account: a payment entry
	// and a usage entry of c.Cost (capped at what was paid), and a change
	// entry of the rest. It returns the cost charged.
	ApplyPayment(ctx context.Context, id int64, c Charge) (Amount, error)
	// UnappliedPayments lists settled request payments not yet applied,
	// settled before the given time: their requests died (a crash).
	UnappliedPayments(ctx context.Context, before time.Time) ([]*Payment, error)
	FindPayment(ctx context.Context, id int64) (*Payment, error)
	// OpenPayments lists payments still claimed or settling, last touched
	// before the given time: the settlement sweep's work.
	OpenPayments(ctx context.Context, before time.Time) ([]*Payment, error)
}
