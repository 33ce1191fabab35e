package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// stmts are the writer's prepared statements, prepared once on its single
// connection and bound to each batch's transaction.
type stmts struct {
	selectAccount, updateAccount       *sql.Stmt
	insertHold, selectHold, deleteHold *sql.Stmt
	insertEntry, selectExpired         *sql.Stmt
	claimMessage, purgeMessages        *sql.Stmt
	walletAccount, insertWallet        *sql.Stmt
	setFreeGranted                     *sql.Stmt
	// insertUsage inserts n usage rows, for n = 1, 2, 4, … maxUsageRows.
	insertUsage usageStmts
	// rare are the statements of rare writes (payments), by name: prepared
	// on the connection, bound to a batch's transaction when first used
	// in it (batch.stmt), so that most batches never bind them.
	rare map[string]*sql.Stmt
}

// rareSQL are the statements of stmts.rare.
var rareSQL = map[string]string{
	"claimPayment": `INSERT INTO payments
		(key, network, payer, wallet, amount, purpose, request_id, state, payload, requirement, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'claimed', ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
	"markPayment": `UPDATE payments
		SET state = ?, tx_hash = CASE WHEN ? = '' THEN tx_hash ELSE ? END, reason = ?,
		    attempts = attempts + (? = 'settling'), updated_at = ?
		WHERE id = ? AND state IN ('claimed', 'settling')`,
	"selectSettle": `SELECT key, wallet, amount, purpose, state FROM payments WHERE id = ?`,
	"settlePayment": `UPDATE payments SET state = 'settled', tx_hash = ?, reason = '',
		account_id = ?, applied_at = ?, updated_at = ? WHERE id = ?`,
	"selectApply":   `SELECT key, amount, purpose, state, COALESCE(account_id, 0), applied_at FROM payments WHERE id = ?`,
	"applyPayment":  `UPDATE payments SET applied_at = ? WHERE id = ?`,
	"purgeSessions": `DELETE FROM sessions WHERE expires_at <= ?`,
	"budgetSpent": `SELECT COALESCE(-SUM(amount), 0) FROM entries
		WHERE account_id = ? AND subject = ? AND created_at >= ? AND subject != '' AND kind = 'usage'`,
}

// maxUsageRows is the most rows one usage insert takes.
const maxUsageRows = 64

const entryInsert = `INSERT INTO entries (account_id, kind, amount, ref, request_id, model, input_tokens, output_tokens, estimated, subject, created_at) VALUES `

// usageInsert returns the statement that inserts n usage rows.
func usageInsert(n int) string {
	var b strings.Builder
	b.WriteString(entryInsert)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
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
	s := &stmts{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.selectAccount, `SELECT balance, held FROM accounts WHERE id = ?`},
		{&s.updateAccount, `UPDATE accounts SET balance = ?, held = ? WHERE id = ?`},
		{&s.insertHold, `INSERT INTO holds (id, account_id, amount, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`},
		{&s.selectHold, `SELECT account_id, amount FROM holds WHERE id = ?`},
		{&s.deleteHold, `DELETE FROM holds WHERE id = ?`},
		{&s.insertEntry, entryInsert + `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, ref) DO NOTHING`},
		{&s.selectExpired, `SELECT id, account_id, amount FROM holds WHERE expires_at <= ? LIMIT 10000`},
		{&s.claimMessage, `INSERT INTO seen_messages (hash, expires_at) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING`},
		{&s.purgeMessages, `DELETE FROM seen_messages WHERE expires_at <= ?`},
		{&s.walletAccount, `SELECT id FROM accounts WHERE address = ?`},
		{&s.insertWallet, `INSERT INTO accounts (kind, address, created_at) VALUES ('wallet', ?, ?)`},
		{&s.setFreeGranted, `UPDATE accounts SET free_granted = ? WHERE id = ?`},
	} {
		st, err := db.Prepare(p.sql)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.dst = st
	}
	s.rare = make(map[string]*sql.Stmt, len(rareSQL))
	for name, q := range rareSQL {
		st, err := db.Prepare(q)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("prepare %s: %w", name, err)
		}
		s.rare[name] = st
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

// bind returns the statements bound to tx; they close with it.
func (s *stmts) bind(ctx context.Context, tx *sql.Tx) *stmts {
	return &stmts{
		selectAccount:  tx.StmtContext(ctx, s.selectAccount),
		updateAccount:  tx.StmtContext(ctx, s.updateAccount),
		insertHold:     tx.StmtContext(ctx, s.insertHold),
		selectHold:     tx.StmtContext(ctx, s.selectHold),
		deleteHold:     tx.StmtContext(ctx, s.deleteHold),
		insertEntry:    tx.StmtContext(ctx, s.insertEntry),
		selectExpired:  tx.StmtContext(ctx, s.selectExpired),
		claimMessage:   tx.StmtContext(ctx, s.claimMessage),
		purgeMessages:  tx.StmtContext(ctx, s.purgeMessages),
		walletAccount:  tx.StmtContext(ctx, s.walletAccount),
		insertWallet:   tx.StmtContext(ctx, s.insertWallet),
		setFreeGranted: tx.StmtContext(ctx, s.setFreeGranted),
		insertUsage:    lazyBind{ctx: ctx, tx: tx, raw: s.insertUsage, bound: make(map[int]*sql.Stmt, 2)},
		rare:           s.rare, // bound by batch.stmt
	}
}

func (s *stmts) close() {
	for _, st := range s.rare {
		st.Close()
	}
	if raw, ok := s.insertUsage.(rawUsage); ok {
		for _, st := range raw {
			st.Close()
		}
	}
	for _, st := range []*sql.Stmt{s.selectAccount, s.updateAccount, s.insertHold, s.selectHold, s.deleteHold, s.insertEntry,
		s.selectExpired, s.claimMessage, s.purgeMessages, s.walletAccount, s.insertWallet, s.setFreeGranted} {
		if st != nil {
			st.Close()
		}
	}
}
