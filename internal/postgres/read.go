package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

const entryColumns = `id, account_id, kind, amount, ref, request_id, model, input_tokens, output_tokens, estimated, subject,
	created_at, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, images`

// FindEntries returns an account's journal entries, newest first; with
// f.Subject, only that subject's, by time.
func (l *Ledger) FindEntries(ctx context.Context, f meter.EntryFilter) ([]*meter.Entry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	before := f.BeforeID
	if before <= 0 {
		before = 1<<63 - 1
	}
	query, args := `SELECT `+entryColumns+` FROM entries WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
		[]any{f.AccountID, before, f.Limit}
	if f.Subject != "" {
		query = `SELECT ` + entryColumns + ` FROM entries WHERE account_id = $1 AND subject = $4 AND subject != ''
			AND (created_at, id) < (COALESCE((SELECT created_at FROM entries WHERE id = $2), 1::bigint << 62), $2)
			ORDER BY created_at DESC, id DESC LIMIT $3`
		args = append(args, f.Subject)
	}
	rows, err := l.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find entries: %w", err)
	}
	defer rows.Close()
	var out []*meter.Entry
	for rows.Next() {
		var (
			e                    meter.Entry
			kind                 string
			amount, created, est int64
		)
		if err := rows.Scan(&e.ID, &e.AccountID, &kind, &amount, &e.Ref, &e.RequestID, &e.Model,
			&e.Usage.InputTokens, &e.Usage.OutputTokens, &est, &e.Subject, &created,
			&e.Usage.CachedInputTokens, &e.Usage.CacheWriteTokens, &e.Usage.CacheWrite1hTokens, &e.Usage.ReasoningTokens,
			&e.Usage.Images); err != nil {
			return nil, err
		}
		e.Kind, e.Amount, e.Estimated, e.CreatedAt = meter.EntryKind(kind), meter.Amount(amount), est != 0, time.UnixMilli(created).UTC()
		out = append(out, &e)
	}
	return out, rows.Err()
}

// Verify checks the ledger's invariants (docs/design.md §4) and returns
// one line per violation; an error means a check could not run. One
// REPEATABLE READ transaction gives every check the same snapshot, so
// writes of other instances meanwhile cannot make it see a false one.
func (l *Ledger) Verify(ctx context.Context) ([]string, error) {
	tx, err := l.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	var violations []string
	for _, c := range verifyChecks {
		rows, err := tx.Query(ctx, c.sql)
		if err != nil {
			return nil, fmt.Errorf("verify %q: %w", c.what, err)
		}
		for rows.Next() {
			var id, a, b int64
			if err := rows.Scan(&id, &a, &b); err != nil {
				rows.Close()
				return nil, err
			}
			violations = append(violations, fmt.Sprintf("account %d: %s: %d, %d", id, c.what, a, b))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return violations, nil
}

// verifyChecks are Verify's queries, SQLite's (internal/sqlite/verify.go)
// for what this engine writes so far: each lists the violations of one
// invariant as (account, a, b).
var verifyChecks = []struct {
	what string
	sql  string
}{
	{"balance differs from the sum of its journal entries",
		`SELECT a.id, a.balance, s FROM accounts a,
			LATERAL (SELECT COALESCE(SUM(e.amount), 0)::bigint AS s FROM entries e WHERE e.account_id = a.id) t
			WHERE a.balance != s`},
	{"held differs from the sum of its active holds",
		`SELECT a.id, a.held, s FROM accounts a,
			LATERAL (SELECT COALESCE(SUM(h.amount), 0)::bigint AS s FROM holds h WHERE h.account_id = a.id) t
			WHERE a.held != s`},
	{"available balance is below zero (balance, held)",
		`SELECT id, balance, held FROM accounts WHERE balance - held < 0`},
	{"usage entry credits money (entry id, amount)",
		`SELECT account_id, id, amount FROM entries WHERE kind = 'usage' AND amount > 0`},
	{"credit entry is not positive (entry id, amount)",
		`SELECT account_id, id, amount FROM entries WHERE kind IN ('grant', 'topup', 'payment', 'change') AND amount <= 0`},
	{"applied payment's credits differ from its amount (payment id, credits)",
		`SELECT COALESCE(p.account_id, 0), p.id, s FROM payments p,
			LATERAL (SELECT COALESCE(SUM(e.amount), 0)::bigint AS s FROM entries e
				WHERE e.kind IN ('payment', 'topup', 'change') AND e.ref IN (p.key, ` + requestRefSQL + `) AND e.account_id = p.account_id) t
			WHERE p.state = 'settled' AND p.applied_at IS NOT NULL AND s != p.amount * 1000`},
	{"payment credited before it was settled and applied (payment id, credits)",
		`SELECT COALESCE(p.account_id, 0), p.id, n FROM payments p,
			LATERAL (SELECT count(*) AS n FROM entries e WHERE e.kind IN ('payment', 'topup', 'change')
				AND e.ref IN (p.key, ` + requestRefSQL + `)) t
			WHERE (p.state != 'settled' OR p.applied_at IS NULL) AND n != 0`},
	{"hold has a negative amount (amount, expires)",
		`SELECT account_id, amount, expires_at FROM holds WHERE amount < 0`},
}
