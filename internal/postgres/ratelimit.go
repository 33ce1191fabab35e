package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RateLimiter keeps the rate limits' buckets in the rate_buckets table, so
// that every instance on the database spends from one bucket per key
// (docs/design.md §2 step 4). Its answers are the in-process limiter's: a
// bucket of perMinute requests, full at first, refilled evenly at
// perMinute per minute. It is GCRA: a bucket is its theoretical arrival
// time (tat, Unix ns), the time at which it is full again; a request at
// now is allowed if max(tat, now) + interval is within a minute's window
// of now, and then moves tat there. A changed limit keeps the time the
// bucket needs to refill, so the tokens spent scale with the limit.
type RateLimiter struct {
	db querier
}

// querier is a pool, or (tests) a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// NewRateLimiter is a shared rate limiter on pool's database (migrated).
func NewRateLimiter(pool *pgxpool.Pool) *RateLimiter { return &RateLimiter{db: pool} }

// RateLimiter is the shared rate limiter on the store's database.
func (s *Store) RateLimiter() *RateLimiter { return NewRateLimiter(s.pool) }

// Bucket is one request's standing against its bucket.
type Bucket struct {
	Limit, Remaining int
	Reset            time.Time     // when the bucket is full again
	RetryAfter       time.Duration // > 0: refused, retry after this long
}

// maxKeyBytes bounds a stored key (the table checks it too); longer keys,
// and keys PostgreSQL's TEXT cannot hold (invalid UTF-8, NUL), are
// stored as the hex of their SHA-256 behind "#".
const maxKeyBytes = 128

// bucketKey is the stored form of key: keys are attacker-chosen (client
// addresses, wallet addresses), and only ever sent as a parameter.
func bucketKey(key string) string {
	if len(key) <= maxKeyBytes && utf8.ValidString(key) && !strings.ContainsRune(key, 0) && !strings.HasPrefix(key, "#") {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "#" + hex.EncodeToString(sum[:])
}

// takeSQL spends one request in one statement, as its own transaction:
// set_config(…, true) is SET LOCAL synchronous_commit = off in function
// form (a bucket lost in a crash only refills early, and costs no WAL
// flush), the upsert moves tat only where the request is allowed, and a
// refused request reads the bucket it was refused by for Retry-After.
// $1 key, $2 now, $3 interval, $4 window (perMinute intervals), all ns.
const takeSQL = `
WITH cfg AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true) AS v),
up AS (
	INSERT INTO rate_buckets AS b (key, tat)
	SELECT $1::text, $2::bigint + $3::bigint FROM cfg
	ON CONFLICT (key) DO UPDATE SET tat = GREATEST(b.tat, $2::bigint) + $3::bigint
	WHERE GREATEST(b.tat, $2::bigint) + $3::bigint - $2::bigint <= $4::bigint
	RETURNING b.tat
)
SELECT true, tat FROM up
UNION ALL
SELECT false, tat FROM rate_buckets WHERE key = $1::text AND NOT EXISTS (SELECT 1 FROM up)`

// Take spends one request of key's perMinute budget at now, or refuses
// it (RetryAfter > 0) spending nothing. perMinute must be positive.
//
// The decision is made on the locked row and is exact. A refused
// request's Retry-After and Reset come from the statement's snapshot;
// when instances race for one bucket the snapshot may predate the spends
// that emptied it, and the answer is then the full-spent bucket's (retry
// in one interval), never an earlier one.
func (r *RateLimiter) Take(ctx context.Context, key string, perMinute int, now time.Time) (Bucket, error) {
	if perMinute <= 0 {
		return Bucket{}, errors.New("rate limit: perMinute must be positive")
	}
	every, window := intervals(perMinute)
	nowNs := now.UnixNano()
	var allowed bool
	var tat int64
	err := r.db.QueryRow(ctx, takeSQL, bucketKey(key), nowNs, every, window).Scan(&allowed, &tat)
	if errors.Is(err, pgx.ErrNoRows) {
		// Refused, by a bucket created after the snapshot: the race of its
		// first requests. It is at most full-spent.
		allowed, tat, err = false, nowNs+window, nil
	}
	if err != nil {
		return Bucket{}, err
	}
	b := Bucket{Limit: perMinute, Reset: time.Unix(0, tat)}
	if allowed {
		b.Remaining = int((window - (tat - nowNs)) / every)
		return b, nil
	}
	if tat-nowNs <= window-every {
		// The snapshot is older than the row the refusal was decided
		// on (instances racing for the bucket): the bucket is at most
		// full-spent, so a token is back within one interval.
		tat = nowNs + window
		b.Reset = time.Unix(0, tat)
	}
	b.RetryAfter = time.Duration(tat - nowNs + every - window)
	return b, nil
}

// Wait is how long key's bucket of perMinute needs to hold a whole
// request again, spending nothing: 0 if it does, or has no row.
func (r *RateLimiter) Wait(ctx context.Context, key string, perMinute int, now time.Time) (time.Duration, error) {
	if perMinute <= 0 {
		return 0, nil
	}
	var tat int64
	err := r.db.QueryRow(ctx, `SELECT tat FROM rate_buckets WHERE key = $1`, bucketKey(key)).Scan(&tat)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	every, window := intervals(perMinute)
	nowNs := now.UnixNano()
	return time.Duration(max(0, max(tat, nowNs)-nowNs+every-window)), nil
}

// intervals are a limit's interval between requests and its window (the
// burst's length), in ns, computed as the in-process limiter does.
func intervals(perMinute int) (every, window int64) {
	every = int64(time.Minute / time.Duration(perMinute))
	return every, every * int64(perMinute)
}

// purgeRateBuckets deletes the buckets that are full again: a missing
// bucket is a full one, so nothing is lost.
func purgeRateBuckets(ctx context.Context, pool *pgxpool.Pool, now time.Time) error {
	_, err := pool.Exec(ctx, `DELETE FROM rate_buckets WHERE tat <= $1`, now.UnixNano())
	return err
}
