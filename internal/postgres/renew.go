package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Renewing the holds of running requests. A hold's expiry is its lease:
// any instance's expiry releases a hold whose expires_at has passed, which
// is how the holds of an instance that died are freed. A request that runs
// longer than its hold's TTL must keep its hold, or its credit could be
// spent twice while it runs (docs/security.md, H2), so the instance
// serving it moves the stored expiry on, ahead of time, as SQLite's
// expiry does: each round renews, by the hold's own lifetime, those of
// its holds still in flight (meter.InFlight) that expire within `ahead`
// (two rounds). Their stored expiry then stays at least a round ahead of
// every instance's clock while the instance lives, and passes one
// lifetime after it dies.
//
// The renewal is a transaction of its own, not a writer op: it moves no
// money and touches no account, and it locks only the hold rows it
// renews, in id order, as the writer's batches lock holds before anything
// else, so it cannot wait on a batch in a cycle. A batch's expiry that
// locks a hold after the renewal committed re-reads its expires_at under
// the lock and leaves it alone.

// renewSQL moves the expiry of the holds $1 to $2 (pairwise), those that
// expire at or before $3 and would expire sooner than that.
const renewSQL = `WITH due AS (
		SELECT h.id, v.expires FROM holds h JOIN unnest($1::text[], $2::bigint[]) AS v(id, expires) ON h.id = v.id
		WHERE h.expires_at <= $3 AND h.expires_at < v.expires
		ORDER BY h.id FOR UPDATE OF h)
	UPDATE holds SET expires_at = due.expires FROM due WHERE holds.id = due.id`

// renew extends the holds of this instance's running requests that expire
// within ahead of now by their lifetime from now.
func (l *Ledger) renew(ctx context.Context, now time.Time, ahead time.Duration) error {
	ids, expires := l.running(now.UnixMilli())
	if len(ids) == 0 {
		return nil
	}
	return l.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, renewSQL, ids, expires, now.Add(ahead).UnixMilli()); err != nil {
			return fmt.Errorf("renew %d holds: %w", len(ids), err)
		}
		return nil
	})
}

// running returns the holds this instance took whose requests are still
// running, each with its expiry renewed from now.
func (l *Ledger) running(now int64) (ids []string, expires []int64) {
	live := l.inFlight.Load()
	if live == nil {
		return nil, nil
	}
	l.mineMu.Lock()
	defer l.mineMu.Unlock()
	for id, ttl := range l.mine {
		if live.Has(id) {
			ids = append(ids, id)
			expires = append(expires, now+ttl)
		}
	}
	return ids, expires
}
