package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.KeyStore = (*KeyStore)(nil)

// KeyStore stores API keys: hashes and metadata, never secrets.
type KeyStore struct {
	db *DB
}

// NewKeyStore returns a KeyStore on db.
func NewKeyStore(db *DB) *KeyStore { return &KeyStore{db: db} }

// CreateKey inserts k and sets its ID and CreatedAt.
func (s *KeyStore) CreateKey(ctx context.Context, k *meter.Key) error {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertKey(ctx, tx, k, s.db.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

func insertKey(ctx context.Context, tx *sql.Tx, k *meter.Key, now time.Time) error {
	now = now.UTC().Truncate(time.Millisecond)
	res, err := tx.ExecContext(ctx, `INSERT INTO api_keys (account_id, name, prefix, hash, scopes, rate_limit, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.AccountID, k.Name, k.Prefix, k.Hash[:], k.Scopes.String(), k.RateLimit, now.UnixMilli(), millis(k.ExpiresAt))
	switch {
	case isConstraint(err, sqlite3.ErrConstraintForeignKey):
		return meter.Errorf(meter.ECodeNotFound, "account %d not found", k.AccountID)
	case isConstraint(err, sqlite3.ErrConstraintUnique):
		return meter.Errorf(meter.ECodeConflict, "key already exists")
	case err != nil:
		return fmt.Errorf("insert key: %w", err)
	}
	k.ID, _ = res.LastInsertId()
	k.CreatedAt = now
	return nil
}

const keyColumns = `id, account_id, name, prefix, hash, scopes, rate_limit, created_at, expires_at, revoked_at, last_used_at`

func scanKey(row interface{ Scan(...any) error }) (*meter.Key, error) {
	var k meter.Key
	var hash []byte
	var scopes string
	var created int64
	var expires, revoked, used sql.NullInt64
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
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromMillis(expires), fromMillis(revoked), fromMillis(used)
	return &k, nil
}

// FindKeyByHash returns the key whose secret hashes to hash.
func (s *KeyStore) FindKeyByHash(ctx context.Context, hash [32]byte) (*meter.Key, error) {
	k, err := scanKey(s.db.read.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash[:]))
	if err != nil {
		return nil, notFound(err, "key not found")
	}
	return k, nil
}

// FindKeyByID returns the key with the given id.
func (s *KeyStore) FindKeyByID(ctx context.Context, id int64) (*meter.Key, error) {
	k, err := scanKey(s.db.read.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "key %d not found", id)
	}
	return k, nil
}

// FindKeys lists an account's keys, or every key when accountID is 0.
func (s *KeyStore) FindKeys(ctx context.Context, accountID int64) ([]*meter.Key, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE ? = 0 OR account_id = ? ORDER BY id`, accountID, accountID)
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
func (s *KeyStore) RevokeKey(ctx context.Context, id int64, at time.Time) error {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := revokeKey(ctx, tx, id, at); err != nil {
		return err
	}
	return tx.Commit()
}

func revokeKey(ctx context.Context, tx *sql.Tx, id int64, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("revoke key %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return meter.Errorf(meter.ECodeNotFound, "key %d not found", id)
	}
	return nil
}

// RotateKey revokes the key oldID and stores replacement, which inherits
// the old key's account, in one transaction: there is no moment with both
// or neither usable. A revoked key cannot be rotated.
func (s *KeyStore) RotateKey(ctx context.Context, oldID int64, replacement *meter.Key, at time.Time) error {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var accountID int64
	var revoked sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT account_id, revoked_at FROM api_keys WHERE id = ?`, oldID).Scan(&accountID, &revoked)
	if err != nil {
		return notFound(err, "key %d not found", oldID)
	}
	if revoked.Valid {
		return meter.Errorf(meter.ECodeConflict, "key %d is revoked and cannot be rotated", oldID)
	}
	replacement.AccountID = accountID
	if err := revokeKey(ctx, tx, oldID, at); err != nil {
		return err
	}
	if err := insertKey(ctx, tx, replacement, at); err != nil {
		return err
	}
	return tx.Commit()
}

// TouchKeys sets last_used_at of many keys in one transaction; a time
// older than the stored one is ignored.
func (s *KeyStore) TouchKeys(ctx context.Context, used map[int64]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for id, at := range used {
		if _, err := stmt.ExecContext(ctx, at.UnixMilli(), id); err != nil {
			return fmt.Errorf("touch key %d: %w", id, err)
		}
	}
	return tx.Commit()
}
