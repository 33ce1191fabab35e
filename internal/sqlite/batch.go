package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/paymeter/paymeter/internal/meter"
)

// Group commit. Every money-moving operation is an op sent to one writer
// goroutine, which takes whatever ops are waiting, applies them in one
// transaction and commits once. With synchronous=FULL the fsync of that
// commit is the expensive part (~300 µs), so while one batch commits the
// next one fills up: batches grow with load and the cost per operation
// falls. Each op still gets its own outcome (insufficient_credits for one
// hold does not fail its neighbours) and its caller is woken only after the
// commit that contains it is durable.

// maxBatch bounds one transaction, so that a burst cannot make one commit
// (and the latency of everyone in it) arbitrarily long.
const maxBatch = 512

type opKind uint8

const (
	opHold opKind = iota + 1
	opCapture
	opRelease
	opCredit
	opExpire
)

// op is one ledger operation travelling to the writer and its outcome
// travelling back. Outcomes that are answers (a *meter.Error such as
// insufficient_credits) are in err; so are failures of the batch.
type op struct {
	kind      opKind
	accountID int64
	amount    meter.Amount
	holdID    string
	now       int64 // Unix ms
	expiresAt int64 // Unix ms
	charge    meter.Charge
	entryKind meter.EntryKind
	ref       string

	// Outcome.
	err     error
	charged meter.Amount
	entryID int64
	n       int

	done chan struct{}
}

var opPool = sync.Pool{New: func() any { return &op{done: make(chan struct{}, 1)} }}

func newOp(kind opKind) *op {
	o := opPool.Get().(*op)
	done := o.done
	*o = op{kind: kind, done: done}
	return o
}

func (o *op) free() { opPool.Put(o) }

// acctState is an account's balance as the current batch sees it.
type acctState struct {
	balance, held meter.Amount
	dirty         bool
}

// holdRec is what the writer remembers of an active hold.
type holdRec struct {
	accountID int64
	amount    meter.Amount
}

// batch applies ops inside one transaction.
type batch struct {
	ctx      context.Context
	s        *stmts // bound to the batch's transaction
	accounts map[int64]*acctState

	// known is the writer's memory of the active holds it created, so that
	// capturing one needs no lookup. A batch records its changes in added
	// and removed; they reach known only if the batch commits.
	known   map[string]holdRec
	added   map[string]holdRec
	removed map[string]struct{}
}

// settle applies the batch's hold changes to known, after its commit.
func (b *batch) settle() {
	for id := range b.removed {
		delete(b.known, id)
	}
	for id, r := range b.added {
		b.known[id] = r
	}
}

func (b *batch) deleteHold(id string) error {
	if _, err := b.s.deleteHold.ExecContext(b.ctx, id); err != nil {
		return fmt.Errorf("delete hold %s: %w", id, err)
	}
	if _, ok := b.added[id]; ok {
		delete(b.added, id)
		return nil
	}
	if b.removed == nil {
		b.removed = make(map[string]struct{})
	}
	b.removed[id] = struct{}{}
	return nil
}

// run applies every op, then writes each touched account once. An op whose
// outcome is an answer keeps it in op.err and leaves no writes behind; any
// other error aborts the batch and is returned.
func (b *batch) run(ops []*op) error {
	for _, o := range ops {
		if o == nil { // answered in an earlier try of this batch
			continue
		}
		outcome, err := b.apply(o)
		if err != nil {
			return err
		}
		o.err = outcome
	}
	for id, a := range b.accounts {
		if !a.dirty {
			continue
		}
		if _, err := b.s.updateAccount.ExecContext(b.ctx, a.balance, a.held, id); err != nil {
			return fmt.Errorf("update account %d: %w", id, err)
		}
	}
	return nil
}

// account loads an account's balance once per batch, inside the write
// transaction, so that writes by other processes (the CLI granting credits
// while serve runs) are seen.
func (b *batch) account(id int64) (*acctState, error) {
	if a, ok := b.accounts[id]; ok {
		return a, nil
	}
	a := &acctState{}
	err := b.s.selectAccount.QueryRowContext(b.ctx, id).Scan(&a.balance, &a.held)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load account %d: %w", id, err)
	}
	b.accounts[id] = a
	return a, nil
}

func (b *batch) apply(o *op) (outcome, err error) {
	switch o.kind {
	case opHold:
		return b.hold(o)
	case opCapture:
		return b.capture(o)
	case opRelease:
		return b.release(o)
	case opCredit:
		return b.credit(o)
	case opExpire:
		return nil, b.expire(o)
	}
	return nil, fmt.Errorf("unknown ledger op %d", o.kind)
}

func (b *batch) hold(o *op) (outcome, err error) {
	a, err := b.account(o.accountID)
	if err != nil || a == nil {
		return accountNotFound(o.accountID), err
	}
	if avail := a.balance - a.held; avail < o.amount {
		return meter.Errorf(meter.ECodeInsufficientCredit, "insufficient credits: this request may cost up to %s, %s available", o.amount, avail).
			WithDetail("required", o.amount.String()).
			WithDetail("available", avail.String()), nil
	}
	if _, err := b.s.insertHold.ExecContext(b.ctx, o.holdID, o.accountID, o.amount, o.now, o.expiresAt); err != nil {
		return nil, fmt.Errorf("insert hold: %w", err)
	}
	if b.added == nil {
		b.added = make(map[string]holdRec)
	}
	b.added[o.holdID] = holdRec{o.accountID, o.amount}
	a.held += o.amount
	a.dirty = true
	return nil, nil
}

// findHold returns the hold's account and amount, or found=false when the
// hold is no longer active.
func (b *batch) findHold(id string) (accountID int64, amount meter.Amount, found bool, err error) {
	if r, ok := b.added[id]; ok {
		return r.accountID, r.amount, true, nil
	}
	if _, ok := b.removed[id]; ok {
		return 0, 0, false, nil
	}
	if r, ok := b.known[id]; ok {
		return r.accountID, r.amount, true, nil
	}
	err = b.s.selectHold.QueryRowContext(b.ctx, id).Scan(&accountID, &amount)
	if err == sql.ErrNoRows {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("find hold %s: %w", id, err)
	}
	return accountID, amount, true, nil
}

func (b *batch) capture(o *op) (outcome, err error) {
	c := &o.charge
	accountID, held, found, err := b.findHold(c.HoldID)
	if err != nil {
		return nil, err
	}
	if !found {
		// The hold expired (the request outlived the hold's TTL) or was
		// already settled. The work was still done, so charge what the
		// account can pay; a second capture of the same hold is refused by
		// the journal's unique (kind, ref).
		accountID = c.AccountID
	}
	a, err := b.account(accountID)
	if err != nil || a == nil {
		return accountNotFound(accountID), err
	}
	// Charge the cost, but never more than the hold plus what is available
	// besides it: available balance must not go below zero.
	charged := min(c.Cost, a.balance-a.held+held)
	res, err := b.s.insertEntry.ExecContext(b.ctx, accountID, string(meter.EntryUsage), -int64(charged),
		c.HoldID, c.RequestID, c.Model, c.Usage.InputTokens, c.Usage.OutputTokens, c.Estimated, o.now)
	if err != nil {
		return nil, fmt.Errorf("insert usage entry: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return meter.Errorf(meter.ECodeConflict, "hold %s was already captured", c.HoldID), nil
	}
	if found {
		if err := b.deleteHold(c.HoldID); err != nil {
			return nil, err
		}
	}
	a.balance -= charged
	a.held -= held
	a.dirty = true
	o.charged = charged
	return nil, nil
}

func (b *batch) release(o *op) (outcome, err error) {
	accountID, held, found, err := b.findHold(o.holdID)
	if err != nil || !found {
		return meter.Errorf(meter.ECodeNotFound, "hold %s is not active", o.holdID), err
	}
	a, err := b.account(accountID)
	if err != nil || a == nil {
		return accountNotFound(accountID), err
	}
	if err := b.deleteHold(o.holdID); err != nil {
		return nil, err
	}
	a.held -= held
	a.dirty = true
	return nil, nil
}

func (b *batch) credit(o *op) (outcome, err error) {
	a, err := b.account(o.accountID)
	if err != nil || a == nil {
		return accountNotFound(o.accountID), err
	}
	res, err := b.s.insertEntry.ExecContext(b.ctx, o.accountID, string(o.entryKind), int64(o.amount),
		o.ref, "", "", 0, 0, false, o.now)
	if err != nil {
		return nil, fmt.Errorf("insert %s entry: %w", o.entryKind, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return meter.Errorf(meter.ECodeConflict, "a %s with reference %q was already booked", o.entryKind, o.ref), nil
	}
	o.entryID, _ = res.LastInsertId()
	a.balance += o.amount
	a.dirty = true
	return nil, nil
}

func (b *batch) expire(o *op) error {
	rows, err := b.s.selectExpired.QueryContext(b.ctx, o.now)
	if err != nil {
		return fmt.Errorf("find expired holds: %w", err)
	}
	type expired struct {
		id        string
		accountID int64
	}
	var ids []expired
	for rows.Next() {
		var e expired
		if err := rows.Scan(&e.id, &e.accountID); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, e)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, e := range ids {
		if _, err := b.release(&op{holdID: e.id}); err != nil {
			return err
		}
	}
	o.n = len(ids)
	return nil
}

func accountNotFound(id int64) error {
	return meter.Errorf(meter.ECodeNotFound, "account %d not found", id)
}

// stmts are the writer's prepared statements, prepared once on its single
// connection and bound to each batch's transaction.
type stmts struct {
	selectAccount, updateAccount       *sql.Stmt
	insertHold, selectHold, deleteHold *sql.Stmt
	insertEntry, selectExpired         *sql.Stmt
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
		{&s.insertEntry, `INSERT INTO entries (account_id, kind, amount, ref, request_id, model, input_tokens, output_tokens, estimated, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, ref) DO NOTHING`},
		{&s.selectExpired, `SELECT id, account_id FROM holds WHERE expires_at <= ? LIMIT 10000`},
	} {
		st, err := db.Prepare(p.sql)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.dst = st
	}
	return s, nil
}

// bind returns the statements bound to tx; they close with it.
func (s *stmts) bind(ctx context.Context, tx *sql.Tx) *stmts {
	return &stmts{
		selectAccount: tx.StmtContext(ctx, s.selectAccount),
		updateAccount: tx.StmtContext(ctx, s.updateAccount),
		insertHold:    tx.StmtContext(ctx, s.insertHold),
		selectHold:    tx.StmtContext(ctx, s.selectHold),
		deleteHold:    tx.StmtContext(ctx, s.deleteHold),
		insertEntry:   tx.StmtContext(ctx, s.insertEntry),
		selectExpired: tx.StmtContext(ctx, s.selectExpired),
	}
}

func (s *stmts) close() {
	for _, st := range []*sql.Stmt{s.selectAccount, s.updateAccount, s.insertHold, s.selectHold, s.deleteHold, s.insertEntry, s.selectExpired} {
		if st != nil {
			st.Close()
		}
	}
}
