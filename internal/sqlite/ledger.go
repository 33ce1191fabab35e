package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.Ledger = (*Ledger)(nil)

// ErrClosed is returned by ledger writes after Close.
var ErrClosed = errors.New("ledger closed")

// Ledger is the credit ledger on SQLite. Money-moving writes (holds,
// captures, releases, credits) are group-committed by one writer goroutine;
// see batch.go.
type Ledger struct {
	db     *DB
	logger *slog.Logger
	stmts  *stmts
	book   *book
	// wallets are the wallet accounts known by address (walletcache.go).
	wallets *walletIDs
	// unrecorded are settlements to be written with their application
	// (settlelater.go).
	unrecorded meter.Unrecorded

	// PersistAfter is how long a hold lives in memory only; PersistHolds
	// writes the holds older than that.
	PersistAfter time.Duration
	// InFlight names the holds whose requests are still running in this
	// process: the expiry sweep renews them instead of releasing them.
	// Set it before serving; nil renews none.
	InFlight *meter.InFlight

	observe atomic.Pointer[func(ops int, took time.Duration)]

	mu     sync.RWMutex // guards closed against sends on a closed ops
	closed bool
	ops    chan *op
	done   chan struct{}
}

// NewLedger prepares the writer's statements and starts its goroutine.
// Close stops it after the ops already submitted are committed.
func NewLedger(db *DB, logger *slog.Logger) (*Ledger, error) {
	s, err := prepareStmts(db.write)
	if err != nil {
		return nil, err
	}
	l := &Ledger{
		db:     db,
		logger: logger,
		stmts:  s,
		book:   newBook(),

		wallets: newWalletIDs(),

		PersistAfter: time.Second,
		ops:          make(chan *op, 4*maxBatch),
		done:         make(chan struct{}),
	}
	go l.run()
	return l, nil
}

// Close commits what was submitted and stops the writer. Holds still
// active belong to requests the process is abandoning (they outlived the
// shutdown deadline, and the server charged the streams among them for
// what they delivered before this): the last batch releases them, so that
// no hold outlives the process; their requests can no longer be charged,
// and deliver nothing more.
func (l *Ledger) Close() error {
	// Settlements not yet recorded are written in the last batches: their
	// requests are being abandoned, and their payments become change.
	l.persistSettlements(math.MaxInt64)
	l.mu.Lock()
	if !l.closed {
		release := newOp(opFunc)
		release.async = true
		release.fn = l.releaseAll
		l.ops <- release
		l.closed = true
		close(l.ops)
	}
	l.mu.Unlock()
	<-l.done
	l.stmts.close()
	return nil
}

func (l *Ledger) run() {
	defer close(l.done)
	ops := make([]*op, 0, maxBatch)
	for o := range l.ops {
		ops = l.fill(append(ops[:0], o))
		if len(ops) < maxBatch {
			// Let the goroutines that are ready to run go first: under
			// load some of them are about to send ops, which then share
			// this commit instead of paying for one of their own. When
			// nothing else is runnable this returns at once.
			runtime.Gosched()
			ops = l.fill(ops)
		}
		l.commit(ops)
	}
}

// fill appends the ops waiting in the queue, up to maxBatch, without waiting.
func (l *Ledger) fill(ops []*op) []*op {
	for len(ops) < maxBatch {
		select {
		case o, ok := <-l.ops:
			if !ok {
				return ops
			}
			ops = append(ops, o)
		default:
			return ops
		}
	}
	return ops
}

// commit runs ops in one transaction. If the batch fails as a whole (a
// statement failed in a way the checks did not foresee, such as the
// accounts CHECK), each op is retried alone, so that one bad op cannot take
// its neighbours down with it.
func (l *Ledger) commit(ops []*op) {
	start := time.Now()
	err := l.commitBatch(ops)
	if observe := l.observe.Load(); observe != nil {
		(*observe)(len(ops), time.Since(start))
	}
	if err != nil && len(ops) > 1 {
		l.logger.Warn("ledger batch failed; retrying its ops one by one", "ops", len(ops), "err", err)
		for _, o := range ops {
			o.err = nil
			if err := l.commitBatch([]*op{o}); err != nil {
				o.err = err
			}
			l.answer(o)
		}
		return
	}
	for _, o := range ops {
		if err != nil {
			o.err = err
		}
		l.answer(o)
	}
}

// answer wakes an op's caller, or, for an op nobody waits for, frees it;
// a hold that could not be written leaves the book, so that its credit is
// not reserved forever (its request is charged from the available balance).
func (l *Ledger) answer(o *op) {
	if !o.async {
		o.done <- struct{}{}
		return
	}
	switch {
	case o.err != nil && o.kind == opHold:
		l.logger.Error("write hold", "hold", o.holdID, "err", o.err)
		l.book.forget(o.holdID)
	case o.err != nil:
		l.logger.Error("ledger write", "err", o.err)
	}
	o.free()
}

func (l *Ledger) commitBatch(ops []*op) error {
	// The batch runs to completion whatever happens to the callers'
	// contexts: a caller who gave up must not leave a half-applied batch.
	ctx := context.Background()
	tx, err := l.db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	b := newBatch(ctx, tx, l.stmts.bind(ctx, tx), l.book)
	b.live, b.wallets = l.InFlight, l.wallets
	if err := b.run(ops); err != nil {
		tx.Rollback()
		l.wallets.rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		l.wallets.rollback()
		return fmt.Errorf("commit: %w", err)
	}
	l.wallets.commit()
	l.book.settle(b.settled, b.balances())
	l.book.spendLate(b.late)
	for _, o := range ops {
		if o.kind == opLoad && o.err == nil {
			a := b.accounts[o.accountID]
			l.book.load(o.accountID, a.balance, a.held)
		}
	}
	return nil
}

// submit sends o to the writer and waits until its batch is durable. It
// does not give up when ctx is cancelled: once an op is queued its outcome
// will be committed, and a caller must learn it (a capture that was booked
// must not be reported as failed).
func (l *Ledger) submit(o *op) error {
	if err := l.send(o); err != nil {
		return err
	}
	<-o.done
	return o.err
}

func (l *Ledger) send(o *op) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	l.ops <- o
	return nil
}

// Hold reserves amount on the account for ttl. It is decided at once
// against the book, without waiting for the writer, and written in the
// next batch (see batch.go for why a hold need not wait to be durable).
func (l *Ledger) Hold(ctx context.Context, accountID int64, amount meter.Amount, ttl time.Duration) (*meter.Hold, error) {
	return l.hold(accountID, amount, ttl, nil)
}

// HoldWithin is Hold that also keeps the budget's subject within its cap:
// what its usage entries since budget.Since charged plus its active holds,
// this one included. The book decides both under one lock, so concurrent
// holds cannot overspend the cap. A capture is bounded by its hold, so the
// cap also bounds what is charged.
func (l *Ledger) HoldWithin(ctx context.Context, accountID int64, amount meter.Amount, ttl time.Duration, budget meter.Budget) (*meter.Hold, error) {
	if budget.Subject == "" {
		return nil, fmt.Errorf("hold: budget without a subject")
	}
	return l.hold(accountID, amount, ttl, &budget)
}

func (l *Ledger) hold(accountID int64, amount meter.Amount, ttl time.Duration, budget *meter.Budget) (*meter.Hold, error) {
	if amount < 0 {
		return nil, fmt.Errorf("hold: negative amount %s", amount)
	}
	now := l.db.Now()
	h := &meter.Hold{ID: newHoldID(), AccountID: accountID, Amount: amount, ExpiresAt: now.Add(ttl)}
	bh := bookHold{accountID: accountID, amount: amount, created: now.UnixMilli(), expires: h.ExpiresAt.UnixMilli()}
	reserve := func() (loaded bool, available meter.Amount, short *budgetShort, ok bool) {
		if budget == nil {
			loaded, available, ok = l.book.reserve(h.ID, bh)
			return loaded, available, nil, ok
		}
		return l.book.reserveWithin(h.ID, bh, budget.Cap)
	}
	if budget != nil {
		bh.budget = &budgetKey{accountID: accountID, subject: budget.Subject, since: budget.Since.UnixMilli()}
	}
	loaded, available, short, ok := reserve()
	if !ok && short == nil {
		// The account (or budget) is not in the book yet, or looks short:
		// read its balance afresh through the writer (credits may have been
		// booked by another process), then decide once more.
		if err := l.loadAccount(accountID); err != nil {
			return nil, err
		}
		// A budget can be dropped again before the next try, when the book
		// is full of budgets: a few tries.
		for try := 0; try < 3; try++ {
			if bh.budget != nil {
				if err := l.loadBudget(*bh.budget); err != nil {
					return nil, err
				}
			}
			if loaded, available, short, ok = reserve(); ok || loaded {
				break
			}
		}
	}
	switch {
	case !loaded:
		return nil, fmt.Errorf("hold: account %d or its budget could not be kept in the book", accountID)
	case short != nil:
		left := max(0, budget.Cap-short.spent-short.held)
		return nil, meter.Errorf(meter.ECodeSpendCapExceeded, "spend cap reached: this request may cost up to %s, %s of the cap of %s is left", amount, left, budget.Cap).
			WithDetail("cap", budget.Cap.String()).
			WithDetail("spent", short.spent.String()).
			WithDetail("held", short.held.String()).
			WithDetail("required", amount.String())
	case !ok && budget != nil:
		// A budget's subject (a JWT user, a session token) is not told the
		// balance of the account that pays for it.
		return nil, meter.Errorf(meter.ECodeInsufficientCredit, "insufficient credits: this request may cost up to %s", amount).
			WithDetail("required", amount.String())
	case !ok:
		e := meter.Errorf(meter.ECodeInsufficientCredit, "insufficient credits: this request may cost up to %s, %s available", amount, available).
			WithDetail("required", amount.String()).
			WithDetail("available", available.String())
		if note := l.freeCreditsNote(accountID); note != "" {
			e.WithDetail("free_credits", note)
		}
		return nil, e
	}
	return h, nil
}

// releaseAll settles every hold still in the book, in the writer's last batch.
func (l *Ledger) releaseAll(b *batch) (outcome, err error) {
	for id, h := range l.book.snapshot() {
		if _, gone := b.settled[id]; gone {
			continue
		}
		a, err := b.account(h.accountID)
		if err != nil {
			return nil, err
		}
		if a == nil {
			continue
		}
		if err := b.settle(id, h, a); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// Ping checks that the database takes writes, through the writer: a write
// statement (deleting nothing) in a committed transaction. It fails if the
// writer is stuck or the file is read-only, the disk full or gone.
func (l *Ledger) Ping(ctx context.Context) error {
	o := newOp(opFunc)
	o.fn = func(b *batch) (outcome, err error) {
		if _, err := b.stmt("purgeMessages").ExecContext(b.ctx, 0); err != nil {
			return nil, fmt.Errorf("write: %w", err)
		}
		return nil, nil
	}
	if err := l.send(o); err != nil {
		o.free()
		return err
	}
	select {
	case <-o.done:
		err := o.err
		o.free()
		return err
	case <-ctx.Done():
		// The op is still queued; the writer answers into its buffered
		// channel, and the op is left to the garbage collector.
		return fmt.Errorf("database: no commit within the deadline: %w", ctx.Err())
	}
}

// ActiveHolds is the number of holds reserving credit now.
func (l *Ledger) ActiveHolds() int { return l.book.size() }

// SetCommitObserver has observe called after every ledger transaction
// with its number of operations and the time it took to apply and commit.
func (l *Ledger) SetCommitObserver(observe func(ops int, took time.Duration)) {
	l.observe.Store(&observe)
}

// loadBudget enters a budget in the book with its subject's usage since
// its start, read in the writer's order.
func (l *Ledger) loadBudget(k budgetKey) error {
	var spent meter.Amount
	o := newOp(opFunc)
	defer o.free()
	o.fn = func(b *batch) (outcome, err error) {
		err = b.stmt("budgetSpent").QueryRowContext(b.ctx, k.accountID, k.subject, k.since).Scan(&spent)
		if err != nil {
			return nil, fmt.Errorf("read budget of %s: %w", k.subject, err)
		}
		return nil, nil
	}
	if err := l.submit(o); err != nil {
		return err
	}
	l.book.loadBudget(k, spent)
	return nil
}

// PersistHolds sends the holds older than PersistAfter to the writer, to
// be stored without anyone waiting: a hold that outlives that long (a long
// stream) is then visible to other processes and survives a crash, to be
// released by expiry.
func (l *Ledger) PersistHolds() error {
	cutoff := l.db.Now().Add(-l.PersistAfter).UnixMilli()
	for id, h := range l.book.due(cutoff) {
		o := newOp(opHold)
		o.async = true
		o.accountID, o.amount, o.holdID = h.accountID, h.amount, id
		o.now, o.expiresAt = h.created, h.expires
		if err := l.send(o); err != nil {
			o.free()
			return err
		}
	}
	return nil
}

// loadAccount enters the account in the book, or refreshes its balance,
// with what is stored, read in the writer's order.
func (l *Ledger) loadAccount(accountID int64) error {
	o := newOp(opLoad)
	defer o.free()
	o.accountID = accountID
	return l.submit(o)
}

// Capture charges c against its hold and releases the remainder.
func (l *Ledger) Capture(ctx context.Context, c meter.Charge) (meter.Amount, error) {
	if c.Cost < 0 {
		return 0, fmt.Errorf("capture: negative cost %s", c.Cost)
	}
	o := newOp(opCapture)
	defer o.free()
	o.charge, o.now = c, l.db.Now().UnixMilli()
	if err := l.submit(o); err != nil {
		return 0, err
	}
	return o.charged, nil
}

// Release drops a hold without charging.
func (l *Ledger) Release(ctx context.Context, holdID string) error {
	o := newOp(opRelease)
	defer o.free()
	o.holdID = holdID
	return l.submit(o)
}

// Credit books a positive amount to the account.
func (l *Ledger) Credit(ctx context.Context, accountID int64, kind meter.EntryKind, amount meter.Amount, ref string) (*meter.Entry, error) {
	switch {
	case amount <= 0:
		return nil, meter.Errorf(meter.ECodeBadRequest, "amount must be positive, got %s", amount)
	case !kind.Valid() || kind == meter.EntryUsage:
		return nil, fmt.Errorf("credit: kind %q cannot credit", kind)
	case ref == "":
		ref = "auto:" + newHoldID()
	}
	now := l.db.Now()
	o := newOp(opCredit)
	defer o.free()
	o.accountID, o.entryKind, o.amount, o.ref, o.now = accountID, kind, amount, ref, now.UnixMilli()
	if err := l.submit(o); err != nil {
		return nil, err
	}
	return &meter.Entry{ID: o.entryID, AccountID: accountID, Kind: kind, Amount: amount, Ref: ref,
		CreatedAt: time.UnixMilli(now.UnixMilli()).UTC()}, nil
}

// ReleaseExpired releases every hold whose expiry is at or before now,
// except those whose requests are still running (InFlight): their expiry
// is renewed.
func (l *Ledger) ReleaseExpired(ctx context.Context, now time.Time) (int, error) {
	return l.expire(now, 0)
}

// expire is ReleaseExpired that also renews, ahead of time, the holds of
// running requests that expire within ahead.
func (l *Ledger) expire(now time.Time, ahead time.Duration) (int, error) {
	o := newOp(opExpire)
	defer o.free()
	o.now, o.expiresAt = now.UnixMilli(), now.Add(ahead).UnixMilli()
	if err := l.submit(o); err != nil {
		return 0, err
	}
	return o.n, nil
}

// persistInterval is how often Maintain looks for holds to store.
const persistInterval = 250 * time.Millisecond

// Maintain stores long-lived holds every persistInterval, and releases
// expired holds now and every expiryInterval, until ctx ends: holds whose
// request died with a crash or a bug must not keep credit locked forever.
func (l *Ledger) Maintain(ctx context.Context, expiryInterval time.Duration) {
	expiry := time.NewTicker(expiryInterval)
	defer expiry.Stop()
	persist := time.NewTicker(persistInterval)
	defer persist.Stop()
	// Holds of running requests are renewed a sweep or two ahead, so that
	// their stored expiry never passes while they run.
	ahead := 2 * expiryInterval
	l.releaseExpired(ahead)
	for {
		select {
		case <-ctx.Done():
			return
		case <-persist.C:
			if err := l.PersistHolds(); errors.Is(err, ErrClosed) {
				return
			}
			if err := l.PersistSettlements(); errors.Is(err, ErrClosed) {
				return
			}
		case <-expiry.C:
			l.releaseExpired(ahead)
		}
	}
}

func (l *Ledger) releaseExpired(ahead time.Duration) {
	if n, err := l.expire(l.db.Now(), ahead); err != nil && !errors.Is(err, ErrClosed) {
		l.logger.Error("release expired holds", "err", err)
	} else if n > 0 {
		l.logger.Warn("released expired holds", "count", n)
	}
}

// newHoldID returns a unique identifier that needs no coordination
// between processes sharing the database: the time in nanoseconds then 32
// random bits. Time first makes new ids sort last, so inserting them (as
// hold keys and as the refs of usage entries) appends to the right edge of
// their B-trees instead of dirtying pages all over them.
func newHoldID() string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	rand.Read(b[8:])
	return "h_" + hex.EncodeToString(b[:])
}
