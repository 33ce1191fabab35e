package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paymeter/paymeter/internal/meter"
)

// Store is the PostgreSQL engine's meter.Store: the ledger, and the
// payments, claims, keys and sessions beside it, on one database.
type Store struct {
	*Ledger
	db *DB
	// PersistAfter is how long a settlement noted by SettleLater waits
	// for its application before it is written on its own.
	PersistAfter time.Duration
	unrecorded   meter.Unrecorded
}

var _ meter.Store = (*Store)(nil)

// OpenStore opens (and migrates) the database at dsn and starts its
// ledger's writer.
func OpenStore(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	db, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &Store{Ledger: NewLedger(db.Pool(), logger), db: db, PersistAfter: defaultPersistAfter}, nil
}

// Close writes the settlements still unrecorded, stops the ledger's
// writer, then closes the database.
func (s *Store) Close() error {
	s.persistAll()
	s.Ledger.Close()
	s.db.Close()
	return nil
}

// inTx runs fn in one transaction and commits it, running it again (up
// to three times in all) when PostgreSQL aborts it for a deadlock or a
// serialization failure, which concurrent instances can cause.
func (l *Ledger) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for try := 0; try < 3; try++ {
		if err = l.tryTx(ctx, fn); !retryable(err) {
			return err
		}
	}
	return err
}

func (l *Ledger) tryTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := l.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// retryable reports a transaction PostgreSQL aborted that may succeed
// when run again: a deadlock (40P01) or a serialization failure (40001).
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

// lockAccount reads account id's balance and held total under a lock
// that holds off every other writer of the row (the writer's batches
// take the same) until the transaction ends; nil if there is none.
func lockAccount(ctx context.Context, tx pgx.Tx, id int64) (*accountRow, error) {
	var balance, held int64
	err := tx.QueryRow(ctx, `SELECT balance, held FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&balance, &held)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock account %d: %w", id, err)
	}
	return &accountRow{balance: meter.Amount(balance), held: meter.Amount(held)}, nil
}

// bookEntry inserts one journal entry of account id, which lockAccount
// locked as a, and moves a's balance; booked is false, with nothing
// written, when the entry's kind and reference are booked already. Write
// a back with saveAccount before the transaction ends.
func bookEntry(ctx context.Context, tx pgx.Tx, id int64, a *accountRow, kind meter.EntryKind, amount meter.Amount, ref string, c meter.Charge, now int64) (entryID int64, booked bool, err error) {
	u := &c.Usage
	est := int64(0)
	if c.Estimated {
		est = 1
	}
	err = tx.QueryRow(ctx, `INSERT INTO entries (account_id, kind, amount, ref, request_id, model, subject, estimated, created_at,
			input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, images)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (kind, ref) DO NOTHING RETURNING id`,
		id, string(kind), int64(amount), ref, c.RequestID, c.Model, c.Subject, est, now,
		u.InputTokens, u.OutputTokens, u.CachedInputTokens, u.CacheWriteTokens, u.CacheWrite1hTokens, u.ReasoningTokens, u.Images).
		Scan(&entryID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("insert %s entry: %w", kind, err)
	}
	a.balance += amount
	a.dirty = true
	return entryID, true, nil
}

// saveAccount writes a's balance and held total, if they moved.
func saveAccount(ctx context.Context, tx pgx.Tx, id int64, a *accountRow) error {
	if !a.dirty {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET balance = $2, held = $3 WHERE id = $1`, id, int64(a.balance), int64(a.held)); err != nil {
		return fmt.Errorf("update account %d: %w", id, err)
	}
	a.dirty = false
	return nil
}

// Engine: what the server sets up and reads about its ledger.

// SetInFlight names the holds whose requests are still running in this
// instance: its expiry renews them ahead of time (renew.go), so that no
// instance's expiry releases them under their requests.
func (l *Ledger) SetInFlight(f *meter.InFlight) { l.inFlight.Store(f) }

// ActiveHolds is the number of holds reserving credit now, of every
// instance, as last counted by Maintain.
func (l *Ledger) ActiveHolds() int { return int(l.activeHolds.Load()) }

// SetCommitObserver has observe called after every batch the writer
// commits, with its number of ops and the time it took.
func (l *Ledger) SetCommitObserver(observe func(ops int, took time.Duration)) {
	l.observe.Store(&observe)
}

// Pool is the database's connection pool, for operator tools and tests
// that read it directly.
func (s *Store) Pool() *pgxpool.Pool { return s.db.Pool() }
