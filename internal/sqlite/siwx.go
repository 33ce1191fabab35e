package sqlite

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// AcceptSIWXNonce claims a sign-in-with-x nonce for the wallet that signed
// it, until `until`, and returns the wallet's account, creating it (with
// free credits, within their limits) when the wallet is new: both in one
// transaction through the writer, durable when it returns. A nonce claimed
// before, by any wallet, fails with signature_replayed, also after a
// restart. issuedAt is the Issued At of the message, which the nonce's tag
// binds to it (the same at every use of the nonce): claims are kept in its
// order (migration 0012).
func (l *Ledger) AcceptSIWXNonce(ctx context.Context, nonce, address string, issuedAt, until time.Time, free meter.FreeGrant) (*meter.Account, error) {
	o := newOp(opFunc)
	defer o.free()
	o.ref, o.grant = address, free
	o.now, o.expiresAt, o.signedAt = l.db.Now().UnixMilli(), until.UnixMilli(), issuedAt.UnixMilli()
	o.fn = func(b *batch) (outcome, err error) {
		res, err := b.stmt("claimSIWXNonce").ExecContext(b.ctx, o.signedAt, nonce, o.ref, o.expiresAt)
		if err != nil {
			return nil, fmt.Errorf("claim sign-in-with-x nonce: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return meter.Errorf(meter.ECodeSignatureReplayed, "this sign-in-with-x nonce was already used; sign the nonce of a new 402").
				WithDetail("reason", "invalid_siwx_nonce_used"), nil
		}
		return b.wallet(o) // o.hash is zero: no wallet message to claim
	}
	if err := l.submit(o); err != nil {
		return nil, err
	}
	return &meter.Account{ID: o.accountID, Kind: meter.AccountWallet, Address: address, FreeGranted: o.charged}, nil
}

// claimSIWXNonceSQL claims nonce ?2, issued at ?1, for address ?3 until
// ?4, unless it is taken, or was by an earlier version in siwx_nonces.
const claimSIWXNonceSQL = `INSERT INTO siwx_claims (issued_at, nonce, address, expires_at) SELECT ?1, ?2, ?3, ?4
	WHERE NOT EXISTS (SELECT 1 FROM siwx_nonces WHERE nonce = ?2) ON CONFLICT (issued_at, nonce) DO NOTHING`

// SIWXKey returns the key of sign-in-with-x nonces' tags, making it on
// first use. Call it at startup: it writes outside the writer's batches.
func (l *Ledger) SIWXKey(ctx context.Context) ([]byte, error) {
	key := make([]byte, 32)
	rand.Read(key)
	if _, err := l.db.write.ExecContext(ctx, `INSERT INTO siwx_key (id, key) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`, key); err != nil {
		return nil, fmt.Errorf("store sign-in-with-x key: %w", err)
	}
	if err := l.db.write.QueryRowContext(ctx, `SELECT key FROM siwx_key WHERE id = 1`).Scan(&key); err != nil {
		return nil, fmt.Errorf("read sign-in-with-x key: %w", err)
	}
	return key, nil
}
