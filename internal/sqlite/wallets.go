package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// AcceptWalletMessage claims a verified wallet message's hash until `until`
// and returns the wallet's account, creating it with freeCredits when the
// wallet is new. It runs through the writer and returns once durable, so a
// message is accepted exactly once, also across a restart, and 50 first
// requests of a new wallet create one account and one grant. A hash
// already claimed fails with signature_replayed.
func (l *Ledger) AcceptWalletMessage(ctx context.Context, address string, hash [32]byte, until time.Time, freeCredits meter.Amount) (*meter.Account, error) {
	o := newOp(opWallet)
	defer o.free()
	o.ref, o.hash, o.amount = address, hash, freeCredits
	o.now, o.expiresAt = l.db.Now().UnixMilli(), until.UnixMilli()
	if err := l.submit(o); err != nil {
		return nil, err
	}
	return &meter.Account{ID: o.accountID, Kind: meter.AccountWallet, Address: address, FreeGranted: o.charged}, nil
}

// EnsureWallet returns the wallet's account, creating it with freeCredits
// when the wallet is new (created reports that). Like AcceptWalletMessage,
// without a message to claim: for Sign-In with Ethereum.
func (l *Ledger) EnsureWallet(ctx context.Context, address string, freeCredits meter.Amount) (acct *meter.Account, created bool, err error) {
	o := newOp(opWallet)
	defer o.free()
	o.ref, o.amount, o.now = address, freeCredits, l.db.Now().UnixMilli()
	if err := l.submit(o); err != nil {
		return nil, false, err
	}
	a, err := l.FindAccountByID(ctx, o.accountID)
	return a, o.n == 1, err
}

// wallet applies an opWallet: claim the message (if there is one), then
// find or create the wallet's account. o.ref is the checksummed address.
func (b *batch) wallet(o *op) (outcome, err error) {
	if o.hash != ([32]byte{}) {
		res, err := b.stmt("claimMessage").ExecContext(b.ctx, o.hash[:], o.expiresAt)
		if err != nil {
			return nil, fmt.Errorf("claim wallet message: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return meter.Errorf(meter.ECodeSignatureReplayed, "this signed request was already used; sign each request anew"), nil
		}
	}
	// First sight of this wallet creates its account, and grants its free
	// credits once (the address is unique, and so is the grant's reference).
	id, created, err := b.walletAccountID(o.ref, o.now)
	if err != nil || !created {
		o.accountID = id
		return nil, err
	}
	o.accountID = id
	o.n = 1
	if o.amount <= 0 {
		return nil, nil
	}
	a, err := b.account(o.accountID)
	if err != nil || a == nil {
		return accountNotFound(o.accountID), err
	}
	if _, _, err := b.entry(a, o.accountID, meter.EntryGrant, o.amount, "initial:"+o.ref, meter.Charge{}, o.now); err != nil {
		return nil, fmt.Errorf("grant initial credits: %w", err)
	}
	if _, err := b.stmt("setFreeGranted").ExecContext(b.ctx, o.amount, o.accountID); err != nil {
		return nil, fmt.Errorf("record initial credits: %w", err)
	}
	o.charged = o.amount
	return nil, nil
}
