package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/paymeter/paymeter/internal/meter"
)

// CreateAccount inserts a and sets its ID and CreatedAt. Balances start at
// zero: money only ever arrives through the journal.
func (l *Ledger) CreateAccount(ctx context.Context, a *meter.Account) error {
	switch a.Kind {
	case meter.AccountApp:
		if a.Name == "" {
			return meter.Errorf(meter.ECodeBadRequest, "an app needs a name")
		}
	case meter.AccountWallet:
		if a.Address == "" {
			return meter.Errorf(meter.ECodeBadRequest, "a wallet account needs an address")
		}
	default:
		return meter.Errorf(meter.ECodeBadRequest, "unknown account kind %q", a.Kind)
	}
	now := l.db.Now().UTC().Truncate(time.Millisecond)
	var addr sql.NullString
	if a.Address != "" {
		addr = sql.NullString{String: a.Address, Valid: true}
	}
	res, err := l.db.write.ExecContext(ctx, `INSERT INTO accounts (kind, name, address, created_at) VALUES (?, ?, ?, ?)`,
		string(a.Kind), a.Name, addr, now.UnixMilli())
	if isConstraint(err, sqlite3.ErrConstraintUnique) {
		return meter.Errorf(meter.ECodeConflict, "an account for %s already exists", a.Address)
	} else if err != nil {
		return fmt.Errorf("insert account: %w", err)
	}
	a.ID, _ = res.LastInsertId()
	a.CreatedAt, a.Balance, a.Held = now, 0, 0
	return nil
}

const accountColumns = `id, kind, name, COALESCE(address, ''), balance, held, free_granted, created_at`

func scanAccount(row interface{ Scan(...any) error }) (*meter.Account, error) {
	var a meter.Account
	var created int64
	if err := row.Scan(&a.ID, &a.Kind, &a.Name, &a.Address, &a.Balance, &a.Held, &a.FreeGranted, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = time.UnixMilli(created).UTC()
	return &a, nil
}

// FindAccountByID returns the account with its current balance. Its held
// total includes the holds this process keeps in memory only (see
// batch.go); another process sees only the stored ones.
func (l *Ledger) FindAccountByID(ctx context.Context, id int64) (*meter.Account, error) {
	// The book is read first: the writer settles it only after its commit,
	// so a capture that already left the book is in the row read next (the
	// other order could show a hold gone and its charge not yet booked).
	held, inBook := l.book.held(id)
	a, err := scanAccount(l.db.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "account %d not found", id)
	}
	if inBook {
		a.Held = held
	}
	return a, nil
}

// FindAccounts lists the accounts of one kind, or of every kind when kind is empty.
func (l *Ledger) FindAccounts(ctx context.Context, kind meter.AccountKind) ([]*meter.Account, error) {
	rows, err := l.db.read.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE ? = '' OR kind = ? ORDER BY id`, string(kind), string(kind))
	if err != nil {
		return nil, fmt.Errorf("find accounts: %w", err)
	}
	defer rows.Close()
	var out []*meter.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// subjectEntries selects one subject's entries older than the cursor
// entry, in the order of the partial index entries_by_subject (time, then
// id), so that a page reads only the subject's rows however many others
// the account has. A cursor naming no entry bounds by id alone.
const subjectEntries = `SELECT id, account_id, kind, amount, ref, request_id, model,
		input_tokens, output_tokens, estimated, subject, created_at,
		cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, images
		FROM entries WHERE account_id = ? AND subject = ? AND subject != ''
		AND (created_at, id) < (COALESCE((SELECT created_at FROM entries WHERE id = ?), 1 << 62), ?)
		ORDER BY created_at DESC, id DESC LIMIT ?`

// FindEntries returns an account's journal entries, newest first; with
// f.Subject, only that subject's.
func (l *Ledger) FindEntries(ctx context.Context, f meter.EntryFilter) ([]*meter.Entry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	before := f.BeforeID
	if before <= 0 {
		before = 1<<63 - 1
	}
	query, args := `SELECT id, account_id, kind, amount, ref, request_id, model,
		input_tokens, output_tokens, estimated, subject, created_at,
		cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, images
		FROM entries WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, []any{f.AccountID, before, f.Limit}
	if f.Subject != "" {
		query, args = subjectEntries, []any{f.AccountID, f.Subject, before, before, f.Limit}
	}
	rows, err := l.db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find entries: %w", err)
	}
	defer rows.Close()
	var out []*meter.Entry
	for rows.Next() {
		var e meter.Entry
		var created int64
		if err := rows.Scan(&e.ID, &e.AccountID, &e.Kind, &e.Amount, &e.Ref, &e.RequestID, &e.Model,
			&e.Usage.InputTokens, &e.Usage.OutputTokens, &e.Estimated, &e.Subject, &created,
			&e.Usage.CachedInputTokens, &e.Usage.CacheWriteTokens, &e.Usage.CacheWrite1hTokens, &e.Usage.ReasoningTokens,
			&e.Usage.Images); err != nil {
			return nil, err
		}
		e.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, &e)
	}
	return out, rows.Err()
}
