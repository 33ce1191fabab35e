package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

const uptoColumns = `id, key, network, token, payer, account_id, max, cost, amount, state, request_id, tx_hash, reason,
	attempts, deadline, payload, requirement, ` + uptoChargeColumn + `, created_at, updated_at`

// uptoChargeColumn is an authorization's metered charge, as JSON: in
// upto_charges since migration 0013, on the row itself before.
const uptoChargeColumn = `COALESCE((SELECT c.charge FROM upto_charges c WHERE c.upto_id = upto_authorizations.id), charge)`

func scanUpto(row interface{ Scan(...any) error }) (*meter.UptoAuthorization, error) {
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
	rows, err := l.db.read.QueryContext(ctx, `SELECT `+uptoColumns+` FROM upto_authorizations WHERE `+where, args...)
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
	a, err := scanUpto(l.db.read.QueryRowContext(ctx, `SELECT `+uptoColumns+` FROM upto_authorizations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, meter.Errorf(meter.ECodeNotFound, "upto authorization %d not found", id)
	}
	return a, err
}

// DueUpto lists the settler's work (meter.UptoLedger): due work in
// upto_open's order, retries in upto_retry's, each read up to the batch.
func (l *Ledger) DueUpto(ctx context.Context, staleBefore, retryBefore, now time.Time, limit int) ([]*meter.UptoAuthorization, error) {
	due, err := l.queryUpto(ctx, `closed_at IS NULL AND state = 'due' ORDER BY created_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	retries, err := l.queryUpto(ctx, `state IN ('settling', 'failed') AND closed_at IS NULL
		AND ((state = 'settling' AND updated_at < ?) OR (state = 'failed' AND updated_at < ? AND deadline > ?))
		ORDER BY updated_at, id LIMIT ?`, staleBefore.UnixMilli(), retryBefore.UnixMilli(), now.Unix(), limit)
	if err != nil {
		return nil, err
	}
	d, r := meter.UptoBatchShares(limit, len(due), len(retries))
	return append(due[:d], retries[:r]...), nil
}

// ClaimedUpto lists the authorizations still claimed, created before.
func (l *Ledger) ClaimedUpto(ctx context.Context, before time.Time) ([]*meter.UptoAuthorization, error) {
	return l.queryUpto(ctx, `closed_at IS NULL AND state = 'claimed' AND created_at < ? ORDER BY id LIMIT 1000`, before.UnixMilli())
}

// SettledUpto lists settled upto authorizations by id, from the one after
// afterID, at most limit: what `paymeter ledger reconcile` checks.
func (l *Ledger) SettledUpto(ctx context.Context, afterID int64, limit int) ([]*meter.UptoAuthorization, error) {
	return l.queryUpto(ctx, `state = 'settled' AND id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

// FailedUpto lists the failed upto authorizations, for reconcile.
func (l *Ledger) FailedUpto(ctx context.Context) ([]*meter.UptoAuthorization, error) {
	return l.queryUpto(ctx, `closed_at IS NULL AND state = 'failed' ORDER BY id LIMIT 1000`)
}

// FindUptoStats counts the authorizations in each unfinished state.
func (l *Ledger) FindUptoStats(ctx context.Context) (meter.UptoStats, error) {
	s := meter.UptoStats{Count: map[meter.UptoState]int64{}, Amount: map[meter.UptoState]meter.USDC{}}
	rows, err := l.db.read.QueryContext(ctx, `SELECT state, count(*), COALESCE(SUM(CASE state WHEN 'claimed' THEN max ELSE amount END), 0)
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

// uptoChecks are the invariants of upto that `paymeter ledger verify`
// checks (verify.go): the exposure rows agree with the authorizations,
// and entries are booked for settled authorizations only, payment and
// usage of its amount each.
var uptoChecks = []struct {
	what string
	sql  string
}{
	{"upto exposure differs from its open authorizations (open, recomputed)",
		`SELECT 0, x.open, COALESCE((SELECT SUM(CASE u.state WHEN 'claimed' THEN u.max ELSE u.amount END) FROM upto_authorizations u
		   WHERE (u.state IN ('claimed', 'due', 'settling') OR (x.payer = '*' AND u.state = 'failed'))
		   AND (x.payer = '*' OR u.payer = x.payer)), 0) AS s
		 FROM upto_exposure x WHERE x.open != s`},
	{"upto failures differ from its failed authorizations (failed, recomputed)",
		`SELECT 0, x.failed, (SELECT count(*) FROM upto_authorizations u WHERE u.state = 'failed'
		   AND (x.payer = '*' OR u.payer = x.payer)) AS s
		 FROM upto_exposure x WHERE x.failed != s`},
	{"upto authorization booked unlike its state (authorization id, entries)",
		`SELECT u.account_id, u.id, (SELECT count(*) FROM entries e WHERE e.ref = 'upto:' || u.key
		   AND ((e.kind = 'payment' AND e.amount = u.amount * 1000) OR (e.kind = 'usage' AND e.amount = -u.amount * 1000))) AS n
		 FROM upto_authorizations u WHERE n != CASE u.state WHEN 'settled' THEN 2 ELSE 0 END`},
	// An open authorization marked closed would be hidden from the
	// settler (migration 0016): never settled, never refused.
	{"upto authorization closed unlike its state (authorization id, 1 if marked open)",
		`SELECT account_id, id, closed_at IS NULL FROM upto_authorizations
		 WHERE (closed_at IS NULL) != (state NOT IN ('settled', 'released'))`},
}
