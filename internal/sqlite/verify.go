package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Verify checks every ledger invariant (docs/design.md §4) against what is
// stored and returns one line per violation; an empty result means the
// ledger is sound. An error means the check itself could not run.
func (l *Ledger) Verify(ctx context.Context) ([]string, error) { return verifyOn(ctx, l.db.read) }

// VerifyFile is Verify on the ledger file at path, opened read-only: it
// neither migrates nor writes it (paymeter db copy checks its source so).
func VerifyFile(ctx context.Context, path string) ([]string, error) {
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	return verifyOn(ctx, conn)
}

func verifyOn(ctx context.Context, conn *sql.DB) ([]string, error) {
	var violations []string
	for _, c := range append(verifyChecks, uptoChecks...) {
		rows, err := conn.QueryContext(ctx, c.sql)
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
	var integrity string
	if err := conn.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&integrity); err != nil {
		return nil, fmt.Errorf("quick_check: %w", err)
	}
	if integrity != "ok" {
		violations = append(violations, "database file: quick_check: "+integrity)
	}
	return violations, nil
}

// verifyChecks are Verify's queries: each lists the violations of one
// invariant as (account, a, b).
var verifyChecks = []struct {
	what string
	sql  string
}{
	{"balance differs from the sum of its journal entries",
		`SELECT a.id, a.balance, COALESCE((SELECT SUM(e.amount) FROM entries e WHERE e.account_id = a.id), 0) AS s
			 FROM accounts a WHERE a.balance != s`},
	{"held differs from the sum of its active holds",
		`SELECT a.id, a.held, COALESCE((SELECT SUM(h.amount) FROM holds h WHERE h.account_id = a.id), 0) AS s
			 FROM accounts a WHERE a.held != s`},
	{"available balance is below zero (balance, held)",
		`SELECT id, balance, held FROM accounts WHERE balance - held < 0`},
	{"usage entry credits money (entry id, amount)",
		`SELECT account_id, id, amount FROM entries WHERE kind = 'usage' AND amount > 0`},
	{"credit entry is not positive (entry id, amount)",
		`SELECT account_id, id, amount FROM entries WHERE kind IN ('grant', 'topup', 'payment', 'change') AND amount <= 0`},
	// +e.account_id keeps the lookup on (kind, ref): by account it
	// would read all of a wallet's entries for each of its payments.
	{"applied payment's credits differ from its amount (payment id, credits)",
		`SELECT COALESCE(p.account_id, 0), p.id, (SELECT COALESCE(SUM(e.amount), 0) FROM entries e
			   WHERE e.kind IN ('payment', 'topup', 'change') AND e.ref IN (p.key, ` + requestRefSQL + `) AND +e.account_id = p.account_id) AS s
			 FROM payments p WHERE p.state = 'settled' AND p.applied_at IS NOT NULL AND s != p.amount * 1000`},
	{"payment credited before it was settled and applied (payment id, credits)",
		`SELECT COALESCE(p.account_id, 0), p.id, (SELECT count(*) FROM entries e WHERE e.kind IN ('payment', 'topup', 'change')
			   AND e.ref IN (p.key, ` + requestRefSQL + `)) AS n
			 FROM payments p WHERE (p.state != 'settled' OR p.applied_at IS NULL) AND n != 0`},
	{"hold has a negative amount (amount, expires)",
		`SELECT account_id, amount, expires_at FROM holds WHERE amount < 0`},
}
