package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// CreateSession inserts se and sets its ID and CreatedAt. Its parent key
// must exist.
func (s *Store) CreateSession(ctx context.Context, se *meter.Session) error {
	now := s.Now().UTC().Truncate(time.Millisecond)
	var spendCap *int64
	if se.SpendCap != nil {
		c := int64(*se.SpendCap)
		spendCap = &c
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO sessions
		(key_id, account_id, prefix, hash, scopes, models, spend_cap, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		se.KeyID, se.AccountID, se.Prefix, se.Hash[:], se.Scopes.String(), strings.Join(se.Models, ","), spendCap,
		now.UnixMilli(), se.ExpiresAt.UnixMilli()).Scan(&se.ID)
	switch sqlState(err) {
	case "":
	case codeForeignKeyViolation:
		return meter.Errorf(meter.ECodeNotFound, "key %d not found", se.KeyID)
	case codeUniqueViolation:
		return meter.Errorf(meter.ECodeConflict, "session token already exists")
	}
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	se.CreatedAt = now
	return nil
}

// FindSessionByHash returns the session whose token hashes to hash, with
// its parent key's revocation, expiry and rate limit as they are now (in
// the database, whichever instance changed them).
func (s *Store) FindSessionByHash(ctx context.Context, hash [32]byte) (*meter.Session, error) {
	var (
		se                         meter.Session
		h                          []byte
		scopes, models             string
		spendCap, revoked, expires *int64
		created, sessionExpires    int64
	)
	err := s.pool.QueryRow(ctx, `SELECT s.id, s.key_id, s.account_id, s.prefix, s.hash, s.scopes, s.models,
			s.spend_cap, s.created_at, s.expires_at, k.revoked_at, k.expires_at, k.rate_limit
		FROM sessions s JOIN api_keys k ON k.id = s.key_id WHERE s.hash = $1`, hash[:]).
		Scan(&se.ID, &se.KeyID, &se.AccountID, &se.Prefix, &h, &scopes, &models, &spendCap, &created, &sessionExpires,
			&revoked, &expires, &se.ParentRateLimit)
	if err != nil {
		return nil, orNotFound(err, "session not found")
	}
	if len(h) != len(se.Hash) {
		return nil, fmt.Errorf("session %d: stored hash has %d bytes", se.ID, len(h))
	}
	copy(se.Hash[:], h)
	if se.Scopes, err = meter.ParseScopes(scopes); err != nil {
		return nil, fmt.Errorf("session %d: %w", se.ID, err)
	}
	if models != "" {
		se.Models = strings.Split(models, ",")
	}
	if spendCap != nil {
		c := meter.Amount(*spendCap)
		se.SpendCap = &c
	}
	se.CreatedAt, se.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(sessionExpires).UTC()
	se.ParentRevokedAt, se.ParentExpiresAt = fromNullMillis(revoked), fromNullMillis(expires)
	return &se, nil
}
