package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.SessionStore = (*KeyStore)(nil)

// sessionRetention is how long an expired session stays stored, so that
// its token is refused as expired rather than unknown; the expiry sweep
// deletes it after that.
const sessionRetention = 24 * time.Hour

// CreateSession inserts s and sets its ID and CreatedAt. Its parent key
// must exist.
func (ks *KeyStore) CreateSession(ctx context.Context, s *meter.Session) error {
	now := ks.db.Now().UTC().Truncate(time.Millisecond)
	var spendCap sql.NullInt64
	if s.SpendCap != nil {
		spendCap = sql.NullInt64{Int64: int64(*s.SpendCap), Valid: true}
	}
	res, err := ks.db.write.ExecContext(ctx, `INSERT INTO sessions
		(key_id, account_id, prefix, hash, scopes, models, spend_cap, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.KeyID, s.AccountID, s.Prefix, s.Hash[:], s.Scopes.String(), strings.Join(s.Models, ","), spendCap,
		now.UnixMilli(), s.ExpiresAt.UnixMilli())
	switch {
	case isConstraint(err, sqlite3.ErrConstraintForeignKey):
		return meter.Errorf(meter.ECodeNotFound, "key %d not found", s.KeyID)
	case isConstraint(err, sqlite3.ErrConstraintUnique):
		return meter.Errorf(meter.ECodeConflict, "session token already exists")
	case err != nil:
		return fmt.Errorf("insert session: %w", err)
	}
	s.ID, _ = res.LastInsertId()
	s.CreatedAt = now
	return nil
}

// FindSessionByHash returns the session whose token hashes to hash, with
// its parent key's revocation, expiry and rate limit as they are now.
func (ks *KeyStore) FindSessionByHash(ctx context.Context, hash [32]byte) (*meter.Session, error) {
	var s meter.Session
	var h []byte
	var scopes, models string
	var spendCap, revoked, expires sql.NullInt64
	var created, sessionExpires int64
	err := ks.db.read.QueryRowContext(ctx, `SELECT s.id, s.key_id, s.account_id, s.prefix, s.hash, s.scopes, s.models,
			s.spend_cap, s.created_at, s.expires_at, k.revoked_at, k.expires_at, k.rate_limit
		FROM sessions s JOIN api_keys k ON k.id = s.key_id WHERE s.hash = ?`, hash[:]).
		Scan(&s.ID, &s.KeyID, &s.AccountID, &s.Prefix, &h, &scopes, &models, &spendCap, &created, &sessionExpires,
			&revoked, &expires, &s.ParentRateLimit)
	if err != nil {
		return nil, notFound(err, "session not found")
	}
	if len(h) != len(s.Hash) {
		return nil, fmt.Errorf("session %d: stored hash has %d bytes", s.ID, len(h))
	}
	copy(s.Hash[:], h)
	if s.Scopes, err = meter.ParseScopes(scopes); err != nil {
		return nil, fmt.Errorf("session %d: %w", s.ID, err)
	}
	if models != "" {
		s.Models = strings.Split(models, ",")
	}
	if spendCap.Valid {
		c := meter.Amount(spendCap.Int64)
		s.SpendCap = &c
	}
	s.CreatedAt, s.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(sessionExpires).UTC()
	s.ParentRevokedAt, s.ParentExpiresAt = fromMillis(revoked), fromMillis(expires)
	return &s, nil
}
