package sqlite

import (
	"context"
	"fmt"
	"time"
)

// NonceStore keeps Sign-In with Ethereum nonces.
type NonceStore struct {
	db *DB
}

// NewNonceStore returns a NonceStore on db.
func NewNonceStore(db *DB) *NonceStore { return &NonceStore{db: db} }

// CreateNonce stores a nonce valid until expires, and purges expired ones.
func (s *NonceStore) CreateNonce(ctx context.Context, nonce string, expires time.Time) error {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM siwe_nonces WHERE expires_at <= ?`, s.db.Now().UnixMilli()); err != nil {
		return fmt.Errorf("purge nonces: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO siwe_nonces (nonce, expires_at) VALUES (?, ?)`, nonce, expires.UnixMilli()); err != nil {
		return fmt.Errorf("store nonce: %w", err)
	}
	return tx.Commit()
}

// ConsumeNonce deletes the nonce if it exists and has not expired, in one
// statement: of two concurrent sign-ins with one nonce, one wins.
func (s *NonceStore) ConsumeNonce(ctx context.Context, nonce string, now time.Time) (bool, error) {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM siwe_nonces WHERE nonce = ? AND expires_at > ?`, nonce, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("consume nonce: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
