package meter

import (
	"context"
	"time"
)

// Store is the one storage engine the program runs on: everything `paymeter
// serve`, the operator commands and the authenticators and payment
// processors they wire need of the ledger's database. SQLite (one process)
// and PostgreSQL (any number of instances) implement it; the ledger's
// conformance suite (internal/ledgertest) states what every implementation
// must guarantee, through this interface only.
type Store interface {
	Ledger
	LazySettlement // and so Payments
	PaymentIdentifiers
	UptoLedger
	KeyStore
	SessionStore
	Wallets
	SIWENonces
	SIWXNonces
	Reconciliation
	Engine
}

// Wallets keeps wallets' accounts and the wallet messages they sign.
type Wallets interface {
	// EnsureWallet finds or creates address's account, a new one with the
	// initial free credits if free's limits allow; created says which.
	EnsureWallet(ctx context.Context, address string, free FreeGrant) (acct *Account, created bool, err error)
	// AcceptWalletMessage claims a verified wallet message, by its signer
	// and its hash, until until: once, durably, whatever the concurrency;
	// a message claimed before is ECodeSignatureReplayed. It returns the
	// wallet's account (EnsureWallet's).
	AcceptWalletMessage(ctx context.Context, address string, hash [32]byte, signedAt, until time.Time, free FreeGrant) (*Account, error)
}

// SIWENonces keeps Sign-In with Ethereum nonces: single use, short-lived.
type SIWENonces interface {
	CreateNonce(ctx context.Context, nonce string, expires time.Time) error
	// ConsumeNonce deletes an unexpired nonce atomically; false if there
	// was none (already consumed, expired or never issued).
	ConsumeNonce(ctx context.Context, nonce string, now time.Time) (bool, error)
}

// SIWXNonces keeps sign-in-with-x nonces and the key their tags are made
// with.
type SIWXNonces interface {
	// AcceptSIWXNonce claims nonce until until, once, by whichever
	// wallet, durably; a nonce claimed before is ECodeSignatureReplayed.
	// It returns address's account (EnsureWallet's).
	AcceptSIWXNonce(ctx context.Context, nonce, address string, issuedAt, until time.Time, free FreeGrant) (*Account, error)
	// SIWXKey returns the key of the nonces' tags, made the first time it
	// is asked for and the same ever after, for every instance.
	SIWXKey(ctx context.Context) ([]byte, error)
}

// Reconciliation lists what `paymeter ledger reconcile` checks on chain.
type Reconciliation interface {
	// SettledPayments lists settled payments with an id above afterID, at
	// most limit, by id.
	SettledPayments(ctx context.Context, afterID int64, limit int) ([]*Payment, error)
	// SettledUpto lists settled upto authorizations with an id above
	// afterID, at most limit, by id.
	SettledUpto(ctx context.Context, afterID int64, limit int) ([]*UptoAuthorization, error)
	// FailedUpto lists the upto authorizations whose settlement failed
	// (their payers are refused until they settle), by id, at most 1000.
	FailedUpto(ctx context.Context) ([]*UptoAuthorization, error)
}

// Engine is the running of a store: its health, its background work and
// its end.
type Engine interface {
	// Ping checks that the database takes writes now (/readyz).
	Ping(ctx context.Context) error
	// Maintain runs the store's background work (expired holds released,
	// long-lived holds and noted settlements stored, expired claims
	// purged) until ctx ends; expiryInterval is how often holds expire.
	Maintain(ctx context.Context, expiryInterval time.Duration)
	// SetInFlight names the holds of the requests this process is
	// serving, which the expiry sweep renews instead of releasing. Call
	// it before serving.
	SetInFlight(f *InFlight)
	// ActiveHolds is the number of holds reserving credit now (metrics).
	ActiveHolds() int
	// SetCommitObserver has observe called after every ledger commit with
	// its number of operations and the time it took (metrics).
	SetCommitObserver(observe func(ops int, took time.Duration))
	// Close commits what was submitted, releases the holds still active
	// (their requests are abandoned) and closes the database.
	Close() error
}
