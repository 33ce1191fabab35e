package postgres

import "context"

// Exec runs sql on the store's database: tests age rows with it.
func (s *Store) Exec(ctx context.Context, sql string, args ...any) error {
	_, err := s.pool.Exec(ctx, sql, args...)
	return err
}
