package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/paymeter/paymeter/internal/meter"
)

// stmts are the writer's prepared statements, prepared once on its single
// connection. A batch binds to its transaction only those it uses
// (batch.stmt), when it first uses them: most batches use three or four.
type stmts struct {
	named map[string]*sql.Stmt
	// insertUsage inserts n usage rows, for n = 1, 2, 4, … maxUsageRows.
	insertUsage usageStmts
}

// stmtSQL are the statements of stmts.named.
var stmtSQL = map[string]string{
	"selectAccount":       `SELECT balance, held FROM accounts WHERE id = ?`,
	"updateAccount":       `UPDATE accounts SET balance = ?, held = ? WHERE id = ?`,
	"insertHold":          `INSERT INTO holds (id, account_id, amount, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
	"selectHold":          `SELECT account_id, amount FROM holds WHERE id = ?`,
	"deleteHold":          `DELETE FROM holds WHERE id = ?`,
	"insertEntry":         entryInsert + entryRow + ` ON CONFLICT (kind, ref) DO NOTHING`,
	"selectExpired":       `SELECT id, account_id, amount, expires_at FROM holds WHERE expires_at <= ? LIMIT 10000`,
	"renewHold":           `UPDATE holds SET expires_at = ? WHERE id = ?`,
	"claimMessage":        claimMessageSQL,
	"purgeMessages":       `DELETE FROM wallet_messages WHERE expires_at <= ?`,
	"purgeLegacyMessages": `DELETE FROM seen_messages WHERE expires_at <= ?`,
	"walletAccount":       `SELECT id, free_denied FROM accounts WHERE address = ?`,
	"insertWallet":        `INSERT INTO accounts (kind, address, created_at) VALUES ('wallet', ?, ?)`,
	"setFreeGranted":      `UPDATE accounts SET free_granted = ? WHERE id = ?`,
	"claimPayment": `INSERT INTO payments
		(key, network, payer, wallet, amount, purpose, request_id, state, payload, requirement, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'claimed', ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
	"markPayment": `UPDATE payments
		SET state = ?, tx_hash = CASE WHEN ? = '' THEN tx_hash ELSE ? END, reason = ?,
		    attempts = attempts + (? = 'settling'), updated_at = ?
		WHERE id = ? AND state IN ('claimed', 'settling')`,
	"countUsageRef": `SELECT count(*) FROM entries WHERE kind = 'usage' AND ref = ?`,
	"selectSettle":  `SELECT key, wallet, amount, purpose, state FROM payments WHERE id = ?`,
	"settlePayment": `UPDATE payments SET state = 'settled', tx_hash = ?, reason = '',
		account_id = ?, applied_at = ?, updated_at = ? WHERE id = ?`,
	"selectApply":   `SELECT key, amount, purpose, state, COALESCE(account_id, 0), applied_at FROM payments WHERE id = ?`,
	"applyPayment":  `UPDATE payments SET applied_at = ? WHERE id = ?`,
	"purgeSessions": `DELETE FROM sessions WHERE expires_at <= ?`,
	// Authorizations finished by a binary older than migration 0016 (one
	// still running beside the migrated file) are closed here.
	"closeFinishedUpto": `UPDATE upto_authorizations SET closed_at = updated_at
		WHERE closed_at IS NULL AND state IN ('settled', 'released') AND ? > 0`,
	// sign-in-with-x nonces (siwx.go).
	"claimSIWXNonce":        claimSIWXNonceSQL,
	"purgeSIWXNonces":       `DELETE FROM siwx_claims WHERE expires_at <= ?`,
	"purgeLegacySIWXNonces": `DELETE FROM siwx_nonces WHERE expires_at <= ?`,
	// Free-credit limits (wallets.go).
	"freeGrants":      `SELECT COALESCE(SUM(grants), 0), COALESCE(SUM(amount), 0) FROM free_grants WHERE day = ? AND client = ?`,
	"countFreeGrant":  countFreeGrantSQL,
	"setFreeDenied":   `UPDATE accounts SET free_denied = ? WHERE id = ?`,
	"purgeFreeGrants": `DELETE FROM free_grants WHERE day < ?`,
	"budgetSpent": `SELECT COALESCE(-SUM(amount), 0) FROM entries
		WHERE account_id = ? AND subject = ? AND created_at >= ? AND subject != '' AND kind = 'usage'`,
}

// maxUsageRows is the most rows one usage insert takes.
const maxUsageRows = 64

// entryInsert names the columns of a journal row in the order of
// appendEntry's values; entryRow holds the place of one row's.
const (
	entryInsert = `INSERT INTO entries (account_id, kind, amount, ref, request_id, model, input_tokens, output_tokens,
		estimated, subject, created_at, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens,
		images) VALUES `
	entryRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// entryColumns is the number of values of one journal row.
const entryColumns = 16

// appendEntry appends the values of one journal row, as entryInsert
// names them, to dst.
func appendEntry(dst []any, accountID int64, kind meter.EntryKind, amount meter.Amount, ref string, c *meter.Charge, now int64) []any {
	u := &c.Usage
	return append(dst, accountID, string(kind), int64(amount), ref, c.RequestID, c.Model, u.InputTokens, u.OutputTokens,
		c.Estimated, c.Subject, now, u.CachedInputTokens, u.CacheWriteTokens, u.CacheWrite1hTokens, u.ReasoningTokens,
		u.Images)
}

// usageInsert returns the statement that inserts n usage rows.
func usageInsert(n int) string {
	var b strings.Builder
	b.WriteString(entryInsert)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(entryRow)
	}
	b.WriteString(" ON CONFLICT (kind, ref) DO NOTHING")
	return b.String()
}

// usageStmts are the usage inserts by row count: prepared on the
// connection, or bound to a transaction when first used in it.
type usageStmts interface {
	get(n int) *sql.Stmt
}

type rawUsage map[int]*sql.Stmt

func (r rawUsage) get(n int) *sql.Stmt { return r[n] }

type lazyBind struct {
	ctx   context.Context
	tx    *sql.Tx
	raw   usageStmts
	bound map[int]*sql.Stmt
}

func (l lazyBind) get(n int) *sql.Stmt {
	if st, ok := l.bound[n]; ok {
		return st
	}
	st := l.tx.StmtContext(l.ctx, l.raw.get(n))
	l.bound[n] = st
	return st
}

func prepareStmts(db *sql.DB) (*stmts, error) {
	s := &stmts{named: make(map[string]*sql.Stmt, len(stmtSQL))}
	for _, set := range []map[string]string{stmtSQL, uptoStmtSQL} {
		for name, q := range set {
			st, err := db.Prepare(q)
			if err != nil {
				s.close()
				return nil, fmt.Errorf("prepare %s: %w", name, err)
			}
			s.named[name] = st
		}
	}
	raw := rawUsage{}
	s.insertUsage = raw
	for n := 1; n <= maxUsageRows; n *= 2 {
		st, err := db.Prepare(usageInsert(n))
		if err != nil {
			s.close()
			return nil, fmt.Errorf("prepare usage insert of %d rows: %w", n, err)
		}
		raw[n] = st
	}
	return s, nil
}

// bind returns the statements for tx: the named ones are bound by
// batch.stmt, the usage inserts by lazyBind, each when first used.
func (s *stmts) bind(ctx context.Context, tx *sql.Tx) *stmts {
	return &stmts{
		named:       s.named,
		insertUsage: lazyBind{ctx: ctx, tx: tx, raw: s.insertUsage, bound: make(map[int]*sql.Stmt, 2)},
	}
}

func (s *stmts) close() {
	for _, st := range s.named {
		st.Close()
	}
	if raw, ok := s.insertUsage.(rawUsage); ok {
		for _, st := range raw {
			st.Close()
		}
	}
}
