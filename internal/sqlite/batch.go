package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/paymeter/paymeter/internal/meter"
)

// Group commit. Every operation that writes is an op sent to one writer
// goroutine, which takes whatever ops are waiting, applies them in one
// transaction and commits once. With synchronous=FULL the fsync of that
// commit is the expensive part, so while one batch commits the next one
// fills up: batches grow with load and the cost per operation falls. Each
// op still gets its own outcome (one request's double capture does not
// fail its neighbours) and its caller is woken only after the commit that
// contains it is durable.
//
// Holds are the exception: they are decided at once against the book
// (book.go), and only a hold still active after Ledger.PersistAfter is
// written to the database, by the writer, with nobody waiting for it. Most
// requests finish sooner, so their holds never cost a write. A hold moves
// no money; if the process dies before it is written, the request it
// guarded dies too, which is what releasing the hold would have done.

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
	opLoad
	opWallet
	opFunc
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
	signedAt  int64 // Unix ms: the time a replay record's message names
	charge    meter.Charge
	entryKind meter.EntryKind
	ref       string
	hash      [32]byte
	// grant is an opWallet's free credits for a new wallet, and their limits.
	grant meter.FreeGrant
	// fn is an opFunc's work: rare writes (payments) that need no
	// statement of their own in the hot path. It runs inside the batch's
	// transaction, may run twice (a failed batch is retried op by op), and
	// must change balances only through batch.account.
	fn func(b *batch) (outcome, err error)

	// async ops (holds) have no waiting caller: the writer frees them.
	async bool

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

// acctState is an account's stored balance and held total as the current
// batch sees them.
type acctState struct {
	balance, held meter.Amount
	dirty         bool
}

// batch applies ops inside one transaction.
type batch struct {
	ctx      context.Context
	tx       *sql.Tx
	s        *stmts // bound to tx
	book     *book
	accounts map[int64]*acctState
	// settled are the holds this batch captured, released or expired;
	// settledHeld sums them per account. The book learns of them after the
	// commit; until then the batch subtracts them itself.
	settled     map[string]bookHold
	settledHeld map[int64]meter.Amount
	// usage holds the journal rows of captures and of applied payments
	// (queueEntry), inserted together at the end of the batch
	// (insertUsage) rather than one statement each; refs are the usage
	// references among them.
	usage []any
	refs  map[string]struct{}
	// bound holds the statements bound to tx so far.
	bound map[string]*sql.Stmt
	// live are the holds whose requests are still running: never expired.
	live *meter.InFlight
	// wallets are the wallet accounts known by address (walletcache.go).
	wallets *walletIDs
	// exposures are the upto_exposure rows the batch read or moved.
	exposures map[string]*exposure
	// late are the captures whose holds were gone, for the budgets in the
	// book once the batch is committed.
	late []lateCharge
}

// stmt returns the named statement (stmtSQL) bound to the batch's
// transaction, binding it on first use.
func (b *batch) stmt(name string) *sql.Stmt {
	if st, ok := b.bound[name]; ok {
		return st
	}
	raw, ok := b.s.named[name]
	if !ok {
		panic("sqlite: no statement " + name) // a typo in this package, caught by any test
	}
	st := b.tx.StmtContext(b.ctx, raw)
	b.bound[name] = st
	return st
}

func newBatch(ctx context.Context, tx *sql.Tx, s *stmts, bk *book) *batch {
	return &batch{ctx: ctx, tx: tx, s: s, book: bk, accounts: make(map[int64]*acctState, 4),
		settled: make(map[string]bookHold), settledHeld: make(map[int64]meter.Amount), refs: make(map[string]struct{}),
		bound: make(map[string]*sql.Stmt, 4)}
}

// balances returns the final balance of every account the batch wrote.
func (b *batch) balances() map[int64]meter.Amount {
	out := make(map[int64]meter.Amount, len(b.accounts))
	for id, a := range b.accounts {
		out[id] = a.balance
	}
	return out
}

// run applies every op, then writes each touched account once. An op whose
// outcome is an answer keeps it in op.err and leaves no writes behind; any
// other error aborts the batch and is returned.
func (b *batch) run(ops []*op) error {
	for _, o := range ops {
		outcome, err := b.apply(o)
		if err != nil {
			return err
		}
		o.err = outcome
	}
	if err := b.insertUsage(); err != nil {
		return err
	}
	if err := b.flushExposure(); err != nil {
		return err
	}
	for id, a := range b.accounts {
		if !a.dirty {
			continue
		}
		if _, err := b.stmt("updateAccount").ExecContext(b.ctx, a.balance, a.held, id); err != nil {
			return fmt.Errorf("update account %d: %w", id, err)
		}
	}
	return nil
}

// account loads an account's stored balance once per batch, inside the
// write transaction, so that writes by other processes (the CLI granting
// credits while serve runs) are seen.
func (b *batch) account(id int64) (*acctState, error) {
	if a, ok := b.accounts[id]; ok {
		return a, nil
	}
	a := &acctState{}
	err := b.stmt("selectAccount").QueryRowContext(b.ctx, id).Scan(&a.balance, &a.held)
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
	case opWallet:
		return b.wallet(o)
	case opFunc:
		return o.fn(b)
	case opLoad:
		a, err := b.account(o.accountID)
		if err != nil || a == nil {
			return accountNotFound(o.accountID), err
		}
		return nil, nil
	}
	return nil, fmt.Errorf("unknown ledger op %d", o.kind)
}

// hold writes a hold the book granted, unless it was settled meanwhile.
func (b *batch) hold(o *op) (outcome, err error) {
	if _, gone := b.settled[o.holdID]; gone {
		return nil, nil
	}
	if _, active := b.book.hold(o.holdID); !active {
		return nil, nil
	}
	a, err := b.account(o.accountID)
	if err != nil || a == nil {
		return accountNotFound(o.accountID), err
	}
	if _, err := b.stmt("insertHold").ExecContext(b.ctx, o.holdID, o.accountID, o.amount, o.now, o.expiresAt); err != nil {
		return nil, fmt.Errorf("insert hold: %w", err)
	}
	a.held += o.amount
	a.dirty = true
	return nil, nil
}

// findHold returns an active hold: from the book, or, for a hold left by
// an earlier process, from the database.
func (b *batch) findHold(id string) (h bookHold, found bool, err error) {
	if _, gone := b.settled[id]; gone {
		return bookHold{}, false, nil
	}
	if h, ok := b.book.hold(id); ok {
		return h, true, nil
	}
	err = b.stmt("selectHold").QueryRowContext(b.ctx, id).Scan(&h.accountID, &h.amount)
	if err == sql.ErrNoRows {
		return bookHold{}, false, nil
	}
	if err != nil {
		return bookHold{}, false, fmt.Errorf("find hold %s: %w", id, err)
	}
	h.queued = true // it is stored
	return h, true, nil
}

// settle removes a hold's row and records it as settled by this batch.
func (b *batch) settle(id string, h bookHold, a *acctState) error {
	// A hold never sent to be stored has no row to delete.
	if h.queued {
		res, err := b.stmt("deleteHold").ExecContext(b.ctx, id)
		if err != nil {
			return fmt.Errorf("delete hold %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			a.held -= h.amount
			a.dirty = true
		}
	}
	b.settled[id] = h
	b.settledHeld[h.accountID] += h.amount
	return nil
}

// available is what the account can spend besides its holds, as this
// batch sees it: the book's held total counts holds not yet written.
func (b *batch) available(accountID int64, a *acctState) meter.Amount {
	held, ok := b.book.held(accountID)
	if !ok {
		held = a.held
	}
	return a.balance - (held - b.settledHeld[accountID])
}

func (b *batch) capture(o *op) (outcome, err error) {
	c := &o.charge
	h, found, err := b.findHold(c.HoldID)
	if err != nil {
		return nil, err
	}
	if !found {
		// The hold expired (the request outlived the hold's TTL) or was
		// already settled. The work was still done, so charge what the
		// account can pay; a second capture of the same hold is refused by
		// the journal's unique (kind, ref).
		h = bookHold{accountID: c.AccountID}
	}
	a, err := b.account(h.accountID)
	if err != nil || a == nil {
		return accountNotFound(h.accountID), err
	}
	// Charge the cost, but never more than the hold plus what is available
	// besides it: available balance must not go below zero.
	charged := max(0, min(c.Cost, b.available(h.accountID, a)+h.amount))
	if found {
		// An active hold has not been captured: its row can wait for the
		// batch's one multi-row insert.
		b.usage = appendEntry(b.usage, h.accountID, meter.EntryUsage, -charged, c.HoldID, c, o.now)
		b.refs[c.HoldID] = struct{}{}
		h.charged = charged
		if err := b.settle(c.HoldID, h, a); err != nil {
			return nil, err
		}
	} else {
		if _, dup := b.refs[c.HoldID]; dup {
			return meter.Errorf(meter.ECodeConflict, "hold %s was already captured", c.HoldID), nil
		}
		var row [entryColumns]any
		res, err := b.stmt("insertEntry").ExecContext(b.ctx, appendEntry(row[:0], h.accountID, meter.EntryUsage, -charged, c.HoldID, c, o.now)...)
		if err != nil {
			return nil, fmt.Errorf("insert usage entry: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return meter.Errorf(meter.ECodeConflict, "hold %s was already captured", c.HoldID), nil
		}
	}
	if !found && c.Subject != "" && charged > 0 {
		b.late = append(b.late, lateCharge{accountID: h.accountID, subject: c.Subject, at: o.now, amount: charged})
	}
	a.balance -= charged
	a.dirty = true
	o.charged = charged
	return nil, nil
}

// insertUsage writes the batch's usage rows with as few statements as the
// prepared sizes allow (64, 32, …, 1 rows each).
func (b *batch) insertUsage() error {
	rows := b.usage
	for len(rows) > 0 {
		n := len(rows) / entryColumns
		size := 1
		for size*2 <= n && size < maxUsageRows {
			size *= 2
		}
		vals := rows[:size*entryColumns]
		res, err := b.s.insertUsage.get(size).ExecContext(b.ctx, vals...)
		if err != nil {
			return fmt.Errorf("insert usage entries: %w", err)
		}
		// The holds were active and the payments not applied before, so
		// none of these can be booked already; if one is, something broke
		// an invariant: fail the batch.
		if got, _ := res.RowsAffected(); got != int64(size) {
			return fmt.Errorf("insert usage entries: %d of %d rows written", got, size)
		}
		rows = rows[len(vals):]
	}
	return nil
}

func (b *batch) release(o *op) (outcome, err error) {
	h, found, err := b.findHold(o.holdID)
	if err != nil || !found {
		return meter.Errorf(meter.ECodeNotFound, "hold %s is not active", o.holdID), err
	}
	a, err := b.account(h.accountID)
	if err != nil || a == nil {
		return accountNotFound(h.accountID), err
	}
	return nil, b.settle(o.holdID, h, a)
}

func (b *batch) credit(o *op) (outcome, err error) {
	a, err := b.account(o.accountID)
	if err != nil || a == nil {
		return accountNotFound(o.accountID), err
	}
	id, booked, err := b.entry(a, o.accountID, o.entryKind, o.amount, o.ref, meter.Charge{}, o.now)
	if err != nil {
		return nil, err
	}
	if !booked {
		return meter.Errorf(meter.ECodeConflict, "a %s with reference %q was already booked", o.entryKind, o.ref), nil
	}
	o.entryID = id
	return nil, nil
}

// entry inserts one journal entry of the account a (loaded by
// b.account) and moves its balance. booked is false, with nothing written,
// when the reference is already booked for the kind.
func (b *batch) entry(a *acctState, accountID int64, kind meter.EntryKind, amount meter.Amount, ref string, c meter.Charge, now int64) (id int64, booked bool, err error) {
	var row [entryColumns]any
	res, err := b.stmt("insertEntry").ExecContext(b.ctx, appendEntry(row[:0], accountID, kind, amount, ref, &c, now)...)
	if err != nil {
		return 0, false, fmt.Errorf("insert %s entry: %w", kind, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	id, _ = res.LastInsertId()
	a.balance += amount
	a.dirty = true
	return id, true, nil
}

// expire releases the stored holds expired at o.now, but renews those
// whose requests are still running in this process (b.live), and those
// that expire before o.expiresAt (the next sweep), so that their stored
// expiry stays ahead: a hold released under a running request would let
// it go free (docs/security.md, H2).
func (b *batch) expire(o *op) error {
	rows, err := b.stmt("selectExpired").QueryContext(b.ctx, max(o.now, o.expiresAt))
	if err != nil {
		return fmt.Errorf("find expired holds: %w", err)
	}
	type expired struct {
		id      string
		h       bookHold
		expires int64
	}
	var found []expired
	for rows.Next() {
		var e expired
		e.h.queued = true // it is stored
		if err := rows.Scan(&e.id, &e.h.accountID, &e.h.amount, &e.expires); err != nil {
			rows.Close()
			return err
		}
		found = append(found, e)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	o.n = 0
	for _, e := range found {
		if renewed, err := b.renew(e.id, e.expires, o.now); err != nil || renewed {
			if err != nil {
				return err
			}
			continue
		}
		if e.expires > o.now {
			continue // not expired yet; looked at only to be renewed
		}
		a, err := b.account(e.h.accountID)
		if err != nil {
			return err
		}
		if a == nil { // impossible with foreign keys on; never dereference it
			continue
		}
		if err := b.settle(e.id, e.h, a); err != nil {
			return err
		}
		o.n++
	}
	for _, purge := range []string{"purgeMessages", "purgeLegacyMessages", "purgeSIWXNonces", "purgeLegacySIWXNonces", "closeFinishedUpto"} {
		if _, err := b.stmt(purge).ExecContext(b.ctx, o.now); err != nil {
			return fmt.Errorf("purge expired replay records (%s): %w", purge, err)
		}
	}
	if _, err := b.stmt("purgeFreeGrants").ExecContext(b.ctx, o.now/dayMillis-1); err != nil {
		return fmt.Errorf("purge old free-grant counts: %w", err)
	}
	if _, err := b.stmt("purgeSessions").ExecContext(b.ctx, o.now-sessionRetention.Milliseconds()); err != nil {
		return fmt.Errorf("purge expired sessions: %w", err)
	}
	return nil
}

// renew extends the stored expiry of a hold whose request is still
// running by the hold's own lifetime. It reports false for any other hold.
func (b *batch) renew(id string, stored, now int64) (bool, error) {
	if !b.live.Has(id) {
		return false, nil
	}
	expires, ok := b.book.renew(id, now)
	if !ok {
		return false, nil // not this process's: its request is gone
	}
	if expires > stored {
		if _, err := b.stmt("renewHold").ExecContext(b.ctx, expires, id); err != nil {
			return false, fmt.Errorf("renew hold %s: %w", id, err)
		}
	}
	return true, nil
}

func accountNotFound(id int64) error {
	return meter.Errorf(meter.ECodeNotFound, "account %d not found", id)
}
