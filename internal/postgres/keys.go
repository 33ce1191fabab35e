package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paymeter/paymeter/internal/meter"
)

// API keys and their sessions, as internal/sqlite/keys.go stores them:
// hashes and metadata, never secrets. Nothing about a key is cached in
// the process, so a key revoked or rotated through one instance is
// refused through every other at its next lookup.

// SQLSTATE codes of the constraints a key or a session may break.
const (
	codeForeignKeyViolation = "23503"
	codeUniqueViolation     = "23505"
)

// CreateKey inserts k and sets its ID and CreatedAt.
func (s *Store) CreateKey(ctx context.Context, k *meter.Key) error {
	return insertKey(ctx, s.pool, k, s.Now())
}

// idQuerier is a pool or a transaction.
type idQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertKey(ctx context.Context, q idQuerier, k *meter.Key, now time.Time) error {
	now = now.UTC().Truncate(time.Millisecond)
	err := q.QueryRow(ctx, `INSERT INTO api_keys (account_id, name, prefix, hash, scopes, rate_limit, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		k.AccountID, k.Name, k.Prefix, k.Hash[:], k.Scopes.String(), k.RateLimit, now.UnixMilli(), nullMillis(k.ExpiresAt)).Scan(&k.ID)
	switch sqlState(err) {
	case "":
	case codeForeignKeyViolation:
		return meter.Errorf(meter.ECodeNotFound, "account %d not found", k.AccountID)
	case codeUniqueViolation:
		return meter.Errorf(meter.ECodeConflict, "key already exists")
	}
	if err != nil {
		return fmt.Errorf("insert key: %w", err)
	}
	k.CreatedAt = now
	return nil
}

const keyColumns = `id, account_id, name, prefix, hash, scopes, rate_limit, created_at, expires_at, revoked_at, last_used_at`

func scanKey(row pgx.Row) (*meter.Key, error) {
	var (
		k                      meter.Key
		hash                   []byte
		scopes                 string
		created                int64
		expires, revoked, used *int64
	)
	if err := row.Scan(&k.ID, &k.AccountID, &k.Name, &k.Prefix, &hash, &scopes, &k.RateLimit, &created,
		&expires, &revoked, &used); err != nil {
		return nil, err
	}
	if len(hash) != len(k.Hash) {
		return nil, fmt.Errorf("key %d: stored hash has %d bytes", k.ID, len(hash))
	}
	copy(k.Hash[:], hash)
	var err error
	if k.Scopes, err = meter.ParseScopes(scopes); err != nil {
		return nil, fmt.Errorf("key %d: %w", k.ID, err)
	}
	k.CreatedAt = time.UnixMilli(created).UTC()
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromNullMillis(expires), fromNullMillis(revoked), fromNullMillis(used)
	return &k, nil
}

// FindKeyByHash returns the key whose secret hashes to hash, as the
// database has it now.
func (s *Store) FindKeyByHash(ctx context.Context, hash [32]byte) (*meter.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash[:]))
	if err != nil {
		return nil, orNotFound(err, "key not found")
	}
	return k, nil
}

// FindKeyByID returns the key with the given id.
func (s *Store) FindKeyByID(ctx context.Context, id int64) (*meter.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return nil, orNotFound(err, "key %d not found", id)
	}
	return k, nil
}

// FindKeys lists an account's keys, or every key when accountID is 0.
func (s *Store) FindKeys(ctx context.Context, accountID int64) ([]*meter.Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE $1::bigint = 0 OR account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("find keys: %w", err)
	}
	defer rows.Close()
	var out []*meter.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey marks the key revoked at at. Revoking a revoked key keeps the
// first revocation time.
func (s *Store) RevokeKey(ctx context.Context, id int64, at time.Time) error {
	return revokeKey(ctx, s.pool, id, at)
}

func revokeKey(ctx context.Context, q idQuerier, id int64, at time.Time) error {
	tag, err := q.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("revoke key %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return meter.Errorf(meter.ECodeNotFound, "key %d not found", id)
	}
	return nil
}

// RotateKey revokes the key oldID and stores replacement, which inherits
// the old key's account, in one transaction: there is no moment with both
// or neither usable. A revoked key cannot be rotated. The old key's row
// is locked first, so that of two instances rotating one key at once the
// second finds it revoked: one replacement, never two.
func (s *Store) RotateKey(ctx context.Context, oldID int64, replacement *meter.Key, at time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var accountID int64
		var revoked *int64
		err := tx.QueryRow(ctx, `SELECT account_id, revoked_at FROM api_keys WHERE id = $1 FOR UPDATE`, oldID).Scan(&accountID, &revoked)
		if err != nil {
			return orNotFound(err, "key %d not found", oldID)
		}
		if revoked != nil {
			return meter.Errorf(meter.ECodeConflict, "key %d is revoked and cannot be rotated", oldID)
		}
		replacement.AccountID = accountID
		if err := revokeKey(ctx, tx, oldID, at); err != nil {
			return err
		}
		return insertKey(ctx, tx, replacement, at)
	})
}

// TouchKeys sets last_used_at of many keys in one transaction; a time
// older than the stored one is ignored. Rows are updated in id order, so
// that two instances touching the same keys never deadlock.
func (s *Store) TouchKeys(ctx context.Context, used map[int64]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, id := range ids {
			b.Queue(`UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), $1) WHERE id = $2`, used[id].UnixMilli(), id)
		}
		res := tx.SendBatch(ctx, b)
		for _, id := range ids {
			if _, err := res.Exec(); err != nil {
				res.Close()
				return fmt.Errorf("touch key %d: %w", id, err)
			}
		}
		return res.Close()
	})
}

// orNotFound turns "no rows" into a not_found error; other errors pass.
func orNotFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return meter.Errorf(meter.ECodeNotFound, format, args...)
	}
	return err
}

// nullMillis is an optional time as a nullable Unix-millisecond column.
func nullMillis(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

// fromNullMillis is a nullable Unix-millisecond column as an optional time.
func fromNullMillis(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := time.UnixMilli(*ms).UTC()
	return &t
}
