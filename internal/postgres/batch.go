package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

type opKind int

const (
	opHold opKind = iota
	opCapture
	opRelease
	opCredit
	opExpire
	opReleaseMany // the holds named in holdIDs, those still active
)

// op is one write for the writer. Its inputs are set by the method that
// submits it; its results by the batch, valid once done is signalled.
type op struct {
	kind      opKind
	accountID int64
	amount    meter.Amount
	holdID    string
	charge    meter.Charge
	entryKind meter.EntryKind
	ref       string
	now       int64      // Unix ms
	expiresAt int64      // Unix ms
	holdIDs   []string   // opReleaseMany's
	budget    *budgetKey // a hold's budget, if any, and its cap
	cap       meter.Amount

	// Results: refused is the op's answer (insufficient credits, not
	// found, a conflict) when the batch went through; err is a failure of
	// the write itself.
	refused error
	err     error
	charged meter.Amount
	entryID int64
	n       int
	done    chan struct{}
}

func newOp(kind opKind) *op { return &op{kind: kind, done: make(chan struct{}, 1)} }

// reset clears the results of a batch that failed, before the op is
// tried alone.
func (o *op) reset() { o.refused, o.err, o.charged, o.entryID, o.n = nil, nil, 0, 0, 0 }

// batch is one transaction's worth of ops. It reads what they touch under
// lock (the holds to capture or release, then their accounts in id order),
// decides every op in memory against those rows, and writes the outcome in
// one round trip: new holds, settled holds, entries, accounts.
type batch struct {
	ctx context.Context
	tx  pgx.Tx

	holds    map[string]*heldRow   // the holds the ops capture, release or expire, locked
	accounts map[int64]*accountRow // the accounts the ops move, locked

	newHolds []newHold
	gone     []string // holds settled (captured, released, expired)
	entries  []entryRow
	refs     map[[2]string]bool // the (kind, ref) of entries, booked once per batch
	budgets  map[budgetKey]*budgetRow
}

type heldRow struct {
	accountID int64
	amount    meter.Amount
	expiresAt int64     // Unix ms
	budget    budgetKey // subject "" for a hold within no budget
	settled   bool      // by an earlier op of this batch
}

// budgetKey names a budget: its account, subject and start (Unix ms).
type budgetKey struct {
	accountID int64
	subject   string
	since     int64
}

// budgetRow is what a budget's subject has spent and holds, as of the
// batch's ops so far.
type budgetRow struct {
	spent, held meter.Amount
}

type accountRow struct {
	balance, held meter.Amount
	dirty         bool
}

type newHold struct {
	id                 string
	accountID          int64
	amount             meter.Amount
	created, expiresAt int64
	budget             budgetKey
}

type entryRow struct {
	accountID int64
	kind      meter.EntryKind
	amount    meter.Amount
	ref       string
	charge    meter.Charge
	at        int64
	op        *op // credits, whose caller learns the entry id
}

// errConflictInBatch fails a batch one of whose entries was booked by
// someone else meanwhile: retried op by op, the op that booked it again
// is then answered with a conflict.
var errConflictInBatch = errors.New("an entry's reference was booked meanwhile")

func (b *batch) run(ops []*op) error {
	if err := b.lock(ops); err != nil {
		return err
	}
	for _, o := range ops {
		switch o.kind {
		case opHold:
			o.refused = b.hold(o)
		case opCapture:
			o.refused = b.capture(o)
		case opRelease:
			o.refused = b.release(o)
		case opCredit:
			o.refused = b.credit(o)
		case opExpire:
			b.expire(o)
		case opReleaseMany:
			for _, id := range o.holdIDs {
				if h := b.holds[id]; h != nil && !h.settled {
					b.settle(id, h, b.accounts[h.accountID])
					o.n++
				}
			}
		}
	}
	return b.write(len(ops))
}

// lockHolds reads and locks the holds named, and with expireBefore ≥ 0
// every hold expired as of then, in id order. A batch with neither reads
// nothing.
func (b *batch) lockHolds(ids []string, expireBefore int64) error {
	if len(ids) == 0 && expireBefore < 0 {
		return nil
	}
	slices.Sort(ids)
	query := `SELECT id, account_id, amount, expires_at, subject, budget_since FROM holds WHERE id = ANY($1) ORDER BY id FOR UPDATE`
	args := []any{ids}
	if expireBefore >= 0 { // the expiry scans the table of in-flight holds, which has no index on expires_at
		query = `SELECT id, account_id, amount, expires_at, subject, budget_since FROM holds
			WHERE id = ANY($1) OR expires_at <= $2 ORDER BY id FOR UPDATE`
		args = append(args, expireBefore)
	}
	rows, err := b.tx.Query(b.ctx, query, args...)
	if err != nil {
		return fmt.Errorf("lock holds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, subject                  string
			acct, amount, expires, since int64
		)
		if err := rows.Scan(&id, &acct, &amount, &expires, &subject, &since); err != nil {
			return fmt.Errorf("lock holds: %w", err)
		}
		h := &heldRow{accountID: acct, amount: meter.Amount(amount), expiresAt: expires}
		if subject != "" {
			h.budget = budgetKey{accountID: acct, subject: subject, since: since}
		}
		b.holds[id] = h
	}
	return rows.Err()
}

// lock reads, FOR UPDATE, the holds the batch's captures and releases
// name, every hold expired as of an expiry op, and then every account the
// ops move, in id order: all batches lock holds before accounts, and each
// kind in one order, so no two batches wait on each other in a cycle.
func (b *batch) lock(ops []*op) error {
	b.holds, b.accounts, b.refs = map[string]*heldRow{}, map[int64]*accountRow{}, map[[2]string]bool{}
	b.budgets = map[budgetKey]*budgetRow{}
	var holdIDs []string
	var expireBefore int64 = -1
	for _, o := range ops {
		switch o.kind {
		case opCapture:
			holdIDs = append(holdIDs, o.charge.HoldID)
		case opRelease:
			holdIDs = append(holdIDs, o.holdID)
		case opReleaseMany:
			holdIDs = append(holdIDs, o.holdIDs...)
		case opExpire:
			expireBefore = max(expireBefore, o.now)
		}
	}
	if err := b.lockHolds(holdIDs, expireBefore); err != nil {
		return err
	}

	var ids []int64
	for _, h := range b.holds {
		ids = append(ids, h.accountID)
	}
	for _, o := range ops {
		switch o.kind {
		case opHold, opCredit:
			ids = append(ids, o.accountID)
		case opCapture:
			ids = append(ids, o.charge.AccountID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	// NO KEY UPDATE: the FK checks of other batches' inserts (KEY SHARE)
	// need not wait on it; their own lock step does.
	rows, err := b.tx.Query(b.ctx, `SELECT id, balance, held FROM accounts WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, ids)
	if err != nil {
		return fmt.Errorf("lock accounts: %w", err)
	}
	for rows.Next() {
		var id, balance, held int64
		if err := rows.Scan(&id, &balance, &held); err != nil {
			rows.Close()
			return fmt.Errorf("lock accounts: %w", err)
		}
		b.accounts[id] = &accountRow{balance: meter.Amount(balance), held: meter.Amount(held)}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Every budget a hold of the batch is taken within is read now, under
	// its account's lock and before any op is decided: an earlier capture
	// or release of the batch, decided in memory but not written yet, then
	// moves it (capture, settle) instead of being missed by a read made
	// after it (a cap overspent by what it charged above its hold).
	for _, o := range ops {
		if o.kind == opHold && o.budget != nil {
			if _, err := b.budget(*o.budget); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *batch) hold(o *op) error {
	a := b.accounts[o.accountID]
	if a == nil {
		return accountNotFound(o.accountID)
	}
	var bud *budgetRow
	if o.budget != nil {
		var err error
		if bud, err = b.budget(*o.budget); err != nil {
			return err
		}
		if bud.spent+bud.held+o.amount > o.cap {
			left := max(0, o.cap-bud.spent-bud.held)
			return meter.Errorf(meter.ECodeSpendCapExceeded, "spend cap reached: this request may cost up to %s, %s of the cap of %s is left", o.amount, left, o.cap).
				WithDetail("cap", o.cap.String()).WithDetail("spent", bud.spent.String()).
				WithDetail("held", bud.held.String()).WithDetail("required", o.amount.String())
		}
	}
	if available := a.balance - a.held; available < o.amount {
		if o.budget != nil {
			// A budget's subject (a JWT user, a session token) is not told
			// the balance of the account that pays for it.
			return meter.Errorf(meter.ECodeInsufficientCredit, "insufficient credits: this request may cost up to %s", o.amount).
				WithDetail("required", o.amount.String())
		}
		return meter.Errorf(meter.ECodeInsufficientCredit, "insufficient credits: this request may cost up to %s, %s available", o.amount, available).
			WithDetail("required", o.amount.String()).WithDetail("available", available.String())
	}
	a.held += o.amount
	a.dirty = true
	h := newHold{id: o.holdID, accountID: o.accountID, amount: o.amount, created: o.now, expiresAt: o.expiresAt}
	if o.budget != nil {
		bud.held += o.amount
		h.budget = *o.budget
	}
	b.newHolds = append(b.newHolds, h)
	return nil
}

// budget returns a budget's figures as of the batch's ops so far, reading
// them the first time (under the account's lock, taken by every hold on
// it, so no other instance changes them before this batch commits).
func (b *batch) budget(k budgetKey) (*budgetRow, error) {
	if r := b.budgets[k]; r != nil {
		return r, nil
	}
	var spent, held int64
	if err := b.tx.QueryRow(b.ctx, budgetUseSQL, k.accountID, k.subject, k.since).Scan(&spent, &held); err != nil {
		return nil, fmt.Errorf("read budget of %s: %w", k.subject, err)
	}
	r := &budgetRow{spent: meter.Amount(spent), held: meter.Amount(held)}
	b.budgets[k] = r
	return r, nil
}

// capture charges the cost, never more than the hold plus what the
// account has available besides it.
func (b *batch) capture(o *op) error {
	c := &o.charge
	if b.refs[[2]string{string(meter.EntryUsage), c.HoldID}] {
		return meter.Errorf(meter.ECodeConflict, "hold %s was already captured", c.HoldID)
	}
	h := b.holds[c.HoldID]
	accountID := c.AccountID
	if h != nil && !h.settled {
		accountID = h.accountID
	}
	a := b.accounts[accountID]
	if a == nil {
		return accountNotFound(accountID)
	}
	if h != nil && !h.settled {
		b.settle(c.HoldID, h, a)
	}
	charged := max(0, min(c.Cost, a.balance-a.held))
	a.balance -= charged
	a.dirty = true
	o.charged = charged
	if c.Subject != "" { // the budgets of its subject read in this batch spent it too
		for k, r := range b.budgets {
			if k.accountID == accountID && k.subject == c.Subject && o.now >= k.since {
				r.spent += charged
			}
		}
	}
	// A second capture of the same hold, here or already booked, is
	// refused by the journal's unique (kind, ref).
	b.book(entryRow{accountID: accountID, kind: meter.EntryUsage, amount: -charged, ref: c.HoldID, charge: *c, at: o.now})
	return nil
}

func (b *batch) release(o *op) error {
	h := b.holds[o.holdID]
	if h == nil || h.settled {
		return meter.Errorf(meter.ECodeNotFound, "hold %s is not active", o.holdID)
	}
	b.settle(o.holdID, h, b.accounts[h.accountID])
	return nil
}

func (b *batch) credit(o *op) error {
	a := b.accounts[o.accountID]
	if a == nil {
		return accountNotFound(o.accountID)
	}
	if b.refs[[2]string{string(o.entryKind), o.ref}] {
		return meter.Errorf(meter.ECodeConflict, "a %s with reference %q was already booked", o.entryKind, o.ref)
	}
	a.balance += o.amount
	a.dirty = true
	b.book(entryRow{accountID: o.accountID, kind: o.entryKind, amount: o.amount, ref: o.ref, at: o.now, op: o})
	return nil
}

// book queues entry e for the batch's insert; the caller has checked that
// no entry of the batch has its kind and reference.
func (b *batch) book(e entryRow) {
	b.refs[[2]string{string(e.kind), e.ref}] = true
	b.entries = append(b.entries, e)
}

// expire releases the holds expired as of o.now that no op of the batch
// has settled. Only locked rows are read: a hold another batch is
// capturing waits for this one, or this one for it.
func (b *batch) expire(o *op) {
	for id, h := range b.holds {
		if !h.settled && h.expiresAt <= o.now {
			b.settle(id, h, b.accounts[h.accountID])
			o.n++
		}
	}
}

// settle ends hold id: its amount leaves its account's held total and the
// row is deleted with the batch's writes.
func (b *batch) settle(id string, h *heldRow, a *accountRow) {
	h.settled = true
	b.gone = append(b.gone, id)
	if a != nil {
		a.held -= h.amount
		a.dirty = true
	}
	if r := b.budgets[h.budget]; r != nil && h.budget.subject != "" {
		r.held -= h.amount
	}
}

// write sends the batch's outcome in one round trip: holds inserted and
// deleted, entries inserted (each reference once per kind: a reference
// booked meanwhile fails the batch, retried op by op), accounts updated.
func (b *batch) write(nops int) error {
	pb := &pgx.Batch{}
	if len(b.newHolds) > 0 {
		n := len(b.newHolds)
		ids, subjects := make([]string, n), make([]string, n)
		accts, amounts, created, expires, since := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, h := range b.newHolds {
			ids[i], accts[i], amounts[i], created[i], expires[i] = h.id, h.accountID, int64(h.amount), h.created, h.expiresAt
			subjects[i], since[i] = h.budget.subject, h.budget.since
		}
		pb.Queue(`INSERT INTO holds (id, account_id, amount, created_at, expires_at, subject, budget_since)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[])`,
			ids, accts, amounts, created, expires, subjects, since)
	}
	if len(b.gone) > 0 {
		pb.Queue(`DELETE FROM holds WHERE id = ANY($1)`, b.gone)
	}
	var entriesAt = -1
	if len(b.entries) > 0 {
		entriesAt = pb.Len()
		queueEntries(pb, b.entries)
	}
	accountsAt := pb.Len()
	var ids, balances, helds []int64
	for id, a := range b.accounts {
		if a.dirty {
			ids, balances, helds = append(ids, id), append(balances, int64(a.balance)), append(helds, int64(a.held))
		}
	}
	if len(ids) > 0 {
		pb.Queue(`UPDATE accounts SET balance = v.balance, held = v.held
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(id, balance, held) WHERE accounts.id = v.id`, ids, balances, helds)
	}
	if pb.Len() == 0 {
		return nil
	}
	res := b.tx.SendBatch(b.ctx, pb)
	defer res.Close()
	for i := range pb.Len() {
		if i == entriesAt {
			if err := b.readEntries(res, nops); err != nil {
				return err
			}
			continue
		}
		if _, err := res.Exec(); err != nil {
			what := "write holds"
			if i >= accountsAt {
				what = "update accounts"
			}
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return res.Close()
}

func queueEntries(pb *pgx.Batch, rows []entryRow) {
	n := len(rows)
	accts, kinds, amounts, refs := make([]int64, n), make([]string, n), make([]int64, n), make([]string, n)
	reqs, models, subjects, estimated, at := make([]string, n), make([]string, n), make([]string, n), make([]int64, n), make([]int64, n)
	var tokens [7][]int64
	for k := range tokens {
		tokens[k] = make([]int64, n)
	}
	for i, e := range rows {
		c, u := &e.charge, &e.charge.Usage
		accts[i], kinds[i], amounts[i], refs[i] = e.accountID, string(e.kind), int64(e.amount), e.ref
		reqs[i], models[i], subjects[i], at[i] = c.RequestID, c.Model, c.Subject, e.at
		if c.Estimated {
			estimated[i] = 1
		}
		for k, v := range [7]int64{u.InputTokens, u.OutputTokens, u.CachedInputTokens, u.CacheWriteTokens,
			u.CacheWrite1hTokens, u.ReasoningTokens, u.Images} {
			tokens[k][i] = v
		}
	}
	pb.Queue(`INSERT INTO entries (account_id, kind, amount, ref, request_id, model, subject, estimated, created_at,
			input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, images)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[],
			$15::bigint[], $16::bigint[])
		ON CONFLICT (kind, ref) DO NOTHING RETURNING id, kind, ref`,
		accts, kinds, amounts, refs, reqs, models, subjects, estimated, at,
		tokens[0], tokens[1], tokens[2], tokens[3], tokens[4], tokens[5], tokens[6])
}

// readEntries reads the ids of the entries inserted. One missing means
// its reference was booked before: alone, its op is refused (and the
// batch, its money moved in memory, is rolled back); among others, the
// batch is retried op by op.
func (b *batch) readEntries(res pgx.BatchResults, nops int) error {
	rows, err := res.Query()
	if err != nil {
		return fmt.Errorf("insert entries: %w", err)
	}
	booked := map[[2]string]int64{}
	for rows.Next() {
		var (
			id        int64
			kind, ref string
		)
		if err := rows.Scan(&id, &kind, &ref); err != nil {
			rows.Close()
			return fmt.Errorf("insert entries: %w", err)
		}
		booked[[2]string{kind, ref}] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert entries: %w", err)
	}
	for _, e := range b.entries {
		id, ok := booked[[2]string{string(e.kind), e.ref}]
		if !ok {
			if nops > 1 {
				return errConflictInBatch
			}
			return &refusedAlone{meter.Errorf(meter.ECodeConflict, "a %s with reference %q was already booked", e.kind, e.ref)}
		}
		if e.op != nil {
			e.op.entryID = id
		}
	}
	return nil
}

// refusedAlone is an op's refusal found only when its batch was written:
// the batch is rolled back, and the op answered with the refusal.
type refusedAlone struct{ err error }

func (r *refusedAlone) Error() string { return r.err.Error() }
func (r *refusedAlone) Unwrap() error { return r.err }
