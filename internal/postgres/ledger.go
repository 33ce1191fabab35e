package postgres

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paymeter/paymeter/internal/meter"
)

// maxBatch bounds the ops of one transaction.
const maxBatch = 256

// ErrClosed is returned by a write submitted after Close.
var ErrClosed = errors.New("ledger closed")

// Ledger is the credit ledger on PostgreSQL. Its money rules are SQLite's
// (internal/sqlite); what differs is where a hold is decided: not in one
// process's memory but in the database, under the rows' locks, so that
// every instance sees every hold. Writes go through one writer
// goroutine per instance that group-commits: the ops waiting when it is
// free share one transaction and one commit, and each caller is answered
// once that commit is durable. Instances coordinate through the database
// alone: a batch locks the account rows it moves, in id order, so batches
// of different instances serialize on a shared account and never deadlock.
type Ledger struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu     sync.Mutex
	closed bool
	ops    chan *op
	done   chan struct{}

	inFlight    atomic.Pointer[meter.InFlight]
	activeHolds atomic.Int64

	// mine are the holds this instance took and has not settled yet, with
	// their lifetimes (ms): its close releases them, as their requests die
	// with it, and its expiry renews those still running (renew.go).
	mineMu  sync.Mutex
	mine    map[string]int64
	observe atomic.Pointer[func(ops int, took time.Duration)]
}

var _ meter.Ledger = (*Ledger)(nil)

// NewLedger starts the writer of a ledger on pool, whose database is
// migrated.
func NewLedger(pool *pgxpool.Pool, logger *slog.Logger) *Ledger {
	l := &Ledger{pool: pool, logger: logger, Now: time.Now, ops: make(chan *op, 4*maxBatch), done: make(chan struct{})}
	go l.run()
	return l
}

// Close commits what was submitted and stops the writer.
func (l *Ledger) Close() error {
	l.releaseMine()
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.ops)
	}
	l.mu.Unlock()
	<-l.done
	return nil
}

// Close releases the holds this instance still has: the requests they
// were taken for are being abandoned and can no longer be charged (the
// server charged the streams among them for what they delivered before
// this), so no hold outlives its process. Another instance's holds are
// its own.
func (l *Ledger) releaseMine() {
	l.mineMu.Lock()
	ids := make([]string, 0, len(l.mine))
	for id := range l.mine {
		ids = append(ids, id)
	}
	l.mine = nil
	l.mineMu.Unlock()
	if len(ids) == 0 {
		return
	}
	o := newOp(opReleaseMany)
	o.holdIDs = ids
	if err := l.submit(o); err != nil && !errors.Is(err, ErrClosed) {
		l.logger.Error("release this instance's holds at close", "holds", len(ids), "err", err)
	}
}

// took and settled keep l.mine.
func (l *Ledger) took(id string, ttl time.Duration) {
	l.mineMu.Lock()
	if l.mine == nil {
		l.mine = make(map[string]int64)
	}
	l.mine[id] = ttl.Milliseconds()
	l.mineMu.Unlock()
}

func (l *Ledger) settled(id string) {
	l.mineMu.Lock()
	delete(l.mine, id)
	l.mineMu.Unlock()
}

// submit hands o to the writer and waits for its answer.
func (l *Ledger) submit(o *op) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.ops <- o
	l.mu.Unlock()
	<-o.done
	if o.err != nil {
		return o.err
	}
	return o.refused
}

func (l *Ledger) run() {
	defer close(l.done)
	ops := make([]*op, 0, maxBatch)
	for o := range l.ops {
		ops = append(ops[:0], o)
	fill:
		for len(ops) < maxBatch {
			select {
			case o, ok := <-l.ops:
				if !ok {
					break fill
				}
				ops = append(ops, o)
			default:
				break fill
			}
		}
		l.commit(ops)
	}
}

// commit runs ops in one transaction. A batch that fails as a whole (a
// reference booked meanwhile by another instance, a serialization
// failure) is retried op by op, so that one op cannot take its neighbours
// down with it; an op that fails alone gets the error.
func (l *Ledger) commit(ops []*op) {
	start := time.Now()
	err := l.commitBatch(ops)
	if observe := l.observe.Load(); observe != nil {
		(*observe)(len(ops), time.Since(start))
	}
	if err != nil && len(ops) > 1 {
		if !errors.Is(err, errConflictInBatch) {
			l.logger.Warn("ledger batch failed; retrying its ops one by one", "ops", len(ops), "err", err)
		}
		for _, o := range ops {
			o.reset()
			answer(o, l.commitBatch([]*op{o}))
		}
		return
	}
	for _, o := range ops {
		answer(o, err)
	}
}

// answer wakes o's caller with the outcome of its batch, err.
func answer(o *op, err error) {
	var refused *refusedAlone
	switch {
	case errors.As(err, &refused): // rolled back: nothing of o was written
		o.reset()
		o.refused = refused.err
	case err != nil:
		o.err = err
	}
	o.done <- struct{}{}
}

func (l *Ledger) commitBatch(ops []*op) error {
	// The batch runs to completion whatever happens to the callers'
	// contexts: a caller who gave up must not leave it half-applied.
	ctx := context.Background()
	tx, err := l.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	b := &batch{ctx: ctx, tx: tx}
	if err := b.run(ops); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// CreateAccount inserts an account.
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
	now := l.Now().UTC().Truncate(time.Millisecond)
	var addr *string
	if a.Address != "" {
		addr = &a.Address
	}
	err := l.pool.QueryRow(ctx, `INSERT INTO accounts (kind, name, address, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (address) DO NOTHING RETURNING id`, string(a.Kind), a.Name, addr, now.UnixMilli()).Scan(&a.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return meter.Errorf(meter.ECodeConflict, "an account for %s already exists", a.Address)
	}
	if err != nil {
		return fmt.Errorf("insert account: %w", err)
	}
	a.Balance, a.Held, a.CreatedAt = 0, 0, now
	return nil
}

const accountColumns = `id, kind, name, COALESCE(address, ''), balance, held, free_granted, created_at`

func scanAccount(row pgx.Row) (*meter.Account, error) {
	var (
		a                            meter.Account
		kind                         string
		balance, held, free, created int64
	)
	if err := row.Scan(&a.ID, &kind, &a.Name, &a.Address, &balance, &held, &free, &created); err != nil {
		return nil, err
	}
	a.Kind, a.Balance, a.Held, a.FreeGranted = meter.AccountKind(kind), meter.Amount(balance), meter.Amount(held), meter.Amount(free)
	a.CreatedAt = time.UnixMilli(created).UTC()
	return &a, nil
}

// FindAccountByID returns the account, or a not_found error.
func (l *Ledger) FindAccountByID(ctx context.Context, id int64) (*meter.Account, error) {
	a, err := scanAccount(l.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, accountNotFound(id)
	}
	return a, err
}

// FindAccounts returns the accounts of a kind (all of them for ""), by id.
func (l *Ledger) FindAccounts(ctx context.Context, kind meter.AccountKind) ([]*meter.Account, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE $1 = '' OR kind = $1 ORDER BY id`, string(kind))
	if err != nil {
		return nil, err
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

// Available is what the account can spend now: its balance less its
// active holds, of every instance.
func (l *Ledger) Available(ctx context.Context, accountID int64) (meter.Amount, error) {
	var available int64
	err := l.pool.QueryRow(ctx, `SELECT balance - held FROM accounts WHERE id = $1`, accountID).Scan(&available)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, accountNotFound(accountID)
	}
	return meter.Amount(available), err
}

// Hold reserves amount on the account, or fails with insufficient_credits.
// It is decided in the database, in the writer's next batch, and returns
// once that batch is durable: every instance sees it from then on.
func (l *Ledger) Hold(ctx context.Context, accountID int64, amount meter.Amount, ttl time.Duration) (*meter.Hold, error) {
	if amount < 0 {
		return nil, fmt.Errorf("hold: negative amount %s", amount)
	}
	now := l.Now()
	o := newOp(opHold)
	o.accountID, o.amount, o.holdID = accountID, amount, newHoldID()
	o.now, o.expiresAt = now.UnixMilli(), now.Add(ttl).UnixMilli()
	if err := l.submit(o); err != nil {
		return nil, err
	}
	l.took(o.holdID, ttl)
	return &meter.Hold{ID: o.holdID, AccountID: accountID, Amount: amount, ExpiresAt: time.UnixMilli(o.expiresAt)}, nil
}

// HoldWithin is Hold that also keeps the budget's subject within its cap:
// its usage entries since budget.Since plus its active holds within the
// budget, this one included, of every instance. Both are read under the
// account's lock, which every hold on the account takes, so concurrent
// holds cannot overspend the cap.
func (l *Ledger) HoldWithin(ctx context.Context, accountID int64, amount meter.Amount, ttl time.Duration, budget meter.Budget) (*meter.Hold, error) {
	if budget.Subject == "" {
		return nil, fmt.Errorf("hold: budget without a subject")
	}
	if amount < 0 {
		return nil, fmt.Errorf("hold: negative amount %s", amount)
	}
	now := l.Now()
	o := newOp(opHold)
	o.accountID, o.amount, o.holdID = accountID, amount, newHoldID()
	o.now, o.expiresAt = now.UnixMilli(), now.Add(ttl).UnixMilli()
	o.budget = &budgetKey{accountID: accountID, subject: budget.Subject, since: budget.Since.UnixMilli()}
	o.cap = budget.Cap
	if err := l.submit(o); err != nil {
		return nil, err
	}
	l.took(o.holdID, ttl)
	return &meter.Hold{ID: o.holdID, AccountID: accountID, Amount: amount, ExpiresAt: time.UnixMilli(o.expiresAt)}, nil
}

// FindBudgetUse returns what the budget's subject has spent since
// budget.Since and holds within it now, as HoldWithin counts them.
func (l *Ledger) FindBudgetUse(ctx context.Context, accountID int64, budget meter.Budget) (meter.BudgetUse, error) {
	var spent, held int64
	err := l.pool.QueryRow(ctx, budgetUseSQL, accountID, budget.Subject, budget.Since.UnixMilli()).Scan(&spent, &held)
	if err != nil {
		return meter.BudgetUse{}, fmt.Errorf("read budget of %s: %w", budget.Subject, err)
	}
	return meter.BudgetUse{Spent: meter.Amount(spent), Held: meter.Amount(held)}, nil
}

// budgetUseSQL reads a budget ($1 account, $2 subject, $3 since): what
// its subject's usage entries since then charged, and its active holds.
const budgetUseSQL = `SELECT
	(SELECT COALESCE(-SUM(amount), 0)::bigint FROM entries
		WHERE account_id = $1 AND subject = $2 AND created_at >= $3 AND subject != '' AND kind = 'usage'),
	(SELECT COALESCE(SUM(amount), 0)::bigint FROM holds WHERE account_id = $1 AND subject = $2 AND budget_since = $3)`

// Capture charges c.Cost against its hold and releases the rest; a cost
// above the hold is charged as far as the account's available balance
// reaches, never below zero. A hold that is gone (expired) charges
// c.AccountID the same way; a hold captured before is a conflict.
func (l *Ledger) Capture(ctx context.Context, c meter.Charge) (meter.Amount, error) {
	if c.Cost < 0 {
		return 0, fmt.Errorf("capture: negative cost %s", c.Cost)
	}
	o := newOp(opCapture)
	o.charge, o.now = c, l.Now().UnixMilli()
	if err := l.submit(o); err != nil {
		return 0, err
	}
	l.settled(c.HoldID)
	return o.charged, nil
}

// Release drops a hold without charging.
func (l *Ledger) Release(ctx context.Context, holdID string) error {
	o := newOp(opRelease)
	o.holdID = holdID
	err := l.submit(o)
	if err == nil || meter.ErrorCode(err) == meter.ECodeNotFound {
		l.settled(holdID)
	}
	return err
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
	now := l.Now().UnixMilli()
	o := newOp(opCredit)
	o.accountID, o.entryKind, o.amount, o.ref, o.now = accountID, kind, amount, ref, now
	if err := l.submit(o); err != nil {
		return nil, err
	}
	return &meter.Entry{ID: o.entryID, AccountID: accountID, Kind: kind, Amount: amount, Ref: ref,
		CreatedAt: time.UnixMilli(now).UTC()}, nil
}

// ReleaseExpired releases every hold whose expiry is at or before now,
// whichever instance took it: a hold of an instance that died is released
// by the others (its TTL is the lease).
func (l *Ledger) ReleaseExpired(ctx context.Context, now time.Time) (int, error) {
	return l.expire(ctx, now, 0)
}

// expire is ReleaseExpired that first renews, ahead of time, the holds of
// this instance's running requests that expire within ahead (renew.go).
func (l *Ledger) expire(ctx context.Context, now time.Time, ahead time.Duration) (int, error) {
	if err := l.renew(ctx, now, ahead); err != nil {
		l.logger.Error("renew the holds of running requests", "err", err)
	}
	o := newOp(opExpire)
	o.now = now.UnixMilli()
	if err := l.submit(o); err != nil {
		return 0, err
	}
	return o.n, nil
}

// newHoldID returns an id unique across instances without coordination:
// the time in nanoseconds, then 32 random bits. Time first makes new ids
// sort last, so their inserts append to the indexes.
func newHoldID() string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	rand.Read(b[8:])
	return "h_" + hex.EncodeToString(b[:])
}

func accountNotFound(id int64) error {
	return meter.Errorf(meter.ECodeNotFound, "account %d not found", id)
}

// Ping checks that the database answers and takes writes: a standby (in
// recovery) answers reads only, and a ledger there could not charge.
func (l *Ledger) Ping(ctx context.Context) error {
	var standby bool
	if err := l.pool.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&standby); err != nil {
		return err
	}
	if standby {
		return errors.New("the database is a standby (read-only)")
	}
	return nil
}

// Maintain releases expired holds now and every expiryInterval until ctx
// ends: the holds of requests that died with their instance must not keep
// credit locked. Every instance runs it; a batch locks the holds it
// releases, so two instances never release one twice.
func (l *Ledger) Maintain(ctx context.Context, expiryInterval time.Duration) {
	t := time.NewTicker(expiryInterval)
	defer t.Stop()
	// Holds of running requests are renewed two rounds ahead, as on
	// SQLite, so that their stored expiry never passes while they run,
	// whichever instance's expiry looks at them (renew.go).
	ahead := 2 * expiryInterval
	for {
		if n, err := l.expire(ctx, l.Now(), ahead); err != nil && !errors.Is(err, ErrClosed) {
			l.logger.Error("release expired holds", "err", err)
		} else if n > 0 {
			l.logger.Info("released expired holds", "holds", n)
		}
		var active int64
		if err := l.pool.QueryRow(ctx, `SELECT count(*) FROM holds`).Scan(&active); err == nil {
			l.activeHolds.Store(active)
		}
		if err := l.purge(ctx, l.Now()); err != nil && ctx.Err() == nil {
			l.logger.Error("purge expired records", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sessionRetention is how long an expired session is kept (to answer
// "expired" rather than "unknown"), as on SQLite.
const sessionRetention = 24 * time.Hour

// purge deletes what no longer protects anything, as SQLite's expiry does:
// replay records and sign-in-with-x claims past their window, free-grant
// counts of days before yesterday, sessions expired a day ago. Each delete
// is idempotent, so every instance may run it.
func (l *Ledger) purge(ctx context.Context, now time.Time) error {
	ms := now.UnixMilli()
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM wallet_messages WHERE expires_at <= $1`, ms},
		{`DELETE FROM seen_messages WHERE expires_at <= $1`, ms},
		{`DELETE FROM siwx_claims WHERE expires_at <= $1`, ms},
		{`DELETE FROM siwx_nonces WHERE expires_at <= $1`, ms},
		{`DELETE FROM siwe_nonces WHERE expires_at <= $1`, ms},
		{`DELETE FROM free_grants WHERE day < $1`, ms/(24*60*60*1000) - 1},
		{`DELETE FROM sessions WHERE expires_at <= $1`, ms - sessionRetention.Milliseconds()},
		// Authorizations finished by an instance older than migration
		// 0016 (a rolling deploy) are closed here.
		{`UPDATE upto_authorizations SET closed_at = updated_at
			WHERE closed_at IS NULL AND state IN ('settled', 'released') AND $1::bigint > 0`, ms},
	} {
		if _, err := l.pool.Exec(ctx, q.sql, q.arg); err != nil {
			return err
		}
	}
	return purgeRateBuckets(ctx, l.pool, now)
}
