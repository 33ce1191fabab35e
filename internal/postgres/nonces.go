package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateNonce stores a Sign-In with Ethereum nonce valid until expires,
// and purges expired ones.
func (s *Store) CreateNonce(ctx context.Context, nonce string, expires time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM siwe_nonces WHERE expires_at <= $1`, s.Now().UnixMilli()); err != nil {
			return fmt.Errorf("purge nonces: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO siwe_nonces (nonce, expires_at) VALUES ($1, $2)`, nonce, expires.UnixMilli()); err != nil {
			return fmt.Errorf("store nonce: %w", err)
		}
		return nil
	})
}

// ConsumeNonce deletes the nonce if it exists and has not expired, in one
// statement: of concurrent sign-ins with one nonce, on any instances, the
// first to delete the row wins; the others wait on its lock and then
// find it gone.
func (s *Store) ConsumeNonce(ctx context.Context, nonce string, now time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM siwe_nonces WHERE nonce = $1 AND expires_at > $2`, nonce, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("consume nonce: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
