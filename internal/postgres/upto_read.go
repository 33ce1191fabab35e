package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

const uptoColumns = `id, key, network, token, payer, account_id, max, cost, amount, state, request_id, tx_hash, reason,
	attempts, deadline, payload, requirement, ` + uptoChargeColumn + `, created_at, updated_at`

// uptoChargeColumn is an authorization's metered charge, as JSON: in
// upto_charges since migration 0013, on the row itself before.
const uptoChargeColumn = `COALESCE((SELECT c.charge FROM upto_charges c WHERE c.upto_id = upto_authorizations.id), charge)`

func scanUpto(row pgx.Row) (*meter.UptoAuthorization, error) {
	var (
		a                           meter.UptoAuthorization
		max, cost, amount           int64
		deadline, created, updated  int64
		state, payload, req, charge string
	)
	if err := row.Scan(&a.ID, &a.Key, &a.Network, &a.Token, &a.Payer, &a.AccountID, &max, &cost, &amount, &state,
		&a.RequestID, &a.TxHash, &a.Reason, &a.Attempts, &deadline, &payload, &req, &charge, &created, &updated); err != nil {
		return nil, err
	}
	a.Max, a.Cost, a.Amount, a.State = meter.USDC(max), meter.Amount(cost), meter.USDC(amount), meter.UptoState(state)
	a.Deadline = time.Unix(deadline, 0).UTC()
	a.Payload, a.Requirement = []byte(payload), []byte(req)
	a.CreatedAt, a.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if charge != "" {
		var c uptoCharge
		if err := json.Unmarshal([]byte(charge), &c); err == nil {
			a.Charge = meter.Charge{RequestID: c.RequestID, Model: c.Model, Usage: c.Usage, Estimated: c.Estimated,
				Subject: c.Subject, Cost: c.Cost, AccountID: a.AccountID}
		}
	}
	return &a, nil
}

func (l *Ledger) queryUpto(ctx context.Context, where string, args ...any) ([]*meter.UptoAuthorization, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+uptoColumns+` FROM upto_authorizations WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*meter.UptoAuthorization
	for rows.Next() {
		a, err := scanUpto(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// FindUpto returns one upto authorization.
func (l *Ledger) FindUpto(ctx context.Context, id int64) (*meter.UptoAuthorization, error) {
	a, err := scanUpto(l.pool.QueryRow(ctx, `SELECT `+uptoColumns+` FROM upto_authorizations WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, meter.Errorf(meter.ECodeNotFound, "upto authorization %d not found", id)
	}
	return a, err
}

// uptoListed remembers, per ledger, the attempts count of each
// authorization DueUpto last handed out, for BeginUpto to take it only
// if no settler (of any instance) began it since: the count is a version,
// compared in the database, never a lock kept in memory.
var uptoListed sync.Map // uptoListing → int64

type uptoListing struct {
	l  *Ledger
	id int64
}

// DueUpto lists the settler's work, oldest first. Every instance's
// settler lists the same rows; BeginUpto gives each to one of them.
func (l *Ledger) DueUpto(ctx context.Context, staleBefore, retryBefore, now time.Time, limit int) ([]*meter.UptoAuthorization, error) {
	// As on SQLite: due work by age of claim, retries by age of attempt.
	due, err := l.queryUpto(ctx, `closed_at IS NULL AND state = 'due' ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	retries, err := l.queryUpto(ctx, `state IN ('settling', 'failed') AND closed_at IS NULL
		AND ((state = 'settling' AND updated_at < $1) OR (state = 'failed' AND updated_at < $2 AND deadline > $3))
		ORDER BY updated_at, id LIMIT $4`, staleBefore.UnixMilli(), retryBefore.UnixMilli(), now.Unix(), limit)
	if err != nil {
		return nil, err
	}
	d, r := meter.UptoBatchShares(limit, len(due), len(retries))
	due = append(due[:d], retries[:r]...)
	for _, a := range due {
		uptoListed.Store(uptoListing{l, a.ID}, int64(a.Attempts))
	}
	return due, err
}

// BeginUpto counts an attempt at settling an authorization. Listed by
// DueUpto, it is taken only if its row is not locked by another
// instance's move (SKIP LOCKED: no waiting behind it) and its attempts
// are still what DueUpto saw: of the settlers that listed it at once,
// one begins it, and the others are refused with a conflict until it is
// due again (settling gone stale, or a failed one's retry time).
func (l *Ledger) BeginUpto(ctx context.Context, id int64) error {
	seen := int64(-1) // not listed here: begun unconditionally, as on SQLite
	if v, ok := uptoListed.LoadAndDelete(uptoListing{l, id}); ok {
		seen = v.(int64)
	}
	res, err := l.pool.Exec(ctx, `UPDATE upto_authorizations
		SET state = CASE state WHEN 'failed' THEN 'failed' ELSE 'settling' END, attempts = attempts + 1, updated_at = $1
		WHERE id = (SELECT id FROM upto_authorizations WHERE id = $2 AND state IN ('due', 'settling', 'failed')
			AND ($3::bigint < 0 OR attempts = $3) FOR UPDATE SKIP LOCKED)`, l.Now().UnixMilli(), id, seen)
	if err != nil {
		return fmt.Errorf("begin upto %d: %w", id, err)
	}
	if res.RowsAffected() == 1 {
		return nil
	}
	var state string
	err = l.pool.QueryRow(ctx, `SELECT state FROM upto_authorizations WHERE id = $1`, id).Scan(&state)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("begin upto %d: %w", id, err)
	}
	switch meter.UptoState(state) {
	case meter.UptoDue, meter.UptoSettling, meter.UptoFailed:
		return meter.Errorf(meter.ECodeConflict, "upto authorization %d is being settled by another instance", id)
	}
	return meter.Errorf(meter.ECodeConflict, "upto authorization %d is not due, settling or failed", id)
}

// ClaimedUpto lists the authorizations still claimed, created before.
func (l *Ledger) ClaimedUpto(ctx context.Context, before time.Time) ([]*meter.UptoAuthorization, error) {
	return l.queryUpto(ctx, `closed_at IS NULL AND state = 'claimed' AND created_at < $1 ORDER BY id LIMIT 1000`, before.UnixMilli())
}

// SettledUpto lists settled upto authorizations by id, from the one after
// afterID, at most limit: what `paymeter ledger reconcile` checks.
func (l *Ledger) SettledUpto(ctx context.Context, afterID int64, limit int) ([]*meter.UptoAuthorization, error) {
	return l.queryUpto(ctx, `state = 'settled' AND id > $1 ORDER BY id LIMIT $2`, afterID, limit)
}

// FailedUpto lists the failed upto authorizations, for reconcile.
func (l *Ledger) FailedUpto(ctx context.Context) ([]*meter.UptoAuthorization, error) {
	return l.queryUpto(ctx, `closed_at IS NULL AND state = 'failed' ORDER BY id LIMIT 1000`)
}

// FindUptoStats counts the authorizations in each unfinished state.
func (l *Ledger) FindUptoStats(ctx context.Context) (meter.UptoStats, error) {
	s := meter.UptoStats{Count: map[meter.UptoState]int64{}, Amount: map[meter.UptoState]meter.USDC{}}
	rows, err := l.pool.Query(ctx, `SELECT state, count(*), COALESCE(SUM(CASE state WHEN 'claimed' THEN max ELSE amount END), 0)::bigint
		FROM upto_authorizations WHERE closed_at IS NULL AND state IN ('claimed', 'due', 'settling', 'failed') GROUP BY state`)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n, amount int64
		if err := rows.Scan(&state, &n, &amount); err != nil {
			return s, err
		}
		s.Count[meter.UptoState(state)], s.Amount[meter.UptoState(state)] = n, meter.USDC(amount)
	}
	return s, rows.Err()
}

// Verify checks upto's invariants too (appended here rather than listed
// in read.go): the exposure rows agree with the authorizations, and
// entries are booked for settled authorizations only, payment and usage
// of its amount each. SQLite's uptoChecks, with LATERAL for the
// recomputed column PostgreSQL cannot name in WHERE.
func init() {
	verifyChecks = append(verifyChecks, []struct {
		what string
		sql  string
	}{
		{"upto exposure differs from its open authorizations (open, recomputed)",
			`SELECT 0, x.open, s FROM upto_exposure x,
			LATERAL (SELECT COALESCE(SUM(CASE u.state WHEN 'claimed' THEN u.max ELSE u.amount END), 0)::bigint AS s
				FROM upto_authorizations u
				WHERE (u.state IN ('claimed', 'due', 'settling') OR (x.payer = '*' AND u.state = 'failed'))
				AND (x.payer = '*' OR u.payer = x.payer)) t
			WHERE x.open != s`},
		{"upto failures differ from its failed authorizations (failed, recomputed)",
			`SELECT 0, x.failed, s FROM upto_exposure x,
			LATERAL (SELECT count(*) AS s FROM upto_authorizations u WHERE u.state = 'failed'
				AND (x.payer = '*' OR u.payer = x.payer)) t
			WHERE x.failed != s`},
		{"upto authorization booked unlike its state (authorization id, entries)",
			`SELECT u.account_id, u.id, n FROM upto_authorizations u,
			LATERAL (SELECT count(*) AS n FROM entries e WHERE e.ref = 'upto:' || u.key
				AND ((e.kind = 'payment' AND e.amount = u.amount * 1000) OR (e.kind = 'usage' AND e.amount = -u.amount * 1000))) t
			WHERE n != CASE u.state WHEN 'settled' THEN 2 ELSE 0 END`},
		{"upto authorization closed unlike its state (authorization id, 1 if marked open)",
			`SELECT account_id, id, (closed_at IS NULL)::int FROM upto_authorizations
			WHERE (closed_at IS NULL) != (state NOT IN ('settled', 'released'))`},
	}...)
}
