package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

// AcceptSIWXNonce claims a sign-in-with-x nonce for the wallet that signed
// it, until `until`, and returns the wallet's account, creating it (with
// free credits, within their limits) when the wallet is new: both in one
// transaction, durable when it returns. A nonce claimed before, by any
// wallet through any instance, fails with signature_replayed. issuedAt is
// the Issued At of the message, which the nonce's tag binds to it (the
// same at every use of the nonce): claims are kept in its order
// (migration 0012).
func (l *Ledger) AcceptSIWXNonce(ctx context.Context, nonce, address string, issuedAt, until time.Time, free meter.FreeGrant) (*meter.Account, error) {
	claim := func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO siwx_claims (issued_at, nonce, address, expires_at)
			SELECT $1::bigint, $2::text, $3::text, $4::bigint
			WHERE NOT EXISTS (SELECT 1 FROM siwx_nonces WHERE nonce = $2::text) ON CONFLICT (issued_at, nonce) DO NOTHING`,
			issuedAt.UnixMilli(), nonce, address, until.UnixMilli())
		if err != nil {
			return fmt.Errorf("claim sign-in-with-x nonce: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return meter.Errorf(meter.ECodeSignatureReplayed, "this sign-in-with-x nonce was already used; sign the nonce of a new 402").
				WithDetail("reason", "invalid_siwx_nonce_used")
		}
		return nil
	}
	w, err := l.acceptWallet(ctx, address, free, claim)
	if err != nil {
		return nil, err
	}
	return &meter.Account{ID: w.id, Kind: meter.AccountWallet, Address: address, FreeGranted: w.granted}, nil
}

// SIWXKey returns the key of sign-in-with-x nonces' tags, making it on
// first use: every instance offers its own random key and the first
// stored is the one all of them read back, so a nonce issued by one
// instance is good at every other.
func (l *Ledger) SIWXKey(ctx context.Context) ([]byte, error) {
	key := make([]byte, 32)
	rand.Read(key)
	if _, err := l.pool.Exec(ctx, `INSERT INTO siwx_key (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, key); err != nil {
		return nil, fmt.Errorf("store sign-in-with-x key: %w", err)
	}
	if err := l.pool.QueryRow(ctx, `SELECT key FROM siwx_key WHERE id = 1`).Scan(&key); err != nil {
		return nil, fmt.Errorf("read sign-in-with-x key: %w", err)
	}
	return key, nil
}
