package sqlite

import (
	"context"
	"testing"
)

// Exec runs a statement on the writer connection, bypassing the ledger:
// tests use it to tamper with the database and prove that checks notice.
func (db *DB) Exec(query string, args ...any) error {
	_, err := db.write.ExecContext(context.Background(), query, args...)
	return err
}

// Count runs a query returning one integer on the writer connection.
func (db *DB) Count(tb testing.TB, query string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := db.write.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}
