package sqlite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// AcceptWalletMessage claims a verified wallet message, by its signer and
// its hash, until `until` and returns the wallet's account, creating it
// (with free credits, within their limits) when the wallet is new. It runs
// through the writer and returns once durable, so a message is accepted
// exactly once, also across a restart, and 50 first requests of a new
// wallet create one account and one grant. A message its signer already
// used fails with signature_replayed; another signer's use of the same
// text does not count. signedAt is the time the message names (its hash
// covers it, so it is the same at every use of the message): claims are
// kept in its order (migration 0012).
func (l *Ledger) AcceptWalletMessage(ctx context.Context, address string, hash [32]byte, signedAt, until time.Time, free meter.FreeGrant) (*meter.Account, error) {
	o := newOp(opWallet)
	defer o.free()
	o.ref, o.hash, o.grant = address, hash, free
	o.now, o.expiresAt, o.signedAt = l.db.Now().UnixMilli(), until.UnixMilli(), signedAt.UnixMilli()
	if err := l.submit(o); err != nil {
		return nil, err
	}
	return &meter.Account{ID: o.accountID, Kind: meter.AccountWallet, Address: address, FreeGranted: o.charged}, nil
}

// EnsureWallet returns the wallet's account, creating it (with free
// credits, within their limits) when the wallet is new (created reports
// that). Like AcceptWalletMessage, without a message to claim: for
// Sign-In with Ethereum.
func (l *Ledger) EnsureWallet(ctx context.Context, address string, free meter.FreeGrant) (acct *meter.Account, created bool, err error) {
	o := newOp(opWallet)
	defer o.free()
	o.ref, o.grant, o.now = address, free, l.db.Now().UnixMilli()
	if err := l.submit(o); err != nil {
		return nil, false, err
	}
	a, err := l.FindAccountByID(ctx, o.accountID)
	return a, o.n == 1, err
}

// replayKey is what a wallet message is remembered by: its signer and its
// hash. The hash alone would let one wallet, signing the text another is
// about to send (same timestamp, method and path), block it.
func replayKey(address string, hash [32]byte) [32]byte {
	var buf [128]byte // the prefix, a 42-character address, 0, 32 bytes: no allocation
	b := append(buf[:0], "paymeter wallet message\x00"...)
	b = append(append(append(b, address...), 0), hash[:]...)
	return sha256.Sum256(b)
}

// claimMessageSQL claims a replay key (?1) of a message signed at ?4
// until ?2, unless it is taken, or was by an earlier version in
// seen_messages, where the legacy key ?3 (the message hash alone) may be
// too.
const claimMessageSQL = `INSERT INTO wallet_messages (signed_at, key, expires_at) SELECT ?4, ?1, ?2
	WHERE NOT EXISTS (SELECT 1 FROM seen_messages WHERE hash IN (?1, ?3)) ON CONFLICT (signed_at, key) DO NOTHING`

// countFreeGrantSQL counts one grant of ?3 for day ?1 and client ?2.
const countFreeGrantSQL = `INSERT INTO free_grants (day, client, grants, amount) VALUES (?, ?, 1, ?)
	ON CONFLICT (day, client) DO UPDATE SET grants = grants + 1, amount = amount + excluded.amount`

// wallet applies an opWallet: claim the message (if there is one), then
// find or create the wallet's account. o.ref is the checksummed address.
func (b *batch) wallet(o *op) (outcome, err error) {
	if o.hash != ([32]byte{}) {
		key := replayKey(o.ref, o.hash)
		// Rows written by earlier versions are keyed by the message hash
		// alone; the claim also finds those, until they expire.
		res, err := b.stmt("claimMessage").ExecContext(b.ctx, key[:], o.expiresAt, o.hash[:], o.signedAt)
		if err != nil {
			return nil, fmt.Errorf("claim wallet message: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return meter.Errorf(meter.ECodeSignatureReplayed, "this signed request was already used; sign each request anew"), nil
		}
	}
	// First sight of this wallet creates its account, and grants its free
	// credits once (the address is unique, and so is the grant's reference).
	// A wallet refused them for a limit is asked again on its next
	// requests, so that a day's spent budget does not refuse its new
	// wallets for good; one created by a payment is never asked.
	id, created, denied, err := b.walletAccount(o.ref, o.now)
	o.accountID = id
	if err != nil || (!created && denied == "") {
		return nil, err
	}
	if created {
		o.n = 1
	}
	if o.grant.Amount <= 0 {
		return nil, nil
	}
	return b.grantFree(o, o.grant, denied)
}

// grantFree grants a new wallet's initial free credits, unless a limit
// is reached: then the account keeps why, for its first 402. The counts
// are read and moved in this transaction, so the single writer decides
// concurrent new wallets one after the other.
func (b *batch) grantFree(o *op, g meter.FreeGrant, deniedBefore string) (outcome, err error) {
	day, client := o.now/dayMillis, clientKey(g.Client)
	denied, err := b.freeDenied(day, client, g)
	if err != nil {
		return nil, err
	}
	if denied != deniedBefore {
		if _, err := b.stmt("setFreeDenied").ExecContext(b.ctx, denied, o.accountID); err != nil {
			return nil, fmt.Errorf("record free credits refused: %w", err)
		}
	}
	if denied != "" {
		return nil, nil
	}
	a, err := b.account(o.accountID)
	if err != nil || a == nil {
		return accountNotFound(o.accountID), err
	}
	if _, _, err := b.entry(a, o.accountID, meter.EntryGrant, g.Amount, "initial:"+o.ref, meter.Charge{}, o.now); err != nil {
		return nil, fmt.Errorf("grant initial credits: %w", err)
	}
	if _, err := b.stmt("setFreeGranted").ExecContext(b.ctx, g.Amount, o.accountID); err != nil {
		return nil, fmt.Errorf("record initial credits: %w", err)
	}
	for _, c := range []string{client, allClients} {
		if _, err := b.stmt("countFreeGrant").ExecContext(b.ctx, day, c, g.Amount); err != nil {
			return nil, fmt.Errorf("count free grant: %w", err)
		}
	}
	o.charged = g.Amount
	return nil, nil
}

// freeDenied says why g cannot be granted today, or "" if it can.
func (b *batch) freeDenied(day int64, client string, g meter.FreeGrant) (string, error) {
	if g.PerClientPerDay > 0 {
		grants, _, err := b.freeCounts(day, client)
		if err != nil {
			return "", err
		}
		if grants >= int64(g.PerClientPerDay) {
			return fmt.Sprintf("not granted: this IP address has had its %d free grants today (UTC)", g.PerClientPerDay), nil
		}
	}
	if g.DailyBudget > 0 {
		_, spent, err := b.freeCounts(day, allClients)
		if err != nil {
			return "", err
		}
		if spent > g.DailyBudget-g.Amount {
			return "not granted: daily free-credit budget spent for today (UTC)", nil
		}
	}
	return "", nil
}

func (b *batch) freeCounts(day int64, client string) (grants int64, amount meter.Amount, err error) {
	err = b.stmt("freeGrants").QueryRowContext(b.ctx, day, client).Scan(&grants, &amount)
	if err != nil {
		return 0, 0, fmt.Errorf("read free grants: %w", err)
	}
	return grants, amount, nil
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

// freeCreditsNote is why a wallet account that has never had any credit
// got no free credits, or "": the detail of its 402 insufficient_credits.
func (l *Ledger) freeCreditsNote(accountID int64) string {
	var note string
	err := l.db.read.QueryRowContext(context.Background(), `SELECT free_denied FROM accounts a WHERE id = ? AND free_denied != ''
		AND NOT EXISTS (SELECT 1 FROM entries WHERE account_id = a.id)`, accountID).Scan(&note)
	if err != nil {
		return "" // none, or unreadable: the 402 stands without it
	}
	return note
}
