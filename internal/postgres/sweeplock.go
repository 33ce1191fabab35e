package postgres

import (
	"context"
	"fmt"
)

// TrySweep takes, for every instance on the database, the session
// advisory lock of the sweep named (x402.SweepLocker), unless another
// instance holds it: then ok is false and the caller skips its round. The
// lock lives on a connection taken from the pool for the sweep's run, so
// an instance that dies mid-sweep drops it with its connection, and the
// next instance's round takes over.
func (s *Store) TrySweep(ctx context.Context, name string) (unlock func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("sweep lock %s: %w", name, err)
	}
	key := "sweep:" + name
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("sweep lock %s: %w", name, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key); err != nil {
			// A connection that may still hold the lock must not go back
			// to the pool: closing it drops the lock.
			s.logger.Error("release sweep lock", "sweep", name, "err", err)
			c := conn.Hijack()
			c.Close(context.Background())
			return
		}
		conn.Release()
	}, true, nil
}
