package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

// Wallet accounts and their initial free credits (docs/design.md §3), as
// internal/sqlite/wallets.go decides them. SQLite's single writer
// decides concurrent new wallets one after the other; here each is one
// transaction, and instances agree through the database alone: the
// replay record and the account are unique rows (INSERT … ON CONFLICT),
// a wallet's grant is decided under its account's row lock, and a grant
// is counted against the free-credit limits by conditional upserts, so
// that no limit is read in one statement and moved in another.

// AcceptWalletMessage claims a verified wallet message, by its signer and
// its hash, until `until` and returns the wallet's account, creating it
// (with free credits, within their limits) when the wallet is new, all in
// one transaction that is durable when it returns. A message its signer
// already used, through any instance, fails with signature_replayed;
// another signer's use of the same text does not count. signedAt is the
// time the message names (migration 0012).
func (l *Ledger) AcceptWalletMessage(ctx context.Context, address string, hash [32]byte, signedAt, until time.Time, free meter.FreeGrant) (*meter.Account, error) {
	var claim func(tx pgx.Tx) error
	if hash != ([32]byte{}) {
		claim = func(tx pgx.Tx) error { return claimMessage(ctx, tx, address, hash, signedAt, until) }
	}
	w, err := l.acceptWallet(ctx, address, free, claim)
	if err != nil {
		return nil, err
	}
	return &meter.Account{ID: w.id, Kind: meter.AccountWallet, Address: address, FreeGranted: w.granted}, nil
}

// EnsureWallet returns the wallet's account, creating it (with free
// credits, within their limits) when the wallet is new (created reports
// that). Like AcceptWalletMessage, without a message to claim: for
// Sign-In with Ethereum.
func (l *Ledger) EnsureWallet(ctx context.Context, address string, free meter.FreeGrant) (*meter.Account, bool, error) {
	w, err := l.acceptWallet(ctx, address, free, nil)
	if err != nil {
		return nil, false, err
	}
	a, err := l.FindAccountByID(ctx, w.id)
	return a, w.created, err
}

// walletOutcome is what acceptWallet did: the account, whether it made
// it, and the free credits it granted.
type walletOutcome struct {
	id      int64
	created bool
	granted meter.Amount
}

// acceptWallet runs claim (a replay record, if not nil), then finds or
// creates the wallet's account and grants its free credits if they are
// due, in one transaction: a refused claim leaves nothing written.
func (l *Ledger) acceptWallet(ctx context.Context, address string, free meter.FreeGrant, claim func(tx pgx.Tx) error) (walletOutcome, error) {
	now := l.Now().UnixMilli()
	var w walletOutcome
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		w = walletOutcome{} // a retried transaction starts over
		if claim != nil {
			if err := claim(tx); err != nil {
				return err
			}
		}
		id, created, denied, err := findOrCreateWallet(ctx, tx, address, now)
		w.id, w.created = id, created
		// A wallet refused its free credits for a limit is asked again on
		// its next requests, so that a day's spent budget does not refuse
		// its new wallets for good; one created by a payment is never asked.
		if err != nil || (!created && denied == "") || free.Amount <= 0 {
			return err
		}
		w.granted, err = grantFree(ctx, tx, id, address, created, free, now)
		return err
	})
	return w, err
}

// findOrCreateWallet returns the wallet's account, creating it without
// credits when there is none, and why its free credits were refused ("" if
// they were not). It looks first, so that the usual request does not burn
// an identity value on a conflicting insert; of two instances creating
// one wallet, the second's insert waits for the first's and finds it.
func findOrCreateWallet(ctx context.Context, tx pgx.Tx, address string, now int64) (id int64, created bool, denied string, err error) {
	const find = `SELECT id, free_denied FROM accounts WHERE address = $1`
	err = tx.QueryRow(ctx, find, address).Scan(&id, &denied)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return id, false, denied, wrapErr(err, "find wallet account")
	}
	err = tx.QueryRow(ctx, `INSERT INTO accounts (kind, address, created_at) VALUES ('wallet', $1, $2)
		ON CONFLICT (address) DO NOTHING RETURNING id`, address, now).Scan(&id)
	if err == nil {
		return id, true, "", nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, "", fmt.Errorf("create wallet account: %w", err)
	}
	err = tx.QueryRow(ctx, find, address).Scan(&id, &denied)
	return id, false, denied, wrapErr(err, "find wallet account")
}

// grantFree grants the initial free credits of the wallet's account id,
// unless a limit is reached: then the account keeps why, for its first
// 402. The account is locked first, so that two instances never both
// decide one wallet's grant; its refusal is read again under the lock.
func grantFree(ctx context.Context, tx pgx.Tx, id int64, address string, created bool, g meter.FreeGrant, now int64) (meter.Amount, error) {
	a, err := lockAccount(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	if a == nil {
		return 0, accountNotFound(id)
	}
	deniedBefore := ""
	if !created {
		if err := tx.QueryRow(ctx, `SELECT free_denied FROM accounts WHERE id = $1`, id).Scan(&deniedBefore); err != nil {
			return 0, fmt.Errorf("read free credits refused: %w", err)
		}
		if deniedBefore == "" {
			return 0, nil // granted meanwhile, through another instance
		}
	}
	// The counts and the grant move together or not at all: a savepoint
	// takes back a client's count when the day's budget then refuses.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer sp.Rollback(context.WithoutCancel(ctx))
	denied, err := countFreeGrant(ctx, sp, now/dayMillis, clientKey(g.Client), g)
	if err != nil {
		return 0, err
	}
	if denied != "" {
		if err := sp.Rollback(ctx); err != nil {
			return 0, err
		}
		if denied != deniedBefore {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET free_denied = $1 WHERE id = $2`, denied, id); err != nil {
				return 0, fmt.Errorf("record free credits refused: %w", err)
			}
		}
		return 0, nil
	}
	_, booked, err := bookEntry(ctx, sp, id, a, meter.EntryGrant, g.Amount, "initial:"+address, meter.Charge{}, now)
	if err != nil || !booked { // not booked: granted before; count nothing
		return 0, err
	}
	if err := saveAccount(ctx, sp, id, a); err != nil {
		return 0, err
	}
	if _, err := sp.Exec(ctx, `UPDATE accounts SET free_granted = $1, free_denied = '' WHERE id = $2`, int64(g.Amount), id); err != nil {
		return 0, fmt.Errorf("record initial credits: %w", err)
	}
	return g.Amount, sp.Commit(ctx)
}

// countFreeGrant counts one grant of g against its client's limit, then
// against the day's budget, and says why it is refused ("" if it is not).
// Each count is one upsert that moves the row only if the limit allows
// it, under the row's lock: concurrent grants, on any instances, queue
// on the row and each sees the counts the one before it left.
func countFreeGrant(ctx context.Context, tx pgx.Tx, day int64, client string, g meter.FreeGrant) (string, error) {
	limit := int64(math.MaxInt64)
	if g.PerClientPerDay > 0 {
		limit = int64(g.PerClientPerDay)
	}
	if ok, err := countGrant(ctx, tx, day, client, g.Amount, limit, math.MaxInt64); err != nil || !ok {
		return fmt.Sprintf("not granted: this IP address has had its %d free grants today (UTC)", g.PerClientPerDay), err
	}
	room := meter.Amount(math.MaxInt64) // the most spent today that leaves room for g
	if g.DailyBudget > 0 {
		room = g.DailyBudget - g.Amount
	}
	if room < 0 {
		return budgetSpent, nil
	}
	if ok, err := countGrant(ctx, tx, day, allClients, g.Amount, math.MaxInt64, room); err != nil || !ok {
		return budgetSpent, err
	}
	return "", nil
}

const budgetSpent = "not granted: daily free-credit budget spent for today (UTC)"

// countGrant counts one grant of amount on the row (day, client) if it
// has had fewer than maxGrants and at most maxSpent; ok reports it.
func countGrant(ctx context.Context, tx pgx.Tx, day int64, client string, amount meter.Amount, maxGrants int64, maxSpent meter.Amount) (ok bool, err error) {
	var grants int64
	err = tx.QueryRow(ctx, `INSERT INTO free_grants AS f (day, client, grants, amount) VALUES ($1, $2, 1, $3)
		ON CONFLICT (day, client) DO UPDATE SET grants = f.grants + 1, amount = f.amount + excluded.amount
		WHERE f.grants < $4 AND f.amount <= $5 RETURNING f.grants`,
		day, client, int64(amount), maxGrants, int64(maxSpent)).Scan(&grants)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("count free grant: %w", err)
	}
	return true, nil
}

// replayKey is what a wallet message is remembered by: its signer and its
// hash, as internal/sqlite makes it (a copied ledger's records stay good).
// The hash alone would let one wallet, signing the text another is about
// to send (same timestamp, method and path), block it.
func replayKey(address string, hash [32]byte) [32]byte {
	var buf [128]byte
	b := append(buf[:0], "paymeter wallet message\x00"...)
	b = append(append(append(b, address...), 0), hash[:]...)
	return sha256.Sum256(b)
}

// claimMessage claims a wallet message's replay key until `until`, unless
// it is taken, or was by an earlier version in seen_messages, where the
// legacy key (the message hash alone) may be too. Of concurrent claims of
// one key, the later ones wait on the first's uncommitted row, then do
// nothing if it committed.
func claimMessage(ctx context.Context, tx pgx.Tx, address string, hash [32]byte, signedAt, until time.Time) error {
	key := replayKey(address, hash)
	tag, err := tx.Exec(ctx, `INSERT INTO wallet_messages (signed_at, key, expires_at) SELECT $4::bigint, $1::bytea, $2::bigint
		WHERE NOT EXISTS (SELECT 1 FROM seen_messages WHERE hash IN ($1::bytea, $3::bytea)) ON CONFLICT (signed_at, key) DO NOTHING`,
		key[:], until.UnixMilli(), hash[:], signedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("claim wallet message: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return meter.Errorf(meter.ECodeSignatureReplayed, "this signed request was already used; sign each request anew")
	}
	return nil
}

// dayMillis is one UTC day: free-credit limits count per day since the
// Unix epoch, which starts at 00:00 UTC.
const dayMillis = 24 * 60 * 60 * 1000

// allClients is the free_grants row of a day's total.
const allClients = "*"

// clientKey is the address a free grant is counted against: an IPv4
// address as it is, an IPv6 address by its /64 (one subscriber usually
// holds a whole /64, so counting single addresses would count nothing).
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown" // all unparseable addresses share one count
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// wrapErr wraps err with what failed, or is nil.
func wrapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
